/* Classifier summaries: MMR by hand and against numpy, the class histogram against
 * scipy.stats.chisquare, the chi-square tail, softmax, and bad input. */
#include "brisk_test.h"
#include "metrics/fixtures.h"
#include "metrics/metrics_impl.h"

#include <string.h>

static void test_by_hand(void) {
    /* rows: a two-way tie, a confident row, a three-way spread, uniform */
    double p[4 * 3] = {0.5, 0.5, 0.0, 0.9, 0.05, 0.05, 0.4, 0.35, 0.25, 1.0 / 3, 1.0 / 3, 1.0 / 3};
    brisk_features f = feats64(p, 4, 3, "probs");
    double taus[5] = {0.05, 0.3, 1.0 / 3, 0.34, 0.5}, rates[5];
    ASSERT_OK(brisk_mode_mixture_rate(&f, taus, 5, rates));
    /* tau 0.05: rows 0, 1 (0.05 >= 0.05), 2, 3 -> 4/4; 0.3: rows 0, 2, 3 -> 3/4;
     * 1/3: rows 0, 2 (0.35), 3 (exactly 1/3) -> 3/4; 0.34: rows 0, 2 -> 2/4;
     * 0.5: row 0 -> 1/4 */
    ASSERT_NEAR(rates[0], 1.0, 0);
    ASSERT_NEAR(rates[1], 0.75, 0);
    ASSERT_NEAR(rates[2], 0.75, 0);
    ASSERT_NEAR(rates[3], 0.5, 0);
    ASSERT_NEAR(rates[4], 0.25, 0);

    brisk_class_summary s;
    ASSERT_OK(brisk_class_summary_compute(&f, &s));
    /* argmax with ties to the lowest index: 0, 0, 0, 0 */
    ASSERT_EQ(s.counts[0], 4);
    ASSERT_EQ(s.counts[1], 0);
    ASSERT_NEAR(s.tv, 2.0 / 3, 1e-15);        /* 1 - 1/C */
    ASSERT_NEAR(s.kl, log(3.0), 1e-15);       /* log C */
    ASSERT_NEAR(s.chi2, 8.0, 1e-12);          /* (4-4/3)^2/(4/3) + 2 (4/3) = 16/3 + 8/3 */
    ASSERT_NEAR(s.chi2_p, exp(-4.0), 1e-15);  /* 2 dof: Q(1, x/2) = exp(-x/2) */
    brisk_class_summary_free(&s);

    /* a perfectly uniform histogram */
    double u[6 * 3] = {1, 0, 0, 0, 1, 0, 0, 0, 1, 0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.8};
    brisk_features fu = feats64(u, 6, 3, "uniform");
    ASSERT_OK(brisk_class_summary_compute(&fu, &s));
    ASSERT_NEAR(s.chi2, 0, 0);
    ASSERT_NEAR(s.chi2_p, 1, 0);
    ASSERT_NEAR(s.tv, 0, 1e-16);
    ASSERT_NEAR(s.kl, 0, 1e-16);
    brisk_class_summary_free(&s);
}

/* Tolerances against numpy / scipy: MMR and counts exact; chi2 1e-12, p-value 1e-9
 * relative, TV and KL 1e-12. */
static void test_against_numpy(void) {
    cJSON *exp = fix_expected();
    brisk_array pa;
    brisk_features probs;
    fix_load("probs.npy", &pa, &probs);
    ASSERT_EQ(probs.n, 400);
    ASSERT_EQ(probs.dim, 10);
    const cJSON *m = cJSON_GetObjectItem(exp, "mmr");
    const cJSON *jt = cJSON_GetObjectItem(m, "taus"), *jr = cJSON_GetObjectItem(m, "rates");
    int nt = cJSON_GetArraySize(jt);
    double taus[16], rates[16];
    for (int i = 0; i < nt; i++) taus[i] = fix_arr(jt, i);
    ASSERT_OK(brisk_mode_mixture_rate(&probs, taus, (size_t)nt, rates));
    for (int i = 0; i < nt; i++) {
        printf("MMR(%.2f) = %.4f (numpy %.4f)\n", taus[i], rates[i], fix_arr(jr, i));
        ASSERT_NEAR(rates[i], fix_arr(jr, i), 0);
    }
    const cJSON *c = cJSON_GetObjectItem(exp, "classes");
    brisk_class_summary s;
    ASSERT_OK(brisk_class_summary_compute(&probs, &s));
    ASSERT_EQ(s.n_classes, 10);
    for (int i = 0; i < 10; i++) ASSERT_EQ(s.counts[i], (long long)fix_arr(cJSON_GetObjectItem(c, "counts"), i));
    printf("chi2 %.10g p %.10g (scipy %.10g p %.10g), tv %.4f kl %.5f\n", s.chi2, s.chi2_p, fix_num(c, "chi2", NULL),
           fix_num(c, "chi2_p", NULL), s.tv, s.kl);
    ASSERT_DOUBLE_LE(rel_err(s.chi2, fix_num(c, "chi2", NULL)), 1e-12);
    ASSERT_DOUBLE_LE(rel_err(s.chi2_p, fix_num(c, "chi2_p", NULL)), 1e-9);
    ASSERT_DOUBLE_LE(rel_err(s.tv, fix_num(c, "tv", NULL)), 1e-12);
    ASSERT_DOUBLE_LE(rel_err(s.kl, fix_num(c, "kl", NULL)), 1e-12);
    brisk_class_summary_free(&s);
    brisk_array_free(&pa);
    cJSON_Delete(exp);
}

/* Q(a, x) against closed forms on both sides of x = a + 1 (series and continued fraction):
 * 1 dof: Q(1/2, x) = erfc(sqrt x); 2 dof: exp(-x); 4 dof: (1 + x) exp(-x). */
static void test_gamma_q(void) {
    double xs[] = {0.01, 0.3, 1.0, 1.4, 2.5, 7.0, 30.0, 200.0};
    double worst = 0;
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        double x = xs[i];
        worst = fmax(worst, rel_err(metrics_gamma_q(0.5, x), erfc(sqrt(x))));
        worst = fmax(worst, rel_err(metrics_gamma_q(1.0, x), exp(-x)));
        worst = fmax(worst, rel_err(metrics_gamma_q(2.0, x), (1 + x) * exp(-x)));
    }
    printf("incomplete gamma Q: worst rel err %.3g\n", worst);
    ASSERT_DOUBLE_LE(worst, 1e-12);
    ASSERT_NEAR(metrics_gamma_q(4.5, 0.0), 1.0, 0);
    ASSERT_TRUE(isnan(metrics_gamma_q(0.0, 1.0)));
}

static void test_softmax(void) {
    float l[2 * 4] = {1, 2, 3, 4, 1000, 1001, 999, -1000};
    float sh[4] = {101, 102, 103, 104};
    brisk_softmax_rows(l, 2, 4);
    brisk_softmax_rows(sh, 1, 4);
    for (int r = 0; r < 2; r++) {
        double s = 0;
        for (int k = 0; k < 4; k++) s += l[r * 4 + k];
        ASSERT_NEAR(s, 1.0, 1e-6);
    }
    for (int k = 0; k < 4; k++) ASSERT_NEAR(sh[k], l[k], 1e-7); /* shift invariance */
    ASSERT_NEAR(l[3], exp(4) / (exp(1) + exp(2) + exp(3) + exp(4)), 1e-7);
    ASSERT_NEAR(l[7], 0, 0); /* no overflow: exp(-2001) underflows to 0 */
    ASSERT_NEAR(l[5], 1.0 / (1 + exp(-1) + exp(-2)), 1e-7);
}

static void test_bad_input(void) {
    double logits[2 * 3] = {2.0, -1.0, 0.5, 0.1, 0.2, 0.3};
    brisk_features f = feats64(logits, 2, 3, "gen_probs.npy");
    brisk_class_summary s;
    double tau = 0.2, rate;
    ASSERT_STATUS(brisk_class_summary_compute(&f, &s), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "gen_probs.npy: row 0, class 0 is 2, not a probability");
    double p[2 * 3] = {0.2, 0.3, 0.5, 0.1, 0.2, 0.3}; /* row 0 fine, row 1 sums to 0.6 */
    f.data = p;
    ASSERT_STATUS(brisk_mode_mixture_rate(&f, &tau, 1, &rate), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "gen_probs.npy: row 1 sums to 0.6, not 1");
    p[5] = 0.7;
    ASSERT_OK(brisk_mode_mixture_rate(&f, &tau, 1, &rate));
    ASSERT_NEAR(rate, 1.0, 0);
    double bad[3] = {0.0, -0.1, 1.5};
    for (int i = 0; i < 3; i++) {
        ASSERT_STATUS(brisk_mode_mixture_rate(&f, &bad[i], 1, &rate), BRISK_EINVAL);
        ASSERT_STR_CONTAINS(brisk_last_error(), "outside (0, 1]");
    }
    brisk_features one = feats64(p, 2, 1, "one_class.npy");
    ASSERT_STATUS(brisk_class_summary_compute(&one, &s), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "at least 2 classes");
    brisk_features empty = feats64(p, 0, 3, "empty.npy");
    ASSERT_STATUS(brisk_class_summary_compute(&empty, &s), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "empty.npy: empty");
}

int main(void) {
    test_by_hand();
    test_against_numpy();
    test_gamma_q();
    test_softmax();
    test_bad_input();
    TEST_DONE();
}
