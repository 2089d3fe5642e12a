#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit, mpi and e2e labels (the e2e
# tests ingest Debian's pymatgen-test-files and check the result with h5py and xxhash).
# Usage: scripts/test.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$(nproc)"
scripts/lint.sh   # clang-format check
ctest --preset ci "$@"
# The unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer (leaks included).
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$(nproc)"
ctest --preset asan "$@"
# The engine (dynamic batcher over replica threads, concurrent calls), the result cache and
# the task runner's worker threads and an ingest unit (its index segment is built on a second
# thread) under ThreadSanitizer.
cmake --preset tsan >/dev/null
cmake --build --preset tsan --target infer_test tasks_test ingest_test
build/tsan/tests/infer_test --gtest_brief=1 --gtest_filter='Engine.*:ResultCache.*:CacheKeyMaker.*'
build/tsan/tests/tasks_test --gtest_brief=1 --gtest_filter='RunUnits*'
build/tsan/tests/ingest_test --gtest_brief=1 --gtest_filter='IngestUnit.RecordsFiles*:IngestUnit.TheSegment*:IngestUnit.UnitsWrittenAtOnce*:Walk.ThreadsGiveTheWalkInOrder'
# libFuzzer harnesses (clang, ASan+UBSan): the corpus and crash regressions replayed, then 20 s
# of fuzzing per harness. Longer runs: tests/fuzz/run.sh 3600.
tests/fuzz/run.sh 20
