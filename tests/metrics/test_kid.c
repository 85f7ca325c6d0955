/* KID and the unbiased MMD^2: against numpy on the shipped fixtures (subsets drawn with
 * brisk's Philox scheme, re-implemented in gen_expected.py), a naive reference across
 * block boundaries, identical distributions, and bad input. */
#include "brisk_test.h"
#include "metrics/fixtures.h"
#include "metrics/metrics_impl.h"

#include <string.h>

/* Naive unbiased MMD^2, straight from the definition. */
static double naive_mmd2(const double *x, size_t nx, const double *y, size_t ny, size_t d, int deg,
                         double gamma, double c0) {
    double sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < nx; i++)
        for (size_t j = 0; j < nx; j++) {
            if (i == j) continue;
            double dot = 0;
            for (size_t k = 0; k < d; k++) dot += x[i * d + k] * x[j * d + k];
            sxx += pow(gamma * dot + c0, deg);
        }
    for (size_t i = 0; i < ny; i++)
        for (size_t j = 0; j < ny; j++) {
            if (i == j) continue;
            double dot = 0;
            for (size_t k = 0; k < d; k++) dot += y[i * d + k] * y[j * d + k];
            syy += pow(gamma * dot + c0, deg);
        }
    for (size_t i = 0; i < nx; i++)
        for (size_t j = 0; j < ny; j++) {
            double dot = 0;
            for (size_t k = 0; k < d; k++) dot += x[i * d + k] * y[j * d + k];
            sxy += pow(gamma * dot + c0, deg);
        }
    return sxx / (nx * (nx - 1.0)) + syy / (ny * (ny - 1.0)) - 2 * sxy / ((double)nx * ny);
}

/* Tolerance against numpy: 1e-10 relative (float64 sums of ~1e5 kernel values). */
static void test_against_numpy(void) {
    cJSON *exp = fix_expected();
    brisk_array ra, ga;
    brisk_features real, gen;
    fix_load("real.npy", &ra, &real);
    fix_load("gen.npy", &ga, &gen);
    brisk_kid_params p;
    brisk_kid_params_default(&p);
    ASSERT_EQ(p.num_subsets, 100);
    ASSERT_EQ(p.degree, 3);
    double v;
    ASSERT_OK(brisk_mmd2_unbiased(&real, &gen, &p, &v));
    printf("MMD^2 full sets: brisk %.15g numpy %.15g\n", v, fix_num(exp, "mmd2_full", NULL));
    ASSERT_DOUBLE_LE(rel_err(v, fix_num(exp, "mmd2_full", NULL)), 1e-10);

    /* subsets: indices, per-subset values, mean and std */
    const cJSON *k = cJSON_GetObjectItem(exp, "kid");
    p.seed = (uint64_t)fix_num(k, "seed", NULL);
    p.num_subsets = (size_t)fix_num(k, "num_subsets", NULL);
    p.subset_size = (size_t)fix_num(k, "subset_size", NULL);
    size_t idx[600];
    uint32_t words[600];
    metrics_subset_indices(p.seed, 0, 0, 600, p.subset_size, idx, words);
    const cJSON *first = cJSON_GetObjectItem(exp, "kid_subset0_real_first5");
    for (int i = 0; i < 5; i++) ASSERT_EQ(idx[i], (size_t)fix_arr(first, i));
    int seen[600] = {0}, dup = 0;
    for (size_t i = 0; i < p.subset_size; i++) dup += seen[idx[i]]++ > 0;
    ASSERT_EQ(dup, 0);

    double per[10];
    brisk_kid_result r;
    ASSERT_OK(brisk_kid(&real, &gen, &p, &r, per));
    ASSERT_EQ(r.subset_size, 200);
    ASSERT_EQ(r.num_subsets, 10);
    const cJSON *want = cJSON_GetObjectItem(k, "per_subset");
    double worst = 0;
    for (int s = 0; s < 10; s++) worst = fmax(worst, rel_err(per[s], fix_arr(want, s)));
    printf("KID 10x200: brisk %.12g +- %.12g, numpy %.12g +- %.12g, worst subset rel err %.3g\n", r.mean, r.std,
           fix_num(k, "mean", NULL), fix_num(k, "std", NULL), worst);
    ASSERT_DOUBLE_LE(worst, 1e-10);
    ASSERT_DOUBLE_LE(rel_err(r.mean, fix_num(k, "mean", NULL)), 1e-10);
    ASSERT_DOUBLE_LE(rel_err(r.std, fix_num(k, "std", NULL)), 1e-8);

    /* subset = the whole (equal-size) sets: every subset is a permutation, so KID equals
     * the full-set MMD^2 with zero spread */
    brisk_features r500 = real;
    r500.n = 500;
    p.subset_size = 500;
    p.num_subsets = 3;
    ASSERT_OK(brisk_kid(&r500, &gen, &p, &r, NULL));
    ASSERT_DOUBLE_LE(rel_err(r.mean, fix_num(exp, "mmd2_first500", NULL)), 1e-10);
    ASSERT_DOUBLE_LE(r.std, 1e-10 * fabs(r.mean));
    /* default subset size: min(1000, 600, 500) */
    brisk_kid_params_default(&p);
    p.num_subsets = 2;
    ASSERT_OK(brisk_kid(&real, &gen, &p, &r, NULL));
    ASSERT_EQ(r.subset_size, 500);
    /* float64 input gives the same result as float32 input holding the same values */
    double *g64 = malloc(gen.n * gen.dim * sizeof *g64);
    for (size_t i = 0; i < gen.n * gen.dim; i++) g64[i] = ((const float *)gen.data)[i];
    brisk_features gen64 = feats64(g64, gen.n, gen.dim, "gen64");
    brisk_kid_result r64;
    ASSERT_OK(brisk_kid(&real, &gen64, &p, &r64, NULL));
    ASSERT_NEAR(r64.mean, r.mean, 0);
    free(g64);
    brisk_array_free(&ra);
    brisk_array_free(&ga);
    cJSON_Delete(exp);
}

/* Blocked kernel sums against the naive definition, across the 256-row and 2048-column
 * block edges, for several kernels. */
static void test_naive(void) {
    size_t nx = test_sanitized() ? 700 : 2100, ny = 300, d = 3;
    double *x = rand_set(21, 0, nx, d, 1.0, 0.2), *y = rand_set(22, 0, ny, d, 1.3, 0.0);
    brisk_features fx = feats64(x, nx, d, "x"), fy = feats64(y, ny, d, "y");
    struct { int deg; double gamma, c0; } kern[] = {{3, 0, 1}, {2, 0.5, 0.0}, {1, 1.0, 2.0}};
    for (int i = 0; i < 3; i++) {
        brisk_kid_params p;
        brisk_kid_params_default(&p);
        p.degree = kern[i].deg;
        p.gamma = kern[i].gamma;
        p.coef0 = kern[i].c0;
        double v, want = naive_mmd2(x, nx, y, ny, d, p.degree, p.gamma > 0 ? p.gamma : 1.0 / d, p.coef0);
        ASSERT_OK(brisk_mmd2_unbiased(&fx, &fy, &p, &v));
        printf("naive MMD^2 (degree %d): %.15g vs %.15g\n", p.degree, v, want);
        ASSERT_DOUBLE_LE(fabs(v - want), 1e-11 * (1 + fabs(want)));
        ASSERT_OK(brisk_mmd2_unbiased(&fy, &fx, &p, &v)); /* symmetric */
        ASSERT_DOUBLE_LE(fabs(v - want), 1e-11 * (1 + fabs(want)));
    }
    free(x);
    free(y);
}

/* Identical distributions: KID is unbiased, so its average over independent draws is
 * zero within its standard error; a shifted distribution is far from zero. */
static void test_identical(void) {
    enum { REPS = 20 };
    size_t n = test_sanitized() ? 100 : 200, d = 8;
    double v[REPS], vs[REPS], m = 0, ms = 0;
    for (int r = 0; r < REPS; r++) {
        double *x = rand_set(100 + r, 0, n, d, 1.0, 0.0), *y = rand_set(200 + r, 0, n, d, 1.0, 0.0);
        double *z = rand_set(300 + r, 0, n, d, 1.0, 0.3);
        brisk_features fx = feats64(x, n, d, "x"), fy = feats64(y, n, d, "y"), fz = feats64(z, n, d, "z");
        brisk_kid_params p;
        brisk_kid_params_default(&p);
        p.num_subsets = 5;
        p.subset_size = n / 2;
        p.seed = r;
        brisk_kid_result k1, k2;
        ASSERT_OK(brisk_kid(&fx, &fy, &p, &k1, NULL));
        ASSERT_OK(brisk_kid(&fx, &fz, &p, &k2, NULL));
        v[r] = k1.mean;
        vs[r] = k2.mean;
        m += v[r] / REPS;
        ms += vs[r] / REPS;
        free(x);
        free(y);
        free(z);
    }
    double var = 0;
    for (int r = 0; r < REPS; r++) var += (v[r] - m) * (v[r] - m) / (REPS - 1);
    double se = sqrt(var / REPS);
    printf("KID same distribution: mean %.3g (se %.3g); shifted by 0.3: %.3g\n", m, se, ms);
    ASSERT_DOUBLE_LE(fabs(m), 4 * se);
    ASSERT_TRUE(ms > 10 * se);
    int negative = 0;
    for (int r = 0; r < REPS; r++) negative += v[r] < 0;
    ASSERT_TRUE(negative > 0); /* unbiased: individual estimates go below zero */

    /* determinism: same seed, same value; another seed, another value */
    double *x = rand_set(1, 0, 300, 4, 1.0, 0.0), *y = rand_set(2, 0, 250, 4, 1.0, 0.1);
    brisk_features fx = feats64(x, 300, 4, "x"), fy = feats64(y, 250, 4, "y");
    brisk_kid_params p;
    brisk_kid_params_default(&p);
    p.num_subsets = 4;
    p.subset_size = 100;
    brisk_kid_result a, b, c;
    ASSERT_OK(brisk_kid(&fx, &fy, &p, &a, NULL));
    ASSERT_OK(brisk_kid(&fx, &fy, &p, &b, NULL));
    p.seed = 99;
    ASSERT_OK(brisk_kid(&fx, &fy, &p, &c, NULL));
    ASSERT_NEAR(a.mean, b.mean, 0);
    ASSERT_TRUE(a.mean != c.mean);
    /* the thread count does not change a bit of the result (fixed summation order); the
     * sets are large enough (> 1e7 flops) for brisk_kid to go parallel */
    double *u = rand_set(7, 0, 600, 16, 1.0, 0.0), *uv = rand_set(8, 0, 500, 16, 1.0, 0.1);
    brisk_features fu = feats64(u, 600, 16, "u"), fv = feats64(uv, 500, 16, "v");
    p.seed = 0;
    p.subset_size = 500;
    p.num_subsets = 4;
    double m1, m3, full1, full3;
    int saved = brisk_get_num_threads();
    brisk_set_num_threads(1);
    ASSERT_OK(brisk_kid(&fu, &fv, &p, &b, NULL));
    ASSERT_OK(brisk_mmd2_unbiased(&fu, &fv, &p, &full1));
    m1 = b.mean;
    brisk_set_num_threads(3);
    ASSERT_OK(brisk_kid(&fu, &fv, &p, &c, NULL));
    ASSERT_OK(brisk_mmd2_unbiased(&fu, &fv, &p, &full3));
    m3 = c.mean;
    brisk_set_num_threads(saved);
    ASSERT_NEAR(m1, m3, 0);
    ASSERT_NEAR(b.std, c.std, 0);
    ASSERT_NEAR(full1, full3, 0);
    free(u);
    free(uv);
    free(x);
    free(y);
}

static void test_bad_input(void) {
    double x[40];
    for (int i = 0; i < 40; i++) x[i] = i * 0.1;
    brisk_features a = feats64(x, 10, 4, "real.npy"), b = feats64(x, 8, 5, "gen.npy");
    brisk_kid_params p;
    brisk_kid_params_default(&p);
    brisk_kid_result r;
    double v;
    ASSERT_STATUS(brisk_kid(&a, &b, &p, &r, NULL), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "real.npy has 4, gen.npy has 5");
    b = feats64(x, 6, 4, "gen.npy");
    p.subset_size = 8;
    ASSERT_STATUS(brisk_kid(&a, &b, &p, &r, NULL), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "gen.npy: KID subset size 8 is larger than its 6 samples");
    p.subset_size = 1;
    ASSERT_STATUS(brisk_kid(&a, &b, &p, &r, NULL), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "subset size 1");
    p.subset_size = 0;
    b.n = 1;
    ASSERT_STATUS(brisk_kid(&a, &b, &p, &r, NULL), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "gen.npy: KID needs at least 2 samples, got 1");
    ASSERT_STATUS(brisk_mmd2_unbiased(&a, &b, &p, &v), BRISK_EINVAL);
    b.n = 0;
    ASSERT_STATUS(brisk_kid(&a, &b, &p, &r, NULL), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "gen.npy: empty");
    b.n = 6;
    p.num_subsets = 0;
    ASSERT_STATUS(brisk_kid(&a, &b, &p, &r, NULL), BRISK_EINVAL);
    p.num_subsets = 10;
    p.degree = 0;
    ASSERT_STATUS(brisk_kid(&a, &b, &p, &r, NULL), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "degree");
    p.degree = 3;
    p.gamma = -1;
    ASSERT_STATUS(brisk_mmd2_unbiased(&a, &b, &p, &v), BRISK_EINVAL);
}

static void test_out_of_memory(void) {
    double *x = rand_set(3, 0, 50, 3, 1.0, 0.0), *y = rand_set(4, 0, 40, 3, 1.0, 0.5);
    brisk_features fx = feats64(x, 50, 3, "x"), fy = feats64(y, 40, 3, "y");
    brisk_kid_params p;
    brisk_kid_params_default(&p);
    p.num_subsets = 3;
    brisk_kid_result want, r;
    ASSERT_OK(brisk_kid(&fx, &fy, &p, &want, NULL));
    int failures = 0;
    for (long k = 0;; k++) {
        brisk_alloc_fail_after(k);
        int rc = brisk_kid(&fx, &fy, &p, &r, NULL);
        int rc2 = brisk_mmd2_unbiased(&fx, &fy, &p, &r.std);
        brisk_alloc_fail_after(-1);
        if (rc == 0 && rc2 == 0) break;
        ASSERT_TRUE(rc == 0 || rc == BRISK_ENOMEM);
        ASSERT_TRUE(rc2 == 0 || rc2 == BRISK_ENOMEM);
        failures++;
    }
    ASSERT_TRUE(failures >= 6);
    ASSERT_NEAR(r.mean, want.mean, 0);
    free(x);
    free(y);
}

int main(void) {
    test_against_numpy();
    test_naive();
    test_identical();
    test_bad_input();
    test_out_of_memory();
    TEST_DONE();
}
