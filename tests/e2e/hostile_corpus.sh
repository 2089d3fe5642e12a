#!/usr/bin/env bash
# The checked-in hostile corpus (tests/data/hostile/, outcomes in its EXPECTED.tsv): NaN
# coordinates, zero and negative cell volumes, unknown elements, CRLF line ends and a UTF-8
# BOM, a truncated gzip, binary garbage, empty files, bad formulas in a table, plus a
# 500 KB single line, a 300 KB JSON string and 100 000 nested JSON arrays written here. One
# `kiln ingest` (2 ranks) must finish with every record as expected (an error on the record,
# never a crash), `kiln extract` must print JSON records and exit 0 or 65 (an error in a
# record) on each file, and `kiln model publish` must
# refuse the 0-byte model with exit 65. (tests/e2e/ingest_bad_input.sh covers what git cannot
# hold: links, loops, special files, non-UTF-8 names, archive bombs, `../` members.)
source "$(dirname "$0")/lib.sh"
H=$SCRATCH/hostile
mkdir -p "$H"
cp "$KILN_SOURCE_DIR/tests/data/hostile/"* "$H/"
rm "$H/EXPECTED.tsv"
$PY - "$H" <<'PY'
import sys
d = sys.argv[1]
open(f"{d}/huge_line.txt", "w").write("x" * 500000)
open(f"{d}/huge_line.json", "w").write('{"k": "' + "a" * 300000 + '"}')
open(f"{d}/deep.json", "w").write("[" * 100000 + "]" * 100000)
PY
expect_exit 0 "$MPIEXEC" -n 2 "$KILN" ingest "$H" --out "$SCRATCH/data" --progress-interval 3600
$PY - "$SCRATCH/data" "$KILN_SOURCE_DIR/tests/data/hostile/EXPECTED.tsv" <<'PY' || fail "records differ from EXPECTED.tsv"
import glob, json, sys, h5py
data, expected = sys.argv[1], sys.argv[2]
got = {}
for path in glob.glob(f"{data}/shards/*.h5"):
    with h5py.File(path) as f:
        r = f["records"]
        for p, fmt, err, meta in zip(r["path"][:], r["format"][:], r["error"][:], r["metadata"][:]):
            m = json.loads(meta)
            got[p.decode().split("/", 1)[1]] = (fmt.decode(), err.decode(), m)
bad = []
want = {}
for line in open(expected):
    if line.startswith("#") or not line.strip():
        continue
    name, fmt, outcome = line.rstrip("\n").split("\t")
    want[name] = True
    if name not in got:
        bad.append(f"{name}: no record")
        continue
    gfmt, err, m = got[name]
    kind, _, arg = outcome.partition(" ")
    if gfmt != fmt:
        bad.append(f"{name}: format {gfmt}, expected {fmt}")
    if kind == "error" and arg not in err:
        bad.append(f"{name}: error {err!r} lacks {arg!r}")
    if kind in ("ok", "warning") and err:
        bad.append(f"{name}: unexpected error {err!r}")
    if kind == "ok" and arg.startswith("composition="):
        comp = m.get("material", {}).get("composition")
        if comp != arg.split("=", 1)[1]:
            bad.append(f"{name}: composition {comp}, expected {arg}")
    if kind == "warning" and not any(arg in w for w in m.get("kiln", {}).get("warnings", [])):
        bad.append(f"{name}: warnings {m.get('kiln', {}).get('warnings')} lack {arg!r}")
for name in got:
    if name not in want:
        bad.append(f"{name}: a record EXPECTED.tsv does not list")
print("\n".join(bad) if bad else f"{len(want)} records as expected")
sys.exit(1 if bad else 0)
PY
pass "ingest of the hostile corpus: every record as EXPECTED.tsv says"
for f in "$H"/*; do   # 0, or 65 when a record has an error; never a crash
    code=0
    "$KILN" extract "$f" > "$SCRATCH/extract.jsonl" 2>"$SCRATCH/extract.err" || code=$?
    case $code in 0|65) ;; *) cat "$SCRATCH/extract.err"; fail "kiln extract $f exited $code" ;; esac
    $PY -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$SCRATCH/extract.jsonl" ||
        fail "kiln extract $f: output is not JSON lines"
done
pass "kiln extract: a JSON record and exit 0 or 65 for every hostile file"
expect_exit 65 "$KILN" model publish "$H/empty.pt" --name empty --featurizer elemnet86 \
    --input-shape=-1,86 --output-shape=-1,1 --title t --author "Doe, Jane" --models "$SCRATCH/models"
expect_output "empty.pt"
[ ! -e "$SCRATCH/models/empty" ] || fail "a 0-byte model was published"
pass "a 0-byte model is refused (65) and nothing is published"
