#!/usr/bin/env bash
# kiln infer SIGKILLed (KILN_FAULT) at every point of its commit protocol — a predictions file
# before close, before and after its rename, the journal entry, the result-cache persist, the
# index segment and dictionary written at the end — on a worker or on rank 0: the killed job
# exits non-zero, the rerun finishes, its predictions equal an uninterrupted run's record for
# record (byte for byte where the unit's batches were the same), the index answers for every
# prediction, a third run has nothing to do, no .tmp is left, and `kiln verify` passes.
source "$(dirname "$0")/../e2e/lib.sh"
require_pymatgen_files
export KILN_MODELS=$SCRATCH/models
mkdir -p "$SCRATCH/in"
cp "$PMG"/*.cif "$SCRATCH/in/"
cp /usr/lib/python3/dist-packages/pymatgen/entries/exp_compounds.json.gz "$SCRATCH/in/"
"$KILN" ingest "$SCRATCH/in" --out "$SCRATCH/base" --no-fsync --progress-interval 3600 >/dev/null 2>&1 ||
    fail "ingest"
$PY "$KILN_SOURCE_DIR/tests/reference/models_reference.py" make-python-model \
    "$SCRATCH/py.pt" "$SCRATCH/rows.jsonl" "$SCRATCH/expected.json"
"$KILN" model publish "$SCRATCH/py.pt" --name m --featurizer elemnet86 --input-shape=-1,86 \
    --output-shape=-1,1 --title "fault test" --author "Doe, Jane" >/dev/null
common=(--model m --unit-rows 100 --batch-max 64 --cache-persist --progress-interval 3600)

same_predictions() {  # REF DIR: record for record, see same_predictions.py
    $PY "$KILN_SOURCE_DIR/tests/fault/same_predictions.py" "$1/predictions/m@1" "$2/predictions/m@1"
}
found() { "$KILN" search "$1" '_exists_:predicted.m' --format ids --limit 0 | wc -l; }

cp -r "$SCRATCH/base" "$SCRATCH/ref"
"$MPIEXEC" -n 3 "$KILN" infer "$SCRATCH/ref" "${common[@]}" >"$SCRATCH/ref.log" 2>&1 ||
    { cat "$SCRATCH/ref.log"; fail "the uninterrupted run"; }
ref_found=$(found "$SCRATCH/ref")
[ "$ref_found" -gt 2000 ] || fail "the uninterrupted run predicted $ref_found records"

for point in predictions.before_close@1#2 predictions.before_rename@2#1 \
             predictions.after_rename@1#2 journal.before_append@0#5 \
             result-cache.before_close@0 result-cache.before_rename@0 result-cache.after_rename@0 \
             segment.before_rename@0 segment.after_rename@0 index.before_rename@0 \
             index.after_rename@0; do
    D=$SCRATCH/cut
    rm -rf "$D" && cp -r "$SCRATCH/base" "$D"
    code=0
    KILN_FAULT=$point "$MPIEXEC" -n 3 "$KILN" infer "$D" "${common[@]}" >"$SCRATCH/killed.log" 2>&1 ||
        code=$?
    [ "$code" != 0 ] || { cat "$SCRATCH/killed.log"; fail "$point: the killed job exited 0"; }
    grep -q "KILN_FAULT: killing this process at ${point%%[@#]*}" "$SCRATCH/killed.log" ||
        { cat "$SCRATCH/killed.log"; fail "$point: the fault point was not reached"; }
    "$MPIEXEC" -n 3 "$KILN" infer "$D" "${common[@]}" >"$SCRATCH/resume.log" 2>&1 ||
        { cat "$SCRATCH/resume.log"; fail "$point: the rerun failed"; }
    same_predictions "$SCRATCH/ref" "$D" || fail "$point: predictions differ from an uninterrupted run"
    [ "$(found "$D")" = "$ref_found" ] || fail "$point: search finds $(found "$D") predictions, not $ref_found"
    "$KILN" verify "$D" >"$SCRATCH/verify.log" 2>&1 || { cat "$SCRATCH/verify.log"; fail "$point: kiln verify"; }
    "$MPIEXEC" -n 2 "$KILN" infer "$D" "${common[@]}" --summary "$SCRATCH/again.json" >/dev/null 2>&1 ||
        fail "$point: a third run failed"
    grep -q '"units_run": 0' "$SCRATCH/again.json" || fail "$point: a third run did work again"
    ls "$D"/predictions/m@1/*.tmp "$D"/cache/*.tmp "$D"/index/*.tmp >/dev/null 2>&1 &&
        fail "$point: .tmp leftovers after the rerun"
    pass "$point: killed (exit $code), resumed; $(same_predictions "$SCRATCH/ref" "$D"); $ref_found searchable, verify OK"
done
