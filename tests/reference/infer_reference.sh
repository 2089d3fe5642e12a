#!/usr/bin/env bash
# kiln infer against Python's torch: predictions over pymatgen-test-files plus pymatgen's
# experimental formation enthalpies equal Python's (same TorchScript, compositions read from
# kiln's shards with h5py and featurized by pymatgen) within 1e-5, and are identical for
# 1, 2 and 4 ranks and 1 and 2 replicas; a worker killed mid-run resumes to the same
# predictions with no record written twice; a second run with --cache-persist executes the
# model 0 times; a flipped byte in a predictions or cache file is found by kiln verify and
# repaired by a rerun that recomputes that unit only; a model that throws on some batches
# fails those units (exit 65) only.
source "$(dirname "$0")/../e2e/lib.sh"
require_pymatgen_files
REF="$PY $KILN_SOURCE_DIR/tests/reference/infer_reference.py"
MREF="$PY $KILN_SOURCE_DIR/tests/reference/models_reference.py"
export KILN_MODELS=$SCRATCH/models
D=$SCRATCH/data
mkdir -p "$SCRATCH/thermo"
cp /usr/lib/python3/dist-packages/pymatgen/entries/exp_compounds.json.gz "$SCRATCH/thermo/"
"$KILN" ingest "$PMG" "$SCRATCH/thermo" --out "$D" --no-fsync --progress-interval 3600 >/dev/null 2>&1
$MREF make-python-model "$SCRATCH/py.pt" "$SCRATCH/rows.jsonl" "$SCRATCH/expected.json"
"$KILN" model publish "$SCRATCH/py.pt" --name m --featurizer elemnet86 --input-shape=-1,86 \
    --output-shape=-1,1 --title "test model" --author "Doe, Jane" >/dev/null
common=(--model m --unit-rows 400 --batch-max 128 --no-fsync --progress-interval 3600)

run() {  # run RANKS REPLICAS NAME [extra...]: predictions end in $SCRATCH/NAME
    local n=$1 r=$2 name=$3; shift 3
    rm -rf "$D/predictions" "$D/journal"/infer-*
    if [ "$n" = 1 ]; then
        "$KILN" infer "$D" "${common[@]}" --replicas "$r" "$@" > "$SCRATCH/$name.log" 2>&1
    else
        "$MPIEXEC" -n "$n" "$KILN" infer "$D" "${common[@]}" --replicas "$r" "$@" > "$SCRATCH/$name.log" 2>&1
    fi || { cat "$SCRATCH/$name.log"; fail "kiln infer ($n ranks, $r replicas)"; }
    rm -rf "$SCRATCH/$name" && cp -r "$D/predictions/m@1" "$SCRATCH/$name"
}
run 1 1 r1x1
run 2 2 r2x2
run 4 1 r4x1
run 1 2 r1x2 --config "$KILN_SOURCE_DIR/jobs/infer.ini"   # the job file; the command line wins
ls "$D/cache"/*.h5 >/dev/null 2>&1 || fail "jobs/infer.ini (cache-persist = true) was not applied"
rm -rf "$D/cache"
# Units one at a time; several at once whose rows share batches (the dynamic batcher).
run 1 1 r1c1 --concurrent-units 1
run 1 2 r1c4 --concurrent-units 4 --batch-delay-us 5000
run 3 1 r3c3 --concurrent-units 3 --batch-delay-us 2000
$PY -c 'import json,sys; m=json.load(open(sys.argv[1]))["metrics"]; assert m["kiln_warmup_count"] > 0, m' \
    "$D/predictions/m@1/infer-summary.json" || fail "no warm-up batches were counted"
$REF compare "$D" "$SCRATCH/py.pt" "$SCRATCH/r1x1/" "$SCRATCH/r2x2/" "$SCRATCH/r4x1/" "$SCRATCH/r1x2/" \
    "$SCRATCH/r1c1/" "$SCRATCH/r1c4/" "$SCRATCH/r3c3/"
pass "1, 2, 3 and 4 ranks, 1 and 2 replicas, 1 to 4 units at once with a batch delay: Python's torch agrees"

# The predictions are searchable as predicted.m, and the index agrees with the files.
read -r py_pred cut py_below < <($PY -c '
import glob, sys, h5py
v = sorted(x for p in glob.glob(sys.argv[1] + "/shard-*.h5") for x in h5py.File(p)["value"][:])
cut = v[len(v) // 2]
print(len(v), repr(float(cut)), sum(1 for x in v if x < cut))' "$D/predictions/m@1")
n_pred=$("$KILN" search "$D" '_exists_:predicted.m' --format ids --limit 0 | wc -l)
n_below=$("$KILN" search "$D" "predicted.m:[* TO $cut}" --format ids --limit 0 | wc -l)
[ "$n_pred" = "$py_pred" ] && [ "$n_below" = "$py_below" ] \
    || fail "search predicted.m: $n_pred / $n_below records, the files hold $py_pred / $py_below"
"$KILN" search "$D" "predicted.m:[* TO $cut}" --fields predicted.m --format jsonl --limit 3 \
    --sort predicted.m:desc > "$SCRATCH/found.jsonl"
$PY -c 'import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]; assert len(rows) == 3 and all(r["predicted.m"] < float(sys.argv[2]) for r in rows), rows' \
    "$SCRATCH/found.jsonl" "$cut" || fail "--fields predicted.m"
"$KILN" verify "$D" > /dev/null || fail "kiln verify after infer updated the index"
pass "predictions searchable: $n_pred with predicted.m, $n_below below the median, as in the files"

# Resume: kill worker rank 1 right after its second predictions file is renamed into place
# (before rank 0 journals it), rerun, compare.
rm -rf "$D/predictions" "$D/journal"/infer-*
if KILN_FAULT=predictions.after_rename@1#2 "$MPIEXEC" -n 3 "$KILN" infer "$D" "${common[@]}" \
        > "$SCRATCH/killed.log" 2>&1; then
    fail "the job with a killed worker exited 0"
fi
grep -q "KILN_FAULT: killing this process at predictions.after_rename" "$SCRATCH/killed.log" \
    || { cat "$SCRATCH/killed.log"; fail "the fault point was not reached"; }
"$MPIEXEC" -n 3 "$KILN" infer "$D" "${common[@]}" > "$SCRATCH/resume.log" 2>&1 \
    || { cat "$SCRATCH/resume.log"; fail "resume"; }
grep -q "resuming" "$SCRATCH/resume.log" || { cat "$SCRATCH/resume.log"; fail "the rerun did not resume"; }
cp -r "$D/predictions/m@1" "$SCRATCH/resumed"
$REF compare "$D" "$SCRATCH/py.pt" "$SCRATCH/r1x1/" "$SCRATCH/resumed/"
units=$(ls "$SCRATCH/r1x1"/shard-*.h5 | wc -l)
[ "$(ls "$SCRATCH/resumed"/shard-*.h5 | wc -l)" = "$units" ] || fail "resumed run has another number of unit files"
pass "a killed worker: resume gives the same predictions, no record twice"

# A finished job run again does nothing.
"$MPIEXEC" -n 2 "$KILN" infer "$D" "${common[@]}" > "$SCRATCH/again.log" 2>&1
grep -q "\"units_run\": 0" "$D/predictions/m@1/infer-summary.json" || fail "a finished job ran units again"

# Cache: persisted by one run, the next executes the model 0 times, same output.
run 2 1 cold --cache-persist
ls "$D/cache"/*.h5 >/dev/null || fail "no cache file"
run 2 1 warm --cache-persist --summary "$SCRATCH/warm.json"
execs=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics']['nv_inference_exec_count'])" "$SCRATCH/warm.json")
[ "$execs" = 0 ] || fail "warm-cache run executed the model $execs times"
$REF compare "$D" "$SCRATCH/py.pt" "$SCRATCH/r1x1/" "$SCRATCH/warm/"
pass "--cache-persist: second run, 0 model executions, the same predictions"

# Corruption: one byte flipped inside the values of a predictions file and of the cache file.
# kiln verify names both (65); the rerun recomputes only the damaged unit, ignores the
# damaged cache, and the result equals Python's again. (Search answers from the index, which
# holds the values as they were committed.)
flip() {  # flip FILE DATASET: xor one byte inside the first chunk of DATASET
    local off
    off=$($PY -c 'import h5py, sys; d = h5py.File(sys.argv[1])[sys.argv[2]]; print(d.id.get_chunk_info(0).byte_offset + 5)' "$1" "$2")
    $PY -c 'import sys; p, o = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p, "rb").read()); b[o] ^= 0x40; open(p, "wb").write(b)' "$1" "$off"
}
"$KILN" verify "$D" > /dev/null || fail "kiln verify before the corruption"
P=$(ls "$D/predictions/m@1"/shard-*.h5 | head -1)
C=$(ls "$D/cache"/*.h5 | head -1)
flip "$P" value
flip "$C" value
expect_exit 65 "$KILN" verify "$D"
expect_output "$P: damaged"
expect_output "$C: damaged"
expect_exit 0 "$MPIEXEC" -n 2 "$KILN" infer "$D" "${common[@]}" --cache-persist --summary "$SCRATCH/repair.json"
expect_output "recomputing a damaged predictions file"
expect_output "result cache not used"
ran=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['units_run'])" "$SCRATCH/repair.json")
[ "$ran" = 1 ] || fail "the repair ran $ran units, not only the damaged one"
rm -rf "$SCRATCH/repaired" && cp -r "$D/predictions/m@1" "$SCRATCH/repaired"
$REF compare "$D" "$SCRATCH/py.pt" "$SCRATCH/r1x1/" "$SCRATCH/repaired/"
"$KILN" verify "$D" > /dev/null || fail "kiln verify after the repair"
pass "a flipped byte: verify names the predictions and cache files (65); the rerun recomputes 1 unit"

# A model that throws on some batches: those units fail after a retry, the rest commit.
$REF make-failing-model "$SCRATCH/picky.pt"
"$KILN" model publish "$SCRATCH/picky.pt" --name picky --featurizer elemnet86 --input-shape=-1,86 \
    --output-shape=-1,1 --title "fails on H-rich rows" --author "Doe, Jane" >/dev/null 2>&1 \
    || fail "publish picky (its dry batch is zeros, which it accepts)"
expect_exit 65 "$MPIEXEC" -n 3 "$KILN" infer "$D" --model picky --unit-rows 400 --no-fsync
expect_output "hydrogen-rich row refused"
expect_output "units failed"
n_ok=$(ls "$D/predictions/picky@1"/shard-*.h5 2>/dev/null | wc -l)
[ "$n_ok" -gt 0 ] || fail "no unit of the picky model committed"
pass "a model that throws: its units fail (exit 65) and the others ($n_ok files) commit"
echo "infer reference: all checks passed"
