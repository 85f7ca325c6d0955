#include "brisk/core.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifdef BRISK_OPENMP
#include <omp.h>
#endif

static atomic_long fail_after = -1;
static atomic_uint_fast64_t n_allocs = 0;

static int should_fail(void) {
    long v = atomic_load(&fail_after);
    if (v < 0) return 0;
    if (v == 0) return 1;
    atomic_fetch_sub(&fail_after, 1);
    return 0;
}

void brisk_alloc_fail_after(long n) { atomic_store(&fail_after, n); }

uint64_t brisk_alloc_count(void) { return atomic_load(&n_allocs); }

void *brisk_malloc(size_t size) {
    if (should_fail()) {
        brisk_error(BRISK_ENOMEM, "out of memory (allocation of %zu bytes failed)", size);
        return NULL;
    }
    atomic_fetch_add(&n_allocs, 1);
    void *p = malloc(size ? size : 1);
    if (!p) brisk_error(BRISK_ENOMEM, "out of memory (allocation of %zu bytes failed)", size);
    return p;
}

void *brisk_calloc(size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) {
        brisk_error(BRISK_ENOMEM, "allocation of %zu x %zu bytes overflows", n, size);
        return NULL;
    }
    void *p = brisk_malloc(n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

void *brisk_realloc(void *p, size_t size) {
    if (should_fail()) {
        brisk_error(BRISK_ENOMEM, "out of memory (reallocation to %zu bytes failed)", size);
        return NULL;
    }
    atomic_fetch_add(&n_allocs, 1);
    void *q = realloc(p, size ? size : 1);
    if (!q) brisk_error(BRISK_ENOMEM, "out of memory (reallocation to %zu bytes failed)", size);
    return q;
}

void brisk_free(void *p) { free(p); }

char *brisk_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = brisk_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static int num_threads = 0;

void brisk_set_num_threads(int n) {
    num_threads = n > 0 ? n : 0;
#ifdef BRISK_OPENMP
    if (n > 0) omp_set_num_threads(n);
#endif
}

int brisk_get_num_threads(void) {
#ifdef BRISK_OPENMP
    return num_threads ? num_threads : omp_get_max_threads();
#else
    return 1;
#endif
}
