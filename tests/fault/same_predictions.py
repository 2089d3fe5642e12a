#!/usr/bin/env python3
"""same_predictions.py REF_DIR DIR: two predictions directories (DATA/predictions/NAME@V) hold
the same files, each with the same record ids, skipped ids and provenance, and values equal
within float32 rounding (LibTorch's matrix products round by batch shape, and which rows share
a batch depends on the rank's cache and the unit's scheduling); prints how many files are also
byte-identical. Exit 1 naming the first difference."""
import glob
import os
import sys

import h5py
import numpy as np

ref, got = sys.argv[1], sys.argv[2]
names = sorted(os.path.basename(p) for p in glob.glob(ref + "/shard-*.h5"))
other = sorted(os.path.basename(p) for p in glob.glob(got + "/shard-*.h5"))
if names != other:
    sys.exit(f"FAIL: file sets differ: {sorted(set(names) ^ set(other))[:5]}")
identical = 0
for n in names:
    with h5py.File(f"{ref}/{n}") as a, h5py.File(f"{got}/{n}") as b:
        for k in ("record_id", "skipped"):
            if not np.array_equal(a[k][:], b[k][:]):
                sys.exit(f"FAIL: {n}: {k} differ")
        if a.attrs["provenance"] != b.attrs["provenance"]:
            sys.exit(f"FAIL: {n}: provenance differs")
        d = float(np.abs(a["value"][:] - b["value"][:]).max()) if len(a["value"]) else 0.0
        if d > 1e-6:
            sys.exit(f"FAIL: {n}: values differ by {d}")
    identical += open(f"{ref}/{n}", "rb").read() == open(f"{got}/{n}", "rb").read()
print(f"{len(names)} files, {identical} byte-identical, the rest within float32 rounding")
