#!/usr/bin/env python3
"""kiln extract vs Debian's pymatgen on VASP's text files: every INCAR*, KPOINTS* and
OSZICAR* of pymatgen-test-files (gzipped ones too). KPOINTS: style, num_kpts, the number
of points listed, and the grid or length of generated meshes.

INCAR: the same tags; each tag pymatgen reads as a number or boolean has the same value in
custom.incar; dft.cutoff_energy is ENCUT. OSZICAR: dft.energy is Oszicar.final_energy and
dft.ionic_steps is the number of ionic steps. Exit 1 on any disagreement, or when fewer
files than expected were compared.

    pymatgen_vasp_text.py KILN ROOT
"""
import json
import math
import os
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")
from pymatgen.io.vasp import Incar, Kpoints  # noqa: E402
from pymatgen.io.vasp.outputs import Oszicar  # noqa: E402


def kiln_records(kiln, path):
    out = subprocess.run([kiln, "extract", path], capture_output=True, text=True)
    if out.returncode not in (0, 65):  # 65: a record carries an error
        raise RuntimeError(f"kiln extract {path} exited {out.returncode}: {out.stderr}")
    return [json.loads(line) for line in out.stdout.splitlines()]


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)


def main():
    kiln, root = sys.argv[1], sys.argv[2]
    problems, compared = [], {"incar": 0, "oszicar": 0, "kpoints": 0}
    for d, _, files in os.walk(root):
        for name in sorted(files):
            path = os.path.join(d, name)
            if name.startswith("INCAR"):
                try:
                    ref = Incar.from_file(path)
                except Exception:
                    continue  # pymatgen cannot read it: not part of the comparison
                rec = kiln_records(kiln, path)[0]
                if "error" in rec.get("kiln", {}):
                    problems.append(f"{path}: kiln error {rec['kiln']['error']}")
                    continue
                got = rec["custom"]["incar"]
                if set(got) != set(ref):
                    problems.append(f"{path}: tags differ: {sorted(set(got) ^ set(ref))}")
                for tag, v in ref.items():
                    if isinstance(v, (bool, int, float)) and tag in got and not same(v, got[tag]):
                        problems.append(f"{path}: {tag} pymatgen {v!r} kiln {got[tag]!r}")
                if "ENCUT" in ref and not same(ref["ENCUT"], rec["dft"].get("cutoff_energy", -1)):
                    problems.append(f"{path}: cutoff_energy {rec['dft'].get('cutoff_energy')}")
                compared["incar"] += 1
            elif name.startswith("KPOINTS"):
                try:
                    ref = Kpoints.from_file(path)
                except Exception:
                    continue
                rec = kiln_records(kiln, path)[0]
                k = rec.get("custom", {}).get("kpoints", {})
                want = {"style": ref.style.name, "num_kpts": ref.num_kpts, "points": len(ref.kpts)}
                got = {x: k.get(x) for x in want}
                if ref.style.name in ("Gamma", "Monkhorst"):
                    want["grid"], got["grid"] = list(ref.kpts[0]), k.get("grid")
                if ref.style.name == "Automatic":
                    want["length"], got["length"] = ref.kpts[0][0], k.get("length")
                if got != want:
                    problems.append(f"{path}: kiln {got} pymatgen {want} {rec['kiln'].get('error', '')}")
                compared["kpoints"] += 1
            elif name.startswith("OSZICAR"):
                try:
                    ref = Oszicar(path)
                    want = ref.final_energy
                except Exception:
                    continue
                rec = kiln_records(kiln, path)[0]
                dft = rec.get("dft", {})
                if not same(dft.get("energy", math.nan), want) or \
                        dft.get("ionic_steps") != len(ref.ionic_steps):
                    problems.append(f"{path}: kiln {dft} pymatgen {want} / {len(ref.ionic_steps)} steps")
                compared["oszicar"] += 1
    for p in problems:
        print("DISAGREE", p)
    print(f"compared {compared}; {len(problems)} disagreements")
    if compared["incar"] < 5 or compared["oszicar"] < 2 or compared["kpoints"] < 10:
        print("FAIL: too few files compared")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
