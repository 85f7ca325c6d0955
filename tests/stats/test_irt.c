/* IRT: joint MAP against scipy.optimize (L-BFGS on the same log posterior), optimality by
 * finite differences of a naive log posterior, recovery of simulated parameters, masks,
 * thread-count independence, the held-out / p-IRT report, and bad input. */
#include "brisk/rng.h"
#include "brisk/stats.h"
#include "brisk_test.h"
#include "expected.h"

/* naive log posterior, straight from the definition */
static double naive_post(const double *x, size_t M, size_t N, const double *th, const double *a,
                         const double *b, const brisk_irt_params *p) {
    double s = 0;
    for (size_t j = 0; j < M; j++)
        for (size_t i = 0; i < N; i++) {
            double z = a[i] * th[j] - b[i];
            double lp = -log1p(exp(-z)), lq = -log1p(exp(z));
            s += x[j * N + i] * lp + (1 - x[j * N + i]) * lq;
        }
    for (size_t j = 0; j < M; j++) s -= 0.5 * th[j] * th[j] / (p->prior_theta_sd * p->prior_theta_sd);
    for (size_t i = 0; i < N; i++) {
        s -= 0.5 * b[i] * b[i] / (p->prior_b_sd * p->prior_b_sd);
        if (p->model == BRISK_IRT_2PL)
            s -= 0.5 * (a[i] - p->prior_a_mean) * (a[i] - p->prior_a_mean) / (p->prior_a_sd * p->prior_a_sd);
    }
    return s;
}

static void sub_matrix(const brisk_matrix *m, size_t n, double *out) {
    for (size_t j = 0; j < m->n_models; j++)
        for (size_t i = 0; i < n; i++) out[j * n + i] = m->x[j * m->n_items + i];
}

static void test_against_scipy(void) {
    brisk_matrix m;
    ASSERT_OK(brisk_matrix_read_csv("tests/data/stats/chembench_subset.csv", NULL, &m));
    const size_t M = m.n_models, N = (size_t)jnum("irt/n_items");
    double *x = malloc(M * N * sizeof *x);
    sub_matrix(&m, N, x);
    const char *names[2] = {"1pl", "2pl"};
    for (int k = 0; k < 2; k++) {
        brisk_irt_params p;
        brisk_irt_params_default(&p);
        p.model = k ? BRISK_IRT_2PL : BRISK_IRT_1PL;
        brisk_irt_fit f;
        ASSERT_OK(brisk_irt_fit_matrix(x, NULL, M, N, &p, NULL, &f));
        ASSERT_TRUE(f.converged);
        char path[64];
        snprintf(path, sizeof path, "irt/%s/log_posterior", names[k]);
        double want = jnum(path);
        double mine = naive_post(x, M, N, f.theta, f.a, f.b, &p);
        ASSERT_NEAR(mine, f.log_post, 1e-8 * fabs(mine));
        /* a MAP at least as high as scipy's, and the same point */
        ASSERT_DOUBLE_LE(want - 1e-7, f.log_post);
        ASSERT_NEAR(f.log_post, want, 1e-6);
        double worst = 0;
        for (size_t j = 0; j < M; j++) {
            snprintf(path, sizeof path, "irt/%s/theta", names[k]);
            worst = fmax(worst, fabs(f.theta[j] - jnum_at(path, (int)j)));
        }
        for (size_t i = 0; i < N; i++) {
            snprintf(path, sizeof path, "irt/%s/b", names[k]);
            worst = fmax(worst, fabs(f.b[i] - jnum_at(path, (int)i)));
            snprintf(path, sizeof path, "irt/%s/a", names[k]);
            worst = fmax(worst, fabs(f.a[i] - jnum_at(path, (int)i)));
        }
        printf("IRT %s vs scipy L-BFGS MAP: log posterior %.10f vs %.10f, max |param diff| %.3g, "
               "%d Newton iterations\n", names[k], f.log_post, want, worst, f.iterations);
        ASSERT_DOUBLE_LE(worst, 1e-4);
        /* optimality: central finite differences of the naive log posterior vanish */
        double h = 1e-5, gmax = 0;
        for (size_t j = 0; j < M; j += 5) {
            double t0 = f.theta[j];
            f.theta[j] = t0 + h;
            double fp = naive_post(x, M, N, f.theta, f.a, f.b, &p);
            f.theta[j] = t0 - h;
            double fm = naive_post(x, M, N, f.theta, f.a, f.b, &p);
            f.theta[j] = t0;
            gmax = fmax(gmax, fabs(fp - fm) / (2 * h));
        }
        for (size_t i = 0; i < N; i += 7) {
            double b0 = f.b[i];
            f.b[i] = b0 + h;
            double fp = naive_post(x, M, N, f.theta, f.a, f.b, &p);
            f.b[i] = b0 - h;
            double fm = naive_post(x, M, N, f.theta, f.a, f.b, &p);
            f.b[i] = b0;
            gmax = fmax(gmax, fabs(fp - fm) / (2 * h));
            if (k) {
                double a0 = f.a[i];
                f.a[i] = a0 + h;
                fp = naive_post(x, M, N, f.theta, f.a, f.b, &p);
                f.a[i] = a0 - h;
                fm = naive_post(x, M, N, f.theta, f.a, f.b, &p);
                f.a[i] = a0;
                gmax = fmax(gmax, fabs(fp - fm) / (2 * h));
            }
        }
        ASSERT_DOUBLE_LE(gmax, 1e-4);
        /* thread count does not change the result */
        brisk_irt_fit g;
        brisk_set_num_threads(1);
        ASSERT_OK(brisk_irt_fit_matrix(x, NULL, M, N, &p, NULL, &g));
        brisk_set_num_threads(2);
        brisk_irt_fit g2;
        ASSERT_OK(brisk_irt_fit_matrix(x, NULL, M, N, &p, NULL, &g2));
        brisk_set_num_threads(0);
        ASSERT_EQ(memcmp(g.theta, g2.theta, M * sizeof(double)), 0);
        ASSERT_EQ(memcmp(g.b, g2.b, N * sizeof(double)), 0);
        ASSERT_EQ(memcmp(g.a, g2.a, N * sizeof(double)), 0);
        brisk_irt_fit_free(&g);
        brisk_irt_fit_free(&g2);
        /* a masked-out model is the same as a removed one (for the items) */
        uint8_t *mask = malloc(M * N);
        memset(mask, 1, M * N);
        memset(mask + 3 * N, 0, N);
        double *xr = malloc((M - 1) * N * sizeof *xr);
        for (size_t j = 0, r = 0; j < M; j++)
            if (j != 3) memcpy(xr + (r++) * N, x + j * N, N * sizeof *xr);
        brisk_irt_fit fm, fr;
        ASSERT_OK(brisk_irt_fit_matrix(x, mask, M, N, &p, NULL, &fm));
        ASSERT_OK(brisk_irt_fit_matrix(xr, NULL, M - 1, N, &p, NULL, &fr));
        double dm = 0;
        for (size_t i = 0; i < N; i++) dm = fmax(dm, fmax(fabs(fm.a[i] - fr.a[i]), fabs(fm.b[i] - fr.b[i])));
        ASSERT_DOUBLE_LE(dm, 1e-5);
        ASSERT_NEAR(fm.theta[3], 0.0, 1e-12); /* no data: the prior mode */
        brisk_irt_fit_free(&fm);
        brisk_irt_fit_free(&fr);
        free(mask);
        free(xr);
        brisk_irt_fit_free(&f);
    }
    free(x);
    brisk_matrix_free(&m);
}

static void test_recovery(void) {
    const size_t M = 30, N = test_sanitized() ? 150 : 400;
    double *x = malloc(M * N * sizeof *x), th[30], *b = malloc(N * sizeof *b), u;
    brisk_randn(1, 0, 0, M, th);
    brisk_randn(2, 0, 0, N, b);
    for (size_t j = 0; j < M; j++)
        for (size_t i = 0; i < N; i++) {
            brisk_randu(3, j * N + i, 0, 1, &u);
            x[j * N + i] = u < 1 / (1 + exp(-(th[j] - b[i])));
        }
    brisk_irt_params p;
    brisk_irt_params_default(&p);
    p.model = BRISK_IRT_1PL;
    brisk_irt_fit f;
    ASSERT_OK(brisk_irt_fit_matrix(x, NULL, M, N, &p, NULL, &f));
    double rt = brisk_stats_pearson(f.theta, th, M), rb = brisk_stats_pearson(f.b, b, N);
    printf("1PL recovery on simulated data: corr(theta) %.3f, corr(b) %.3f\n", rt, rb);
    ASSERT_TRUE(rt > 0.95);
    ASSERT_TRUE(rb > 0.85);
    brisk_irt_fit_free(&f);
    free(x);
    free(b);
}

static void test_report(void) {
    brisk_matrix m;
    ASSERT_OK(brisk_matrix_read_csv("tests/data/stats/chembench_subset.csv", NULL, &m));
    brisk_irt_report_params p;
    brisk_irt_report_params_default(&p);
    p.irt.model = BRISK_IRT_1PL;
    p.n_anchors = 50;
    brisk_irt_report r;
    ASSERT_OK(brisk_irt_report_run(&m, &p, &r));
    ASSERT_TRUE(r.n_heldout > 0.05 * m.n_models * m.n_items && r.n_heldout < 0.15 * m.n_models * m.n_items);
    ASSERT_TRUE(r.heldout_log_lik < 0 && r.heldout_log_lik > log(0.5) - 0.2);
    ASSERT_TRUE(r.heldout_accuracy > 0.5);
    ASSERT_EQ(r.n_anchors, 50);
    ASSERT_EQ(r.n_folds, 5);
    for (size_t j = 0; j < m.n_models; j++) {
        ASSERT_TRUE(r.models[j].pirt_estimate >= 0 && r.models[j].pirt_estimate <= 1);
        ASSERT_NEAR(r.models[j].observed_mean, brisk_stats_mean(m.x + j * m.n_items, m.n_items), 1e-15);
    }
    printf("chembench subset 1PL: held-out ll %.4f (baseline %.4f), p-IRT MAE %.4f (anchor mean %.4f)\n",
           r.heldout_log_lik, r.heldout_log_lik_baseline, r.pirt_mae, r.anchor_mae);
    cJSON *d = brisk_irt_report_to_json(&m, &r, &p);
    ASSERT_TRUE(cJSON_IsArray(cJSON_GetObjectItem(d, "abilities")));
    ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(d, "items")), m.n_items);
    cJSON_Delete(d);
    brisk_irt_report_free(&r);
    /* bad input */
    m.x[5] = 2.0;
    brisk_irt_fit f;
    ASSERT_STATUS(brisk_irt_fit_matrix(m.x, NULL, m.n_models, m.n_items, NULL, NULL, &f), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "[0, 1]");
    brisk_irt_model im;
    ASSERT_STATUS(brisk_irt_model_from_name("3pl", &im), BRISK_EINVAL);
    ASSERT_OK(brisk_irt_model_from_name("1pl", &im));
    ASSERT_EQ(im, BRISK_IRT_1PL);
    brisk_matrix_free(&m);
}

int main(void) {
    test_against_scipy();
    test_recovery();
    test_report();
    cJSON_Delete(expected_doc);
    TEST_DONE();
}
