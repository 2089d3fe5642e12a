#!/usr/bin/env bash
# The replica-scaling benchmark (DLHub's scale test, made reproducible): time and throughput
# of `kiln infer` for a fixed number of inferences across replica counts, with batching on
# (--batch-max 65536) and off (one row per model execution), cache cold (empty) and warm
# (--cache-persist, second run). A replica count R runs as 1 worker rank x R replicas
# (--layout replicas, the default: threads of one process, each unit cut into one batch per
# replica) or R worker ranks x 1 replica (--layout ranks; rank 0 is the task manager on top). Writes a CSV, prints a table and draws
# throughput and scaling efficiency (throughput(R) / (R x throughput(1))) against R in a PNG.
#
#   benchmarks/scale_replicas.sh                                  # 5 000 inferences, R = 1 2 4 8
#   benchmarks/scale_replicas.sh --inferences "5000 1000000" --counts "1 2 4 8"
#   benchmarks/scale_replicas.sh --data DATA --model NAME --counts 4 --launcher "srun --mpi=pmix"
#   benchmarks/scale_replicas.sh --merge results/scale-*.csv      # the Slurm array's tasks
#
# Without --data it generates the records (benchmarks/make_records.py, formulas of 1-4
# elements) and trains an ElemNet-size model for one epoch (its speed, not its accuracy).
# Batching off runs only up to --batch-off-max inferences (default 100 000): one row per
# execution is the point of comparison, not a configuration anyone runs over a million rows.
# Each configuration runs --reps times (default 3); the median time is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
INFERENCES="5000"; COUNTS="1 2 4 8"; LAYOUT=replicas; DATA=""; MODEL=""; REPS=3
LAUNCHER="mpiexec"; CSV=""; PLOT=""; BATCH_OFF_MAX=100000; MERGE=()
while [ $# -gt 0 ]; do
    case $1 in
        --inferences) INFERENCES=$2; shift 2 ;;
        --counts) COUNTS=$2; shift 2 ;;
        --layout) LAYOUT=$2; shift 2 ;;
        --data) DATA=$2; shift 2 ;;
        --model) MODEL=$2; shift 2 ;;
        --reps) REPS=$2; shift 2 ;;
        --launcher) LAUNCHER=$2; shift 2 ;;
        --csv) CSV=$2; shift 2 ;;
        --plot) PLOT=$2; shift 2 ;;
        --batch-off-max) BATCH_OFF_MAX=$2; shift 2 ;;
        --merge) shift; MERGE=("$@"); break ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "scale_replicas.sh: unknown option '$1' (see --help)" >&2; exit 64 ;;
    esac
done
case $LAYOUT in replicas|ranks) ;; *) echo "--layout: expected replicas or ranks, got '$LAYOUT'" >&2; exit 64 ;; esac
PY=/usr/bin/python3
REPORT="$PY benchmarks/scale_replicas_report.py"
STAMP=$(date -u +%Y%m%d-%H%M%S)
mkdir -p benchmarks/results
: "${CSV:=benchmarks/results/scale-replicas-$STAMP.csv}"
: "${PLOT:=${CSV%.csv}.png}"
if [ ${#MERGE[@]} -gt 0 ]; then
    $REPORT --csv "$CSV" --plot "$PLOT" "${MERGE[@]}"
    exit 0
fi

BIN=${BIN:-$PWD/build/release/bin}
KILN=$BIN/kiln
[ -x "$KILN" ] && [ -f "$BIN/libkiln_torch.so" ] || { echo "build first: scripts/build.sh release" >&2; exit 1; }
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/kiln-bench}/scale-$STAMP
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
machine="$(nproc) cores $(uname -m)${gpu:+ $gpu}"
echo "inferences,replicas,layout,ranks,replicas_per_rank,unit_rows,batch_max,batching,cache,seconds,rows_per_s,exec_count,cache_hits,machine,commit,date" > "$CSV"

if [ -z "$MODEL" ]; then
    export KILN_MODELS=$WORK/models
    mkdir -p "$WORK/thermo"
    cp /usr/lib/python3/dist-packages/pymatgen/entries/exp_compounds.json.gz "$WORK/thermo/"
    "$KILN" ingest "$WORK/thermo" --out "$WORK/thermo-data" --no-fsync >/dev/null 2>&1
    "$KILN" train "$WORK/thermo-data" --target formation_enthalpy_per_atom --name elemnet \
        --epochs 1 >/dev/null 2>&1
    MODEL=elemnet
fi

now() { date +%s.%N; }

# run N R BATCHING CACHE DATA: one CSV row, the median of REPS runs.
run() {
    local n=$1 r=$2 batching=$3 cache=$4 data=$5
    local ranks=2 per_rank=$r
    if [ "$LAYOUT" = ranks ]; then ranks=$((r + 1)); per_rank=1; fi
    # 4 units per worker rank; with batching on, each unit is cut into one batch per replica
    # (at most 65 536 rows) so that every replica of a rank has work.
    local workers=$((ranks - 1))
    local unit_rows=$(( (n + 4 * workers - 1) / (4 * workers) ))
    local batch_max=$(( (unit_rows + per_rank - 1) / per_rank ))
    [ "$batch_max" -le 65536 ] || batch_max=65536
    [ "$batching" = on ] || batch_max=1
    local opts=(--model "$MODEL" --replicas "$per_rank" --no-fsync --progress-interval 3600
                --summary "$WORK/s.json" --unit-rows "$unit_rows" --batch-max "$batch_max")
    [ "$cache" = none ] || opts+=(--cache-persist)
    : > "$WORK/runs"
    for _ in $(seq "$REPS"); do
        rm -rf "$data/predictions" "$data/journal"/infer-*
        [ "$cache" = warm ] || rm -rf "$data/cache"
        if [ "$cache" = warm ] && [ ! -d "$data/cache" ]; then   # fill the cache first
            $LAUNCHER -n "$ranks" "$KILN" infer "$data" "${opts[@]}" >"$WORK/log" 2>&1 ||
                { cat "$WORK/log"; exit 1; }
            rm -rf "$data/predictions" "$data/journal"/infer-*
        fi
        local t0 t1
        t0=$(now)
        $LAUNCHER -n "$ranks" "$KILN" infer "$data" "${opts[@]}" >"$WORK/log" 2>&1 ||
            { cat "$WORK/log"; exit 1; }
        t1=$(now)
        $PY - "$WORK/s.json" "$(echo "$t1 - $t0" | bc -l)" >>"$WORK/runs" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); m = s["metrics"]; secs = float(sys.argv[2])
print(f'{secs:.3f},{s["rows"] / secs:.1f},{m["nv_inference_exec_count"]},{m["nv_cache_num_hits_per_model"]}')
PY
    done
    local best
    best=$(sort -t, -k1,1g "$WORK/runs" | sed -n "$(( (REPS + 1) / 2 ))p")
    echo "$n,$r,$LAYOUT,$workers,$per_rank,$unit_rows,$batch_max,$batching,$cache,$best,$machine,$commit,$(date -u +%F)" >> "$CSV"
    echo "  $n inferences, R=$r ($((ranks - 1)) worker ranks x $per_rank), batching $batching, cache $cache: $best" >&2
}

for n in $INFERENCES; do
    if [ -n "$DATA" ]; then
        data=$DATA
    else
        data=$WORK/data-$n
        $PY benchmarks/make_records.py "$WORK/table-$n" "$n" --seed 11 >/dev/null
        "$KILN" ingest "$WORK/table-$n" --out "$data" --no-fsync --no-index >/dev/null 2>&1
    fi
    for r in $COUNTS; do
        run "$n" "$r" on cold "$data"
        run "$n" "$r" on warm "$data"
        if [ "$n" -le "$BATCH_OFF_MAX" ]; then
            run "$n" "$r" off cold "$data"
        fi
    done
done
[ -n "$DATA" ] || rm -rf "$data/cache"
$REPORT --csv "$CSV" --plot "$PLOT" "$CSV"
