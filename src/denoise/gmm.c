/* Gaussian mixture with diagonal components: the exact posterior mean E[x0 | x].
 *
 * Under x = sqrt(a) x0 + sqrt(1-a) eps, component k gives x ~ N(sqrt(a) m_k, v_k) with
 * v_k = a s_k^2 + 1 - a per coordinate. Responsibilities
 *     r_k(x) = w_k N(x; sqrt(a) m_k, v_k) / sum_l w_l N(x; sqrt(a) m_l, v_l)
 * are computed in log space with log-sum-exp; within a component the posterior mean is the
 * Gaussian one, m_k + sqrt(a) s_k^2 (x - sqrt(a) m_k) / v_k, and E[x0 | x] = sum_k r_k (...). */
#include "denoise_impl.h"

#include "brisk/json.h"

#include <math.h>
#include <string.h>

#define DENOISE_TWO_PI 6.283185307179586476925286766559

void brisk_gmm_free(brisk_gmm *g) {
    if (!g) return;
    brisk_free(g->weights);
    brisk_free(g->means);
    brisk_free(g->stds);
    memset(g, 0, sizeof *g);
}

/* Reads row `idx` of a (k, dim) key: an array of `dim` numbers; for "stds" a single
 * number (isotropic component) is also accepted. */
static int read_row(const cJSON *row, const char *what, const char *key, size_t idx, size_t *dim,
                    double *dst, int allow_scalar) {
    if (allow_scalar && cJSON_IsNumber(row)) {
        BRISK_ASSERT(*dim > 0);
        for (size_t j = 0; j < *dim; j++) dst[j] = row->valuedouble;
        return BRISK_OK;
    }
    if (!cJSON_IsArray(row))
        return brisk_error(BRISK_EPARSE, "%s: key '%s'[%zu] must be an array of numbers%s", what,
                           key, idx, allow_scalar ? " or a number" : "");
    size_t n = (size_t)cJSON_GetArraySize(row);
    if (*dim == 0) *dim = n;
    if (n != *dim || n == 0)
        return brisk_error(BRISK_ESHAPE, "%s: key '%s'[%zu] has %zu numbers, expected %zu", what,
                           key, idx, n, *dim);
    size_t j = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, row) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return brisk_error(BRISK_EPARSE, "%s: key '%s'[%zu][%zu] is not a finite number", what,
                               key, idx, j);
        dst[j++] = e->valuedouble;
    }
    return BRISK_OK;
}

int brisk_gmm_from_json(const struct cJSON *doc, const char *what, brisk_gmm *out) {
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(doc))
        return brisk_error(BRISK_EPARSE, "%s: a GMM file must be a JSON object with keys weights, "
                                         "means, stds", what);
    static const char *keys[3] = {"weights", "means", "stds"};
    const cJSON *items[3];
    for (int i = 0; i < 3; i++) {
        items[i] = cJSON_GetObjectItemCaseSensitive(doc, keys[i]);
        if (!items[i])
            return brisk_error(BRISK_ENOTFOUND, "%s: key '%s' is missing (a GMM needs weights, "
                                                "means, stds)", what, keys[i]);
        if (!cJSON_IsArray(items[i]))
            return brisk_error(BRISK_EPARSE, "%s: key '%s' must be an array", what, keys[i]);
    }
    const cJSON *e;
    for (const cJSON *c = doc->child; c; c = c->next)
        if (strcmp(c->string, "weights") && strcmp(c->string, "means") && strcmp(c->string, "stds") &&
            c->string[0] != '_')
            return brisk_error(BRISK_EPARSE, "%s: unknown key '%s' (a GMM has weights, means, stds)",
                               what, c->string);
    size_t k = (size_t)cJSON_GetArraySize(items[0]);
    if (k == 0) return brisk_error(BRISK_EPARSE, "%s: key 'weights' is empty", what);
    for (int i = 1; i < 3; i++)
        if ((size_t)cJSON_GetArraySize(items[i]) != k)
            return brisk_error(BRISK_ESHAPE, "%s: key '%s' has %d rows, but 'weights' has %zu", what,
                               keys[i], cJSON_GetArraySize(items[i]), k);
    const cJSON *first = cJSON_GetArrayItem(items[1], 0);
    size_t dim = cJSON_IsArray(first) ? (size_t)cJSON_GetArraySize(first) : 0;
    if (dim == 0) return brisk_error(BRISK_EPARSE, "%s: key 'means'[0] must be a non-empty array", what);
    out->k = k;
    out->dim = dim;
    out->weights = brisk_malloc(k * sizeof(double));
    out->means = brisk_malloc(k * dim * sizeof(double));
    out->stds = brisk_malloc(k * dim * sizeof(double));
    int rc = BRISK_OK;
    if (!out->weights || !out->means || !out->stds) {
        rc = BRISK_ENOMEM;
        goto fail;
    }
    double total = 0.0;
    size_t i = 0;
    cJSON_ArrayForEach(e, items[0]) {
        if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0.0) || !isfinite(e->valuedouble)) {
            rc = brisk_error(BRISK_EPARSE, "%s: key 'weights'[%zu] must be a finite number >= 0",
                             what, i);
            goto fail;
        }
        out->weights[i++] = e->valuedouble;
        total += e->valuedouble;
    }
    if (!(total > 0.0)) {
        rc = brisk_error(BRISK_EINVAL, "%s: key 'weights' sums to 0", what);
        goto fail;
    }
    for (i = 0; i < k; i++) out->weights[i] /= total;
    i = 0;
    cJSON_ArrayForEach(e, items[1]) {
        if ((rc = read_row(e, what, "means", i, &dim, out->means + i * dim, 0))) goto fail;
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(e, items[2]) {
        if ((rc = read_row(e, what, "stds", i, &dim, out->stds + i * dim, 1))) goto fail;
        for (size_t j = 0; j < dim; j++)
            if (!(out->stds[i * dim + j] > 0.0) || !isfinite(out->stds[i * dim + j])) {
                rc = brisk_error(BRISK_EINVAL, "%s: key 'stds'[%zu] must be positive and finite",
                                 what, i);
                goto fail;
            }
        i++;
    }
    return BRISK_OK;
fail:
    brisk_gmm_free(out);
    return rc;
}

int brisk_gmm_load(const char *path, brisk_gmm *out) {
    memset(out, 0, sizeof *out);
    cJSON *doc;
    int rc = brisk_json_read_file(path, &doc);
    if (rc) return rc;
    rc = brisk_gmm_from_json(doc, path, out);
    cJSON_Delete(doc);
    return rc;
}

typedef struct gmm_ctx {
    brisk_gmm g;
    brisk_prediction pred;
    double *log_norm; /* (k): log w_k - 0.5 sum_j log(2 pi v_kj), refreshed per call */
    double *var;      /* (k, dim): v_kj for the current alpha */
    double cached_alpha;
} gmm_ctx;

static int gmm_predict(void *vctx, const double *x, size_t batch, size_t dim, double t,
                       double alpha_bar, double *out) {
    gmm_ctx *c = vctx;
    const brisk_gmm *g = &c->g;
    BRISK_ASSERT(dim == g->dim);
    int rc = denoise_check_alpha("gmm", t, alpha_bar);
    if (rc) return rc;
    const double a = alpha_bar, sa = sqrt(a);
    const size_t K = g->k;
    if (a != c->cached_alpha) {
        for (size_t k = 0; k < K; k++) {
            double ln = log(g->weights[k]);
            for (size_t j = 0; j < dim; j++) {
                double s = g->stds[k * dim + j];
                double v = a * s * s + 1.0 - a;
                c->var[k * dim + j] = v;
                ln -= 0.5 * log(DENOISE_TWO_PI * v);
            }
            c->log_norm[k] = ln;
        }
        c->cached_alpha = a;
    }
    int bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad) if (batch * K * dim > 65536)
    for (size_t b = 0; b < batch; b++) {
        const double *xb = x + b * dim;
        double *ob = out + b * dim;
        /* pass 1: the max log-responsibility; pass 2: accumulate. Only K log-terms per sample
         * are needed, recomputed rather than stored so the call allocates nothing. */
        double lmax = -INFINITY;
        for (size_t k = 0; k < K; k++) {
            double l = c->log_norm[k];
            for (size_t j = 0; j < dim; j++) {
                double d = xb[j] - sa * g->means[k * dim + j];
                l -= 0.5 * d * d / c->var[k * dim + j];
            }
            if (l > lmax) lmax = l;
        }
        if (!isfinite(lmax)) {
            bad = 1;
            continue;
        }
        for (size_t j = 0; j < dim; j++) ob[j] = 0.0;
        double total = 0.0;
        for (size_t k = 0; k < K; k++) {
            double l = c->log_norm[k];
            const double *m = g->means + k * dim, *v = c->var + k * dim, *s = g->stds + k * dim;
            for (size_t j = 0; j < dim; j++) {
                double d = xb[j] - sa * m[j];
                l -= 0.5 * d * d / v[j];
            }
            double r = exp(l - lmax);
            if (r == 0.0) continue;
            total += r;
            for (size_t j = 0; j < dim; j++)
                ob[j] += r * (m[j] + sa * s[j] * s[j] * (xb[j] - sa * m[j]) / v[j]);
        }
        for (size_t j = 0; j < dim; j++) ob[j] /= total;
        if (c->pred != BRISK_PRED_SAMPLE) brisk_prediction_from_x0(c->pred, xb, ob, dim, a, ob);
    }
    if (bad)
        return brisk_error(BRISK_ENUMERIC, "gmm denoiser: non-finite input or responsibilities at t=%g",
                           t);
    return BRISK_OK;
}

static void gmm_destroy(void *vctx) {
    gmm_ctx *c = vctx;
    if (!c) return;
    brisk_gmm_free(&c->g);
    brisk_free(c->log_norm);
    brisk_free(c->var);
    brisk_free(c);
}

int brisk_denoiser_create_gmm(const brisk_gmm *g, brisk_prediction pred, brisk_denoiser **out) {
    *out = NULL;
    if (!g || g->k == 0 || g->dim == 0)
        return brisk_error(BRISK_EINVAL, "gmm denoiser: the mixture is empty");
    if ((unsigned)pred >= BRISK_PRED_COUNT)
        return brisk_error(BRISK_EINVAL, "gmm denoiser: invalid prediction type %d", (int)pred);
    double total = 0.0;
    for (size_t k = 0; k < g->k; k++) {
        if (!(g->weights[k] >= 0.0) || !isfinite(g->weights[k]))
            return brisk_error(BRISK_EINVAL, "gmm denoiser: weight %zu = %g must be >= 0", k, g->weights[k]);
        total += g->weights[k];
    }
    if (!(total > 0.0)) return brisk_error(BRISK_EINVAL, "gmm denoiser: the weights sum to 0");
    for (size_t i = 0; i < g->k * g->dim; i++) {
        if (!isfinite(g->means[i]))
            return brisk_error(BRISK_EINVAL, "gmm denoiser: mean of component %zu, coordinate %zu is not finite",
                               i / g->dim, i % g->dim);
        if (!(g->stds[i] > 0.0) || !isfinite(g->stds[i]))
            return brisk_error(BRISK_EINVAL, "gmm denoiser: std of component %zu, coordinate %zu must be positive",
                               i / g->dim, i % g->dim);
    }
    gmm_ctx *c = brisk_calloc(1, sizeof *c);
    if (!c) return BRISK_ENOMEM;
    size_t K = g->k, D = g->dim;
    c->g.k = K;
    c->g.dim = D;
    c->g.weights = brisk_malloc(K * sizeof(double));
    c->g.means = brisk_malloc(K * D * sizeof(double));
    c->g.stds = brisk_malloc(K * D * sizeof(double));
    c->log_norm = brisk_malloc(K * sizeof(double));
    c->var = brisk_malloc(K * D * sizeof(double));
    if (!c->g.weights || !c->g.means || !c->g.stds || !c->log_norm || !c->var) {
        gmm_destroy(c);
        return BRISK_ENOMEM;
    }
    for (size_t k = 0; k < K; k++) c->g.weights[k] = g->weights[k] / total;
    memcpy(c->g.means, g->means, K * D * sizeof(double));
    memcpy(c->g.stds, g->stds, K * D * sizeof(double));
    c->pred = pred;
    c->cached_alpha = NAN;
    return denoise_wrap(c, gmm_predict, gmm_destroy, D, 0, 0, 0, pred, out);
}
