/* brisk sample: draw samples from a model (analytic denoiser or UNet) with any sampler and
 * write a PNG grid or a .npy array; optionally start from DPM-OT data latents. A thin shell
 * over brisk_generate. */
#include "cli.h"
#include "sampling.h"

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
            "                    [--steps N] [--num-samples K] [--seed S] --out FILE.png|FILE.npy\n"
            "       brisk sample ... --ot H.npy --ot-targets Y.npy --ot-level T --steps K\n\n"
            "Samples K images/vectors from a model with one sampler and writes a PNG grid\n"
            "(image-shaped models, values in [-1, 1]) or a float32 .npy of shape (K, dim) or\n"
            "(K, C, H, W). Prints the NFE (model calls per sample), the wall time and the time\n"
            "per sample; progress goes to stderr.\n\n");
    sampling_usage(fp);
    fprintf(fp,
            "  --steps N                inference steps (default 50)\n"
            "  --num-samples K          number of samples (default 64)\n"
            "  --seed S                 noise seed (default 0); sample i's noise depends only on (S, i)\n"
            "  --batch B                samples per sampler run (default min(K, 64))\n"
            "  --cols C                 PNG grid columns (default ceil(sqrt(K)))\n"
            "  --ot-index-out FILE.npy  with --ot: each sample's OT cell (int64)\n"
            "  --threads T              worker threads (default: all)\n"
            "  --quiet                  no progress on stderr\n"
            "  --out FILE               .png (grid) or .npy\n");
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

int cmd_sample(int argc, char **argv) {
    sampling_opts so;
    sampling_opts_init(&so);
    const char *out = NULL, *idx_out = NULL, *v;
    long steps = 50, num = 64, batch = 0, cols = 0, threads = 0;
    unsigned long long seed = 0;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (sampling_parse_opt(argc, argv, &i, &so)) {
        } else if (cli_opt(argc, argv, &i, "--out", &out)) {
        } else if (cli_opt(argc, argv, &i, "--ot-index-out", &idx_out)) {
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
        } else if (cli_flag(argv, i, "--quiet")) {
            quiet = 1;
        } else {
            cli_unknown_option("sample", argv[i]);
        }
    }
    if (!so.model) cli_die("sample: --model is required (see 'brisk sample --help')");
    if (!so.sched_name && !so.sched_file)
        cli_die("sample: --scheduler NAME or --scheduler-config FILE is required");
    if (!out) cli_die("sample: --out FILE.png|FILE.npy is required");
    int png = ends_with(out, ".png");
    if (!png && !ends_with(out, ".npy")) cli_die("--out: '%s' must end in .png or .npy", out);
    if (idx_out && !so.ot_h) cli_die("--ot-index-out: needs --ot");
    if (idx_out && !ends_with(idx_out, ".npy")) cli_die("--ot-index-out: '%s' must end in .npy", idx_out);
    if (steps < 1 || steps > 100000) cli_die("--steps: %ld is outside 1..100000", steps);
    if (num < 1 || num > 10000000) cli_die("--num-samples: %ld is outside 1..10000000", num);
    if (batch < 0 || batch > 1000000) cli_die("--batch: %ld is outside 1..1000000", batch);
    if (cols < 0 || cols > 100000) cli_die("--cols: %ld must be positive", cols);
    if (threads < 0 || threads > 4096) cli_die("--threads: %ld is outside 1..4096", threads);
    if (batch == 0) batch = num < 64 ? num : 64;
    if (batch > num) batch = num;
    if (threads) brisk_set_num_threads((int)threads);

    sampling_state st;
    sampling_setup(&so, (int)steps, &st);
    const brisk_denoiser *d = st.den;
    size_t dim = d->dim;
    int is_image = d->c && d->h && d->w;
    if (png && !is_image)
        cli_die("--out: '%s' is a PNG, but model '%s' is not image-shaped (dim %zu); write .npy "
                "(or give a gaussian shape=CxHxW)", out, so.model, dim);
    if (png && d->c != 1 && d->c != 3)
        cli_die("--out: PNG grids need 1 or 3 channels, the model has %zu", d->c);

    size_t K = (size_t)num, Bm = (size_t)batch;
    float *result = brisk_malloc(K * dim * sizeof(float));
    int64_t *cells = idx_out ? brisk_malloc(K * sizeof(int64_t)) : NULL;
    if (!result || (idx_out && !cells)) cli_die_status(BRISK_ENOMEM, "sample");

    sampling_progress pc;
    sampling_progress_start(&pc, "sampling", quiet);
    brisk_generate_options go;
    brisk_generate_options_default(&go);
    go.seed = seed;
    go.batch = Bm;
    go.progress = sampling_progress_cb;
    go.progress_ctx = &pc;
    sampling_generate_options(&st, &go);
    go.ot_index = cells;
    brisk_generate_stats gs;
    int rc = brisk_generate(st.sched, d, (int)steps, K, &go, result, &gs);
    if (rc) {
        if (pc.drawn && pc.bar.tty) fputc('\n', stderr);
        cli_die_status(rc, "sample");
    }
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
    if (idx_out) {
        brisk_array ia = {.dtype = BRISK_I64, .ndim = 1, .shape = {K}, .data = cells};
        if ((rc = brisk_npy_write(idx_out, &ia)))
            cli_die_status(rc, "--ot-index-out");
    }

    const brisk_scheduler_config *cfg = &st.cfg;
    size_t n_batches = (K + Bm - 1) / Bm;
    if (cfg->kind == BRISK_SAMPLER_PF)
        printf("sampler %s (adaptive RK45, rtol %g, atol %g): NFE %zu per sample",
               brisk_sampler_kind_name(cfg->kind), cfg->pf_rtol, cfg->pf_atol, gs.nfe);
    else
        printf("sampler %s (%s mode), %ld steps: NFE %zu per sample", brisk_sampler_kind_name(cfg->kind),
               brisk_time_mode_name(cfg->time_mode), steps, gs.nfe);
    if (gs.nfe_min != gs.nfe) printf(" (adaptive: %zu..%zu per batch)", gs.nfe_min, gs.nfe);
    if (st.ot)
        printf("\nDPM-OT start at level %ld (alpha-bar %.6g): %zu target latents from %s, OT map %.3f s",
               so.ot_level, st.ot_alpha_bar, st.ot_y.shape[0], so.ot_targets, gs.ot_seconds);
    printf("\n%zu samples (%zu batch%s of <= %zu) in %.2f s: %.4f s per sample"
           " (model loaded in %.2f s)\n",
           K, n_batches, n_batches == 1 ? "" : "es", Bm, gs.seconds, gs.seconds / (double)K,
           st.load_seconds);
    printf("wrote %s\n", out);
    if (idx_out) printf("wrote %s\n", idx_out);
    brisk_free(result);
    brisk_free(cells);
    sampling_state_free(&st);
    return 0;
}
