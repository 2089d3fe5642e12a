#!/usr/bin/env bash
# Models (issue 5): `kiln run` latency for one formula from process start to output, cold
# (first run: the backend and LibTorch loaded for the first time in this benchmark; the page
# cache is dropped first when this runs as root and may) and warm (median of REPS runs), and
# `kiln train` time per epoch of the default ElemNet network on pymatgen's 2 135 experimental
# formation enthalpies; each side by side with Python's torch doing the same in the same run
# (benchmarks/models_torch_baseline.py).
# Usage: benchmarks/models.sh [REPS] [EPOCHS]   Writes benchmarks/results/models-<date>.csv
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-10}
EPOCHS=${2:-5}
THREADS=${THREADS:-1}  # LibTorch threads; OpenBLAS threads each GEMM over all cores itself
BIN=${BIN:-$PWD/build/release/bin}
KILN=$BIN/kiln
[ -x "$KILN" ] && [ -f "$BIN/libkiln_torch.so" ] || { echo "build first: scripts/build.sh release" >&2; exit 1; }
PY=/usr/bin/python3
BASE="$PY benchmarks/models_torch_baseline.py"
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/kiln-bench}/models
rm -rf "$WORK" && mkdir -p "$WORK/src" benchmarks/results
export KILN_MODELS=$WORK/models
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null && echo dropped || echo "not dropped"; }

cp /usr/lib/python3/dist-packages/pymatgen/entries/exp_compounds.json.gz "$WORK/src/"
"$KILN" ingest "$WORK/src" --out "$WORK/data" >/dev/null 2>&1

echo "== train: $EPOCHS epochs of the default network, $THREADS threads"
"$KILN" train "$WORK/data" --target formation_enthalpy_per_atom --name bench --epochs "$EPOCHS" \
    --patience "$EPOCHS" --threads "$THREADS" > "$WORK/train.log" 2>&1
kiln_epoch=$($PY -c "import json,sys; print('%.3f' % json.load(open(sys.argv[1]))['kiln']['training']['seconds_per_epoch'])" "$KILN_MODELS/bench/1/servable.json")
py_epoch=$($BASE train "$EPOCHS" "$THREADS" 64)
echo "kiln train: $kiln_epoch s/epoch   Python torch: $py_epoch s/epoch"

echo "== run: one formula, process start to output"
MODEL=$KILN_MODELS/bench/1/model.pt
cold_note=$(drop_caches)
t0=$(now); "$KILN" run bench --formula Fe2O3 > /dev/null; t1=$(now)
kiln_cold=$(echo "($t1 - $t0) * 1000" | bc -l)
drop_caches > /dev/null
t0=$(now); $BASE run "$MODEL" Fe2O3 > /dev/null; t1=$(now)
py_cold=$(echo "($t1 - $t0) * 1000" | bc -l)
: > "$WORK/kiln.ms"; : > "$WORK/py.ms"
for _ in $(seq "$REPS"); do
  t0=$(now); "$KILN" run bench --formula Fe2O3 > /dev/null; t1=$(now)
  echo "($t1 - $t0) * 1000" | bc -l >> "$WORK/kiln.ms"
  t0=$(now); $BASE run "$MODEL" Fe2O3 > /dev/null; t1=$(now)
  echo "($t1 - $t0) * 1000" | bc -l >> "$WORK/py.ms"
done
kiln_warm=$(median < "$WORK/kiln.ms"); py_warm=$(median < "$WORK/py.ms")
"$KILN" run bench --formula Fe2O3 --debug 2> "$WORK/debug.txt" > /dev/null
printf "kiln run:     cold %6.0f ms   warm (median of %d) %6.0f ms\n" "$kiln_cold" "$REPS" "$kiln_warm"
printf "Python torch: cold %6.0f ms   warm (median of %d) %6.0f ms   (page cache %s)\n" "$py_cold" "$REPS" "$py_warm" "$cold_note"
echo "kiln run --debug breakdown (warm):"; sed 's/^/  /' "$WORK/debug.txt"

CSV=benchmarks/results/models-$(date -u +%Y%m%d).csv
{
  echo "metric,kiln,python_torch,unit,threads,commit,machine"
  c=$(git rev-parse --short HEAD 2>/dev/null || echo unknown); m="$(nproc) cores $(uname -m)"
  echo "train_seconds_per_epoch,$kiln_epoch,$py_epoch,s,$THREADS,$c,$m"
  echo "run_cold_ms,$(printf %.0f "$kiln_cold"),$(printf %.0f "$py_cold"),ms,1,$c,$m"
  echo "run_warm_median_ms,$(printf %.0f "$kiln_warm"),$(printf %.0f "$py_warm"),ms,1,$c,$m"
} > "$CSV"
echo "wrote $CSV"
