/* Percentile bootstrap of row means (Efron & Tibshirani 1993, ch. 13), with lm-eval's
 * bootstrap_stderr (the sd, ddof 1, of the replicate statistics).
 *
 * Resample b draws its n column indices from Philox words (seed, sample = b,
 * stream = BRISK_STREAM(BRISK_RNG_MC, 1)), index = floor(word * n / 2^32). Columns that are
 * identical across all rows are merged into one "pattern" first; a resample then only
 * counts how often each pattern was drawn and the row sums are counts x pattern values,
 * summed in pattern order. Nothing depends on the thread that ran the resample. */
#include "stats_impl.h"

#include "brisk/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BOOT_STREAM BRISK_STREAM(BRISK_RNG_MC, 1)

void brisk_bootstrap_params_default(brisk_bootstrap_params *p) {
    p->n_resamples = 1000;
    p->seed = 0;
    p->level = 0.95;
}

int brisk_bootstrap_row_means(const double *x, size_t n_rows, size_t n_cols,
                              const brisk_bootstrap_params *p, brisk_bootstrap_ci *out,
                              double *reps) {
    brisk_bootstrap_params def;
    if (!p) {
        brisk_bootstrap_params_default(&def);
        p = &def;
    }
    size_t B = p->n_resamples;
    if (B < 2) return brisk_error(BRISK_EINVAL, "bootstrap: need at least 2 resamples, got %zu", B);
    if (!n_rows || !n_cols) return brisk_error(BRISK_EINVAL, "bootstrap: empty input");
    if (n_cols > 0xFFFFFFFFu)
        return brisk_error(BRISK_EINVAL, "bootstrap: %zu columns exceed 2^32", n_cols);
    if (!(p->level > 0 && p->level < 1))
        return brisk_error(BRISK_EINVAL, "bootstrap: level %g is not in (0, 1)", p->level);

    uint32_t *uid = brisk_malloc(n_cols * sizeof *uid);
    if (!uid) return BRISK_ENOMEM;
    double *U = NULL;
    size_t P = 0;
    int rc = stats_unique_columns(x, NULL, n_rows, n_cols, uid, &U, NULL, NULL, &P);
    if (rc) {
        brisk_free(uid);
        return rc;
    }
    int nt = stats_max_threads();
    uint32_t *words = brisk_malloc((size_t)nt * n_cols * sizeof *words);
    uint32_t *counts = brisk_malloc((size_t)nt * P * sizeof *counts);
    double *rep = reps ? reps : brisk_malloc(B * n_rows * sizeof *rep);
    double *col = brisk_malloc(B * sizeof *col);
    if (!words || !counts || !rep || !col) {
        brisk_free(uid);
        brisk_free(U);
        brisk_free(words);
        brisk_free(counts);
        if (!reps) brisk_free(rep);
        brisk_free(col);
        return BRISK_ENOMEM;
    }
    const double inv_n = 1.0 / (double)n_cols;
    const uint32_t nc32 = (uint32_t)n_cols;
#pragma omp parallel for schedule(dynamic, 16)
    for (long b = 0; b < (long)B; b++) {
        int tid = stats_thread_num();
        uint32_t *w = words + (size_t)tid * n_cols;
        uint32_t *cnt = counts + (size_t)tid * P;
        double *s = rep + (size_t)b * n_rows;
        memset(cnt, 0, P * sizeof *cnt);
        brisk_rand_u32(p->seed, (uint64_t)b, BOOT_STREAM, n_cols, w);
        for (size_t j = 0; j < n_cols; j++) cnt[uid[brisk_rand_below(w[j], nc32)]]++;
        for (size_t r = 0; r < n_rows; r++) s[r] = 0;
        for (size_t q = 0; q < P; q++) {
            uint32_t c = cnt[q];
            if (!c) continue;
            const double *u = U + q * n_rows;
            for (size_t r = 0; r < n_rows; r++) s[r] += (double)c * u[r];
        }
        for (size_t r = 0; r < n_rows; r++) s[r] *= inv_n;
    }
    double alpha = (1 - p->level) / 2;
    for (size_t r = 0; r < n_rows; r++) {
        for (size_t b = 0; b < B; b++) col[b] = rep[b * n_rows + r];
        out[r].se = brisk_stats_sd(col, B, 1);
        brisk_stats_quantile(col, B, 0.5); /* sorts */
        out[r].lo = brisk_stats_quantile_sorted(col, B, alpha);
        out[r].hi = brisk_stats_quantile_sorted(col, B, 1 - alpha);
    }
    brisk_free(uid);
    brisk_free(U);
    brisk_free(words);
    brisk_free(counts);
    if (!reps) brisk_free(rep);
    brisk_free(col);
    return 0;
}
