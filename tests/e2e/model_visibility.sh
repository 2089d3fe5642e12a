#!/usr/bin/env bash
# dlhub.visible_to, enforced with file ownership and permissions, with three local users
# (created here and deleted at the end; skipped when not root): user A publishes a public
# model, one visible to `user:A` and one to `group:G` (A and B are members). B lists and runs
# the public and the group model, never A's private one (not listed; `kiln run mine@1` exits
# 66 "not visible to you"; its files cannot be read); C sees only the public one; a reader
# list kiln cannot enforce (another user) is refused at publish (64).
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] && command -v useradd >/dev/null || { echo "SKIP: needs root and useradd"; exit 0; }
A=kilnvis-a$$ B=kilnvis-b$$ C=kilnvis-c$$ G=kilnvis-g$$
groupadd "$G"
useradd -M -N -s /bin/sh -G "$G" "$A"
useradd -M -N -s /bin/sh -G "$G" "$B"
useradd -M -N -s /bin/sh "$C"
trap 'userdel "$A"; userdel "$B"; userdel "$C"; groupdel "$G"; rm -rf "$SCRATCH"' EXIT
chmod 711 "$SCRATCH"
REG=$SCRATCH/models
mkdir -m 1777 "$REG"
mkdir -m 755 "$SCRATCH/src"
$PY "$KILN_SOURCE_DIR/tests/reference/models_reference.py" make-python-model \
    "$SCRATCH/src/py.pt" "$SCRATCH/rows.jsonl" "$SCRATCH/expected.json"
chmod 644 "$SCRATCH/src/py.pt"
as() { local u=$1; shift; (cd "$SCRATCH" && runuser -u "$u" -- env KILN_MODELS="$REG" "$KILN" "$@"); }
publish() {  # publish USER NAME [--visible-to V]
    local u=$1 name=$2; shift 2
    as "$u" model publish "$SCRATCH/src/py.pt" --name "$name" --featurizer elemnet86 \
        --input-shape=-1,86 --output-shape=-1,1 --title "visibility test" --author "Doe, Jane" "$@"
}
expect_exit 0 publish "$A" open
expect_exit 0 publish "$A" mine --visible-to "user:$A"
expect_exit 0 publish "$A" team --visible-to "group:$G"
expect_exit 64 publish "$A" theirs --visible-to "user:$B"
expect_output "cannot be enforced"
[ ! -e "$REG/theirs/1" ] || fail "a model with an unenforceable reader list was published"
names() { as "$1" model list --json | $PY -c 'import json, sys; print(" ".join(sorted({json.loads(l)["name"] for l in sys.stdin})))'; }
[ "$(names "$A")" = "mine open team" ] || fail "A lists: $(names "$A")"
[ "$(names "$B")" = "open team" ] || fail "B lists: $(names "$B")"
[ "$(names "$C")" = "open" ] || fail "C lists: $(names "$C")"
pass "model list: A sees 3, B (in group) sees open and team, C sees open only"

expect_exit 0 as "$A" run mine --formula Fe2O3 --format jsonl
cp "$SCRATCH/out" "$SCRATCH/a.out"
expect_exit 0 as "$B" run team --formula Fe2O3 --format jsonl
expect_exit 66 as "$B" run mine@1 --formula Fe2O3
expect_output "not visible to you"
expect_exit 66 as "$C" run team --formula Fe2O3
expect_exit 0 as "$C" run open --formula Fe2O3 --format jsonl
runuser -u "$B" -- cat "$REG/mine/1/model.pt" >/dev/null 2>&1 && fail "B could read A's private model file"
runuser -u "$C" -- cat "$REG/team/1/servable.json" >/dev/null 2>&1 && fail "C could read the group's model"
pass "kiln run: private and group models refused to others (66), their files unreadable"
