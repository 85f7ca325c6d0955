/* Basic statistics, comparisons and series against numpy/scipy values
 * (tests/data/stats/gen_expected.py) and naive references. */
#include "brisk/stats.h"
#include "brisk_test.h"
#include "expected.h"

static void load_vec(const char *path, double *out, int n) {
    ASSERT_EQ(jlen(path), n);
    for (int i = 0; i < n; i++) out[i] = jnum_at(path, i);
}

static void test_moments(void) {
    double x[37], y[37], xt[37];
    load_vec("basic/x", x, 37);
    load_vec("basic/y", y, 37);
    load_vec("basic/xt", xt, 37);
    ASSERT_NEAR(brisk_stats_mean(x, 37), jnum("basic/mean"), 1e-14);
    ASSERT_NEAR(brisk_stats_sd(x, 37, 1), jnum("basic/sd1"), 1e-14);
    ASSERT_NEAR(brisk_stats_sd(x, 37, 0), jnum("basic/sd0"), 1e-14);
    ASSERT_NEAR(brisk_stats_stderr(x, 37), jnum("basic/stderr"), 1e-14);
    ASSERT_NEAR(brisk_stats_pearson(x, y, 37), jnum("basic/pearson"), 1e-13);
    /* scipy.stats.kendalltau (tau-b), without and with ties in both inputs */
    ASSERT_NEAR(brisk_stats_kendall_tau_b(x, y, 37), jnum("basic/tau_b"), 1e-13);
    ASSERT_NEAR(brisk_stats_kendall_tau_b(xt, y, 37), jnum("basic/tau_b_ties"), 1e-13);
    double tmp[37];
    memcpy(tmp, x, sizeof x);
    ASSERT_NEAR(brisk_stats_quantile(tmp, 37, 0.025), jnum("basic/q025"), 1e-14);
    ASSERT_NEAR(brisk_stats_quantile_sorted(tmp, 37, 0.975), jnum("basic/q975"), 1e-14);
    ASSERT_NEAR(brisk_stats_quantile_sorted(tmp, 37, 0.5), jnum("basic/q50"), 1e-14);
    static const double ps[] = {1e-10, 0.001, 0.025, 0.2, 0.5, 0.8, 0.975, 0.999999};
    double worst = 0;
    for (int i = 0; i < 8; i++) {
        double e = fabs(brisk_stats_normal_quantile(ps[i]) - jnum_at("basic/norm_ppf", i));
        worst = e > worst ? e : worst;
        ASSERT_NEAR(brisk_stats_normal_quantile(ps[i]), jnum_at("basic/norm_ppf", i), 1e-12);
    }
    printf("normal quantile: max |error| vs scipy.stats.norm.ppf %.3g\n", worst);
    double se[3], n[3];
    load_vec("basic/pooled/se", se, 3);
    load_vec("basic/pooled/n", n, 3);
    ASSERT_NEAR(brisk_stats_pooled_stderr(se, n, 3), jnum("basic/pooled/value"), 1e-15);
    /* degenerate inputs */
    double c[4] = {1, 1, 1, 1}, d[4] = {1, 2, 3, 4};
    ASSERT_TRUE(isnan(brisk_stats_pearson(c, d, 4)));
    ASSERT_TRUE(isnan(brisk_stats_kendall_tau_b(c, d, 4)));
    ASSERT_NEAR(brisk_stats_kendall_tau_b(d, d, 4), 1.0, 0);
    ASSERT_TRUE(isnan(brisk_stats_stderr(d, 1)));
    ASSERT_TRUE(isnan(brisk_stats_mean(d, 0)));
    ASSERT_NEAR(brisk_stats_ci95_half_width(0.5, 100), 1.96 * 0.05, 1e-15);
    ASSERT_NEAR(brisk_stats_ci95_half_width(1.0, 100), 0, 0);
}

/* naive tau-b straight from the definition with explicit tie counts, for random data */
static double naive_tau_b(const double *x, const double *y, int n) {
    long c = 0, d = 0, tx = 0, ty = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) {
            double a = x[i] - x[j], b = y[i] - y[j];
            if (a == 0) tx++;
            if (b == 0) ty++;
            if (a * b > 0) c++;
            if (a * b < 0) d++;
        }
    double n0 = n * (n - 1) / 2.0;
    return (c - d) / sqrt((n0 - tx) * (n0 - ty));
}

static void test_tau_random(void) {
    double x[60], y[60];
    unsigned s = 12345;
    for (int rep = 0; rep < 20; rep++) {
        for (int i = 0; i < 60; i++) {
            s = s * 1103515245u + 12345u;
            x[i] = (s >> 16) % 7;
            s = s * 1103515245u + 12345u;
            y[i] = (s >> 16) % 5 + 0.1 * x[i];
        }
        ASSERT_NEAR(brisk_stats_kendall_tau_b(x, y, 60), naive_tau_b(x, y, 60), 1e-14);
    }
}

static void test_series(void) {
    /* seed variance, SNR, monotonicity against hand computation */
    double steps[4] = {10, 20, 30, 40};
    double v[3 * 4] = {0.1, 0.2, 0.3, 0.4,   /* seed 0: tau 1 */
                       0.2, 0.1, 0.4, 0.3,   /* seed 1 */
                       0.1, NAN, 0.2, 0.5};  /* seed 2 lacks step 20 */
    brisk_series_stats st;
    double tau[3];
    ASSERT_OK(brisk_series_analyze(steps, v, 3, 4, 1, 1, &st, tau));
    ASSERT_NEAR(tau[0], 1.0, 1e-15);
    ASSERT_NEAR(tau[1], naive_tau_b(steps, v + 4, 4), 1e-15);
    double s2x[3] = {10, 30, 40}, s2y[3] = {0.1, 0.2, 0.5};
    ASSERT_NEAR(tau[2], naive_tau_b(s2x, s2y, 3), 1e-15);
    ASSERT_NEAR(st.tau_b_mean, (tau[0] + tau[1] + tau[2]) / 3, 1e-15);
    double col[3], sdsum = 0;
    for (int t = 0; t < 4; t++) {
        int k = 0;
        for (int s = 0; s < 3; s++)
            if (!isnan(v[s * 4 + t])) col[k++] = v[s * 4 + t];
        sdsum += brisk_stats_sd(col, k, 1);
    }
    ASSERT_NEAR(st.seed_sd, sdsum / 4, 1e-15);
    double fin[3] = {0.4, 0.3, 0.5};
    ASSERT_NEAR(st.final_mean, 0.4, 1e-15);
    ASSERT_NEAR(st.snr, 0.4 / brisk_stats_sd(fin, 3, 1), 1e-12);
    /* lower is better flips the sign of monotonicity only */
    brisk_series_stats lo;
    ASSERT_OK(brisk_series_analyze(steps, v, 3, 4, 1, 0, &lo, NULL));
    ASSERT_NEAR(lo.monotonicity, -st.monotonicity, 1e-15);
    ASSERT_TRUE(brisk_metric_lower_is_better("perplexity"));
    ASSERT_TRUE(brisk_metric_lower_is_better("ppl,none"));
    ASSERT_TRUE(!brisk_metric_lower_is_better("acc"));
    ASSERT_TRUE(brisk_metric_is_continuous("prob_norm"));
    ASSERT_TRUE(!brisk_metric_is_continuous("acc_norm"));
    /* one seed: no seed variance, no SNR */
    ASSERT_OK(brisk_series_analyze(steps, v, 1, 4, 1, 1, &st, NULL));
    ASSERT_TRUE(isnan(st.seed_sd));
    ASSERT_TRUE(isnan(st.snr));
    ASSERT_STATUS(brisk_series_analyze(steps, v, 0, 4, 1, 1, &st, NULL), BRISK_EINVAL);
}

static void test_compare(void) {
    double a[6] = {1, 0, 1, 1, 0, 1}, b[6] = {0, 0, 1, 0, 0, 1}, d[6];
    for (int i = 0; i < 6; i++) d[i] = a[i] - b[i];
    brisk_compare_params p;
    brisk_compare_params_default(&p);
    brisk_compare_result r;
    ASSERT_OK(brisk_compare_paired(a, b, 6, &p, &r));
    ASSERT_NEAR(r.mean_diff, brisk_stats_mean(d, 6), 1e-15);
    ASSERT_NEAR(r.se, brisk_stats_sd(d, 6, 1) / sqrt(6.0), 1e-15);
    ASSERT_NEAR(r.ci95_lo, r.mean_diff - 1.96 * r.se, 1e-15);
    ASSERT_NEAR(r.ci95_hi, r.mean_diff + 1.96 * r.se, 1e-15);
    /* MDD: (z_.975 + z_.8) se without seed variance; seed variance adds sd^2 (1/ka + 1/kb) */
    double zsum = 1.959963984540054 + 0.8416212335729143;
    ASSERT_NEAR(r.mdd, zsum * r.se, 1e-9);
    p.seed_sd = 0.1;
    p.n_seeds_a = 2;
    p.n_seeds_b = 5;
    ASSERT_OK(brisk_compare_paired(a, b, 6, &p, &r));
    ASSERT_NEAR(r.mdd, zsum * sqrt(r.se * r.se + 0.01 * (0.5 + 0.2)), 1e-9);
    ASSERT_NEAR(r.p_value, erfc(fabs(r.z) / sqrt(2.0)), 1e-15);
    ASSERT_STATUS(brisk_compare_paired(a, b, 1, &p, &r), BRISK_EINVAL);
    brisk_compare_summary(0.6, 0.03, 0.5, 0.04, &p, &r);
    ASSERT_NEAR(r.se, 0.05, 1e-15);
    ASSERT_NEAR(r.mean_diff, 0.1, 1e-15);
}

int main(void) {
    test_moments();
    test_tau_random();
    test_series();
    test_compare();
    cJSON_Delete(expected_doc);
    TEST_DONE();
}
