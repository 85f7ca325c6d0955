/* brisk sample: draw samples from a model (analytic denoiser or UNet) with any sampler and
 * write a PNG grid or a .npy array. A thin shell over brisk_sample_run. */
#include "cli.h"

#include "brisk/core.h"
#include "brisk/denoiser.h"
#include "brisk/diffusion.h"
#include "brisk/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: brisk sample --model SPEC (--scheduler NAME | --scheduler-config FILE)\n"
            "                    [--steps N] [--num-samples K] [--seed S] --out FILE.png|FILE.npy\n\n"
            "Samples K images/vectors from a model with one sampler and writes a PNG grid\n"
            "(image-shaped models, values in [-1, 1]) or a float32 .npy of shape (K, dim) or\n"
            "(K, C, H, W). Prints the NFE (model calls per sample), the wall time and the time\n"
            "per sample; progress goes to stderr.\n\n"
            "  --model SPEC             gaussian:dim=6,mean=0.5,std=0.8 | gaussian:FILE.json |\n"
            "                           gmm:FILE.json | empirical:fashion-mnist[,n=N,precision=f32|f64]\n"
            "                           | empirical:FILE.npy | unet:DIR   (docs/sample.md)\n"
            "  --scheduler NAME         ddpm ddim pndm plms euler heun dpmpp-2m unipc ipndm\n"
            "                           pseudo-euler spndm fpndm fon pf (diffusers defaults)\n"
            "  --scheduler-config FILE  a diffusers scheduler_config.json instead of --scheduler\n"
            "  --steps N                inference steps (default 50)\n"
            "  --num-samples K          number of samples (default 64)\n"
            "  --seed S                 noise seed (default 0); sample i's noise depends only on (S, i)\n"
            "  --batch B                samples per sampler run (default min(K, 64))\n"
            "  --time-mode M            diffusers | reference | grid (default: the config's)\n"
            "  --eta E                  DDIM eta (default 0: deterministic)\n"
            "  --cols C                 PNG grid columns (default ceil(sqrt(K)))\n"
            "  --threads T              worker threads (default: all)\n"
            "  --quiet                  no progress on stderr\n"
            "  --out FILE               .png (grid) or .npy\n");
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static void warn_key(void *ctx, const char *what, const char *key) {
    (void)ctx;
    fprintf(stderr, "brisk sample: %s: unknown key '%s' ignored\n", what, key);
}

typedef struct progress_ctx {
    cli_progress bar;
    int drawn;          /* something is on the terminal line */
    size_t done_before; /* calls of earlier batches */
    size_t per_batch;   /* planned calls per batch (0 for adaptive samplers) */
    size_t n_batches;
    int quiet;
    int adaptive;       /* PF: calls are not planned; report per batch instead */
} progress_ctx;

static int on_progress(void *vctx, size_t done, size_t planned) {
    progress_ctx *p = vctx;
    if (p->quiet || p->adaptive) return 0;
    if (!p->per_batch && planned) {
        p->per_batch = planned;
        p->bar.total = planned * p->n_batches;
    }
    size_t total_done = p->done_before + done;
    if (p->bar.total && total_done > p->bar.total) p->bar.total = total_done;
    cli_progress_update(&p->bar, total_done, NULL);
    p->drawn = 1;
    return 0;
}

int cmd_sample(int argc, char **argv) {
    const char *model = NULL, *sched_name = NULL, *sched_file = NULL, *out = NULL;
    const char *time_mode = NULL, *v;
    long steps = 50, num = 64, batch = 0, cols = 0, threads = 0;
    unsigned long long seed = 0;
    double eta = 0.0;
    int eta_given = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (cli_opt(argc, argv, &i, "--model", &model)) {
        } else if (cli_opt(argc, argv, &i, "--scheduler", &sched_name)) {
        } else if (cli_opt(argc, argv, &i, "--scheduler-config", &sched_file)) {
        } else if (cli_opt(argc, argv, &i, "--out", &out)) {
        } else if (cli_opt(argc, argv, &i, "--time-mode", &time_mode)) {
        } else if (cli_opt(argc, argv, &i, "--steps", &v)) {
            steps = cli_long("--steps", v);
        } else if (cli_opt(argc, argv, &i, "--num-samples", &v)) {
            num = cli_long("--num-samples", v);
        } else if (cli_opt(argc, argv, &i, "--seed", &v)) {
            seed = cli_u64("--seed", v);
        } else if (cli_opt(argc, argv, &i, "--batch", &v)) {
            batch = cli_long("--batch", v);
        } else if (cli_opt(argc, argv, &i, "--cols", &v)) {
            cols = cli_long("--cols", v);
        } else if (cli_opt(argc, argv, &i, "--threads", &v)) {
            threads = cli_long("--threads", v);
        } else if (cli_opt(argc, argv, &i, "--eta", &v)) {
            eta = cli_double("--eta", v);
            eta_given = 1;
        } else if (cli_flag(argv, i, "--quiet")) {
            quiet = 1;
        } else {
            cli_unknown_option("sample", argv[i]);
        }
    }
    if (!model) cli_die("sample: --model is required (see 'brisk sample --help')");
    if (!sched_name && !sched_file)
        cli_die("sample: --scheduler NAME or --scheduler-config FILE is required");
    if (sched_name && sched_file) cli_die("sample: give --scheduler or --scheduler-config, not both");
    if (!out) cli_die("sample: --out FILE.png|FILE.npy is required");
    int png = ends_with(out, ".png");
    if (!png && !ends_with(out, ".npy")) cli_die("--out: '%s' must end in .png or .npy", out);
    if (steps < 1 || steps > 100000) cli_die("--steps: %ld is outside 1..100000", steps);
    if (num < 1 || num > 10000000) cli_die("--num-samples: %ld is outside 1..10000000", num);
    if (batch < 0 || batch > 1000000) cli_die("--batch: %ld is outside 1..1000000", batch);
    if (cols < 0 || cols > 100000) cli_die("--cols: %ld must be positive", cols);
    if (threads < 0 || threads > 4096) cli_die("--threads: %ld is outside 1..4096", threads);
    if (eta_given && !(eta >= 0.0)) cli_die("--eta: %g must be >= 0", eta);
    if (batch == 0) batch = num < 64 ? num : 64;
    if (batch > num) batch = num;
    if (threads) brisk_set_num_threads((int)threads);

    /* scheduler */
    brisk_scheduler_config cfg;
    int rc;
    if (sched_name) {
        brisk_sampler_kind kind;
        if ((rc = brisk_sampler_kind_from_name(sched_name, &kind))) cli_die_status(rc, "--scheduler");
        brisk_scheduler_config_default(&cfg, kind);
    } else if ((rc = brisk_scheduler_config_load(sched_file, &cfg, warn_key, NULL))) {
        cli_die_status(rc, "--scheduler-config");
    }
    if (time_mode && (rc = brisk_time_mode_from_name(time_mode, &cfg.time_mode)))
        cli_die_status(rc, "--time-mode");
    if (eta_given) {
        if (cfg.kind != BRISK_SAMPLER_DDIM)
            cli_die("--eta: applies to the ddim scheduler only (this one is %s)",
                    brisk_sampler_kind_name(cfg.kind));
        cfg.eta = eta;
    }
    brisk_scheduler *s;
    if ((rc = brisk_scheduler_create(&cfg, &s))) cli_die_status(rc, "scheduler");
    /* check the step count before loading a (possibly large) model */
    if ((rc = brisk_scheduler_set_timesteps(s, (int)steps, 1, 1))) cli_die_status(rc, "--steps");

    /* model */
    double t0 = cli_now();
    brisk_denoiser *d;
    if ((rc = brisk_denoiser_from_spec(model, cfg.prediction_type, &d))) cli_die_status(rc, "--model");
    double t_load = cli_now() - t0;
    size_t dim = d->dim;
    int is_image = d->c && d->h && d->w;
    if (png && !is_image)
        cli_die("--out: '%s' is a PNG, but model '%s' is not image-shaped (dim %zu); write .npy "
                "(or give a gaussian shape=CxHxW)", out, model, dim);
    if (png && d->c != 1 && d->c != 3)
        cli_die("--out: PNG grids need 1 or 3 channels, the model has %zu", d->c);

    size_t K = (size_t)num, Bm = (size_t)batch;
    float *result = brisk_malloc(K * dim * sizeof(float));
    double *x = brisk_malloc(Bm * dim * sizeof(double));
    if (!result || !x) cli_die_status(BRISK_ENOMEM, "sample");

    progress_ctx pc = {.n_batches = (K + Bm - 1) / Bm, .quiet = quiet,
                       .adaptive = brisk_scheduler_num_model_calls(s) == 0};
    cli_progress_start(&pc.bar, "sampling", 0);
    brisk_run_options opt;
    brisk_run_options_default(&opt);
    opt.seed = seed;
    opt.progress = on_progress;
    opt.progress_ctx = &pc;
    size_t nfe = 0, nfe_min = (size_t)-1, nfe_max = 0;
    double t_run = cli_now();
    for (size_t off = 0; off < K; off += Bm) {
        size_t nb = K - off < Bm ? K - off : Bm;
        brisk_sample_init_noise(seed, off, nb, dim, x);
        opt.sample_offset = off;
        brisk_run_stats st;
        rc = brisk_sample_run(s, d, (int)steps, x, nb, &opt, &st);
        if (rc) {
            if (pc.drawn && pc.bar.tty) fputc('\n', stderr);
            cli_die_status(rc, "sample");
        }
        pc.done_before += st.nfe;
        if (pc.adaptive && !quiet)
            fprintf(stderr, "sampling: batch %zu/%zu done, %zu model calls\n", off / Bm + 1, pc.n_batches,
                    st.nfe);
        nfe += st.nfe;
        if (st.nfe < nfe_min) nfe_min = st.nfe;
        if (st.nfe > nfe_max) nfe_max = st.nfe;
        for (size_t i = 0; i < nb * dim; i++) result[off * dim + i] = (float)x[i];
    }
    double wall = cli_now() - t_run;
    if (!quiet && pc.bar.tty && pc.bar.total) cli_progress_update(&pc.bar, pc.bar.total, NULL);

    if (png) {
        rc = brisk_png_write_grid(out, result, K, d->c, d->h, d->w, (size_t)cols, -1.0f, 1.0f);
    } else if (is_image) {
        size_t shape[4] = {K, d->c, d->h, d->w};
        rc = brisk_npy_write_f32(out, result, 4, shape);
    } else {
        size_t shape[2] = {K, dim};
        rc = brisk_npy_write_f32(out, result, 2, shape);
    }
    if (rc) cli_die_status(rc, "--out");

    size_t n_batches = pc.n_batches;
    if (pc.adaptive)
        printf("sampler %s (adaptive RK45, rtol %g, atol %g): NFE %zu per sample",
               brisk_sampler_kind_name(cfg.kind), cfg.pf_rtol, cfg.pf_atol, nfe_max);
    else
        printf("sampler %s (%s mode), %ld steps: NFE %zu per sample", brisk_sampler_kind_name(cfg.kind),
               brisk_time_mode_name(cfg.time_mode), steps, nfe_max);
    if (nfe_min != nfe_max) printf(" (adaptive: %zu..%zu per batch)", nfe_min, nfe_max);
    printf("\n%zu samples (%zu batch%s of <= %zu) in %.2f s: %.4f s per sample"
           " (model loaded in %.2f s)\n",
           K, n_batches, n_batches == 1 ? "" : "es", Bm, wall, wall / (double)K, t_load);
    printf("wrote %s\n", out);
    brisk_free(result);
    brisk_free(x);
    brisk_denoiser_free(d);
    brisk_scheduler_free(s);
    brisk_scheduler_config_clear(&cfg);
    return 0;
}
