#!/usr/bin/env python3
"""kiln extract vs h5py on real HDF5 files: every .h5 of Debian's python-tables-data
(PyTables' test files: compound tables, enums, vlen strings, big-endian numbers, links),
h5py's own test files, a file written here by h5py with every kind of type, and the
shards, catalog and index of a kiln dataset when one is given.

For each file the tree must be the same: the same groups, datasets and named types (paths
reached through hard links, as h5py's visititems walks them), each dataset with the same
shape and type: HDF5's type class as h5py's low-level API gives it, named as numpy names
numbers (float64, int32, uint8) and string, enum, compound, array, vlen, reference, opaque,
bitfield, time for the rest. Exit 1 on any difference or too few files.

    hdf5_reference.py KILN [DATASET_DIR]
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np


def type_name(t):
    """The name of an HDF5 type (h5py's low-level TypeID): numpy's for numbers."""
    c = t.get_class()
    if c == h5py.h5t.FLOAT:
        return f"float{t.get_size() * 8}"
    if c == h5py.h5t.INTEGER:
        return f"{'u' if t.get_sign() == h5py.h5t.SGN_NONE else ''}int{t.get_size() * 8}"
    return {h5py.h5t.STRING: "string", h5py.h5t.ENUM: "enum", h5py.h5t.COMPOUND: "compound",
            h5py.h5t.ARRAY: "array", h5py.h5t.VLEN: "vlen", h5py.h5t.REFERENCE: "reference",
            h5py.h5t.OPAQUE: "opaque", h5py.h5t.BITFIELD: "bitfield",
            h5py.h5t.TIME: "time"}.get(c, f"unknown class {c}")


def h5py_tree(path):
    objects = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            dtype = type_name(obj.id.get_type())
            objects["/" + name] = ("dataset", list(obj.shape) if obj.shape is not None else None,
                                   dtype)
        elif isinstance(obj, h5py.Group):
            objects["/" + name] = ("group", None, None)
        elif isinstance(obj, h5py.Datatype):
            objects["/" + name] = ("datatype", None, None)

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return objects


def write_every_type(path):
    with h5py.File(path, "w") as f:
        g = f.create_group("materials/Fe2O3")
        g["energies"] = np.linspace(-1, 1, 12, dtype="f8").reshape(3, 4)
        g["forces"] = np.zeros((2, 5, 3), dtype="f4")
        g["half"] = np.zeros(3, dtype="f2")
        g["species"] = np.array([26, 26, 8], dtype="u1")
        g["steps"] = np.arange(7, dtype="i8")
        g["flags"] = np.array([True, False])
        g["label"] = "hematite"  # scalar vlen string: shape ()
        g["names"] = np.array([b"Fe", b"O"], dtype="S2")
        g["cells"] = np.zeros(2, dtype=[("a", "f8"), ("n", "i4")])
        g["grid"] = np.zeros(2, dtype=np.dtype(("f4", (3,))))
        g.create_dataset("ragged", shape=(2,), dtype=h5py.vlen_dtype("i4"))
        g.create_dataset("refs", shape=(1,), dtype=h5py.ref_dtype)
        g["blob"] = np.void(b"\x00\x01\x02")
        g["phase"] = np.array([0, 1], dtype=h5py.enum_dtype({"solid": 0, "liquid": 1}, basetype="i1"))
        f.create_dataset("empty", shape=(0, 3), dtype="i2")
        f.create_dataset("chunked", shape=(100, 100), chunks=(10, 10), compression="gzip", dtype="f8")
        f["named_type"] = np.dtype("f8")
        f["materials/link_to_forces"] = h5py.SoftLink("/materials/Fe2O3/forces")
        f["elsewhere"] = h5py.ExternalLink("no-such-file.h5", "/x")


def main():
    kiln = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        made = os.path.join(tmp, "every_type.h5")
        write_every_type(made)
        paths = sorted(glob.glob("/usr/share/python-tables/**/*.h5", recursive=True))
        paths += sorted(glob.glob("/usr/lib/python3/dist-packages/h5py/**/data_files/*.h5",
                                  recursive=True))
        paths.append(made)
        wide = os.path.join(tmp, "wide.h5")  # more objects than a record lists (1000)
        with h5py.File(wide, "w") as f:
            for i in range(1200):
                f.create_dataset(f"g{i % 3}/d{i:04d}", shape=(i % 5,), dtype="i4")
        paths.append(wide)
        if len(sys.argv) > 2:
            paths += sorted(glob.glob(os.path.join(sys.argv[2], "**/*.h5"), recursive=True))
        out = subprocess.run([kiln, "extract", *paths], capture_output=True, text=True)
        if out.returncode not in (0, 65):
            print(f"FAIL: kiln extract exited {out.returncode}: {out.stderr}")
            return 1
        records = {r["kiln"]["path"]: r for r in map(json.loads, out.stdout.splitlines())}
        problems, compared, objects = [], 0, 0
        for path in paths:
            rec = records[path]
            if rec["kiln"]["format"] != "hdf5" or "error" in rec["kiln"]:
                problems.append(f"{path}: {rec['kiln']}")
                continue
            h = rec["custom"]["hdf5"]
            got = {o["path"]: (o["type"], o.get("shape"), o.get("dtype")) for o in h["tree"]}
            want = h5py_tree(path)
            if h.get("truncated"):
                want = {k: v for k, v in want.items() if k in got}
            for k in sorted(set(got) | set(want)):
                if got.get(k) != want.get(k):
                    problems.append(f"{path}: {k}: kiln {got.get(k)} h5py {want.get(k)}")
            everything = h5py_tree(path)
            n = {t: sum(1 for v in everything.values() if v[0] == t) for t in ("group", "dataset")}
            if (h["groups"], h["datasets"]) != (n["group"], n["dataset"]) or \
                    bool(h.get("truncated")) != (len(everything) > 1000) or len(got) > 1000:
                problems.append(f"{path}: counts kiln {h['groups']}/{h['datasets']} "
                                f"listed {len(got)} truncated {h.get('truncated')}; h5py {n}")
            compared += 1
            objects += len(want)
    for p in problems:
        print("DISAGREE", p)
    print(f"{compared} HDF5 files, {objects} objects compared with h5py; {len(problems)} disagreements")
    if compared < 45:
        print("FAIL: too few files compared")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
