/* brisk ot: semi-discrete optimal transport for DPM-OT (fit, assign, latents).
 * A thin shell over brisk/ot.h. */
#include "cli.h"

#include "brisk/core.h"
#include "brisk/io.h"
#include "brisk/ot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage_ot(FILE *fp) {
    fprintf(fp,
            "usage: brisk ot SUBCOMMAND [options]   (brisk ot SUBCOMMAND --help for details)\n\n"
            "Semi-discrete optimal transport from N(0, I) or uniform noise to N target points\n"
            "(DPM-OT). A sample x belongs to cell argmax_i <x, y_i> + h_i.\n\n"
            "subcommands:\n"
            "  fit       fit the dual potential h to targets; writes h (float64 .npy)\n"
            "  assign    assign noise samples (or given points) to their cells\n"
            "  latents   Fashion-MNIST training images diffused to level t (OT targets)\n");
}

static void usage_fit(FILE *fp) {
    fprintf(fp,
            "usage: brisk ot fit (--targets Y.npy | --data fashion-mnist --level T --num N)\n"
            "                    --out h.npy [options]\n\n"
            "Fits the potential h (length N, float64) of the semi-discrete OT map from the source\n"
            "measure to the N targets with weights 1/N, by Adam on the Monte-Carlo gradient g - 1/N.\n\n"
            "  --targets PATH         (N, D) float32 .npy (float64 is converted)\n"
            "  --data fashion-mnist   targets = training images diffused to --level (see 'ot latents')\n"
            "  --level T              diffusion level of --data targets, 0..999\n"
            "  --num N                number of --data images (default 1000)\n"
            "  --latent-seed S        seed of the fixed noise of --data targets (default 0)\n"
            "  --out PATH             where to write h (rank-1 float64 .npy)\n"
            "  --source normal|uniform  N(0, I) (default) or uniform on [-1, 1]^D\n"
            "  --seed S               Monte-Carlo seed (default 0); the result depends only on it\n"
            "  --tol T                stop when ||g - 1/N||_2 < T and no cell is empty (default 8e-4)\n"
            "  --max-iter K           at most K iterations (default 2000)\n"
            "  --samples-per-iter M   Monte-Carlo samples per iteration (default 10 N)\n"
            "  --lr LR                Adam learning rate (default 0.1)\n"
            "  --optimizer authors|adam  Adam without bias correction (DPM-OT code, default) or\n"
            "                         bias-corrected Adam; both subtract mean(h) after each step\n"
            "  --patience P           iterations without a new best norm before M doubles and lr\n"
            "                         decays (default 50)\n"
            "  --max-doublings K      at most K doublings of M (default 3)\n"
            "  --lr-decay F           lr factor at each doubling (default 0.8)\n"
            "  --init PATH            start from this h instead of zeros\n"
            "  --threads N            OpenMP threads (results do not depend on it)\n"
            "  --log-every K          progress line every K iterations (default 10; 0: events only)\n"
            "  --quiet                no progress lines\n");
}

static void usage_assign(FILE *fp) {
    fprintf(fp,
            "usage: brisk ot assign --targets Y.npy --h h.npy (--num-samples K [--seed S] |\n"
            "                       --points X.npy) [--out idx.npy] [options]\n\n"
            "Writes the cell index (int64) of each sample and prints how evenly the samples fill the\n"
            "cells (a held-out check of a fit). Drawn samples are the sampler's initial\n"
            "noise: sample i = Philox (seed, i, stream BRISK_RNG_INIT), as in 'brisk sample'.\n\n"
            "  --targets PATH        (N, D) targets the potential was fitted to\n"
            "  --h PATH              the potential (length N)\n"
            "  --num-samples K       draw K source samples\n"
            "  --seed S              seed of the drawn samples (default 0)\n"
            "  --points PATH         (K, D) points to assign instead (float32 or float64)\n"
            "  --source normal|uniform  the source measure of drawn samples (default normal)\n"
            "  --out PATH            cell indices, int64 (K,) (without it: only the summary)\n"
            "  --latents-out PATH    also write each sample's target, (K, D) float32\n"
            "  --threads N           OpenMP threads\n");
}

static void usage_latents(FILE *fp) {
    fprintf(fp,
            "usage: brisk ot latents --data fashion-mnist --level T --num N [--seed S] --out PATH\n\n"
            "Data latents for DPM-OT: the first N Fashion-MNIST training images (32x32, [-1, 1])\n"
            "diffused to level T with fixed noise: y_T = sqrt(a_T) y_0 + sqrt(1 - a_T) eps_i, eps_i\n"
            "from Philox (seed, i). a_T = alpha-bar of the linear beta schedule (default 1e-4..0.02,\n"
            "T = 1000). Writes (N, 1024) float32.\n\n"
            "  --data fashion-mnist  the data set (BRISK_FASHION_MNIST overrides its directory)\n"
            "  --level T             0 .. num-train-timesteps - 1\n"
            "  --num N               number of training images\n"
            "  --seed S              noise seed (default 0)\n"
            "  --out PATH            latents, (N, 1024) float32\n"
            "  --labels-out PATH     their class labels, uint8 (N,)\n"
            "  --num-train-timesteps T  (default 1000)\n"
            "  --beta-start B, --beta-end B  (default 1e-4, 0.02)\n");
}

/* ---- fit ------------------------------------------------------------------------- */

typedef struct fit_log {
    int every;
    int quiet;
} fit_log;

static int fit_progress(void *ctx, const brisk_ot_iter *it) {
    const fit_log *lg = ctx;
    if (lg->quiet) return 0;
    int show = it->iter == 1 || it->event != BRISK_OT_EVENT_NONE ||
               (lg->every > 0 && it->iter % lg->every == 0);
    if (show)
        fprintf(stderr,
                "ot fit: iter %d  |g-1/N| %.4e  max %.3e  empty %zu  M %zu  lr %.4g  E %.6f  "
                "%.1fs\n",
                it->iter, it->grad_norm, it->max_grad, it->empty, it->m, it->lr, it->energy,
                it->seconds);
    if (it->event == BRISK_OT_EVENT_DOUBLED)
        fprintf(stderr, "ot fit: iter %d: the norm stalled: M -> %zu, lr -> %.4g (doubling %d)\n",
                it->iter, it->m * 2, it->lr, it->doublings);
    fflush(stderr);
    return 0;
}

static int data_is_fmnist(const char *name) {
    if (strcmp(name, "fashion-mnist") != 0)
        cli_die("--data: unknown data set '%s' (valid: fashion-mnist)", name);
    return 1;
}

static int ot_fit(int argc, char **argv) {
    const char *targets = NULL, *data = NULL, *out = NULL, *init = NULL, *v;
    brisk_ot_params p;
    brisk_ot_params_default(&p);
    brisk_ot_source src = BRISK_OT_SOURCE_NORMAL;
    long level = -1, num = 1000;
    uint64_t latent_seed = 0;
    fit_log lg = {10, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            usage_fit(stdout);
            return 0;
        } else if (cli_opt(argc, argv, &i, "--targets", &v)) targets = v;
        else if (cli_opt(argc, argv, &i, "--data", &v)) data = v;
        else if (cli_opt(argc, argv, &i, "--level", &v)) level = cli_long("--level", v);
        else if (cli_opt(argc, argv, &i, "--num", &v)) num = cli_long("--num", v);
        else if (cli_opt(argc, argv, &i, "--latent-seed", &v)) latent_seed = cli_u64("--latent-seed", v);
        else if (cli_opt(argc, argv, &i, "--out", &v)) out = v;
        else if (cli_opt(argc, argv, &i, "--init", &v)) init = v;
        else if (cli_opt(argc, argv, &i, "--source", &v)) {
            if (brisk_ot_source_from_name(v, &src)) cli_die_status(BRISK_EUNSUPPORTED, "--source");
        } else if (cli_opt(argc, argv, &i, "--optimizer", &v)) {
            if (brisk_ot_optimizer_from_name(v, &p.optimizer))
                cli_die_status(BRISK_EUNSUPPORTED, "--optimizer");
        } else if (cli_opt(argc, argv, &i, "--seed", &v)) p.seed = cli_u64("--seed", v);
        else if (cli_opt(argc, argv, &i, "--tol", &v)) p.tol = cli_double("--tol", v);
        else if (cli_opt(argc, argv, &i, "--max-iter", &v)) {
            long k = cli_long("--max-iter", v);
            if (k < 0 || k > 100000000) cli_die("--max-iter: %ld is out of range (0..1e8)", k);
            p.max_iter = (int)k;
        } else if (cli_opt(argc, argv, &i, "--samples-per-iter", &v)) {
            unsigned long long m = cli_u64("--samples-per-iter", v);
            if (m == 0) cli_die("--samples-per-iter: must be positive");
            p.samples_per_iter = (size_t)m;
        } else if (cli_opt(argc, argv, &i, "--lr", &v)) p.lr = cli_double("--lr", v);
        else if (cli_opt(argc, argv, &i, "--patience", &v)) {
            long k = cli_long("--patience", v);
            if (k < 1 || k > 1000000000) cli_die("--patience: must be >= 1");
            p.patience = (int)k;
        } else if (cli_opt(argc, argv, &i, "--max-doublings", &v)) {
            long k = cli_long("--max-doublings", v);
            if (k < 0 || k > 20) cli_die("--max-doublings: must lie in 0..20");
            p.max_doublings = (int)k;
        } else if (cli_opt(argc, argv, &i, "--lr-decay", &v)) p.lr_decay = cli_double("--lr-decay", v);
        else if (cli_opt(argc, argv, &i, "--threads", &v)) {
            long k = cli_long("--threads", v);
            if (k < 1 || k > 1024) cli_die("--threads: must lie in 1..1024");
            brisk_set_num_threads((int)k);
        } else if (cli_opt(argc, argv, &i, "--log-every", &v)) {
            long k = cli_long("--log-every", v);
            if (k < 0 || k > 1000000000) cli_die("--log-every: must be >= 0");
            lg.every = (int)k;
        } else if (cli_flag(argv, i, "--quiet")) lg.quiet = 1;
        else cli_unknown_option("ot fit", a);
    }
    if (!out) cli_die("ot fit: --out is required (see 'brisk ot fit --help')");
    if (!targets == !data) cli_die("ot fit: give exactly one of --targets or --data");
    if (!(p.lr > 0)) cli_die("--lr: must be positive");
    if (!(p.tol >= 0)) cli_die("--tol: must be >= 0");
    if (!(p.lr_decay > 0)) cli_die("--lr-decay: must be positive");

    /* Fail now, not after a long fit, if --out cannot be written. */
    brisk_atomic_file probe;
    int rc = brisk_atomic_open(&probe, out);
    if (rc) cli_die_status(rc, "--out");
    brisk_atomic_abort(&probe);

    brisk_array y;
    const char *what = targets;
    if (targets) {
        rc = brisk_ot_targets_load(targets, &y);
        if (rc) cli_die_status(rc, NULL);
    } else {
        data_is_fmnist(data);
        if (level < 0 || level > 999) cli_die("ot fit: --data needs --level in 0..999");
        if (num < 1) cli_die("--num: must be positive");
        double ab;
        rc = brisk_ot_alpha_bar_linear((int)level, 1000, 1e-4, 0.02, &ab);
        if (rc) cli_die_status(rc, "--level");
        rc = brisk_ot_fmnist_latents(NULL, (size_t)num, ab, latent_seed, &y, NULL);
        if (rc) cli_die_status(rc, NULL);
        what = "fashion-mnist latents";
    }
    size_t n = y.shape[0], d = y.shape[1];
    brisk_ot *ot;
    rc = brisk_ot_create(y.data, n, d, src, what, &ot);
    if (rc) cli_die_status(rc, NULL);
    double *h;
    if (init) {
        rc = brisk_ot_h_load(init, n, &h);
        if (rc) cli_die_status(rc, "--init");
    } else {
        h = brisk_calloc(n, sizeof *h);
        if (!h) cli_die("out of memory");
    }
    size_t m = p.samples_per_iter ? p.samples_per_iter : 10 * n;
    if (!lg.quiet) {
        fprintf(stderr,
                "ot fit: %zu targets x %zu dims, source %s, optimizer %s, lr %g, M %zu, tol %g, "
                "max-iter %d, seed %llu, %d threads\n",
                n, d, brisk_ot_source_name(src), brisk_ot_optimizer_name(p.optimizer), p.lr, m,
                p.tol, p.max_iter, (unsigned long long)p.seed, brisk_get_num_threads());
        /* ||g - 1/N|| has a Monte-Carlo floor of about sqrt((1 - 1/N) / M) even at the optimum. */
        double floor_m = sqrt((1.0 - 1.0 / (double)n) / ((double)m * pow(2.0, p.max_doublings)));
        if (p.tol < floor_m)
            fprintf(stderr,
                    "ot fit: note: tol %g is below the Monte-Carlo noise floor %.3g of ||g - 1/N|| "
                    "(even after %d doublings of M); expect to run to --max-iter\n",
                    p.tol, floor_m, p.max_doublings);
    }
    p.progress = fit_progress;
    p.progress_ctx = &lg;
    brisk_ot_result res;
    rc = brisk_ot_fit(ot, &p, h, &res);
    if (rc) cli_die_status(rc, NULL);
    rc = brisk_ot_h_save(out, h, n);
    if (rc) cli_die_status(rc, NULL);
    printf("ot fit: %s after %d iterations: |g-1/N| %.4e (best %.4e), empty cells %zu, M %zu, "
           "lr %.4g, %d doublings, %llu samples, %.1f s -> %s\n",
           res.converged ? "converged" : "not converged", res.iterations, res.grad_norm,
           res.best_grad_norm, res.empty, res.m, res.lr, res.doublings,
           (unsigned long long)res.samples_used, res.seconds, out);
    brisk_ot_free(ot);
    brisk_free(h);
    brisk_array_free(&y);
    return 0;
}

/* ---- assign ---------------------------------------------------------------------- */

static int ot_assign(int argc, char **argv) {
    const char *targets = NULL, *hpath = NULL, *points = NULL, *out = NULL, *lat_out = NULL, *v;
    long long k = -1;
    uint64_t seed = 0;
    brisk_ot_source src = BRISK_OT_SOURCE_NORMAL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            usage_assign(stdout);
            return 0;
        } else if (cli_opt(argc, argv, &i, "--targets", &v)) targets = v;
        else if (cli_opt(argc, argv, &i, "--h", &v)) hpath = v;
        else if (cli_opt(argc, argv, &i, "--points", &v)) points = v;
        else if (cli_opt(argc, argv, &i, "--num-samples", &v)) {
            k = (long long)cli_u64("--num-samples", v);
            if (k < 1) cli_die("--num-samples: must be positive");
        } else if (cli_opt(argc, argv, &i, "--seed", &v)) seed = cli_u64("--seed", v);
        else if (cli_opt(argc, argv, &i, "--source", &v)) {
            if (brisk_ot_source_from_name(v, &src)) cli_die_status(BRISK_EUNSUPPORTED, "--source");
        } else if (cli_opt(argc, argv, &i, "--out", &v)) out = v;
        else if (cli_opt(argc, argv, &i, "--latents-out", &v)) lat_out = v;
        else if (cli_opt(argc, argv, &i, "--threads", &v)) {
            long t = cli_long("--threads", v);
            if (t < 1 || t > 1024) cli_die("--threads: must lie in 1..1024");
            brisk_set_num_threads((int)t);
        } else cli_unknown_option("ot assign", a);
    }
    if (!targets || !hpath)
        cli_die("ot assign: --targets and --h are required (see 'brisk ot assign --help')");
    if (!out && lat_out) cli_die("ot assign: --latents-out needs --out");
    if ((k > 0) == (points != NULL)) cli_die("ot assign: give exactly one of --num-samples or --points");

    brisk_array y;
    int rc = brisk_ot_targets_load(targets, &y);
    if (rc) cli_die_status(rc, NULL);
    size_t n = y.shape[0], d = y.shape[1];
    brisk_ot *ot;
    rc = brisk_ot_create(y.data, n, d, src, targets, &ot);
    if (rc) cli_die_status(rc, NULL);
    double *h;
    rc = brisk_ot_h_load(hpath, n, &h);
    if (rc) cli_die_status(rc, NULL);

    brisk_array x = {0};
    size_t kk;
    int64_t *idx;
    if (points) {
        rc = brisk_npy_read(points, &x);
        if (rc) cli_die_status(rc, NULL);
        if (x.dtype != BRISK_F32 && x.dtype != BRISK_F64)
            cli_die("%s: points must be float32 or float64, not %s", points,
                    brisk_dtype_name(x.dtype));
        if (x.ndim != 2) cli_die("%s: points must be a rank-2 (K, D) array, got rank %d", points, x.ndim);
        if (x.shape[1] != d)
            cli_die("%s: points have dimension %zu but the targets (%s) have %zu", points,
                    x.shape[1], targets, d);
        if (x.shape[0] == 0) cli_die("%s: no points (K = 0)", points);
        rc = brisk_array_convert(&x, BRISK_F32);
        if (rc) cli_die_status(rc, points);
        const float *xv = x.data;
        for (size_t q = 0; q < x.shape[0] * d; q++)
            if (!isfinite(xv[q]))
                cli_die("%s: point %zu, element %zu is not finite", points, q / d, q % d);
        kk = x.shape[0];
        idx = brisk_malloc(kk * sizeof *idx);
        if (!idx) cli_die("out of memory");
        rc = brisk_ot_assign(ot, h, x.data, kk, idx);
        if (rc) cli_die_status(rc, NULL);
    } else {
        /* The sampler's initial noise: stream BRISK_RNG_INIT, sample index q. */
        kk = (size_t)k;
        idx = brisk_malloc(kk * sizeof *idx);
        if (!idx) cli_die("out of memory");
        rc = brisk_ot_assign_draws(ot, h, seed, BRISK_STREAM(BRISK_RNG_INIT, 0), 0, kk, idx);
        if (rc) cli_die_status(rc, NULL);
    }
    int64_t *counts = brisk_calloc(n, sizeof *counts);
    if (!counts) cli_die("out of memory");
    if (out) {
        brisk_array ia = {.dtype = BRISK_I64, .ndim = 1, .data = idx};
        ia.shape[0] = kk;
        rc = brisk_npy_write(out, &ia);
        if (rc) cli_die_status(rc, NULL);
    }
    if (lat_out) {
        float *lat = brisk_malloc(kk * d * sizeof *lat);
        if (!lat) cli_die("out of memory");
        const float *yv = y.data;
        for (size_t q = 0; q < kk; q++) memcpy(lat + q * d, yv + (size_t)idx[q] * d, d * sizeof *lat);
        size_t shape2[2] = {kk, d};
        rc = brisk_npy_write_f32(lat_out, lat, 2, shape2);
        if (rc) cli_die_status(rc, NULL);
        brisk_free(lat);
    }
    size_t empty = 0;
    int64_t biggest = 0, smallest = INT64_MAX;
    double nrm2 = 0;
    for (size_t q = 0; q < kk; q++) counts[idx[q]]++;
    for (size_t i = 0; i < n; i++) {
        double g = (double)counts[i] / (double)kk - 1.0 / (double)n;
        nrm2 += g * g;
        empty += counts[i] == 0;
        if (counts[i] > biggest) biggest = counts[i];
        if (counts[i] < smallest) smallest = counts[i];
    }
    printf("ot assign: %zu samples into %zu cells: empty %zu, cell sizes %lld..%lld (mean %.1f), "
           "|g-1/N| %.4e (Monte-Carlo floor %.4e)%s%s\n",
           kk, n, empty, (long long)smallest, (long long)biggest, (double)kk / (double)n,
           sqrt(nrm2), sqrt((1.0 - 1.0 / (double)n) / (double)kk), out ? " -> " : "",
           out ? out : "");
    brisk_free(idx);
    brisk_free(counts);
    brisk_free(h);
    brisk_array_free(&x);
    brisk_ot_free(ot);
    brisk_array_free(&y);
    return 0;
}

/* ---- latents --------------------------------------------------------------------- */

static int ot_latents(int argc, char **argv) {
    const char *data = NULL, *out = NULL, *labels_out = NULL, *v;
    long level = -1, num = -1, T = 1000;
    double b0 = 1e-4, b1 = 0.02;
    uint64_t seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            usage_latents(stdout);
            return 0;
        } else if (cli_opt(argc, argv, &i, "--data", &v)) data = v;
        else if (cli_opt(argc, argv, &i, "--level", &v)) level = cli_long("--level", v);
        else if (cli_opt(argc, argv, &i, "--num", &v)) num = cli_long("--num", v);
        else if (cli_opt(argc, argv, &i, "--seed", &v)) seed = cli_u64("--seed", v);
        else if (cli_opt(argc, argv, &i, "--out", &v)) out = v;
        else if (cli_opt(argc, argv, &i, "--labels-out", &v)) labels_out = v;
        else if (cli_opt(argc, argv, &i, "--num-train-timesteps", &v))
            T = cli_long("--num-train-timesteps", v);
        else if (cli_opt(argc, argv, &i, "--beta-start", &v)) b0 = cli_double("--beta-start", v);
        else if (cli_opt(argc, argv, &i, "--beta-end", &v)) b1 = cli_double("--beta-end", v);
        else cli_unknown_option("ot latents", a);
    }
    if (!data || !out || level < 0 || num < 1)
        cli_die("ot latents: --data, --level, --num and --out are required "
                "(see 'brisk ot latents --help')");
    data_is_fmnist(data);
    if (T < 1 || T > 1000000) cli_die("--num-train-timesteps: must lie in 1..1000000");
    if (level >= T) cli_die("--level: %ld is outside 0..%ld", level, T - 1);
    double ab;
    int rc = brisk_ot_alpha_bar_linear((int)level, (int)T, b0, b1, &ab);
    if (rc) cli_die_status(rc, NULL);
    brisk_array y;
    uint8_t *labels = NULL;
    rc = brisk_ot_fmnist_latents(NULL, (size_t)num, ab, seed, &y, labels_out ? &labels : NULL);
    if (rc) cli_die_status(rc, NULL);
    rc = brisk_npy_write(out, &y);
    if (rc) cli_die_status(rc, NULL);
    if (labels_out) {
        brisk_array la = {.dtype = BRISK_U8, .ndim = 1, .data = labels};
        la.shape[0] = y.shape[0];
        rc = brisk_npy_write(labels_out, &la);
        if (rc) cli_die_status(rc, NULL);
    }
    printf("ot latents: %zu Fashion-MNIST training images x %zu dims at level %ld "
           "(alpha-bar %.6f), seed %llu -> %s\n",
           y.shape[0], y.shape[1], level, ab, (unsigned long long)seed, out);
    brisk_free(labels);
    brisk_array_free(&y);
    return 0;
}

int cmd_ot(int argc, char **argv) {
    if (argc < 2) {
        usage_ot(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (cli_is_help(sub)) {
        usage_ot(stdout);
        return 0;
    }
    if (!strcmp(sub, "fit")) return ot_fit(argc - 1, argv + 1);
    if (!strcmp(sub, "assign")) return ot_assign(argc - 1, argv + 1);
    if (!strcmp(sub, "latents")) return ot_latents(argc - 1, argv + 1);
    fprintf(stderr, "brisk ot: unknown subcommand '%s' (valid: fit, assign, latents)\n", sub);
    return 2;
}
