/* brisk_scheduler_config_truncate and brisk_generate: a run restricted to level t starts
 * exactly at t with the kept alpha-bars; DPM-OT starts reach the exact probability-flow
 * endpoint of their target latent for VP and sigma-space samplers alike; batch size does
 * not change deterministic samples; classifier embedding matches the forward pass. */
#include "brisk_test.h"

#include "brisk/core.h"
#include "brisk/eval.h"

#include <math.h>
#include <string.h>

static void test_truncate_keeps_prefix(void) {
    brisk_scheduler_config full, cut;
    brisk_scheduler_config_default(&full, BRISK_SAMPLER_DDIM);
    brisk_scheduler_config_default(&cut, BRISK_SAMPLER_DDIM);
    ASSERT_OK(brisk_scheduler_config_truncate(&cut, 300));
    ASSERT_EQ(cut.num_train_timesteps, 301);
    brisk_noise_schedule a, b;
    ASSERT_OK(brisk_noise_schedule_init(&a, &full));
    ASSERT_OK(brisk_noise_schedule_init(&b, &cut));
    ASSERT_EQ(b.T, 301);
    for (int i = 0; i <= 300; i++) {
        ASSERT_TRUE(a.alphas_cumprod[i] == b.alphas_cumprod[i]);
        ASSERT_TRUE(a.betas[i] == b.betas[i]);
    }
    brisk_noise_schedule_free(&a);
    brisk_noise_schedule_free(&b);
    /* the authors' float64 reference schedule too */
    brisk_scheduler_config_clear(&full);
    brisk_scheduler_config_clear(&cut);
    brisk_scheduler_config_default(&full, BRISK_SAMPLER_FPNDM);
    brisk_scheduler_config_default(&cut, BRISK_SAMPLER_FPNDM);
    ASSERT_OK(brisk_scheduler_config_truncate(&cut, 99));
    ASSERT_OK(brisk_noise_schedule_init(&a, &full));
    ASSERT_OK(brisk_noise_schedule_init(&b, &cut));
    for (int i = 0; i <= 99; i++) ASSERT_TRUE(a.alphas_cumprod[i] == b.alphas_cumprod[i]);
    brisk_noise_schedule_free(&a);
    brisk_noise_schedule_free(&b);
    /* bad levels and zero-SNR rescaling are errors */
    ASSERT_STATUS(brisk_scheduler_config_truncate(&full, 0), BRISK_EINVAL);
    ASSERT_STATUS(brisk_scheduler_config_truncate(&full, 1000), BRISK_EINVAL);
    full.rescale_betas_zero_snr = 1;
    ASSERT_STATUS(brisk_scheduler_config_truncate(&full, 10), BRISK_EUNSUPPORTED);
    brisk_scheduler_config_clear(&full);
    brisk_scheduler_config_clear(&cut);
}

static void test_truncated_grid_starts_at_level(void) {
    const brisk_sampler_kind kinds[] = {BRISK_SAMPLER_DDIM, BRISK_SAMPLER_EULER, BRISK_SAMPLER_DPMPP_2M,
                                        BRISK_SAMPLER_UNIPC, BRISK_SAMPLER_PLMS};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        brisk_scheduler_config c;
        brisk_scheduler_config_default(&c, kinds[k]);
        brisk_noise_schedule ns;
        ASSERT_OK(brisk_noise_schedule_init(&ns, &c));
        double want = ns.alphas_cumprod[200];
        brisk_noise_schedule_free(&ns);
        ASSERT_OK(brisk_scheduler_config_truncate(&c, 200));
        c.timestep_spacing = BRISK_SPACING_TRAILING;
        brisk_scheduler *s;
        ASSERT_OK(brisk_scheduler_create(&c, &s));
        ASSERT_OK(brisk_scheduler_set_timesteps(s, 10, 1, 1));
        ASSERT_NEAR(brisk_scheduler_model_timesteps(s)[0], 200.0, 0);
        double a0;
        brisk_scheduler_ode_span(s, &a0, NULL, NULL, NULL);
        ASSERT_NEAR(a0, want, 1e-8 * want); /* sigma-space samplers keep float32 sigmas */
        brisk_scheduler_free(s);
        brisk_scheduler_config_clear(&c);
    }
}

/* OT starts on Gaussian data: three targets (latents at level t), h = 0, noise x goes to
 * argmax <x, y_i>; with many steps each sampler must land on the exact PF-ODE image of
 * its target latent. Euler's sigma-space scaling is the case a plain x_T hand-over gets
 * wrong (its init_noise_sigma is sigma_max, not 1 / sqrt(alpha-bar)). */
static void test_ot_start_reaches_pf_endpoint(void) {
    enum { D = 4, N = 3, K = 12, LEVEL = 150 };
    const double mean[D] = {0.3, -0.2, 0.1, 0.0}, std[D] = {0.5, 0.8, 0.3, 1.0};
    const float y[N * D] = {1.5f, -0.5f, 0.2f, 0.9f, -1.2f, 0.4f, 1.1f, -0.3f, 0.1f, 1.3f, -0.9f, 0.6f};
    double h[N] = {0, 0, 0};
    brisk_ot *ot;
    ASSERT_OK(brisk_ot_create(y, N, D, BRISK_OT_SOURCE_NORMAL, "test targets", &ot));
    brisk_denoiser *d;
    ASSERT_OK(brisk_denoiser_create_gaussian(mean, std, D, BRISK_PRED_EPSILON, &d));
    const brisk_sampler_kind kinds[] = {BRISK_SAMPLER_DDIM, BRISK_SAMPLER_EULER, BRISK_SAMPLER_DPMPP_2M,
                                        BRISK_SAMPLER_HEUN};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        brisk_scheduler_config c;
        brisk_scheduler_config_default(&c, kinds[k]);
        c.clip_sample = 0;
        c.set_alpha_to_one = 0;
        brisk_noise_schedule ns;
        ASSERT_OK(brisk_noise_schedule_init(&ns, &c));
        double a_t = ns.alphas_cumprod[LEVEL];
        brisk_noise_schedule_free(&ns);
        ASSERT_OK(brisk_scheduler_config_truncate(&c, LEVEL));
        c.timestep_spacing = BRISK_SPACING_TRAILING;
        brisk_scheduler *s;
        ASSERT_OK(brisk_scheduler_create(&c, &s));
        brisk_generate_options o;
        brisk_generate_options_default(&o);
        o.ot = ot;
        o.ot_h = h;
        o.ot_alpha_bar = a_t;
        o.seed = 5;
        o.batch = 5;
        int64_t idx[K];
        o.ot_index = idx;
        float out[K * D];
        brisk_generate_stats st;
        ASSERT_OK(brisk_generate(s, d, 150, K, &o, out, &st));
        double a_end, xs_end;
        brisk_scheduler_ode_span(s, NULL, NULL, &a_end, &xs_end);
        double worst = 0;
        for (size_t i = 0; i < K; i++) {
            /* the cell: argmax <x, y_j> for the sample's own noise */
            double x[D], best = -INFINITY;
            int64_t cell = -1;
            brisk_sample_init_noise(5, i, 1, D, x);
            for (int j = 0; j < N; j++) {
                double sc = 0;
                for (int q = 0; q < D; q++) sc += x[q] * y[j * D + q];
                if (sc > best) {
                    best = sc;
                    cell = j;
                }
            }
            ASSERT_EQ(idx[i], cell);
            double lat[D], exact[D];
            for (int q = 0; q < D; q++) lat[q] = y[cell * D + q];
            brisk_gaussian_pf_map(mean, std, D, lat, 1, a_t, a_end, exact);
            for (int q = 0; q < D; q++) {
                double e = fabs(xs_end * out[i * D + q] - exact[q]);
                if (e > worst) worst = e;
            }
        }
        /* first-order Euler: O(1/steps); a wrong start scale would be off by O(0.1) */
        double tol = kinds[k] == BRISK_SAMPLER_EULER ? 5e-3 : 2e-3;
        if (!(worst < tol)) {
            fprintf(stderr, "%s: worst error %g against the exact PF endpoint\n",
                    brisk_sampler_kind_name(kinds[k]), worst);
            ASSERT_TRUE(worst < tol);
        }
        /* a latent at another level is refused before any model call */
        o.ot_alpha_bar = a_t * 0.9;
        ASSERT_STATUS(brisk_generate(s, d, 150, K, &o, out, &st), BRISK_EINVAL);
        brisk_scheduler_free(s);
        brisk_scheduler_config_clear(&c);
    }
    brisk_denoiser_free(d);
    brisk_ot_free(ot);
}

static void test_batch_invariance(void) {
    enum { D = 6, K = 10 };
    double mean[D] = {0}, std[D] = {1, 0.5, 0.2, 0.8, 0.3, 0.6};
    brisk_denoiser *d;
    ASSERT_OK(brisk_denoiser_create_gaussian(mean, std, D, BRISK_PRED_EPSILON, &d));
    brisk_scheduler_config c;
    brisk_scheduler_config_default(&c, BRISK_SAMPLER_FPNDM);
    brisk_scheduler *s;
    ASSERT_OK(brisk_scheduler_create(&c, &s));
    float a[K * D], b[K * D];
    brisk_generate_options o;
    brisk_generate_options_default(&o);
    o.seed = 11;
    o.batch = 3;
    brisk_generate_stats st;
    ASSERT_OK(brisk_generate(s, d, 20, K, &o, a, &st));
    ASSERT_EQ(st.nfe, (size_t)29); /* F-PNDM: 4 Runge-Kutta warm-up steps of 4 calls */
    o.batch = 64;
    ASSERT_OK(brisk_generate(s, d, 20, K, &o, b, &st));
    ASSERT_TRUE(memcmp(a, b, sizeof a) == 0);
    o.seed = 12;
    ASSERT_OK(brisk_generate(s, d, 20, K, &o, b, &st));
    ASSERT_TRUE(memcmp(a, b, sizeof a) != 0);
    ASSERT_STATUS(brisk_generate(s, d, 20, 0, &o, b, &st), BRISK_EINVAL);
    brisk_scheduler_free(s);
    brisk_scheduler_config_clear(&c);
    brisk_denoiser_free(d);
}

static void test_classifier_embed(void) {
    brisk_classifier_config cc;
    brisk_classifier_config_default(&cc);
    cc.channels[0] = 8;
    cc.channels[1] = 8;
    cc.channels[2] = 8;
    cc.feature_dim = 16;
    brisk_classifier *m;
    ASSERT_OK(brisk_classifier_create(&cc, 3, &m));
    enum { N = 7, P = 1024 };
    static float x[N * P];
    double z[P];
    for (int i = 0; i < N; i++) {
        brisk_randn(1, (uint64_t)i, 0, P, z);
        for (int q = 0; q < P; q++) x[i * P + q] = (float)(0.5 * z[q]);
    }
    float f1[N * 16], p1[N * 10], f2[N * 16], p2[N * 10], logits[N * 10];
    ASSERT_OK(brisk_classifier_embed(m, x, N, 3, f1, p1));
    ASSERT_OK(brisk_classifier_embed(m, x, N, 0, f2, p2));
    ASSERT_OK(brisk_classifier_forward(m, x, N, logits));
    const float *fw = brisk_classifier_features(m);
    for (int i = 0; i < N * 16; i++) {
        ASSERT_NEAR(f1[i], fw[i], 1e-5 * (1 + fabsf(fw[i])));
        ASSERT_NEAR(f2[i], fw[i], 1e-5 * (1 + fabsf(fw[i])));
    }
    for (int i = 0; i < N; i++) {
        double s = 0, mx = -INFINITY;
        for (int c = 0; c < 10; c++) {
            s += p1[i * 10 + c];
            if (logits[i * 10 + c] > mx) mx = logits[i * 10 + c];
        }
        ASSERT_NEAR(s, 1.0, 1e-5);
        double z0 = 0;
        for (int c = 0; c < 10; c++) z0 += exp(logits[i * 10 + c] - mx);
        for (int c = 0; c < 10; c++)
            ASSERT_NEAR(p1[i * 10 + c], exp(logits[i * 10 + c] - mx) / z0, 1e-5);
    }
    x[3 * P + 17] = NAN;
    ASSERT_STATUS(brisk_classifier_embed(m, x, N, 0, f1, p1), BRISK_ENUMERIC);
    ASSERT_TRUE(strstr(brisk_last_error(), "image 3") != NULL);
    brisk_classifier_free(m);
}

int main(void) {
    test_truncate_keeps_prefix();
    test_truncated_grid_starts_at_level();
    test_ot_start_reaches_pf_endpoint();
    test_batch_invariance();
    test_classifier_embed();
    TEST_DONE();
}
