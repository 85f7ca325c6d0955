#!/usr/bin/env bash
# brisk sample / bench: bad input gives one-line errors that name the option or list the
# valid values, and a non-zero exit.
set -u
brisk=$1
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect_error WANT_SUBSTRING CMD...: the command must fail and print WANT on stderr.
expect_error() {
  local want=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then
    echo "FAIL (exit 0): $*"; fail=1; return
  fi
  if ! grep -qF -- "$want" "$tmp/err"; then
    echo "FAIL: $* -> stderr does not contain '$want':"; cat "$tmp/err"; fail=1; return
  fi
  echo "ok: $* -> $(head -1 "$tmp/err")"
}

g="gaussian:dim=4,mean=0.5,std=0.8"
expect_error "valid" "$brisk" sample --model "$g" --scheduler nosuch --out "$tmp/a.npy"
expect_error "fpndm" "$brisk" sample --model "$g" --scheduler nosuch --out "$tmp/a.npy"
expect_error "--steps" "$brisk" sample --model "$g" --scheduler ddim --steps abc --out "$tmp/a.npy"
expect_error "--steps" "$brisk" sample --model "$g" --scheduler ddim --steps 0 --out "$tmp/a.npy"
expect_error "--num-samples" "$brisk" sample --model "$g" --scheduler ddim --num-samples -2 --out "$tmp/a.npy"
expect_error "--seed" "$brisk" sample --model "$g" --scheduler ddim --seed -1 --out "$tmp/a.npy"
expect_error "--eta" "$brisk" sample --model "$g" --scheduler ddim --eta nan --out "$tmp/a.npy"
expect_error "--eta" "$brisk" sample --model "$g" --scheduler fpndm --eta 1 --out "$tmp/a.npy"
expect_error "--clip-sample" "$brisk" sample --model "$g" --scheduler ddim --clip-sample maybe --out "$tmp/a.npy"
expect_error "ddpm, ddim and heun" "$brisk" sample --model "$g" --scheduler fpndm --clip-sample on --out "$tmp/a.npy"
expect_error "ddim scheduler only" "$brisk" sample --model "$g" --scheduler plms --use-clipped-model-output --out "$tmp/a.npy"
expect_error "--time-mode" "$brisk" sample --model "$g" --scheduler fpndm --time-mode sideways --out "$tmp/a.npy"
expect_error "unknown option '--bogus'" "$brisk" sample --model "$g" --scheduler ddim --bogus --out "$tmp/a.npy"
expect_error "--model is required" "$brisk" sample --scheduler ddim --out "$tmp/a.npy"
expect_error "--scheduler" "$brisk" sample --model "$g" --out "$tmp/a.npy"
expect_error ".png or .npy" "$brisk" sample --model "$g" --scheduler ddim --out "$tmp/a.txt"
expect_error "not image-shaped" "$brisk" sample --model "$g" --scheduler ddim --out "$tmp/a.png"
expect_error "gaussian, gmm, empirical, unet" "$brisk" sample --model "vae:x" --scheduler ddim --out "$tmp/a.npy"
expect_error "std='x'" "$brisk" sample --model "gaussian:dim=2,std=x" --scheduler ddim --out "$tmp/a.npy"
expect_error "no such model folder" "$brisk" sample --model "unet:models/none" --scheduler ddim --out "$tmp/a.npy"
expect_error "nosuch.json" "$brisk" sample --model "gmm:$tmp/nosuch.json" --scheduler ddim --out "$tmp/a.npy"
expect_error "nosuch.json" "$brisk" sample --model "$g" --scheduler-config "$tmp/nosuch.json" --out "$tmp/a.npy"
expect_error "PRK" "$brisk" sample --model "$g" --scheduler pndm --steps 2 --out "$tmp/a.npy"
[ -e "$tmp/a.npy" ] && { echo "FAIL: an output file was written by a failing run"; fail=1; }

expect_error "--out FILE.json is required" "$brisk" bench quality
expect_error "unknown suite" "$brisk" bench nosuch
expect_error "--steps" "$brisk" bench samplers --steps 5,x
expect_error "unknown sampler" "$brisk" bench samplers --samplers nosuch
expect_error "--testbed" "$brisk" bench samplers --testbed moon

"$brisk" sample --help | grep -q -- "--scheduler-config" || { echo "FAIL: sample --help"; fail=1; }
"$brisk" bench samplers --help | grep -q -- "--subset" || { echo "FAIL: bench samplers --help"; fail=1; }
exit $fail
