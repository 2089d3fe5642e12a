#!/usr/bin/env bash
# A full file system: the dataset on a small tmpfs (mounted here; skipped where mounting is
# not allowed). `kiln ingest` and `kiln infer` (1 process and 3 ranks) exit 74 naming the file
# and "No space left on device", hand out no more units, leave no committed file that refers
# to partial data, and once there is space the same command resumes to a result equal to an
# uninterrupted run.
source "$(dirname "$0")/../e2e/lib.sh"
require_pymatgen_files
[ "$(id -u)" = 0 ] || { echo "SKIP: mounting a tmpfs needs root"; exit 0; }
SMALL=$SCRATCH/small
mkdir -p "$SMALL"
mount -t tmpfs -o size=6m tmpfs "$SMALL" 2>/dev/null || { echo "SKIP: cannot mount a tmpfs here"; exit 0; }
trap 'umount "$SMALL" 2>/dev/null; rm -rf "$SCRATCH"' EXIT
export KILN_MODELS=$SCRATCH/models

mkdir -p "$SCRATCH/files" "$SCRATCH/thermo"
(cd "$PMG" && find . -type f -size -300k -exec cp --parents -t "$SCRATCH/files/" {} +)   # ~40 MB
cp /usr/lib/python3/dist-packages/pymatgen/entries/exp_compounds.json.gz "$SCRATCH/thermo/"
ingest=(ingest "$SCRATCH/files" --shard-files 40 --progress-interval 3600)
"$KILN" "${ingest[@]}" --out "$SCRATCH/ref" >/dev/null 2>&1 || fail "reference ingest"

# committed_intact DATA: every shard the journal names exists and reads back whole.
committed_intact() {
    $PY - "$1" <<'PY'
import json, os, sys, h5py
d = sys.argv[1]
n = 0
for line in open(f"{d}/journal/ingest.jsonl"):
    j = json.loads(line) if line.strip().endswith("}") else {}
    if "unit" not in j:
        continue
    path = f"{d}/{j['result']['file']}"
    with h5py.File(path) as f:
        f["records/metadata"][:]
        f["blob"][:]
    n += 1
print(n)
PY
}

for launch in single mpi; do
    D=$SMALL/data-$launch
    run=("$KILN" "${ingest[@]}" --out "$D")
    [ "$launch" = mpi ] && run=("$MPIEXEC" -n 3 "${run[@]}")
    expect_exit 74 "${run[@]}"
    expect_output "No space left on device"
    expect_output "shards/shard-"
    expect_output "rerun the same command"
    [ ! -f "$D/catalog.h5" ] || fail "$launch: a catalog was written by a job that ran out of space"
    n=$(committed_intact "$D") || fail "$launch: a committed shard is damaged"
    mount -o remount,size=200m "$SMALL"
    expect_exit 0 "${run[@]}"
    $CHECK same "$SCRATCH/ref" "$D" >/dev/null || fail "$launch: the resumed dataset differs"
    expect_exit 0 "$KILN" verify "$D"
    pass "ingest ($launch): disk full -> exit 74, $n committed shards intact; resumed with space, identical"
    rm -rf "$D"
    mount -o remount,size=6m "$SMALL"
done

# infer: the dataset fits, its predictions do not.
"$KILN" ingest "$SCRATCH/thermo" --out "$SCRATCH/thermo-base" --no-fsync >/dev/null 2>&1 || fail "ingest thermo"
$PY "$KILN_SOURCE_DIR/tests/reference/models_reference.py" make-python-model \
    "$SCRATCH/py.pt" "$SCRATCH/rows.jsonl" "$SCRATCH/expected.json"
"$KILN" model publish "$SCRATCH/py.pt" --name m --featurizer elemnet86 --input-shape=-1,86 \
    --output-shape=-1,1 --title "full disk" --author "Doe, Jane" >/dev/null
infer=(infer --model m --unit-rows 100 --cache-persist --progress-interval 3600)
cp -r "$SCRATCH/thermo-base" "$SCRATCH/thermo-ref"
"$KILN" "${infer[@]}" "$SCRATCH/thermo-ref" >/dev/null 2>&1 || fail "reference infer"
D=$SMALL/thermo
cp -r "$SCRATCH/thermo-base" "$D"
free=$(df --output=avail -B1 "$SMALL" | tail -1)
head -c $((free - 48 * 1024)) /dev/zero > "$SMALL/filler" 2>/dev/null || true   # ~48 KB left
expect_exit 74 "$MPIEXEC" -n 3 "$KILN" "${infer[@]}" "$D"
expect_output "No space left on device"
for f in "$D"/predictions/m@1/shard-*.h5; do
    [ -e "$f" ] || continue
    $PY -c 'import h5py, sys; f = h5py.File(sys.argv[1]); f["record_id"][:]; f["value"][:]' "$f" ||
        fail "infer: committed predictions file $f is damaged"
done
rm -f "$SMALL/filler"
expect_exit 0 "$MPIEXEC" -n 3 "$KILN" "${infer[@]}" "$D"
expect_output "resuming"
$PY "$KILN_SOURCE_DIR/tests/fault/same_predictions.py" "$SCRATCH/thermo-ref/predictions/m@1" \
    "$D/predictions/m@1" >/dev/null || fail "infer: the resumed predictions differ"
expect_exit 0 "$KILN" verify "$D"
pass "infer (3 ranks): disk full -> exit 74, committed predictions intact; resumed with space, same predictions"
