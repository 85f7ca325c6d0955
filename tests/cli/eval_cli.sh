#!/bin/bash
# brisk eval and brisk bench quality: real images score far better than noise against the
# shipped test-set statistics, the JSON report has per-seed values and intervals, the
# study resumes, and bad input gets one-line errors. $1 = the brisk binary.
set -u
B="$1"
T=$(mktemp -d /tmp/brisk_eval_cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
. "$(dirname "$0")/common.bash"
PY=/usr/bin/python3

"$B" eval --help | grep -q "write-stats" || fail "eval --help"
"$B" bench quality --help | grep -q "resume" || fail "bench quality --help"
expect_error 2 "unknown option" "$B" eval --bogus
expect_error 2 "unknown option" "$B" bench quality --bogus

# --- real training images vs heavily noised ones, against the shipped statistics ---------
"$B" ot latents --data fashion-mnist --level 1 --num 300 --out "$T/real.npy" >/dev/null || fail "latents 1"
"$B" ot latents --data fashion-mnist --level 600 --num 300 --out "$T/noisy.npy" >/dev/null || fail "latents 600"
"$B" eval --samples "$T/real.npy,$T/noisy.npy" --metrics fd,classes,mmr --format json --quiet \
    >"$T/rep.json" 2>"$T/err" || fail "eval --samples: $(cat "$T/err")"
$PY - "$T/rep.json" <<'PYEOF' || fail "eval report checks"
import json, sys, math
r = json.load(open(sys.argv[1]))
per = r["per_seed"]
assert len(per) == 2, per
fr, fn = per[0]["fd"], per[1]["fd"]
assert math.isfinite(fr) and fr >= 0, fr
assert fr * 5 < fn, (fr, fn)          # real images are far closer to the test set than noise
assert sum(per[0]["classes"]["counts"]) == 300
assert [m["tau"] for m in per[0]["mmr"]] == [0.1, 0.2, 0.3, 0.4, 0.5]
s = r["summary"]["fd"]
assert abs(s["mean"] - (fr + fn) / 2) < 1e-9 * fn
assert s["ci95"][0] <= s["mean"] <= s["ci95"][1]
PYEOF

# --- sampling through the pipeline: two seeds, intervals, NFE ------------------------------
"$B" eval --model empirical:fashion-mnist,n=300 --scheduler ddim --steps 5 --num-samples 16 \
    --seeds 2 --real-num 300 --format json --quiet --out "$T/e.json" >"$T/e_stdout.json" 2>"$T/err" \
    || fail "eval --model: $(cat "$T/err")"
cmp -s "$T/e.json" <(head -c "$(stat -c %s "$T/e.json")" "$T/e_stdout.json") || fail "--out differs from stdout"
$PY - "$T/e.json" <<'PYEOF' || fail "eval --model report checks"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["nfe"] == 5 and r["steps"] == 5 and r["num_samples"] == 16
assert [p["seed"] for p in r["per_seed"]] == [0, 1]
assert r["per_seed"][0]["fd"] != r["per_seed"][1]["fd"]
for k in ("fd", "kid", "precision", "recall", "class_tv", "mmr@0.3"):
    assert len(r["summary"][k]["ci95"]) == 2, k
assert r["per_seed"][0]["kid"]["subset_size"] == 16
PYEOF

# --- reference statistics -------------------------------------------------------------
"$B" eval --write-stats "$T/stats" --split train --num 200 >/dev/null 2>&1 || fail "--write-stats"
grep -q '"n":	200' "$T/stats/stats.json" || fail "stats.json lacks n 200"
"$B" eval --samples "$T/real.npy" --stats "$T/stats" --metrics fd --format json --quiet >"$T/s.json" \
    || fail "eval --stats"

# --- the study: entries, paired seeds, resume --------------------------------------------
Q=(bench quality --model empirical:fashion-mnist,n=300 --methods "ddim:2,3 fpndm/grid:3"
   --num-samples 8 --seeds 2 --real-num 200 --out "$T/q.json" --quiet)
"$B" "${Q[@]}" >"$T/q.md" 2>"$T/err" || fail "bench quality: $(cat "$T/err")"
[ -s "$T/q.png" ] || fail "no plot"
[ "$(grep -c '^| ddim\|^| fpndm' "$T/q.md")" -eq 3 ] || fail "table rows: $(cat "$T/q.md")"
$PY - "$T/q.json" <<'PYEOF' || fail "bench quality JSON"
import json, sys
r = json.load(open(sys.argv[1]))
e = r["entries"]
assert [(x["method"], x["steps"], x["nfe"]) for x in e] == [("ddim", 2, 2), ("ddim", 3, 3), ("fpndm/grid", 3, 12)], e
assert all(len(x["per_seed"]) == 2 for x in e)
assert e[2]["time_mode"] == "grid"
PYEOF
cp "$T/q.json" "$T/q1.json"
"$B" "${Q[@]}" --resume --methods "ddim:2,3 fpndm/grid:3 plms:3 ddim+noclip+clipped-eps:3" >/dev/null 2>"$T/err" || fail "resume: $(cat "$T/err")"
$PY - "$T/q1.json" "$T/q.json" <<'PYEOF' || fail "resume kept entries"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for x, y in zip(a["entries"], b["entries"][:3]):
    assert x == y, ("resumed entry changed", x, y)
assert b["entries"][3]["method"] == "plms"
m = b["entries"][4]
assert m["method"] == "ddim+noclip+clipped-eps" and m["scheduler"] == "ddim", m
assert m["clip_sample"] is False and m["use_clipped_model_output"] is True, m
assert b["entries"][1]["clip_sample"] is True and b["entries"][1]["use_clipped_model_output"] is False
PYEOF
expect_error 1 "another model" "$B" bench quality --model empirical:fashion-mnist,n=200 --methods "ddim:2" \
    --num-samples 8 --seeds 2 --out "$T/q.json" --resume --quiet
expect_error 1 "--methods" "$B" bench quality --methods "ddim" --out "$T/x.json"
expect_error 1 "--methods" "$B" bench quality --methods "nosuch:10" --out "$T/x.json"
expect_error 1 "not a modifier" "$B" bench quality --methods "ddim+bogus:10" --out "$T/x.json"
expect_error 1 "ddim only" "$B" bench quality --methods "plms+clipped-eps:10" --out "$T/x.json"
expect_error 1 "ddpm, ddim and heun" "$B" bench quality --methods "unipc+noclip:10" --out "$T/x.json"

# --- bad input ----------------------------------------------------------------------------
$PY -c "
import numpy as np
np.save('$T/w784.npy', np.zeros((10, 784), np.float32))
np.save('$T/empty.npy', np.zeros((0, 1024), np.float32))
np.save('$T/one.npy', np.zeros((1, 1, 32, 32), np.float32))
np.save('$T/int.npy', np.zeros((10, 1024), np.int64))
np.save('$T/nan.npy', np.full((4, 1024), np.nan, np.float32))
import os; os.mkdir('$T/s100')
np.save('$T/s100/mu.npy', np.zeros(100)); np.save('$T/s100/sigma.npy', np.eye(100))
" || fail "making bad inputs"
expect_error 1 "784 values per sample" "$B" eval --samples "$T/w784.npy" --metrics fd
expect_error 1 "empty" "$B" eval --samples "$T/empty.npy" --metrics fd
expect_error 1 "at least 2" "$B" eval --samples "$T/one.npy" --metrics fd
expect_error 1 "int64" "$B" eval --samples "$T/int.npy" --metrics fd
expect_error 1 "non-finite" "$B" eval --samples "$T/nan.npy" --metrics fd
expect_error 1 "dimension 100" "$B" eval --samples "$T/real.npy" --stats "$T/s100" --metrics fd
expect_error 1 "No such" "$B" eval --samples "$T/nope.npy" --metrics fd
expect_error 1 "go together" "$B" eval --model empirical:fashion-mnist,n=10 --scheduler ddim --ot-level 100
expect_error 1 "not both" "$B" eval --model empirical:fashion-mnist,n=10 --scheduler ddim --samples "$T/real.npy"
expect_error 1 "--classifier" "$B" eval --samples "$T/real.npy" --classifier "$T/none"
expect_error 1 "--num-samples" "$B" eval --model empirical:fashion-mnist,n=10 --scheduler ddim --num-samples 1

[ $fails -eq 0 ] && echo "eval_cli: all checks passed"
exit $((fails > 0))
