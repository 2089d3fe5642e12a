#!/usr/bin/env bash
# Models against references nobody here wrote: a TorchScript model saved by Debian's
# python3-torch publishes and runs in kiln with Python's outputs; a kiln-trained model loads in
# Python's torch.jit.load and predicts kiln's values within 1e-5 on formulas featurized by
# pymatgen; training is deterministic for a seed on one thread; the featurizers agree with
# pymatgen and a numpy reading of the same property table; servable.json validation agrees
# with Python's jsonschema; and every bad input named by the issue is refused cleanly.
source "$(dirname "$0")/../e2e/lib.sh"
REF="$PY $KILN_SOURCE_DIR/tests/reference/models_reference.py"
EXP=/usr/lib/python3/dist-packages/pymatgen/entries/exp_compounds.json.gz
[ -f "$EXP" ] || fail "$EXP missing: run scripts/setup.sh (package python3-pymatgen)"
$PY -c "import torch, jsonschema" || fail "python3-torch and python3-jsonschema are needed (scripts/setup.sh)"
M=$SCRATCH/models
export KILN_MODELS=$M

# A dataset of pymatgen's experimental formation enthalpies.
mkdir -p "$SCRATCH/src" && cp "$EXP" "$SCRATCH/src/"
"$KILN" ingest "$SCRATCH/src" --out "$SCRATCH/data" >/dev/null 2>&1
n=$("$KILN" search "$SCRATCH/data" '_exists_:formation_enthalpy_per_atom' --format ids --limit 0 | wc -l)
[ "$n" = 2135 ] || fail "expected 2135 records with formation_enthalpy_per_atom, have $n"
pass "exp_compounds.json.gz: 2135 records with formation_enthalpy_per_atom"

# 1. A model saved by Python's torch: publish, run, same outputs.
$REF make-python-model "$SCRATCH/py.pt" "$SCRATCH/rows.jsonl" "$SCRATCH/expected.json"
"$KILN" model publish "$SCRATCH/py.pt" --name pymodel --featurizer elemnet86 \
    --input-shape=-1,86 --output-shape=-1,1 --title "Python-saved test model" \
    --author "Doe, Jane" --doi 10.1038/s41598-018-35934-y --domain materials >/dev/null
"$KILN" run pymodel --input "$SCRATCH/rows.jsonl" --format jsonl > "$SCRATCH/out.jsonl"
$REF compare-rows "$SCRATCH/expected.json" "$SCRATCH/out.jsonl"

# 2. Train a small network; Python loads it and predicts the same values.
train() {
    "$KILN" train "$SCRATCH/data" --target formation_enthalpy_per_atom --featurizer elemnet86 \
        --name "$1" --layers 32x2,16 --epochs 6 --patience 3 --threads 1 --seed 11 \
        --author "Doe, Jane" >"$SCRATCH/train-$1.log" 2>&1 || { cat "$SCRATCH/train-$1.log"; fail "kiln train $1"; }
}
train tiny
grep -q "test MAE" "$SCRATCH/train-tiny.log" || fail "kiln train printed no test MAE"
zcat "$EXP" | $PY -c 'import json,sys; [print(e["formula"]) for e in json.load(sys.stdin)[::107]]' > "$SCRATCH/formulas.txt"
args=(); while read -r f; do args+=(--formula "$f"); done < "$SCRATCH/formulas.txt"
"$KILN" run tiny "${args[@]}" --format jsonl > "$SCRATCH/tiny.jsonl"
$REF check-trained "$M/tiny/1/model.pt" "$SCRATCH/tiny.jsonl" "$M/tiny/1/servable.json" \
    "$KILN_SOURCE_DIR/schemas/servable.schema.json"

# 3. Deterministic for a fixed seed on one thread: the same weights, byte for byte.
train tiny_again
a=$(sha256sum < "$M/tiny/1/model.pt"); b=$(sha256sum < "$M/tiny_again/1/model.pt")
[ "$a" = "$b" ] || fail "two trainings with seed 11 on one thread gave different model.pt"
pass "training is deterministic (same model.pt sha256 for the same seed)"

# 4. Featurizers against pymatgen and numpy on the same formulas.
$REF featurizers "$KILN" "$KILN_SOURCE_DIR/data/magpie_elements.csv" "$SCRATCH/formulas.txt"

# 5. servable.json validation against Python's jsonschema.
$REF schema "$KILN" "$M" pymodel "$KILN_SOURCE_DIR/schemas/servable.schema.json"

# 6. Search over the metadata.
"$KILN" model search 'domains:materials AND datacite.creators:Doe*' > "$SCRATCH/found"
grep -q '^pymodel@1' "$SCRATCH/found" && grep -q '^tiny@1' "$SCRATCH/found" || { cat "$SCRATCH/found"; fail "model search"; }
[ "$("$KILN" model search 'relatedIdentifiers:"10.1038/s41598-018-35934-y"' | wc -l)" = 1 ] || fail "model search by DOI"
pass "model search"

# 7. Bad input: a clear error, the right exit code, nothing published half-way.
count_versions() { find "$M" -mindepth 2 -maxdepth 2 | wc -l; }
before=$(count_versions)
echo "not a model" > "$SCRATCH/bad.pt"
expect_exit 65 "$KILN" model publish "$SCRATCH/bad.pt" --name bad --featurizer elemnet86 \
    --input-shape=-1,86 --output-shape=-1,1 --title t --author "A, B"
expect_output "does not load as TorchScript"
expect_exit 65 "$KILN" model publish "$SCRATCH/py-two.pt" --name two --featurizer elemnet86 \
    --input-shape=-1,86 --output-shape=-1,1 --title t --author "A, B"
expect_output "declared output is [null, 1]"
expect_exit 78 "$KILN" model publish "$SCRATCH/py.pt" --name wrongwidth --featurizer magpie \
    --input-shape=-1,86 --output-shape=-1,1 --title t --author "A, B"
expect_output "magpie gives rows of 132"
expect_exit 64 "$KILN" model publish "$SCRATCH/py.pt" --name pymodel --version 1 --featurizer elemnet86 \
    --input-shape=-1,86 --output-shape=-1,1 --title t --author "A, B"
expect_output "already exists"
[ "$(count_versions)" = "$before" ] || fail "a refused publish left a model version behind"
ls -A "$M" | grep -q '^\.' && fail "a staging directory was left in the registry"
pass "refused publishes leave nothing behind"
expect_exit 65 "$KILN" run pymodel --formula Fe2Xx3
expect_output "unknown element 'Xx'"
expect_exit 65 "$KILN" run pymodel --formula HeO
expect_output "element He is not one of its 86"
echo '{"input": [1, 2, 3]}' > "$SCRATCH/short.jsonl"
expect_exit 65 "$KILN" run pymodel --input "$SCRATCH/short.jsonl"
expect_output "input has 3 values, the model takes 86"
$PY -c 'print("{\"input\": [" + ", ".join(["0"] * 85 + ["1e999"]) + "]}")' > "$SCRATCH/inf.jsonl"
expect_exit 65 "$KILN" run pymodel --input "$SCRATCH/inf.jsonl"
expect_output "inf.jsonl:1: not JSON"
$PY -c 'print("{\"input\": [" + ", ".join(["0"] * 85 + ["NaN"]) + "]}")' > "$SCRATCH/nan.jsonl"
expect_exit 65 "$KILN" run pymodel --input "$SCRATCH/nan.jsonl"
expect_output "input value 85 is null, expected a finite number"
expect_exit 66 "$KILN" run nosuchmodel --formula Fe2O3
expect_exit 66 "$KILN" run pymodel@7 --formula Fe2O3
cp "$M/tiny/1/model.pt" "$SCRATCH/tiny.pt"
printf 'x' >> "$M/tiny/1/model.pt"
expect_exit 65 "$KILN" run tiny --formula Fe2O3
expect_output "tampered or corrupted"
cp "$SCRATCH/tiny.pt" "$M/tiny/1/model.pt"
echo '{"broken' > "$M/tiny_again/1/servable.json"
expect_exit 65 "$KILN" model describe tiny_again
expect_output "not valid JSON"
rm "$M/tiny_again/1/servable.json"
expect_exit 66 "$KILN" run tiny_again --formula Fe2O3
expect_exit 64 "$KILN" model remove tiny
"$KILN" model remove tiny@1 >/dev/null
expect_exit 66 "$KILN" model describe tiny
pass "bad inputs refused with the right exit codes and messages"
echo "models reference: all checks passed"
