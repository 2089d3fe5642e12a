#!/usr/bin/env python3
"""VASP 4 POSCARs (no species line) take their species from the run's POTCAR or OUTCAR beside
them. kiln extract vs ASE's read_vasp (which looks beside the file for a POTCAR or OUTCAR the
same way) and pymatgen's Poscar.from_file (POTCAR only), on the real POTCARs and OUTCARs of
pymatgen-test-files, each put beside a VASP 4 POSCAR with as many species as it names.

    vasp4_species_reference.py KILN
"""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")
import ase.io  # noqa: E402
from pymatgen.core import Composition  # noqa: E402
from pymatgen.io.vasp import Poscar  # noqa: E402

PMG = "/usr/share/doc/pymatgen-test-files/examples/test_files"
SOURCES = ["POTCAR", "cohp/POTCAR.GaAs", "POT_GGA_PAW_PBE_52/POTCAR.Fe_pv.gz",
           "OUTCAR.gz", "OUTCAR.BaTiO3.polar", "static_silicon/OUTCAR", "nmr/efg/AlPO4/OUTCAR"]


def species_count(text):
    return sum(1 for line in text.splitlines() if "VRHFIN" in line)


def main():
    kiln = sys.argv[1]
    problems, compared = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, source in enumerate(SOURCES):
            src = os.path.join(PMG, source)
            opener = gzip.open if src.endswith(".gz") else open
            with opener(src, "rt", errors="replace") as f:
                text = f.read()
            n = species_count(text)
            kind = "POTCAR" if "POTCAR" in source else "OUTCAR"
            run = os.path.join(tmp, f"run{i}")
            os.mkdir(run)
            with open(os.path.join(run, kind), "w") as f:
                f.write(text)
            counts = " ".join(str(k + 1) for k in range(n))
            lines = ["1 2 3", "1.0", "6 0 0", "0 6.5 0", "0 0 7", counts, "Direct"]
            sites = sum(k + 1 for k in range(n))
            lines += [f"{(j * 0.37) % 1:.4f} {(j * 0.61) % 1:.4f} {(j * 0.13) % 1:.4f}" for j in range(sites)]
            poscar = os.path.join(run, "POSCAR")
            with open(poscar, "w") as f:
                f.write("\n".join(lines) + "\n")
            out = subprocess.run([kiln, "extract", poscar], capture_output=True, text=True)
            rec = json.loads(out.stdout.splitlines()[0])
            got = rec.get("material", {}).get("composition", rec["kiln"].get("error"))
            want = Composition(ase.io.read(poscar, format="vasp").get_chemical_formula()).reduced_formula
            wants = {"ASE": want}
            if kind == "POTCAR":
                wants["pymatgen"] = Poscar.from_file(poscar).structure.composition.reduced_formula
            for ref, w in wants.items():
                if got is None or Composition(got).reduced_formula != w:
                    problems.append(f"{source}: kiln {got}, {ref} {w}")
            compared += 1
            print(f"{source}: {n} species -> kiln {got}, {wants}")
            shutil.rmtree(run)
    for p in problems:
        print("DISAGREE", p)
    print(f"{compared} runs compared; {len(problems)} disagreements")
    return 1 if problems or compared < len(SOURCES) else 0


if __name__ == "__main__":
    sys.exit(main())
