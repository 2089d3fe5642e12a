# A real one-node Slurm cluster on localhost for the `slurm` tests (sourced). Needs root and
# Debian's munge, slurmctld, slurmd and slurm-client. start_cluster DIR starts munged (unless
# one already answers), slurmctld and slurmd with every path under DIR; stop_cluster stops
# exactly the daemons it started, by PID. Tests call skip_unless_cluster_possible first.

slurm_skip() { echo "SKIP: $*"; exit 0; }

skip_unless_cluster_possible() {
    [ "$(id -u)" = 0 ] || slurm_skip "a Slurm cluster needs root"
    for c in munged slurmctld slurmd sbatch srun scontrol sinfo; do
        command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] ||
            slurm_skip "$c missing: run scripts/setup.sh (packages munge slurmctld slurmd slurm-client)"
    done
}

SLURM_STARTED_PIDS=()

start_cluster() {
    local dir=$1
    mkdir -p "$dir"/{state,spool,log,run}
    export SLURM_CONF=$dir/slurm.conf
    local cpus
    cpus=$(nproc)
    cat >"$SLURM_CONF" <<CONF
ClusterName=kilntest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
KillWait=5
SlurmctldPort=$((16817 + RANDOM % 200))
SlurmdPort=$((17017 + RANDOM % 200))
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
NodeName=localhost CPUs=$cpus RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=60 State=UP OverSubscribe=FORCE:4
CONF
    if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        mkdir -p /run/munge && chown munge:munge /run/munge
        [ -s /etc/munge/munge.key ] || { /usr/sbin/mungekey --create --force 2>/dev/null || true; }
        chown munge:munge /etc/munge/munge.key 2>/dev/null || true
        local pidfile=/run/munge/kiln-test-munged.pid   # a directory munge may write
        rm -f "$pidfile"
        runuser -u munge -- /usr/sbin/munged --pid-file="$pidfile" ||
            { echo "FAIL: munged did not start" >&2; return 1; }
        wait_for_file "$pidfile"
        SLURM_STARTED_PIDS+=("$(cat "$pidfile")")
    fi
    /usr/sbin/slurmctld -c -f "$SLURM_CONF" || { cat "$dir/log/slurmctld.log" >&2; return 1; }
    wait_for_file "$dir/run/slurmctld.pid"
    SLURM_STARTED_PIDS+=("$(cat "$dir/run/slurmctld.pid")")
    /usr/sbin/slurmd -f "$SLURM_CONF" || { cat "$dir/log/slurmd.log" >&2; return 1; }
    wait_for_file "$dir/run/slurmd.pid"
    SLURM_STARTED_PIDS+=("$(cat "$dir/run/slurmd.pid")")
    local state=""
    for _ in $(seq 1 60); do
        state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
        [ "$state" = idle ] && return 0
        sleep 1
    done
    echo "FAIL: the Slurm node did not become idle (state '$state')" >&2
    tail -20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2
    return 1
}

wait_for_file() {
    for _ in $(seq 1 100); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    echo "FAIL: $1 did not appear" >&2
    return 1
}

stop_cluster() {
    local pid
    for pid in "${SLURM_STARTED_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${SLURM_STARTED_PIDS[@]}"; do
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    done
    SLURM_STARTED_PIDS=()
}

# job_state ID: Slurm's JobState for job ID (COMPLETED, FAILED, TIMEOUT, ...).
job_state() {
    scontrol show job -o "$1" | tr ' ' '\n' | sed -n 's/^JobState=//p'
}

# prepare_pipeline_job: the inputs of jobs/pipeline.ini for the tests, under $SCRATCH: the
# CIFs of pymatgen-test-files plus pymatgen's experimental formation enthalpies (2 183
# records), and a TorchScript model made by Python's torch, published as `slurmtest`.
prepare_pipeline_job() {
    export KILN_MODELS=$SCRATCH/models KILN_MODEL=slurmtest KILN_DATA=$SCRATCH/data
    export KILN_INPUT=$SCRATCH/in KILN
    mkdir -p "$KILN_INPUT"
    cp "$PMG"/*.cif "$KILN_INPUT/"
    cp /usr/lib/python3/dist-packages/pymatgen/entries/exp_compounds.json.gz "$KILN_INPUT/"
    $PY "$KILN_SOURCE_DIR/tests/reference/models_reference.py" make-python-model \
        "$SCRATCH/py.pt" "$SCRATCH/rows.jsonl" "$SCRATCH/expected.json"
    "$KILN" model publish "$SCRATCH/py.pt" --name slurmtest --featurizer elemnet86 \
        --input-shape=-1,86 --output-shape=-1,1 --title "slurm test" --author "Doe, Jane" >/dev/null
}

# begin_cluster_test: what every Slurm test does first (after sourcing e2e/lib.sh and this
# file): skip where no cluster can run, start one under $SCRATCH/slurm (stopped, and the
# scratch removed unless KEEP_SCRATCH is set, on exit), and prepare the pipeline's inputs.
begin_cluster_test() {
    skip_unless_cluster_possible
    require_pymatgen_files
    trap 'stop_cluster; [ -n "${KEEP_SCRATCH:-}" ] || rm -rf "$SCRATCH"' EXIT
    start_cluster "$SCRATCH/slurm" || fail "the Slurm cluster did not start"
    prepare_pipeline_job
}
