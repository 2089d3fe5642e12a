#!/usr/bin/env bash
# Bad inputs become per-record errors and the job goes on; nothing is written outside DATA;
# a missing input exits 66, an unwritable DATA 74, bad options 64 and 78.
source "$(dirname "$0")/lib.sh"
T=$SCRATCH/tree
$PY "$KILN_SOURCE_DIR/tests/e2e/make_hostile_tree.py" "$T" "$SCRATCH/outside"
before=$(cd "$SCRATCH" && find . \( -path ./data -o -path ./out \) -prune -o -print | sort | md5sum)
expect_exit 0 "$KILN" ingest "$T" --out "$SCRATCH/data" --threads 2
after=$(cd "$SCRATCH" && find . \( -path ./data -o -path ./out \) -prune -o -print | sort | md5sum)
[ "$before" = "$after" ] || fail "ingest created or removed files outside DATA"
[ ! -e /tmp/absolute.txt ] || fail "an absolute archive member was written"
$CHECK records "$SCRATCH/data" > "$SCRATCH/records.jsonl"
$PY - "$SCRATCH/records.jsonl" "$SCRATCH/data/ingest-summary.json" <<'PY'
import json, sys
recs = {r["path"]: r for r in map(json.loads, open(sys.argv[1]))}
def err(path, text):
    r = recs[path]
    assert text in r["error"], f"{path}: error {r['error']!r} lacks {text!r}"
    return r
err("tree/empty.txt", "empty file")
err("tree/caf\\xE9-latin1.txt", "UTF-8")
err("tree/link-outside", "outside the input root")
err("tree/broken-link", "broken symbolic link")
err("tree/sub/loop", "loop")
err("tree/evil.tar.gz!/../../escape.txt", "'..'")
err("tree/evil.tar.gz!//tmp/absolute.txt", "absolute")
err("tree/evil.tar.gz!/link-to-etc", "symbolic link")
err("tree/evil.tar.gz!/hard", "hard link")
err("tree/bomb.tar.gz", "archive bomb")
err("tree/bomb.tar.gz!/zeros.bin", "archive bomb")
err("tree/truncated.tar.gz", "truncated")
err("tree/garbage.zip", "archive")
for p in ("tree/evil.tar.gz!/../../escape.txt", "tree/bomb.tar.gz!/zeros.bin", "tree/link-outside"):
    assert not recs[p]["packed"], p
good = ["tree/crlf.xyz", "tree/fine.zip!/inner/data.json", "tree/fine.zip"]
for p in good:
    assert recs[p]["error"] == "" and recs[p]["packed"], (p, recs[p])
# Content the extractors refuse: an error naming the format and reason, bytes still packed.
err("tree/good.cif", "cif: no data block with _atom_site_fract_x")
err("tree/truncated.json.gz", "cannot decompress")
err("tree/evil.tar.gz!/ok/POSCAR", "poscar:")
for p in ("tree/good.cif", "tree/truncated.json.gz", "tree/evil.tar.gz!/ok/POSCAR"):
    assert recs[p]["packed"], p
assert recs["tree/fine.zip!/inner/data.json"]["format"] == "json"
summary = json.load(open(sys.argv[2]))
errors = sum(1 for r in recs.values() if r["error"])
assert summary["record_errors"] == errors, (summary["record_errors"], errors)
print(f"{len(recs)} records, {errors} with the expected errors")
PY
expect_exit 0 "$KILN" verify "$SCRATCH/data"

expect_exit 66 "$KILN" ingest "$SCRATCH/no-such-dir" --out "$SCRATCH/d2"
expect_output "no-such-dir"
touch "$SCRATCH/a-file"
expect_exit 74 "$KILN" ingest "$T" --out "$SCRATCH/a-file/data"
expect_output "a-file"
expect_exit 64 "$KILN" ingest "$T"
expect_output "--out"
expect_exit 64 "$KILN" ingest "$T" --out "$SCRATCH/d3" --no-such-option
expect_exit 78 "$KILN" ingest "$T" --out "$SCRATCH/d3" --shard-bytes lots
expect_output "--shard-bytes"
expect_exit 64 "$KILN" ingest "$T" --out "$SCRATCH/d3" --author "Prince"
expect_exit 64 "$KILN" ingest "$T" --out "$SCRATCH/d3" --shard-files -1
expect_output "for option '--shard-files' is invalid: expected a whole number, 0 or more"
expect_exit 78 "$KILN" ingest "$T" --out "$SCRATCH/d3" --progress-interval -5
expect_output "--progress-interval must be a number of seconds >= 0"
expect_exit 78 "$KILN" ingest "$T" --out "$SCRATCH/d3" --max-attempts 0
expect_output "--max-attempts must be >= 1"
[ ! -e "$SCRATCH/d3" ] || fail "an ingest refused for its options created its dataset"
expect_exit 66 "$KILN" describe "$SCRATCH/nothing-here"
expect_exit 64 "$KILN" frobnicate
# A resume with other inputs or options is refused, naming both plans.
expect_exit 78 "$KILN" ingest "$T" --out "$SCRATCH/data" --no-pack
expect_output "different inputs or options"
pass "bad inputs handled"
