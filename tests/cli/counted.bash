# Counted checks for tests/cli/*.sh (sourced, not a test itself). The sourcing script sets
# T (a scratch directory) and pass=0 fail=0; each check adds to one of the two counts.

ok() { # name, command...: the command succeeds
    local name="$1"
    shift
    if "$@" >"$T/out" 2>"$T/err"; then pass=$((pass + 1)); else
        echo "FAIL: $name (exit $?)"; cat "$T/err"; fail=$((fail + 1)); fi
}
has() { # name, file, fixed string: the file contains the string
    if grep -qF -- "$3" "$2"; then pass=$((pass + 1)); else
        echo "FAIL: $1: '$3' not in $2:"; head -20 "$2"; fail=$((fail + 1)); fi
}
bad() { # name, expected stderr substring, command...: non-zero exit, one stderr line with it
    local name="$1" want="$2"
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    local lines
    lines=$(wc -l <"$T/err")
    if [ "$rc" -ne 0 ] && grep -qF -- "$want" "$T/err" && [ "$lines" -eq 1 ]; then pass=$((pass + 1)); else
        echo "FAIL: $name: exit $rc, stderr ($lines lines):"; cat "$T/err"; fail=$((fail + 1)); fi
}
