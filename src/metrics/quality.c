/* Everything at once: the metrics `brisk eval` reports for one generated set. */
#include "metrics/metrics_impl.h"

#include <string.h>

static const char *const metric_names[BRISK_METRIC_COUNT] = {"fd", "kid", "pr", "classes", "mmr"};

const char *brisk_metric_name(brisk_metric m) {
    return (unsigned)m < BRISK_METRIC_COUNT ? metric_names[m] : "unknown";
}

int brisk_metric_from_name(const char *name, brisk_metric *out) {
    BRISK_ASSERT(name && out);
    for (int m = 0; m < BRISK_METRIC_COUNT; m++)
        if (!strcmp(name, metric_names[m])) {
            *out = (brisk_metric)m;
            return 0;
        }
    return brisk_error(BRISK_EINVAL, "unknown metric '%s' (expected fd, kid, pr, classes or mmr)", name);
}

int brisk_metric_mask_parse(const char *list, unsigned *mask) {
    BRISK_ASSERT(list && mask);
    unsigned m = 0;
    const char *s = list;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char name[32];
        if (len == 0 || len >= sizeof name)
            return brisk_error(BRISK_EINVAL, "metric list '%s': empty or overlong name", list);
        memcpy(name, s, len);
        name[len] = 0;
        brisk_metric one = BRISK_METRIC_FD;
        int rc = brisk_metric_from_name(name, &one);
        if (rc) return rc;
        m |= 1u << one;
        s += len + (e ? 1 : 0);
        if (e && !*s) return brisk_error(BRISK_EINVAL, "metric list '%s' ends with a comma", list);
    }
    if (!m) return brisk_error(BRISK_EINVAL, "metric list is empty");
    *mask = m;
    return 0;
}

void brisk_quality_params_default(brisk_quality_params *p) {
    BRISK_ASSERT(p);
    memset(p, 0, sizeof *p);
    p->metrics = (1u << BRISK_METRIC_COUNT) - 1;
    brisk_kid_params_default(&p->kid);
    p->pr_k = 3;
    p->n_mmr_taus = 5;
    for (int i = 0; i < 5; i++) p->mmr_taus[i] = 0.1 * (i + 1);
}

void brisk_quality_result_free(brisk_quality_result *r) {
    if (r) brisk_class_summary_free(&r->classes);
}

#define WANT(m) (p->metrics & (1u << (m)))

int brisk_quality_evaluate(const brisk_quality_ref *ref, const brisk_features *gen,
                           const brisk_features *gen_probs, const brisk_quality_params *p,
                           brisk_quality_result *out) {
    BRISK_ASSERT(p && out);
    memset(out, 0, sizeof *out);
    static const brisk_quality_ref none = {0};
    if (!ref) ref = &none;
    if (p->metrics >> BRISK_METRIC_COUNT) return brisk_error(BRISK_EINVAL, "quality: unknown metric bits 0x%x", p->metrics);
    /* Every requested metric's inputs are checked before anything is computed. */
    for (int m = 0; m < BRISK_METRIC_COUNT; m++) {
        if (!WANT(m)) continue;
        int need_gen = m <= BRISK_METRIC_PR, need_real = m == BRISK_METRIC_KID || m == BRISK_METRIC_PR ||
                                                          (m == BRISK_METRIC_FD && !ref->stats);
        if (need_gen && !gen)
            return brisk_error(BRISK_EINVAL, "%s needs features of the generated samples", metric_names[m]);
        if (need_real && !ref->features)
            return brisk_error(BRISK_EINVAL, "%s needs reference (real) features%s", metric_names[m],
                               m == BRISK_METRIC_FD ? " or reference statistics" : "");
        if (m >= BRISK_METRIC_CLASSES && !gen_probs)
            return brisk_error(BRISK_EINVAL, "%s needs classifier probabilities of the generated samples",
                               metric_names[m]);
    }
    if (WANT(BRISK_METRIC_MMR) && (p->n_mmr_taus == 0 || p->n_mmr_taus > BRISK_MMR_MAX_TAUS))
        return brisk_error(BRISK_EINVAL, "mmr: %zu thresholds (1..%d allowed)", p->n_mmr_taus, BRISK_MMR_MAX_TAUS);
    int rc = 0;
    if (WANT(BRISK_METRIC_FD)) {
        brisk_gauss_stats sg, sr = {0};
        if ((rc = brisk_gauss_stats_compute(gen, &sg))) return rc;
        const brisk_gauss_stats *rs = ref->stats;
        if (!rs) {
            rc = brisk_gauss_stats_compute(ref->features, &sr);
            rs = &sr;
        }
        if (!rc) rc = brisk_frechet_distance(rs, &sg, &out->fd, &out->fd_terms);
        brisk_gauss_stats_free(&sg);
        brisk_gauss_stats_free(&sr);
        if (rc) return rc;
        out->computed |= 1u << BRISK_METRIC_FD;
    }
    if (WANT(BRISK_METRIC_KID)) {
        if ((rc = brisk_kid(ref->features, gen, &p->kid, &out->kid, NULL))) return rc;
        out->computed |= 1u << BRISK_METRIC_KID;
    }
    if (WANT(BRISK_METRIC_PR)) {
        if (ref->radii) {
            brisk_pr_result *r = &out->pr;
            double *rg = NULL;
            if ((rc = metrics_check_same_dim(ref->features, gen))) return rc;
            if (!(rg = brisk_malloc(gen->n * sizeof *rg))) return BRISK_ENOMEM;
            if (!(rc = brisk_knn_radii(gen, p->pr_k, rg)) &&
                !(rc = brisk_manifold_count(gen, ref->features, ref->radii, &r->n_gen_in_real, NULL)))
                rc = brisk_manifold_count(ref->features, gen, rg, &r->n_real_in_gen, NULL);
            brisk_free(rg);
            if (rc) return rc;
            r->k = p->pr_k;
            r->n_real = ref->features->n;
            r->n_gen = gen->n;
            r->precision = (double)r->n_gen_in_real / (double)gen->n;
            r->recall = (double)r->n_real_in_gen / (double)ref->features->n;
        } else if ((rc = brisk_precision_recall(ref->features, gen, p->pr_k, &out->pr))) {
            return rc;
        }
        out->computed |= 1u << BRISK_METRIC_PR;
    }
    if (WANT(BRISK_METRIC_CLASSES)) {
        if ((rc = brisk_class_summary_compute(gen_probs, &out->classes))) return rc;
        out->computed |= 1u << BRISK_METRIC_CLASSES;
    }
    if (WANT(BRISK_METRIC_MMR)) {
        if ((rc = brisk_mode_mixture_rate(gen_probs, p->mmr_taus, p->n_mmr_taus, out->mmr))) {
            brisk_quality_result_free(out);
            return rc;
        }
        out->n_mmr_taus = p->n_mmr_taus;
        memcpy(out->mmr_taus, p->mmr_taus, p->n_mmr_taus * sizeof(double));
        out->computed |= 1u << BRISK_METRIC_MMR;
    }
    return 0;
}

/* cJSON_Add* return NULL when out of memory; `ok` collects that. */
static cJSON *num(cJSON *o, const char *k, double v, int *ok) {
    cJSON *r = cJSON_AddNumberToObject(o, k, v);
    if (!r) *ok = 0;
    return r;
}

static cJSON *obj(cJSON *o, const char *k, int *ok) {
    cJSON *r = o ? cJSON_AddObjectToObject(o, k) : NULL;
    if (!r) *ok = 0;
    return r;
}

int brisk_quality_result_to_json(const brisk_quality_result *r, cJSON *o) {
    BRISK_ASSERT(r && o);
    int ok = 1;
    if (r->computed & (1u << BRISK_METRIC_FD)) {
        num(o, "fd", r->fd, &ok);
        cJSON *t = obj(o, "fd_terms", &ok);
        if (t) {
            num(t, "mean_term", r->fd_terms.mean_term, &ok);
            num(t, "trace_ref", r->fd_terms.trace1, &ok);
            num(t, "trace_gen", r->fd_terms.trace2, &ok);
            num(t, "trace_sqrt", r->fd_terms.trace_sqrt, &ok);
            num(t, "n_clipped", r->fd_terms.n_clipped, &ok);
            num(t, "min_eig", r->fd_terms.min_eig, &ok);
        }
    }
    if (r->computed & (1u << BRISK_METRIC_KID)) {
        cJSON *k = obj(o, "kid", &ok);
        if (k) {
            num(k, "mean", r->kid.mean, &ok);
            num(k, "std", r->kid.std, &ok);
            num(k, "subset_size", (double)r->kid.subset_size, &ok);
            num(k, "num_subsets", (double)r->kid.num_subsets, &ok);
        }
    }
    if (r->computed & (1u << BRISK_METRIC_PR)) {
        num(o, "precision", r->pr.precision, &ok);
        num(o, "recall", r->pr.recall, &ok);
        cJSON *k = obj(o, "pr", &ok);
        if (k) {
            num(k, "k", (double)r->pr.k, &ok);
            num(k, "n_real", (double)r->pr.n_real, &ok);
            num(k, "n_gen", (double)r->pr.n_gen, &ok);
            num(k, "n_gen_in_real", (double)r->pr.n_gen_in_real, &ok);
            num(k, "n_real_in_gen", (double)r->pr.n_real_in_gen, &ok);
        }
    }
    if (r->computed & (1u << BRISK_METRIC_CLASSES)) {
        cJSON *c = obj(o, "classes", &ok);
        if (c) {
            num(c, "n", (double)r->classes.n, &ok);
            cJSON *arr = cJSON_AddArrayToObject(c, "counts");
            if (!arr) ok = 0;
            for (size_t i = 0; arr && i < r->classes.n_classes; i++) {
                cJSON *v = cJSON_CreateNumber((double)r->classes.counts[i]);
                if (!v || !cJSON_AddItemToArray(arr, v)) {
                    cJSON_Delete(v);
                    ok = 0;
                    break;
                }
            }
            num(c, "tv", r->classes.tv, &ok);
            num(c, "kl", r->classes.kl, &ok);
            num(c, "chi2", r->classes.chi2, &ok);
            num(c, "chi2_p", r->classes.chi2_p, &ok);
        }
    }
    if (r->computed & (1u << BRISK_METRIC_MMR)) {
        cJSON *arr = cJSON_AddArrayToObject(o, "mmr");
        if (!arr) ok = 0;
        for (size_t i = 0; arr && i < r->n_mmr_taus; i++) {
            cJSON *e = cJSON_CreateObject();
            if (!e || !cJSON_AddItemToArray(arr, e)) {
                cJSON_Delete(e);
                ok = 0;
                break;
            }
            num(e, "tau", r->mmr_taus[i], &ok);
            num(e, "rate", r->mmr[i], &ok);
        }
    }
    return ok ? 0 : brisk_error(BRISK_ENOMEM, "out of memory building the metrics JSON");
}
