#!/usr/bin/env bash
# Job files: `kiln --config FILE` runs the [job] steps in order (one process and under
# mpiexec), --set and the command line override the file, --print-config names where each
# value came from, ${VAR:-default} expands; bad jobs stop before any step runs: an unknown
# key or section exits 78 naming file and line, conflicting options exit 64, a dataset no
# step creates exits 66; a failing step stops the job with its code and writes no marker.
source "$(dirname "$0")/lib.sh"
require_pymatgen_files
mkdir -p "$SCRATCH/in"
cp "$PMG"/*.cif "$SCRATCH/in/"
J=$SCRATCH/job.ini
cat > "$J" <<INI
# a test job
[job]
steps = ingest index search
marker = \${JOB_DATA:-$SCRATCH/data}/done.json

[ingest]
input = $SCRATCH/in
out = \${JOB_DATA:-$SCRATCH/data}
shard-files = 10
no-fsync = true

[index]
data = \${JOB_DATA:-$SCRATCH/data}

[search]
data = \${JOB_DATA:-$SCRATCH/data}
query = material.elements:O
format = ids
limit = 0
INI

expect_exit 0 "$KILN" --config "$J" --set search.limit=5 --print-config
expect_output "shard-files = 10    # $J:9"
expect_output "limit = 5    # --set"
expect_output "format = ids    # $J:"
expect_output "offset = 0    # default"
expect_output "out = $SCRATCH/data    # $J:"
expect_exit 0 "$KILN" search "$SCRATCH/x" --config "$J" --limit 7 --print-config
expect_output "limit = 7    # command line"
expect_output "data = $SCRATCH/x    # command line"
pass "--print-config: file:line, --set, command line and default sources"

expect_exit 0 "$KILN" --config "$J"
[ -f "$SCRATCH/data/done.json" ] || fail "no marker"
grep -E '^[0-9]+$' "$SCRATCH/out" > "$SCRATCH/job.ids" || true
"$KILN" search "$SCRATCH/data" material.elements:O --format ids --limit 0 > "$SCRATCH/direct.ids"
[ -s "$SCRATCH/direct.ids" ] && cmp -s "$SCRATCH/job.ids" "$SCRATCH/direct.ids" ||
    fail "the job's search differs from kiln search"
$PY -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["complete"] and [s["step"] for s in m["steps"]] == ["ingest","index","search"], m' \
    "$SCRATCH/data/done.json" || fail "marker content"
JOB_DATA=$SCRATCH/data3 expect_exit 0 "$MPIEXEC" -n 3 "$KILN" --config "$J"
grep -E '^[0-9]+$' "$SCRATCH/out" > "$SCRATCH/mpi.ids" || true
cmp -s "$SCRATCH/mpi.ids" "$SCRATCH/direct.ids" || fail "the job under mpiexec -n 3 differs"
[ -f "$SCRATCH/data3/done.json" ] || fail "\${JOB_DATA:-...} not expanded from the environment"
pass "kiln --config: ingest, index, search in order (1 process and 3 ranks), marker written"

bad() {  # bad CODE TEXT SED-EXPR [kiln args]: a copy of the job edited by SED-EXPR fails
    local code=$1 text=$2 expr=$3; shift 3
    sed "$expr" "$J" > "$SCRATCH/bad.ini"
    rm -rf "$SCRATCH/baddata"
    expect_exit "$code" "$KILN" --config "$SCRATCH/bad.ini" --set "ingest.out=$SCRATCH/baddata" "$@"
    expect_output "$text"
    [ ! -e "$SCRATCH/baddata" ] || fail "a job that failed its check ran ingest ($text)"
}
bad 78 "bad.ini:10: unknown key 'no-fsnc' for \`kiln ingest\`" 's/^no-fsync/no-fsnc/'
bad 78 "unknown section [serch]" 's/^\[search\]/[serch]/'
bad 78 "bad.ini:3: 'serch' is not a step" 's/^steps = .*/steps = ingest serch/'
bad 78 "bad.ini:4: environment variable NO_SUCH_VAR is not set" 's/^marker = .*/marker = ${NO_SUCH_VAR}\/m.json/'
bad 78 "unknown key 'bogus' for \`kiln search\`" 's/^query/query/' --set search.bogus=1
bad 64 "--count-by (" 's/^query = .*/count-by = material.elements\nstats = kiln.row/'
bad 66 "bad.ini:13: [index] dataset '$SCRATCH/nowhere' does not exist and no earlier ingest step creates it" \
    "s|^data = .*|data = $SCRATCH/nowhere|"
pass "bad jobs stop before the first step: 78 unknown key/section/step/variable, 64 conflict, 66 missing dataset"

rm -f "$SCRATCH/data/done.json"
expect_exit 64 "$KILN" --config "$J" --set "search.query=material.elements:(O"
expect_output "step search failed with exit code 64"
[ ! -f "$SCRATCH/data/done.json" ] || fail "a failed job wrote its marker"
pass "a failing step ends the job with its exit code, no marker"
