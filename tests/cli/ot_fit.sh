#!/bin/bash
# brisk ot fit / assign: the command-line contract, determinism, and one-line errors that
# name the file. $1 = the brisk binary; runs from the source root.
set -u
B="$1"
D=tests/data/ot
T=$(mktemp -d /tmp/brisk_ot_cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
. "$(dirname "$0")/common.bash"

# --- the contract: writes h as a rank-1 float64 .npy of length N -------------------------
"$B" ot fit --targets $D/cli_y20x8.npy --out "$T/h.npy" --seed 3 --tol 0.02 --max-iter 200 \
    --samples-per-iter 4000 >"$T/out" 2>"$T/err" || fail "ot fit exited $?: $(cat "$T/err")"
[ -s "$T/h.npy" ] || fail "no h.npy"
head -c 128 "$T/h.npy" | grep -q "'descr': '<f8'" || fail "h.npy is not float64"
head -c 128 "$T/h.npy" | grep -q "'shape': (20,)" || fail "h.npy is not shape (20,)"
[ "$(stat -c %s "$T/h.npy")" -eq $((128 + 20 * 8)) ] || fail "h.npy has the wrong size"
grep -q "^ot fit: converged after" "$T/out" || fail "did not converge: $(cat "$T/out")"
grep -q "ot fit: iter 1 " "$T/err" || fail "no progress line on stderr"
grep -q "empty" "$T/err" || fail "progress line lacks the empty-cell count"

# --- deterministic for a given seed, whatever the thread count ----------------------------
for th in 1 2; do
    "$B" ot fit --targets $D/cli_y20x8.npy --out "$T/h_t$th.npy" --seed 9 --tol 0 --max-iter 30 \
        --samples-per-iter 3000 --threads $th --quiet >/dev/null || fail "fit --threads $th"
done
cmp -s "$T/h_t1.npy" "$T/h_t2.npy" || fail "h differs between 1 and 2 threads"
"$B" ot fit --targets $D/cli_y20x8.npy --out "$T/h_s10.npy" --seed 10 --tol 0 --max-iter 30 \
    --samples-per-iter 3000 --quiet >/dev/null || fail "fit --seed 10"
cmp -s "$T/h_t1.npy" "$T/h_s10.npy" && fail "different seeds gave the same h"
# float64 targets are accepted and give the same h as their float32 rounding
"$B" ot fit --targets $D/cli_y20x8_f64.npy --out "$T/h_f64.npy" --seed 9 --tol 0 --max-iter 30 \
    --samples-per-iter 3000 --quiet >/dev/null || fail "fit float64 targets"
cmp -s "$T/h_t1.npy" "$T/h_f64.npy" || fail "float64 targets differ from float32 ones"

# --- options: uniform source, bias-corrected Adam, warm start -----------------------------
"$B" ot fit --targets $D/cli_y1d.npy --out "$T/h1d.npy" --source uniform --optimizer adam \
    --lr 0.02 --tol 0 --max-iter 50 --samples-per-iter 5000 --quiet >"$T/out" 2>&1 \
    || fail "uniform/adam fit: $(cat "$T/out")"
"$B" ot fit --targets $D/cli_y1d.npy --out "$T/h1d2.npy" --source uniform --init "$T/h1d.npy" \
    --max-iter 5 --quiet >/dev/null 2>&1 || fail "--init"

# --- assign -------------------------------------------------------------------------------
"$B" ot assign --targets $D/cli_y20x8.npy --h "$T/h.npy" --num-samples 5000 --seed 1 \
    --out "$T/idx.npy" --latents-out "$T/lat.npy" >"$T/out" 2>"$T/err" || fail "assign: $(cat "$T/err")"
head -c 128 "$T/idx.npy" | grep -q "'descr': '<i8'.*'shape': (5000,)" || fail "idx.npy header"
head -c 128 "$T/lat.npy" | grep -q "'shape': (5000, 8)" || fail "latents-out header"
grep -q "empty 0" "$T/out" || fail "assign left empty cells: $(cat "$T/out")"
"$B" ot assign --targets $D/cli_y20x8.npy --h "$T/h.npy" --points $D/cli_points_d8.npy \
    --out "$T/idx2.npy" >/dev/null || fail "assign --points"
head -c 128 "$T/idx2.npy" | grep -q "'shape': (50,)" || fail "assign --points shape"

# --- bad input: one line naming the file ---------------------------------------------------
expect_error 1 "cli_bad_int.npy: targets must be float32 or float64, not int32" \
    "$B" ot fit --targets $D/cli_bad_int.npy --out "$T/x.npy"
expect_error 1 "cli_bad_rank1.npy: targets must be a rank-2" \
    "$B" ot fit --targets $D/cli_bad_rank1.npy --out "$T/x.npy"
expect_error 1 "cli_bad_rank3.npy: targets must be a rank-2" \
    "$B" ot fit --targets $D/cli_bad_rank3.npy --out "$T/x.npy"
expect_error 1 "cli_bad_empty.npy: no targets (N = 0)" \
    "$B" ot fit --targets $D/cli_bad_empty.npy --out "$T/x.npy"
expect_error 1 "cli_bad_nan.npy: target 3, element 5 is NaN" \
    "$B" ot fit --targets $D/cli_bad_nan.npy --out "$T/x.npy"
expect_error 1 "nothere.npy: cannot open" \
    "$B" ot fit --targets $D/nothere.npy --out "$T/x.npy"
expect_error 1 "cli_h_len19.npy: h has 19 entries but there are 20 targets" \
    "$B" ot assign --targets $D/cli_y20x8.npy --h $D/cli_h_len19.npy --num-samples 5 --out "$T/x.npy"
expect_error 1 "cli_h_len19.npy: h has 19 entries but there are 20 targets" \
    "$B" ot fit --targets $D/cli_y20x8.npy --init $D/cli_h_len19.npy --out "$T/x.npy"
expect_error 1 "cli_points_d9.npy: points have dimension 9 but the targets" \
    "$B" ot assign --targets $D/cli_y20x8.npy --h "$T/h.npy" --points $D/cli_points_d9.npy --out "$T/x.npy"
expect_error 1 "cli_bad_nan.npy: target 3, element 5 is NaN" \
    "$B" ot assign --targets $D/cli_bad_nan.npy --h "$T/h.npy" --num-samples 5 --out "$T/x.npy"
expect_error 2 "unknown option '--bogus'" "$B" ot fit --targets $D/cli_y20x8.npy --out "$T/x.npy" --bogus
expect_error 1 "unknown OT source 'cube'" "$B" ot fit --targets $D/cli_y20x8.npy --out "$T/x.npy" --source cube
expect_error 1 "unknown OT optimizer 'sgd'" "$B" ot fit --targets $D/cli_y20x8.npy --out "$T/x.npy" --optimizer sgd
expect_error 1 "--max-iter: 'ten' is not an integer" "$B" ot fit --targets $D/cli_y20x8.npy --out "$T/x.npy" --max-iter ten
expect_error 1 "--samples-per-iter: must be positive" "$B" ot fit --targets $D/cli_y20x8.npy --out "$T/x.npy" --samples-per-iter 0
expect_error 1 "--out is required" "$B" ot fit --targets $D/cli_y20x8.npy
expect_error 1 "--out: " "$B" ot fit --targets $D/cli_y20x8.npy --out /nonexistent-dir/h.npy
expect_error 2 "unknown subcommand 'fitt'" "$B" ot fitt
[ -e "$T/x.npy" ] && fail "a failed command wrote its output"

for sub in fit assign latents; do
    "$B" ot $sub --help | grep -q "usage: brisk ot $sub" || fail "ot $sub --help"
done
"$B" ot --help | grep -q "subcommands" || fail "ot --help"

if [ $fails -ne 0 ]; then
    echo "ot_fit.sh: $fails failures"
    exit 1
fi
echo "ot_fit.sh: all checks passed"
