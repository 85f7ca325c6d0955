/* brisk train: train a UNet2DModel (DDPM) or the classifier on Fashion-MNIST.
 * A thin shell over brisk_train_run (include/brisk/train.h); docs/training.md. */
#include "cli.h"

#include "brisk/core.h"
#include "brisk/json.h"
#include "brisk/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage_main(FILE *fp) {
    fprintf(fp,
            "usage: brisk train unet --config unet.json --steps N --out DIR [options]\n"
            "       brisk train classifier --epochs E --out DIR [options]\n"
            "       brisk train {unet|classifier} --resume DIR [--steps N]\n\n"
            "Trains on Fashion-MNIST (32x32, [-1, 1]). 'brisk train unet --help' and\n"
            "'brisk train classifier --help' list the options; docs/training.md explains them.\n");
}

static void usage_task(FILE *fp, brisk_train_task task) {
    int unet = task == BRISK_TRAIN_UNET;
    fprintf(fp, "usage: brisk train %s %s--out DIR [options]\n\n", unet ? "unet" : "classifier",
            unet ? "--config unet.json --steps N " : "");
    fprintf(fp, "%s",
            unet ? "DDPM epsilon-prediction training of a diffusers UNet2DModel (MSE loss). The\n"
                   "output folder loads in diffusers: config.json, diffusion_pytorch_model.safetensors\n"
                   "(EMA weights), scheduler_config.json, plus training.json and TRAINING.md.\n\n"
                 : "Cross-entropy training of brisk's CNN classifier, with the test accuracy after\n"
                   "every epoch and at the end. Output: config.json, model.safetensors (EMA weights\n"
                   "if --ema > 0), training.json, TRAINING.md.\n\n");
    fprintf(fp,
            "run:\n"
            "  --data NAME            data set: fashion-mnist (default)\n"
            "  --data-dir DIR         Fashion-MNIST folder (default: $BRISK_FASHION_MNIST or\n"
            "                         /usr/share/datasets/fashion-mnist)\n"
            "  --config FILE          %s\n"
            "  --steps N              number of updates (default 1000)\n"
            "  --epochs E             or: E passes over the data (steps = ceil(E n / batch))\n"
            "  --batch B              batch size (default 64)\n"
            "  --limit N              train on the first N images only\n"
            "  --hflip                random horizontal flips (default off)\n"
            "  --seed S               model init, data order and noise (default 0)\n"
            "  --threads N            OpenMP threads (default: all)\n"
            "  --out DIR              output folder (required)\n"
            "optimizer:\n"
            "  --optimizer NAME       adamw (default) or sgd\n"
            "  --lr LR                learning rate (default %s; sgd 0.01)\n"
            "  --weight-decay WD      default 0.01 (adamw), 0 (sgd); conv/linear weights only\n"
            "  --decay-all            apply weight decay to every parameter (biases, norms)\n"
            "  --beta1 B --beta2 B --eps E     AdamW (0.9, 0.999, 1e-8)\n"
            "  --momentum M --dampening D --nesterov   SGD (0, 0, off)\n"
            "  --lr-schedule SPEC [key=value ...]\n"
            "                         an lr schedule ('brisk lr list'), e.g. 'cosine',\n"
            "                         'OneCycleLR(max_lr=1e-3)' or 'rex warmup=500'; total_steps/T_max\n"
            "                         default to the run's steps (default: constant)\n"
            "  --clip MAX             clip the global gradient l2 norm to MAX (default off)\n"
            "  --ema DECAY            EMA of the weights (default %s; 0 = off)\n"
            "  --no-ema-warmup        constant EMA decay (default: min(decay, (1+k)/(10+k)))\n",
            unet ? "UNet2DModel config.json (required; in/out_channels 1, sample_size 32)"
                 : "classifier config (keys of brisk_classifier_config; default 3 stages 32/64/128)",
            unet ? "1e-4" : "1e-3", unet ? "0.9999" : "0");
    if (unet)
        fprintf(fp,
                "diffusion:\n"
                "  --num-train-timesteps T   default 1000\n"
                "  --beta-start B --beta-end B   default 1e-4, 0.02\n"
                "  --beta-schedule NAME   linear (default), scaled_linear, squaredcos_cap_v2\n");
    else
        fprintf(fp,
                "evaluation:\n"
                "  --eval-batch B         test batch size (default 256)\n"
                "  --test-limit N         evaluate on the first N test images only\n");
    fprintf(fp,
            "checkpoints and logs:\n"
            "  --checkpoint-every K   write a checkpoint every K steps (default: at the end)\n"
            "  --checkpoint-dir DIR   default OUT/checkpoint\n"
            "  --resume [DIR]         continue from the checkpoint in DIR (an output or checkpoint\n"
            "                         folder; default --out) bit-identically; other options default\n"
            "                         to the saved ones and must not change the run (--steps may\n"
            "                         grow)\n"
            "  --log-every K          print a log line with the mean loss every K steps\n"
            "  --grad-norm-log FILE   CSV 'step,grad_norm_l2,grad_norm_l1,loss,lr' (brisk lr refine)\n"
            "testing:\n"
            "  --debug-nan-step K     make the loss of step K NaN\n"
            "  --debug-stop-step K    stop with an error after K steps (as if killed)\n");
}

/* ---- progress ------------------------------------------------------------------------- */

typedef struct progress_ctx {
    cli_progress bar;
    int started;
    int log_lines;
    double last_draw;
} progress_ctx;

static void on_event(void *vctx, const brisk_train_event *ev) {
    progress_ctx *c = vctx;
    char extra[160];
    switch (ev->kind) {
    case BRISK_TRAIN_EV_START:
        cli_progress_start(&c->bar, "train", (size_t)(ev->total_steps - ev->start_step));
        c->started = 1;
        if (ev->start_step > 0)
            fprintf(stderr, "resuming at step %ld of %ld\n", ev->start_step, ev->total_steps);
        break;
    case BRISK_TRAIN_EV_STEP: {
        double now = cli_now();
        int last = ev->step == ev->total_steps;
        if (c->log_lines && ev->log) {
            fprintf(stderr, "%sstep %ld/%ld loss %.5f lr %.3e grad l2 %.4g (%.1f s)\n",
                    c->bar.tty ? "\r" : "", ev->step, ev->total_steps, ev->loss_avg, ev->lr,
                    ev->grad_norm_l2, ev->seconds);
        }
        if (!last && c->bar.tty && now - c->last_draw < 0.2) break;
        c->last_draw = now;
        snprintf(extra, sizeof extra, "loss %.4f lr %.2e", ev->loss, ev->lr);
        cli_progress_update(&c->bar, (size_t)(ev->step - ev->start_step), extra);
        break;
    }
    case BRISK_TRAIN_EV_EVAL:
        fprintf(stderr, "%sepoch %ld (step %ld): test accuracy %.2f%%\n", c->bar.tty ? "\n" : "",
                ev->epoch, ev->step, 100 * ev->accuracy);
        break;
    case BRISK_TRAIN_EV_CHECKPOINT:
        if (c->log_lines)
            fprintf(stderr, "%scheckpoint: %s (%ld steps)\n", c->bar.tty ? "\n" : "", ev->path,
                    ev->step);
        break;
    default:
        break;
    }
}

/* ---- arguments ------------------------------------------------------------------------ */

/* "brisk train ..." with shell-unsafe words quoted, for the training summary. */
static char *command_line(int argc, char **argv) {
    size_t cap = 16;
    for (int i = 0; i < argc; i++) cap += 3 + 4 * strlen(argv[i]);
    char *s = malloc(cap), *p = s;
    if (!s) cli_die("out of memory");
    p += sprintf(p, "brisk");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int plain = *a != '\0';
        for (const char *q = a; *q; q++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%",
                        *q))
                plain = 0;
        *p++ = ' ';
        if (plain) {
            p += sprintf(p, "%s", a);
        } else {
            *p++ = '\'';
            for (const char *q = a; *q; q++) {
                if (*q == '\'') p += sprintf(p, "'\\''");
                else *p++ = *q;
            }
            *p++ = '\'';
        }
    }
    *p = '\0';
    return s;
}

static size_t size_arg(const char *opt, const char *v, int allow_zero) {
    long x = cli_long(opt, v);
    if (x < 0 || (!allow_zero && x == 0)) cli_die("%s: '%s' must be %s", opt, v, allow_zero ? ">= 0" : "> 0");
    return (size_t)x;
}

static double nonneg(const char *opt, const char *v) {
    double x = cli_double(opt, v);
    if (x < 0) cli_die("%s: '%s' must be >= 0", opt, v);
    return x;
}

int cmd_train(int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        usage_main(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    brisk_train_task task;
    if (brisk_train_task_from_name(argv[1], &task))
        cli_die("train: unknown model '%s' (valid: unet, classifier)", argv[1]);
    const char *cmdname = task == BRISK_TRAIN_UNET ? "train unet" : "train classifier";
    for (int i = 2; i < argc; i++)
        if (cli_is_help(argv[i])) {
            usage_task(stdout, task);
            return 0;
        }

    /* First pass: --resume [DIR], --out and --optimizer set the starting point. */
    int resume = 0;
    const char *resume_dir = NULL, *out = NULL, *optimizer = NULL;
    for (int i = 2; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--resume")) {
            resume = 1;
            if (i + 1 < argc && strncmp(argv[i + 1], "--", 2)) resume_dir = argv[++i];
        } else if (!strncmp(argv[i], "--resume=", 9)) {
            resume = 1;
            resume_dir = argv[i] + 9;
        } else if (cli_opt(argc, argv, &i, "--out", &v)) {
            out = v;
        } else if (cli_opt(argc, argv, &i, "--optimizer", &v)) {
            optimizer = v;
        }
    }
    brisk_train_options o;
    cJSON *strings = NULL;
    char *ckpt_dir = NULL;
    if (resume) {
        const char *dir = resume_dir ? resume_dir : out;
        if (!dir) cli_die("%s: --resume needs a folder (--resume DIR or --out DIR)", cmdname);
        cJSON *saved;
        int rc = brisk_train_checkpoint_options(dir, &saved, &ckpt_dir);
        if (rc) cli_die_status(rc, cmdname);
        rc = brisk_train_options_from_json(saved, dir, &o, &strings);
        cJSON_Delete(saved);
        if (rc) cli_die_status(rc, cmdname);
        if (o.task != task)
            cli_die("%s: %s holds a '%s' checkpoint", cmdname, dir, brisk_train_task_name(o.task));
        o.checkpoint_dir = ckpt_dir;
        /* the checkpoint lives in DIR/checkpoint: DIR is the output folder */
        size_t n = strlen(dir);
        if (!out && !strncmp(ckpt_dir, dir, n) && !strcmp(ckpt_dir + n, "/checkpoint")) o.out = dir;
        o.resume = 1;
    } else {
        brisk_train_options_default(&o, task);
    }
    if (optimizer) {
        brisk_optim_kind k;
        if (brisk_optim_kind_from_name(optimizer, &k)) cli_die_status(-1, cmdname);
        if (!resume || k != o.optim.kind) {
            double lr = o.optim.lr;
            brisk_optim_params_default(&o.optim, k);
            if (k == BRISK_OPTIM_ADAMW) o.optim.lr = lr;
        }
    }

    /* Second pass: everything else. */
    char *schedule = NULL;
    for (int i = 2; i < argc; i++) {
        const char *v, *a = argv[i];
        if (!strcmp(a, "--resume")) {
            if (i + 1 < argc && strncmp(argv[i + 1], "--", 2)) i++;
        } else if (!strncmp(a, "--resume=", 9)) {
        } else if (cli_opt(argc, argv, &i, "--out", &v)) {
            o.out = v;
        } else if (cli_opt(argc, argv, &i, "--optimizer", &v)) {
        } else if (cli_opt(argc, argv, &i, "--data", &v)) {
            o.data = v;
        } else if (cli_opt(argc, argv, &i, "--data-dir", &v)) {
            o.data_dir = v;
        } else if (cli_opt(argc, argv, &i, "--config", &v)) {
            o.config_path = v;
        } else if (cli_opt(argc, argv, &i, "--steps", &v)) {
            o.steps = (long)size_arg("--steps", v, 0);
            o.epochs = 0;
        } else if (cli_opt(argc, argv, &i, "--epochs", &v)) {
            o.epochs = (long)size_arg("--epochs", v, 0);
        } else if (cli_opt(argc, argv, &i, "--batch", &v)) {
            o.batch = size_arg("--batch", v, 0);
        } else if (cli_opt(argc, argv, &i, "--limit", &v)) {
            o.limit = size_arg("--limit", v, 1);
        } else if (cli_flag(argv, i, "--hflip")) {
            o.hflip = 1;
        } else if (cli_opt(argc, argv, &i, "--seed", &v)) {
            o.seed = cli_u64("--seed", v);
        } else if (cli_opt(argc, argv, &i, "--threads", &v)) {
            brisk_set_num_threads((int)size_arg("--threads", v, 0));
        } else if (cli_opt(argc, argv, &i, "--lr", &v)) {
            o.optim.lr = nonneg("--lr", v);
        } else if (cli_opt(argc, argv, &i, "--weight-decay", &v)) {
            o.optim.weight_decay = nonneg("--weight-decay", v);
        } else if (cli_flag(argv, i, "--decay-all")) {
            o.optim.decay_all = 1;
        } else if (cli_opt(argc, argv, &i, "--beta1", &v)) {
            o.optim.beta1 = cli_double("--beta1", v);
        } else if (cli_opt(argc, argv, &i, "--beta2", &v)) {
            o.optim.beta2 = cli_double("--beta2", v);
        } else if (cli_opt(argc, argv, &i, "--eps", &v)) {
            o.optim.eps = nonneg("--eps", v);
        } else if (cli_opt(argc, argv, &i, "--momentum", &v)) {
            o.optim.momentum = nonneg("--momentum", v);
        } else if (cli_opt(argc, argv, &i, "--dampening", &v)) {
            o.optim.dampening = cli_double("--dampening", v);
        } else if (cli_flag(argv, i, "--nesterov")) {
            o.optim.nesterov = 1;
        } else if (cli_opt(argc, argv, &i, "--lr-schedule", &v)) {
            /* NAME [key=value ...] -> NAME(key=value, ...) */
            size_t cap = strlen(v) + 3;
            int j = i + 1;
            while (j < argc && strncmp(argv[j], "--", 2) && strchr(argv[j], '='))
                cap += strlen(argv[j++]) + 2;
            free(schedule);
            schedule = malloc(cap);
            if (!schedule) cli_die("out of memory");
            if (j == i + 1) {
                strcpy(schedule, v);
            } else {
                if (strchr(v, '('))
                    cli_die("--lr-schedule: give arguments either inside '%s' or as key=value "
                            "words, not both", v);
                char *p = schedule + sprintf(schedule, "%s(", v);
                for (int k = i + 1; k < j; k++)
                    p += sprintf(p, "%s%s", k > i + 1 ? ", " : "", argv[k]);
                strcpy(p, ")");
                i = j - 1;
            }
            o.lr_schedule = schedule;
        } else if (cli_opt(argc, argv, &i, "--clip", &v)) {
            o.clip = nonneg("--clip", v);
        } else if (cli_opt(argc, argv, &i, "--ema", &v)) {
            o.ema = cli_double("--ema", v);
            if (!(o.ema >= 0 && o.ema < 1)) cli_die("--ema: '%s' must be in [0, 1)", v);
        } else if (cli_flag(argv, i, "--no-ema-warmup")) {
            o.ema_warmup = 0;
        } else if (task == BRISK_TRAIN_UNET &&
                   cli_opt(argc, argv, &i, "--num-train-timesteps", &v)) {
            o.num_train_timesteps = (int)size_arg("--num-train-timesteps", v, 0);
        } else if (task == BRISK_TRAIN_UNET && cli_opt(argc, argv, &i, "--beta-start", &v)) {
            o.beta_start = cli_double("--beta-start", v);
        } else if (task == BRISK_TRAIN_UNET && cli_opt(argc, argv, &i, "--beta-end", &v)) {
            o.beta_end = cli_double("--beta-end", v);
        } else if (task == BRISK_TRAIN_UNET && cli_opt(argc, argv, &i, "--beta-schedule", &v)) {
            o.beta_schedule = v;
        } else if (task == BRISK_TRAIN_CLASSIFIER && cli_opt(argc, argv, &i, "--eval-batch", &v)) {
            o.eval_batch = size_arg("--eval-batch", v, 0);
        } else if (task == BRISK_TRAIN_CLASSIFIER && cli_opt(argc, argv, &i, "--test-limit", &v)) {
            o.test_limit = size_arg("--test-limit", v, 1);
        } else if (cli_opt(argc, argv, &i, "--checkpoint-every", &v)) {
            o.checkpoint_every = (long)size_arg("--checkpoint-every", v, 1);
        } else if (cli_opt(argc, argv, &i, "--checkpoint-dir", &v)) {
            o.checkpoint_dir = v;
        } else if (cli_opt(argc, argv, &i, "--log-every", &v)) {
            o.log_every = (long)size_arg("--log-every", v, 1);
        } else if (cli_opt(argc, argv, &i, "--grad-norm-log", &v)) {
            o.grad_norm_log = v;
        } else if (cli_opt(argc, argv, &i, "--debug-nan-step", &v)) {
            o.debug_nan_step = cli_long("--debug-nan-step", v);
        } else if (cli_opt(argc, argv, &i, "--debug-stop-step", &v)) {
            o.debug_stop_step = cli_long("--debug-stop-step", v);
        } else {
            cli_unknown_option(cmdname, a);
        }
    }
    if (!o.out) cli_die("%s: --out DIR is required", cmdname);
    if (task == BRISK_TRAIN_UNET && !resume && !o.config_path)
        cli_die("%s: --config FILE is required (a UNet2DModel config.json)", cmdname);
    char *cmd = command_line(argc, argv);
    o.command = cmd;

    progress_ctx pc = {.log_lines = o.log_every > 0};
    brisk_train_result res;
    int rc = brisk_train_run(&o, on_event, &pc, &res);
    if (rc) {
        if (pc.started && pc.bar.tty) fputc('\n', stderr);
        cli_die_status(rc, cmdname);
    }
    printf("wrote %s: %ld steps, %zu parameters, %.1f s (%.4f s/step), final loss %.5f", o.out,
           res.steps, res.n_params, res.seconds, res.steps ? res.seconds / res.steps : 0.0,
           res.final_loss);
    if (!isnan(res.test_accuracy)) printf(", test accuracy %.2f%%", 100 * res.test_accuracy);
    printf("\n");
    free(cmd);
    free(schedule);
    brisk_free(ckpt_dir);
    cJSON_Delete(strings);
    return 0;
}
