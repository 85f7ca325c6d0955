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

/* The words of brisk_rand_u32(seed, sample, stream, n, out), four Philox4x32-10 blocks at
 * a time with independent lanes the compiler can vectorise (Salmon et al. 2011; same
 * constants and counter layout as src/core/rng.c: counter (block, stream, sample lo,
 * sample hi), key = seed). The bootstrap test checks the words against brisk_rand_u32. */
static void philox_words(uint64_t seed, uint64_t sample, uint32_t stream, size_t n, uint32_t *out) {
    const uint32_t s_lo = (uint32_t)sample, s_hi = (uint32_t)(sample >> 32);
    for (size_t j = 0; j < n; j += 16) {
        uint32_t c0[4], c1[4], c2[4], c3[4];
        for (int l = 0; l < 4; l++) {
            c0[l] = (uint32_t)(j / 4) + (uint32_t)l;
            c1[l] = stream;
            c2[l] = s_lo;
            c3[l] = s_hi;
        }
        uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
        for (int r = 0; r < 10; r++) {
            for (int l = 0; l < 4; l++) {
                uint64_t p0 = (uint64_t)0xD2511F53u * c0[l], p1 = (uint64_t)0xCD9E8D57u * c2[l];
                uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[l] ^ k0, n1 = (uint32_t)p1;
                uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3[l] ^ k1, n3 = (uint32_t)p0;
                c0[l] = n0;
                c1[l] = n1;
                c2[l] = n2;
                c3[l] = n3;
            }
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        uint32_t w[16];
        for (int l = 0; l < 4; l++) {
            w[4 * l] = c0[l];
            w[4 * l + 1] = c1[l];
            w[4 * l + 2] = c2[l];
            w[4 * l + 3] = c3[l];
        }
        size_t m = n - j < 16 ? n - j : 16;
        memcpy(out + j, w, m * sizeof *w);
    }
}

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
        philox_words(p->seed, (uint64_t)b, BOOT_STREAM, n_cols, w);
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
