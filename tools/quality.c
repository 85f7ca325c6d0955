/* Shared evaluation helpers of `brisk eval` and `brisk bench quality`. */
#include "quality.h"

#include "cli.h"

#include "brisk/core.h"
#include "brisk/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void quality_ctx_init(quality_ctx *q, const char *clf_dir, const char *stats_dir, size_t real_num,
                      unsigned metrics, int quiet) {
    memset(q, 0, sizeof *q);
    if (!clf_dir) clf_dir = QUALITY_DEFAULT_CLASSIFIER;
    snprintf(q->clf_dir, sizeof q->clf_dir, "%s", clf_dir);
    int rc = brisk_classifier_load(clf_dir, &q->clf);
    if (rc)
        cli_die("--classifier: %s (the shipped classifier is %s; run from the repository root or "
                "pass --classifier DIR)", brisk_last_error(), QUALITY_DEFAULT_CLASSIFIER);
    const brisk_classifier_config *c = brisk_classifier_get_config(q->clf);
    q->feature_dim = c->feature_dim;
    q->n_classes = c->n_classes;
    q->image_dim = c->in_channels * c->height * c->width;
    brisk_quality_params_default(&q->qp);
    q->qp.metrics = metrics;
    if (metrics & (1u << BRISK_METRIC_FD)) {
        if (stats_dir)
            snprintf(q->stats_dir, sizeof q->stats_dir, "%s", stats_dir);
        else
            snprintf(q->stats_dir, sizeof q->stats_dir, "%s/%s", clf_dir, QUALITY_STATS_SUBDIR);
        if ((rc = brisk_gauss_stats_load(q->stats_dir, &q->stats))) cli_die_status(rc, "--stats");
        if (q->stats.dim != q->feature_dim)
            cli_die("--stats: %s has dimension %zu but classifier %s has %zu features", q->stats_dir,
                    q->stats.dim, clf_dir, q->feature_dim);
        q->have_stats = 1;
    }
    if (metrics & ((1u << BRISK_METRIC_KID) | (1u << BRISK_METRIC_PR))) {
        brisk_dataset ds;
        double t0 = cli_now();
        if ((rc = brisk_fmnist_load(NULL, BRISK_SPLIT_TEST, 1, real_num, &ds)))
            cli_die_status(rc, "real features (Fashion-MNIST test set)");
        if (ds.c * ds.h * ds.w != q->image_dim)
            cli_die("classifier %s expects %zu values per image, the data set has %zu", clf_dir,
                    q->image_dim, ds.c * ds.h * ds.w);
        q->n_real = ds.n;
        q->real = brisk_malloc(ds.n * q->feature_dim * sizeof(float));
        if (!q->real) cli_die_status(BRISK_ENOMEM, "real features");
        if ((rc = brisk_classifier_embed(q->clf, ds.images, ds.n, 256, q->real, NULL)))
            cli_die_status(rc, "real features");
        brisk_dataset_free(&ds);
        q->realf.data = q->real;
        q->realf.dtype = BRISK_F32;
        q->realf.n = q->n_real;
        q->realf.dim = q->feature_dim;
        q->realf.name = "Fashion-MNIST test features";
        if (metrics & (1u << BRISK_METRIC_PR)) {
            q->radii = brisk_malloc(q->n_real * sizeof(double));
            if (!q->radii) cli_die_status(BRISK_ENOMEM, "real features");
            if ((rc = brisk_knn_radii(&q->realf, q->qp.pr_k, q->radii)))
                cli_die_status(rc, "real features");
        }
        if (!quiet)
            fprintf(stderr, "reference: %zu Fashion-MNIST test images embedded in %.1f s\n", q->n_real,
                    cli_now() - t0);
    }
}

void quality_ctx_free(quality_ctx *q) {
    brisk_classifier_free(q->clf);
    brisk_gauss_stats_free(&q->stats);
    brisk_free(q->real);
    brisk_free(q->radii);
    memset(q, 0, sizeof *q);
}

cJSON *quality_measure(quality_ctx *q, const float *images, size_t n, const char *what) {
    float *feat = brisk_malloc(n * q->feature_dim * sizeof(float));
    float *prob = brisk_malloc(n * q->n_classes * sizeof(float));
    if (!feat || !prob) cli_die_status(BRISK_ENOMEM, what);
    int rc = brisk_classifier_embed(q->clf, images, n, 256, feat, prob);
    if (rc) cli_die_status(rc, what);
    brisk_features gf = {.data = feat, .dtype = BRISK_F32, .n = n, .dim = q->feature_dim, .name = what};
    brisk_features pf = {.data = prob, .dtype = BRISK_F32, .n = n, .dim = q->n_classes, .name = what};
    brisk_quality_ref ref = {.stats = q->have_stats ? &q->stats : NULL,
                             .features = q->real ? &q->realf : NULL,
                             .radii = q->radii};
    brisk_quality_result r;
    if ((rc = brisk_quality_evaluate(&ref, &gf, &pf, &q->qp, &r))) cli_die_status(rc, what);
    cJSON *o = cJSON_CreateObject();
    if (!o || brisk_quality_result_to_json(&r, o)) cli_die_status(BRISK_ENOMEM, what);
    brisk_quality_result_free(&r);
    brisk_free(feat);
    brisk_free(prob);
    return o;
}

/* ---- summary over seeds ---------------------------------------------------------- */

static const cJSON *get_path(const cJSON *o, const char *a, const char *b) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (v && b) v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsNumber(v) ? v : NULL;
}

static void add_summary(cJSON *sum, const char *key, const double *x, size_t n, size_t n_boot) {
    double m = 0, ss = 0;
    for (size_t i = 0; i < n; i++) m += x[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    cJSON *e = cJSON_AddObjectToObject(sum, key);
    if (!e) cli_die_status(BRISK_ENOMEM, "summary");
    cJSON_AddNumberToObject(e, "mean", m);
    if (n >= 2) {
        cJSON_AddNumberToObject(e, "sd", sqrt(ss / (double)(n - 1)));
        double lo, hi;
        if (brisk_bootstrap_mean_ci(x, n, n_boot, 0.95, 0, &lo, &hi)) cli_die_status(BRISK_EINVAL, key);
        cJSON *ci = cJSON_AddArrayToObject(e, "ci95");
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(lo));
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(hi));
    } else {
        cJSON_AddNullToObject(e, "sd");
        cJSON_AddNullToObject(e, "ci95");
    }
    cJSON_AddNumberToObject(e, "n", (double)n);
}

static void summarize_key(cJSON *sum, const cJSON *per_seed, const char *name, const char *a,
                          const char *b, size_t n_boot) {
    size_t n = (size_t)cJSON_GetArraySize(per_seed);
    if (!n) return;
    double *x = malloc(n * sizeof *x);
    if (!x) cli_die_status(BRISK_ENOMEM, "summary");
    size_t k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, per_seed) {
        const cJSON *v = get_path(e, a, b);
        if (!v) break;
        x[k++] = v->valuedouble;
    }
    if (k == n) add_summary(sum, name, x, n, n_boot);
    free(x);
}

void quality_summarize(cJSON *obj, const cJSON *per_seed, size_t n_boot) {
    cJSON *sum = cJSON_AddObjectToObject(obj, "summary");
    if (!sum) cli_die_status(BRISK_ENOMEM, "summary");
    summarize_key(sum, per_seed, "fd", "fd", NULL, n_boot);
    summarize_key(sum, per_seed, "kid", "kid", "mean", n_boot);
    summarize_key(sum, per_seed, "precision", "precision", NULL, n_boot);
    summarize_key(sum, per_seed, "recall", "recall", NULL, n_boot);
    summarize_key(sum, per_seed, "class_tv", "classes", "tv", n_boot);
    summarize_key(sum, per_seed, "seconds", "seconds", NULL, n_boot);
    /* mmr: arrays of {tau, rate} */
    const cJSON *first = cJSON_GetArrayItem(per_seed, 0);
    const cJSON *mm = first ? cJSON_GetObjectItemCaseSensitive(first, "mmr") : NULL;
    int nt = cJSON_IsArray(mm) ? cJSON_GetArraySize(mm) : 0;
    size_t n = (size_t)cJSON_GetArraySize(per_seed);
    for (int t = 0; t < nt; t++) {
        double *x = malloc(n * sizeof *x);
        if (!x) cli_die_status(BRISK_ENOMEM, "summary");
        size_t k = 0;
        double tau = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, per_seed) {
            const cJSON *arr = cJSON_GetObjectItemCaseSensitive(e, "mmr");
            const cJSON *it = cJSON_GetArrayItem(arr, t);
            const cJSON *r = it ? cJSON_GetObjectItemCaseSensitive(it, "rate") : NULL;
            const cJSON *tv = it ? cJSON_GetObjectItemCaseSensitive(it, "tau") : NULL;
            if (!cJSON_IsNumber(r) || !cJSON_IsNumber(tv)) break;
            tau = tv->valuedouble;
            x[k++] = r->valuedouble;
        }
        if (k == n) {
            char key[32];
            snprintf(key, sizeof key, "mmr@%g", tau);
            add_summary(sum, key, x, n, n_boot);
        }
        free(x);
    }
}

size_t quality_parse_seeds(const char *opt, const char *s, unsigned long long *seeds, size_t max) {
    size_t n = 0;
    const char *p = s;
    while (*p) {
        char buf[32];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof buf) cli_die("%s: '%s' is not a comma-separated list of seeds", opt, s);
        memcpy(buf, p, len);
        buf[len] = 0;
        if (n == max) cli_die("%s: at most %zu seeds", opt, max);
        seeds[n++] = cli_u64(opt, buf);
        p += len;
        if (*p == ',') p++;
    }
    if (!n) cli_die("%s: no seeds given", opt);
    return n;
}
