#!/bin/bash
# brisk verify on every sampler reference case (diffusers schedulers and the PNDM authors'
# code), then a case with an unsupported config value: verify must fail naming the key.
# $1: the brisk binary. Runs from the source root.
set -u
brisk=$1
fail=0
out=$("$brisk" verify tests/data/samplers)
rc=$?
echo "$out"
if [ $rc -ne 0 ]; then echo "FAIL: brisk verify tests/data/samplers exited $rc"; fail=1; fi
n=$(ls tests/data/samplers/*.json | wc -l)
if ! echo "$out" | grep -q "^$n passed, 0 failed$"; then echo "FAIL: expected '$n passed, 0 failed'"; fail=1; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the Euler case with use_karras_sigmas switched on
sed 's/"use_karras_sigmas": false/"use_karras_sigmas": true/' tests/data/samplers/euler_linear_30.json \
    > "$tmp/euler_karras.json"
grep -q '"use_karras_sigmas": true' "$tmp/euler_karras.json" || { echo "FAIL: could not edit the case"; fail=1; }
out=$("$brisk" verify "$tmp/euler_karras.json" 2>&1)
rc=$?
echo "$out"
if [ $rc -eq 0 ]; then echo "FAIL: an unsupported config value must make verify exit non-zero"; fail=1; fi
if ! echo "$out" | grep -q "use_karras_sigmas"; then echo "FAIL: the message must name the key"; fail=1; fi
if ! echo "$out" | grep -q "ERROR"; then echo "FAIL: the case must be reported as ERROR"; fail=1; fi
# an unknown timestep_spacing value lists the valid ones
sed 's/"timestep_spacing": "leading"/"timestep_spacing": "quadratic"/' tests/data/samplers/ddim_linear_50.json \
    > "$tmp/ddim_quadratic.json"
out=$("$brisk" verify "$tmp/ddim_quadratic.json" 2>&1)
rc=$?
echo "$out"
if [ $rc -eq 0 ]; then echo "FAIL: unknown timestep_spacing must fail"; fail=1; fi
if ! echo "$out" | grep -q "timestep_spacing.*valid: leading, linspace, trailing"; then
    echo "FAIL: the message must list the valid values"; fail=1
fi
[ $fail -eq 0 ] && echo "verify_samplers: OK"
exit $fail
