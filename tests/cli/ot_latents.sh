#!/bin/bash
# brisk ot latents and ot fit --data: Fashion-MNIST training images diffused to a level,
# and a short fit on them. $1 = the brisk binary. SKIPs when the data set is absent.
set -u
B="$1"
DIR=${BRISK_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
if [ ! -r "$DIR/train-images-idx3-ubyte.gz" ]; then
    echo "SKIP: Fashion-MNIST not found in $DIR"
    exit 0
fi
T=$(mktemp -d /tmp/brisk_ot_lat.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$B" ot latents --data fashion-mnist --level 300 --num 64 --seed 4 --out "$T/lat.npy" \
    --labels-out "$T/lab.npy" >"$T/out" 2>"$T/err" || fail "ot latents: $(cat "$T/err")"
head -c 128 "$T/lat.npy" | grep -q "'descr': '<f4'.*'shape': (64, 1024)" || fail "latents header"
head -c 128 "$T/lab.npy" | grep -q "'descr': '|u1'.*'shape': (64,)" || fail "labels header"
grep -q "alpha-bar 0.3" "$T/out" || fail "alpha-bar of level 300: $(cat "$T/out")"
# The same seed gives the same latents; the first images do not depend on --num.
"$B" ot latents --data fashion-mnist --level 300 --num 32 --seed 4 --out "$T/lat32.npy" >/dev/null \
    || fail "ot latents --num 32"
# (the headers differ in the shape: compare the data of the first 32 rows)
cmp -s <(tail -c +129 "$T/lat32.npy") <(tail -c +129 "$T/lat.npy" | head -c $((32 * 1024 * 4))) \
    || fail "latent of image i depends on --num"

"$B" ot fit --targets "$T/lat.npy" --out "$T/h.npy" --seed 1 --max-iter 20 --quiet >"$T/out" 2>&1 \
    || fail "fit on latents: $(cat "$T/out")"
"$B" ot fit --data fashion-mnist --level 300 --num 64 --latent-seed 4 --out "$T/h2.npy" --seed 1 \
    --max-iter 20 --quiet >/dev/null 2>&1 || fail "fit --data"
cmp -s "$T/h.npy" "$T/h2.npy" || fail "fit --data differs from fit on 'ot latents' output"

"$B" ot latents --data mnist --level 3 --num 2 --out "$T/x.npy" 2>"$T/err" && fail "--data mnist accepted"
grep -q "unknown data set 'mnist'" "$T/err" || fail "bad --data message: $(cat "$T/err")"
"$B" ot latents --data fashion-mnist --level 1000 --num 2 --out "$T/x.npy" 2>"$T/err" && fail "--level 1000 accepted"
grep -q "level" "$T/err" || fail "bad --level message: $(cat "$T/err")"

if [ $fails -ne 0 ]; then
    echo "ot_latents.sh: $fails failures"
    exit 1
fi
echo "ot_latents.sh: all checks passed"
