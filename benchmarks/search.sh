#!/usr/bin/env bash
# Search latency: median and p99 of 10 query shapes over ROWS generated records (default
# 1 000 000), warm and cold page cache, kiln's index (bench_search, in process) side by side
# with SQLite holding the same records with an index on every field used
# (sqlite_search_bench.py, in process), in the same run. Also: ingest time with and without
# the index (the index build's cost), and `kiln search` latency from process start.
# Usage: benchmarks/search.sh [ROWS] [REPS]   Writes benchmarks/results/search-<rows>-<date>.csv
# QUERIES_ONLY=1 ingests once and skips the index-cost measurements (for 10 000 000 rows);
# REUSE=1 with it keeps a dataset and SQLite database this script made before.
# Every shape is measured twice for kiln: one segment per shard, then after `kiln index
# --merge` (timed) from the merged index.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
REPS=${2:-30}
COLD_REPS=${COLD_REPS:-5}
BIN=${BIN:-$PWD/build/release/bin}
KILN=$BIN/kiln
[ -x "$KILN" ] && [ -x "$BIN/bench_search" ] || { echo "build first: scripts/build.sh release" >&2; exit 1; }
PY=/usr/bin/python3
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/kiln-bench}/search-$ROWS
mkdir -p "$WORK" benchmarks/results
now() { date +%s.%N; }
if [ ! -f "$WORK/table/.complete" ]; then
  rm -rf "$WORK/table"
  $PY benchmarks/make_records.py "$WORK/table" "$ROWS" --seed 3
  touch "$WORK/table/.complete"
fi
ingest() {  # ingest OUT [extra]; prints seconds
  rm -rf "$1"
  local t0 t1; t0=$(now)
  "$KILN" ingest "$WORK/table" --out "$1" --no-fsync --shard-files 2 --keyword-field custom.label \
    --progress-interval 3600 "${@:2}" > "$WORK/ingest.log" 2>&1
  t1=$(now); echo "$t1 - $t0" | bc -l
}
cat "$WORK"/table/*.csv > /dev/null
if [ "${QUERIES_ONLY:-0}" = 1 ] && [ "${REUSE:-0}" = 1 ] && [ -f "$WORK/sqlite.db" ]; then
  t_index=0; t_index2=0; t_noindex=0; t_noindex2=0   # the dataset of an earlier run
elif [ "${QUERIES_ONLY:-0}" = 1 ]; then  # one indexed ingest; no index-cost measurements
  t_index=$(ingest "$WORK/data"); t_index2=$t_index; t_noindex=0; t_noindex2=0
else
t_noindex=$(ingest "$WORK/data-noindex" --no-index)
t_index=$(ingest "$WORK/data")
t_noindex2=$(ingest "$WORK/data-noindex" --no-index)
t_index2=$(ingest "$WORK/data")
fi
# The same on the real files of pymatgen-test-files (3 runs each, alternating, median).
PMG=/usr/share/doc/pymatgen-test-files/examples/test_files
pmg_times() {  # pmg_times EXTRA...: median seconds of 3 ingests
  local t=() t0 t1
  for _ in 1 2 3; do
    rm -rf "$WORK/pmg"; t0=$(now)
    "$KILN" ingest "$PMG" --out "$WORK/pmg" --no-fsync --progress-interval 3600 "$@" > /dev/null 2>&1
    t1=$(now); t+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${t[@]}" | sort -g | sed -n 2p
}
if [ "${QUERIES_ONLY:-0}" = 1 ]; then
  p_noindex=1; p_index=1; t_rebuild=0
else
tar -cf - -C "$PMG" . | cat > /dev/null
p_noindex=$(pmg_times --no-index)
p_index=$(pmg_times)
t0=$(now); "$KILN" index "$WORK/data" --rebuild --no-fsync --keyword-field custom.label > /dev/null 2>&1; t1=$(now)
t_rebuild=$(echo "$t1 - $t0" | bc -l)
fi
if [ "${REUSE:-0}" = 1 ] && [ -f "$WORK/sqlite.db" ]; then
  t_sqlite_load=0
else
t0=$(now); $PY benchmarks/sqlite_search_bench.py load "$WORK/sqlite.db" "$WORK/data"; t1=$(now)
t_sqlite_load=$(echo "$t1 - $t0" | bc -l)
fi
rm -f "$WORK/data/index/merged.h5"   # first: one segment per shard
shards=$(ls "$WORK/data/shards" | wc -l)

"$BIN/bench_search" "$WORK/data" benchmarks/search_shapes.tsv "$REPS" > "$WORK/kiln-warm.csv"
$PY benchmarks/sqlite_search_bench.py run "$WORK/sqlite.db" "$REPS" > "$WORK/sqlite-warm.csv"
"$BIN/bench_search" "$WORK/data" benchmarks/search_shapes.tsv "$COLD_REPS" --cold > "$WORK/kiln-cold.csv"
$PY benchmarks/sqlite_search_bench.py run "$WORK/sqlite.db" "$COLD_REPS" --cold > "$WORK/sqlite-cold.csv"
# From process start to the last line of output, warm cache: median ms of 15 runs.
cli_median() {
  local cli=() t0 t1
  for _ in $(seq 15); do
    t0=$(now); "$KILN" search "$WORK/data" 'material.elements:Fe AND material.elements:O' > /dev/null; t1=$(now)
    cli+=("$(echo "($t1 - $t0) * 1000" | bc -l)")
  done
  printf '%s\n' "${cli[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]}'
}
cli_ms=$(cli_median)
# The same from the merged index.
t0=$(now); "$KILN" index "$WORK/data" --merge --no-fsync > /dev/null 2>&1; t1=$(now)
t_merge=$(echo "$t1 - $t0" | bc -l)
"$BIN/bench_search" "$WORK/data" benchmarks/search_shapes.tsv "$REPS" > "$WORK/merged-warm.csv"
"$BIN/bench_search" "$WORK/data" benchmarks/search_shapes.tsv "$COLD_REPS" --cold > "$WORK/merged-cold.csv"
cli_merged_ms=$(cli_median)

CSV=benchmarks/results/search-$ROWS-$(date -u +%Y%m%d-%H%M%S).csv
$PY - "$WORK" "$CSV" "$ROWS" <<'PY'
import csv, sys
work, out, rows = sys.argv[1], sys.argv[2], sys.argv[3]
def load(name):
    return {r["shape"]: r for r in csv.DictReader(open(f"{work}/{name}.csv"))}
kw, sw, kc, sc = load("kiln-warm"), load("sqlite-warm"), load("kiln-cold"), load("sqlite-cold")
mw, mc = load("merged-warm"), load("merged-cold")
def x(base, t):
    return float(base) / max(float(t), 1e-3)
with open(out, "w") as f:
    w = csv.writer(f)
    w.writerow(["rows", "shape", "matches", "kiln_warm_median_ms", "kiln_warm_p99_ms",
                "sqlite_warm_median_ms", "sqlite_warm_p99_ms", "warm_speedup",
                "kiln_cold_median_ms", "sqlite_cold_median_ms", "cold_speedup", "same_matches",
                "merged_warm_median_ms", "merged_warm_p99_ms", "merged_warm_speedup",
                "merged_cold_median_ms", "merged_cold_speedup"])
    print("%-17s %9s %9s %9s %9s %7s %9s %9s %7s | %9s %9s %7s %9s %7s" % (
        "shape", "matches", "kiln ms", "kiln p99", "sqlite ms", "x", "kiln cold",
        "sql cold", "x cold", "merged ms", "p99", "x", "cold ms", "x cold"))
    for shape in kw:
        k, s, a, b, m, n = kw[shape], sw[shape], kc[shape], sc[shape], mw[shape], mc[shape]
        same = k["matches"] == s["matches"] == m["matches"]
        ws, cs = x(s["median_ms"], k["median_ms"]), x(b["median_ms"], a["median_ms"])
        mws, mcs = x(s["median_ms"], m["median_ms"]), x(b["median_ms"], n["median_ms"])
        w.writerow([rows, shape, k["matches"], k["median_ms"], k["p99_ms"], s["median_ms"],
                    s["p99_ms"], "%.1f" % ws, a["median_ms"], b["median_ms"], "%.1f" % cs,
                    "yes" if same else "NO", m["median_ms"], m["p99_ms"], "%.1f" % mws,
                    n["median_ms"], "%.1f" % mcs])
        print("%-17s %9s %9s %9s %9s %7.1f %9s %9s %7.1f | %9s %9s %7.1f %9s %7.1f%s" % (
            shape, k["matches"], k["median_ms"], k["p99_ms"], s["median_ms"], ws,
            a["median_ms"], b["median_ms"], cs, m["median_ms"], m["p99_ms"], mws,
            n["median_ms"], mcs, "" if same else "  MATCH COUNTS DIFFER"))
PY
if [ "${QUERIES_ONLY:-0}" = 1 ]; then
printf 'rows %s in %s shards; ingest with the index %.1f s; SQLite load %.1f s\n' \
  "$ROWS" "$shards" "$t_index" "$t_sqlite_load" | tee -a "$CSV.txt"
else
overhead=$(echo "(($t_index + $t_index2) / ($t_noindex + $t_noindex2) - 1) * 100" | bc -l)
printf 'rows %s in %s shards; ingest %.1f s without index, %.1f s with (+%.0f%%); kiln index --rebuild %.1f s; SQLite load %.1f s\n' \
  "$ROWS" "$shards" "$(echo "($t_noindex + $t_noindex2) / 2" | bc -l)" "$(echo "($t_index + $t_index2) / 2" | bc -l)" \
  "$overhead" "$t_rebuild" "$t_sqlite_load" | tee -a "$CSV.txt"
printf 'pymatgen-test-files: ingest %.2f s without index, %.2f s with (+%.0f%%)\n' "$p_noindex" "$p_index" \
  "$(echo "($p_index / $p_noindex - 1) * 100" | bc -l)" | tee -a "$CSV.txt"
fi
echo "kiln search from process start (material.elements:Fe AND material.elements:O, 20 hits): median ${cli_ms} ms; from the merged index ${cli_merged_ms} ms" | tee -a "$CSV.txt"
printf 'kiln index --merge: %.1f s; merged index %s\n' "$t_merge" "$(du -h "$WORK/data/index/merged.h5" | cut -f1)" | tee -a "$CSV.txt"
echo "results: $CSV"
