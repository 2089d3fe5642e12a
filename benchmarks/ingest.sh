#!/usr/bin/env bash
# Ingest throughput (MB/s, files/s, peak RSS) for 1, 2 and 4 ranks on the pymatgen-test-files
# tree and on a generated tree of 100 000 small files, side by side with
# `tar -cf - TREE | cat > /dev/null` over the same tree in the same run, warm page cache.
# Usage: benchmarks/ingest.sh [KILN] [REPEATS]   Writes benchmarks/results/ingest-<date>.csv
# INGEST_ARGS adds options to every kiln run: INGEST_ARGS='--no-extract --no-index' measures
# packing alone (size, xxh3, libmagic, shards), without metadata extraction and the index.
set -euo pipefail
cd "$(dirname "$0")/.."
KILN=${1:-$PWD/build/release/bin/kiln}
REPEATS=${2:-3}
read -r -a INGEST_ARGS <<< "${INGEST_ARGS:-}"
[ -x "$KILN" ] || { echo "build first: scripts/build.sh release" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mpi_yield_when_idle=1
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/kiln-bench}
mkdir -p "$WORK" benchmarks/results
PMG=/usr/share/doc/pymatgen-test-files/examples/test_files
SMALL=$WORK/small100k
if [ ! -f "$SMALL/.complete" ]; then
  rm -rf "$SMALL"
  /usr/bin/python3 benchmarks/make_small_tree.py "$SMALL" 100000
  touch "$SMALL/.complete"
fi
CSV=benchmarks/results/ingest-$(date -u +%Y%m%d-%H%M%S).csv
echo "tree,files,bytes,run,ranks,threads,fsync,seconds,files_per_s,mb_per_s,percent_of_tar,peak_rss_mb,kiln_args" > "$CSV"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for TREE in "$PMG" "$SMALL"; do
  name=$(basename "$TREE")
  files=$(find "$TREE" -type f ! -name .complete | wc -l)
  bytes=$(find "$TREE" -type f ! -name .complete -printf '%s\n' | awk '{s+=$1} END {print s}')
  tar -cf - -C "$TREE" . | cat > /dev/null   # warm the page cache
  tar_times=()
  for _ in $(seq "$REPEATS"); do
    t0=$(now); tar -cf - -C "$TREE" . | cat > /dev/null; t1=$(now)
    tar_times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  tar_s=$(printf '%s\n' "${tar_times[@]}" | median)
  printf '%s,%s,%s,tar,1,1,-,%.3f,%.0f,%.1f,100,-,-\n' "$name" "$files" "$bytes" "$tar_s" \
    "$(echo "$files / $tar_s" | bc -l)" "$(echo "$bytes / $tar_s / 1000000" | bc -l)" >> "$CSV"
  # configurations: ranks threads fsync
  for cfg in "1 1 yes" "1 1 no" "1 2 no" "2 1 yes" "2 1 no" "4 1 no"; do
    read -r ranks threads fsync <<< "$cfg"
    extra=("${INGEST_ARGS[@]}")
    [ "$fsync" = no ] && extra+=(--no-fsync)
    times=(); rss=0
    for _ in $(seq "$REPEATS"); do
      out=$WORK/out; rm -rf "$out"
      launch=()
      [ "$ranks" -gt 1 ] && launch=(mpiexec -n "$ranks")
      t0=$(now)
      # Each rank runs under /usr/bin/time, writing its peak RSS to rss.<rank>.
      "${launch[@]}" bash -c 'exec /usr/bin/time -f "RSS %M" -o "$0.${OMPI_COMM_WORLD_RANK:-0}" "$@"' \
        "$WORK/rss" "$KILN" ingest "$TREE" --out "$out" --threads "$threads" --source bench \
        --progress-interval 1000 "${extra[@]}" > "$WORK/log" 2>&1 \
        || { cat "$WORK/log"; exit 1; }
      t1=$(now)
      times+=("$(echo "$t1 - $t0" | bc -l)")
      for f in "$WORK"/rss.*; do
        r=$(awk '/RSS/ {print $2}' "$f"); [ "${r:-0}" -gt "$rss" ] && rss=$r
      done
      rm -f "$WORK"/rss.*
    done
    s=$(printf '%s\n' "${times[@]}" | median)
    printf '%s,%s,%s,kiln,%s,%s,%s,%.3f,%.0f,%.1f,%.0f,%.0f,%s\n' "$name" "$files" "$bytes" \
      "$ranks" "$threads" "$fsync" "$s" "$(echo "$files / $s" | bc -l)" \
      "$(echo "$bytes / $s / 1000000" | bc -l)" "$(echo "100 * $tar_s / $s" | bc -l)" \
      "$(echo "$rss / 1024" | bc -l)" "${INGEST_ARGS[*]:-default}" >> "$CSV"
  done
done
rm -rf "$WORK/out"
echo "wrote $CSV"
column -s, -t < "$CSV"
