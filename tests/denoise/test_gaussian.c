/* Gaussian denoiser: predictions vs a naive per-sample loop written from the reference
 * vectors' formulas, consistency of the eps / v / x0 forms, and the closed-form PF map vs
 * a fine RK4 integration of the probability-flow ODE. */
#include "brisk/core.h"
#include "brisk/denoiser.h"
#include "brisk/rng.h"
#include "brisk_test.h"

#define D 6
#define B 5

static const double mean[D] = {0.5, -1.0, 0.0, 2.0, 0.25, -0.3};
static const double stdv[D] = {0.8, 0.1, 1.0, 2.5, 0.01, 0.5};

/* The reference vectors' model (vectors README): eps first, then x0 from eps, v from both. */
static void naive_predict(brisk_prediction p, const double *x, double a, double *out) {
    for (int b = 0; b < B; b++)
        for (int j = 0; j < D; j++) {
            double xi = x[b * D + j];
            double eps = sqrt(1 - a) * (xi - sqrt(a) * mean[j]) / (a * stdv[j] * stdv[j] + 1 - a);
            double x0 = (xi - sqrt(1 - a) * eps) / sqrt(a);
            double v = sqrt(a) * eps - sqrt(1 - a) * x0;
            out[b * D + j] = p == BRISK_PRED_EPSILON ? eps : p == BRISK_PRED_SAMPLE ? x0 : v;
        }
}

static void test_predict_vs_naive(void) {
    double x[B * D], got[B * D], want[B * D];
    brisk_randn(7, 0, 0, B * D, x);
    const double alphas[] = {4.0e-5, 0.01, 0.3, 0.9, 0.9999};
    double worst = 0;
    for (int ia = 0; ia < 5; ia++)
        for (int p = 0; p < BRISK_PRED_COUNT; p++) {
            brisk_gaussian_predict(mean, stdv, D, (brisk_prediction)p, x, B, alphas[ia], got);
            naive_predict((brisk_prediction)p, x, alphas[ia], want);
            for (int i = 0; i < B * D; i++) {
                /* x0 from eps divides by sqrt(a): the naive form loses digits at small a */
                double tol = 1e-12 * (1 + fabs(want[i])) / sqrt(alphas[ia]);
                ASSERT_NEAR(got[i], want[i], tol);
                double e = fabs(got[i] - want[i]) / (1 + fabs(want[i]));
                if (e > worst) worst = e;
            }
        }
    printf("gaussian predict vs naive: max rel err %.3g\n", worst);
}

static void test_forms_consistent(void) {
    double x[B * D], eps[B * D], x0[B * D], v[B * D];
    brisk_randn(8, 0, 0, B * D, x);
    const double alphas[] = {0.001, 0.5, 0.999};
    for (int ia = 0; ia < 3; ia++) {
        double a = alphas[ia];
        brisk_gaussian_predict(mean, stdv, D, BRISK_PRED_EPSILON, x, B, a, eps);
        brisk_gaussian_predict(mean, stdv, D, BRISK_PRED_SAMPLE, x, B, a, x0);
        brisk_gaussian_predict(mean, stdv, D, BRISK_PRED_V, x, B, a, v);
        for (int i = 0; i < B * D; i++) {
            ASSERT_NEAR(sqrt(a) * x0[i] + sqrt(1 - a) * eps[i], x[i], 1e-12);
            ASSERT_NEAR(sqrt(a) * v[i] + sqrt(1 - a) * x[i], eps[i], 1e-12); /* eps from v */
            ASSERT_NEAR(sqrt(a) * x[i] - sqrt(1 - a) * v[i], x0[i], 1e-12);  /* x0 from v */
        }
        /* the shared x0 -> eps / v conversion agrees with the closed forms */
        double e2[B * D], v2[B * D];
        brisk_prediction_from_x0(BRISK_PRED_EPSILON, x, x0, B * D, a, e2);
        brisk_prediction_from_x0(BRISK_PRED_V, x, x0, B * D, a, v2);
        for (int i = 0; i < B * D; i++) {
            ASSERT_NEAR(e2[i], eps[i], 1e-9);
            ASSERT_NEAR(v2[i], v[i], 1e-9);
        }
    }
    /* a = 1: x0 = x exactly, eps = 0; a = 0: eps = x, x0 = mean */
    brisk_gaussian_predict(mean, stdv, D, BRISK_PRED_SAMPLE, x, B, 1.0, x0);
    brisk_gaussian_predict(mean, stdv, D, BRISK_PRED_EPSILON, x, B, 1.0, eps);
    for (int i = 0; i < B * D; i++) {
        ASSERT_NEAR(x0[i], x[i], 1e-12);
        ASSERT_NEAR(eps[i], 0.0, 0);
    }
    brisk_gaussian_predict(mean, stdv, D, BRISK_PRED_SAMPLE, x, B, 0.0, x0);
    brisk_gaussian_predict(mean, stdv, D, BRISK_PRED_EPSILON, x, B, 0.0, eps);
    for (int i = 0; i < B * D; i++) {
        ASSERT_NEAR(x0[i], mean[i % D], 1e-15);
        ASSERT_NEAR(eps[i], x[i], 1e-15);
    }
}

/* PF ODE in xbar = x / sqrt(a), sigma = sqrt((1-a)/a): dxbar/dsigma = eps_hat(x, a)
 * (Karras et al. 2022, eq. 4). Classical RK4 with n uniform steps in u = sigma^(1/3), so
 * steps are fine near sigma = 0 where the std = 0.01 coordinate changes fast:
 * dxbar/du = 3 u^2 eps_hat. */
static void pf_rhs(double u, const double *xbar, double *out) {
    double sig = u * u * u, a = 1.0 / (1.0 + sig * sig), xs[B * D];
    for (int i = 0; i < B * D; i++) xs[i] = sqrt(a) * xbar[i];
    brisk_gaussian_predict(mean, stdv, D, BRISK_PRED_EPSILON, xs, B, a, out);
    for (int i = 0; i < B * D; i++) out[i] *= 3 * u * u;
}

static void rk4_pf(const double *x_from, double a_from, double a_to, int n, double *x_to) {
    double u0 = cbrt(sqrt((1 - a_from) / a_from)), u1 = cbrt(sqrt((1 - a_to) / a_to));
    double h = (u1 - u0) / n;
    double xb[B * D], k1[B * D], k2[B * D], k3[B * D], k4[B * D], tmp[B * D];
    for (int i = 0; i < B * D; i++) xb[i] = x_from[i] / sqrt(a_from);
    for (int k = 0; k < n; k++) {
        double u = u0 + k * h;
        pf_rhs(u, xb, k1);
        for (int i = 0; i < B * D; i++) tmp[i] = xb[i] + 0.5 * h * k1[i];
        pf_rhs(u + 0.5 * h, tmp, k2);
        for (int i = 0; i < B * D; i++) tmp[i] = xb[i] + 0.5 * h * k2[i];
        pf_rhs(u + 0.5 * h, tmp, k3);
        for (int i = 0; i < B * D; i++) tmp[i] = xb[i] + h * k3[i];
        pf_rhs(u + h, tmp, k4);
        for (int i = 0; i < B * D; i++) xb[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    }
    for (int i = 0; i < B * D; i++) x_to[i] = sqrt(a_to) * xb[i];
}

static void test_pf_map_vs_rk4(void) {
    double x[B * D], got[B * D], want[B * D];
    brisk_randn(9, 0, 0, B * D, x);
    const double pairs[][2] = {{4.0358e-5, 1.0}, {4.0358e-5, 0.9999}, {0.05, 0.7}, {0.9, 0.2}};
    int n = test_sanitized() ? 2000 : 20000;
    for (int k = 0; k < 4; k++) {
        brisk_gaussian_pf_map(mean, stdv, D, x, B, pairs[k][0], pairs[k][1], got);
        rk4_pf(x, pairs[k][0], pairs[k][1], n, want);
        double worst = 0;
        for (int i = 0; i < B * D; i++) {
            ASSERT_NEAR(got[i], want[i], 1e-8 * (1 + fabs(want[i])));
            if (fabs(got[i] - want[i]) > worst) worst = fabs(got[i] - want[i]);
        }
        printf("pf map %.6g -> %.6g vs RK4 (%d steps): max err %.3g\n", pairs[k][0], pairs[k][1], n, worst);
    }
    /* composition and identity */
    double mid[B * D], two[B * D];
    brisk_gaussian_pf_map(mean, stdv, D, x, B, 0.01, 0.5, mid);
    brisk_gaussian_pf_map(mean, stdv, D, mid, B, 0.5, 0.99, two);
    brisk_gaussian_pf_map(mean, stdv, D, x, B, 0.01, 0.99, got);
    for (int i = 0; i < B * D; i++) ASSERT_NEAR(two[i], got[i], 1e-12 * (1 + fabs(got[i])));
    brisk_gaussian_pf_map(mean, stdv, D, x, B, 0.3, 0.3, got);
    for (int i = 0; i < B * D; i++) ASSERT_NEAR(got[i], x[i], 1e-14);
    /* x_T ~ N(0,1) at a ~ 0 lands on N(mean, std^2) at a = 1: check the affine map */
    double z1[D], z0[D];
    for (int j = 0; j < D; j++) z1[j] = 1.0, z0[j] = 0.0;
    double m1[D], m0[D];
    brisk_gaussian_pf_map(mean, stdv, D, z1, 1, 0.0, 1.0, m1);
    brisk_gaussian_pf_map(mean, stdv, D, z0, 1, 0.0, 1.0, m0);
    for (int j = 0; j < D; j++) {
        ASSERT_NEAR(m0[j], mean[j], 1e-15);
        ASSERT_NEAR(m1[j] - m0[j], stdv[j], 1e-15);
    }
}

static void test_denoiser_object(void) {
    brisk_denoiser *d;
    ASSERT_OK(brisk_denoiser_create_gaussian(mean, stdv, D, BRISK_PRED_V, &d));
    ASSERT_EQ(d->dim, D);
    ASSERT_EQ(d->prediction, BRISK_PRED_V);
    double x[B * D], got[B * D], want[B * D];
    brisk_randn(10, 0, 0, B * D, x);
    ASSERT_OK(brisk_denoiser_predict(d, x, B, 500.0, 0.078, got));
    brisk_gaussian_predict(mean, stdv, D, BRISK_PRED_V, x, B, 0.078, want);
    for (int i = 0; i < B * D; i++) ASSERT_NEAR(got[i], want[i], 0);
    const double *m, *s;
    ASSERT_OK(brisk_denoiser_gaussian_params(d, &m, &s));
    ASSERT_NEAR(m[3], 2.0, 0);
    ASSERT_NEAR(s[4], 0.01, 0);
    ASSERT_STATUS(brisk_denoiser_predict(d, x, B, 0.0, 1.5, got), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "alpha_bar");
    brisk_denoiser_free(d);

    double bad[D];
    for (int j = 0; j < D; j++) bad[j] = 1.0;
    bad[2] = 0.0;
    ASSERT_STATUS(brisk_denoiser_create_gaussian(mean, bad, D, BRISK_PRED_EPSILON, &d), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "std[2]");
    ASSERT_TRUE(d == NULL);
    /* every allocation failure path returns ENOMEM and leaks nothing (ASan checks) */
    for (long k = 0; k < 3; k++) {
        brisk_alloc_fail_after(k);
        int rc = brisk_denoiser_create_gaussian(mean, stdv, D, BRISK_PRED_EPSILON, &d);
        brisk_alloc_fail_after(-1);
        if (rc == 0) brisk_denoiser_free(d);
        else ASSERT_EQ(rc, BRISK_ENOMEM);
    }
}

int main(void) {
    test_predict_vs_naive();
    test_forms_consistent();
    test_pf_map_vs_rk4();
    test_denoiser_object();
    TEST_DONE();
}
