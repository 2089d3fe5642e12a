# Shared helpers for the end-to-end tests (sourced). Each test gets a scratch directory that
# is removed on exit, the kiln binary in $KILN and mpiexec in $MPIEXEC (set by CTest).
set -euo pipefail
: "${KILN:?set KILN to the kiln binary}"
: "${MPIEXEC:=mpiexec}"
: "${KILN_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
PY=/usr/bin/python3   # Debian's Python, which sees python3-h5py and python3-xxhash
CHECK="$PY $KILN_SOURCE_DIR/tests/e2e/dataset_check.py"
PMG=/usr/share/doc/pymatgen-test-files/examples/test_files
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/kiln-e2e-XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mpi_yield_when_idle=1

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# expect_exit CODE CMD...: runs CMD, fails unless it exits with CODE; output in $SCRATCH/out.
expect_exit() {
    local want=$1; shift
    local got=0
    "$@" >"$SCRATCH/out" 2>&1 || got=$?
    if [ "$got" != "$want" ]; then
        cat "$SCRATCH/out" >&2
        fail "expected exit $want, got $got: $*"
    fi
}

# expect_output TEXT: the last command's output contains TEXT.
expect_output() {
    grep -qF -- "$1" "$SCRATCH/out" || { cat "$SCRATCH/out" >&2; fail "output lacks: $1"; }
}

require_pymatgen_files() {
    [ -d "$PMG" ] || fail "$PMG missing: run scripts/setup.sh (package pymatgen-test-files)"
}
