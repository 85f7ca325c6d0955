#!/usr/bin/env bash
# The main job behind `make demo`.
set -euo pipefail
brisk=${1:-build/brisk}
mkdir -p out
if [ -f models/fmnist-unet/config.json ]; then
  "$brisk" sample --model unet:models/fmnist-unet --scheduler fpndm --steps 50 \
    --num-samples 64 --seed 0 --out out/demo.png
else
  "$brisk" sample --model empirical:fashion-mnist --scheduler fpndm --steps 50 \
    --num-samples 64 --seed 0 --out out/demo.png
fi
echo "wrote out/demo.png"
