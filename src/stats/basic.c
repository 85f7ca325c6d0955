/* Basic statistics: mean, sd, lm-eval stderr, analytic CI, pooled stderr, Pearson,
 * Kendall tau-b, quantiles, normal quantiles. */
#include "stats_impl.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef BRISK_OPENMP
#include <omp.h>
#endif

int stats_max_threads(void) {
#ifdef BRISK_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int stats_thread_num(void) {
#ifdef BRISK_OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

const char *stats_basename(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

cJSON *stats_json_num(double v) { return cJSON_CreateNumber(v); }

int stats_parse_number(const char *s, double *out) {
    while (*s == ' ' || *s == '\t') s++;
    /* fast path for the common 0/1 spellings of correctness matrices */
    if ((s[0] == '0' || s[0] == '1') &&
        (s[1] == '\0' || (s[1] == '.' && s[2] == '0' && s[3] == '\0'))) {
        *out = s[0] - '0';
        return 1;
    }
    if (!*s) return 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s) return 0;
    while (*end == ' ' || *end == '\t') end++;
    if (*end || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

double brisk_stats_mean(const double *x, size_t n) {
    if (!n) return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    return s / (double)n;
}

double brisk_stats_sd(const double *x, size_t n, int ddof) {
    if (ddof < 0 || n <= (size_t)ddof) return NAN;
    double m = brisk_stats_mean(x, n), ss = 0;
    for (size_t i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    return sqrt(ss / (double)(n - (size_t)ddof));
}

/* lm-evaluation-harness metrics.py: mean_stderr = sample_stddev(arr) / sqrt(len(arr)). */
double brisk_stats_stderr(const double *x, size_t n) {
    if (n < 2) return NAN;
    return brisk_stats_sd(x, n, 1) / sqrt((double)n);
}

/* Madaan et al. 2024, sec. 2: 95% CI half-width of a benchmark accuracy. */
double brisk_stats_ci95_half_width(double p, double n) {
    if (!(n > 0) || isnan(p)) return NAN;
    double v = p * (1 - p);
    return 1.96 * sqrt(v > 0 ? v / n : 0);
}

/* lm-evaluation-harness metrics.py pooled_sample_stderr. */
double brisk_stats_pooled_stderr(const double *se, const double *sizes, size_t k) {
    double num = 0, total = 0;
    for (size_t i = 0; i < k; i++) {
        num += (sizes[i] - 1) * sizes[i] * se[i] * se[i];
        total += sizes[i];
    }
    if (!(total > (double)k)) return NAN;
    return sqrt(num / (total - (double)k) / total);
}

double brisk_stats_pearson(const double *x, const double *y, size_t n) {
    if (n < 2) return NAN;
    double mx = brisk_stats_mean(x, n), my = brisk_stats_mean(y, n);
    double sxx = 0, syy = 0, sxy = 0;
    int cx = 1, cy = 1;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
        if (x[i] != x[0]) cx = 0;
        if (y[i] != y[0]) cy = 0;
    }
    if (cx || cy || sxx <= 0 || syy <= 0) return NAN; /* scipy: constant input -> nan */
    double r = sxy / sqrt(sxx * syy);
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

/* Kendall (1945) tau-b: (concordant - discordant) / sqrt((n0 - n1)(n0 - n2)), n1, n2 the
 * pairs tied in x and in y; pairs tied in both count in both (scipy.stats.kendalltau,
 * variant='b'). */
double brisk_stats_kendall_tau_b(const double *x, const double *y, size_t n) {
    if (n < 2) return NAN;
    double s = 0, tx = 0, ty = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            int dx = (x[i] > x[j]) - (x[i] < x[j]);
            int dy = (y[i] > y[j]) - (y[i] < y[j]);
            if (!dx) tx++;
            if (!dy) ty++;
            s += dx * dy;
        }
    }
    double n0 = (double)n * (double)(n - 1) / 2;
    double den = (n0 - tx) * (n0 - ty);
    if (!(den > 0)) return NAN;
    double t = s / sqrt(den);
    return t > 1 ? 1 : t < -1 ? -1 : t;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy.quantile(method='linear'): h = (n - 1) q, x[floor h] + (h - floor h) * diff. */
double brisk_stats_quantile_sorted(const double *x, size_t n, double q) {
    if (!n) return NAN;
    if (q <= 0) return x[0];
    if (q >= 1) return x[n - 1];
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n) return x[n - 1];
    return x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]);
}

double brisk_stats_quantile(double *x, size_t n, double q) {
    qsort(x, n, sizeof *x, cmp_double);
    return brisk_stats_quantile_sorted(x, n, q);
}

/* Initial guess: Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4), then Halley's method on
 * Phi(x) - p with Phi(x) = erfc(-x / sqrt 2) / 2 until full precision. */
double brisk_stats_normal_quantile(double p) {
    if (!(p > 0 && p < 1)) return p == 0 ? -INFINITY : p == 1 ? INFINITY : NAN;
    if (p > 0.5) return -brisk_stats_normal_quantile(1 - p); /* 1 - p is exact here */
    double t = sqrt(-2 * log(p));
    double x = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
                         (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
    for (int it = 0; it < 4; it++) {
        double e = 0.5 * erfc(-x / sqrt(2.0)) - p;
        double u = e * 2.5066282746310002 * exp(x * x / 2); /* sqrt(2 pi) */
        x = x - u / (1 + x * u / 2);
    }
    return x;
}

double brisk_stats_normal_pvalue(double z) {
    if (isnan(z)) return NAN;
    return erfc(fabs(z) / sqrt(2.0));
}
