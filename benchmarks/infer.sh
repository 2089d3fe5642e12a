#!/usr/bin/env bash
# kiln infer throughput (issue 6) on ROWS generated records (default 20 000; formulas of 1-4
# elements, benchmarks/make_records.py) with an ElemNet-size model (86 -> 1024x4 ... 32 -> 1,
# trained briefly by kiln train): rows/s for 1, 2, 4 replicas; batching on (--batch-max
# 65536) and off (1 row per execution, on the first 2 000 rows); cache off, cold (0 % hits)
# and warm (--cache-persist, second run); the task manager's grant rate with an empty model
# (bench_tasks);
# side by side with a plain Python loop (benchmarks/infer_python_loop.py: python3-torch +
# h5py) on the same rows and threads, in the same run.
# Each kiln configuration runs REPS times (default 3); the run with the median time is kept.
# Usage: benchmarks/infer.sh [ROWS] [REPS]   Writes benchmarks/results/infer-<rows>-<date>.csv
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-20000}
REPS=${2:-3}
BIN=${BIN:-$PWD/build/release/bin}
KILN=$BIN/kiln
[ -x "$KILN" ] && [ -f "$BIN/libkiln_torch.so" ] || { echo "build first: scripts/build.sh release" >&2; exit 1; }
PY=/usr/bin/python3
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/kiln-bench}/infer-$ROWS
rm -rf "$WORK" && mkdir -p "$WORK/thermo" benchmarks/results
export KILN_MODELS=$WORK/models
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
now() { date +%s.%N; }
CSV=benchmarks/results/infer-$ROWS-$(date -u +%Y%m%d).csv
echo "config,rows,seconds,rows_per_s,model_seconds,exec_count,cache_hits,commit,machine" > "$CSV"
c=$(git rev-parse --short HEAD 2>/dev/null || echo unknown); m="$(nproc) cores $(uname -m)"

# The model: the default ElemNet network, trained for one epoch (its speed, not its accuracy).
cp /usr/lib/python3/dist-packages/pymatgen/entries/exp_compounds.json.gz "$WORK/thermo/"
"$KILN" ingest "$WORK/thermo" --out "$WORK/thermo-data" --no-fsync >/dev/null 2>&1
"$KILN" train "$WORK/thermo-data" --target formation_enthalpy_per_atom --name elemnet --epochs 1 >/dev/null 2>&1
MODEL=$KILN_MODELS/elemnet/1/model.pt
$PY benchmarks/make_records.py "$WORK/table" "$ROWS" --seed 5 >/dev/null
"$KILN" ingest "$WORK/table" --out "$WORK/data" --no-fsync --no-index >/dev/null 2>&1

infer() {  # infer LABEL [kiln infer options]: one row of the CSV, the median of REPS runs
    local label=$1; shift
    : > "$WORK/runs"
    for _ in $(seq "$REPS"); do
      for d in "$WORK/data" "$WORK/small-data"; do
        rm -rf "$d/predictions" "$d/journal"/infer-*
        [ "${KEEP_CACHE:-0}" = 1 ] || rm -rf "$d/cache"
      done
      local t0 t1; t0=$(now)
      "$@" --summary "$WORK/s.json" --no-fsync --progress-interval 3600 > "$WORK/infer.log" 2>&1 \
          || { cat "$WORK/infer.log"; exit 1; }
      t1=$(now)
      $PY - "$WORK/s.json" "$label" "$(echo "$t1 - $t0" | bc -l)" "$c" "$m" >> "$WORK/runs" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); mt = s["metrics"]; secs = float(sys.argv[3])
print(f'{sys.argv[2]},{s["rows"]},{secs:.3f},{s["rows"] / secs:.0f},'
      f'{mt["nv_inference_compute_infer_duration_us"] / 1e6:.3f},{mt["nv_inference_exec_count"]},'
      f'{mt["nv_cache_num_hits_per_model"]},{sys.argv[4]},{sys.argv[5]}')
PY
    done
    sort -t, -k3,3g "$WORK/runs" | sed -n "$(( (REPS + 1) / 2 ))p" >> "$CSV"
}
K=("$KILN" infer "$WORK/data" --model elemnet)
infer "kiln 1 replica; no cache" "${K[@]}" --no-cache
infer "kiln 1 replica; cache on with 0% hits" "${K[@]}"
infer "kiln 1 replica; cache cold (--cache-persist)" "${K[@]}" --cache-persist
KEEP_CACHE=1 infer "kiln 1 replica; cache warm (--cache-persist)" "${K[@]}" --cache-persist
infer "kiln 2 replicas x 1 thread" "${K[@]}" --no-cache --replicas 2 --batch-max 4096
infer "kiln 4 replicas x 1 thread" "${K[@]}" --no-cache --replicas 4 --batch-max 2048
infer "kiln 1 replica x 2 threads" "${K[@]}" --no-cache --threads 2
infer "kiln 3 ranks (2 workers) x 1 replica" mpiexec -n 3 "${K[@]}" --no-cache --unit-rows 5000
# Units in flight on one rank: 4 units of 5 000 rows one at a time, and two at once (the next
# unit is read and featurized while the model runs).
infer "kiln 4 units; 1 at a time (--concurrent-units 1)" "${K[@]}" --no-cache --unit-rows 5000 --concurrent-units 1
infer "kiln 4 units; 2 at once (--concurrent-units 2)" "${K[@]}" --no-cache --unit-rows 5000 --concurrent-units 2
# The dynamic batcher across units: 40 units of 500 rows, 4 at once; without a delay each
# unit's rows make their own batches, with --batch-delay-us they share them.
infer "kiln 40 units of 500; 1 at a time" "${K[@]}" --no-cache --unit-rows 500 --concurrent-units 1
infer "kiln 40 units of 500; 4 at once; no delay" "${K[@]}" --no-cache --unit-rows 500 --concurrent-units 4
infer "kiln 40 units of 500; 4 at once; --batch-delay-us 20000" "${K[@]}" --no-cache --unit-rows 500 --concurrent-units 4 --batch-delay-us 20000
: > "$WORK/runs"
for _ in $(seq "$REPS"); do
  read -r py_s py_model py_rows < <($PY benchmarks/infer_python_loop.py "$WORK/data" "$MODEL" 65536 1)
  echo "python loop (torch + h5py; 1 thread),$py_rows,$py_s,$(echo "$py_rows / $py_s" | bc),$py_model,,,$c,$m" >> "$WORK/runs"
done
sort -t, -k3,3g "$WORK/runs" | sed -n "$(( (REPS + 1) / 2 ))p" >> "$CSV"

# Batching off: one row per execution, 2 000 rows, against batch-max 65536 on the same rows.
$PY benchmarks/make_records.py "$WORK/small" 2000 --seed 6 >/dev/null
"$KILN" ingest "$WORK/small" --out "$WORK/small-data" --no-fsync --no-index >/dev/null 2>&1
K=("$KILN" infer "$WORK/small-data" --model elemnet --no-cache)
infer "kiln batching off (2000 rows; batch 1)" "${K[@]}" --batch-max 1
infer "kiln batching on (2000 rows)" "${K[@]}"

# The task manager's grant rate: 100 000 units with an empty payload and an empty model
# through rank 0 to 2 workers.
tasks_line=$(mpiexec -n 3 "$BIN/bench_tasks" 100000)
echo "$tasks_line"
tasks_rate=$(echo "$tasks_line" | sed -E 's/.* ([0-9.e+]+) units\/s/\1/')
echo "task manager: 100000 empty units (bench_tasks; 3 ranks),100000,,$(printf %.0f "$tasks_rate"),,,,$c,$m" >> "$CSV"
column -s, -t < "$CSV"
echo "wrote $CSV"
