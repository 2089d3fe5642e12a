#!/usr/bin/env bash
# kiln search against SQLite on the same records (search_sqlite.py): the real files of
# pymatgen-test-files, and a generated table of SEARCH_DIFF_ROWS records (default 20 000;
# the `load` label runs 1 000 000). Each must agree on every one of the random queries.
source "$(dirname "$0")/../e2e/lib.sh"
require_pymatgen_files
ROWS=${SEARCH_DIFF_ROWS:-20000}
QUERIES=${SEARCH_DIFF_QUERIES:-1000}
expect_exit 0 "$KILN" ingest "$PMG" --out "$SCRATCH/pmg" --no-fsync --progress-interval 600
$PY "$(dirname "$0")/search_sqlite.py" "$KILN" "$SCRATCH/pmg" --queries "$QUERIES" --seed 11 ||
    fail "kiln search and SQLite disagree on the pymatgen-test-files dataset"
pass "pymatgen-test-files: $QUERIES random queries agree with SQLite"
# The same queries over the merged index (one segment for every shard).
expect_exit 0 "$KILN" index "$SCRATCH/pmg" --merge
expect_output "segments merged"
expect_exit 0 "$KILN" search "$SCRATCH/pmg" 'material.elements:O' --explain
expect_output "index:  merged"
$PY "$(dirname "$0")/search_sqlite.py" "$KILN" "$SCRATCH/pmg" --queries "$QUERIES" --seed 11 ||
    fail "kiln search over the merged index and SQLite disagree on the pymatgen-test-files dataset"
pass "pymatgen-test-files, merged index: $QUERIES random queries agree with SQLite"

$PY "$KILN_SOURCE_DIR/benchmarks/make_records.py" "$SCRATCH/table" "$ROWS" --files 8 --seed 5
expect_exit 0 "$KILN" ingest "$SCRATCH/table" --out "$SCRATCH/gen" --no-fsync --shard-files 2 \
    --keyword-field custom.label --progress-interval 600
$PY "$(dirname "$0")/search_sqlite.py" "$KILN" "$SCRATCH/gen" --queries "$QUERIES" --seed 12 \
    --keyword-field custom.label ||
    fail "kiln search and SQLite disagree on the generated dataset"
pass "generated $ROWS records: $QUERIES random queries agree with SQLite"
expect_exit 0 "$KILN" index "$SCRATCH/gen" --merge --keyword-field custom.label
expect_output "segments merged"
$PY "$(dirname "$0")/search_sqlite.py" "$KILN" "$SCRATCH/gen" --queries "$QUERIES" --seed 12 \
    --keyword-field custom.label ||
    fail "kiln search over the merged index and SQLite disagree on the generated dataset"
pass "generated $ROWS records, merged index: $QUERIES random queries agree with SQLite"
