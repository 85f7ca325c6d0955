/* Helpers of the stats tests: expected values written by tests/data/stats/gen_expected.py
 * (numpy/scipy), looked up by a "a/b/c" path. */
#ifndef BRISK_TEST_STATS_EXPECTED_H
#define BRISK_TEST_STATS_EXPECTED_H

#include "brisk/core.h"
#include "brisk/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *expected_doc;

static inline cJSON *expected_load(void) {
    if (!expected_doc && brisk_json_read_file("tests/data/stats/expected.json", &expected_doc)) {
        fprintf(stderr, "cannot read tests/data/stats/expected.json: %s\n", brisk_last_error());
        exit(1);
    }
    return expected_doc;
}

/* Item at "a/b/2/c" (numbers index arrays); exits when missing. */
static inline const cJSON *jpath_in(const cJSON *root, const char *path) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = root;
    for (char *tok = strtok(buf, "/"); tok && cur; tok = strtok(NULL, "/")) {
        if (cJSON_IsArray(cur))
            cur = cJSON_GetArrayItem(cur, atoi(tok));
        else
            cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    }
    if (!cur) {
        fprintf(stderr, "expected value '%s' missing\n", path);
        exit(1);
    }
    return cur;
}

static inline const cJSON *jpath(const char *path) { return jpath_in(expected_load(), path); }

/* Number (null -> NaN). */
static inline double jnum(const char *path) {
    const cJSON *v = jpath(path);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static inline double jnum_at(const char *path, int i) {
    const cJSON *v = cJSON_GetArrayItem(jpath(path), i);
    return v && cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static inline double jnum_at_in(const cJSON *root, const char *path, int i) {
    const cJSON *v = cJSON_GetArrayItem(jpath_in(root, path), i);
    return v && cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static inline int jlen(const char *path) { return cJSON_GetArraySize(jpath(path)); }

/* NaN-aware closeness: both NaN, or |a - b| <= tol. */
static inline int near_or_both_nan(double a, double b, double tol) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return fabs(a - b) <= tol;
}

#endif
