#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan + UBSan), replays the checked-in corpus and
# crash regressions as plain runs, then fuzzes each harness for SECONDS (default 15) from a
# scratch copy of its corpus. Usage: tests/fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-15}
CC=clang CXX=clang++ cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzzers -j "$(nproc)"
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts=build/fuzz/artifacts   # crashing inputs are kept here: copy them to tests/fuzz/regressions/NAME/
mkdir -p "$artifacts"
# The HDF5 extractor hands files to this helper: a crash of libhdf5 there is a per-file error.
export KILN_HDF5_READER=$PWD/build/fuzz/bin/kiln-hdf5-reader
for name in formula cif poscar xyz json vasprun csv image incar oszicar outcar espresso hdf5 kpoints yaml query servable jobfile; do
  bin=build/fuzz/fuzz/fuzz_$name
  # libhdf5 leaks on the error paths of corrupt files (in the helper, which the harness runs):
  # not kiln's to fix, so that harness runs without leak detection.
  leaks=1
  [ "$name" = hdf5 ] && leaks=0
  export ASAN_OPTIONS=detect_leaks=$leaks
  inputs=(tests/fuzz/corpus/$name/*)
  [ -d tests/fuzz/regressions/$name ] && inputs+=(tests/fuzz/regressions/$name/*)
  "$bin" "${inputs[@]}" > "$work/$name.replay.log" 2>&1 || { cat "$work/$name.replay.log"; exit 1; }
  mkdir -p "$work/$name"
  cp tests/fuzz/corpus/$name/* "$work/$name/"
  "$bin" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$artifacts/$name-" "$work/$name" > "$work/$name.log" 2>&1 \
      || { tail -40 "$work/$name.log"; echo "fuzz: $name found a crash (input in $artifacts)"; exit 1; }
  echo "fuzz: $name: $(grep -o 'Done [0-9]* runs' "$work/$name.log" | grep -o '[0-9]*') runs in ${seconds}s, no crash"
done
