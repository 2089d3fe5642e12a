#!/usr/bin/env bash
# Files/s and MB/s of `kiln extract` vs pymatgen on the same files, same run, one core
# (taskset -c 0). kiln's time includes process start, libmagic, xxh3 and spglib; pymatgen's is
# the parse loop alone, and again with SpacegroupAnalyzer (what kiln computes too). kiln is
# also timed with --symprec 0 (no space group), the like of pymatgen's parse alone.
# OUTCAR (pymatgen's Outcar) and pw.x outputs (PWOutput; Debian's quantum-espresso-data) too.
# Usage: benchmarks/extract.sh [KILN] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
KILN=${1:-$PWD/build/release/bin/kiln}
REPEATS=${2:-5}
PMG=/usr/share/doc/pymatgen-test-files/examples/test_files
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kiln-xbench-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p benchmarks/results
CSV=benchmarks/results/extract-$(date -u +%Y%m%d-%H%M%S).csv
# The files pymatgen reads (its reference run decides), uncompressed, by kind.
/usr/bin/python3 tests/reference/pymatgen_reference.py "$PMG" > "$WORK/ref.jsonl" 2>/dev/null
echo "kind,files,bytes,repeats,kiln_s,kiln_no_sg_s,pymatgen_parse_s,pymatgen_parse_sg_s,kiln_files_per_s,kiln_mb_per_s,pymatgen_files_per_s,speedup_vs_parse,speedup_vs_parse_sg,speedup_no_sg_vs_parse" > "$CSV"
find "$PMG" -name 'OUTCAR*' ! -name '*.gz' | sort > "$WORK/outcar.txt"
{ echo "$PMG/Si.pwscf.out"; find /usr/share/doc/quantum-espresso/examples -path '*reference*' -name '*.out.gz' \
    -exec sh -c 'zcat "$1" | head -c 4000 | grep -q "Program PWSCF"' _ {} \; -print | sort; } > "$WORK/espresso.txt"
for kind in cif poscar xyz json vasprun outcar espresso; do
  reps=$REPEATS
  case $kind in vasprun | outcar) reps=1 ;; esac   # files of up to 61 MB: once is enough
  [ "$kind" = outcar ] || [ "$kind" = espresso ] || /usr/bin/python3 -c "
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r['kind'] == sys.argv[2] and 'structures' in r and not r['file'].endswith('.gz'):
        print(r['file'])" "$WORK/ref.jsonl" "$kind" > "$WORK/$kind.txt"
  mapfile -t files < "$WORK/$kind.txt"
  n=${#files[@]}
  [ "$n" -gt 0 ] || continue
  bytes=$(cat "${files[@]}" | wc -c)
  args=()
  for _ in $(seq "$reps"); do args+=("${files[@]}"); done
  "$KILN" extract "${files[@]}" > /dev/null || true   # warm the page cache
  t0=$(date +%s.%N)
  taskset -c 0 "$KILN" extract "${args[@]}" > /dev/null || true
  t1=$(date +%s.%N)
  kiln_s=$(echo "$t1 - $t0" | bc -l)
  t0=$(date +%s.%N)
  taskset -c 0 "$KILN" extract --symprec 0 "${args[@]}" > /dev/null || true
  t1=$(date +%s.%N)
  kiln_no_sg_s=$(echo "$t1 - $t0" | bc -l)
  read -r py_s py_sg_s < <(taskset -c 0 /usr/bin/python3 benchmarks/pymatgen_extract_bench.py "$kind" "$reps" "${files[@]}")
  total=$((n * reps))
  printf '%s,%d,%d,%d,%.3f,%.3f,%.3f,%.3f,%.0f,%.1f,%.0f,%.1f,%.1f,%.1f\n' "$kind" "$n" "$bytes" "$reps" \
    "$kiln_s" "$kiln_no_sg_s" "$py_s" "$py_sg_s" "$(echo "$total / $kiln_s" | bc -l)" \
    "$(echo "$bytes * $reps / $kiln_s / 1000000" | bc -l)" "$(echo "$total / $py_s" | bc -l)" \
    "$(echo "$py_s / $kiln_s" | bc -l)" "$(echo "$py_sg_s / $kiln_s" | bc -l)" \
    "$(echo "$py_s / $kiln_no_sg_s" | bc -l)" >> "$CSV"
done
echo "wrote $CSV"
column -s, -t < "$CSV"
