/* Percentile bootstrap of a mean (Efron & Tibshirani 1993, ch. 13): resample the values
 * with replacement, take the mean of each resample, and read the interval off the
 * sorted resample means. Small and local to the metrics module: it turns one metric
 * measured over a few seeds into an interval. */
#include "metrics/metrics_impl.h"

#include "brisk/rng.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of sorted v[0..n-1], linear interpolation between order statistics at
 * position q (n - 1) (numpy's default "linear" method). */
static double quantile_sorted(const double *v, size_t n, double q) {
    double pos = q * (double)(n - 1);
    size_t i = (size_t)floor(pos);
    if (i + 1 >= n) return v[n - 1];
    double f = pos - (double)i;
    return v[i] + f * (v[i + 1] - v[i]);
}

int brisk_bootstrap_mean_ci(const double *x, size_t n, size_t n_boot, double level,
                            uint64_t seed, double *lo, double *hi) {
    BRISK_ASSERT(x && lo && hi);
    if (n < 2) return brisk_error(BRISK_EINVAL, "bootstrap: needs at least 2 values, got %zu", n);
    if (n > UINT32_MAX) return brisk_error(BRISK_EINVAL, "bootstrap: too many values (%zu)", n);
    if (n_boot < 10) return brisk_error(BRISK_EINVAL, "bootstrap: needs at least 10 resamples, got %zu", n_boot);
    if (!(level > 0 && level < 1)) return brisk_error(BRISK_EINVAL, "bootstrap: level %g outside (0, 1)", level);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return brisk_error(BRISK_ENUMERIC, "bootstrap: value %zu is not finite", i);
    double *means = brisk_malloc(n_boot * sizeof *means);
    uint32_t *w = brisk_malloc(n * sizeof *w);
    if (!means || !w) {
        brisk_free(means);
        brisk_free(w);
        return BRISK_ENOMEM;
    }
    for (size_t b = 0; b < n_boot; b++) {
        brisk_rand_u32(seed, b, BRISK_STREAM(BRISK_RNG_MC, METRICS_STREAM_BOOT), n, w);
        double s = 0.0;
        for (size_t i = 0; i < n; i++) s += x[brisk_rand_below(w[i], (uint32_t)n)];
        means[b] = s / (double)n;
    }
    qsort(means, n_boot, sizeof *means, cmp_double);
    *lo = quantile_sorted(means, n_boot, 0.5 * (1.0 - level));
    *hi = quantile_sorted(means, n_boot, 0.5 * (1.0 + level));
    brisk_free(means);
    brisk_free(w);
    return 0;
}
