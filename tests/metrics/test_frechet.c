/* Fréchet distance and Gaussian statistics: against numpy/scipy (pytorch-fid's recipe)
 * on the shipped fixtures, closed forms, the stats file format, and bad input. */
#include "brisk_test.h"
#include "metrics/fixtures.h"
#include "metrics/metrics_impl.h"

#include <string.h>
#include <unistd.h>

static char tmpdir[256];

/* Statistics straight from values (no samples). */
static brisk_gauss_stats make_stats(size_t d, const double *mu, const double *sigma, const char *name) {
    brisk_gauss_stats s = {0};
    s.dim = d;
    s.mu = brisk_malloc(d * sizeof(double));
    s.sigma = brisk_malloc(d * d * sizeof(double));
    memcpy(s.mu, mu, d * sizeof(double));
    memcpy(s.sigma, sigma, d * d * sizeof(double));
    snprintf(s.name, sizeof s.name, "%s", name);
    return s;
}

/* Tolerances against numpy/scipy (float64 statistics of the same float32 features):
 * statistics 1e-12 relative to max|sigma|; FD 1e-9 relative (scipy's sqrtm and brisk's
 * eigendecompositions differ in rounding only; the observed gap is printed). */
static void test_against_numpy(void) {
    cJSON *exp = fix_expected();
    brisk_array ra, ga;
    brisk_features real, gen;
    fix_load("real.npy", &ra, &real);
    fix_load("gen.npy", &ga, &gen);
    ASSERT_EQ(real.n, 600);
    ASSERT_EQ(gen.n, 500);
    ASSERT_EQ(real.dim, 32);

    brisk_gauss_stats sr, sg, sn;
    ASSERT_OK(brisk_gauss_stats_compute(&real, &sr));
    ASSERT_OK(brisk_gauss_stats_compute(&gen, &sg));
    ASSERT_EQ(sr.n, 600);
    ASSERT_OK(brisk_gauss_stats_load(FIX_DIR "real_stats", &sn)); /* numpy's np.mean / np.cov */
    ASSERT_EQ(sn.dim, 32);
    ASSERT_EQ(sn.n, 0); /* no stats.json: written by numpy */
    double smax = 0, emu = 0, esig = 0;
    for (size_t i = 0; i < 32 * 32; i++) smax = fmax(smax, fabs(sn.sigma[i]));
    for (size_t i = 0; i < 32; i++) emu = fmax(emu, fabs(sr.mu[i] - sn.mu[i]));
    for (size_t i = 0; i < 32 * 32; i++) esig = fmax(esig, fabs(sr.sigma[i] - sn.sigma[i]));
    printf("stats vs numpy: max |mu err| %.3g, max |sigma err| %.3g (max |sigma| %.3g)\n", emu, esig, smax);
    ASSERT_DOUBLE_LE(emu, 1e-12 * smax);
    ASSERT_DOUBLE_LE(esig, 1e-12 * smax);
    const cJSON *m4 = cJSON_GetObjectItem(exp, "mu_real_first");
    for (int i = 0; i < 4; i++) ASSERT_NEAR(sr.mu[i], fix_arr(m4, i), 1e-12);
    const cJSON *s3 = cJSON_GetObjectItem(exp, "sigma_real_00_01_3131");
    ASSERT_NEAR(sr.sigma[0], fix_arr(s3, 0), 1e-12);
    ASSERT_NEAR(sr.sigma[1], fix_arr(s3, 1), 1e-12);
    ASSERT_NEAR(sr.sigma[31 * 32 + 31], fix_arr(s3, 2), 1e-12);

    double fd, fd2, want = fix_num(exp, "fd", NULL);
    brisk_fd_terms t;
    ASSERT_OK(brisk_frechet_distance(&sr, &sg, &fd, &t));
    printf("FD brisk %.15g  scipy (pytorch-fid recipe) %.15g  rel err %.3g; numpy eigh %.15g\n", fd, want,
           rel_err(fd, want), fix_num(exp, "fd_eigh_numpy", NULL));
    ASSERT_DOUBLE_LE(rel_err(fd, want), 1e-9);
    ASSERT_DOUBLE_LE(rel_err(fd, fix_num(exp, "fd_eigh_numpy", NULL)), 1e-9);
    ASSERT_DOUBLE_LE(rel_err(t.mean_term, fix_num(exp, "fd_terms", "mean_term")), 1e-12);
    ASSERT_DOUBLE_LE(rel_err(t.trace1, fix_num(exp, "fd_terms", "trace1")), 1e-12);
    ASSERT_DOUBLE_LE(rel_err(t.trace2, fix_num(exp, "fd_terms", "trace2")), 1e-12);
    ASSERT_DOUBLE_LE(rel_err(t.trace_sqrt, fix_num(exp, "fd_terms", "trace_sqrt")), 1e-11);
    ASSERT_EQ(t.n_clipped, 0);
    /* pytorch-fid's float32 mean differs from the float64 one by far less than FD's
     * sampling noise: documented, not a bug. */
    ASSERT_DOUBLE_LE(rel_err(fd, fix_num(exp, "fd_pytorch_fid_f32_mean", NULL)), 1e-4);

    /* the numpy-written statistics give the same FD */
    ASSERT_OK(brisk_frechet_distance(&sn, &sg, &fd2, NULL));
    ASSERT_DOUBLE_LE(rel_err(fd2, want), 1e-9);
    /* the convenience wrapper, and symmetry */
    ASSERT_OK(brisk_frechet_distance_features(&real, &gen, &fd2));
    ASSERT_NEAR(fd2, fd, 1e-12 * fd);
    ASSERT_OK(brisk_frechet_distance(&sg, &sr, &fd2, NULL));
    ASSERT_DOUBLE_LE(rel_err(fd2, fd), 1e-10);

    /* a set with itself: zero up to rounding (scipy's sqrtm gives 7e-13 here) */
    ASSERT_OK(brisk_frechet_distance(&sr, &sr, &fd2, &t));
    printf("FD(real, real) = %.3g (tr S = %.4g; scipy %.3g)\n", fd2, t.trace1, fix_num(exp, "fd_self_scipy", NULL));
    ASSERT_DOUBLE_LE(fabs(fd2), 1e-11 * t.trace1);

    /* rank-deficient covariance (20 samples in 32 dims): clipped eigenvalues, same as
     * numpy's eigh-with-clipping. The zero eigenvalues come out as +-1e-16 lambda_max; the
     * positive ones add sqrt(1e-16 lambda_max) each to the trace term, differently in
     * LAPACK builds, hence a sqrt(eps)-level tolerance: 1e-6 relative. */
    brisk_features few = real;
    few.n = 20;
    few.name = "first 20 rows";
    brisk_gauss_stats sf;
    ASSERT_OK(brisk_gauss_stats_compute(&few, &sf));
    ASSERT_OK(brisk_frechet_distance(&sf, &sg, &fd2, &t));
    printf("rank-deficient FD %.15g vs numpy %.15g, %d eigenvalues clipped (min %.3g)\n", fd2,
           fix_num(exp, "fd_rank_deficient_first20_vs_gen_eigh", NULL), t.n_clipped, t.min_eig);
    ASSERT_DOUBLE_LE(rel_err(fd2, fix_num(exp, "fd_rank_deficient_first20_vs_gen_eigh", NULL)), 1e-6);
    ASSERT_TRUE(t.n_clipped > 0);
    ASSERT_TRUE(t.min_eig < 0 && t.min_eig > -1e-12);

    brisk_gauss_stats_free(&sf);
    brisk_gauss_stats_free(&sr);
    brisk_gauss_stats_free(&sg);
    brisk_gauss_stats_free(&sn);
    brisk_array_free(&ra);
    brisk_array_free(&ga);
    cJSON_Delete(exp);
}

/* Closed forms. Commuting covariances S1 = Q diag(a) Q^T, S2 = Q diag(b) Q^T:
 * FD = |mu1 - mu2|^2 + sum (sqrt a_i - sqrt b_i)^2. 2x2 non-commuting: the eigenvalues
 * l1, l2 of S1 S2 are positive, so tr sqrt(S1 S2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)).
 * Scaled copy: FD(N(mu, S), N(mu, c^2 S)) = (1 - c)^2 tr S. */
static void test_closed_forms(void) {
    enum { D = 12 };
    double r[D * D], q[D * D], w[D], a[D], b[D], mu1[D], mu2[D], s1[D * D], s2[D * D];
    double *rs = rand_set(5, 0, D, D, 1.0, 0.0);
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) r[i * D + j] = rs[i * D + j] + rs[j * D + i];
    free(rs);
    memcpy(q, r, sizeof r);
    ASSERT_OK(metrics_eigh(q, D, w, 1, "test"));  /* rows of q: an orthonormal basis */
    double want = 0;
    for (int i = 0; i < D; i++) {
        a[i] = 0.1 + i * 0.37;
        b[i] = 2.5 / (1.0 + i);
        mu1[i] = 0.1 * i;
        mu2[i] = -0.05 * i * i;
        want += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]) + (sqrt(a[i]) - sqrt(b[i])) * (sqrt(a[i]) - sqrt(b[i]));
    }
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) {
            double x = 0, y = 0;
            for (int k = 0; k < D; k++) {
                x += q[k * D + i] * a[k] * q[k * D + j];
                y += q[k * D + i] * b[k] * q[k * D + j];
            }
            s1[i * D + j] = x;
            s2[i * D + j] = y;
        }
    brisk_gauss_stats g1 = make_stats(D, mu1, s1, "g1"), g2 = make_stats(D, mu2, s2, "g2");
    double fd;
    ASSERT_OK(brisk_frechet_distance(&g1, &g2, &fd, NULL));
    printf("commuting closed form: %.15g vs %.15g\n", fd, want);
    ASSERT_DOUBLE_LE(rel_err(fd, want), 1e-11);

    /* scaled copy */
    double c = 1.7, trs = 0;
    for (int i = 0; i < D * D; i++) s2[i] = c * c * s1[i];
    for (int i = 0; i < D; i++) trs += s1[i * D + i];
    brisk_gauss_stats g3 = make_stats(D, mu1, s2, "g3");
    ASSERT_OK(brisk_frechet_distance(&g1, &g3, &fd, NULL));
    ASSERT_DOUBLE_LE(rel_err(fd, (1 - c) * (1 - c) * trs), 1e-11);
    brisk_gauss_stats_free(&g1);
    brisk_gauss_stats_free(&g2);
    brisk_gauss_stats_free(&g3);

    /* 2x2, non-commuting */
    double m0[2] = {1, 2}, m1[2] = {0.5, -1};
    double p1[4] = {2.0, 0.7, 0.7, 1.0}, p2[4] = {0.5, -0.3, -0.3, 3.0};
    double tr12 = p1[0] * p2[0] + p1[1] * p2[2] + p1[2] * p2[1] + p1[3] * p2[3];
    double det1 = p1[0] * p1[3] - p1[1] * p1[2], det2 = p2[0] * p2[3] - p2[1] * p2[2];
    double trsq = sqrt(tr12 + 2 * sqrt(det1 * det2));
    want = 0.25 + 9 + 3.0 + 3.5 - 2 * trsq;
    brisk_gauss_stats h1 = make_stats(2, m0, p1, "h1"), h2 = make_stats(2, m1, p2, "h2");
    brisk_fd_terms t;
    ASSERT_OK(brisk_frechet_distance(&h1, &h2, &fd, &t));
    printf("2x2 non-commuting closed form: %.15g vs %.15g\n", fd, want);
    ASSERT_DOUBLE_LE(rel_err(t.trace_sqrt, trsq), 1e-13);
    ASSERT_DOUBLE_LE(rel_err(fd, want), 1e-13);
    brisk_gauss_stats_free(&h1);
    brisk_gauss_stats_free(&h2);

    /* from samples: two Gaussians N(0, I) and N(1, 4 I) in d = 4, 40000 samples each,
     * FD -> d (mean) + d (1 - 2)^2 = 8; the sampling standard deviation is about 0.06
     * (0.13 with the 8000 samples of sanitized runs) */
    size_t n = test_sanitized() ? 8000 : 40000;
    double *x = rand_set(11, 0, n, 4, 1.0, 0.0), *y = rand_set(12, 0, n, 4, 2.0, 1.0);
    brisk_features fx = feats64(x, n, 4, "x"), fy = feats64(y, n, 4, "y");
    ASSERT_OK(brisk_frechet_distance_features(&fx, &fy, &fd));
    printf("FD(N(0,I), N(1,4I)) from %zu samples: %.4f (exact 8)\n", n, fd);
    ASSERT_NEAR(fd, 8.0, test_sanitized() ? 0.5 : 0.25);
    free(x);
    free(y);
}

static void test_save_load(void) {
    brisk_array ra;
    brisk_features real;
    fix_load("real.npy", &ra, &real);
    brisk_gauss_stats s, l;
    ASSERT_OK(brisk_gauss_stats_compute(&real, &s));
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/stats/nested", tmpdir);
    ASSERT_OK(brisk_gauss_stats_save(dir, &s, "fixture real.npy"));
    ASSERT_OK(brisk_gauss_stats_load(dir, &l));
    ASSERT_EQ(l.dim, 32);
    ASSERT_EQ(l.n, 600);
    ASSERT_EQ(memcmp(l.mu, s.mu, 32 * sizeof(double)), 0);
    ASSERT_EQ(memcmp(l.sigma, s.sigma, 32 * 32 * sizeof(double)), 0);
    snprintf(path, sizeof path, "%s/stats.json", dir);
    cJSON *doc;
    ASSERT_OK(brisk_json_read_file(path, &doc));
    const char *fmt = NULL, *src = NULL;
    ASSERT_OK(brisk_json_get_string(doc, "format", NULL, &fmt, path));
    ASSERT_OK(brisk_json_get_string(doc, "source", NULL, &src, path));
    ASSERT_TRUE(fmt && !strcmp(fmt, "brisk-gauss-stats"));
    ASSERT_TRUE(src && !strcmp(src, "fixture real.npy"));
    cJSON_Delete(doc);

    /* damaged files */
    brisk_gauss_stats bad;
    size_t shp[2] = {31, 31};
    snprintf(path, sizeof path, "%s/sigma.npy", dir);
    ASSERT_OK(brisk_npy_write_f64(path, s.sigma, 2, shp));
    ASSERT_STATUS(brisk_gauss_stats_load(dir, &bad), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "sigma.npy");
    s.sigma[1] += 1.0; /* asymmetric */
    shp[0] = shp[1] = 32;
    ASSERT_OK(brisk_npy_write_f64(path, s.sigma, 2, shp));
    ASSERT_STATUS(brisk_gauss_stats_load(dir, &bad), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "not symmetric");
    s.sigma[1] -= 1.0;
    ASSERT_OK(brisk_npy_write_f64(path, s.sigma, 2, shp));
    snprintf(path, sizeof path, "%s/stats.json", dir);
    const char *js = "{\"format\": \"brisk-gauss-stats\", \"dim\": 16, \"n\": 5}";
    ASSERT_OK(brisk_write_file_atomic(path, js, strlen(js)));
    ASSERT_STATUS(brisk_gauss_stats_load(dir, &bad), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "stats.json");
    snprintf(dir, sizeof dir, "%s/does-not-exist", tmpdir);
    ASSERT_TRUE(brisk_gauss_stats_load(dir, &bad) < 0);
    ASSERT_STR_CONTAINS(brisk_last_error(), "does-not-exist/mu.npy");

    brisk_gauss_stats_free(&s);
    brisk_gauss_stats_free(&l);
    brisk_array_free(&ra);
}

static void test_bad_input(void) {
    char path[512];
    brisk_array a;
    brisk_features f;
    /* empty sample file */
    snprintf(path, sizeof path, "%s/empty.npy", tmpdir);
    size_t shp[2] = {0, 8};
    ASSERT_OK(brisk_npy_write_f32(path, NULL, 2, shp));
    ASSERT_STATUS(brisk_features_load(path, &a, &f), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "empty.npy: empty feature set (0 samples)");
    /* 1-D and integer arrays */
    float v[8] = {0};
    size_t s1 = 8;
    ASSERT_OK(brisk_npy_write_f32(path, v, 1, &s1));
    ASSERT_STATUS(brisk_features_load(path, &a, &f), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "2-D");
    brisk_array ia;
    size_t ishp[2] = {3, 2};
    ASSERT_OK(brisk_array_alloc(&ia, BRISK_I32, 2, ishp));
    ASSERT_STATUS(brisk_features_view(&ia, "labels.npy", &f), BRISK_EUNSUPPORTED);
    ASSERT_STR_CONTAINS(brisk_last_error(), "labels.npy");
    brisk_array_free(&ia);

    /* one sample: no covariance */
    double x[3 * 4] = {1, 2, 3, 4, 2, 3, 4, 5, 0, 1, 0, 1};
    brisk_features one = feats64(x, 1, 4, "gen.npy");
    brisk_gauss_stats s;
    ASSERT_STATUS(brisk_gauss_stats_compute(&one, &s), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "gen.npy: the covariance needs at least 2 samples, got 1");
    /* mismatched dimensions */
    brisk_features a4 = feats64(x, 3, 4, "real.npy"), b3 = feats64(x, 4, 3, "gen.npy");
    double fd;
    ASSERT_STATUS(brisk_frechet_distance_features(&a4, &b3, &fd), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "real.npy has 4, gen.npy has 3");
    brisk_gauss_stats sa, sb;
    ASSERT_OK(brisk_gauss_stats_compute(&a4, &sa));
    ASSERT_OK(brisk_gauss_stats_compute(&b3, &sb));
    ASSERT_STATUS(brisk_frechet_distance(&sa, &sb, &fd, NULL), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "real.npy has 4, gen.npy has 3");
    brisk_gauss_stats_free(&sa);
    brisk_gauss_stats_free(&sb);
    /* a "covariance" with a negative eigenvalue, as either argument */
    double mu2[2] = {0, 0}, neg[4] = {1.0, 2.0, 2.0, 1.0}, id[4] = {1, 0, 0, 1}; /* eigenvalues 3, -1 */
    brisk_gauss_stats sn = make_stats(2, mu2, neg, "bad_stats"), si = make_stats(2, mu2, id, "identity");
    ASSERT_STATUS(brisk_frechet_distance(&sn, &si, &fd, NULL), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "bad_stats: covariance is not positive semi-definite");
    ASSERT_STATUS(brisk_frechet_distance(&si, &sn, &fd, NULL), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "bad_stats: covariance is not positive semi-definite");
    brisk_gauss_stats_free(&sn);
    brisk_gauss_stats_free(&si);
    /* non-finite */
    x[6] = NAN;
    ASSERT_STATUS(brisk_gauss_stats_compute(&a4, &s), BRISK_ENUMERIC);
    ASSERT_STR_CONTAINS(brisk_last_error(), "real.npy: non-finite value at row 1, column 2");
}

/* Every allocation failure is reported as BRISK_ENOMEM and leaks nothing (ASan). */
static void test_out_of_memory(void) {
    double *x = rand_set(3, 0, 300, 5, 1.0, 0.0), *y = rand_set(4, 0, 200, 5, 1.0, 0.5);
    brisk_features fx = feats64(x, 300, 5, "x"), fy = feats64(y, 200, 5, "y");
    double want, fd;
    ASSERT_OK(brisk_frechet_distance_features(&fx, &fy, &want));
    int failures = 0, rc;
    for (long k = 0;; k++) {
        brisk_alloc_fail_after(k);
        rc = brisk_frechet_distance_features(&fx, &fy, &fd);
        brisk_alloc_fail_after(-1);
        if (rc == 0) break;
        ASSERT_EQ(rc, BRISK_ENOMEM);
        failures++;
    }
    ASSERT_TRUE(failures >= 6);
    ASSERT_NEAR(fd, want, 0);
    free(x);
    free(y);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/brisk_test_frechet_%d", (int)getpid());
    brisk_mkdir_p(tmpdir);
    test_against_numpy();
    test_closed_forms();
    test_save_load();
    test_bad_input();
    test_out_of_memory();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
    TEST_DONE();
}
