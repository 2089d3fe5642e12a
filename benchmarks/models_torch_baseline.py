#!/usr/bin/python3
"""Python's torch (Debian's python3-torch, the same LibTorch 1.13) doing what kiln does, for
benchmarks/models.sh: `train` runs the same ElemNet-style network, batch size, optimiser and
threads on the same rows for a few epochs and prints seconds per epoch; `run` is a one-shot
inference from process start (import torch, load, featurize with pymatgen, predict, print)."""
import sys
import time

T0 = time.perf_counter()


def elemnet86_rows(formulas):
    import numpy as np
    from pymatgen.core import Composition, Element
    excluded = {2, 10, 18, 84, 85, 86, 87, 88}
    zs = [z for z in range(1, 95) if z not in excluded]
    x = np.zeros((len(formulas), 86), dtype=np.float32)
    for i, f in enumerate(formulas):
        c = Composition(f)
        for el, amt in c.get_el_amt_dict().items():
            x[i, zs.index(Element(el).Z)] = amt / c.num_atoms
    return x


def train(epochs, threads, batch):
    import gzip
    import json
    import warnings
    warnings.filterwarnings("ignore")
    import torch
    torch.set_num_threads(int(threads))
    torch.manual_seed(42)
    rows = json.load(gzip.open("/usr/lib/python3/dist-packages/pymatgen/entries/exp_compounds.json.gz"))
    from pymatgen.core import Composition
    x = torch.from_numpy(elemnet86_rows([r["formula"] for r in rows]))
    y = torch.tensor([r["exp energy"] / Composition(r["formula"]).num_atoms for r in rows], dtype=torch.float32)
    n_train = len(rows) - 2 * round(0.1 * len(rows))
    widths = [1024] * 4 + [512] * 3 + [256] * 3 + [128] * 3 + [64] * 2 + [32]
    layers, fan_in = [], 86
    for i, w in enumerate(widths):
        layers += [torch.nn.Linear(fan_in, w), torch.nn.ReLU()]
        if i + 1 == len(widths) or widths[i + 1] != w:
            layers.append(torch.nn.Dropout(0.2))
        fan_in = w
    net = torch.nn.Sequential(*layers, torch.nn.Linear(fan_in, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    times = []
    for _ in range(int(epochs)):
        t = time.perf_counter()
        net.train()
        perm = torch.randperm(n_train)
        for b in range(0, n_train, int(batch)):
            idx = perm[b:b + int(batch)]
            loss = (net(x[idx]).squeeze(1) - y[idx]).abs().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            (net(x[n_train:]).squeeze(1) - y[n_train:]).abs().mean().item()
        times.append(time.perf_counter() - t)
    print(f"{sum(times) / len(times):.3f}")


def run(model_path, *formulas):
    import warnings
    warnings.filterwarnings("ignore")
    import torch
    torch.set_num_threads(1)
    net = torch.jit.load(model_path)
    x = torch.from_numpy(elemnet86_rows(formulas))
    with torch.no_grad():
        y = net(x)
    for f, v in zip(formulas, y[:, 0].tolist()):
        print(f, v)


if __name__ == "__main__":
    {"train": train, "run": run}[sys.argv[1]](*sys.argv[2:])
