#!/usr/bin/env bash
# kiln search / get / fields / index on the real pymatgen-test-files dataset: Forge's helper
# flags equal their queries, paging and sorting, output formats, every bad-input error, a
# missing or stale index, rebuilding the index, files written by `kiln get` equal to the
# originals (and never outside --to), the same answers under mpirun with 2 ranks and from the
# merged index.
source "$(dirname "$0")/lib.sh"
require_pymatgen_files
D=$SCRATCH/data
expect_exit 0 "$KILN" ingest "$PMG" --out "$D" --no-fsync --shard-bytes 64MiB --progress-interval 600
search() { "$KILN" search "$D" "$@"; }
ids() { search "$@" --format ids --limit 0; }

# Helper flags are the queries they stand for.
same_ids() {  # same_ids "QUERY" FLAGS...
    local q=$1; shift
    diff <(ids --query="$q") <(ids "$@") >/dev/null || fail "flags $* differ from query $q"
    [ -n "$(ids --query="$q")" ] || fail "query $q matches nothing; the comparison proves nothing"
}
same_ids 'material.elements:Fe AND material.elements:O' --elements Fe,O
same_ids 'material.elements:Fe OR material.elements:O' --elements Fe,O --any
same_ids 'mdf.source_name:data' --source data
same_ids 'crystal_structure.space_group_number:[200 TO 230]' --range crystal_structure.space_group_number:200:230
same_ids 'crystal_structure.volume:[100 TO *]' --range crystal_structure.volume:100:
same_ids '_exists_:dft.energy' --exists dft.energy
same_ids 'material.elements:Li AND NOT kiln.format:json' --elements Li --exclude kiln.format:json
same_ids 'elements:Li' --elements Li   # a unique last name is an alias
pass "helper flags equal their queries"

# Paging: the pages together are the full list, in record-id order; no 10 000 cap.
all=$(ids 'material.elements:O')
n=$(echo "$all" | wc -l)
[ "$n" -gt 200 ] || fail "expected many oxygen records, got $n"
pages=$(for off in $(seq 0 50 "$n"); do search 'material.elements:O' --format ids --limit 50 --offset "$off"; done)
[ "$pages" = "$all" ] || fail "pages of 50 do not add up to the full result"
[ "$(echo "$all" | sort -n)" = "$all" ] || fail "hits are not in record-id order"
[ "$(search 'material.elements:O' --format ids | wc -l)" = 20 ] || fail "default limit is not 20"
pass "paging: $n hits in pages of 50 equal --limit 0"

# Sorting: values non-increasing, records without the field last.
search --sort crystal_structure.volume:desc --limit 0 --format jsonl --fields crystal_structure.volume \
    > "$SCRATCH/sorted.jsonl"
$PY - "$SCRATCH/sorted.jsonl" <<'PY' || fail "--sort crystal_structure.volume:desc is not in order"
import json, sys
vals = [json.loads(l)["crystal_structure.volume"] for l in open(sys.argv[1])]
have = [v for v in vals if v is not None]
first_missing = next((i for i, v in enumerate(vals) if v is None), len(vals))
assert len(have) > 100 and first_missing == len(have), (len(have), first_missing)
assert all(a >= b for a, b in zip(have, have[1:]))
PY
pass "sort descending with missing values last"

# Sorting by a text field of one value per record (formulas: kept as row lists), both ways.
for order in "" ":desc"; do
  search "material.elements:O" --sort "material.composition$order" --limit 0 --format jsonl \
      --fields material.composition > "$SCRATCH/by_text.jsonl"
  $PY - "$SCRATCH/by_text.jsonl" "$order" <<'PY' || fail "--sort material.composition$order is not in order"
import json, sys
vals = [json.loads(l)["material.composition"] for l in open(sys.argv[1])]
have = [v for v in vals if v is not None]
assert len(have) > 100 and vals[:len(have)] == have, len(have)
assert have == sorted(have, reverse=sys.argv[2] == ":desc")
PY
done
pass "sort by a text field, both ways"

# Formats.
search 'kiln.format:cif' --format json --limit 3 > "$SCRATCH/out.json"
$PY -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['total']>3 and len(d['results'])==3 and d['results'][0]['kiln']['format']=='cif', d['total']" "$SCRATCH/out.json" ||
    fail "--format json"
search 'kiln.format:cif' --format paths --limit 0 | grep -q '\.cif' || fail "--format paths"
search 'kiln.format:cif' --limit 2 | tail -1 | grep -q "records match; showing 1-2" || fail "table footer"
expect_exit 0 "$KILN" search "$D" 'material.elements:Og'
expect_output "0 records match"
pass "formats table, json, jsonl, paths, ids; an empty result is not an error"

# Aggregations agree with the hit lists.
search --count-by kiln.format --format json > "$SCRATCH/agg.json"
cif=$(ids 'kiln.format:cif' | wc -l)
$PY -c "import json,sys; d=json.load(open(sys.argv[1])); c={x['value']:x['count'] for x in d['count_by']['counts']}; assert c['cif']==int(sys.argv[2]), (c['cif'], sys.argv[2])" "$SCRATCH/agg.json" "$cif" ||
    fail "--count-by kiln.format disagrees with the cif hit count"
search 'kiln.format:cif' --stats crystal_structure.volume | grep -q "crystal_structure.volume: count" || fail "--stats"
pass "count-by and stats"

# Bad input: exit 64 naming the column, the field, or what was expected.
bad() {  # bad "QUERY" "TEXT"
    expect_exit 64 "$KILN" search "$D" --query="$1"
    expect_output "$2"
}
bad 'material.elements:Fe AND (' "column 27"
bad 'elemnts:Fe' "closest known fields: material.elements"
bad 'material.composition:[1 TO 2]' "needs a number field"
bad 'crystal_structure.volume:big' "is not a number"
bad 'kiln.path:a*b' "'*' only at the end"
bad 'custom.@class:x' "not indexed for exact values"
expect_exit 64 "$KILN" search "$D" --range crystal_structure.volume
expect_output "expected FIELD:LO:HI"
expect_exit 64 "$KILN" search "$D" --format xml
expect_output "expected table, jsonl, json, paths or ids"
# Boost reads "-1" into an unsigned option as 2^64 - 1: kiln refuses it instead of printing all.
expect_exit 64 "$KILN" search "$D" 'material.elements:Fe' --limit -1
expect_output "the argument ('-1') for option '--limit' is invalid: expected a whole number"
expect_exit 64 "$KILN" get "$D" 'material.elements:Fe' --to "$SCRATCH/never" --limit 1.5
expect_output "for option '--limit' is invalid"
[ ! -e "$SCRATCH/never" ] || fail "kiln get with a bad --limit wrote files"
pass "bad queries and options exit 64 with the place of the problem"

# `kiln index` on a current index changes nothing; a rebuild gives the ingest's bytes.
sums() { (cd "$D/index" && sha256sum ./*); }
before=$(sums)
expect_exit 0 "$KILN" index "$D"
expect_output "nothing to do"
[ "$(sums)" = "$before" ] || fail "kiln index on a current index changed files"
cp -r "$D/index" "$SCRATCH/index-ingest"
expect_exit 0 "$KILN" index "$D" --rebuild --no-fsync
for f in "$SCRATCH"/index-ingest/segment-*.h5; do
    cmp -s "$f" "$D/index/$(basename "$f")" || fail "segment built at ingest differs from kiln index: $(basename "$f")"
done
pass "index: idempotent, and segments built at ingest equal rebuilt ones byte for byte"

# Missing and stale index.
ref=$(ids 'material.elements:Fe')
rm -rf "$D/index"
expect_exit 66 "$KILN" search "$D" 'material.elements:Fe'
expect_output "kiln index DATA"
expect_exit 0 "$KILN" index "$D"
[ "$(ids 'material.elements:Fe')" = "$ref" ] || fail "results changed after rebuilding the index"
cp "$D/catalog.h5" "$SCRATCH/catalog.bak"
$PY - "$D/catalog.h5" <<'PY'
import h5py, sys
with h5py.File(sys.argv[1], "r+") as h:
    c = h["shards/checksum"]
    c[0] = "0" * 32
PY
expect_exit 65 "$KILN" search "$D" 'material.elements:Fe'
expect_output "older than the dataset's shards"
cp "$SCRATCH/catalog.bak" "$D/catalog.h5"
pass "missing index exits 66, stale index 65, both say how to rebuild"

# kiln fields agrees with the records read by h5py.
"$KILN" fields "$D" --format json > "$SCRATCH/fields.json"
$PY - "$D" "$SCRATCH/fields.json" <<'PY' || fail "kiln fields disagrees with h5py"
import glob, h5py, json, sys
n = 0
for s in glob.glob(sys.argv[1] + "/shards/*.h5"):
    with h5py.File(s) as h:
        n += sum(1 for m in h["records/metadata"][:] if "elements" in json.loads(m).get("material", {}))
f = {x["field"]: x for x in json.load(open(sys.argv[2]))["fields"]}
assert f["material.elements"]["records"] == n and f["material.elements"]["type"] == "keyword", (f["material.elements"], n)
assert f["crystal_structure.volume"]["type"] == "number"
PY
pass "kiln fields"

# kiln get: files equal to the originals; a link planted in --to is not followed.
OUT=$SCRATCH/got
expect_exit 0 "$KILN" get "$D" 'kiln.format:cif OR kiln.format:poscar' --to "$OUT"
count=0
while IFS= read -r p; do
    case "$p" in *'!/'*|*'#'*) continue ;; esac
    cmp -s "$OUT/$p" "$PMG/../$p" || fail "kiln get wrote a different $p"
    count=$((count + 1))
done < <(ids 'kiln.format:cif OR kiln.format:poscar' >/dev/null; search 'kiln.format:cif OR kiln.format:poscar' --format paths --limit 0)
[ "$count" -gt 50 ] || fail "only $count files compared"
mkdir -p "$SCRATCH/elsewhere" "$SCRATCH/trap"
ln -s "$SCRATCH/elsewhere" "$SCRATCH/trap/test_files"
expect_exit 74 "$KILN" get "$D" 'kiln.format:cif' --to "$SCRATCH/trap"
expect_output "a file or link is in the way"
[ -z "$(ls -A "$SCRATCH/elsewhere")" ] || fail "kiln get wrote through a symbolic link"
pass "kiln get: $count files equal to the originals; links in --to are not followed"

# Two ranks split the shards and gather on rank 0: the same answers.
for args in "material.elements:O --format ids --limit 0" \
            "--sort crystal_structure.volume --format ids --limit 30 --offset 5" \
            "--count-by material.elements --format json" \
            "kiln.format:cif --stats crystal_structure.volume"; do
    # shellcheck disable=SC2086
    one=$("$KILN" search "$D" $args)
    # shellcheck disable=SC2086
    two=$("$MPIEXEC" -n 2 "$KILN" search "$D" $args)
    [ "$one" = "$two" ] || fail "2 ranks differ from 1 for: $args"
done
pass "mpirun -n 2 gives the same results as one process"

# The merged index (kiln index --merge) answers every query as the shards' segments do, for
# 1 and 2 ranks; kiln index keeps it current; a stale one is not used, and says so.
queries=("material.elements:O --format ids --limit 0"
         "--sort crystal_structure.volume --format ids --limit 30 --offset 5"
         "--sort crystal_structure.volume:desc --format ids --limit 10"
         "--count-by material.elements --format json"
         "kiln.format:cif --stats crystal_structure.volume"
         "material.elements:Li --stats crystal_structure.volume"
         "material.composition:Li* --format ids --limit 0"
         "crystal_structure.space_group_number:[200 TO 230] AND NOT material.elements:O --format ids --limit 0")
expected=()
# shellcheck disable=SC2086
for args in "${queries[@]}"; do expected+=("$("$KILN" search "$D" $args)"); done
# same_answers WHAT [RANKS]: every query answers as the shards' segments did (under mpirun
# -n RANKS too, when given).
same_answers() {
    for i in "${!queries[@]}"; do
        # shellcheck disable=SC2086
        [ "$("$KILN" search "$D" ${queries[$i]})" = "${expected[$i]}" ] ||
            fail "$1 differs for: ${queries[$i]}"
        [ -z "${2:-}" ] && continue
        # shellcheck disable=SC2086
        [ "$("$MPIEXEC" -n "$2" "$KILN" search "$D" ${queries[$i]})" = "${expected[$i]}" ] ||
            fail "$1 under $2 ranks differs for: ${queries[$i]}"
    done
}
# reindex_keeps_merged OUTPUT: kiln index rebuilds no segment, says OUTPUT, and searches
# read the merged index.
reindex_keeps_merged() {
    expect_exit 0 "$KILN" index "$D" --no-fsync
    expect_output "0 segments built"
    expect_output "$1"
    expect_exit 0 "$KILN" search "$D" 'material.elements:O' --explain
    expect_output "index:  merged"
}
expect_exit 0 "$KILN" index "$D" --merge --no-fsync
expect_output "segments merged"
[ -f "$D/index/merged.h5" ] || fail "kiln index --merge wrote no index/merged.h5"
expect_exit 0 "$KILN" search "$D" 'material.elements:O' --explain
expect_output "index:  merged"
same_answers "merged index" 2
before=$(sums)
expect_exit 0 "$KILN" index "$D"
expect_output "nothing to do"
[ "$(sums)" = "$before" ] || fail "kiln index on a current merged index changed files"
cp "$D/index/merged.h5" "$SCRATCH/merged-old.h5"
expect_exit 0 "$KILN" index "$D" --keyword-field custom.label --no-fsync   # every segment changes
expect_output "segments merged"
cp "$SCRATCH/merged-old.h5" "$D/index/merged.h5"
expect_exit 0 "$KILN" search "$D" 'material.elements:O' --explain
expect_output "merged from older segments"
expect_output "index:  one segment per shard"
# shellcheck disable=SC2086
[ "$("$KILN" search "$D" ${queries[0]} 2>/dev/null)" = "${expected[0]}" ] || fail "a stale merged index changed the answer"
# kiln index without --keyword-field keeps the index's keyword fields (custom.label) and
# merges the stale index again.
reindex_keeps_merged "segments merged"
# ... also when a column of the dictionary is damaged: the keyword fields come from its policy
# attribute, so no segment is rebuilt without custom.label; the dictionary is written again.
$PY - "$D/index/dictionary.h5" <<'PY'
import h5py, sys
with h5py.File(sys.argv[1], "r") as f:
    column = f["fields/records"][:].tobytes()
raw = bytearray(open(sys.argv[1], "rb").read())
at = raw.find(column)
assert at >= 0
raw[at] ^= 0x5A
open(sys.argv[1], "wb").write(bytes(raw))
PY
# A search of the current merged index reads two attributes of the dictionary and none of
# its columns: the damaged column changes no answer (kiln verify reports it).
same_answers "merged index with a damaged dictionary column"
expect_exit 65 "$KILN" verify "$D"
reindex_keeps_merged "dictionary written"
# A dictionary written before it recorded segments_digest: the merged index is checked
# against the dictionary's columns (the same answers), and kiln index writes it again.
$PY - "$D/index/dictionary.h5" <<'PY'
import h5py, sys
with h5py.File(sys.argv[1], "r+") as h:
    del h.attrs["segments_digest"]
PY
expect_exit 0 "$KILN" search "$D" 'material.elements:O' --explain
expect_output "index:  merged"
# shellcheck disable=SC2086
[ "$("$KILN" search "$D" ${queries[4]})" = "${expected[4]}" ] || fail "an older dictionary changed the answer"
expect_exit 0 "$KILN" index "$D" --no-fsync
expect_output "dictionary written"
$PY -c "import h5py,sys; assert 'segments_digest' in h5py.File(sys.argv[1]).attrs" \
    "$D/index/dictionary.h5" || fail "kiln index did not record segments_digest"
rm "$D/index/merged.h5"
pass "merged index: the same answers for 1 and 2 ranks, kept current by kiln index, a stale one unused"

# A dataset written before the index existed (the schema-1 golden files): search says to
# build the index; `kiln index` builds it without touching the shards.
G=$SCRATCH/golden
cp -r "$KILN_SOURCE_DIR/tests/data/golden/schema1" "$G"
expect_exit 66 "$KILN" search "$G"
expect_output "kiln index DATA"
before=$(cd "$G" && sha256sum catalog.h5 shards/*)
expect_exit 0 "$KILN" index "$G"
[ "$(cd "$G" && sha256sum catalog.h5 shards/*)" = "$before" ] || fail "kiln index changed the shards or catalog"
n=$("$KILN" search "$G" --format ids --limit 0 | wc -l)
want=$($PY -c "import h5py,sys; print(sum(int(x) for x in h5py.File(sys.argv[1])['shards/records'][:]))" "$G/catalog.h5")
[ "$n" = "$want" ] && [ "$n" -gt 0 ] || fail "golden dataset: search lists $n records, the catalog $want"
expect_exit 0 "$KILN" verify "$G"
pass "an old dataset gets an index from kiln index and stays byte-identical"
