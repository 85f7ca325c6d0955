/* Shared pieces of the analytic denoisers: the x0 -> eps / v conversion, the wrapper
 * that turns a context into a brisk_denoiser, and small readers. */
#include "denoise_impl.h"

#include "brisk/io.h"
#include "brisk/json.h"

#include <math.h>
#include <string.h>

/* Prediction forms: x = sqrt(a) x0 + sqrt(1-a) eps (DDPM, Ho et al. 2020, eq. 4);
 * v = sqrt(a) eps - sqrt(1-a) x0 (Salimans & Ho 2022, "Progressive distillation", sec. 4). */
void brisk_prediction_from_x0(brisk_prediction pred, const double *x, const double *x0,
                              size_t n, double alpha_bar, double *out) {
    double sa = sqrt(alpha_bar), s1 = sqrt(1.0 - alpha_bar);
    switch (pred) {
    case BRISK_PRED_SAMPLE:
        if (out != x0) memcpy(out, x0, n * sizeof *out);
        break;
    case BRISK_PRED_EPSILON:
        for (size_t i = 0; i < n; i++) out[i] = (x[i] - sa * x0[i]) / s1;
        break;
    case BRISK_PRED_V:
        for (size_t i = 0; i < n; i++) {
            double e = (x[i] - sa * x0[i]) / s1;
            out[i] = sa * e - s1 * x0[i];
        }
        break;
    default:
        BRISK_ASSERT(0 && "unknown prediction type");
    }
}

int denoise_wrap(void *ctx, brisk_predict_fn predict, void (*destroy)(void *), size_t dim,
                 size_t c, size_t h, size_t w, brisk_prediction pred, brisk_denoiser **out) {
    *out = NULL;
    brisk_denoiser *d = brisk_calloc(1, sizeof *d);
    if (!d) {
        if (destroy) destroy(ctx);
        return BRISK_ENOMEM;
    }
    d->predict = predict;
    d->destroy = destroy;
    d->ctx = ctx;
    d->dim = dim;
    d->c = c;
    d->h = h;
    d->w = w;
    d->prediction = pred;
    *out = d;
    return BRISK_OK;
}

int denoise_check_alpha(const char *who, double t, double alpha_bar) {
    if (!(alpha_bar >= 0.0 && alpha_bar < 1.0))
        return brisk_error(BRISK_EINVAL,
                           "%s denoiser: alpha_bar %.17g at t=%g is outside [0, 1)", who,
                           alpha_bar, t);
    return BRISK_OK;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

int denoise_read_vector(const char *path, double **out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (ends_with(path, ".npy")) {
        brisk_array a;
        int rc = brisk_npy_read(path, &a);
        if (rc) return rc;
        rc = brisk_array_convert(&a, BRISK_F64);
        if (rc) {
            brisk_array_free(&a);
            return rc;
        }
        *n = brisk_array_numel(&a);
        *out = a.data; /* allocated with brisk_malloc by the npy reader */
        return BRISK_OK;
    }
    cJSON *doc;
    int rc = brisk_json_read_file(path, &doc);
    if (rc) return rc;
    if (!cJSON_IsArray(doc)) {
        cJSON_Delete(doc);
        return brisk_error(BRISK_EPARSE, "%s: expected a JSON array of numbers", path);
    }
    size_t len = (size_t)cJSON_GetArraySize(doc), i = 0;
    double *v = brisk_malloc((len ? len : 1) * sizeof *v);
    if (!v) {
        cJSON_Delete(doc);
        return BRISK_ENOMEM;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, doc) {
        if (!cJSON_IsNumber(e)) {
            brisk_free(v);
            cJSON_Delete(doc);
            return brisk_error(BRISK_EPARSE, "%s: element %zu is not a number", path, i);
        }
        v[i++] = e->valuedouble;
    }
    cJSON_Delete(doc);
    *out = v;
    *n = len;
    return BRISK_OK;
}
