/* Feature sets: views, loading, validation and row gathering. */
#include "metrics/metrics_impl.h"

#include <math.h>
#include <string.h>

int brisk_features_view(const brisk_array *a, const char *name, brisk_features *out) {
    BRISK_ASSERT(a && out);
    const char *nm = name ? name : "features";
    memset(out, 0, sizeof *out);
    if (a->dtype != BRISK_F32 && a->dtype != BRISK_F64)
        return brisk_error(BRISK_EUNSUPPORTED, "%s: features must be float32 or float64, got %s",
                           nm, brisk_dtype_name(a->dtype));
    if (a->ndim != 2)
        return brisk_error(BRISK_ESHAPE, "%s: features must be a 2-D (samples, dim) array, got %d-D",
                           nm, a->ndim);
    if (a->shape[0] == 0)
        return brisk_error(BRISK_ESHAPE, "%s: empty feature set (0 samples)", nm);
    if (a->shape[1] == 0)
        return brisk_error(BRISK_ESHAPE, "%s: features have dimension 0", nm);
    out->data = a->data;
    out->dtype = a->dtype;
    out->n = a->shape[0];
    out->dim = a->shape[1];
    out->name = nm;
    return 0;
}

int brisk_features_load(const char *path, brisk_array *storage, brisk_features *out) {
    BRISK_ASSERT(path && storage && out);
    memset(out, 0, sizeof *out);
    int rc = brisk_npy_read(path, storage);
    if (rc) return rc;
    rc = brisk_features_view(storage, path, out);
    if (rc) brisk_array_free(storage);
    return rc;
}

int metrics_check_features(const brisk_features *f, size_t min_n, const char *need) {
    BRISK_ASSERT(f);
    const char *nm = feat_name(f);
    if (!f->data || f->n == 0)
        return brisk_error(BRISK_ESHAPE, "%s: empty feature set (0 samples)", nm);
    if (f->dtype != BRISK_F32 && f->dtype != BRISK_F64)
        return brisk_error(BRISK_EUNSUPPORTED, "%s: features must be float32 or float64", nm);
    if (f->dim == 0) return brisk_error(BRISK_ESHAPE, "%s: features have dimension 0", nm);
    if (f->n < min_n)
        return brisk_error(BRISK_EINVAL, "%s: %s needs at least %zu samples, got %zu", nm, need,
                           min_n, f->n);
    size_t total = f->n * f->dim, bad = (size_t)-1;
    if (f->dtype == BRISK_F32) {
        const float *p = f->data;
        for (size_t i = 0; i < total; i++)
            if (!isfinite(p[i])) { bad = i; break; }
    } else {
        const double *p = f->data;
        for (size_t i = 0; i < total; i++)
            if (!isfinite(p[i])) { bad = i; break; }
    }
    if (bad != (size_t)-1)
        return brisk_error(BRISK_ENUMERIC, "%s: non-finite value at row %zu, column %zu", nm,
                           bad / f->dim, bad % f->dim);
    return 0;
}

int metrics_check_same_dim(const brisk_features *a, const brisk_features *b) {
    if (a->dim != b->dim)
        return brisk_error(BRISK_ESHAPE, "feature dimensions differ: %s has %zu, %s has %zu",
                           feat_name(a), a->dim, feat_name(b), b->dim);
    return 0;
}

void metrics_gather_f64(const brisk_features *f, const size_t *rows, size_t m,
                        const double *center, double *dst) {
    size_t d = f->dim;
    for (size_t r = 0; r < m; r++) {
        size_t i = rows ? rows[r] : r;
        double *o = dst + r * d;
        if (f->dtype == BRISK_F32) {
            const float *s = (const float *)f->data + i * d;
            for (size_t j = 0; j < d; j++) o[j] = (double)s[j];
        } else {
            memcpy(o, (const double *)f->data + i * d, d * sizeof(double));
        }
        if (center)
            for (size_t j = 0; j < d; j++) o[j] -= center[j];
    }
}

void metrics_gather_f32(const brisk_features *f, size_t r0, size_t m, const double *center,
                        float *dst) {
    size_t d = f->dim;
    for (size_t r = 0; r < m; r++)
        for (size_t j = 0; j < d; j++)
            dst[r * d + j] = (float)(feat_at(f, r0 + r, j) - (center ? center[j] : 0.0));
}

void metrics_mean(const brisk_features *f, double *mu) {
    size_t d = f->dim;
    for (size_t j = 0; j < d; j++) mu[j] = 0.0;
    for (size_t i = 0; i < f->n; i++)
        for (size_t j = 0; j < d; j++) mu[j] += feat_at(f, i, j);
    for (size_t j = 0; j < d; j++) mu[j] /= (double)f->n;
}
