#!/usr/bin/env bash
# Ingests Debian's pymatgen-test-files (about 1 300 real files, many gzipped) and checks the
# dataset with h5py and xxhash against the files themselves.
source "$(dirname "$0")/lib.sh"
require_pymatgen_files
D=$SCRATCH/pmg
expect_exit 0 "$KILN" ingest "$PMG" --out "$D" --shard-bytes 64MiB --threads 2 \
    --title "pymatgen test files" --author "Ong, Shyue Ping" --tag test
expect_output "1272 records"
$CHECK inputs "$D" "$PMG"
expect_exit 0 "$KILN" verify "$D"
expect_output "OK"
expect_exit 0 "$KILN" describe "$D" --json
$PY - "$SCRATCH/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
assert s["records"] == s["files"] == 1272, s["records"]
assert s["formats"]["cif"] >= 80 and s["formats"]["vasprun"] >= 50, s["formats"]
assert s["mime_types"]["application/gzip"] >= 100, s["mime_types"]
assert d["dc"]["creators"][0]["familyName"] == "Ong"
assert sum(x["records"] for x in d["shards"]) == 1272
print("describe --json ok:", len(d["shards"]), "shards")
PY
pass "real files ingested and checked"
