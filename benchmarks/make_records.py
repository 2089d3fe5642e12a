#!/usr/bin/env python3
"""Writes a generated materials table as CSV files for search tests and benchmarks.

Each row is one record after `kiln ingest` (the CSV extractor makes a record per row of a
table with a formula column): a formula of 1-4 elements drawn with realistic frequencies,
band_gap, energy_per_atom, spacegroup (1-230), a label from a small vocabulary, and a
year. Deterministic for a given seed.

    make_records.py OUT_DIR ROWS [--files N] [--seed S]
"""
import argparse
import os
import random

# Elements weighted roughly as in inorganic crystal databases: O, common metals first.
COMMON = ["O"] * 30 + ["Li"] * 6 + ["Fe"] * 6 + ["Mn"] * 4 + ["Co"] * 4 + ["Ni"] * 4 + \
         ["Cu"] * 3 + ["Zn"] * 3 + ["Al"] * 4 + ["Si"] * 5 + ["P"] * 4 + ["S"] * 4 + \
         ["N"] * 3 + ["C"] * 3 + ["H"] * 3 + ["F"] * 3 + ["Cl"] * 2 + ["Na"] * 3 + \
         ["K"] * 2 + ["Mg"] * 3 + ["Ca"] * 3 + ["Ti"] * 3 + ["V"] * 2 + ["Cr"] * 2
RARE = ["Sc", "Ga", "Ge", "As", "Se", "Br", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Ru", "Rh",
        "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Cs", "Ba", "La", "Ce", "Nd", "Gd",
        "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "U", "B", "Be"]
LABELS = ["stable", "metastable", "unstable", "experimental", "hypothetical", "icsd",
          "oqmd", "aflow"]


def formula(rng):
    n = rng.choice([1, 2, 2, 3, 3, 3, 4])
    els = []
    while len(els) < n:
        e = rng.choice(COMMON) if rng.random() < 0.85 else rng.choice(RARE)
        if e not in els:
            els.append(e)
    return "".join(e + (str(rng.randint(2, 6)) if rng.random() < 0.6 else "") for e in els)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("rows", type=int)
    ap.add_argument("--files", type=int, default=0, help="CSV files (default: 1 per 50 000 rows)")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    files = a.files or max(1, a.rows // 50000)
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    per = -(-a.rows // files)
    done = 0
    for i in range(files):
        n = min(per, a.rows - done)
        if n <= 0:
            break
        with open(os.path.join(a.out, "table-%04d.csv" % i), "w") as f:
            f.write("formula,band_gap,energy_per_atom,spacegroup,label,year\n")
            for _ in range(n):
                gap = 0.0 if rng.random() < 0.3 else round(rng.uniform(0.01, 9), 3)
                f.write("%s,%s,%s,%d,%s,%d\n" % (
                    formula(rng), gap, round(rng.uniform(-9.5, -0.5), 4),
                    rng.randint(1, 230), rng.choice(LABELS), rng.randint(1960, 2025)))
        done += n


if __name__ == "__main__":
    main()
