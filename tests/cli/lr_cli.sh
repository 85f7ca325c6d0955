#!/usr/bin/env bash
# brisk lr: list, per-schedule help, table/csv/json output, several schedules at once,
# plots, refine, and a one-line error with a non-zero exit for every kind of bad input.
set -u
B="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

. "$(dirname "$0")/counted.bash"

ok list "$B" lr list
has list "$T/out" "OneCycleLR"
has list "$T/out" "rex"
ok help "$B" lr --help
has help "$T/out" "brisk lr refine"
ok kind_help "$B" lr OneCycleLR --help
has kind_help "$T/out" "--total_steps int"
has kind_help "$T/out" "default 0.3"
ok alias_help "$B" lr cosine --help
has alias_help "$T/out" "CosineAnnealingLR"

# StepLR: 0.1 until step 29, 0.01 from step 30 (torch's float: 0.010000000000000002)
ok steplr "$B" lr StepLR --step_size 30 --steps 100 --format csv
has steplr "$T/out" "step,StepLR"
has steplr "$T/out" "29,0.1"
has steplr "$T/out" "30,0.010000000000000002"
[ "$(wc -l <"$T/out")" -eq 101 ] && pass=$((pass + 1)) || { echo "FAIL: steplr rows"; fail=$((fail + 1)); }

# several schedules side by side; OneCycleLR adds its momentum column
ok multi "$B" lr rex --total_steps 100 OneCycleLR --max_lr 0.1 --total_steps 100 rex --total_steps 100 --sampling 10 --steps 100 --format csv
has multi "$T/out" "step,rex,OneCycleLR,OneCycleLR:mom,rex#2"
has multi "$T/out" "1,0.09949748743718594,"
has multi "$T/out" "0,0.1,0.0040000000000000036,0.95,0.1"

# a SequentialLR given on the command line matches the torch vector
ok sequential "$B" lr SequentialLR --milestones 5 --schedulers 'LinearLR(start_factor=0.01, total_iters=5), CosineAnnealingLR(T_max=45)' --steps 50 --format csv
has sequential "$T/out" "5,0.1"
has sequential "$T/out" "49,0.00012179748700879013"
ok spec_form "$B" lr 'MultiStepLR(milestones=[30, 60, 90])' --steps 100 --format csv
has spec_form "$T/out" "99,0.00010000000000000003"

ok json "$B" lr warmup_poly --total_steps 20 --warmup_steps 4 --steps 20 --format json --out "$T/lr.json"
has json "$T/lr.json" '"lr": [0.025, 0.05, 0.07500000000000001, 0.1, 0.1, 0.09375,'
has json "$T/lr.json" '"spec": {"class":"warmup_poly"'

ok epoch "$B" lr rex --total_steps 20 --sampling epoch --steps-per-epoch 5 --steps 20
has epoch "$T/out" "epoch"

printf '1.0\n0.9\n0.9\n0.9\n0.9\n0.9\n0.9\n0.9\n0.9\n' >"$T/metrics.txt"
ok plateau "$B" lr ReduceLROnPlateau --patience 1 --factor 0.5 --steps 8 --metrics "$T/metrics.txt" --format csv
has plateau "$T/out" "4,0.05"
has plateau "$T/out" "6,0.025"

ok plot_png "$B" lr rex --total_steps 200 CyclicLR --base_lr 0.01 --max_lr 0.1 --step_size_up 25 --steps 200 --plot "$T/p.png"
[ "$(head -c 4 "$T/p.png" | od -An -c | tr -d ' ')" = "211PNG" ] && pass=$((pass + 1)) || { echo "FAIL: png signature"; fail=$((fail + 1)); }
ok plot_svg "$B" lr cosine --T_max 50 --steps 120 --plot "$T/p.svg"
has plot_svg "$T/p.svg" "<polyline"

ok refine "$B" lr refine --grad-norms tests/data/lr/synthetic_gnorm_brisk.csv --steps 100 --format csv
has refine "$T/out" "step,grad_norm_smoothed,refined_l2"
has refine "$T/out" "99,"
[ "$(tail -1 "$T/out" | cut -d, -f3)" = "0" ] && pass=$((pass + 1)) || { echo "FAIL: refined ends at 0"; fail=$((fail + 1)); }
ok refine_l1 "$B" lr refine --grad-norms tests/data/lr/synthetic_gnorm_brisk.csv --l1 --steps 50 --plot "$T/r.png"
ok refine_wandb "$B" lr refine --grad-norms tests/data/lr/synthetic_gnorm_wandb.csv --steps 50
ok refined_kind "$B" lr refined --grad_norms tests/data/lr/synthetic_gnorm_wandb.csv --total_steps 50 --steps 50

# bad input: one line naming the problem, non-zero exit
bad unknown_schedule "unknown schedule 'nope'" "$B" lr nope --steps 5
bad unknown_param "has no parameter 'bogus'" "$B" lr StepLR --bogus 1 --steps 5
bad bad_number "gamma='abc' must be a number" "$B" lr StepLR --step_size 3 --gamma abc --steps 5
bad missing_required "missing required argument 'step_size'" "$B" lr StepLR --steps 5
bad no_steps "--steps" "$B" lr StepLR --step_size 3
bad bad_steps "is not an integer" "$B" lr StepLR --step_size 3 --steps ten
bad bad_format "--format" "$B" lr StepLR --step_size 3 --steps 5 --format xml
bad start_factor "start_factor" "$B" lr LinearLR --start_factor 0 --steps 5
bad t_mult "T_mult" "$B" lr CosineAnnealingWarmRestarts --T_0 10 --T_mult 1.5 --steps 5
bad onecycle_past "total steps is 10" "$B" lr OneCycleLR --max_lr 0.1 --total_steps 10 --steps 12
bad plateau_metrics "--metrics" "$B" lr plateau --steps 5
bad plot_ext "png or .svg" "$B" lr rex --total_steps 10 --steps 10 --plot "$T/p.gif"
bad unknown_option "unknown option" "$B" lr refine --grad-norms x.csv --steps 5 --bogus
bad refine_missing "cannot open" "$B" lr refine --grad-norms "$T/none.csv" --steps 5
: >"$T/empty.csv"
bad refine_empty "empty file" "$B" lr refine --grad-norms "$T/empty.csv" --steps 5
printf 'step,grad_norm_l2,grad_norm_l1\n0,1,2\n1,x,3\n' >"$T/word.csv"
bad refine_cell "line 3, column 2: 'x' is not a number" "$B" lr refine --grad-norms "$T/word.csv" --steps 5
printf 'step,grad_norm_l2,grad_norm_l1\n0,1,2\n1,-2,3\n' >"$T/neg.csv"
bad refine_negative "negative gradient norm" "$B" lr refine --grad-norms "$T/neg.csv" --steps 5
bad refine_steps "--steps" "$B" lr refine --grad-norms tests/data/lr/tiny_gnorm.csv

echo "lr_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
