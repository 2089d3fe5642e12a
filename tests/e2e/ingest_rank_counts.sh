#!/usr/bin/env bash
# The same input gives the same records and per-record checksums with 1, 2 and 4 ranks
# (and without a launcher).
source "$(dirname "$0")/lib.sh"
require_pymatgen_files
common=(--shard-bytes 32MiB --no-fsync --progress-interval 1 --source pmg)
expect_exit 0 "$KILN" ingest "$PMG" --out "$SCRATCH/plain" "${common[@]}" --threads 2
for n in 1 2 4; do
    expect_exit 0 "$MPIEXEC" -n "$n" "$KILN" ingest "$PMG" --out "$SCRATCH/np$n" "${common[@]}"
    expect_output "$n ranks"
    $CHECK same "$SCRATCH/plain" "$SCRATCH/np$n"
done
# Several shards at once per rank (two workers writing three each, with two threads per
# shard), and one at a time.
expect_exit 0 "$MPIEXEC" -n 3 "$KILN" ingest "$PMG" --out "$SCRATCH/units3" "${common[@]}" \
    --threads 6 --concurrent-units 3
grep -qF '"concurrent_units": 3' "$SCRATCH/units3/ingest-summary.json" || fail "not 3 shards at once"
expect_exit 0 "$KILN" ingest "$PMG" --out "$SCRATCH/units1" "${common[@]}" --threads 2 \
    --concurrent-units 1
grep -qF '"concurrent_units": 1' "$SCRATCH/units1/ingest-summary.json" || fail "not 1 shard at once"
# Each shard file is byte-identical whatever the rank count and the shards at once.
for other in np4 units3 units1; do
    $CHECK same "$SCRATCH/plain" "$SCRATCH/$other"
    for f in "$SCRATCH"/plain/shards/*.h5; do
        cmp -s "$f" "$SCRATCH/$other/shards/$(basename "$f")" ||
            fail "$(basename "$f") differs between 1 process and $other"
    done
done
pass "1, 2 and 4 ranks and 1 or 3 shards at once give identical datasets"
