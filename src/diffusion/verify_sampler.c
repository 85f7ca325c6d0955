/* Sampler reference cases (format: vectors README, docs/verify.md): runs the case's
 * scheduler on its Gaussian model with the supplied noise through brisk_sample_run and
 * compares the model-call timesteps, the NFE and x_final (|x - ref| <= 1e-4 max(1, |ref|)). */
#include "brisk/verify.h"

#include "brisk/core.h"
#include "brisk/diffusion.h"
#include "brisk/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SAMPLER_TOL 1e-4

/* The case's analytic model: data ~ N(mean, diag std^2); at alpha-bar a the exact MMSE
 * predictions are eps = sqrt(1-a) (x - sqrt(a) mean) / (a std^2 + 1 - a), x0 = (x -
 * sqrt(1-a) eps) / sqrt(a), v = sqrt(a) eps - sqrt(1-a) x0 (vectors README). The alpha-bar
 * follows the case's convention, not the sampler's: diffusers cases use the scheduler's
 * alphas_cumprod at the integer timestep passed to the model; the PNDM authors' cases
 * interpolate alphas_cumprod at fractional t. */
typedef struct case_model {
    const double *mean, *std;
    size_t dim;
    brisk_prediction pred;
    int original;
    const brisk_noise_schedule *ns;
    double *calls; /* recorded timesteps */
    size_t n_calls, cap;
} case_model;

static int model_predict(void *ctx, const double *x, size_t batch, size_t dim, double t,
                         double alpha_bar, double *out) {
    (void)alpha_bar;
    case_model *m = ctx;
    if (m->n_calls == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 256;
        double *c = brisk_realloc(m->calls, cap * sizeof *c);
        if (!c) return BRISK_ENOMEM;
        m->calls = c;
        m->cap = cap;
    }
    m->calls[m->n_calls++] = t;
    const brisk_noise_schedule *ns = m->ns;
    double a;
    if (m->original) {
        a = brisk_alpha_bar_at(ns, t);
    } else {
        long i = (long)t;
        if (i < 0) i = 0;
        if (i > ns->T - 1) i = ns->T - 1;
        a = ns->alphas_cumprod[i];
    }
    double sa = sqrt(a), sb = sqrt(1 - a);
    for (size_t b = 0; b < batch; b++)
        for (size_t j = 0; j < dim; j++) {
            size_t i = b * dim + j;
            double s2 = m->std[j] * m->std[j];
            double eps = sb * (x[i] - sa * m->mean[j]) / (a * s2 + 1 - a);
            double x0 = (x[i] - sb * eps) / sa;
            out[i] = m->pred == BRISK_PRED_EPSILON ? eps
                     : m->pred == BRISK_PRED_SAMPLE ? x0
                                                    : sa * eps - sb * x0;
        }
    return BRISK_OK;
}

/* Reads a flat numeric array or an array of arrays into one buffer. */
static int read_flat(const cJSON *v, const char *key, const char *path, double **out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (!v || cJSON_IsNull(v)) return BRISK_OK;
    if (!cJSON_IsArray(v))
        return brisk_error(BRISK_EPARSE, "%s: key '%s' must be an array", path, key);
    size_t total = 0;
    const cJSON *e, *f;
    cJSON_ArrayForEach(e, v) total += cJSON_IsArray(e) ? (size_t)cJSON_GetArraySize(e) : 1;
    double *d = brisk_malloc((total ? total : 1) * sizeof *d);
    if (!d) return BRISK_ENOMEM;
    size_t i = 0;
    cJSON_ArrayForEach(e, v) {
        if (cJSON_IsArray(e)) {
            cJSON_ArrayForEach(f, e) {
                if (!cJSON_IsNumber(f)) goto bad;
                d[i++] = f->valuedouble;
            }
        } else {
            if (!cJSON_IsNumber(e)) goto bad;
            d[i++] = e->valuedouble;
        }
    }
    *out = d;
    *n = total;
    return BRISK_OK;
bad:
    brisk_free(d);
    return brisk_error(BRISK_EPARSE, "%s: element %zu of '%s' is not a number", path, i, key);
}

typedef struct warn_list {
    char text[200];
    size_t len;
} warn_list;

static void collect_warn(void *ctx, const char *what, const char *key) {
    (void)what;
    warn_list *w = ctx;
    w->len += (size_t)snprintf(w->text + w->len, w->len < sizeof w->text ? sizeof w->text - w->len : 0,
                               "%s%s", w->len ? ", " : "", key);
    if (w->len >= sizeof w->text) w->len = sizeof w->text - 1;
}

/* step() keyword arguments: eta and use_clipped_model_output change behaviour; generator
 * and return_dict do not; Euler's churn arguments are supported at their defaults only. */
static int apply_step_kwargs(const cJSON *kw, brisk_scheduler_config *c, const char *path) {
    if (!kw || cJSON_IsNull(kw)) return BRISK_OK;
    if (!cJSON_IsObject(kw)) return brisk_error(BRISK_EPARSE, "%s: step_kwargs must be an object", path);
    const cJSON *it;
    cJSON_ArrayForEach(it, kw) {
        const char *k = it->string;
        if (!strcmp(k, "eta") && cJSON_IsNumber(it)) {
            c->eta = it->valuedouble;
        } else if (!strcmp(k, "use_clipped_model_output") && cJSON_IsBool(it)) {
            c->use_clipped_model_output = cJSON_IsTrue(it);
        } else if (!strcmp(k, "generator") || !strcmp(k, "return_dict")) {
            continue;
        } else if ((!strcmp(k, "s_churn") || !strcmp(k, "s_tmin")) && cJSON_IsNumber(it) &&
                   it->valuedouble == 0) {
            continue;
        } else if (!strcmp(k, "s_noise") && cJSON_IsNumber(it) && it->valuedouble == 1) {
            continue;
        } else if (!strcmp(k, "s_tmax") && cJSON_IsNumber(it) && isinf(it->valuedouble)) {
            continue;
        } else {
            char *s = cJSON_PrintUnformatted(it);
            int rc = brisk_error(BRISK_EUNSUPPORTED, "%s: step_kwargs '%s'=%s is not supported", path,
                                 k, s ? s : "?");
            cJSON_free(s);
            return rc;
        }
    }
    return BRISK_OK;
}

int brisk_verify_sampler_case(const char *path, const cJSON *doc, brisk_verify_result *r) {
    snprintf(r->kind, sizeof r->kind, "sampler");
    const cJSON *jsched = cJSON_GetObjectItemCaseSensitive(doc, "scheduler");
    if (!cJSON_IsString(jsched))
        return brisk_error(BRISK_EPARSE, "%s: key 'scheduler' must be a string", path);
    const char *cls = jsched->valuestring;
    int original = !strncmp(cls, "pndm-original:", 14);
    long steps, nfe_ref = -1;
    int rc = brisk_json_get_int(doc, "num_inference_steps", 0, &steps, path);
    if (!rc) rc = brisk_json_get_int(doc, "nfe", -1, &nfe_ref, path);
    if (rc) return rc;
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(doc, "shape");
    if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) != 2)
        return brisk_error(BRISK_EPARSE, "%s: key 'shape' must be [batch, dim]", path);
    size_t batch = (size_t)cJSON_GetArrayItem(shape, 0)->valuedouble;
    size_t dim = (size_t)cJSON_GetArrayItem(shape, 1)->valuedouble;
    const cJSON *jm = cJSON_GetObjectItemCaseSensitive(doc, "model");
    if (!cJSON_IsObject(jm)) return brisk_error(BRISK_EPARSE, "%s: key 'model' is missing", path);
    const char *mkind = "gaussian", *mpred = "epsilon";
    rc = brisk_json_get_string(jm, "kind", "gaussian", &mkind, path);
    if (!rc) rc = brisk_json_get_string(jm, "prediction_type", "epsilon", &mpred, path);
    if (rc) return rc;
    if (strcmp(mkind, "gaussian"))
        return brisk_error(BRISK_EUNSUPPORTED, "%s: model kind '%s' is not supported (valid: gaussian)",
                           path, mkind);
    brisk_prediction pred;
    rc = brisk_prediction_from_name(mpred, &pred);
    if (rc) return brisk_error_prefix(rc, "%s: model: ", path);

    double *mean = NULL, *stdv = NULL, *x = NULL, *noise = NULL, *ts_ref = NULL, *xf = NULL;
    size_t n_mean, n_std, n_x, n_noise, n_ts, n_xf;
    brisk_scheduler_config cfg;
    memset(&cfg, 0, sizeof cfg);
    brisk_scheduler *s = NULL;
    case_model m;
    memset(&m, 0, sizeof m);
    warn_list warns;
    memset(&warns, 0, sizeof warns);

    rc = brisk_json_get_doubles(jm, "mean", &mean, &n_mean, path);
    if (!rc) rc = brisk_json_get_doubles(jm, "std", &stdv, &n_std, path);
    if (!rc) rc = brisk_json_get_doubles(doc, "x_init", &x, &n_x, path);
    if (!rc) rc = read_flat(cJSON_GetObjectItemCaseSensitive(doc, "noise"), "noise", path, &noise, &n_noise);
    if (!rc) rc = brisk_json_get_doubles(doc, "model_call_timesteps", &ts_ref, &n_ts, path);
    if (!rc) rc = brisk_json_get_doubles(doc, "x_final", &xf, &n_xf, path);
    if (rc) goto done;
    if (n_mean != dim || n_std != dim || n_x != batch * dim || n_xf != batch * dim) {
        rc = brisk_error(BRISK_ESHAPE, "%s: model mean/std, x_init or x_final do not match shape "
                         "[%zu, %zu]", path, batch, dim);
        goto done;
    }
    rc = brisk_scheduler_config_from_json(cJSON_GetObjectItemCaseSensitive(doc, "config"), cls, &cfg,
                                          path, collect_warn, &warns);
    if (!rc) rc = apply_step_kwargs(cJSON_GetObjectItemCaseSensitive(doc, "step_kwargs"), &cfg, path);
    if (!rc) rc = brisk_scheduler_create(&cfg, &s);
    if (rc) goto done;
    if (noise) brisk_scheduler_set_noise(s, noise, n_noise);

    m.mean = mean;
    m.std = stdv;
    m.dim = dim;
    m.pred = pred;
    m.original = original;
    m.ns = brisk_scheduler_noise_schedule(s);
    brisk_denoiser d;
    memset(&d, 0, sizeof d);
    d.predict = model_predict;
    d.ctx = &m;
    d.dim = dim;
    d.prediction = pred;
    brisk_run_stats st;
    rc = brisk_sample_run(s, &d, (int)steps, x, batch, NULL, &st);
    if (rc) goto done;

    /* compare */
    size_t nt = m.n_calls < n_ts ? m.n_calls : n_ts;
    size_t bad_t = (size_t)-1;
    for (size_t i = 0; i < nt && bad_t == (size_t)-1; i++) {
        double t = m.calls[i], ref = ts_ref[i];
        int ok = fabs(t - ref) <= 1e-6 * (fabs(ref) > 1 ? fabs(ref) : 1) ||
                 (ref == floor(ref) && floor(t) == ref); /* float timesteps passed as int */
        if (!ok) bad_t = i;
    }
    int ts_ok = bad_t == (size_t)-1 && m.n_calls == n_ts;
    int nfe_ok = nfe_ref < 0 || (long)st.nfe == nfe_ref;
    double max_err = 0, max_rel = 0;
    for (size_t i = 0; i < n_xf; i++) {
        double e = fabs(x[i] - xf[i]);
        double scale = fabs(xf[i]) > 1 ? fabs(xf[i]) : 1;
        if (!(e <= max_err)) max_err = e;
        if (!(e / scale <= max_rel)) max_rel = e / scale;
    }
    r->max_err = max_err;
    r->max_rel = max_rel;
    int x_ok = max_rel <= SAMPLER_TOL;
    r->passed = ts_ok && nfe_ok && x_ok;
    size_t len = 0;
    if (ts_ok) len += (size_t)snprintf(r->detail, sizeof r->detail, "timesteps match");
    else if (bad_t != (size_t)-1)
        len += (size_t)snprintf(r->detail, sizeof r->detail, "timestep %zu is %g, expected %g", bad_t,
                                m.calls[bad_t], ts_ref[bad_t]);
    else
        len += (size_t)snprintf(r->detail, sizeof r->detail, "%zu model calls, expected %zu",
                                m.n_calls, n_ts);
    len += (size_t)snprintf(r->detail + len, sizeof r->detail - len, ", nfe %zu/%ld", st.nfe,
                            nfe_ref < 0 ? (long)n_ts : nfe_ref);
    if (!x_ok && len < sizeof r->detail)
        len += (size_t)snprintf(r->detail + len, sizeof r->detail - len,
                                ", x_final off by %.3g (tol 1e-4 rel)", max_rel);
    if (warns.len && len < sizeof r->detail)
        snprintf(r->detail + len, sizeof r->detail - len, " (ignored keys: %s)", warns.text);

done:
    brisk_free(m.calls);
    brisk_scheduler_free(s);
    brisk_scheduler_config_clear(&cfg);
    brisk_free(mean);
    brisk_free(stdv);
    brisk_free(x);
    brisk_free(noise);
    brisk_free(ts_ref);
    brisk_free(xf);
    return rc;
}
