/* Empirical denoiser: the blocked BLAS posterior mean vs a naive O(N D) double loop over
 * plain distances, for several alpha-bars, block sizes and both precisions; the
 * prediction forms; memorisation on Fashion-MNIST (SKIP when the dataset is absent). */
#include "brisk/core.h"
#include "brisk/denoiser.h"
#include "brisk/io.h"
#include "brisk/rng.h"
#include "brisk_test.h"

#include <sys/stat.h>

#define N 300
#define D 20
#define B 5

static float Y[N * D];

/* w_i = softmax(-||x - sqrt(a) y_i||^2 / (2 (1-a))), distances formed directly. */
static void naive_x0(const double *x, double a, double *x0) {
    double l[N], m = -INFINITY;
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int j = 0; j < D; j++) {
            double d = x[j] - sqrt(a) * Y[i * D + j];
            s += d * d;
        }
        l[i] = -s / (2 * (1 - a));
        if (l[i] > m) m = l[i];
    }
    double tot = 0;
    for (int j = 0; j < D; j++) x0[j] = 0;
    for (int i = 0; i < N; i++) {
        double w = exp(l[i] - m);
        tot += w;
        for (int j = 0; j < D; j++) x0[j] += w * Y[i * D + j];
    }
    for (int j = 0; j < D; j++) x0[j] /= tot;
}

static void test_vs_naive(void) {
    double z[N * D];
    brisk_randn(11, 0, 0, N * D, z);
    for (int i = 0; i < N * D; i++) Y[i] = (float)(0.5 * z[i] + (i % D) * 0.05);
    /* x near the data (so late alphas have several competing points) */
    double x[B * D], x0[B * D], want[D];
    const double alphas[] = {0.0, 0.02, 0.3, 0.7, 0.95, 0.9999};
    const size_t blocks[] = {4096, 64, 7};
    for (int prec = 0; prec < 2; prec++)
        for (int ib = 0; ib < 3; ib++) {
            brisk_empirical_options o;
            brisk_empirical_options_default(&o);
            o.f64 = prec;
            o.block_points = blocks[ib];
            brisk_denoiser *d;
            ASSERT_OK(brisk_denoiser_create_empirical(Y, N, D, 0, 0, 0, BRISK_PRED_SAMPLE, &o, &d));
            double worst = 0;
            for (int ia = 0; ia < 6; ia++) {
                double a = alphas[ia];
                double n1[B * D];
                brisk_randn(12, (uint64_t)ia, 0, B * D, n1);
                for (int b = 0; b < B; b++)
                    for (int j = 0; j < D; j++)
                        x[b * D + j] = sqrt(a) * Y[(7 * b + 3) * D + j] + sqrt(1 - a) * n1[b * D + j];
                ASSERT_OK(brisk_denoiser_predict(d, x, B, 0, a, x0));
                for (int b = 0; b < B; b++) {
                    naive_x0(x + b * D, a, want);
                    for (int j = 0; j < D; j++) {
                        double e = fabs(x0[b * D + j] - want[j]);
                        if (e > worst) worst = e;
                        /* f32: GEMM operands rounded to float; logits scale with 1/(1-a) */
                        double tol = prec ? 1e-11 : 2e-4 * (1 + 1e-3 / (1 - a));
                        ASSERT_NEAR(x0[b * D + j], want[j], tol);
                    }
                }
            }
            printf("empirical %s block %4zu vs naive: max err %.3g\n", prec ? "f64" : "f32", blocks[ib], worst);
            brisk_denoiser_free(d);
        }
}

static void test_forms_and_errors(void) {
    brisk_denoiser *de, *dv, *dx;
    ASSERT_OK(brisk_denoiser_create_empirical(Y, N, D, 0, 0, 0, BRISK_PRED_EPSILON, NULL, &de));
    ASSERT_OK(brisk_denoiser_create_empirical(Y, N, D, 0, 0, 0, BRISK_PRED_V, NULL, &dv));
    ASSERT_OK(brisk_denoiser_create_empirical(Y, N, D, 0, 0, 0, BRISK_PRED_SAMPLE, NULL, &dx));
    double x[B * D], e[B * D], v[B * D], x0[B * D];
    brisk_randn(13, 0, 0, B * D, x);
    double a = 0.6;
    ASSERT_OK(brisk_denoiser_predict(de, x, B, 0, a, e));
    ASSERT_OK(brisk_denoiser_predict(dv, x, B, 0, a, v));
    ASSERT_OK(brisk_denoiser_predict(dx, x, B, 0, a, x0));
    for (int i = 0; i < B * D; i++) {
        ASSERT_NEAR(sqrt(a) * x0[i] + sqrt(1 - a) * e[i], x[i], 1e-12);
        ASSERT_NEAR(sqrt(a) * v[i] + sqrt(1 - a) * x[i], e[i], 1e-12);
    }
    /* a = 0: every point equally likely, x0 = the data mean */
    ASSERT_OK(brisk_denoiser_predict(dx, x, 1, 999, 0.0, x0));
    for (int j = 0; j < D; j++) {
        double m = 0;
        for (int i = 0; i < N; i++) m += Y[i * D + j];
        ASSERT_NEAR(x0[j], m / N, 1e-12);
    }
    /* batch 1 after batch 5 (workspace reuse), and a bigger batch after that */
    double big[40 * D], bo[40 * D];
    brisk_randn(14, 0, 0, 40 * D, big);
    ASSERT_OK(brisk_denoiser_predict(dx, big, 40, 0, 0.5, bo));
    double one[D];
    ASSERT_OK(brisk_denoiser_predict(dx, big + 39 * D, 1, 0, 0.5, one));
    for (int j = 0; j < D; j++) ASSERT_NEAR(one[j], bo[39 * D + j], 1e-12);

    ASSERT_STATUS(brisk_denoiser_predict(dx, x, B, 3, 1.0, x0), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "alpha_bar");
    x[7] = NAN;
    ASSERT_STATUS(brisk_denoiser_predict(dx, x, B, 3, 0.5, x0), BRISK_ENUMERIC);
    ASSERT_STR_CONTAINS(brisk_last_error(), "t=3");
    brisk_denoiser_free(de);
    brisk_denoiser_free(dv);
    brisk_denoiser_free(dx);

    brisk_denoiser *d;
    ASSERT_STATUS(brisk_denoiser_create_empirical(Y, N, D, 1, 4, 4, BRISK_PRED_SAMPLE, NULL, &d), BRISK_ESHAPE);
    ASSERT_STATUS(brisk_denoiser_create_empirical(Y, 0, D, 0, 0, 0, BRISK_PRED_SAMPLE, NULL, &d), BRISK_EINVAL);
    /* allocation failures: creation and the first call's workspace */
    for (long k = 0; k < 10; k++) {
        brisk_alloc_fail_after(k);
        int rc = brisk_denoiser_create_empirical(Y, N, D, 0, 0, 0, BRISK_PRED_EPSILON, NULL, &d);
        if (!rc) {
            rc = brisk_denoiser_predict(d, x + D, 1, 0, 0.5, x0);
            brisk_alloc_fail_after(-1);
            if (rc) ASSERT_EQ(rc, BRISK_ENOMEM);
            brisk_denoiser_free(d);
        } else {
            brisk_alloc_fail_after(-1);
            ASSERT_EQ(rc, BRISK_ENOMEM);
        }
    }
}

/* Fashion-MNIST: image shape, and memorisation: near the data end the posterior mean of
 * a slightly noised training image is that image. */
static void test_fashion_mnist(void) {
    struct stat st;
    const char *dir = getenv("BRISK_FASHION_MNIST");
    char p[512];
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", dir && *dir ? dir : BRISK_FMNIST_DIR);
    if (stat(p, &st) != 0) {
        printf("SKIP fashion-mnist checks: %s not found\n", p);
        return;
    }
    size_t n = test_sanitized() ? 300 : 3000;
    char spec[128];
    snprintf(spec, sizeof spec, "empirical:fashion-mnist,n=%zu,block=1000", n);
    brisk_denoiser *d;
    ASSERT_OK(brisk_denoiser_from_spec(spec, BRISK_PRED_SAMPLE, &d));
    if (!d) return;
    ASSERT_EQ(d->dim, 1024);
    ASSERT_EQ(d->c, 1);
    ASSERT_EQ(d->h, 32);
    ASSERT_EQ(d->w, 32);
    brisk_dataset ds;
    ASSERT_OK(brisk_fmnist_load(NULL, BRISK_SPLIT_TRAIN, 1, n, &ds));
    double x[2 * 1024], x0[2 * 1024], z[2 * 1024];
    brisk_randn(15, 0, 0, 2 * 1024, z);
    double a = 0.999;
    size_t idx[2] = {5, n - 1};
    for (int b = 0; b < 2; b++)
        for (int j = 0; j < 1024; j++)
            x[b * 1024 + j] = sqrt(a) * ds.images[idx[b] * 1024 + j] + sqrt(1 - a) * z[b * 1024 + j];
    ASSERT_OK(brisk_denoiser_predict(d, x, 2, 1, a, x0));
    double worst = 0;
    for (int b = 0; b < 2; b++)
        for (int j = 0; j < 1024; j++) {
            double e = fabs(x0[b * 1024 + j] - ds.images[idx[b] * 1024 + j]);
            if (e > worst) worst = e;
        }
    printf("fashion-mnist (n=%zu): posterior mean of a noised training image differs from it by %.3g\n",
           n, worst);
    ASSERT_DOUBLE_LE(worst, 1e-6);
    brisk_dataset_free(&ds);
    brisk_denoiser_free(d);
}

int main(void) {
    test_vs_naive();
    test_forms_and_errors();
    test_fashion_mnist();
    TEST_DONE();
}
