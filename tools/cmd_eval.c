/* brisk eval: sample quality of a model + sampler (or of saved samples) in the shipped
 * classifier's features: Fréchet distance, KID, precision/recall, class histogram, MMR,
 * per seed and summarised over seeds with bootstrap confidence intervals. */
#include "cli.h"
#include "quality.h"
#include "sampling.h"

#include "brisk/core.h"
#include "brisk/io.h"
#include "brisk/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEEDS 64

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: brisk eval --model SPEC (--scheduler NAME | --scheduler-config FILE) [--steps N]\n"
            "                  [--num-samples K] [--seeds S | --seed-list A,B,..] [--format table|json]\n"
            "       brisk eval --samples FILE.npy[,FILE.npy...] [options]\n"
            "       brisk eval --write-stats DIR [--split test|train] [--num N]\n\n"
            "Draws K samples per seed (or reads saved samples, one file per seed: (K, 1, 32, 32) or\n"
            "(K, 1024) float32 in [-1, 1]), embeds them with the classifier and reports, per seed and\n"
            "as mean / sd / 95%% bootstrap CI over seeds: FD against the precomputed test-set\n"
            "statistics, KID and precision/recall against the test-set features, the class histogram\n"
            "and the mode-mixture rate. Definitions: docs/metrics.md; the pipeline: docs/eval.md.\n\n"
            "sampling (as 'brisk sample'):\n");
    sampling_usage(fp);
    fprintf(fp,
            "  --steps N                inference steps (default 50)\n"
            "  --num-samples K          samples per seed (default 1000)\n"
            "  --seeds S                seeds 0..S-1 (default 1)\n"
            "  --seed-list A,B,...      explicit seeds instead\n"
            "  --batch B                samples per sampler run (default 64)\n"
            "  --save-samples PREFIX    also write PREFIX-seed<S>.npy\n"
            "evaluation:\n"
            "  --samples F1.npy,...     evaluate saved samples instead of sampling (one file per seed)\n"
            "  --classifier DIR         default " QUALITY_DEFAULT_CLASSIFIER "\n"
            "  --stats DIR              reference statistics (default CLASSIFIER/" QUALITY_STATS_SUBDIR ")\n"
            "  --real-num N             test images for KID / precision-recall (default 10000)\n"
            "  --metrics LIST           fd,kid,pr,classes,mmr (default all)\n"
            "  --kid-subset M           KID subset size (default min(1000, K))\n"
            "  --bootstrap B            resamples for the CIs over seeds (default 10000)\n"
            "output:\n"
            "  --format table|json      default table\n"
            "  --out FILE.json          also write the JSON report (atomically)\n"
            "  --threads T              worker threads (default: all)\n"
            "  --quiet                  no progress on stderr\n"
            "reference statistics:\n"
            "  --write-stats DIR        embed a Fashion-MNIST split and save mu.npy, sigma.npy,\n"
            "                           stats.json (what FD compares against)\n"
            "  --split test|train       default test\n"
            "  --num N                  first N images (default all)\n");
}

static int write_stats(const char *dir, const char *clf_dir, const char *split_name, long num, int quiet) {
    brisk_split split;
    if (!strcmp(split_name, "test")) split = BRISK_SPLIT_TEST;
    else if (!strcmp(split_name, "train")) split = BRISK_SPLIT_TRAIN;
    else cli_die("--split: '%s' is not test or train", split_name);
    quality_ctx q;
    quality_ctx_init(&q, clf_dir, NULL, 0, 0, quiet);
    brisk_dataset ds;
    int rc = brisk_fmnist_load(NULL, split, 1, num > 0 ? (size_t)num : 0, &ds);
    if (rc) cli_die_status(rc, "--write-stats");
    double t0 = cli_now();
    float *feat = brisk_malloc(ds.n * q.feature_dim * sizeof(float));
    if (!feat) cli_die_status(BRISK_ENOMEM, "--write-stats");
    if ((rc = brisk_classifier_embed(q.clf, ds.images, ds.n, 256, feat, NULL))) cli_die_status(rc, "--write-stats");
    brisk_features f = {.data = feat, .dtype = BRISK_F32, .n = ds.n, .dim = q.feature_dim, .name = "features"};
    brisk_gauss_stats gs;
    if ((rc = brisk_gauss_stats_compute(&f, &gs))) cli_die_status(rc, "--write-stats");
    char source[512];
    snprintf(source, sizeof source, "penultimate features (%zu) of classifier %s on the first %zu images of the Fashion-MNIST %s split (32x32, [-1, 1])",
             q.feature_dim, clf_dir ? clf_dir : QUALITY_DEFAULT_CLASSIFIER, ds.n, split_name);
    if ((rc = brisk_gauss_stats_save(dir, &gs, source))) cli_die_status(rc, "--write-stats");
    printf("wrote %s: mean and covariance of %zu x %zu features (%.1f s)\n", dir, ds.n, q.feature_dim,
           cli_now() - t0);
    brisk_gauss_stats_free(&gs);
    brisk_free(feat);
    brisk_dataset_free(&ds);
    quality_ctx_free(&q);
    return 0;
}

static void print_table(const cJSON *report) {
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(report, "per_seed");
    const cJSON *e;
    printf("%-8s %10s %12s %10s %10s %8s %10s\n", "seed", "FD", "KID", "precision", "recall", "NFE",
           "seconds");
    cJSON_ArrayForEach(e, per) {
        const cJSON *seed = cJSON_GetObjectItemCaseSensitive(e, "seed");
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(e, "file");
        char label[64];
        if (cJSON_IsNumber(seed)) snprintf(label, sizeof label, "%.0f", seed->valuedouble);
        else snprintf(label, sizeof label, "%s", cJSON_IsString(file) ? file->valuestring : "?");
        const cJSON *fd = cJSON_GetObjectItemCaseSensitive(e, "fd");
        const cJSON *kid = cJSON_GetObjectItemCaseSensitive(e, "kid");
        const cJSON *km = kid ? cJSON_GetObjectItemCaseSensitive(kid, "mean") : NULL;
        const cJSON *pr = cJSON_GetObjectItemCaseSensitive(e, "precision");
        const cJSON *rc = cJSON_GetObjectItemCaseSensitive(e, "recall");
        const cJSON *nfe = cJSON_GetObjectItemCaseSensitive(e, "nfe");
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(e, "seconds");
        printf("%-8.8s", label);
        if (fd) printf(" %10.4f", fd->valuedouble); else printf(" %10s", "-");
        if (km) printf(" %12.3e", km->valuedouble); else printf(" %12s", "-");
        if (pr) printf(" %10.4f", pr->valuedouble); else printf(" %10s", "-");
        if (rc) printf(" %10.4f", rc->valuedouble); else printf(" %10s", "-");
        if (nfe) printf(" %8.0f", nfe->valuedouble); else printf(" %8s", "-");
        if (sec) printf(" %10.2f", sec->valuedouble); else printf(" %10s", "-");
        printf("\n");
    }
    const cJSON *sum = cJSON_GetObjectItemCaseSensitive(report, "summary");
    printf("\nover seeds: mean, sd, 95%% bootstrap CI of the mean\n");
    cJSON_ArrayForEach(e, sum) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "mean");
        const cJSON *sd = cJSON_GetObjectItemCaseSensitive(e, "sd");
        const cJSON *ci = cJSON_GetObjectItemCaseSensitive(e, "ci95");
        printf("  %-10s %12.5g", e->string, m->valuedouble);
        if (cJSON_IsNumber(sd))
            printf("  sd %10.4g  CI [%.5g, %.5g]", sd->valuedouble, cJSON_GetArrayItem(ci, 0)->valuedouble,
                   cJSON_GetArrayItem(ci, 1)->valuedouble);
        else
            printf("  (one seed: no interval)");
        printf("\n");
    }
}

/* Reads a samples file as (K, image_dim) float32. */
static void load_samples(const char *path, size_t image_dim, brisk_array *a) {
    int rc = brisk_npy_read(path, a);
    if (rc) cli_die_status(rc, "--samples");
    if (a->dtype != BRISK_F32 && a->dtype != BRISK_F64)
        cli_die("--samples: %s has dtype %s; samples must be float32 or float64", path,
                brisk_dtype_name(a->dtype));
    if ((rc = brisk_array_convert(a, BRISK_F32))) cli_die_status(rc, "--samples");
    if (a->ndim < 2) cli_die("--samples: %s is %d-D; expected (K, 1, 32, 32) or (K, %zu)", path, a->ndim, image_dim);
    size_t per = 1;
    for (int i = 1; i < a->ndim; i++) per *= a->shape[i];
    if (a->shape[0] == 0) cli_die("--samples: %s is empty (0 samples)", path);
    if (per != image_dim)
        cli_die("--samples: %s has %zu values per sample, the classifier takes %zu (1 x 32 x 32)", path,
                per, image_dim);
}

int cmd_eval(int argc, char **argv) {
    sampling_opts so;
    sampling_opts_init(&so);
    const char *v, *fmt = "table", *out = NULL, *samples = NULL, *clf_dir = NULL, *stats_dir = NULL;
    const char *metrics_list = NULL, *save_prefix = NULL, *write_dir = NULL, *split = "test";
    long steps = 50, num = 1000, batch = 64, threads = 0, real_num = 10000, kid_subset = 0, n_write = 0;
    long n_boot = 10000;
    unsigned long long seeds[MAX_SEEDS];
    size_t n_seeds = 1;
    seeds[0] = 0;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (sampling_parse_opt(argc, argv, &i, &so)) {
        } else if (cli_opt(argc, argv, &i, "--steps", &v)) {
            steps = cli_long("--steps", v);
        } else if (cli_opt(argc, argv, &i, "--num-samples", &v)) {
            num = cli_long("--num-samples", v);
        } else if (cli_opt(argc, argv, &i, "--seeds", &v)) {
            long s = cli_long("--seeds", v);
            if (s < 1 || s > MAX_SEEDS) cli_die("--seeds: %ld is outside 1..%d", s, MAX_SEEDS);
            n_seeds = (size_t)s;
            for (size_t k = 0; k < n_seeds; k++) seeds[k] = k;
        } else if (cli_opt(argc, argv, &i, "--seed-list", &v)) {
            n_seeds = quality_parse_seeds("--seed-list", v, seeds, MAX_SEEDS);
        } else if (cli_opt(argc, argv, &i, "--batch", &v)) {
            batch = cli_long("--batch", v);
        } else if (cli_opt(argc, argv, &i, "--threads", &v)) {
            threads = cli_long("--threads", v);
        } else if (cli_opt(argc, argv, &i, "--real-num", &v)) {
            real_num = cli_long("--real-num", v);
        } else if (cli_opt(argc, argv, &i, "--kid-subset", &v)) {
            kid_subset = cli_long("--kid-subset", v);
        } else if (cli_opt(argc, argv, &i, "--bootstrap", &v)) {
            n_boot = cli_long("--bootstrap", v);
        } else if (cli_opt(argc, argv, &i, "--num", &v)) {
            n_write = cli_long("--num", v);
        } else if (cli_opt(argc, argv, &i, "--format", &fmt)) {
        } else if (cli_opt(argc, argv, &i, "--out", &out)) {
        } else if (cli_opt(argc, argv, &i, "--samples", &samples)) {
        } else if (cli_opt(argc, argv, &i, "--classifier", &clf_dir)) {
        } else if (cli_opt(argc, argv, &i, "--stats", &stats_dir)) {
        } else if (cli_opt(argc, argv, &i, "--metrics", &metrics_list)) {
        } else if (cli_opt(argc, argv, &i, "--save-samples", &save_prefix)) {
        } else if (cli_opt(argc, argv, &i, "--write-stats", &write_dir)) {
        } else if (cli_opt(argc, argv, &i, "--split", &split)) {
        } else if (cli_flag(argv, i, "--quiet")) {
            quiet = 1;
        } else {
            cli_unknown_option("eval", argv[i]);
        }
    }
    if (threads < 0 || threads > 4096) cli_die("--threads: %ld is outside 1..4096", threads);
    if (threads) brisk_set_num_threads((int)threads);
    if (write_dir) {
        if (so.model || samples) cli_die("--write-stats: give it alone (no --model or --samples)");
        if (n_write < 0) cli_die("--num: %ld must be positive", n_write);
        return write_stats(write_dir, clf_dir, split, n_write, quiet);
    }
    if (strcmp(fmt, "table") && strcmp(fmt, "json")) cli_die("--format: '%s' is not table or json", fmt);
    if (!samples && !so.model) cli_die("eval: --model SPEC or --samples FILE.npy is required (see 'brisk eval --help')");
    if (samples && so.model) cli_die("eval: give --model or --samples, not both");
    if (steps < 1 || steps > 100000) cli_die("--steps: %ld is outside 1..100000", steps);
    if (num < 2 || num > 10000000) cli_die("--num-samples: %ld is outside 2..10000000", num);
    if (batch < 1 || batch > 1000000) cli_die("--batch: %ld is outside 1..1000000", batch);
    if (real_num < 0 || real_num > 10000) cli_die("--real-num: %ld is outside 1..10000", real_num);
    if (kid_subset < 0) cli_die("--kid-subset: %ld must be positive", kid_subset);
    if (n_boot < 10) cli_die("--bootstrap: %ld must be at least 10", n_boot);
    unsigned mask = (1u << BRISK_METRIC_COUNT) - 1;
    int rc;
    if (metrics_list && (rc = brisk_metric_mask_parse(metrics_list, &mask))) cli_die_status(rc, "--metrics");

    /* the sampler first: its option errors come before the slow reference set-up */
    sampling_state st;
    memset(&st, 0, sizeof st);
    if (so.model) sampling_setup(&so, (int)steps, &st);
    quality_ctx q;
    quality_ctx_init(&q, clf_dir, stats_dir, (size_t)real_num, mask, quiet);
    if (kid_subset) q.qp.kid.subset_size = (size_t)kid_subset;

    cJSON *report = cJSON_CreateObject(), *per = NULL;
    if (!report) cli_die_status(BRISK_ENOMEM, "eval");
    cJSON_AddStringToObject(report, "classifier", q.clf_dir);
    if (q.have_stats) cJSON_AddStringToObject(report, "stats", q.stats_dir);
    if (q.real) cJSON_AddNumberToObject(report, "real_features", (double)q.n_real);
    per = cJSON_AddArrayToObject(report, "per_seed");

    if (samples) {
        cJSON_AddStringToObject(report, "samples", samples);
        char *list = strdup(samples);
        if (!list) cli_die_status(BRISK_ENOMEM, "eval");
        size_t n_files = 0;
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            brisk_array a;
            load_samples(tok, q.image_dim, &a);
            cJSON *m = quality_measure(&q, a.data, a.shape[0], tok);
            cJSON_AddStringToObject(m, "file", tok);
            cJSON_AddNumberToObject(m, "num_samples", (double)a.shape[0]);
            cJSON_AddItemToArray(per, m);
            brisk_array_free(&a);
            n_files++;
        }
        free(list);
        if (!n_files) cli_die("--samples: no files given");
    } else {
        if (st.den->dim != q.image_dim)
            cli_die("--model: '%s' makes samples of %zu values, the classifier takes %zu", so.model,
                    st.den->dim, q.image_dim);
        const brisk_scheduler_config *cfg = &st.cfg;
        cJSON_AddStringToObject(report, "model", so.model);
        cJSON_AddStringToObject(report, "scheduler", brisk_sampler_kind_name(cfg->kind));
        cJSON_AddStringToObject(report, "time_mode", brisk_time_mode_name(cfg->time_mode));
        cJSON_AddStringToObject(report, "timestep_spacing", brisk_timestep_spacing_name(cfg->timestep_spacing));
        cJSON_AddNumberToObject(report, "steps", (double)steps);
        cJSON_AddNumberToObject(report, "num_samples", (double)num);
        if (st.ot) {
            cJSON_AddStringToObject(report, "ot", so.ot_h);
            cJSON_AddStringToObject(report, "ot_targets", so.ot_targets);
            cJSON_AddNumberToObject(report, "ot_level", (double)so.ot_level);
        }
        size_t K = (size_t)num;
        float *img = brisk_malloc(K * st.den->dim * sizeof(float));
        if (!img) cli_die_status(BRISK_ENOMEM, "eval");
        size_t nfe = 0;
        for (size_t k = 0; k < n_seeds; k++) {
            char label[64];
            snprintf(label, sizeof label, "seed %llu", seeds[k]);
            sampling_progress pc;
            sampling_progress_start(&pc, label, quiet);
            brisk_generate_options go;
            brisk_generate_options_default(&go);
            sampling_generate_options(&st, &go);
            go.seed = seeds[k];
            go.batch = (size_t)batch;
            go.progress = sampling_progress_cb;
            go.progress_ctx = &pc;
            brisk_generate_stats gs;
            if ((rc = brisk_generate(st.sched, st.den, (int)steps, K, &go, img, &gs)))
                cli_die_status(rc, label);
            if (save_prefix) {
                char path[1200];
                snprintf(path, sizeof path, "%s-seed%llu.npy", save_prefix, seeds[k]);
                size_t shape[4] = {K, st.den->c, st.den->h, st.den->w};
                if ((rc = brisk_npy_write_f32(path, img, 4, shape))) cli_die_status(rc, "--save-samples");
            }
            cJSON *m = quality_measure(&q, img, K, label);
            cJSON_AddNumberToObject(m, "seed", (double)seeds[k]);
            cJSON_AddNumberToObject(m, "nfe", (double)gs.nfe);
            cJSON_AddNumberToObject(m, "seconds", gs.seconds);
            cJSON_AddItemToArray(per, m);
            nfe = gs.nfe;
        }
        cJSON_AddNumberToObject(report, "nfe", (double)nfe);
        brisk_free(img);
        sampling_state_free(&st);
    }
    quality_summarize(report, per, (size_t)n_boot);
    char *text = cJSON_Print(report);
    if (!text) cli_die_status(BRISK_ENOMEM, "eval");
    if (out && (rc = brisk_write_file_atomic(out, text, strlen(text)))) cli_die_status(rc, "--out");
    if (!strcmp(fmt, "json")) printf("%s\n", text);
    else print_table(report);
    if (out && !quiet) fprintf(stderr, "wrote %s\n", out);
    free(text);
    cJSON_Delete(report);
    quality_ctx_free(&q);
    return 0;
}
