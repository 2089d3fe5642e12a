#!/usr/bin/env bash
# A real one-node Slurm cluster (munged, slurmctld, slurmd started here and stopped by PID):
# slurm/pipeline.sbatch submitted with `sbatch --wait` runs jobs/pipeline.ini (ingest ->
# index -> infer -> search report) on 3 tasks through `srun --mpi=pmix`; the test checks the
# job's own completion marker, its report against kiln search run outside the job, the
# predictions against Python's torch, `kiln verify`, and that a rerun changes no prediction
# byte; `srun --mpi=pmix -n 2 kiln search` answers as one process does; a job file naming a
# missing model fails before any rank starts (exit 66, file and line named, no dataset made).
source "$(dirname "$0")/../e2e/lib.sh"
source "$KILN_SOURCE_DIR/tests/slurm/cluster.sh"
begin_cluster_test
pass "Slurm cluster up: $(sinfo -h -o '%P %D %T %c')"

QUERY='_exists_:predicted.slurmtest AND material.elements:O'
# submit NAME [sbatch options] -- [kiln options]: runs slurm/pipeline.sbatch, prints the job id.
submit() {
    local name=$1; shift
    local sb=() kl=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do sb+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    kl=("$@")
    (cd "$KILN_SOURCE_DIR" && sbatch --wait --parsable --ntasks=3 \
        --overcommit --cpus-per-task=1 --time=10 -o "$SCRATCH/$name.out" -e "$SCRATCH/$name.err" \
        "${sb[@]}" slurm/pipeline.sbatch "${kl[@]}") || true
}
report=(--set "search.query=$QUERY" --set search.limit=0 --set search.format=ids)

job=$(submit pipeline -- "${report[@]}")
[ -n "$job" ] || fail "sbatch printed no job id"
state=$(job_state "$job")
[ "$state" = COMPLETED ] || { cat "$SCRATCH/pipeline.out" "$SCRATCH/pipeline.err" >&2; fail "job $job is $state"; }
M=$KILN_DATA/job-complete.json
[ -f "$M" ] || { cat "$SCRATCH/pipeline.err" >&2; fail "no completion marker $M"; }
$PY - "$M" "$job" <<'PY' || fail "completion marker $M"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["complete"] is True and m["slurm_job_id"] == sys.argv[2], m
assert [s["step"] for s in m["steps"]] == ["ingest", "index", "infer", "search"], m
assert all(s["exit_code"] == 0 for s in m["steps"]), m
PY
grep -q "ingest: .* 3 ranks" "$SCRATCH/pipeline.out" || { cat "$SCRATCH/pipeline.out" >&2; fail "the job did not run 3 ranks"; }
"$KILN" search "$KILN_DATA" "$QUERY" --sort predicted.slurmtest --limit 0 --format ids > "$SCRATCH/outside.ids"
[ -s "$SCRATCH/outside.ids" ] || fail "no oxide has a prediction"
grep -E '^[0-9]+$' "$SCRATCH/pipeline.out" > "$SCRATCH/job.ids" || true  # the rest is the log
cmp -s "$SCRATCH/job.ids" "$SCRATCH/outside.ids" ||
    fail "the job's report ($(wc -l < "$SCRATCH/job.ids") ids) differs from kiln search ($(wc -l < "$SCRATCH/outside.ids"))"
n_pred=$($PY -c '
import glob, sys, h5py
print(sum(len(h5py.File(p)["value"]) for p in glob.glob(sys.argv[1] + "/predictions/slurmtest@1/shard-*.h5")))' "$KILN_DATA")
n_comp=$("$KILN" search "$KILN_DATA" '_exists_:material.composition' --limit 0 --format ids | wc -l)
[ "$n_pred" -gt 2000 ] && [ "$n_pred" -le "$n_comp" ] ||
    fail "$n_pred predictions for $n_comp records with a composition"
$PY "$KILN_SOURCE_DIR/tests/reference/infer_reference.py" compare "$KILN_DATA" "$SCRATCH/py.pt" \
    "$KILN_DATA/predictions/slurmtest@1/" || fail "the job's predictions against Python's torch"
"$KILN" verify "$KILN_DATA" >/dev/null || fail "kiln verify after the Slurm job"
pass "sbatch --wait slurm/pipeline.sbatch: job $job COMPLETED, marker written, report = kiln search ($(wc -l < "$SCRATCH/job.ids") oxides), $n_pred predictions"

sums() { (cd "$KILN_DATA/predictions" && find . -name 'shard-*.h5' -exec sha256sum {} + | sort); }
sums > "$SCRATCH/before.sha"
job2=$(submit rerun -- "${report[@]}")
[ "$(job_state "$job2")" = COMPLETED ] || { cat "$SCRATCH/rerun.err" >&2; fail "rerun job $job2"; }
sums | cmp -s - "$SCRATCH/before.sha" || fail "the rerun changed prediction files"
grep -q "infer: 0 rows .* 0 model executions" "$SCRATCH/rerun.out" || { grep -v "^[0-9]*$" "$SCRATCH/rerun.out" >&2; fail "the rerun redid work"; }
pass "rerun of the finished job: COMPLETED, no prediction byte changed"

srun --mpi=pmix -n 2 --overcommit "$KILN" search "$KILN_DATA" "$QUERY" --sort predicted.slurmtest --limit 0 --format ids \
    > "$SCRATCH/srun.ids" 2>"$SCRATCH/srun.err" || { cat "$SCRATCH/srun.err" >&2; fail "srun --mpi=pmix -n 2 kiln search"; }
cmp -s "$SCRATCH/srun.ids" "$SCRATCH/outside.ids" || fail "srun -n 2 kiln search differs from one process"
pass "srun --mpi=pmix -n 2 kiln search = one process"

# A missing model: the job fails in seconds, before any rank starts, naming file and line.
job3=$(KILN_MODEL=no-such-model KILN_DATA=$SCRATCH/never submit bad)
[ "$(job_state "$job3")" = FAILED ] || fail "job $job3 with a missing model is $(job_state "$job3")"
info=$(scontrol show job -o "$job3")
[[ $info == *ExitCode=66:0* ]] || fail "job $job3: $(grep -o 'ExitCode=[^ ]*' <<< "$info")"
grep -q "jobs/pipeline.ini:[0-9]*: \[infer\] model" "$SCRATCH/bad.err" || { cat "$SCRATCH/bad.err" >&2; fail "the error does not name the job file's line"; }
[ ! -e "$SCRATCH/never" ] || fail "a job that failed its check created the dataset"
pass "missing model: job FAILED with exit 66 before any rank started ($(grep -o 'jobs/pipeline.ini:[0-9]*' "$SCRATCH/bad.err" | head -1))"
