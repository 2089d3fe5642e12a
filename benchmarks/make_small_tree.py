#!/usr/bin/env python3
"""Writes a deterministic tree of N small files (default 100 000) for the ingest benchmark:
100 directories of POSCAR-, CIF-, XYZ-, JSON- and CSV-like text files of 0.5-4 KiB."""
import os
import random
import sys

def main():
    root = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    rng = random.Random(42)
    elements = ["Fe", "O", "Al", "Si", "Li", "Co", "Ni", "Mn", "Ti", "Cu", "Zn", "Mg"]
    per_dir = max(1, n // 100)
    for i in range(n):
        d = os.path.join(root, f"dir{i // per_dir:03d}")
        if i % per_dir == 0:
            os.makedirs(d, exist_ok=True)
        kind = i % 5
        els = rng.sample(elements, 2)
        natoms = rng.randint(2, 40)
        coords = "\n".join(" ".join(f"{rng.random():.6f}" for _ in range(3)) for _ in range(natoms))
        if kind == 0:
            name, text = f"POSCAR_{i}", f"{els[0]}{els[1]}\n1.0\n4.0 0 0\n0 4.0 0\n0 0 4.0\n{els[0]} {els[1]}\n{natoms - 1} 1\nDirect\n{coords}\n"
        elif kind == 1:
            name, text = f"s{i}.cif", f"data_s{i}\n_cell_length_a 4.0\n_cell_length_b 4.0\n_cell_length_c 4.0\n_symmetry_space_group_name_H-M 'P 1'\nloop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n" + "\n".join(f"{els[k % 2]}{k} {c}" for k, c in enumerate(coords.split("\n"))) + "\n"
        elif kind == 2:
            name, text = f"m{i}.xyz", f"{natoms}\ncomment {i}\n" + "\n".join(f"{els[k % 2]} {c}" for k, c in enumerate(coords.split("\n"))) + "\n"
        elif kind == 3:
            name, text = f"e{i}.json", '{"formula": "%s%d%s", "energy": %.5f, "tags": ["bench", "%d"]}\n' % (els[0], natoms, els[1], -rng.random() * 10, i)
        else:
            name, text = f"t{i}.csv", "formula,energy\n" + "\n".join(f"{els[0]}{k}{els[1]},{-rng.random():.4f}" for k in range(1, natoms)) + "\n"
        with open(os.path.join(d, name), "w") as f:
            f.write(text)

if __name__ == "__main__":
    main()
