/* Shared helpers of the metrics tests: the fixtures written by
 * tests/data/metrics/gen_expected.py and small random feature sets. */
#ifndef BRISK_METRICS_FIXTURES_H
#define BRISK_METRICS_FIXTURES_H

#include "brisk/core.h"
#include "brisk/io.h"
#include "brisk/json.h"
#include "brisk/metrics.h"
#include "brisk/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define FIX_DIR "tests/data/metrics/"

/* expected.json, parsed (aborts the test if missing: the fixtures are committed). */
static inline cJSON *fix_expected(void) {
    cJSON *doc = NULL;
    if (brisk_json_read_file(FIX_DIR "expected.json", &doc)) {
        fprintf(stderr, "cannot read fixtures: %s\n", brisk_last_error());
        exit(1);
    }
    return doc;
}

/* Number at a path of keys ("fd_terms", "trace1", NULL). */
static inline double fix_num(const cJSON *doc, const char *k1, const char *k2) {
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(doc, k1);
    if (k2) o = cJSON_GetObjectItemCaseSensitive(o, k2);
    if (!cJSON_IsNumber(o)) {
        fprintf(stderr, "expected.json: no number at %s%s%s\n", k1, k2 ? "." : "", k2 ? k2 : "");
        exit(1);
    }
    return o->valuedouble;
}

static inline double fix_arr(const cJSON *arr, int i) {
    const cJSON *o = cJSON_GetArrayItem(arr, i);
    if (!cJSON_IsNumber(o)) {
        fprintf(stderr, "expected.json: array item %d missing\n", i);
        exit(1);
    }
    return o->valuedouble;
}

/* The view's name points to the path, so the path must outlive it: kept in a static ring. */
static inline void fix_load(const char *name, brisk_array *a, brisk_features *f) {
    static char paths[8][256];
    static int next = 0;
    char *path = paths[next++ % 8];
    snprintf(path, 256, FIX_DIR "%s", name);
    if (brisk_features_load(path, a, f)) {
        fprintf(stderr, "cannot read fixture: %s\n", brisk_last_error());
        exit(1);
    }
}

/* n x d float64 standard normals (sample index = base + row) times `scale` plus `shift`. */
static inline double *rand_set(uint64_t seed, uint64_t base, size_t n, size_t d, double scale, double shift) {
    double *x = malloc(n * d * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        brisk_randn(seed, base + i, BRISK_STREAM(BRISK_RNG_USER, 0), d, x + i * d);
        for (size_t j = 0; j < d; j++) x[i * d + j] = x[i * d + j] * scale + shift;
    }
    return x;
}

static inline brisk_features feats64(const double *x, size_t n, size_t d, const char *name) {
    brisk_features f = {x, BRISK_F64, n, d, name};
    return f;
}

static inline double rel_err(double a, double b) {
    double s = fabs(b) > 1e-300 ? fabs(b) : 1.0;
    return fabs(a - b) / s;
}

#endif
