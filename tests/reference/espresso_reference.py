#!/usr/bin/env python3
"""kiln extract vs ASE and pymatgen on real Quantum ESPRESSO pw.x outputs: Si.pwscf.out of
pymatgen-test-files and every reference output of pw.x shipped in Debian's
quantum-espresso-data (examples/*/reference/*.out.gz, written by QE's authors).

- pymatgen's PWOutput: custom.espresso.total_energy_ry = final_energy (Ry) and
  ecutwfc_ry = ecut;
- ASE's espresso-out reader (the last image): the same reduced formula, number of atoms,
  volume, energy (eV) and Fermi level, within 1e-6 relative (ASE converts with CODATA 2014,
  kiln with CODATA 2018: 1e-7 apart).

Files a reference cannot read are left out of that reference's comparison and counted;
kiln must read every file either reads. Exit 1 on any disagreement or too few files.

    espresso_reference.py KILN
"""
import glob
import json
import math
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")
import ase.io  # noqa: E402
from pymatgen.core import Composition  # noqa: E402
from pymatgen.io.pwscf import PWOutput  # noqa: E402


def close(a, b, rel=1e-6):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-6)


def main():
    kiln = sys.argv[1]
    paths = ["/usr/share/doc/pymatgen-test-files/examples/test_files/Si.pwscf.out"]
    for path in sorted(glob.glob("/usr/share/doc/quantum-espresso/examples/**/reference/*.out.gz",
                                 recursive=True)):
        out = subprocess.run(["zcat", path], capture_output=True, text=True, errors="replace")
        if "Program PWSCF" in out.stdout[:4000]:
            paths.append(path)
    out = subprocess.run([kiln, "extract", *paths], capture_output=True, text=True)
    if out.returncode not in (0, 65):
        print(f"FAIL: kiln extract exited {out.returncode}: {out.stderr}")
        return 1
    records = {r["kiln"]["path"]: r for r in map(json.loads, out.stdout.splitlines())}
    problems, kiln_errors = [], []
    compared = {"pymatgen PWOutput": 0, "ASE espresso-out": 0}
    unreadable = {k: 0 for k in compared}
    for path in paths:
        rec = records[path]
        if rec["kiln"]["format"] != "espresso":
            problems.append(f"{path}: detected as {rec['kiln']['format']}")
            continue
        custom = rec.get("custom", {}).get("espresso", {})
        try:
            ref = PWOutput(path)
            want_energy, want_ecut = ref.final_energy, ref.data["ecut"]
        except Exception:  # noqa: BLE001 - any failure means pymatgen cannot read it
            unreadable["pymatgen PWOutput"] += 1
        else:
            if "error" in rec["kiln"]:
                kiln_errors.append(f"{path}: {rec['kiln']['error']}")
            elif not close(custom.get("total_energy_ry"), want_energy, 1e-12) or \
                    not close(custom.get("ecutwfc_ry"), want_ecut, 1e-12):
                problems.append(f"{path}: kiln {custom} pymatgen {want_energy} Ry, ecut {want_ecut}")
            compared["pymatgen PWOutput"] += 1
        try:
            atoms = ase.io.read(path, format="espresso-out", index=-1)
            energy = atoms.get_potential_energy()
        except Exception:  # noqa: BLE001
            unreadable["ASE espresso-out"] += 1
            continue
        if "error" in rec["kiln"]:
            kiln_errors.append(f"{path}: {rec['kiln']['error']}")
            continue
        want = (Composition(atoms.get_chemical_formula()).reduced_formula, len(atoms))
        got = (Composition(rec["material"]["formula"]).reduced_formula,
               rec["crystal_structure"]["number_of_sites"])
        efermi = atoms.calc.get_fermi_level()
        if got != want or not close(rec["crystal_structure"]["volume"], atoms.get_volume()) or \
                not close(rec["dft"].get("energy"), energy) or \
                (efermi is not None and not close(custom.get("efermi"), efermi)):
            problems.append(f"{path}: kiln {got} {rec['crystal_structure']['volume']} A^3 "
                            f"{rec['dft'].get('energy')} eV efermi {custom.get('efermi')}; ASE {want} "
                            f"{atoms.get_volume()} {energy} {efermi}")
        compared["ASE espresso-out"] += 1
    for p in problems + kiln_errors:
        print("DISAGREE", p)
    print(f"{len(paths)} pw.x outputs; compared with {compared}; not read by {unreadable}; "
          f"{len(problems) + len(kiln_errors)} disagreements")
    if compared["pymatgen PWOutput"] < 200 or compared["ASE espresso-out"] < 130:
        print("FAIL: too few files compared")
        return 1
    return 1 if problems or kiln_errors else 0


if __name__ == "__main__":
    sys.exit(main())
