#!/usr/bin/env bash
# Help, version, config files (the command line wins), describe, and idempotent reruns.
source "$(dirname "$0")/lib.sh"
expect_exit 0 "$KILN" --version
expect_output "HDF5:"
expect_output "MPI:"
expect_exit 0 "$KILN" ingest --help
for opt in --out --source --shard-bytes --no-pack --threads --title --author --affiliation \
           --description --tag --doi --config --magic --no-archives --follow-links \
           --concurrent-units; do
    expect_output "$opt"
done
expect_exit 0 "$KILN" --help
expect_output "75 stopped early"

mkdir -p "$SCRATCH/in/runs"
for i in $(seq 1 40); do printf 'Si\n1.0\n%d\n' "$i" > "$SCRATCH/in/runs/POSCAR_$i"; done
cat > "$SCRATCH/job.ini" <<INI
# top-level keys apply to every command
threads = 1
[ingest]
source = from-config
shard-files = 10
title = Config title
author = Curie, Marie
author = Noether, Emmy
[infer]
this-section = is ignored by ingest
INI
expect_exit 0 "$KILN" ingest "$SCRATCH/in" --out "$SCRATCH/d" --config "$SCRATCH/job.ini" \
    --source from-cli --description "set on the command line"
expect_exit 0 "$KILN" describe "$SCRATCH/d"
expect_output "Source:      from-cli"
expect_output "Title:       Config title"
expect_output "Curie, Marie; Noether, Emmy"
expect_output "in 4 shards"
expect_output "poscar"

# A finished job run again does nothing and changes no byte.
sums() { (cd "$SCRATCH/d" && find . -type f | sort | xargs md5sum); }
before=$(sums)
expect_exit 0 "$KILN" ingest "$SCRATCH/in" --out "$SCRATCH/d" --config "$SCRATCH/job.ini" \
    --source from-cli --description "set on the command line"
expect_output "nothing to do"
[ "$before" = "$(sums)" ] || fail "rerunning a finished ingest changed files"

printf '[ingest]\nshard-fils = 3\n' > "$SCRATCH/bad.ini"
expect_exit 78 "$KILN" ingest "$SCRATCH/in" --out "$SCRATCH/d2" --config "$SCRATCH/bad.ini"
expect_output "bad.ini:2: unknown key 'shard-fils'"
expect_exit 78 "$KILN" ingest "$SCRATCH/in" --out "$SCRATCH/d3" --concurrent-units 0
expect_output "--concurrent-units must be >= 1"
[ ! -e "$SCRATCH/d3" ] || fail "a refused --concurrent-units created DATA"
pass "cli, config and idempotence"
