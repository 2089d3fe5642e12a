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
# Each shard file is byte-identical whatever the rank count.
for f in "$SCRATCH"/plain/shards/*.h5; do
    cmp -s "$f" "$SCRATCH/np4/shards/$(basename "$f")" || fail "$(basename "$f") differs between 1 process and 4 ranks"
done
pass "1, 2 and 4 ranks give identical datasets"
