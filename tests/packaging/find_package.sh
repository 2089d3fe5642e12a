#!/usr/bin/env bash
# `cmake --install` of this build into a scratch prefix, then a project outside kiln
# (tests/packaging/downstream) configured with find_package(kiln), built and run; and the
# installed kiln finds its LibTorch backend in PREFIX/lib/kiln, the job files in
# PREFIX/share/kiln/jobs parse, and the Lmod modulefile (scripts/packaging) loads it.
source "$(dirname "$0")/../e2e/lib.sh"
: "${KILN_BUILD_DIR:?set KILN_BUILD_DIR to the kiln build directory}"
P=$SCRATCH/prefix
cmake --install "$KILN_BUILD_DIR" --prefix "$P" > "$SCRATCH/install.log" 2>&1 ||
    { cat "$SCRATCH/install.log"; fail "cmake --install"; }
for f in bin/kiln include/kiln/extract/composition.hpp lib/cmake/kiln/kilnConfig.cmake \
         lib/libkiln_extract.a share/kiln/jobs/pipeline.ini share/kiln/slurm/pipeline.sbatch; do
    [ -e "$P/$f" ] || fail "not installed: $f"
done
cmake -S "$KILN_SOURCE_DIR/tests/packaging/downstream" -B "$SCRATCH/build" -G Ninja \
    -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Release > "$SCRATCH/cfg.log" 2>&1 ||
    { cat "$SCRATCH/cfg.log"; fail "find_package(kiln) in a downstream project"; }
cmake --build "$SCRATCH/build" > "$SCRATCH/build.log" 2>&1 ||
    { cat "$SCRATCH/build.log"; fail "building the downstream project"; }
"$SCRATCH/build/featurize_formula" "Fe4O6" elemnet86 > "$SCRATCH/out" || fail "running it"
expect_line() { grep -qx -- "$1" "$SCRATCH/out" || { cat "$SCRATCH/out"; fail "output lacks '$1'"; }; }
expect_line "frac_Fe 0.4"
expect_line "frac_O 0.6"
grep -q "^kiln [0-9.]* Fe2O3$" "$SCRATCH/out" || { cat "$SCRATCH/out"; fail "first line"; }
pass "find_package(kiln): a downstream project builds against the installed kiln and runs"

if [ -f "$P/lib/kiln/libkiln_torch.so" ]; then
    v=$("$P/bin/kiln" --version) || fail "installed kiln --version"
    grep -qi "libtorch" <<< "$v" || fail "installed kiln --version does not name LibTorch: $v"
    "$P/bin/kiln" featurize --featurizer elemnet86 Fe2O3 >/dev/null || fail "installed kiln featurize"
fi
"$P/bin/kiln" --config "$P/share/kiln/jobs/pipeline.ini" --print-config >/dev/null ||
    fail "the installed pipeline.ini does not parse"
pass "installed kiln runs; its job files parse"

LMOD_INIT=/usr/share/lmod/lmod/init/bash
if [ -f "$LMOD_INIT" ]; then
    mkdir -p "$SCRATCH/modules/kiln"
    sed "s|^local root = .*|local root = \"$P\"|" "$KILN_SOURCE_DIR/scripts/packaging/modulefiles/kiln/0.1.0.lua" \
        > "$SCRATCH/modules/kiln/0.1.0.lua"
    (
        set +eu
        source "$LMOD_INIT"
        export MODULEPATH=$SCRATCH/modules
        module load kiln/0.1.0 || exit 1
        [ "$(command -v kiln)" = "$P/bin/kiln" ] && [ "$KILN_BACKEND_DIR" = "$P/lib/kiln" ] &&
            [ -f "$KILN_JOBS/pipeline.ini" ] && kiln --version >/dev/null
    ) || fail "module load kiln/0.1.0 (Lmod) did not put the installed kiln on PATH"
    pass "Lmod: module load kiln/0.1.0 gives the installed kiln, its backend and job files"
else
    echo "SKIP: Lmod not installed (package lmod), modulefile not tried"
fi
