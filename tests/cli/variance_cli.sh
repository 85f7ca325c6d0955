#!/usr/bin/env bash
# brisk variance: items / irt / compare / checkpoints / report on the shipped fixtures in
# every format, the JSON contract keys, and a one-line error with a non-zero exit (and no
# output file) for every kind of bad input.
set -u
B="$1"
D=tests/data/stats
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

. "$(dirname "$0")/counted.bash"
json_check() { # name, file, python expression over d (the parsed document)
    if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert ($3), 'check failed'" "$2" 2>"$T/perr"; then
        pass=$((pass + 1)); else echo "FAIL: $1: $3"; cat "$T/perr"; fail=$((fail + 1)); fi
}

# ---- items
ok "help" "$B" variance items --help
has "help text" "$T/out" "item-rest"
ok "items table" "$B" variance items $D/chembench_subset.csv --bootstrap 200
has "items table layout" "$T/out" "22 models x 300 items (items-by-models, header yes, index column yes"
has "items table model" "$T/out" "GPT-4o"
ok "items json" "$B" variance items $D/chembench_subset.csv --format json --bootstrap 200 --output "$T/items.json"
json_check "items contract" "$T/items.json" "d['n_models'] == 22 and d['n_items'] == 300 and all(k in d['models'][0] for k in ('name','mean','stderr','ci95_half_width')) and all(k in d['items'][0] for k in ('difficulty','discrimination'))"
json_check "items null discrimination" "$T/items.json" "any(i['discrimination'] is None for i in d['items'])"
json_check "items values" "$T/items.json" "abs(d['models'][7]['mean'] - 0.6) < 1 and d['models'][7]['name'] == 'GPT-4o'"
ok "items csv" "$B" variance items $D/chembench_subset.csv --format csv --bootstrap 0
has "items csv header" "$T/out" "name,mean,stderr,ci95_half_width"
ok "items per-item csv" "$B" variance items $D/chembench_subset.csv --format csv --per-item --bootstrap 0
has "per-item csv" "$T/out" "item,name,difficulty,discrimination,low_discrimination"
ok "items forced layout" "$B" variance items $D/chembench_subset.csv --layout models-by-items --bootstrap 0
has "forced layout" "$T/out" "300 models x 22 items"
# same seed -> same bootstrap, other thread count too
"$B" variance items $D/chembench_subset.csv --format csv --bootstrap 300 --seed 3 --threads 1 >"$T/t1" 2>/dev/null
"$B" variance items $D/chembench_subset.csv --format csv --bootstrap 300 --seed 3 --threads 2 >"$T/t2" 2>/dev/null
if cmp -s "$T/t1" "$T/t2"; then pass=$((pass + 1)); else echo "FAIL: bootstrap differs across thread counts"; fail=$((fail + 1)); fi

# ---- bad matrices
printf '1,0,1,1\n0,1,1,0\n1,1,0\n' >"$T/ragged.csv"
bad "ragged" "ragged.csv:3: row 3 has 3 fields, expected 4" "$B" variance items "$T/ragged.csv" --output "$T/never.json"
[ -e "$T/never.json" ] && { echo "FAIL: output written on error"; fail=$((fail + 1)); } || pass=$((pass + 1))
printf '1,0,1,1\n0,abc,1,0\n' >"$T/nonnum.csv"
bad "non-numeric" "nonnum.csv:2: column 2: 'abc' is not a finite number" "$B" variance items "$T/nonnum.csv"
: >"$T/empty.csv"
bad "empty" "empty.csv: empty file" "$B" variance items "$T/empty.csv"
bad "missing file" "nothere.csv" "$B" variance items "$T/nothere.csv"
bad "bad layout" "unknown layout 'diagonal'" "$B" variance items $D/chembench_subset.csv --layout diagonal
bad "bad header flag" "--header: 'maybe' is not yes, no or auto" "$B" variance items $D/chembench_subset.csv --header maybe
bad "unknown option" "unknown option '--frobnicate'" "$B" variance items $D/chembench_subset.csv --frobnicate
bad "bad format" "--format: 'xml'" "$B" variance items $D/chembench_subset.csv --format xml
bad "unknown subcommand" "unknown command 'itemz'" "$B" variance itemz

# ---- irt
ok "irt 1pl" "$B" variance irt $D/chembench_subset.csv --model 1pl --anchors 30
has "irt summary" "$T/out" "IRT 1pl: log-likelihood"
has "irt heldout" "$T/out" "held-out"
ok "irt 2pl json" "$B" variance irt $D/chembench_subset.csv --model 2pl --format json --anchors 30 --output "$T/irt.json"
json_check "irt keys" "$T/irt.json" "d['model'] == '2pl' and len(d['abilities']) == 22 and len(d['items']) == 300 and d['heldout']['log_likelihood'] < 0 and 'pirt' in d"
bad "irt model" "unknown IRT model '3pl'" "$B" variance irt $D/chembench_subset.csv --model 3pl
printf '0.5,2,0,1\n1,0,1,0\n' >"$T/range.csv"
bad "irt range" "[0, 1]" "$B" variance irt "$T/range.csv"

# ---- compare
ok "compare matrix" "$B" variance compare $D/chembench_subset.csv --a GPT-4o --b "Claude-3.5 (Sonnet)" --format json
json_check "compare contract" "$T/out" "all(k in d for k in ('mean_diff','stderr','ci95')) and len(d['ci95']) == 2 and d['paired']"
ok "compare by index" "$B" variance compare $D/chembench_subset.csv --a 7 --b 2 --seed-sd 0.01 --seeds 3
has "compare table" "$T/out" "minimum detectable difference"
R=$D/runs
ok "compare logs" "$B" variance compare $R/A/seed0/step4000/samples_arc_easy_2024-06-01T12-00-00.123456.jsonl $R/B/seed0/step4000/samples_arc_easy_2024-06-01T12-00-00.123456.jsonl --metric prob_norm --bootstrap 200 --format csv
has "compare csv" "$T/out" "a,b,paired,n,mean_a"
ok "compare results json" "$B" variance compare $D/pythia/1.4b_step143000.json $D/pythia/160m_step143000.json --task arc_easy --metric acc
has "compare unpaired" "$T/out" "unpaired"
bad "compare unknown model" "no model named 'GPT-5'" "$B" variance compare $D/chembench_subset.csv --a GPT-5 --b 0
head -10 $R/B/seed0/step4000/samples_arc_easy_2024-06-01T12-00-00.123456.jsonl >"$T/short.jsonl"
bad "compare mismatched items" "has 30 docs but" "$B" variance compare $R/A/seed0/step4000/samples_arc_easy_2024-06-01T12-00-00.123456.jsonl "$T/short.jsonl"
bad "compare unknown metric" "no metric 'f1'" "$B" variance compare $R/A/seed0/step4000/samples_arc_easy_2024-06-01T12-00-00.123456.jsonl $R/B/seed0/step4000/samples_arc_easy_2024-06-01T12-00-00.123456.jsonl --metric f1
bad "compare unknown task" "unknown task 'arc_hard'" "$B" variance compare $D/pythia/1.4b_step143000.json $D/pythia/160m_step143000.json --task arc_hard --metric acc
printf '{"doc_id": 0, "acc": 1}\n{"doc_id": 0, "acc": 0}\n' >"$T/dup.jsonl"
bad "duplicate doc_id" "dup.jsonl:2: duplicate doc_id 0 (first on line 1)" "$B" variance compare "$T/dup.jsonl" "$T/dup.jsonl"
printf '{"doc_id": 0, "metrics": ["acc"], "acc": 1}\n{"doc_id": 1}\n' >"$T/miss.jsonl"
bad "missing metric field" "miss.jsonl:2: missing metric field 'acc'" "$B" variance compare "$T/miss.jsonl" "$T/miss.jsonl"

# ---- checkpoints
ok "checkpoints" "$B" variance checkpoints $D/pythia/160m_step*.json --task arc_easy --metric acc --format json
json_check "checkpoints contract" "$T/out" "'series' in d['tasks']['arc_easy'] and 'kendall_tau_b' in d['tasks']['arc_easy'] and len(d['tasks']['arc_easy']['series']) == 6"
ok "checkpoints table series" "$B" variance checkpoints $D/pythia/*_step*.json --task 'arc_easy,lambada_openai' --metric acc,ppl --series
has "checkpoints two models" "$T/out" "1.4b"
ok "checkpoints group" "$B" variance checkpoints $D/pythia/160m_step*.json --task 'hendrycksTest-*' --group mmlu --metric acc --format csv
has "group row" "$T/out" "mmlu,acc,discrete,160m"
bad "checkpoints unknown task" "unknown task 'hellaswag'" "$B" variance checkpoints $D/pythia/160m_step*.json --task hellaswag --metric acc
bad "checkpoints unknown metric" "unknown metric 'bleu' for task 'arc_easy'" "$B" variance checkpoints $D/pythia/160m_step*.json --task arc_easy --metric bleu
cp $D/pythia/160m_step0.json "$T/nostep.json"
bad "checkpoints no step" "no checkpoint step" "$B" variance checkpoints "$T/nostep.json" --task arc_easy --metric acc
ok "checkpoints --steps" "$B" variance checkpoints "$T/nostep.json" --steps 5 --task arc_easy --metric acc

ok "checkpoints on logs" "$B" variance checkpoints $R/*/seed*/step*/*.jsonl --metric acc,prob_norm --format csv
has "checkpoints logs seeds from folders" "$T/out" "arc_easy,acc,discrete,A,3,"

# ---- report
ok "report" "$B" variance report $R/manifest.csv
has "report discrete and continuous" "$T/out" "prob_norm"
has "report comparison" "$T/out" "A - B at step 4000"
ok "report json" "$B" variance report $R/manifest.csv --format json --output "$T/report.json"
json_check "report keys" "$T/report.json" "d['tasks']['arc_easy']['metrics']['acc']['models'][0]['n_seeds'] == 3 and d['tasks']['arc_easy']['metrics']['prob']['kind'] == 'continuous' and len(d['tasks']['arc_easy']['comparisons']) == 1"
printf 'file,model,seed,step\nx.jsonl,A,zero,1000\n' >"$T/badman.csv"
bad "report bad seed" "badman.csv:2: seed 'zero' is not an integer" "$B" variance report "$T/badman.csv"
printf 'file,model,seed,step\nmissing.jsonl,A,0,1000\n' >"$T/missman.csv"
bad "report missing file" "missing.jsonl" "$B" variance report "$T/missman.csv"

echo "variance_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
