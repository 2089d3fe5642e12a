#!/usr/bin/env python3
"""Independent checks of kiln datasets with h5py and xxhash (code nobody in kiln wrote).

  dataset_check.py records DATA              one JSON line per record, sorted by path
  dataset_check.py inputs DATA ROOT...       records agree with the files under each ROOT
  dataset_check.py same DATA_A DATA_B        both hold identical records (ids, bytes, sums)
"""
import json
import os
import sys

import h5py
import xxhash


def shard_files(data):
    with h5py.File(os.path.join(data, "catalog.h5"), "r") as cat:
        assert cat.attrs["kind"] == "catalog", "catalog kind attribute"
        assert cat.attrs["kiln_schema_version"] >= 1
        files = [f.decode() for f in cat["shards/file"][:]]
        counts = list(cat["shards/records"][:])
        sums = [s.decode() for s in cat["shards/checksum"][:]]
        summary = json.loads(cat["summary"][()])
    return files, counts, sums, summary


def records(data):
    """Yields (record dict, bytes or None) for every record of every shard."""
    files, counts, sums, summary = shard_files(data)
    total = 0
    for name, count, digest in zip(files, counts, sums):
        path = os.path.join(data, name)
        with open(path, "rb") as fh:
            assert xxhash.xxh3_128_hexdigest(fh.read()) == digest, f"{path}: file checksum"
        with h5py.File(path, "r") as f:
            assert f.attrs["kind"] == "shard" and f.attrs["kiln_schema_version"] == 1
            r = f["records"]
            n = len(r["id"])
            assert n == count, f"{path}: {n} records, catalog says {count}"
            blob = f["blob"]
            cols = {k: r[k][:] for k in ("id", "path", "format", "mime_type", "size",
                                         "checksum", "packed", "offset", "error", "metadata")}
            for i in range(n):
                rec = {k: (v[i].decode() if isinstance(v[i], bytes) else v[i].item())
                       for k, v in cols.items()}
                meta = json.loads(rec.pop("metadata"))
                assert meta["kiln"]["path"] == rec["path"]
                assert meta["kiln"]["id"] == rec["id"]
                sums = [f["checksum"]["xxh3_128"] for f in meta["files"]]
                if meta["kiln"]["format"] in ("vasp-run", "directory"):
                    # A group's record: its members' files, its checksum that of their checksums.
                    assert len(sums) == len(meta["kiln"]["members"]) >= 2, rec["path"]
                    assert xxhash.xxh3_128_hexdigest("".join(sums).encode()) == rec["checksum"]
                else:
                    assert sums[0] == rec["checksum"], rec["path"]
                data_bytes = None
                if rec["packed"]:
                    data_bytes = bytes(blob[rec["offset"]:rec["offset"] + rec["size"]])
                    assert xxhash.xxh3_128_hexdigest(data_bytes) == rec["checksum"], rec["path"]
                total += 1
                yield rec, data_bytes
    assert total == summary["records"], f"{total} records, catalog summary {summary['records']}"


def cmd_records(data):
    rows = sorted((rec for rec, _ in records(data)), key=lambda r: r["path"])
    for r in rows:
        print(json.dumps(r, sort_keys=True))


def cmd_inputs(data, roots):
    by_path = {}
    for rec, blob in records(data):
        assert rec["path"] not in by_path, f"duplicate record {rec['path']}"
        by_path[rec["path"]] = (rec, blob)
    seen = 0
    for root in roots:
        root = os.path.realpath(root)
        base = os.path.basename(root)
        for dirpath, _, names in os.walk(root):
            for name in names:
                full = os.path.join(dirpath, name)
                if os.path.islink(full) or not os.path.isfile(full):
                    continue
                rel = base + "/" + os.path.relpath(full, root)
                rec, blob = by_path.get(rel, (None, None))
                assert rec is not None, f"no record for {rel}"
                with open(full, "rb") as fh:
                    content = fh.read()
                assert rec["size"] == len(content), f"{rel}: size {rec['size']} != {len(content)}"
                assert rec["checksum"] == xxhash.xxh3_128_hexdigest(content), f"{rel}: checksum"
                if len(content) > 0:
                    assert blob == content, f"{rel}: packed bytes differ from the file"
                seen += 1
    members = sum(1 for p in by_path if "!/" in p)
    print(f"{seen} files match their records ({len(by_path)} records, {members} archive members)")
    assert seen > 0


def cmd_same(a, b):
    ra = sorted((rec for rec, _ in records(a)), key=lambda r: r["id"])
    rb = sorted((rec for rec, _ in records(b)), key=lambda r: r["id"])
    assert len(ra) == len(rb), f"{len(ra)} records vs {len(rb)}"
    for x, y in zip(ra, rb):
        x = {k: v for k, v in x.items() if k != "offset"}
        y = {k: v for k, v in y.items() if k != "offset"}
        assert x == y, f"records differ:\n{x}\n{y}"
    print(f"{len(ra)} records identical")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"records": lambda: cmd_records(args[0]),
     "inputs": lambda: cmd_inputs(args[0], args[1:]),
     "same": lambda: cmd_same(args[0], args[1])}[cmd]()
