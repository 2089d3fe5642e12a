#!/usr/bin/env bash
# Files and directories kiln creates honour the umask: under umask 077 and 022, every file of
# a dataset (shards, index, catalog, journal, summary), a published model, predictions, the
# persisted cache and a job marker has mode 0666 & ~umask, every directory 0777 & ~umask
# (model.pt too, whatever the mode of the file it was copied from).
source "$(dirname "$0")/lib.sh"
require_pymatgen_files
mkdir -p "$SCRATCH/in"
cp "$PMG"/*.cif "$SCRATCH/in/"
cp /usr/lib/python3/dist-packages/pymatgen/entries/exp_compounds.json.gz "$SCRATCH/in/"
$PY "$KILN_SOURCE_DIR/tests/reference/models_reference.py" make-python-model \
    "$SCRATCH/py.pt" "$SCRATCH/rows.jsonl" "$SCRATCH/expected.json"
chmod 0644 "$SCRATCH/py.pt"
for mask in 077 022; do
    W=$SCRATCH/w$mask
    (
        umask "$mask"
        export KILN_MODELS=$W/models
        "$KILN" ingest "$SCRATCH/in" --out "$W/data" --progress-interval 3600 >/dev/null 2>&1 || exit 1
        "$KILN" model publish "$SCRATCH/py.pt" --name m --featurizer elemnet86 --input-shape=-1,86 \
            --output-shape=-1,1 --title t --author "Doe, Jane" >/dev/null 2>&1 || exit 2
        "$KILN" infer "$W/data" --model m --cache-persist --progress-interval 3600 >/dev/null 2>&1 || exit 3
        printf '[job]\nsteps = search\nmarker = %s/marker.json\n[search]\ndata = %s\nquery = material.elements:O\n' \
            "$W/data" "$W/data" > "$SCRATCH/job$mask.ini"
        "$KILN" --config "$SCRATCH/job$mask.ini" >/dev/null 2>&1 || exit 4
    ) || fail "umask $mask: a kiln command failed (step $?)"
    want_file=$(printf '%o' $(( 0666 & ~8#$mask )))
    want_dir=$(printf '%o' $(( 0777 & ~8#$mask )))
    bad=$(find "$W" \( -type f ! -perm "$want_file" \) -o \( -type d ! -perm "$want_dir" \) -printf '%m %p\n')
    [ -z "$bad" ] || fail "umask $mask: expected files $want_file and directories $want_dir, got:
$bad"
    n=$(find "$W" | wc -l)
    pass "umask $mask: all $n files and directories kiln created are $want_file / $want_dir"
done
