#!/usr/bin/python3
"""The baseline of benchmarks/infer.sh: a plain Python loop with Debian's python3-torch and
h5py over the same records and TorchScript model as `kiln infer`: read each shard's
compositions, featurize (elemnet86, numpy), run the model in batches of BATCH rows on THREADS
threads. Prints end-to-end seconds, model seconds and rows."""
import glob
import json
import sys
import time

T0 = time.perf_counter()
import warnings  # noqa: E402

warnings.filterwarnings("ignore")
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

data, model_path, batch, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
EXCLUDED = {2, 10, 18, 84, 85, 86, 87, 88}
from pymatgen.core.periodic_table import Element  # noqa: E402

COLUMN = {}
for z in range(1, 95):
    if z not in EXCLUDED:
        COLUMN[Element.from_Z(z).symbol] = len(COLUMN)
import re  # noqa: E402

TOKEN = re.compile(r"([A-Z][a-z]?)([0-9.]*)")
net = torch.jit.load(model_path)
net.eval()
model_s, rows = 0.0, 0
for path in sorted(glob.glob(f"{data}/shards/*.h5")):
    with h5py.File(path) as f:
        meta = f["records/metadata"][:]
    x = []
    for m in meta:
        formula = json.loads(m).get("material", {}).get("composition")
        if not isinstance(formula, str):
            continue
        v = np.zeros(86, dtype=np.float32)
        ok = True
        for el, amt in TOKEN.findall(formula):
            if el not in COLUMN:
                ok = False
                break
            v[COLUMN[el]] += float(amt) if amt else 1.0
        if ok and v.sum() > 0:
            x.append(v / v.sum())
    x = torch.from_numpy(np.stack(x))
    with torch.inference_mode():
        for b in range(0, len(x), batch):
            t = time.perf_counter()
            net(x[b:b + batch])
            model_s += time.perf_counter() - t
    rows += len(x)
print(f"{time.perf_counter() - T0:.3f} {model_s:.3f} {rows}")
