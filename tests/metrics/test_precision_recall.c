/* k-NN precision/recall: against numpy on the shipped fixtures, a naive O(N^2) reference
 * across block edges, limiting cases, translation invariance, and bad input. */
#include "brisk_test.h"
#include "metrics/fixtures.h"

#include <string.h>

/* Naive reference in double: radius^2 of each point = k-th smallest squared distance to
 * the other points; a query is inside if within some reference point's radius. */
static void naive_radii2(const double *x, size_t n, size_t d, size_t k, double *r2) {
    double *dd = malloc(n * sizeof *dd);
    for (size_t i = 0; i < n; i++) {
        size_t m = 0;
        for (size_t j = 0; j < n; j++) {
            if (j == i) continue;
            double s = 0;
            for (size_t c = 0; c < d; c++) s += (x[i * d + c] - x[j * d + c]) * (x[i * d + c] - x[j * d + c]);
            dd[m++] = s;
        }
        for (size_t a = 0; a < k; a++) /* partial selection sort */
            for (size_t b = a + 1; b < m; b++)
                if (dd[b] < dd[a]) {
                    double t = dd[a];
                    dd[a] = dd[b];
                    dd[b] = t;
                }
        r2[i] = dd[k - 1];
    }
    free(dd);
}

static size_t naive_inside(const double *q, size_t nq, const double *r, size_t nr, size_t d, const double *r2) {
    size_t cnt = 0;
    for (size_t i = 0; i < nq; i++)
        for (size_t j = 0; j < nr; j++) {
            double s = 0;
            for (size_t c = 0; c < d; c++) s += (q[i * d + c] - r[j * d + c]) * (q[i * d + c] - r[j * d + c]);
            if (s <= r2[j]) {
                cnt++;
                break;
            }
        }
    return cnt;
}

/* Counts must match numpy exactly: gen_expected.py reports the smallest relative gap
 * between a decisive squared distance and its radius (8e-5 for k = 3), far above the
 * ~1e-6 error of float32 dot products on centred features. Radii: 1e-5 relative. */
static void test_against_numpy(void) {
    cJSON *exp = fix_expected();
    brisk_array ra, ga;
    brisk_features real, gen;
    fix_load("real.npy", &ra, &real);
    fix_load("gen.npy", &ga, &gen);
    const cJSON *pr = cJSON_GetObjectItem(exp, "precision_recall");
    for (size_t k = 3; k <= 5; k += 2) {
        char key[8];
        snprintf(key, sizeof key, "%zu", k);
        const cJSON *e = cJSON_GetObjectItem(pr, key);
        ASSERT_TRUE(fix_num(e, "min_relative_margin", NULL) > 1e-5);
        brisk_pr_result r;
        ASSERT_OK(brisk_precision_recall(&real, &gen, k, &r));
        printf("k=%zu: precision %.4f recall %.4f (numpy %.4f %.4f)\n", k, r.precision, r.recall,
               fix_num(e, "precision", NULL), fix_num(e, "recall", NULL));
        ASSERT_EQ(r.n_gen_in_real, (long long)fix_num(e, "n_gen_in_real", NULL));
        ASSERT_EQ(r.n_real_in_gen, (long long)fix_num(e, "n_real_in_gen", NULL));
        ASSERT_NEAR(r.precision, fix_num(e, "precision", NULL), 1e-15);
        ASSERT_NEAR(r.recall, fix_num(e, "recall", NULL), 1e-15);
        ASSERT_EQ(r.k, k);
        ASSERT_EQ(r.n_real, 600);
        ASSERT_EQ(r.n_gen, 500);
        double radii[600];
        ASSERT_OK(brisk_knn_radii(&real, k, radii));
        const cJSON *r3 = cJSON_GetObjectItem(e, "radius_real_first3");
        for (int i = 0; i < 3; i++) ASSERT_DOUBLE_LE(rel_err(radii[i], fix_arr(r3, i)), 1e-5);
    }
    brisk_array_free(&ra);
    brisk_array_free(&ga);
    cJSON_Delete(exp);
}

/* Against the naive reference with sets crossing the 256-row and 2048-column blocks. */
static void test_naive(void) {
    size_t nr = test_sanitized() ? 600 : 2200, ng = 300, d = 5, k = 3;
    double *xr = rand_set(31, 0, nr, d, 1.0, 0.0), *xg = rand_set(32, 0, ng, d, 1.2, 0.3);
    brisk_features fr = feats64(xr, nr, d, "real"), fg = feats64(xg, ng, d, "gen");
    double *r2r = malloc(nr * sizeof *r2r), *r2g = malloc(ng * sizeof *r2g), *rad = malloc(nr * sizeof *rad);
    naive_radii2(xr, nr, d, k, r2r);
    naive_radii2(xg, ng, d, k, r2g);
    ASSERT_OK(brisk_knn_radii(&fr, k, rad));
    double worst = 0;
    for (size_t i = 0; i < nr; i++) worst = fmax(worst, rel_err(rad[i], sqrt(r2r[i])));
    printf("k-NN radii vs naive (%zu points): max rel err %.3g\n", nr, worst);
    ASSERT_DOUBLE_LE(worst, 1e-5);
    brisk_pr_result r;
    ASSERT_OK(brisk_precision_recall(&fr, &fg, k, &r));
    size_t want_p = naive_inside(xg, ng, xr, nr, d, r2r), want_r = naive_inside(xr, nr, xg, ng, d, r2g);
    printf("naive: %zu/%zu gen in real, %zu/%zu real in gen; brisk %zu, %zu\n", want_p, ng, want_r, nr,
           r.n_gen_in_real, r.n_real_in_gen);
    ASSERT_EQ(r.n_gen_in_real, want_p);
    ASSERT_EQ(r.n_real_in_gen, want_r);
    /* per-sample flags agree with the count */
    unsigned char *in = malloc(ng);
    size_t cnt, sum = 0;
    ASSERT_OK(brisk_manifold_count(&fg, &fr, rad, &cnt, in));
    for (size_t i = 0; i < ng; i++) sum += in[i];
    ASSERT_EQ(cnt, want_p);
    ASSERT_EQ(sum, cnt);
    /* one thread or three: the same radii and counts */
    int saved = brisk_get_num_threads();
    double *rad1 = malloc(nr * sizeof *rad1);
    brisk_pr_result r1;
    brisk_set_num_threads(1);
    ASSERT_OK(brisk_knn_radii(&fr, k, rad1));
    brisk_set_num_threads(3);
    ASSERT_OK(brisk_precision_recall(&fr, &fg, k, &r1));
    brisk_set_num_threads(saved);
    ASSERT_EQ(memcmp(rad1, rad, nr * sizeof *rad), 0);
    ASSERT_EQ(r1.n_gen_in_real, r.n_gen_in_real);
    ASSERT_EQ(r1.n_real_in_gen, r.n_real_in_gen);
    free(rad1);
    free(in);
    free(xr);
    free(xg);
    free(r2r);
    free(r2g);
    free(rad);
}

static void test_limits(void) {
    size_t n = 200, d = 6;
    double *x = rand_set(41, 0, n, d, 1.0, 0.0), *far = rand_set(42, 0, n, d, 1.0, 100.0);
    brisk_features fx = feats64(x, n, d, "x"), ff = feats64(far, n, d, "far");
    brisk_pr_result r;
    ASSERT_OK(brisk_precision_recall(&fx, &fx, 3, &r)); /* a set against itself: all inside */
    ASSERT_NEAR(r.precision, 1.0, 0);
    ASSERT_NEAR(r.recall, 1.0, 0);
    ASSERT_OK(brisk_precision_recall(&fx, &ff, 3, &r)); /* disjoint sets: none */
    ASSERT_NEAR(r.precision, 0.0, 0);
    ASSERT_NEAR(r.recall, 0.0, 0);
    /* a narrow generator (mode collapse): high precision, low recall */
    double *narrow = rand_set(43, 0, n, d, 0.2, 0.0);
    brisk_features fn = feats64(narrow, n, d, "narrow");
    ASSERT_OK(brisk_precision_recall(&fx, &fn, 3, &r));
    printf("mode collapse: precision %.3f recall %.3f\n", r.precision, r.recall);
    ASSERT_TRUE(r.precision > 0.9 && r.recall < 0.5);
    /* translation invariance, with an offset 1e3 times the spread: centring keeps the
     * float32 distance formula accurate */
    double *y = rand_set(44, 0, n, d, 1.0, 0.3);
    brisk_features fy = feats64(y, n, d, "y");
    brisk_pr_result a, b;
    ASSERT_OK(brisk_precision_recall(&fx, &fy, 3, &a));
    for (size_t i = 0; i < n * d; i++) {
        x[i] += 1000.0;
        y[i] += 1000.0;
    }
    ASSERT_OK(brisk_precision_recall(&fx, &fy, 3, &b));
    ASSERT_EQ(a.n_gen_in_real, b.n_gen_in_real);
    ASSERT_EQ(a.n_real_in_gen, b.n_real_in_gen);
    free(x);
    free(y);
    free(far);
    free(narrow);
}

static void test_bad_input(void) {
    double x[60];
    for (int i = 0; i < 60; i++) x[i] = sin(i * 1.3);
    brisk_features a = feats64(x, 3, 4, "real.npy"), b = feats64(x, 10, 4, "gen.npy");
    brisk_pr_result r;
    ASSERT_STATUS(brisk_precision_recall(&a, &b, 3, &r), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "real.npy: the k-NN radius with k = 3 needs at least 4 samples, got 3");
    a.n = 4;
    ASSERT_OK(brisk_precision_recall(&a, &b, 3, &r));
    ASSERT_STATUS(brisk_precision_recall(&a, &b, 0, &r), BRISK_EINVAL);
    b = feats64(x, 10, 6, "gen.npy");
    ASSERT_STATUS(brisk_precision_recall(&a, &b, 3, &r), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "real.npy has 4, gen.npy has 6");
    b = feats64(x, 0, 4, "gen.npy");
    ASSERT_STATUS(brisk_precision_recall(&a, &b, 3, &r), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "gen.npy: empty");
    double rad[4] = {1, 1, -1, 1};
    size_t cnt;
    ASSERT_STATUS(brisk_manifold_count(&a, &a, rad, &cnt, NULL), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "radius 2");
}

static void test_out_of_memory(void) {
    double *x = rand_set(5, 0, 40, 3, 1.0, 0.0), *y = rand_set(6, 0, 30, 3, 1.0, 0.5);
    brisk_features fx = feats64(x, 40, 3, "x"), fy = feats64(y, 30, 3, "y");
    brisk_pr_result want, r;
    ASSERT_OK(brisk_precision_recall(&fx, &fy, 3, &want));
    int failures = 0;
    for (long k = 0;; k++) {
        brisk_alloc_fail_after(k);
        int rc = brisk_precision_recall(&fx, &fy, 3, &r);
        brisk_alloc_fail_after(-1);
        if (rc == 0) break;
        ASSERT_EQ(rc, BRISK_ENOMEM);
        failures++;
    }
    ASSERT_TRUE(failures >= 10);
    ASSERT_EQ(r.n_gen_in_real, want.n_gen_in_real);
    free(x);
    free(y);
}

int main(void) {
    test_against_numpy();
    test_naive();
    test_limits();
    test_bad_input();
    test_out_of_memory();
    TEST_DONE();
}
