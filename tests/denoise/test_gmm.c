/* GMM denoiser: one component equals the Gaussian; posterior mean vs a naive per-sample
 * double loop over densities; Tweedie's formula with a finite-difference score; far-away
 * inputs where plain exp() underflows; the JSON loader's errors. */
#include "brisk/core.h"
#include "brisk/denoiser.h"
#include "brisk/rng.h"
#include "brisk_test.h"

#include <unistd.h>

#define K 3
#define D 4
#define B 6
#define TWO_PI 6.283185307179586476925286766559

static const double W[K] = {0.2, 0.5, 0.3};
static const double M[K * D] = {1, 0, -1, 0.5, -1, 1, 0, 0, 0.3, 0.3, 2, -2};
static const double S[K * D] = {0.3, 0.5, 0.2, 1.0, 0.7, 0.2, 0.4, 0.4, 1.2, 0.1, 0.6, 0.3};

static brisk_gmm make_gmm(void) {
    brisk_gmm g = {K, D, (double *)W, (double *)M, (double *)S};
    return g;
}

/* log of the marginal density p_a(x) of x = sqrt(a) x0 + sqrt(1-a) eps, computed plainly. */
static double naive_logp(const double *x, double a) {
    double p = 0;
    for (int k = 0; k < K; k++) {
        double dens = W[k];
        for (int j = 0; j < D; j++) {
            double v = a * S[k * D + j] * S[k * D + j] + 1 - a;
            double d = x[j] - sqrt(a) * M[k * D + j];
            dens *= exp(-0.5 * d * d / v) / sqrt(TWO_PI * v);
        }
        p += dens;
    }
    return log(p);
}

/* Posterior mean by direct densities (no log-sum-exp): only for moderate x. */
static void naive_x0(const double *x, double a, double *x0) {
    double total = 0, acc[D] = {0};
    for (int k = 0; k < K; k++) {
        double dens = W[k];
        for (int j = 0; j < D; j++) {
            double v = a * S[k * D + j] * S[k * D + j] + 1 - a;
            double d = x[j] - sqrt(a) * M[k * D + j];
            dens *= exp(-0.5 * d * d / v) / sqrt(TWO_PI * v);
        }
        total += dens;
        for (int j = 0; j < D; j++) {
            double s2 = S[k * D + j] * S[k * D + j];
            double v = a * s2 + 1 - a;
            acc[j] += dens * (M[k * D + j] + sqrt(a) * s2 / v * (x[j] - sqrt(a) * M[k * D + j]));
        }
    }
    for (int j = 0; j < D; j++) x0[j] = acc[j] / total;
}

static void test_vs_naive_and_tweedie(void) {
    brisk_gmm g = make_gmm();
    brisk_denoiser *d;
    ASSERT_OK(brisk_denoiser_create_gmm(&g, BRISK_PRED_SAMPLE, &d));
    double x[B * D], x0[B * D];
    brisk_randn(3, 0, 0, B * D, x);
    const double alphas[] = {0.0, 0.05, 0.5, 0.95, 0.999};
    double worst = 0, worst_tw = 0;
    for (int ia = 0; ia < 5; ia++) {
        double a = alphas[ia];
        ASSERT_OK(brisk_denoiser_predict(d, x, B, 10.0, a, x0));
        for (int b = 0; b < B; b++) {
            double want[D];
            naive_x0(x + b * D, a, want);
            for (int j = 0; j < D; j++) {
                ASSERT_NEAR(x0[b * D + j], want[j], 1e-12);
                if (fabs(x0[b * D + j] - want[j]) > worst) worst = fabs(x0[b * D + j] - want[j]);
            }
            /* Tweedie: E[x0|x] = (x + (1-a) grad log p_a(x)) / sqrt(a); central differences */
            if (a > 0.01 && a < 0.99) {
                for (int j = 0; j < D; j++) {
                    double xp[D], xm[D], h = 1e-5;
                    for (int i = 0; i < D; i++) xp[i] = xm[i] = x[b * D + i];
                    xp[j] += h;
                    xm[j] -= h;
                    double score = (naive_logp(xp, a) - naive_logp(xm, a)) / (2 * h);
                    double tw = (x[b * D + j] + (1 - a) * score) / sqrt(a);
                    ASSERT_NEAR(x0[b * D + j], tw, 1e-6);
                    if (fabs(x0[b * D + j] - tw) > worst_tw) worst_tw = fabs(x0[b * D + j] - tw);
                }
            }
        }
    }
    printf("gmm x0 vs naive: max err %.3g; vs Tweedie (finite differences): %.3g\n", worst, worst_tw);
    brisk_denoiser_free(d);
}

static void test_forms_consistent(void) {
    brisk_gmm g = make_gmm();
    brisk_denoiser *de, *dv, *dx;
    ASSERT_OK(brisk_denoiser_create_gmm(&g, BRISK_PRED_EPSILON, &de));
    ASSERT_OK(brisk_denoiser_create_gmm(&g, BRISK_PRED_V, &dv));
    ASSERT_OK(brisk_denoiser_create_gmm(&g, BRISK_PRED_SAMPLE, &dx));
    double x[B * D], e[B * D], v[B * D], x0[B * D];
    brisk_randn(4, 0, 0, B * D, x);
    double a = 0.37;
    ASSERT_OK(brisk_denoiser_predict(de, x, B, 0, a, e));
    ASSERT_OK(brisk_denoiser_predict(dv, x, B, 0, a, v));
    ASSERT_OK(brisk_denoiser_predict(dx, x, B, 0, a, x0));
    for (int i = 0; i < B * D; i++) {
        ASSERT_NEAR(sqrt(a) * x0[i] + sqrt(1 - a) * e[i], x[i], 1e-12);
        ASSERT_NEAR(sqrt(a) * v[i] + sqrt(1 - a) * x[i], e[i], 1e-12);
    }
    ASSERT_STATUS(brisk_denoiser_predict(de, x, B, 0, 1.0, e), BRISK_EINVAL);
    brisk_denoiser_free(de);
    brisk_denoiser_free(dv);
    brisk_denoiser_free(dx);
}

static void test_one_component_is_gaussian(void) {
    brisk_gmm g = {1, D, (double[]){2.5}, (double *)M + D, (double *)S + D};
    double x[B * D], got[B * D], want[B * D];
    brisk_randn(5, 0, 0, B * D, x);
    for (int p = 0; p < BRISK_PRED_COUNT; p++) {
        brisk_denoiser *d;
        ASSERT_OK(brisk_denoiser_create_gmm(&g, (brisk_prediction)p, &d));
        const double alphas[] = {0.0, 1e-3, 0.6, 0.9999};
        for (int ia = 0; ia < 4; ia++) {
            ASSERT_OK(brisk_denoiser_predict(d, x, B, 1.0, alphas[ia], got));
            brisk_gaussian_predict(M + D, S + D, D, (brisk_prediction)p, x, B, alphas[ia], want);
            for (int i = 0; i < B * D; i++) ASSERT_NEAR(got[i], want[i], 1e-9 * (1 + fabs(want[i])));
        }
        brisk_denoiser_free(d);
    }
}

/* Far from every component, each density underflows in plain exp(); the log-sum-exp keeps
 * one component: the one with the largest log-likelihood. */
static void test_far_inputs(void) {
    brisk_gmm g = make_gmm();
    brisk_denoiser *d;
    ASSERT_OK(brisk_denoiser_create_gmm(&g, BRISK_PRED_SAMPLE, &d));
    double x[D] = {60, -80, 40, 90}, x0[D], a = 0.9;
    ASSERT_TRUE(exp(naive_logp(x, a)) == 0.0); /* the naive route underflows */
    ASSERT_OK(brisk_denoiser_predict(d, x, 1, 0, a, x0));
    int best = 0;
    double bestl = -INFINITY;
    for (int k = 0; k < K; k++) {
        double l = log(W[k]);
        for (int j = 0; j < D; j++) {
            double v = a * S[k * D + j] * S[k * D + j] + 1 - a, dd = x[j] - sqrt(a) * M[k * D + j];
            l -= 0.5 * dd * dd / v + 0.5 * log(TWO_PI * v);
        }
        if (l > bestl) bestl = l, best = k;
    }
    double want[D];
    brisk_gaussian_predict(M + best * D, S + best * D, D, BRISK_PRED_SAMPLE, x, 1, a, want);
    for (int j = 0; j < D; j++) ASSERT_NEAR(x0[j], want[j], 1e-9 * (1 + fabs(want[j])));
    brisk_denoiser_free(d);
}

static char tmpdir[64] = "/tmp/brisk_gmm_XXXXXX";

static int write_and_load(const char *text, brisk_gmm *g) {
    char p[128];
    snprintf(p, sizeof p, "%s/g.json", tmpdir);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    return brisk_gmm_load(p, g);
}

static void test_json(void) {
    brisk_gmm g;
    ASSERT_OK(write_and_load("{\"weights\": [1, 3], \"means\": [[0, 1], [2, 3]], \"stds\": [[1, 2], 0.5]}", &g));
    ASSERT_EQ(g.k, 2);
    ASSERT_EQ(g.dim, 2);
    ASSERT_NEAR(g.weights[1], 0.75, 1e-15);
    ASSERT_NEAR(g.means[3], 3.0, 0);
    ASSERT_NEAR(g.stds[1], 2.0, 0);
    ASSERT_NEAR(g.stds[3], 0.5, 0);
    brisk_gmm_free(&g);

    ASSERT_STATUS(write_and_load("{\"weights\": [1], \"means\": [[0, 1]]}", &g), BRISK_ENOTFOUND);
    ASSERT_STR_CONTAINS(brisk_last_error(), "'stds'");
    ASSERT_STR_CONTAINS(brisk_last_error(), "g.json");
    ASSERT_STATUS(write_and_load("{\"weights\": [1, 1], \"means\": [[0, 1], [2]], \"stds\": [1, 1]}", &g),
                  BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "'means'[1]");
    ASSERT_STATUS(write_and_load("{\"weights\": [1, 1], \"means\": [[0], [2]], \"stds\": [1, -1]}", &g),
                  BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "'stds'[1]");
    ASSERT_STATUS(write_and_load("{\"weights\": [1, -1], \"means\": [[0], [2]], \"stds\": [1, 1]}", &g),
                  BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "'weights'[1]");
    ASSERT_STATUS(write_and_load("{\"weights\": [1], \"means\": [[0]], \"stds\": [1], \"mu\": 3}", &g),
                  BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "'mu'");
    ASSERT_STATUS(write_and_load("{\"weights\": [1], \"means\": [[0]], \"stds\": [1, 2]}", &g), BRISK_ESHAPE);
    ASSERT_STATUS(write_and_load("{\"weights\": [1], \"means\": [[0, \"x\"]], \"stds\": [1]}", &g), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "'means'[0][1]");
    ASSERT_STATUS(write_and_load("{\"weights\": [1],", &g), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "line 1");
    ASSERT_STATUS(brisk_gmm_load("/nonexistent/g.json", &g), BRISK_EIO);
    ASSERT_STR_CONTAINS(brisk_last_error(), "/nonexistent/g.json");

    /* allocation failures while loading leak nothing */
    for (long k = 0; k < 8; k++) {
        brisk_alloc_fail_after(k);
        int rc = write_and_load("{\"weights\": [1, 3], \"means\": [[0, 1], [2, 3]], \"stds\": [1, 1]}", &g);
        brisk_alloc_fail_after(-1);
        if (!rc) brisk_gmm_free(&g);
    }
    char p[128];
    snprintf(p, sizeof p, "%s/g.json", tmpdir);
    unlink(p);
}

int main(void) {
    if (!mkdtemp(tmpdir)) return 1;
    test_vs_naive_and_tweedie();
    test_forms_consistent();
    test_one_component_is_gaussian();
    test_far_inputs();
    test_json();
    rmdir(tmpdir);
    TEST_DONE();
}
