# Shared helpers for tests/cli/*.sh (sourced, not a test itself).
# The sourcing script sets T (a scratch directory) and fails=0 before calling these.

# fail MESSAGE: record one failure.
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect_error EXIT_CODE NEEDLE CMD...: the command exits with EXIT_CODE and prints exactly
# one stderr line containing NEEDLE.
expect_error() {
    local want=$1 needle=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    [ "$rc" -eq "$want" ] || fail "exit $rc (want $want): $*"
    grep -qF -- "$needle" "$T/err" || fail "stderr lacks '$needle': $* -> $(cat "$T/err")"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "stderr is not one line: $* -> $(cat "$T/err")"
}
