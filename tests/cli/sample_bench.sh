#!/usr/bin/env bash
# brisk bench samplers on the cheap Gaussian testbeds: the table and CSV come out, errors
# shrink with the step count, and the exact W2 table includes DDPM.
set -u
brisk=$1
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

"$brisk" bench samplers --testbed gaussian-smooth --steps 10,50 --samplers ddim,fpndm,ddpm \
  --csv "$tmp/b.csv" --quiet >"$tmp/out" || { echo "FAIL: bench run"; cat "$tmp/out"; exit 1; }
cat "$tmp/out"
check "markdown table header" "grep -q '^| sampler | 10 | 50 |' '$tmp/out'"
check "CSV header" "head -1 '$tmp/b.csv' | grep -q '^testbed,sampler,steps,nfe,'"
check "ddpm appears in the W2 table" "grep -q '^| ddpm |' '$tmp/out'"
# rms_err (column 7) of ddim and fpndm grid/trailing drop from 10 to 50 steps
for s in "ddim" "fpndm grid/trailing"; do
  e10=$(awk -F, -v s="$s" '$2 == s && $3 == 10 {print $7}' "$tmp/b.csv")
  e50=$(awk -F, -v s="$s" '$2 == s && $3 == 50 {print $7}' "$tmp/b.csv")
  check "$s: error at 50 steps ($e50) < at 10 steps ($e10)" "awk -v a='$e50' -v b='$e10' 'BEGIN {exit !(a + 0 < b + 0 && b + 0 > 0)}'"
done
check "fpndm grid/trailing at 50 steps beats ddim at 50" \
  "awk -F, '\$3 == 50 && \$2 == \"ddim\" {d = \$7} \$3 == 50 && \$2 == \"fpndm grid/trailing\" {f = \$7} END {exit !(f + 0 < d + 0)}' '$tmp/b.csv'"
exit $fail
