#!/usr/bin/env bash
# SIGTERM (what Slurm sends at a time limit) or SIGUSR1 (its warning before one) stops the
# hand-out of units, lets the units in flight commit, and exits 75; the rerun completes the
# dataset, equal to an uninterrupted one. mpirun forwards SIGUSR1 to every rank and waits;
# SIGTERM to mpirun kills the job after odls_base_sigkill_timeout (1 s by default), so the
# MPI case uses SIGUSR1, as slurm/ scripts do with --signal=B:USR1@N.
source "$(dirname "$0")/lib.sh"
require_pymatgen_files
common=(--shard-bytes 2MiB --source pmg --progress-interval 1)
expect_exit 0 "$KILN" ingest "$PMG" --out "$SCRATCH/ref" "${common[@]}" --no-fsync
# stop_run SIGNAL DIR CMD...: starts CMD, sends SIGNAL once the first shard is committed,
# and leaves its exit code in $code.
stop_run() {
    local sig=$1 D=$2; shift 2
    "$@" > "$SCRATCH/sig.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 500); do
        ls "$D"/shards/*.h5 >/dev/null 2>&1 && break
        sleep 0.02
    done
    kill "-$sig" "$pid"
    code=0
    wait "$pid" || code=$?
    echo "exit code: $code"
    cat "$SCRATCH/sig.log"
    grep -q "stopped by signal $(kill -l "$sig")" "$SCRATCH/sig.log" || fail "no stop message"
    [ ! -f "$D/catalog.h5" ] || fail "catalog written by a stopped run"
    $PY -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['exit_code']==75 and s['stopped_by_signal'], s" \
        "$D/ingest-summary.json" || fail "summary does not record the stop"
}

# One process writing two shards at once: the exit code is kiln's own.
D=$SCRATCH/single
stop_run TERM "$D" "$KILN" ingest "$PMG" --out "$D" "${common[@]}" --threads 2 --concurrent-units 2
[ "$code" = 75 ] || fail "expected exit 75 after SIGTERM, got $code"
expect_exit 0 "$KILN" ingest "$PMG" --out "$D" "${common[@]}"
expect_output "resuming"
$CHECK same "$SCRATCH/ref" "$D"
pass "single process, two shards at once: SIGTERM -> exit 75, resumed, identical"

# Under mpirun every rank gets the signal and exits 75; mpirun itself reports a nonzero code
# of its own, so job scripts read exit_code from DATA/ingest-summary.json.
D=$SCRATCH/mpi
stop_run USR1 "$D" "$MPIEXEC" -n 2 "$KILN" ingest "$PMG" --out "$D" "${common[@]}"
[ "$code" = 75 ] || fail "expected mpirun to exit 75 after SIGUSR1, got $code"
expect_exit 0 "$MPIEXEC" -n 2 "$KILN" ingest "$PMG" --out "$D" "${common[@]}"
expect_output "resuming"
$CHECK same "$SCRATCH/ref" "$D"
pass "2 ranks: SIGUSR1 -> stopped (summary exit_code 75), resumed, identical"
