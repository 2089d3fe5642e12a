#!/usr/bin/env bash
# clang-format check (or --fix) and clang-tidy over first-party sources; used locally and in CI.
# Usage: scripts/lint.sh [--fix] [--tidy]
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i $files
  exit 0
fi
clang-format --dry-run --Werror $files
if [ "${1:-}" = "--tidy" ] || [ "${2:-}" = "--tidy" ]; then
  cmake --preset dev >/dev/null
  clang-tidy -p build/dev --quiet $(git ls-files 'src/*.cpp')
fi
