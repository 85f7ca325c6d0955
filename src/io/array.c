#include "brisk/core.h"
#include "brisk/io.h"

#include <string.h>

const char *brisk_dtype_name(brisk_dtype t) {
    static const char *names[] = {"float32", "float64", "int64", "int32", "uint8"};
    return (unsigned)t < BRISK_DTYPE_COUNT ? names[t] : "unknown";
}

size_t brisk_dtype_size(brisk_dtype t) {
    static const size_t sizes[] = {4, 8, 8, 4, 1};
    return (unsigned)t < BRISK_DTYPE_COUNT ? sizes[t] : 0;
}

size_t brisk_array_numel(const brisk_array *a) {
    size_t n = 1;
    for (int i = 0; i < a->ndim; i++) n *= a->shape[i];
    return n;
}

int brisk_array_alloc(brisk_array *a, brisk_dtype t, int ndim, const size_t *shape) {
    memset(a, 0, sizeof *a);
    if (ndim < 0 || ndim > BRISK_MAX_DIMS)
        return brisk_error(BRISK_EINVAL, "array rank %d is outside 0..%d", ndim, BRISK_MAX_DIMS);
    a->dtype = t;
    a->ndim = ndim;
    for (int i = 0; i < ndim; i++) a->shape[i] = shape[i];
    a->data = brisk_calloc(brisk_array_numel(a), brisk_dtype_size(t));
    return a->data ? BRISK_OK : BRISK_ENOMEM;
}

void brisk_array_free(brisk_array *a) {
    if (!a) return;
    brisk_free(a->data);
    a->data = NULL;
    a->ndim = 0;
}

static double get_elem(const brisk_array *a, size_t i) {
    switch (a->dtype) {
    case BRISK_F32: return ((const float *)a->data)[i];
    case BRISK_F64: return ((const double *)a->data)[i];
    case BRISK_I64: return (double)((const int64_t *)a->data)[i];
    case BRISK_I32: return ((const int32_t *)a->data)[i];
    case BRISK_U8: return ((const uint8_t *)a->data)[i];
    default: return 0;
    }
}

int brisk_array_convert(brisk_array *a, brisk_dtype to) {
    if (a->dtype == to) return BRISK_OK;
    if (to != BRISK_F32 && to != BRISK_F64)
        return brisk_error(BRISK_EINVAL, "can only convert arrays to float32 or float64");
    size_t n = brisk_array_numel(a);
    void *d = brisk_malloc(n * brisk_dtype_size(to));
    if (!d) return BRISK_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        double v = get_elem(a, i);
        if (to == BRISK_F32) ((float *)d)[i] = (float)v;
        else ((double *)d)[i] = v;
    }
    brisk_free(a->data);
    a->data = d;
    a->dtype = to;
    return BRISK_OK;
}
