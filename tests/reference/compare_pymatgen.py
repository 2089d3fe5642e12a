#!/usr/bin/env python3
"""Compares `kiln extract` with pymatgen (pymatgen_reference.py output) on the same files.

Usage: compare_pymatgen.py KILN REFERENCE.jsonl EXPECTED.txt [--min-agreement 0.99]
Per structure: same reduced composition, same number of atoms (occupancies summed), same
space group number (spglib, symprec 0.01 on both sides), volume within 1e-4 relative.
Every disagreement must be listed in EXPECTED.txt (path, then '#' and the reason); a listed
file that now agrees is reported so the list stays honest. Exits 1 on any unexpected result
or when agreement is below the minimum.
"""
import json
import subprocess
import sys

from pymatgen.core import Composition


def compare(ref, got):
    problems = []
    kc = Composition(got.get("material", {}).get("formula", ""))
    rc = Composition(ref["composition"])
    if not kc.reduced_composition.almost_equals(rc.reduced_composition, rtol=1e-3, atol=1e-3):
        problems.append(f"composition {kc.reduced_formula} vs {rc.reduced_formula}")
    block = got.get("crystal_structure") or got.get("molecule") or {}
    n = block.get("number_of_atoms")
    if n is None or abs(n - ref["natoms"]) > 1e-3 * max(1.0, ref["natoms"]):
        problems.append(f"natoms {n} vs {ref['natoms']}")
    if "volume" in ref:
        v = block.get("volume")
        if v is None or abs(v - ref["volume"]) > 1e-4 * ref["volume"]:
            problems.append(f"volume {v} vs {ref['volume']}")
        if ref.get("sg") is not None and block.get("space_group_number") != ref["sg"]:
            problems.append(f"space group {block.get('space_group_number')} vs {ref['sg']}")
    dft = got.get("dft", {})
    if "energy" in ref and abs(dft.get("energy", float("nan")) - ref["energy"]) > 1e-6 * max(1.0, abs(ref["energy"])):
        problems.append(f"energy {dft.get('energy')} vs {ref['energy']}")
    if "converged" in ref and dft.get("converged") != ref["converged"]:
        problems.append(f"converged {dft.get('converged')} vs {ref['converged']}")
    return problems


def main():
    kiln, ref_path, expected_path = sys.argv[1:4]
    minimum = float(sys.argv[sys.argv.index("--min-agreement") + 1]) if "--min-agreement" in sys.argv else 0.99
    refs = [json.loads(l) for l in open(ref_path)]
    refs = [r for r in refs if "structures" in r]
    expected = {}
    for line in open(expected_path):
        line = line.strip()
        if line and not line.startswith("#"):
            path, _, why = line.partition("#")
            expected[path.strip()] = why.strip()
    files = [r["file"] for r in refs]
    out = subprocess.run([kiln, "extract", *files], capture_output=True, text=True)
    got = {}
    for line in out.stdout.splitlines():
        r = json.loads(line)
        got.setdefault(r["kiln"]["path"], []).append(r)
    agree, disagreements = 0, {}
    for r in refs:
        records = got.get(r["file"], [])
        errs = [x["kiln"]["error"] for x in records if "error" in x.get("kiln", {})]
        problems = []
        if errs:
            problems.append("kiln error: " + errs[0])
        elif len(records) != len(r["structures"]):
            problems.append(f"{len(records)} structures vs {len(r['structures'])}")
        else:
            for i, (ref, rec) in enumerate(zip(r["structures"], records)):
                problems += [f"#{i}: {p}" for p in compare(ref, rec)]
        if problems:
            disagreements[r["path"]] = problems
        else:
            agree += 1
    total = len(refs)
    rate = agree / total if total else 0.0
    by_kind = {}
    for r in refs:
        k = by_kind.setdefault(r["kind"], [0, 0])
        k[1] += 1
        k[0] += r["path"] not in disagreements
    print(f"kiln agrees with pymatgen on {agree}/{total} files ({100 * rate:.1f}%)")
    for kind, (a, t) in sorted(by_kind.items()):
        print(f"  {kind:7s} {a}/{t}")
    unexpected = {p: v for p, v in disagreements.items() if p not in expected}
    for p, v in sorted(disagreements.items()):
        tag = "expected" if p in expected else "UNEXPECTED"
        print(f"  {tag}: {p}: {'; '.join(v)[:300]}" + (f"  [{expected[p]}]" if p in expected else ""))
    stale = [p for p in expected if p not in disagreements and any(r["path"] == p for r in refs)]
    for p in stale:
        print(f"  now agrees (remove from {expected_path}): {p}")
    ok = not unexpected and not stale and rate >= minimum
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
