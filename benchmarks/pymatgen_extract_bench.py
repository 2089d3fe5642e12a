#!/usr/bin/env python3
"""Times pymatgen reading the same files kiln extract reads (single core; import excluded).
Usage: pymatgen_extract_bench.py KIND REPEATS FILE...   prints: seconds_parse seconds_parse_plus_sg"""
import sys
import time
import warnings

warnings.filterwarnings("ignore")
from pymatgen.core import Molecule, Structure  # noqa: E402
from pymatgen.io.cif import CifParser  # noqa: E402
from pymatgen.io.pwscf import PWOutput  # noqa: E402
from pymatgen.io.vasp import Outcar, Poscar, Vasprun  # noqa: E402
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer  # noqa: E402

kind, repeats, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
read = {
    "cif": lambda f: CifParser(f).get_structures(primitive=False)[0],
    "poscar": lambda f: Poscar.from_file(f, check_for_POTCAR=False).structure,
    "xyz": lambda f: Molecule.from_file(f),
    "json": lambda f: Structure.from_file(f),
    "vasprun": lambda f: Vasprun(f, parse_dos=False, parse_eigen=False, parse_projected_eigen=False,
                                 parse_potcar_file=False).final_structure,
    "outcar": lambda f: Outcar(f),  # no structure: the space-group pass times the parse again
    "espresso": lambda f: PWOutput(f),
}[kind]
t0 = time.perf_counter()
for _ in range(repeats):
    for f in files:
        read(f)
t1 = time.perf_counter()
for _ in range(repeats):
    for f in files:
        s = read(f)
        if isinstance(s, Structure):
            SpacegroupAnalyzer(s, symprec=0.01).get_space_group_number()
t2 = time.perf_counter()
print(f"{t1 - t0:.4f} {t2 - t1:.4f}")
