/* Files of the OT module: targets (N, D) and the potential h (N) as .npy. */
#include "ot_impl.h"

#include "brisk/core.h"

#include <math.h>
#include <string.h>

int brisk_ot_targets_load(const char *path, brisk_array *out) {
    BRISK_ASSERT(path && out);
    int rc = brisk_npy_read(path, out);
    if (rc) return rc;
    if (out->dtype != BRISK_F32 && out->dtype != BRISK_F64) {
        rc = brisk_error(BRISK_EUNSUPPORTED, "%s: targets must be float32 or float64, not %s",
                         path, brisk_dtype_name(out->dtype));
        goto fail;
    }
    if (out->ndim != 2) {
        char shape[128] = "(";
        size_t k = 1;
        for (int i = 0; i < out->ndim && k < sizeof shape - 24; i++)
            k += (size_t)snprintf(shape + k, sizeof shape - k, "%s%zu", i ? ", " : "",
                                  out->shape[i]);
        snprintf(shape + k, sizeof shape - k, ")");
        rc = brisk_error(BRISK_ESHAPE,
                         "%s: targets must be a rank-2 (N, D) array, got rank %d shape %s", path,
                         out->ndim, shape);
        goto fail;
    }
    if (out->dtype == BRISK_F64) {
        /* Check before rounding so a value too large for float32 names itself. */
        const double *v = out->data;
        size_t d = out->shape[1];
        for (size_t k = 0; k < brisk_array_numel(out); k++)
            if (!isfinite(v[k]) || fabs(v[k]) > 3.4e38) {
                rc = brisk_error(BRISK_ENUMERIC, "%s: target %zu, element %zu is %s", path,
                                 k / d, k % d,
                                 isnan(v[k]) ? "NaN" : isinf(v[k]) ? "infinite"
                                                                   : "too large for float32");
                goto fail;
            }
        rc = brisk_array_convert(out, BRISK_F32);
        if (rc) goto fail;
    }
    rc = brisk_ot_targets_check(out->data, out->shape[0], out->shape[1], path);
    if (rc) goto fail;
    return 0;
fail:
    brisk_array_free(out);
    return rc;
}

int brisk_ot_h_save(const char *path, const double *h, size_t n) {
    BRISK_ASSERT(path && h);
    size_t shape[1] = {n};
    return brisk_npy_write_f64(path, h, 1, shape);
}

int brisk_ot_h_load(const char *path, size_t n, double **out) {
    BRISK_ASSERT(path && out);
    *out = NULL;
    brisk_array a;
    int rc = brisk_npy_read(path, &a);
    if (rc) return rc;
    if (a.dtype != BRISK_F64 && a.dtype != BRISK_F32) {
        rc = brisk_error(BRISK_EUNSUPPORTED, "%s: h must be float64 (or float32), not %s", path,
                         brisk_dtype_name(a.dtype));
        goto fail;
    }
    if (a.ndim != 1) {
        rc = brisk_error(BRISK_ESHAPE, "%s: h must be a rank-1 vector, got rank %d", path, a.ndim);
        goto fail;
    }
    if (a.shape[0] != n) {
        rc = brisk_error(BRISK_ESHAPE, "%s: h has %zu entries but there are %zu targets", path,
                         a.shape[0], n);
        goto fail;
    }
    rc = brisk_array_convert(&a, BRISK_F64);
    if (rc) goto fail;
    const double *v = a.data;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) {
            rc = brisk_error(BRISK_ENUMERIC, "%s: h[%zu] is not finite", path, i);
            goto fail;
        }
    *out = a.data; /* ownership moves to the caller */
    return 0;
fail:
    brisk_array_free(&a);
    return rc;
}
