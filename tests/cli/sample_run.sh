#!/usr/bin/env bash
# brisk sample: .npy shapes, identical samples for any --batch (noise depends on (seed, i)
# only), a different seed gives different samples, PNG grids for image-shaped models, and
# the printed NFE. Fashion-MNIST parts print SKIP when the dataset is absent.
set -u
brisk=$1
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

g="gaussian:dim=6,mean=0.5,std=0.8"
"$brisk" sample --model "$g" --scheduler fpndm --steps 20 --num-samples 10 --seed 3 \
  --out "$tmp/a.npy" --quiet >"$tmp/log" || { echo "FAIL: gaussian fpndm run"; cat "$tmp/log"; exit 1; }
cat "$tmp/log"
check "NFE of F-PNDM with 20 steps is 29" "grep -q 'NFE 29 per sample' '$tmp/log'"
check "time per sample printed" "grep -q 's per sample' '$tmp/log'"
check ".npy has shape (10, 6) float32" "head -c 128 '$tmp/a.npy' | grep -aq \"'descr': '<f4'.*'shape': (10, 6)\""
"$brisk" sample --model "$g" --scheduler fpndm --steps 20 --num-samples 10 --seed 3 --batch 3 \
  --out "$tmp/b.npy" --quiet >/dev/null
check "--batch 3 gives the same bits as one batch" "cmp -s '$tmp/a.npy' '$tmp/b.npy'"
"$brisk" sample --model "$g" --scheduler fpndm --steps 20 --num-samples 10 --seed 4 \
  --out "$tmp/c.npy" --quiet >/dev/null
check "another seed gives other samples" "! cmp -s '$tmp/a.npy' '$tmp/c.npy'"
"$brisk" sample --model "$g" --scheduler ddpm --steps 10 --num-samples 5 --seed 1 --batch 2 \
  --out "$tmp/d.npy" --quiet >/dev/null
"$brisk" sample --model "$g" --scheduler ddpm --steps 10 --num-samples 5 --seed 1 --batch 5 \
  --out "$tmp/e.npy" --quiet >/dev/null
check "stochastic DDPM: batch-independent too" "cmp -s '$tmp/d.npy' '$tmp/e.npy'"

# image-shaped Gaussian: (K, C, H, W) .npy and a PNG grid
"$brisk" sample --model "gaussian:shape=1x8x8,mean=0,std=0.5" --scheduler ddim --steps 10 \
  --num-samples 4 --out "$tmp/img.npy" --quiet >/dev/null
check ".npy of an image model has shape (4, 1, 8, 8)" "head -c 128 '$tmp/img.npy' | grep -aq \"'shape': (4, 1, 8, 8)\""
"$brisk" sample --model "gaussian:shape=1x8x8,mean=0,std=0.5" --scheduler ddim --steps 10 \
  --num-samples 4 --out "$tmp/img.png" --quiet >/dev/null
check "PNG written" "head -c 8 '$tmp/img.png' | od -An -c | grep -q 'P   N   G'"

# GMM model from a file, through a diffusers scheduler config
cat >"$tmp/mix.json" <<'JSON'
{"weights": [1, 2], "means": [[0, 0, 0], [1, -1, 0.5]], "stds": [0.3, [0.1, 0.2, 0.3]]}
JSON
cat >"$tmp/sched.json" <<'JSON'
{"_class_name": "PNDMScheduler", "num_train_timesteps": 1000, "beta_schedule": "linear",
 "beta_start": 0.0001, "beta_end": 0.02, "skip_prk_steps": true, "set_alpha_to_one": false,
 "steps_offset": 1, "my_unknown_key": 3}
JSON
"$brisk" sample --model "gmm:$tmp/mix.json" --scheduler-config "$tmp/sched.json" --steps 25 \
  --num-samples 3 --out "$tmp/g.npy" --quiet >"$tmp/log" 2>"$tmp/err"
check "gmm + scheduler config runs (PLMS: NFE 26)" "grep -q 'NFE 26 per sample' '$tmp/log'"
check "unknown config key reported" "grep -q 'my_unknown_key' '$tmp/err'"

# x0 clipping switches: --clip-sample off is the config key clip_sample=false, and both
# switches change DDIM's output on a model whose x0 lies outside [-1, 1]
far="gaussian:dim=4,mean=1.5,std=0.4"
cat >"$tmp/noclip.json" <<'JSON'
{"_class_name": "DDIMScheduler", "clip_sample": false}
JSON
"$brisk" sample --model "$far" --scheduler ddim --steps 10 --num-samples 6 --seed 2 --out "$tmp/c_on.npy" --quiet >/dev/null
"$brisk" sample --model "$far" --scheduler ddim --clip-sample off --steps 10 --num-samples 6 --seed 2 --out "$tmp/c_off.npy" --quiet >/dev/null
"$brisk" sample --model "$far" --scheduler-config "$tmp/noclip.json" --steps 10 --num-samples 6 --seed 2 --out "$tmp/c_cfg.npy" --quiet >/dev/null
"$brisk" sample --model "$far" --scheduler ddim --use-clipped-model-output --steps 10 --num-samples 6 --seed 2 --out "$tmp/c_eps.npy" --quiet >/dev/null
check "--clip-sample off equals clip_sample=false in a config" "cmp -s '$tmp/c_off.npy' '$tmp/c_cfg.npy'"
check "--clip-sample off changes the samples" "! cmp -s '$tmp/c_on.npy' '$tmp/c_off.npy'"
check "--use-clipped-model-output changes the samples" "! cmp -s '$tmp/c_on.npy' '$tmp/c_eps.npy'"

if [ -f "${BRISK_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}/train-images-idx3-ubyte.gz" ]; then
  "$brisk" sample --model "empirical:fashion-mnist,n=500" --scheduler fpndm --steps 10 \
    --num-samples 4 --seed 0 --out "$tmp/f.png" --quiet >"$tmp/log"
  check "fashion-mnist PNG written" "head -c 8 '$tmp/f.png' | od -An -c | grep -q 'P   N   G'"
  "$brisk" sample --model "empirical:fashion-mnist,n=500" --scheduler fpndm --steps 10 \
    --num-samples 4 --seed 0 --out "$tmp/f.npy" --quiet >/dev/null
  check "fashion-mnist .npy is (4, 1, 32, 32)" "head -c 128 '$tmp/f.npy' | grep -aq \"'shape': (4, 1, 32, 32)\""
else
  echo "SKIP fashion-mnist parts: dataset not installed"
fi
exit $fail
