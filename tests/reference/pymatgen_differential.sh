#!/usr/bin/env bash
# Differential test: kiln extract vs Debian's pymatgen on every file of pymatgen-test-files
# that pymatgen reads as a structure or molecule (CIF, POSCAR/CONTCAR, XYZ, JSON). Requires
# at least 99 % agreement and every disagreement explained in pymatgen_expected_disagreements.txt.
set -euo pipefail
: "${KILN:?set KILN to the kiln binary}"
here=$(cd "$(dirname "$0")" && pwd)
PMG=/usr/share/doc/pymatgen-test-files/examples/test_files
out=$(mktemp -d "${TMPDIR:-/tmp}/kiln-ref-XXXXXX")
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 "$here/pymatgen_reference.py" "$PMG" > "$out/reference.jsonl" 2> "$out/reference.err"
/usr/bin/python3 -W ignore "$here/compare_pymatgen.py" "$KILN" "$out/reference.jsonl" \
    "$here/pymatgen_expected_disagreements.txt" --min-agreement 0.99
# VASP's text files: INCAR and OSZICAR against pymatgen's Incar and Oszicar.
/usr/bin/python3 "$here/pymatgen_vasp_text.py" "$KILN" "$PMG"
# YAML files against PyYAML's safe_load_all.
/usr/bin/python3 "$here/yaml_reference.py" "$KILN" "$PMG"
# OUTCARs against pymatgen's Outcar, ASE's vasp-out reader and the vasprun.xml beside.
/usr/bin/python3 "$here/outcar_reference.py" "$KILN" "$PMG"
# VASP 4 POSCARs with the species of the POTCAR or OUTCAR beside them, against ASE and pymatgen.
/usr/bin/python3 "$here/vasp4_species_reference.py" "$KILN"
# pw.x outputs (pymatgen-test-files and quantum-espresso-data) against PWOutput and ASE.
/usr/bin/python3 "$here/espresso_reference.py" "$KILN"
# HDF5 trees against h5py: PyTables' and h5py's test files, and the files of a kiln dataset.
"$KILN" ingest "$PMG/static_silicon" --out "$out/dataset" > /dev/null
/usr/bin/python3 "$here/hdf5_reference.py" "$KILN" "$out/dataset"
