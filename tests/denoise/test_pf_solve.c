/* The reference PF solver vs the Gaussian closed form (all three prediction types, several
 * targets including alpha-bar 1), its convergence with the tolerance on a GMM, and errors. */
#include "brisk/core.h"
#include "brisk/denoiser.h"
#include "brisk/rng.h"
#include "brisk_test.h"

#define D 6
#define B 4

static const double mean[D] = {0.5, -1.0, 0.0, 2.0, 0.25, -0.3};
static const double stdv[D] = {0.8, 0.1, 1.0, 2.5, 0.05, 0.5};

static void test_vs_closed_form(void) {
    double x[B * D];
    brisk_randn(21, 0, 0, B * D, x);
    const double a_from = 4.0358e-5; /* about alphas_cumprod[999] of the linear schedule */
    const double a_to[4] = {a_from, 0.3, 0.9999, 1.0};
    double out[4 * B * D], want[B * D];
    for (int p = 0; p < BRISK_PRED_COUNT; p++) {
        brisk_denoiser *d;
        ASSERT_OK(brisk_denoiser_create_gaussian(mean, stdv, D, (brisk_prediction)p, &d));
        brisk_pf_solve_options o;
        brisk_pf_solve_options_default(&o);
        o.rtol = o.atol = 1e-11;
        o.sigma_min = 1e-6;
        brisk_pf_solve_stats st;
        ASSERT_OK(brisk_pf_solve(d, x, B, a_from, a_to, 4, &o, out, &st));
        double worst = 0;
        for (int k = 0; k < 4; k++) {
            brisk_gaussian_pf_map(mean, stdv, D, x, B, a_from, a_to[k], want);
            for (int i = 0; i < B * D; i++) {
                double e = fabs(out[k * B * D + i] - want[i]);
                if (e > worst) worst = e;
                /* alpha-bar 1 is reached by the x0 prediction at sigma_min: O(sigma_min^2) */
                ASSERT_NEAR(out[k * B * D + i], want[i], 1e-8);
            }
        }
        printf("pf solver (%s) vs closed form: max err %.3g, %zu calls, %zu steps, %zu rejected\n",
               brisk_prediction_name((brisk_prediction)p), worst, st.nfe, st.accepted, st.rejected);
        ASSERT_TRUE(st.nfe > 10 && st.nfe < 100000);
        brisk_denoiser_free(d);
    }
}

/* On a GMM (no closed form) the answer converges as the tolerance shrinks. */
static void test_convergence(void) {
    brisk_gmm g = {2, 3, (double[]){0.4, 0.6}, (double[]){-1, 0, 1, 1, 0.5, -0.5},
                   (double[]){0.2, 0.3, 0.1, 0.25, 0.15, 0.2}};
    brisk_denoiser *d;
    ASSERT_OK(brisk_denoiser_create_gmm(&g, BRISK_PRED_EPSILON, &d));
    double x[B * 3], o1[B * 3], o2[B * 3], o3[B * 3];
    brisk_randn(22, 0, 0, B * 3, x);
    double a_to = 0.9999;
    brisk_pf_solve_options o;
    brisk_pf_solve_options_default(&o);
    o.rtol = o.atol = 1e-5;
    ASSERT_OK(brisk_pf_solve(d, x, B, 1e-3, &a_to, 1, &o, o1, NULL));
    o.rtol = o.atol = 1e-8;
    ASSERT_OK(brisk_pf_solve(d, x, B, 1e-3, &a_to, 1, &o, o2, NULL));
    o.rtol = o.atol = 1e-11;
    ASSERT_OK(brisk_pf_solve(d, x, B, 1e-3, &a_to, 1, &o, o3, NULL));
    double e1 = 0, e2 = 0;
    for (int i = 0; i < B * 3; i++) {
        if (fabs(o1[i] - o3[i]) > e1) e1 = fabs(o1[i] - o3[i]);
        if (fabs(o2[i] - o3[i]) > e2) e2 = fabs(o2[i] - o3[i]);
    }
    printf("pf solver on a GMM: |tol 1e-5 - tol 1e-11| = %.3g, |tol 1e-8 - tol 1e-11| = %.3g\n", e1, e2);
    ASSERT_DOUBLE_LE(e2, 1e-6);
    ASSERT_DOUBLE_LE(e2, e1);
    ASSERT_TRUE(e1 > 0);

    /* bad arguments */
    ASSERT_STATUS(brisk_pf_solve(d, x, B, 0.0, &a_to, 1, NULL, o1, NULL), BRISK_EINVAL);
    double back = 1e-4;
    ASSERT_STATUS(brisk_pf_solve(d, x, B, 1e-3, &back, 1, NULL, o1, NULL), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "target 0");
    o.max_calls = 20;
    ASSERT_STATUS(brisk_pf_solve(d, x, B, 1e-3, &a_to, 1, &o, o1, NULL), BRISK_ESTATE);
    x[0] = NAN;
    ASSERT_STATUS(brisk_pf_solve(d, x, B, 1e-3, &a_to, 1, NULL, o1, NULL), BRISK_ENUMERIC);
    brisk_denoiser_free(d);
}

int main(void) {
    test_vs_closed_form();
    test_convergence();
    TEST_DONE();
}
