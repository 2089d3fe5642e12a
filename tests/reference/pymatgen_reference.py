#!/usr/bin/env python3
"""Reads structures with Debian's pymatgen, the reference kiln's extractors are compared with.

Usage: pymatgen_reference.py ROOT > reference.jsonl
One JSON line per file pymatgen can read as a structure or molecule:
  {"path", "kind", "structures": [{"composition": {el: amount}, "natoms", "sg", "volume"}]}
Files pymatgen cannot read are listed with "error" (they are not part of the comparison).
"""
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")
from pymatgen.core import Molecule, Structure  # noqa: E402
from pymatgen.io.cif import CifParser  # noqa: E402
from pymatgen.io.vasp import Poscar, Vasprun  # noqa: E402
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer  # noqa: E402


def kind_of(name):
    base = name.split("/")[-1]
    for z in (".gz", ".bz2", ".xz"):
        if base.endswith(z):
            base = base[: -len(z)]
    low = base.lower()
    if low.endswith((".cif", ".mcif")):
        return "cif"
    if base.startswith(("POSCAR", "CONTCAR")):
        return "poscar"
    if low.endswith(".xyz"):
        return "xyz"
    if low.endswith(".json"):
        return "json"
    if low.startswith("vasprun") and ".xml" in low:
        return "vasprun"
    return None


def describe(s):
    out = {"composition": {str(el): amt for el, amt in s.composition.element_composition.items()},
           "natoms": s.composition.num_atoms}
    if hasattr(s, "kiln_extra"):
        out.update(s.kiln_extra)
    if isinstance(s, Structure):
        out["volume"] = s.volume
        try:
            out["sg"] = SpacegroupAnalyzer(s, symprec=0.01).get_space_group_number()
        except Exception as e:  # spglib failures are reported, not fatal
            out["sg"] = None
            out["sg_error"] = str(e)
    return out


def read(path, kind):
    if kind == "cif":
        return CifParser(path).get_structures(primitive=False)
    if kind == "poscar":
        # check_for_POTCAR=False: pymatgen would otherwise take the species of whatever
        # *POTCAR* sorts first in the directory, which in this shared test directory belongs
        # to another material.
        return [Poscar.from_file(path, check_for_POTCAR=False).structure]
    if kind == "xyz":
        return [Molecule.from_file(path)]
    if kind == "json":
        with open(path) if not path.endswith(".gz") else __import__("gzip").open(path, "rt") as f:
            d = json.load(f)
        if isinstance(d, dict) and d.get("@class") in ("Structure", "IStructure"):
            return [Structure.from_dict(d)]
        if isinstance(d, dict) and d.get("@class") in ("Molecule", "IMolecule"):
            return [Molecule.from_dict(d)]
        raise ValueError("not a pymatgen Structure or Molecule")
    if kind == "vasprun":
        v = Vasprun(path, parse_dos=False, parse_eigen=False, parse_projected_eigen=False,
                    parse_potcar_file=False)
        s = v.final_structure
        s.kiln_extra = {"energy": v.final_energy, "converged": v.converged}
        return [s]
    raise ValueError(kind)


def main():
    root = sys.argv[1]
    base = os.path.basename(os.path.realpath(root))
    for dirpath, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            full = os.path.join(dirpath, name)
            kind = kind_of(name)
            if kind is None or os.path.islink(full):
                continue
            rec = {"path": base + "/" + os.path.relpath(full, root), "file": full, "kind": kind}
            try:
                rec["structures"] = [describe(s) for s in read(full, kind)]
                if not rec["structures"]:
                    raise ValueError("no structure")
            except Exception as e:
                rec["error"] = f"{type(e).__name__}: {e}"[:300]
            print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
