/* Semi-discrete OT solver (src/ot/semidiscrete.c): the blocked argmax against a naive
 * float64 reference, tie-breaking, shift invariance, determinism across thread counts,
 * the gradient against finite differences of the energy, the 1-D exact quantile map,
 * convergence of every cell's measure to 1/N, energy decrease, stall handling. */
#include "brisk/core.h"
#include "brisk/ot.h"
#include "brisk/rng.h"
#include "brisk_test.h"

#include <math.h>
#include <string.h>

static float *randn_targets(size_t n, size_t d, uint64_t seed, double scale) {
    float *y = brisk_malloc(n * d * sizeof *y);
    double *row = brisk_malloc(d * sizeof *row);
    for (size_t i = 0; i < n; i++) {
        brisk_randn(seed, i, BRISK_STREAM(BRISK_RNG_USER, 1), d, row);
        for (size_t j = 0; j < d; j++) y[i * d + j] = (float)(scale * row[j]);
    }
    brisk_free(row);
    return y;
}

/* Naive reference: cell of x under h, in float64, plus the gap to the runner-up. */
static size_t naive_cell(const float *y, size_t n, size_t d, const double *h, const float *x,
                         double *gap) {
    double mean = 0;
    for (size_t i = 0; i < n; i++) mean += h[i];
    mean /= (double)n;
    double best = -INFINITY, second = -INFINITY;
    size_t bi = 0;
    for (size_t i = 0; i < n; i++) {
        double s = h[i] - mean;
        for (size_t j = 0; j < d; j++) s += (double)x[j] * (double)y[i * d + j];
        if (s > best) {
            second = best;
            best = s;
            bi = i;
        } else if (s > second) {
            second = s;
        }
    }
    *gap = best - second;
    return bi;
}

static void test_names(void) {
    brisk_ot_source s;
    brisk_ot_optimizer o;
    for (int i = 0; i < BRISK_OT_SOURCE_COUNT; i++) {
        ASSERT_OK(brisk_ot_source_from_name(brisk_ot_source_name((brisk_ot_source)i), &s));
        ASSERT_EQ(s, i);
    }
    for (int i = 0; i < BRISK_OT_OPT_COUNT; i++) {
        ASSERT_OK(brisk_ot_optimizer_from_name(brisk_ot_optimizer_name((brisk_ot_optimizer)i), &o));
        ASSERT_EQ(o, i);
    }
    ASSERT_STATUS(brisk_ot_source_from_name("gauss", &s), BRISK_EUNSUPPORTED);
    ASSERT_STR_CONTAINS(brisk_last_error(), "normal, uniform");
    ASSERT_STATUS(brisk_ot_optimizer_from_name("sgd", &o), BRISK_EUNSUPPORTED);
}

/* Blocked sgemm + running argmax equals the naive float64 argmax wherever the float64
 * winner leads by more than float32 rounding can bridge; several blockings, including
 * ones that leave partial blocks on both axes. */
static void test_blocked_vs_naive(void) {
    const size_t n = 203, d = 37, b = 300;
    float *y = randn_targets(n, d, 11, 1.0);
    float *x = randn_targets(b, d, 12, 1.0);
    double *h = brisk_malloc(n * sizeof *h);
    brisk_randn(13, 0, BRISK_STREAM(BRISK_RNG_USER, 2), n, h);
    for (size_t i = 0; i < n; i++) h[i] = 2.0 * h[i] + 5.0;
    int64_t *idx = brisk_malloc(b * sizeof *idx);
    size_t blockings[][2] = {{0, 0}, {7, 5}, {64, 50}, {1, 1}, {300, 203}, {1000, 1000}};
    brisk_ot *ot;
    ASSERT_OK(brisk_ot_create(y, n, d, BRISK_OT_SOURCE_NORMAL, "random", &ot));
    for (size_t k = 0; k < sizeof blockings / sizeof blockings[0]; k++) {
        brisk_ot_set_blocking(ot, blockings[k][0], blockings[k][1]);
        ASSERT_OK(brisk_ot_assign(ot, h, x, b, idx));
        int bad = 0, close = 0;
        for (size_t r = 0; r < b; r++) {
            double gap;
            size_t want = naive_cell(y, n, d, h, x + r * d, &gap);
            if (gap < 1e-4) {
                close++;
                continue;
            }
            if ((size_t)idx[r] != want) bad++;
        }
        ASSERT_EQ(bad, 0);
        ASSERT_TRUE(close < 3);
    }
    brisk_ot_free(ot);
    brisk_free(idx);
    brisk_free(h);
    brisk_free(x);
    brisk_free(y);
}

/* Small integers make every score exact in float32 whatever the summation order, so
 * duplicated targets tie exactly: the lowest index must win, across blocks too. */
static void test_ties(void) {
    const size_t n = 40, d = 4, b = 64;
    float y[40 * 4], x[64 * 4];
    double h[40];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++) y[i * d + j] = (float)((int)((i * 7 + j * 3) % 5) - 2);
        h[i] = (double)((int)(i % 3));
    }
    /* Targets 3, 17 and 38 identical (same point, same h). */
    for (size_t j = 0; j < d; j++) y[17 * d + j] = y[38 * d + j] = y[3 * d + j];
    h[17] = h[38] = h[3];
    /* Make mean(h) an integer, so centring keeps every score exact. */
    double sum = 0;
    for (size_t i = 0; i < 39; i++) sum += h[i];
    h[39] = 40.0 - sum;
    for (size_t r = 0; r < b; r++)
        for (size_t j = 0; j < d; j++) x[r * d + j] = (float)((int)((r * 5 + j * 11) % 7) - 3);
    brisk_ot *ot;
    ASSERT_OK(brisk_ot_create(y, n, d, BRISK_OT_SOURCE_NORMAL, NULL, &ot));
    int64_t idx[64];
    size_t blockings[][2] = {{0, 0}, {3, 7}, {1, 2}};
    for (size_t k = 0; k < 3; k++) {
        brisk_ot_set_blocking(ot, blockings[k][0], blockings[k][1]);
        ASSERT_OK(brisk_ot_assign(ot, h, x, b, idx));
        int wrong = 0;
        for (size_t r = 0; r < b; r++) {
            /* Exact integer reference with first-maximum tie-breaking. */
            long best = 0;
            size_t bi = 0;
            for (size_t i = 0; i < n; i++) {
                long s = (long)h[i];
                for (size_t j = 0; j < d; j++) s += (long)x[r * d + j] * (long)y[i * d + j];
                if (i == 0 || s > best) {
                    best = s;
                    bi = i;
                }
            }
            if ((size_t)idx[r] != bi) wrong++;
            ASSERT_TRUE(idx[r] != 17 && idx[r] != 38);
        }
        ASSERT_EQ(wrong, 0);
    }
    brisk_ot_free(ot);
}

/* Adding a constant to h changes no assignment and no energy. */
static void test_shift_invariance(void) {
    const size_t n = 50, d = 6, m = 20000;
    float *y = randn_targets(n, d, 21, 1.0);
    double h[50], h2[50];
    brisk_randn(22, 0, BRISK_STREAM(BRISK_RNG_USER, 3), n, h);
    for (size_t i = 0; i < n; i++) {
        h[i] *= 0.5;
        h2[i] = h[i] + 1000.0;
    }
    brisk_ot *ot;
    ASSERT_OK(brisk_ot_create(y, n, d, BRISK_OT_SOURCE_NORMAL, NULL, &ot));
    int64_t c1[50], c2[50];
    double e1, e2;
    ASSERT_OK(brisk_ot_cells(ot, h, 7, BRISK_OT_STREAM_FIT, 0, m, c1, &e1));
    ASSERT_OK(brisk_ot_cells(ot, h2, 7, BRISK_OT_STREAM_FIT, 0, m, c2, &e2));
    ASSERT_TRUE(memcmp(c1, c2, sizeof c1) == 0);
    ASSERT_NEAR(e1, e2, 1e-9 * fabs(e1));
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) total += c1[i];
    ASSERT_EQ(total, (int64_t)m);
    /* The energy is mean_x max_i(<x, y_i> + h_i) - mean(h): check against the naive one on
     * the same samples. */
    double e_naive = 0, mean = 0;
    for (size_t i = 0; i < n; i++) mean += h[i];
    mean /= (double)n;
    float x[6];
    int64_t cn[50] = {0};
    for (size_t r = 0; r < m; r++) {
        brisk_ot_source_draw(BRISK_OT_SOURCE_NORMAL, 7, r, BRISK_OT_STREAM_FIT, d, x, NULL);
        double gap;
        size_t c = naive_cell(y, n, d, h, x, &gap);
        cn[c]++;
        double s = h[c] - mean;
        for (size_t j = 0; j < d; j++) s += (double)x[j] * (double)y[c * d + j];
        e_naive += s;
    }
    e_naive /= (double)m;
    ASSERT_NEAR(e1, e_naive, 1e-5 * (1 + fabs(e_naive)));
    int diff = 0;
    for (size_t i = 0; i < n; i++) diff += (int)llabs(cn[i] - c1[i]);
    ASSERT_TRUE(diff <= 2); /* only float32 near-ties may differ */
    brisk_ot_free(ot);
    brisk_free(y);
}

/* The gradient g - 1/N matches central differences of the energy on a fixed sample. */
static void test_gradient_fd(void) {
    const size_t n = 12, d = 5, m = 40000;
    float *y = randn_targets(n, d, 31, 1.0);
    double h[12] = {0}, hp[12], hm[12];
    brisk_ot *ot;
    ASSERT_OK(brisk_ot_create(y, n, d, BRISK_OT_SOURCE_UNIFORM, NULL, &ot));
    int64_t c[12], tmp[12];
    double e0;
    ASSERT_OK(brisk_ot_cells(ot, h, 3, BRISK_OT_STREAM_FIT, 0, m, c, &e0));
    const double step = 1e-3;
    double maxerr = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(hp, h, sizeof h);
        memcpy(hm, h, sizeof h);
        hp[i] += step;
        hm[i] -= step;
        double ep, em;
        ASSERT_OK(brisk_ot_cells(ot, hp, 3, BRISK_OT_STREAM_FIT, 0, m, tmp, &ep));
        ASSERT_OK(brisk_ot_cells(ot, hm, 3, BRISK_OT_STREAM_FIT, 0, m, tmp, &em));
        double fd = (ep - em) / (2 * step);
        double g = (double)c[i] / (double)m - 1.0 / (double)n;
        if (fabs(fd - g) > maxerr) maxerr = fabs(fd - g);
    }
    /* Only samples within `step` of a cell boundary make the difference inexact. */
    printf("gradient vs central differences: max error %.3g\n", maxerr);
    ASSERT_DOUBLE_LE(maxerr, 2e-3);
    brisk_ot_free(ot);
    brisk_free(y);
}

static void fit_small(brisk_ot *ot, int threads, uint64_t seed, int iters, double *h) {
    brisk_set_num_threads(threads);
    brisk_ot_params p;
    brisk_ot_params_default(&p);
    p.seed = seed;
    p.tol = 0;
    p.max_iter = iters;
    p.samples_per_iter = 3000; /* 6 blocks of 512: both threads get work */
    memset(h, 0, brisk_ot_num_targets(ot) * sizeof *h);
    brisk_ot_result r;
    ASSERT_OK(brisk_ot_fit(ot, &p, h, &r));
    ASSERT_EQ(r.iterations, iters);
}

/* The same seed gives the same h bit for bit with 1 or 2 threads; another seed differs. */
static void test_determinism(void) {
    const size_t n = 300, d = 16;
    float *y = randn_targets(n, d, 41, 1.0);
    brisk_ot *ot;
    ASSERT_OK(brisk_ot_create(y, n, d, BRISK_OT_SOURCE_NORMAL, NULL, &ot));
    brisk_ot_set_blocking(ot, 512, 128);
    double h1[300], h2[300], h3[300], h4[300];
    int prev = brisk_get_num_threads();
    fit_small(ot, 1, 5, 20, h1);
    fit_small(ot, 2, 5, 20, h2);
    fit_small(ot, 3, 5, 20, h3);
    fit_small(ot, 2, 6, 20, h4);
    brisk_set_num_threads(prev);
    ASSERT_TRUE(memcmp(h1, h2, sizeof h1) == 0);
    ASSERT_TRUE(memcmp(h1, h3, sizeof h1) == 0);
    ASSERT_TRUE(memcmp(h1, h4, sizeof h1) != 0);
    brisk_ot_free(ot);
    brisk_free(y);
}

/* Cell boundaries of the fitted 1-D map in (lower, upper) order. */
static int boundaries_1d(const float *y, const double *h, size_t n, double *b) {
    for (size_t i = 0; i + 1 < n; i++) {
        b[i] = (h[i] - h[i + 1]) / ((double)y[i + 1] - (double)y[i]);
        if (i > 0 && !(b[i] > b[i - 1])) return -1; /* a cell vanished */
    }
    return 0;
}

/* In 1-D the semi-discrete OT map is monotone: sorted targets get consecutive intervals
 * whose source masses are 1/N, so boundary i must be the quantile i/N of the source. */
static void test_quantiles_1d(brisk_ot_source src) {
    const size_t n = 8;
    float y[8] = {-2.0f, -1.1f, -0.7f, -0.1f, 0.2f, 0.9f, 1.3f, 2.5f};
    double h[8] = {0}, b[7];
    brisk_ot *ot;
    ASSERT_OK(brisk_ot_create(y, n, 1, src, "1-D", &ot));
    brisk_ot_params p;
    brisk_ot_params_default(&p);
    p.seed = 17;
    p.tol = 0;
    p.lr = 0.02;
    p.max_iter = 400;
    p.samples_per_iter = 20000;
    brisk_ot_result r;
    ASSERT_OK(brisk_ot_fit(ot, &p, h, &r));
    ASSERT_EQ(r.empty, 0);
    ASSERT_OK(boundaries_1d(y, h, n, b));
    double maxerr = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        double q = (double)(i + 1) / (double)n;
        double cdf = src == BRISK_OT_SOURCE_NORMAL ? 0.5 * erfc(-b[i] / sqrt(2.0))
                                                   : (b[i] + 1.0) / 2.0;
        if (fabs(cdf - q) > maxerr) maxerr = fabs(cdf - q);
    }
    printf("1-D %s: max |F(boundary_i) - i/N| = %.4f after %d iterations (|g-1/N| %.3g)\n",
           brisk_ot_source_name(src), maxerr, r.iterations, r.grad_norm);
    ASSERT_DOUBLE_LE(maxerr, 0.01);
    brisk_ot_free(ot);
}

typedef struct energy_probe {
    const brisk_ot *ot;
    int at[8];
    int n_at;
    double e[8];
    int k;
    int doubled;
    double lr_doubled[4]; /* it->lr at each DOUBLED event */
    size_t m_doubled[4];
} energy_probe;

static int probe_cb(void *ctx, const brisk_ot_iter *it) {
    energy_probe *pr = ctx;
    if (it->event == BRISK_OT_EVENT_DOUBLED) {
        if (pr->doubled < 4) {
            pr->lr_doubled[pr->doubled] = it->lr;
            pr->m_doubled[pr->doubled] = it->m;
        }
        pr->doubled++;
        ASSERT_EQ(it->doublings, pr->doubled);
    }
    if (pr->k < pr->n_at && it->iter == pr->at[pr->k]) {
        size_t n = brisk_ot_num_targets(pr->ot);
        int64_t *c = brisk_malloc(n * sizeof *c);
        /* A fixed evaluation sample, distinct from the fit's. */
        brisk_ot_cells(pr->ot, it->h, 999, BRISK_OT_STREAM_FIT, 0, 100000, c, &pr->e[pr->k]);
        brisk_free(c);
        pr->k++;
    }
    return 0;
}

/* Every cell's measure converges to 1/N within Monte-Carlo error; the energy on a fixed
 * sample decreases along the fit. */
static void test_convergence(brisk_ot_source src, brisk_ot_optimizer opt) {
    const size_t n = 20, d = 8;
    float *y = randn_targets(n, d, 51, src == BRISK_OT_SOURCE_NORMAL ? 1.0 : 0.5);
    brisk_ot *ot;
    ASSERT_OK(brisk_ot_create(y, n, d, src, NULL, &ot));
    double h[20] = {0};
    brisk_ot_params p;
    brisk_ot_params_default(&p);
    p.optimizer = opt;
    p.seed = 2;
    p.tol = 0;
    p.lr = 0.02;
    p.max_iter = 400;
    p.samples_per_iter = 10000;
    energy_probe pr = {.ot = ot, .at = {1, 10, 40, 120}, .n_at = 4};
    p.progress = probe_cb;
    p.progress_ctx = &pr;
    brisk_ot_result r;
    ASSERT_OK(brisk_ot_fit(ot, &p, h, &r));
    ASSERT_EQ(pr.k, 4);
    for (int k = 1; k < 4; k++) ASSERT_DOUBLE_LE(pr.e[k], pr.e[k - 1] + 1e-4);
    ASSERT_DOUBLE_LE(pr.e[3], pr.e[0] - 0.01);

    const size_t me = 400000;
    int64_t c[20];
    double e;
    ASSERT_OK(brisk_ot_cells(ot, h, 12345, BRISK_OT_STREAM_FIT, 0, me, c, &e));
    ASSERT_DOUBLE_LE(e, pr.e[0]);
    double worst = 0, nrm2 = 0;
    for (size_t i = 0; i < n; i++) {
        double g = (double)c[i] / (double)me;
        /* sd of a cell's Monte-Carlo fraction at mass 1/N */
        double sd = sqrt((1.0 / n) * (1 - 1.0 / n) / (double)me);
        if (fabs(g - 1.0 / n) / sd > worst) worst = fabs(g - 1.0 / n) / sd;
        nrm2 += (g - 1.0 / n) * (g - 1.0 / n);
    }
    printf("%s/%s: %d iterations, fit |g-1/N| %.3g; held-out %zu samples: |g-1/N| %.3g "
           "(floor %.3g), worst cell %.2f sd; energy %.5f -> %.5f\n",
           brisk_ot_source_name(src), brisk_ot_optimizer_name(opt), r.iterations, r.grad_norm,
           me, sqrt(nrm2), sqrt((1 - 1.0 / n) / (double)me), worst, pr.e[0], e);
    ASSERT_DOUBLE_LE(worst, 6.0);
    brisk_ot_free(ot);
    brisk_free(y);
}

/* With an attainable tol the fit stops, converged, with no empty cell. */
static void test_stops_at_tol(void) {
    const size_t n = 30, d = 4;
    float *y = randn_targets(n, d, 61, 1.0);
    brisk_ot *ot;
    ASSERT_OK(brisk_ot_create(y, n, d, BRISK_OT_SOURCE_NORMAL, NULL, &ot));
    double h[30] = {0};
    brisk_ot_params p;
    brisk_ot_params_default(&p);
    p.seed = 3;
    p.lr = 0.05;
    p.samples_per_iter = 30000;
    p.tol = 1.5 / sqrt(30000.0); /* 1.5 x the Monte-Carlo floor */
    p.max_iter = 1000;
    brisk_ot_result r;
    ASSERT_OK(brisk_ot_fit(ot, &p, h, &r));
    ASSERT_EQ(r.converged, 1);
    ASSERT_EQ(r.empty, 0);
    ASSERT_TRUE(r.grad_norm < p.tol);
    ASSERT_TRUE(r.iterations < 1000);
    ASSERT_EQ(r.samples_used, (uint64_t)r.iterations * 30000);
    /* The returned h is the one that met the criterion: re-measuring it with the same
     * samples gives the same norm. */
    int64_t c[30];
    ASSERT_OK(brisk_ot_cells(ot, h, 3, BRISK_OT_STREAM_FIT, (uint64_t)(r.iterations - 1) * 30000,
                             30000, c, NULL));
    double nrm2 = 0;
    for (size_t i = 0; i < n; i++) nrm2 += pow((double)c[i] / 30000.0 - 1.0 / n, 2);
    ASSERT_NEAR(sqrt(nrm2), r.grad_norm, 1e-15);
    printf("converged at iteration %d with |g-1/N| %.4g < tol %.4g\n", r.iterations, r.grad_norm,
           p.tol);
    brisk_ot_free(ot);
    brisk_free(y);
}

/* A stalled norm doubles M and multiplies lr by lr_decay, at most max_doublings times. */
static void test_stall(void) {
    const size_t n = 10, d = 3;
    float *y = randn_targets(n, d, 71, 1.0);
    brisk_ot *ot;
    ASSERT_OK(brisk_ot_create(y, n, d, BRISK_OT_SOURCE_NORMAL, NULL, &ot));
    double h[10] = {0};
    brisk_ot_params p;
    brisk_ot_params_default(&p);
    p.tol = 0; /* unreachable */
    p.patience = 5;
    p.max_iter = 300;
    p.samples_per_iter = 1000;
    energy_probe pr = {.ot = ot, .n_at = 0};
    p.progress = probe_cb;
    p.progress_ctx = &pr;
    brisk_ot_result r;
    ASSERT_OK(brisk_ot_fit(ot, &p, h, &r));
    ASSERT_EQ(r.converged, 0);
    ASSERT_EQ(r.iterations, 300);
    ASSERT_EQ(r.doublings, 3);
    ASSERT_EQ(pr.doubled, 3);
    ASSERT_EQ(r.m, 8000);
    ASSERT_NEAR(r.lr, 0.1 * 0.8 * 0.8 * 0.8, 1e-15);
    /* The event reports the decayed lr (used from that update on) and the old M. */
    ASSERT_NEAR(pr.lr_doubled[0], 0.08, 1e-15);
    ASSERT_NEAR(pr.lr_doubled[2], 0.1 * 0.8 * 0.8 * 0.8, 1e-15);
    ASSERT_EQ(pr.m_doubled[0], 1000);
    ASSERT_EQ(pr.m_doubled[2], 4000);
    /* max_doublings = 0: M never changes */
    p.max_doublings = 0;
    p.max_iter = 60;
    pr.doubled = 0;
    memset(h, 0, sizeof h);
    ASSERT_OK(brisk_ot_fit(ot, &p, h, &r));
    ASSERT_EQ(r.doublings, 0);
    ASSERT_EQ(r.m, 1000);
    ASSERT_EQ(r.samples_used, 60000);
    brisk_ot_free(ot);
    brisk_free(y);
}

static int stop_cb(void *ctx, const brisk_ot_iter *it) { return it->iter >= *(int *)ctx; }

static void test_callback_stop_and_params(void) {
    float y[4] = {0, 1, 2, 3};
    brisk_ot *ot;
    ASSERT_OK(brisk_ot_create(y, 4, 1, BRISK_OT_SOURCE_UNIFORM, NULL, &ot));
    double h[4] = {0};
    brisk_ot_params p;
    brisk_ot_params_default(&p);
    int stop_at = 3;
    p.progress = stop_cb;
    p.progress_ctx = &stop_at;
    p.samples_per_iter = 100;
    brisk_ot_result r;
    ASSERT_STATUS(brisk_ot_fit(ot, &p, h, &r), BRISK_ESTATE);
    ASSERT_EQ(r.iterations, 3);
    brisk_ot_params_default(&p);
    p.lr = 0;
    ASSERT_STATUS(brisk_ot_fit(ot, &p, h, &r), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "lr");
    brisk_ot_params_default(&p);
    p.beta2 = 1.0;
    ASSERT_STATUS(brisk_ot_fit(ot, &p, h, &r), BRISK_EINVAL);
    brisk_ot_params_default(&p);
    p.max_iter = 0;
    ASSERT_OK(brisk_ot_fit(ot, &p, h, &r));
    ASSERT_EQ(r.iterations, 0);
    h[2] = NAN;
    brisk_ot_params_default(&p);
    ASSERT_STATUS(brisk_ot_fit(ot, &p, h, &r), BRISK_ENUMERIC);
    int64_t c[4];
    ASSERT_STATUS(brisk_ot_cells(ot, h, 0, 0, 0, 10, c, NULL), BRISK_ENUMERIC);
    ASSERT_STR_CONTAINS(brisk_last_error(), "h[2]");
    h[2] = 0;
    ASSERT_STATUS(brisk_ot_cells(ot, h, 0, 0, 0, 0, c, NULL), BRISK_EINVAL);
    brisk_ot_free(ot);
}

/* brisk_ot_map returns the target of each noise sample's cell. */
static void test_map(void) {
    const size_t n = 64, d = 10, b = 33;
    float *y = randn_targets(n, d, 81, 1.0);
    float *xf = randn_targets(b, d, 82, 1.0);
    double *xd = brisk_malloc(b * d * sizeof *xd), *out = brisk_malloc(b * d * sizeof *out);
    for (size_t k = 0; k < b * d; k++) xd[k] = xf[k];
    double h[64];
    brisk_randn(83, 0, BRISK_STREAM(BRISK_RNG_USER, 4), n, h);
    brisk_ot *ot;
    ASSERT_OK(brisk_ot_create(y, n, d, BRISK_OT_SOURCE_NORMAL, NULL, &ot));
    int64_t i1[33], i2[33];
    ASSERT_OK(brisk_ot_assign(ot, h, xf, b, i1));
    ASSERT_OK(brisk_ot_map(ot, h, xd, b, i2, out));
    ASSERT_TRUE(memcmp(i1, i2, sizeof i1) == 0);
    int bad = 0;
    for (size_t r = 0; r < b; r++)
        for (size_t j = 0; j < d; j++) bad += out[r * d + j] != (double)y[i2[r] * d + j];
    ASSERT_EQ(bad, 0);
    ASSERT_OK(brisk_ot_map(ot, h, xd, b, NULL, xd)); /* idx optional; in place */
    ASSERT_TRUE(memcmp(xd, out, b * d * sizeof *xd) == 0);
    brisk_ot_free(ot);
    brisk_free(xd);
    brisk_free(out);
    brisk_free(xf);
    brisk_free(y);
}

/* Every allocation failure inside a fit is BRISK_ENOMEM (ASan checks nothing leaks). */
static void test_out_of_memory(void) {
    float y[6] = {0, 1, 2, 3, 4, 5};
    brisk_ot *ot;
    ASSERT_OK(brisk_ot_create(y, 3, 2, BRISK_OT_SOURCE_NORMAL, NULL, &ot));
    brisk_ot_params p;
    brisk_ot_params_default(&p);
    p.max_iter = 2;
    int failed = 0, ok = 0;
    for (long k = 0; k < 60 && !ok; k++) {
        double h[3] = {0};
        brisk_alloc_fail_after(k);
        int rc = brisk_ot_fit(ot, &p, h, NULL);
        brisk_alloc_fail_after(-1);
        if (rc == 0) ok = 1;
        else {
            failed++;
            ASSERT_EQ(rc, BRISK_ENOMEM);
        }
    }
    ASSERT_TRUE(ok);
    ASSERT_TRUE(failed > 3);
    brisk_ot_free(ot);
}

int main(void) {
    test_names();
    test_blocked_vs_naive();
    test_ties();
    test_shift_invariance();
    test_gradient_fd();
    test_determinism();
    test_quantiles_1d(BRISK_OT_SOURCE_NORMAL);
    test_quantiles_1d(BRISK_OT_SOURCE_UNIFORM);
    test_convergence(BRISK_OT_SOURCE_NORMAL, BRISK_OT_OPT_AUTHORS);
    test_convergence(BRISK_OT_SOURCE_UNIFORM, BRISK_OT_OPT_ADAM);
    test_stops_at_tol();
    test_stall();
    test_callback_stop_and_params();
    test_map();
    test_out_of_memory();
    TEST_DONE();
}
