/* DPM-Solver++ and UniPC at N close to T: diffusers' rounded linspace grid repeats
 * timesteps (e.g. 500 twice at N = 1000); repeats are dropped as diffusers' multistep
 * schedulers do, so every step has non-zero length and the result stays finite. */
#include "brisk/core.h"
#include "brisk/diffusion.h"
#include "brisk_test.h"

static void check(brisk_sampler_kind kind, int n) {
    brisk_scheduler_config c;
    brisk_scheduler_config_default(&c, kind);
    c.timestep_spacing = BRISK_SPACING_LINSPACE;
    brisk_scheduler *s;
    ASSERT_OK(brisk_scheduler_create(&c, &s));
    ASSERT_OK(brisk_scheduler_set_timesteps(s, n, 1, 1));
    size_t m = brisk_scheduler_num_model_calls(s);
    const double *t = brisk_scheduler_model_timesteps(s);
    ASSERT_TRUE(m >= (size_t)n - 2 && m <= (size_t)n);
    for (size_t i = 1; i < m; i++) ASSERT_TRUE(t[i] < t[i - 1]);
    /* run on a constant model output: every state must stay finite */
    double x = 1.0, eps = 0.5;
    while (!brisk_scheduler_done(s)) {
        double tt, ab;
        ASSERT_OK(brisk_scheduler_next(s, &tt, &ab));
        eps = 0.5 * x;
        ASSERT_OK(brisk_scheduler_step(s, &eps, tt, &x, &x, 1));
    }
    ASSERT_TRUE(isfinite(x));
    brisk_scheduler_free(s);
    brisk_scheduler_config_clear(&c);
}

int main(void) {
    check(BRISK_SAMPLER_DPMPP_2M, 1000);
    check(BRISK_SAMPLER_UNIPC, 1000);
    check(BRISK_SAMPLER_DPMPP_2M, 999);
    TEST_DONE();
}
