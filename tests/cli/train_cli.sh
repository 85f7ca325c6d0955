#!/bin/bash
# brisk train: help, argument errors, a tiny UNet run (outputs, gradient-norm log read by
# `brisk lr refine`), resume after a kill (bit-identical), NaN stop, classifier run.
set -u
B=$1
T=$(mktemp -d /tmp/brisk-cli-train-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

# A 512-image copy of Fashion-MNIST (train and test), so each run loads a few hundred KB.
src=${BRISK_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
/usr/bin/python3 - "$src" "$T/fm" <<'PY' || fail "cannot prepare the Fashion-MNIST subset from $src"
import gzip, os, struct, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst)
for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]:
    d = gzip.open(os.path.join(src, name)).read()
    nd = d[3]
    dims = struct.unpack(">" + "I" * nd, d[4:4 + 4 * nd])
    per = 1
    for x in dims[1:]:
        per *= x
    n = min(512, dims[0])
    body = d[4 + 4 * nd:4 + 4 * nd + n * per]
    with gzip.open(os.path.join(dst, name), "wb") as f:
        f.write(d[:4] + struct.pack(">" + "I" * nd, n, *dims[1:]) + body)
PY
export BRISK_FASHION_MNIST=$T/fm

# --- help and errors -----------------------------------------------------------------
"$B" train --help | grep -q "brisk train unet" || fail "train --help"
"$B" train unet --help | grep -q -- "--grad-norm-log" || fail "train unet --help"
"$B" train unet --help | grep -q -- "--beta-schedule" || fail "train unet --help (diffusion)"
"$B" train classifier --help | grep -q -- "--test-limit" || fail "train classifier --help"
"$B" train 2>/dev/null; [ $? -eq 2 ] || fail "train without a model: exit 2"
err=$("$B" train gan --out x 2>&1); [ $? -eq 1 ] && [[ $err == *"unknown model 'gan'"* ]] || fail "unknown model: $err"
err=$("$B" train unet --config c.json --out x --frobnicate 2>&1); [ $? -eq 2 ] && [[ $err == *"unknown option '--frobnicate'"* ]] || fail "unknown option: $err"
err=$("$B" train unet --config c.json --out x --steps abc 2>&1); [ $? -eq 1 ] && [[ $err == *"'abc' is not an integer"* ]] || fail "bad --steps: $err"
err=$("$B" train unet --config c.json --out x --ema 1.5 2>&1); [ $? -eq 1 ] && [[ $err == *"--ema"* ]] || fail "bad --ema: $err"
err=$("$B" train unet --config c.json --steps 3 2>&1); [ $? -eq 1 ] && [[ $err == *"--out"* ]] || fail "missing --out: $err"
err=$("$B" train unet --out x --steps 3 2>&1); [ $? -eq 1 ] && [[ $err == *"--config"* ]] || fail "missing --config: $err"
err=$("$B" train unet --config tests/data/train/unet_tiny.json --out "$T/x" --optimizer adam9 2>&1); [ $? -eq 1 ] && [[ $err == *"adam9"* ]] || fail "bad optimizer: $err"
err=$("$B" train unet --config tests/data/train/unet_tiny.json --out "$T/x" --steps 2 --limit 8 --lr-schedule NoSuchLR 2>&1); [ $? -eq 1 ] && [[ $err == *"NoSuchLR"* ]] || fail "bad schedule: $err"
err=$("$B" train unet --resume "$T/none" 2>&1); [ $? -eq 1 ] && [[ $err == *"no training checkpoint"* ]] || fail "resume without checkpoint: $err"

# --- a tiny UNet run ---------------------------------------------------------------------
U="--config tests/data/train/unet_tiny.json --batch 4 --limit 16 --seed 3 --lr 1e-3 --clip 1 --ema 0.99 --lr-schedule rex warmup=1"
"$B" train unet $U --steps 4 --out "$T/a" --grad-norm-log "$T/a.csv" >"$T/a.out" 2>"$T/a.err" || { cat "$T/a.err"; fail "unet run"; }
grep -q "wrote $T/a: 4 steps" "$T/a.out" || fail "summary line: $(cat "$T/a.out")"
for f in config.json diffusion_pytorch_model.safetensors scheduler_config.json training.json TRAINING.md checkpoint/state.json checkpoint/ema/diffusion_pytorch_model.safetensors; do
  [ -f "$T/a/$f" ] || fail "missing $f"
done
grep -q '"_class_name":[[:space:]]*"UNet2DModel"' "$T/a/config.json" || fail "config.json class"
grep -q '"prediction_type":[[:space:]]*"epsilon"' "$T/a/scheduler_config.json" || fail "scheduler prediction_type"
grep -q '"num_train_timesteps":[[:space:]]*1000' "$T/a/scheduler_config.json" || fail "scheduler T"
grep -q -- "--lr-schedule rex warmup=1" "$T/a/TRAINING.md" || fail "TRAINING.md command"
grep -qF '{\"class\":\"rex\",\"kwargs\":{\"warmup\":1,\"total_steps\":3}}' "$T/a/training.json" || fail "resolved rex schedule: $(grep resolved "$T/a/training.json")"
[ "$(head -1 "$T/a.csv")" = "step,grad_norm_l2,grad_norm_l1,loss,lr" ] || fail "csv header"
[ "$(wc -l <"$T/a.csv")" -eq 5 ] || fail "csv rows"
[ "$(cut -d, -f1 "$T/a.csv" | tr '\n' ' ')" = "step 0 1 2 3 " ] || fail "csv steps"
"$B" lr refine --grad-norms "$T/a.csv" --steps 10 --trim 0 --filter-width 1 --min-len 4 --resample-to 4 >"$T/refine.out" 2>&1 || fail "lr refine on the log: $(cat "$T/refine.out")"

# --- kill after a checkpoint, resume: identical to the straight run ----------------------
"$B" train unet $U --steps 4 --out "$T/b" --grad-norm-log "$T/b.csv" --checkpoint-every 2 --debug-stop-step 3 2>"$T/b.err"
[ $? -eq 1 ] || fail "debug stop"
grep -q '"step":[[:space:]]*2' "$T/b/checkpoint/state.json" || fail "checkpoint of 2 steps"
"$B" train unet --resume "$T/b" >"$T/b.out" 2>"$T/b.err" || { cat "$T/b.err"; fail "resume"; }
grep -q "resuming at step 2 of 4" "$T/b.err" || fail "resume message"
cmp -s "$T/a/diffusion_pytorch_model.safetensors" "$T/b/diffusion_pytorch_model.safetensors" || fail "resumed EMA weights differ"
cmp -s "$T/a/checkpoint/model/diffusion_pytorch_model.safetensors" "$T/b/checkpoint/model/diffusion_pytorch_model.safetensors" || fail "resumed weights differ"
cmp -s "$T/a.csv" "$T/b.csv" || fail "resumed gradient-norm log differs"
err=$("$B" train unet --resume "$T/b" --steps 4 --seed 4 2>&1); [ $? -eq 1 ] && [[ $err == *"'seed'"* ]] || fail "resume with another seed: $err"
err=$("$B" train unet $U --steps 4 --out "$T/b" 2>&1); [ $? -eq 1 ] && [[ $err == *"already holds a checkpoint"* ]] || fail "overwrite: $err"

# --- NaN stops training and keeps the last good checkpoint -------------------------------
err=$("$B" train unet $U --steps 4 --out "$T/n" --checkpoint-every 1 --debug-nan-step 2 2>&1)
[ $? -eq 1 ] && [[ $err == *"step 2: the loss is nan"* ]] || fail "nan: $err"
grep -q '"step":[[:space:]]*2' "$T/n/checkpoint/state.json" || fail "nan: last good checkpoint"
[ ! -e "$T/n/diffusion_pytorch_model.safetensors" ] || fail "nan: no final model"

# --- classifier ----------------------------------------------------------------------------
"$B" train classifier --config tests/data/train/classifier_tiny.json --epochs 1 --batch 16 --limit 64 --test-limit 100 \
  --optimizer sgd --lr 0.05 --momentum 0.9 --nesterov --out "$T/c" >"$T/c.out" 2>"$T/c.err" || { cat "$T/c.err"; fail "classifier"; }
grep -q "epoch 1 (step 4): test accuracy" "$T/c.err" || fail "per-epoch accuracy: $(cat "$T/c.err")"
grep -q "test accuracy" "$T/c.out" || fail "final accuracy"
for f in config.json model.safetensors TRAINING.md training.json; do [ -f "$T/c/$f" ] || fail "classifier: missing $f"; done
grep -q '"_class_name":[[:space:]]*"BriskClassifier"' "$T/c/config.json" || fail "classifier config"
echo "train_cli: ok"
