/* brisk_quality_evaluate (what `brisk eval` calls), its JSON, metric names, and the
 * bootstrap helper. */
#include "brisk_test.h"
#include "metrics/fixtures.h"

#include <string.h>

static void test_names(void) {
    for (int m = 0; m < BRISK_METRIC_COUNT; m++) {
        brisk_metric back;
        ASSERT_OK(brisk_metric_from_name(brisk_metric_name((brisk_metric)m), &back));
        ASSERT_EQ(back, m);
    }
    brisk_metric x;
    ASSERT_STATUS(brisk_metric_from_name("fid", &x), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "unknown metric 'fid'");
    unsigned mask;
    ASSERT_OK(brisk_metric_mask_parse("fd,kid,mmr", &mask));
    ASSERT_EQ(mask, (1u << BRISK_METRIC_FD) | (1u << BRISK_METRIC_KID) | (1u << BRISK_METRIC_MMR));
    ASSERT_STATUS(brisk_metric_mask_parse("fd,", &mask), BRISK_EINVAL);
    ASSERT_STATUS(brisk_metric_mask_parse("fd,,kid", &mask), BRISK_EINVAL);
    ASSERT_STATUS(brisk_metric_mask_parse("", &mask), BRISK_EINVAL);
    ASSERT_STATUS(brisk_metric_mask_parse("fd,prec", &mask), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "'prec'");
}

static void test_evaluate(void) {
    brisk_array ra, ga, pa;
    brisk_features real, gen, probs;
    fix_load("real.npy", &ra, &real);
    fix_load("gen.npy", &ga, &gen);
    fix_load("probs.npy", &pa, &probs);
    brisk_quality_params p;
    brisk_quality_params_default(&p);
    ASSERT_EQ(p.pr_k, 3);
    ASSERT_EQ(p.n_mmr_taus, 5);
    p.kid.num_subsets = 5;
    p.kid.subset_size = 200;
    brisk_quality_ref ref = {NULL, &real, NULL};
    brisk_quality_result r;
    ASSERT_OK(brisk_quality_evaluate(&ref, &gen, &probs, &p, &r));
    ASSERT_EQ(r.computed, (1u << BRISK_METRIC_COUNT) - 1);
    /* the same numbers as the individual functions */
    double fd;
    brisk_kid_result kid;
    brisk_pr_result pr;
    ASSERT_OK(brisk_frechet_distance_features(&real, &gen, &fd));
    ASSERT_OK(brisk_kid(&real, &gen, &p.kid, &kid, NULL));
    ASSERT_OK(brisk_precision_recall(&real, &gen, 3, &pr));
    ASSERT_NEAR(r.fd, fd, 0);
    ASSERT_NEAR(r.kid.mean, kid.mean, 0);
    ASSERT_NEAR(r.kid.std, kid.std, 0);
    ASSERT_EQ(r.pr.n_gen_in_real, pr.n_gen_in_real);
    ASSERT_EQ(r.pr.n_real_in_gen, pr.n_real_in_gen);
    ASSERT_EQ(r.n_mmr_taus, 5);
    ASSERT_NEAR(r.mmr_taus[1], 0.2, 1e-15);
    ASSERT_NEAR(r.mmr[1], 0.5625, 0); /* numpy, expected.json */
    ASSERT_EQ(r.classes.counts[0], 76);

    cJSON *o = cJSON_CreateObject();
    ASSERT_OK(brisk_quality_result_to_json(&r, o));
    char *txt = cJSON_PrintUnformatted(o);
    printf("%s\n", txt);
    ASSERT_STR_CONTAINS(txt, "\"fd\":");
    ASSERT_STR_CONTAINS(txt, "\"kid\":{\"mean\":");
    ASSERT_STR_CONTAINS(txt, "\"precision\":0.672");
    ASSERT_STR_CONTAINS(txt, "\"counts\":[76,31,23,54,27,36,39,40,37,37]");
    ASSERT_STR_CONTAINS(txt, "{\"tau\":0.2,\"rate\":0.5625}");
    ASSERT_NEAR(cJSON_GetObjectItem(o, "fd")->valuedouble, fd, 0);
    free(txt);
    cJSON_Delete(o);
    brisk_quality_result_free(&r);

    /* precomputed statistics (as shipped for the test set) and radii */
    brisk_gauss_stats st;
    double radii[600];
    ASSERT_OK(brisk_gauss_stats_load(FIX_DIR "real_stats", &st));
    ASSERT_OK(brisk_knn_radii(&real, 3, radii));
    brisk_quality_ref ref2 = {&st, &real, radii};
    ASSERT_OK(brisk_quality_evaluate(&ref2, &gen, &probs, &p, &r));
    ASSERT_DOUBLE_LE(rel_err(r.fd, fd), 1e-12);
    ASSERT_EQ(r.pr.n_gen_in_real, pr.n_gen_in_real);
    ASSERT_EQ(r.pr.n_real_in_gen, pr.n_real_in_gen);
    ASSERT_NEAR(r.pr.precision, pr.precision, 0);
    brisk_quality_result_free(&r);

    /* FD only, from statistics alone: no real features needed */
    brisk_quality_ref ref3 = {&st, NULL, NULL};
    p.metrics = 1u << BRISK_METRIC_FD;
    ASSERT_OK(brisk_quality_evaluate(&ref3, &gen, NULL, &p, &r));
    ASSERT_EQ(r.computed, 1u << BRISK_METRIC_FD);
    ASSERT_DOUBLE_LE(rel_err(r.fd, fd), 1e-12);
    brisk_quality_result_free(&r);

    /* missing inputs are named before anything is computed */
    p.metrics = (1u << BRISK_METRIC_FD) | (1u << BRISK_METRIC_KID);
    ASSERT_STATUS(brisk_quality_evaluate(&ref3, &gen, NULL, &p, &r), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "kid needs reference (real) features");
    p.metrics = 1u << BRISK_METRIC_MMR;
    ASSERT_STATUS(brisk_quality_evaluate(&ref3, &gen, NULL, &p, &r), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "mmr needs classifier probabilities");
    p.metrics = 1u << BRISK_METRIC_FD;
    ASSERT_STATUS(brisk_quality_evaluate(NULL, &gen, NULL, &p, &r), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "fd needs reference (real) features or reference statistics");
    ASSERT_STATUS(brisk_quality_evaluate(&ref3, NULL, NULL, &p, &r), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "fd needs features of the generated samples");
    /* statistics of another feature extractor */
    brisk_features g16 = gen;
    g16.dim = 16;
    g16.n = 200;
    g16.name = "gen16.npy";
    ASSERT_STATUS(brisk_quality_evaluate(&ref3, &g16, NULL, &p, &r), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "real_stats has 32, gen16.npy has 16");

    /* every allocation failure is BRISK_ENOMEM (and leaks nothing under ASan) */
    brisk_quality_params_default(&p);
    p.kid.num_subsets = 2;
    p.kid.subset_size = 50;
    brisk_features rs = real, gs = gen;
    rs.n = 80;
    gs.n = 70;
    brisk_quality_ref ref4 = {NULL, &rs, NULL};
    int failures = 0;
    for (long k = 0;; k++) {
        brisk_alloc_fail_after(k);
        int rc = brisk_quality_evaluate(&ref4, &gs, &probs, &p, &r);
        brisk_alloc_fail_after(-1);
        if (rc == 0) break;
        ASSERT_EQ(rc, BRISK_ENOMEM);
        brisk_quality_result_free(&r);
        failures++;
    }
    ASSERT_TRUE(failures >= 20);
    brisk_quality_result_free(&r);

    brisk_gauss_stats_free(&st);
    brisk_array_free(&ra);
    brisk_array_free(&ga);
    brisk_array_free(&pa);
}

static void test_bootstrap(void) {
    double c[5] = {2, 2, 2, 2, 2}, lo, hi;
    ASSERT_OK(brisk_bootstrap_mean_ci(c, 5, 200, 0.95, 1, &lo, &hi));
    ASSERT_NEAR(lo, 2, 0);
    ASSERT_NEAR(hi, 2, 0);
    /* 400 standard normals: the percentile interval approaches mean +- 1.96 s / sqrt(n) */
    size_t n = 400;
    double *x = rand_set(77, 0, n, 1, 1.0, 0.0), m = 0, s = 0;
    for (size_t i = 0; i < n; i++) m += x[i] / n;
    for (size_t i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m) / (n - 1);
    double half = 1.96 * sqrt(s / n);
    ASSERT_OK(brisk_bootstrap_mean_ci(x, n, 2000, 0.95, 3, &lo, &hi));
    printf("bootstrap 95%% CI [%.4f, %.4f], normal approximation [%.4f, %.4f]\n", lo, hi, m - half, m + half);
    ASSERT_TRUE(lo < m && m < hi);
    ASSERT_NEAR(hi - lo, 2 * half, 0.15 * 2 * half);
    ASSERT_NEAR(0.5 * (lo + hi), m, 0.1 * half);
    double lo2, hi2;
    ASSERT_OK(brisk_bootstrap_mean_ci(x, n, 2000, 0.95, 3, &lo2, &hi2)); /* deterministic */
    ASSERT_NEAR(lo2, lo, 0);
    ASSERT_OK(brisk_bootstrap_mean_ci(x, n, 2000, 0.5, 3, &lo2, &hi2)); /* narrower level */
    ASSERT_TRUE(lo2 > lo && hi2 < hi);
    /* three seeds, as the study will use */
    double seeds[3] = {10.2, 11.0, 10.5};
    ASSERT_OK(brisk_bootstrap_mean_ci(seeds, 3, 1000, 0.95, 0, &lo, &hi));
    ASSERT_TRUE(lo >= 10.2 && hi <= 11.0 && lo < hi);
    ASSERT_STATUS(brisk_bootstrap_mean_ci(seeds, 1, 1000, 0.95, 0, &lo, &hi), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "at least 2 values");
    ASSERT_STATUS(brisk_bootstrap_mean_ci(seeds, 3, 1000, 1.0, 0, &lo, &hi), BRISK_EINVAL);
    ASSERT_STATUS(brisk_bootstrap_mean_ci(seeds, 3, 5, 0.9, 0, &lo, &hi), BRISK_EINVAL);
    seeds[1] = NAN;
    ASSERT_STATUS(brisk_bootstrap_mean_ci(seeds, 3, 100, 0.9, 0, &lo, &hi), BRISK_ENUMERIC);
    free(x);
}

int main(void) {
    test_names();
    test_evaluate();
    test_bootstrap();
    TEST_DONE();
}
