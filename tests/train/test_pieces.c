/* EMA, gradient norms and clipping, data order, batches and DDPM training pairs. */
#include "brisk/core.h"
#include "brisk/diffusion.h"
#include "brisk/rng.h"
#include "brisk/train.h"
#include "brisk_test.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void test_ema(void) {
    float p[5] = {1, 2, 3, 4, 5}, q[5];
    brisk_ema e;
    ASSERT_OK(brisk_ema_init(&e, p, 5, 0.9, 1));
    /* warm-up: min(0.9, (1+k)/(10+k)) */
    ASSERT_NEAR(brisk_ema_decay_at(&e, 0), 0.1, 1e-15);
    ASSERT_NEAR(brisk_ema_decay_at(&e, 1), 2.0 / 11.0, 1e-15);
    ASSERT_NEAR(brisk_ema_decay_at(&e, 80), 0.9, 0);
    ASSERT_NEAR(brisk_ema_decay_at(&e, 100000), 0.9, 0);
    double ref[5];
    for (int i = 0; i < 5; i++) ref[i] = p[i];
    for (long k = 0; k < 30; k++) {
        for (int i = 0; i < 5; i++) q[i] = (float)(sin(k + i) * 3);
        brisk_ema_update(&e, q);
        double d = fmin(0.9, (1.0 + k) / (10.0 + k));
        for (int i = 0; i < 5; i++) ref[i] = d * ref[i] + (1 - d) * q[i];
    }
    ASSERT_EQ(e.updates, 30);
    double err = 0;
    for (int i = 0; i < 5; i++) err = fmax(err, fabs(e.shadow[i] - ref[i]));
    printf("ema: max err vs double %.3g\n", err);
    ASSERT_DOUBLE_LE(err, 1e-5);
    brisk_ema_free(&e);
    /* without warm-up the first update already uses the full decay */
    ASSERT_OK(brisk_ema_init(&e, p, 5, 0.5, 0));
    float z[5] = {0};
    brisk_ema_update(&e, z);
    ASSERT_NEAR(e.shadow[3], 2.0, 0);
    brisk_ema_free(&e);
    ASSERT_STATUS(brisk_ema_init(&e, p, 5, 1.0, 1), BRISK_EINVAL);
}

static void test_norms_clip(void) {
    size_t n = 50001;
    float *g = malloc(n * 4), *h = malloc(n * 4);
    double s2 = 0, s1 = 0;
    for (size_t i = 0; i < n; i++) {
        g[i] = (float)(sin(0.1 * i) * (i % 7 == 0 ? 10 : 1));
        s2 += (double)g[i] * g[i];
        s1 += fabs(g[i]);
    }
    double l2, l1, l2b, l1b;
    brisk_set_num_threads(1);
    brisk_grad_norms(g, n, &l2, &l1);
    brisk_set_num_threads(2);
    brisk_grad_norms(g, n, &l2b, &l1b);
    ASSERT_TRUE(l2 == l2b && l1 == l1b); /* bit-identical across thread counts */
    ASSERT_NEAR(l2, sqrt(s2), 1e-12 * sqrt(s2));
    ASSERT_NEAR(l1, s1, 1e-12 * s1);
    /* clip_grad_norm_: coef = max/(norm + 1e-6) when < 1 */
    memcpy(h, g, n * 4);
    double sc = brisk_clip_grad_norm(h, n, 1.0, l2);
    ASSERT_NEAR(sc, 1.0 / (l2 + 1e-6), 1e-6 / l2);
    double c2;
    brisk_grad_norms(h, n, &c2, NULL);
    ASSERT_NEAR(c2, 1.0, 1e-5);
    ASSERT_NEAR(h[7], g[7] * (float)sc, 0);
    memcpy(h, g, n * 4);
    ASSERT_NEAR(brisk_clip_grad_norm(h, n, 2 * l2, l2), 1.0, 0);
    ASSERT_TRUE(!memcmp(h, g, n * 4));
    g[3] = NAN;
    brisk_grad_norms(g, n, &l2, &l1);
    ASSERT_TRUE(isnan(l2) && isnan(l1));
    brisk_set_num_threads(0);
    free(g);
    free(h);
}

static int is_perm(const uint32_t *p, size_t n) {
    char *seen = calloc(n, 1);
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= n || seen[p[i]]) ok = 0;
        else seen[p[i]] = 1;
    }
    free(seen);
    return ok;
}

static void test_permutation(void) {
    uint32_t p[1000], q[1000], w[1000];
    brisk_train_permutation(7, 3, 1000, p, w);
    ASSERT_TRUE(is_perm(p, 1000));
    brisk_train_permutation(7, 3, 1000, q, w);
    ASSERT_TRUE(!memcmp(p, q, sizeof p));
    brisk_train_permutation(7, 4, 1000, q, w);
    ASSERT_TRUE(memcmp(p, q, sizeof p) != 0);
    brisk_train_permutation(8, 3, 1000, q, w);
    ASSERT_TRUE(memcmp(p, q, sizeof p) != 0);
    /* unbiased: the position of element 0 among 5 is uniform over 5000 epochs */
    int count[5] = {0};
    for (uint64_t e = 0; e < 5000; e++) {
        brisk_train_permutation(1, e, 5, p, w);
        for (int i = 0; i < 5; i++)
            if (p[i] == 0) count[i]++;
    }
    for (int i = 0; i < 5; i++) ASSERT_TRUE(count[i] > 880 && count[i] < 1120);
    brisk_train_permutation(1, 0, 1, p, w);
    ASSERT_EQ(p[0], 0);
}

static void test_batcher(void) {
    enum { N = 10, H = 2, W = 3 };
    float img[N * H * W];
    uint8_t lab[N];
    for (int k = 0; k < N; k++) {
        lab[k] = (uint8_t)(k % 10);
        for (int i = 0; i < H * W; i++) img[k * H * W + i] = (float)(100 * k + i % W);
    }
    brisk_dataset d = {.n = N, .c = 1, .h = H, .w = W, .images = img, .labels = lab,
                       .n_classes = 10};
    brisk_batcher b;
    ASSERT_OK(brisk_batcher_init(&b, &d, 4, 42, 0));
    float x[4 * H * W];
    uint8_t l[4];
    uint64_t g[4];
    /* 5 steps of 4 = 20 samples = exactly 2 epochs: each image twice, once per epoch */
    int seen[2][N] = {{0}};
    for (uint64_t s = 0; s < 5; s++) {
        brisk_batcher_fill(&b, s, x, l, g);
        for (int k = 0; k < 4; k++) {
            ASSERT_EQ(g[k], s * 4 + k);
            int idx = (int)(x[k * H * W] / 100);
            ASSERT_EQ(l[k], idx % 10);
            seen[g[k] / N][idx]++;
        }
    }
    for (int e = 0; e < 2; e++)
        for (int i = 0; i < N; i++) ASSERT_EQ(seen[e][i], 1);
    /* the order depends only on (seed, epoch): random access gives the same batch */
    float y[4 * H * W];
    brisk_batcher_fill(&b, 2, x, NULL, NULL);
    brisk_batcher b2;
    ASSERT_OK(brisk_batcher_init(&b2, &d, 4, 42, 0));
    brisk_batcher_fill(&b2, 2, y, NULL, NULL);
    ASSERT_TRUE(!memcmp(x, y, sizeof x));
    brisk_batcher_free(&b2);
    brisk_batcher_free(&b);
    /* flips: about half of the samples mirrored, deterministic */
    ASSERT_OK(brisk_batcher_init(&b, &d, 4, 42, 1));
    int flipped = 0, total = 0;
    for (uint64_t s = 0; s < 50; s++) {
        brisk_batcher_fill(&b, s, x, NULL, NULL);
        for (int k = 0; k < 4; k++) {
            float *im = x + k * H * W;
            int f = im[0] == im[W - 1] - (W - 1) ? 0 : 1;
            if (f) ASSERT_NEAR(im[0] - floorf(im[0] / 100) * 100, W - 1, 0);
            flipped += f;
            total++;
        }
    }
    printf("hflip: %d of %d flipped\n", flipped, total);
    ASSERT_TRUE(flipped > 60 && flipped < 140);
    brisk_batcher_free(&b);
}

static void test_ddpm(void) {
    double *ac;
    ASSERT_OK(brisk_train_alphas_cumprod("linear", 1e-4, 0.02, 1000, &ac));
    /* diffusers (float32): torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000), 0) from
     * PyTorch 1.13; float64 numpy differs by ~1e-7 relative. Tolerance: 1 float32 ulp. */
    ASSERT_NEAR(ac[0], 0.9998999834060669, 6e-8);
    ASSERT_NEAR(ac[499], 0.07858724147081375, 0.07858724147081375 * 1.2e-7);
    ASSERT_NEAR(ac[999], 4.0358307160204276e-05, 4.0358307160204276e-05 * 1.2e-7);
    ASSERT_NEAR(ac[999], 4.035829765375676e-05, 4.04e-05 * 1e-6); /* numpy float64 */
    double *ac2;
    ASSERT_OK(brisk_train_alphas_cumprod("scaled_linear", 0.00085, 0.012, 1000, &ac2));
    ASSERT_NEAR(ac2[999], 0.0046600960195064545, 0.0046600960195064545 * 3e-7); /* 2 ulps */
    brisk_free(ac2);
    ASSERT_OK(brisk_train_alphas_cumprod("squaredcos_cap_v2", 0, 0, 1000, &ac2));
    ASSERT_NEAR(ac2[500], 0.4922850430011749, 0.4922850430011749 * 1.2e-7);
    ASSERT_NEAR(ac2[999], 2.4287349909002387e-09, 2.4287349909002387e-09 * 1.2e-7);
    brisk_free(ac2);
    /* the same table the samplers use */
    brisk_scheduler_config sc;
    brisk_scheduler_config_default(&sc, BRISK_SAMPLER_DDPM);
    brisk_noise_schedule ns;
    ASSERT_OK(brisk_noise_schedule_init(&ns, &sc));
    ASSERT_TRUE(!memcmp(ns.alphas_cumprod, ac, 1000 * sizeof(double)));
    brisk_noise_schedule_free(&ns);
    ASSERT_STATUS(brisk_train_alphas_cumprod("sigmoid", 1e-4, 0.02, 1000, &ac2),
                  BRISK_EUNSUPPORTED);

    enum { DIM = 37 };
    float x0[3 * DIM], xt[3 * DIM], eps[3 * DIM], t[3];
    for (int i = 0; i < 3 * DIM; i++) x0[i] = (float)sin(i);
    uint64_t gidx[3] = {5, 17, 1u << 20};
    brisk_ddpm_training_batch(ac, 1000, 9, gidx, 3, DIM, x0, xt, eps, t);
    /* sample 17 alone, in position 0, draws the same t and noise */
    float xt1[DIM], eps1[DIM], t1;
    brisk_ddpm_training_batch(ac, 1000, 9, gidx + 1, 1, DIM, x0 + DIM, xt1, eps1, &t1);
    ASSERT_NEAR(t1, t[1], 0);
    ASSERT_TRUE(!memcmp(eps1, eps + DIM, sizeof eps1));
    ASSERT_TRUE(!memcmp(xt1, xt + DIM, sizeof xt1));
    for (int k = 0; k < 3; k++) {
        ASSERT_TRUE(t[k] >= 0 && t[k] < 1000 && t[k] == floorf(t[k]));
        double a = ac[(int)t[k]];
        for (int i = 0; i < DIM; i++)
            ASSERT_NEAR(xt[k * DIM + i], sqrt(a) * x0[k * DIM + i] + sqrt(1 - a) * eps[k * DIM + i],
                        1e-6);
    }
    ASSERT_TRUE(t[0] != t[1] || t[1] != t[2]);
    /* timesteps are uniform over 0..T-1: mean over many samples near 499.5 */
    double mean = 0;
    int lo = 0, hi = 0;
    for (uint64_t g = 0; g < 20000; g++) {
        float tt, e1[1], x1[1], z = 0;
        brisk_ddpm_training_batch(ac, 1000, 3, &g, 1, 1, &z, x1, e1, &tt);
        mean += tt;
        if (tt == 0) lo++;
        if (tt == 999) hi++;
    }
    mean /= 20000;
    ASSERT_NEAR(mean, 499.5, 8);
    ASSERT_TRUE(lo > 0 && hi > 0);
    brisk_free(ac);
}

int main(void) {
    test_ema();
    test_norms_clip();
    test_permutation();
    test_batcher();
    test_ddpm();
    TEST_DONE();
}
