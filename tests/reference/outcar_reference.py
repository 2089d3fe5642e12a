#!/usr/bin/env python3
"""kiln extract vs two readers nobody here wrote, on every OUTCAR* of pymatgen-test-files
(gzipped ones too):

- pymatgen's Outcar: dft.energy = final_energy (energy(sigma->0)); custom.outcar's
  free_energy, energy_without_entropy and stopped = final_fr_energy, final_energy_wo_entrp
  and is_stopped; nelect (kiln: the NELECT tag) = nelect within 0.05 (pymatgen's is the
  electron count integrated in the first electronic step, e.g. 383.979 for NELECT 384);
- ASE's vasp-out reader (the last image): the same reduced formula, number of atoms and
  volume (1e-6 relative) as material/crystal_structure, the same Fermi level and total
  magnetic moment. (pymatgen's Outcar reads the file backwards and keeps overwriting
  efermi, nelect and total_mag, so it reports the *first* value in the file, e.g. the Fermi
  level of the first electronic step of a relaxation; kiln reports the last, as ASE does.)
- where a vasprun.xml of the same run lies beside a file named OUTCAR in a run directory
  (not the mixed top directory of the test files), pymatgen's Vasprun, and the run's record
  from `kiln extract --group` (the reduced formula of the final structure, the final energy,
  and every VASP file of the directory in files[]):
  dft.cutoff_energy = ENCUT, dft.converged = Vasprun.converged, and dft.ionic_steps = the
  number of ionic steps.

Files a reference cannot read are left out of that reference's comparison (and counted).
Exit 1 on any disagreement, or when fewer files than expected were compared.

    outcar_reference.py KILN ROOT
"""
import json
import math
import os
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")
import ase.io  # noqa: E402
from pymatgen.core import Composition  # noqa: E402
from pymatgen.io.vasp import Outcar, Vasprun  # noqa: E402


def close(a, b, rel=1e-9):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-9)


def main():
    kiln, root = sys.argv[1], sys.argv[2]
    paths = sorted(os.path.join(d, n) for d, _, files in os.walk(root)
                   for n in files if n.upper().startswith("OUTCAR"))
    out = subprocess.run([kiln, "extract", *paths], capture_output=True, text=True)
    if out.returncode not in (0, 65):
        print(f"FAIL: kiln extract exited {out.returncode}: {out.stderr}")
        return 1
    records = {r["kiln"]["path"]: r for r in map(json.loads, out.stdout.splitlines())}
    problems = []
    compared = {"pymatgen Outcar": 0, "ASE vasp-out": 0, "pymatgen Vasprun": 0}
    unreadable = {k: [] for k in compared}
    for path in paths:
        rec = records[path]
        if "error" in rec["kiln"]:
            problems.append(f"{path}: kiln error {rec['kiln']['error']}")
            continue
        dft, custom = rec.get("dft", {}), rec["custom"]["outcar"]
        try:
            ref = Outcar(path)
        except Exception as e:  # noqa: BLE001 - any failure means pymatgen cannot read it
            unreadable["pymatgen Outcar"].append(f"{path} ({type(e).__name__})")
        else:
            pairs = [("energy", dft.get("energy"), ref.final_energy),
                     ("free_energy", custom.get("free_energy"), ref.final_fr_energy),
                     ("energy_without_entropy", custom.get("energy_without_entropy"),
                      ref.final_energy_wo_entrp),
                     ]
            for name, got, want in pairs:
                if not close(got, want):
                    problems.append(f"{path}: {name} kiln {got} pymatgen {want}")
            if custom.get("nelect") is None or abs(custom["nelect"] - ref.nelect) > 0.05:
                problems.append(f"{path}: nelect kiln {custom.get('nelect')} pymatgen {ref.nelect}")
            if custom["stopped"] != ref.is_stopped:
                problems.append(f"{path}: stopped kiln {custom['stopped']} pymatgen {ref.is_stopped}")
            compared["pymatgen Outcar"] += 1
        try:
            atoms = ase.io.read(path, format="vasp-out", index=-1)
        except Exception as e:  # noqa: BLE001
            unreadable["ASE vasp-out"].append(f"{path} ({type(e).__name__})")
        else:
            want = Composition(atoms.get_chemical_formula()).reduced_formula
            got = Composition(rec["material"]["formula"]).reduced_formula
            cs = rec.get("crystal_structure", {})
            if got != want or cs.get("number_of_sites") != len(atoms) or \
                    not close(cs.get("volume"), atoms.get_volume(), rel=1e-6):
                problems.append(f"{path}: kiln {got} {cs.get('number_of_sites')} sites "
                                f"{cs.get('volume')} A^3, ASE {want} {len(atoms)} {atoms.get_volume()}")
            if not close(custom.get("efermi"), atoms.calc.get_fermi_level()):
                problems.append(f"{path}: efermi kiln {custom.get('efermi')} "
                                f"ASE {atoms.calc.get_fermi_level()}")
            if "magmom" in atoms.calc.results and \
                    not close(custom.get("total_magnetization"), atoms.calc.results["magmom"]):
                problems.append(f"{path}: total_magnetization kiln "
                                f"{custom.get('total_magnetization')} ASE {atoms.calc.results['magmom']}")
            compared["ASE vasp-out"] += 1
        beside = os.path.join(os.path.dirname(path), "vasprun.xml")
        if os.path.basename(path) == "OUTCAR" and os.path.dirname(path) != root.rstrip("/") \
                and os.path.exists(beside):
            try:
                run = Vasprun(beside, parse_dos=False, parse_eigen=False,
                              parse_projected_eigen=False, parse_potcar_file=False)
            except Exception as e:  # noqa: BLE001
                unreadable["pymatgen Vasprun"].append(f"{beside} ({type(e).__name__})")
                continue
            want = {"converged": run.converged, "ionic_steps": len(run.ionic_steps),
                    "nelect": float(run.parameters["NELECT"])}
            if "ENCUT" in run.parameters:  # some vasprun.xml files leave it out
                want["cutoff_energy"] = float(run.parameters["ENCUT"])
            got = {k: custom.get(k) if k == "nelect" else dft.get(k) for k in want}
            if got != want:
                problems.append(f"{path}: kiln {got} vasprun.xml beside {want}")
            # The run as one record (kiln extract --group): vasprun.xml's final structure and
            # energy, every VASP file of the directory in files[].
            run_dir = os.path.dirname(path)
            vasp_files = sorted(os.path.join(run_dir, n) for n in os.listdir(run_dir)
                                if n.upper().startswith(("OUTCAR", "INCAR", "POSCAR", "CONTCAR",
                                                         "OSZICAR", "KPOINTS", "CHGCAR", "WAVECAR",
                                                         "VASPRUN.XML", "POTCAR", "DOSCAR",
                                                         "EIGENVAL", "PROCAR", "XDATCAR", "IBZKPT",
                                                         "LOCPOT", "ELFCAR")))
            grouped = subprocess.run([kiln, "extract", "--group", *vasp_files],
                                     capture_output=True, text=True)
            runs = [r for r in map(json.loads, grouped.stdout.splitlines())
                    if r["kiln"]["format"] == "vasp-run"]
            want_run = (run.final_structure.composition.reduced_formula, run.final_energy,
                        len(vasp_files))
            got_run = (Composition(runs[0]["material"]["formula"]).reduced_formula,
                       runs[0]["dft"].get("energy"), len(runs[0]["files"])) if len(runs) == 1 else None
            if got_run is None or got_run[0] != want_run[0] or got_run[2] != want_run[2] or \
                    not close(got_run[1], want_run[1]):
                problems.append(f"{run_dir}: kiln --group {got_run}, pymatgen Vasprun {want_run}")
            compared["pymatgen Vasprun"] += 1
    for p in problems:
        print("DISAGREE", p)
    for k, v in unreadable.items():
        for p in v:
            print(f"not read by {k}: {p}")
    print(f"{len(paths)} OUTCARs; compared with {compared}; {len(problems)} disagreements")
    if compared["pymatgen Outcar"] < 40 or compared["ASE vasp-out"] < 30 or \
            compared["pymatgen Vasprun"] < 3:
        print("FAIL: too few files compared")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
