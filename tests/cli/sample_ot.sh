#!/bin/bash
# brisk sample --ot: the DPM-OT start on the empirical Fashion-MNIST denoiser. Samples
# start from their cell's latent, so they stay close to that training image; errors for a
# grid that does not start at the level, bad levels and mismatched files. $1 = brisk.
set -u
B="$1"
T=$(mktemp -d /tmp/brisk_sample_ot.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
. "$(dirname "$0")/common.bash"
PY=/usr/bin/python3

"$B" ot latents --data fashion-mnist --level 100 --num 64 --seed 0 --out "$T/lat.npy" >/dev/null || fail "latents"
"$B" ot fit --targets "$T/lat.npy" --out "$T/h.npy" --seed 0 --max-iter 20 --quiet >/dev/null || fail "fit"
M=empirical:fashion-mnist,n=64
for s in ddim euler fpndm; do
    "$B" sample --model $M --scheduler $s --steps 5 --num-samples 24 --seed 3 --ot "$T/h.npy" \
        --ot-targets "$T/lat.npy" --ot-level 100 --ot-index-out "$T/idx_$s.npy" --out "$T/x_$s.npy" \
        --quiet >"$T/out_$s" 2>"$T/err" || fail "sample --ot $s: $(cat "$T/err")"
    grep -q "DPM-OT start at level 100" "$T/out_$s" || fail "$s: no OT line: $(cat "$T/out_$s")"
done
grep -q "NFE 5 per sample" "$T/out_ddim" || fail "ddim NFE: $(cat "$T/out_ddim")"
# The memorising denoiser restricted to these 64 images: from level 100 every sample must
# end at (almost exactly) the training image of its cell, for every sampler.
$PY - "$T" <<'PYEOF' || fail "OT samples do not land on their cell's image"
import sys, gzip, os, numpy as np
T = sys.argv[1]
d = os.environ.get("BRISK_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
raw = gzip.open(d + "/train-images-idx3-ubyte.gz").read()
img = np.frombuffer(raw, np.uint8, 64 * 784, 16).reshape(64, 28, 28).astype(np.float64)
clean = np.full((64, 32, 32), -1.0)
clean[:, 2:30, 2:30] = img / 127.5 - 1.0
clean = clean.reshape(64, -1)
for s in ("ddim", "euler", "fpndm"):
    x = np.load(T + "/x_%s.npy" % s).reshape(24, -1)
    idx = np.load(T + "/idx_%s.npy" % s)
    assert idx.dtype == np.int64 and idx.shape == (24,), (idx.dtype, idx.shape)
    assert np.array_equal(idx, np.load(T + "/idx_ddim.npy")), s   # same noise -> same cells
    err = np.abs(x - clean[idx]).max()
    assert err < 0.05, (s, err)
    other = np.abs(x - clean[(idx + 1) % 64]).max()
    assert other > 0.5, (s, other)
print("ok")
PYEOF

expect_error 1 "starts at alpha-bar" "$B" sample --model $M --scheduler ddim --steps 10 --timestep-spacing leading \
    --ot "$T/h.npy" --ot-targets "$T/lat.npy" --ot-level 100 --out "$T/y.npy"
expect_error 1 "--ot-level" "$B" sample --model $M --scheduler ddim --steps 10 \
    --ot "$T/h.npy" --ot-targets "$T/lat.npy" --ot-level 1000 --out "$T/y.npy"
expect_error 1 "go together" "$B" sample --model $M --scheduler ddim --ot "$T/h.npy" --out "$T/y.npy"
expect_error 1 "adaptive" "$B" sample --model $M --scheduler pf --ot "$T/h.npy" --ot-targets "$T/lat.npy" \
    --ot-level 100 --out "$T/y.npy"
$PY -c "import numpy as np; np.save('$T/lat100.npy', np.zeros((64, 100), np.float32)); np.save('$T/h5.npy', np.zeros(5))"
expect_error 1 "dimension 100" "$B" sample --model $M --scheduler ddim --ot "$T/h.npy" --ot-targets "$T/lat100.npy" \
    --ot-level 100 --out "$T/y.npy"
expect_error 1 "h5.npy" "$B" sample --model $M --scheduler ddim --ot "$T/h5.npy" --ot-targets "$T/lat.npy" \
    --ot-level 100 --out "$T/y.npy"
expect_error 1 "needs --ot" "$B" sample --model $M --scheduler ddim --ot-index-out "$T/i.npy" --out "$T/y.npy"

[ $fails -eq 0 ] && echo "sample_ot: all checks passed"
exit $((fails > 0))
