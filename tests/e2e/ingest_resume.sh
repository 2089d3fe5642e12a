#!/usr/bin/env bash
# Kills a rank with SIGKILL at points of the commit protocol, reruns the same command, and
# compares the result with an uninterrupted run: same records, same checksums, no duplicates.
source "$(dirname "$0")/lib.sh"
require_pymatgen_files
common=(--shard-bytes 16MiB --progress-interval 1)
expect_exit 0 "$MPIEXEC" -n 3 "$KILN" ingest "$PMG" --out "$SCRATCH/ref" "${common[@]}"
for point in shard.after_rename@1 shard.before_rename@2 shard.before_close@1#3 \
             journal.before_append@0#4 catalog.mid_write@0; do
    D=$SCRATCH/cut-${point//[@#]/_}
    code=0
    KILN_FAULT=$point "$MPIEXEC" -n 3 "$KILN" ingest "$PMG" --out "$D" "${common[@]}" \
        >"$SCRATCH/killed.log" 2>&1 || code=$?
    [ "$code" != 0 ] || { cat "$SCRATCH/killed.log"; fail "$point: the killed job exited 0"; }
    grep -q "KILN_FAULT: killing this process at ${point%%[@#]*}" "$SCRATCH/killed.log" \
        || { cat "$SCRATCH/killed.log"; fail "$point: fault point not reached"; }
    [ ! -f "$D/catalog.h5" ] || fail "$point: a catalog exists after the killed run"
    committed=$(ls "$D"/shards/*.h5 2>/dev/null | wc -l)
    # Inodes of the shards the journal names: a resume must keep those files untouched.
    journaled=$($PY -c "import json,sys
for l in open(sys.argv[1]):
    j = json.loads(l) if l.strip().endswith('}') else {}
    if 'unit' in j: print(j['result']['file'])" "$D/journal/ingest.jsonl" | sort -u)
    before=$(cd "$D" && for f in $journaled; do stat -c '%n %i' "$f"; done)
    expect_exit 0 "$MPIEXEC" -n 3 "$KILN" ingest "$PMG" --out "$D" "${common[@]}"
    [ -z "$journaled" ] || expect_output "resuming"
    ls "$D"/shards/ | grep -q '\.tmp$' && fail "$point: .tmp files left after resume"
    after=$(cd "$D" && for f in $journaled; do stat -c '%n %i' "$f"; done)
    [ "$before" = "$after" ] || fail "$point: a committed shard was rewritten on resume"
    $CHECK same "$SCRATCH/ref" "$D"
    expect_exit 0 "$KILN" verify "$D"
    # Every unit journaled; resumed units were not written twice.
    units=$($PY -c "import json,sys; print(len({json.loads(l)['unit'] for l in open(sys.argv[1]) if '\"unit\"' in l}))" "$D/journal/ingest.jsonl")
    shards=$(ls "$D"/shards/*.h5 | wc -l)
    [ "$units" = "$shards" ] || fail "$point: $units journaled units, $shards shards"
    pass "$point: killed with $committed shards on disk ($(echo $journaled | wc -w) journaled), resumed, identical"
done
