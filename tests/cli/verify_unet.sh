#!/usr/bin/env bash
# brisk verify on UNet cases: both diffusers reference folders pass within 1e-3; a folder
# with a broken safetensors file or an unsupported config fails with a message naming the
# file and the tensor or key.
set -u
B="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
check() { # name, condition
    if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi
}

"$B" verify tests/data/unet >"$T/out" 2>"$T/err"
rc=$?
cat "$T/out"
check "verify exits 0" "[ $rc -eq 0 ]"
check "two cases pass" "grep -q '2 passed, 0 failed' '$T/out'"
check "cifar-like case" "grep -q 'unet_ddpm_cifar_like.*PASS' '$T/out'"
check "tiny attn case" "grep -q 'unet_tiny_attn.*PASS' '$T/out'"

# truncated weights
cp -r tests/data/unet/unet_tiny_attn "$T/trunc"
chmod -R u+w "$T/trunc"
head -c 1000 tests/data/unet/unet_tiny_attn/diffusion_pytorch_model.safetensors \
    >"$T/trunc/diffusion_pytorch_model.safetensors"
"$B" verify "$T/trunc" >"$T/out" 2>"$T/err"
rc=$?
cat "$T/out" "$T/err"
check "truncated: non-zero exit" "[ $rc -ne 0 ]"
check "truncated: names the file" "grep -q 'diffusion_pytorch_model.safetensors' '$T/out' '$T/err'"

# unknown block type
cp -r tests/data/unet/unet_tiny_attn "$T/blk"
chmod -R u+w "$T/blk"
sed -i 's/"AttnDownBlock2D"/"CrossAttnDownBlock2D"/' "$T/blk/config.json"
"$B" verify "$T/blk" >"$T/out" 2>"$T/err"
rc=$?
cat "$T/out" "$T/err"
check "block type: non-zero exit" "[ $rc -ne 0 ]"
check "block type: names the key" "grep -q \"down_block_types'\[1\]\" '$T/out' '$T/err'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
