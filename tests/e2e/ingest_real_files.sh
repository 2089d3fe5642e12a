#!/usr/bin/env bash
# Ingests Debian's pymatgen-test-files (about 1 300 real files, many gzipped) and checks the
# dataset with h5py and xxhash against the files themselves.
source "$(dirname "$0")/lib.sh"
require_pymatgen_files
D=$SCRATCH/pmg
expect_exit 0 "$KILN" ingest "$PMG" --out "$D" --shard-bytes 64MiB --threads 2 \
    --title "pymatgen test files" --author "Ong, Shyue Ping" --tag test
expect_output "1272 files"
$CHECK inputs "$D" "$PMG"
expect_exit 0 "$KILN" verify "$D"
expect_output "OK"
expect_exit 0 "$KILN" describe "$D" --json
$PY - "$SCRATCH/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
assert s["files"] == 1272, s["files"]
# JSON lists of entries and multi-block CIFs add records beyond the 1272 files.
assert s["records"] > s["files"], s["records"]
assert s["formats"]["cif"] >= 80 and s["formats"]["vasprun"] >= 50, s["formats"]
assert s["mime_types"]["application/gzip"] >= 100, s["mime_types"]
assert d["dc"]["creators"][0]["familyName"] == "Ong"
assert sum(x["records"] for x in d["shards"]) == s["records"]
print("describe --json ok:", len(d["shards"]), "shards")
PY
# Extracted metadata, read back with h5py: structures with compositions and space groups.
$PY - "$D" <<'PY'
import glob, json, sys, h5py
n = {"material": 0, "crystal_structure": 0}
for f in sorted(glob.glob(sys.argv[1] + "/shards/*.h5")):
    with h5py.File(f) as h:
        for path, m in zip(h["records/path"][:], h["records/metadata"][:]):
            d = json.loads(m)
            for k in n:
                n[k] += k in d
            if path == b"test_files/Li2O.cif":
                assert d["material"]["composition"] == "Li2O", d["material"]
                assert d["crystal_structure"]["space_group_number"] == 225
assert n["material"] > 1000 and n["crystal_structure"] > 250, n
print("extracted:", n)
PY
# VASP runs: one more record each, the same as `kiln extract --group` makes of the run's files
# (whose final formula and energy tests/reference/outcar_reference.py checks against pymatgen).
"$KILN" search "$D" 'kiln.format:vasp-run' --limit 0 --format jsonl > "$SCRATCH/runs.jsonl"
$PY - "$SCRATCH/runs.jsonl" "$PMG" "$KILN" <<'PY'
import json, os, subprocess, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
pmg, kiln = os.path.dirname(sys.argv[2].rstrip("/")), sys.argv[3]
assert len(runs) >= 7, len(runs)
for r in runs:
    if r["kiln"]["path"] != "test_files/static_silicon/":
        continue
    members = [os.path.join(pmg, m) for m in r["kiln"]["members"]]
    assert all(m.startswith("test_files/static_silicon/") for m in r["kiln"]["members"])
    out = subprocess.run([kiln, "extract", "--group", *members], capture_output=True, text=True)
    e = [json.loads(l) for l in out.stdout.splitlines() if '"vasp-run"' in l][0]
    for block in ("material", "crystal_structure", "dft"):
        assert e[block] == r[block], (block, e[block], r[block])
    assert [f["checksum"] for f in e["files"]] == [f["checksum"] for f in r["files"]]
    print("static_silicon run record = kiln extract --group:", r["material"]["formula"], r["dft"]["energy"])
    break
else:
    raise AssertionError("no run record for static_silicon")
print(len(runs), "VASP run records")
PY
pass "real files ingested and checked"
