#!/usr/bin/env bash
# SIGKILL at random moments, KILL_ITERATIONS times per command (default 10; 20 in all):
# `mpiexec -n 3 kiln ingest` over 1 052 real files and `mpiexec -n 3 kiln infer` over 8 700
# records, killing a worker rank or rank 0 (the task manager), alternately, after a random
# delay. Each time the job must exit non-zero (or have finished first), the rerun must finish,
# and the result must equal an uninterrupted run: shards and records identical
# (dataset_check.py same), predictions record for record (same_predictions.py), no record
# twice, `kiln verify` passing. Deterministic for a given KILL_SEED.
source "$(dirname "$0")/../e2e/lib.sh"
require_pymatgen_files
ITER=${KILL_ITERATIONS:-10}
RANDOM=${KILL_SEED:-20261128}
export KILN_MODELS=$SCRATCH/models

# The inputs: pymatgen-test-files' files under 300 KB, and 4 copies of pymatgen's
# experimental formation enthalpies.
mkdir -p "$SCRATCH/files" "$SCRATCH/thermo"
(cd "$PMG" && find . -type f -size -300k -exec cp --parents -t "$SCRATCH/files/" {} +)
for i in 1 2 3 4; do
    cp /usr/lib/python3/dist-packages/pymatgen/entries/exp_compounds.json.gz "$SCRATCH/thermo/exp-$i.json.gz"
done
"$KILN" ingest "$SCRATCH/thermo" --out "$SCRATCH/thermo-base" --no-fsync --progress-interval 3600 \
    >/dev/null 2>&1 || fail "ingest of the thermo records"
$PY "$KILN_SOURCE_DIR/tests/reference/models_reference.py" make-python-model \
    "$SCRATCH/py.pt" "$SCRATCH/rows.jsonl" "$SCRATCH/expected.json"
"$KILN" model publish "$SCRATCH/py.pt" --name m --featurizer elemnet86 --input-shape=-1,86 \
    --output-shape=-1,1 --title "kill loop" --author "Doe, Jane" >/dev/null

# Two threads per rank: each worker writes two shards at once (--concurrent-units 2), so a
# killed worker leaves two units in flight.
ingest=(ingest "$SCRATCH/files" --shard-files 40 --progress-interval 3600 --threads 2)
infer=(infer --model m --unit-rows 150 --batch-max 8 --cache-persist --progress-interval 3600)

# run_killed VICTIM_RANK DELAY_S CMD...: starts `mpiexec -n 3 CMD`, SIGKILLs that rank's
# process after the delay; prints the job's exit code ("done" when it finished first).
run_killed() {
    local victim=$1 delay=$2; shift 2
    "$MPIEXEC" -n 3 "$@" >"$SCRATCH/killed.log" 2>&1 &
    local launcher=$! pid="" p
    sleep "$delay"
    for p in $(pgrep -P "$launcher"); do
        # environ is NUL-separated: grep -z reads it whole (no pipe that pipefail could trip)
        if grep -qxz "OMPI_COMM_WORLD_RANK=$victim" "/proc/$p/environ" 2>/dev/null; then
            pid=$p
        fi
    done
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || pid=""
    local code=0
    wait "$launcher" || code=$?
    if [ -z "$pid" ]; then echo done; else echo "$code"; fi
}

outcome() { if [ "$1" = done ]; then echo "it had finished"; else echo "exit $1"; fi; }

# The uninterrupted references.
"$MPIEXEC" -n 3 "$KILN" "${ingest[@]}" --out "$SCRATCH/files-ref" >/dev/null 2>&1 || fail "reference ingest"
cp -r "$SCRATCH/thermo-base" "$SCRATCH/thermo-ref"
"$MPIEXEC" -n 3 "$KILN" "${infer[@]}" "$SCRATCH/thermo-ref" >/dev/null 2>&1 || fail "reference infer"

killed=0 finished_first=0
for i in $(seq 1 "$ITER"); do
    victim=$(( i % 3 ))                       # rank 0, 1, 2 in turn
    delay=$(printf '0.%02d' $(( RANDOM % 100 )))
    delay=$(echo "0.4 + $delay * 2.4" | bc)   # 0.4 - 2.8 s into an ~3 s run
    D=$SCRATCH/files-cut
    rm -rf "$D"
    code=$(run_killed "$victim" "$delay" "$KILN" "${ingest[@]}" --out "$D")
    if [ "$code" = 0 ]; then  # the kill landed after the work (in MPI_Finalize): all must be in
        $CHECK same "$SCRATCH/files-ref" "$D" >/dev/null ||
            { cat "$SCRATCH/killed.log"; fail "ingest $i: rank $victim killed, the job exited 0 with shards missing"; }
        code=done
    fi
    if [ "$code" = done ]; then finished_first=$((finished_first + 1)); else
        killed=$((killed + 1))
    fi
    "$MPIEXEC" -n 3 "$KILN" "${ingest[@]}" --out "$D" >"$SCRATCH/resume.log" 2>&1 ||
        { cat "$SCRATCH/resume.log"; fail "ingest $i: the rerun after killing rank $victim at ${delay}s failed"; }
    $CHECK same "$SCRATCH/files-ref" "$D" >/dev/null || fail "ingest $i: differs from an uninterrupted run"
    "$KILN" verify "$D" >/dev/null 2>&1 || fail "ingest $i: kiln verify"
    echo "ok: ingest $i: rank $victim killed at ${delay}s ($(outcome "$code")), resumed, identical"

    D=$SCRATCH/thermo-cut
    rm -rf "$D" && cp -r "$SCRATCH/thermo-base" "$D"
    delay=$(echo "0.2 + 0.$(( RANDOM % 10 )) * 1.0" | bc)   # 0.2 - 1.1 s into a run of about 1.2 s
    code=$(run_killed "$victim" "$delay" "$KILN" "${infer[@]}" "$D")
    if [ "$code" = 0 ]; then  # the kill landed after the work (in MPI_Finalize): all must be in
        $PY "$KILN_SOURCE_DIR/tests/fault/same_predictions.py" "$SCRATCH/thermo-ref/predictions/m@1" \
            "$D/predictions/m@1" >/dev/null ||
            { cat "$SCRATCH/killed.log"; fail "infer $i: rank $victim killed, the job exited 0 with predictions missing"; }
        code=done
    fi
    if [ "$code" = done ]; then finished_first=$((finished_first + 1)); else
        killed=$((killed + 1))
    fi
    "$MPIEXEC" -n 3 "$KILN" "${infer[@]}" "$D" >"$SCRATCH/resume.log" 2>&1 ||
        { cat "$SCRATCH/resume.log"; fail "infer $i: the rerun after killing rank $victim at ${delay}s failed"; }
    $PY "$KILN_SOURCE_DIR/tests/fault/same_predictions.py" "$SCRATCH/thermo-ref/predictions/m@1" \
        "$D/predictions/m@1" >/dev/null || fail "infer $i: predictions differ from an uninterrupted run"
    "$KILN" verify "$D" >/dev/null 2>&1 || fail "infer $i: kiln verify"
    echo "ok: infer $i: rank $victim killed at ${delay}s ($(outcome "$code")), resumed, same predictions"
done
[ "$killed" -ge "$ITER" ] || fail "only $killed of $((2 * ITER)) runs were killed before they finished"
pass "$killed jobs killed at random moments ($finished_first finished first): every resume complete, nothing lost or twice"
