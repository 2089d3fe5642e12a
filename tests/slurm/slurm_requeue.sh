#!/usr/bin/env bash
# The checkpoint/requeue path end to end on a real one-node Slurm cluster (label
# slurm-requeue, not in the default run: Slurm holds a requeued job about two minutes).
# slurm/pipeline-requeue.sbatch runs jobs/pipeline.ini with a deliberately slow infer step;
# while infer runs, the test sends the batch shell SIGUSR1 exactly as `--signal=B:USR1@N`
# does before a time limit. kiln must commit and exit 75, the script requeue the job, and
# the requeued run (SLURM_RESTART_COUNT=1) resume and finish: marker written with restart
# count 1, every record predicted once, equal to Python's torch.
#   ctest --preset ci -L slurm-requeue      (about 3-4 minutes)
source "$(dirname "$0")/../e2e/lib.sh"
source "$KILN_SOURCE_DIR/tests/slurm/cluster.sh"
begin_cluster_test
# A slower job: 10x the records and a wider network (slurmtest@2), one row per execution.
for i in $(seq 1 9); do
    cp /usr/lib/python3/dist-packages/pymatgen/entries/exp_compounds.json.gz "$KILN_INPUT/exp-$i.json.gz"
done
$PY - "$SCRATCH/wide.pt" <<'PY'
import sys, torch
torch.manual_seed(3)
net = torch.nn.Sequential(torch.nn.Linear(86, 2048), torch.nn.ReLU(), torch.nn.Linear(2048, 2048),
                          torch.nn.ReLU(), torch.nn.Linear(2048, 1))
torch.jit.script(net.eval()).save(sys.argv[1])
PY
"$KILN" model publish "$SCRATCH/wide.pt" --name slurmtest --featurizer elemnet86 \
    --input-shape=-1,86 --output-shape=-1,1 --title "slow slurm test" --author "Doe, Jane" >/dev/null

slow=(--set infer.batch-max=1 --set infer.no-cache=true --set infer.unit-rows=20
      --set infer.cache-persist=false)
job=$(cd "$KILN_SOURCE_DIR" && sbatch --parsable --ntasks=3 --overcommit --cpus-per-task=1 \
      --time=15 -o "$SCRATCH/job.out" -e "$SCRATCH/job.err" slurm/pipeline-requeue.sbatch "${slow[@]}")
[ -n "$job" ] || fail "sbatch printed no job id"
for _ in $(seq 1 600); do
    grep -q "step 3/4: kiln infer" "$SCRATCH/job.out" 2>/dev/null && break
    sleep 0.2
done
grep -q "step 3/4: kiln infer" "$SCRATCH/job.out" || { cat "$SCRATCH/job.out" "$SCRATCH/job.err" >&2; fail "infer never started"; }
sleep 2
scancel --batch --signal=USR1 "$job"
for _ in $(seq 1 120); do   # the stop, then Slurm's requeue hold, then the second run
    case $(job_state "$job") in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL) break ;; esac
    sleep 3
done
state=$(job_state "$job")
[ "$state" = COMPLETED ] || { cat "$SCRATCH/job.out" "$SCRATCH/job.err" >&2; fail "job $job is $state"; }
for text in "SIGUSR1: asking kiln to commit and stop" "stopped by signal" "requeueing" \
            "run 2 on" "resuming"; do
    grep -q -- "$text" "$SCRATCH/job.out" "$SCRATCH/job.err" ||
        { cat "$SCRATCH/job.out" "$SCRATCH/job.err" >&2; fail "the job log lacks '$text'"; }
done
$PY - "$KILN_DATA/job-complete.json" "$job" <<'PY' || fail "completion marker"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["complete"] and m["slurm_job_id"] == sys.argv[2] and m["slurm_restart_count"] == 1, m
PY
$PY "$KILN_SOURCE_DIR/tests/reference/infer_reference.py" compare "$KILN_DATA" "$SCRATCH/wide.pt" \
    "$KILN_DATA/predictions/slurmtest@2/" || fail "predictions after the requeue"
"$KILN" verify "$KILN_DATA" >/dev/null || fail "kiln verify after the requeue"
pass "SIGUSR1 during infer: exit 75, requeued, resumed (restart 1), every record predicted once = Python"
