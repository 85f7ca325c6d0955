/* Samplers against the exact Gaussian probability-flow endpoint (the testbed of
 * `brisk bench samplers`): on a smooth Gaussian (std >= 0.3) every deterministic sampler's
 * error vs brisk_gaussian_pf_map over its own span (brisk_scheduler_ode_span) shrinks from
 * 25 to 50 to 100 steps, at least at the observed order given per method between 25 and 50
 * steps. (Beyond ~100 steps the fixed last step of the diffusers grids, sigma 0.01 -> end,
 * dominates and the observed orders flatten; docs/bench-samplers.md.) */
#include "brisk/core.h"
#include "brisk/denoiser.h"
#include "brisk/diffusion.h"
#include "brisk/rng.h"
#include "brisk_test.h"

#define D 8
#define B 16

static double mean[D], stdv[D];

/* RMS error of one sampler run vs brisk_gaussian_pf_map over the run's ODE span. */
static double run_error(brisk_sampler_kind kind, int mode, int spacing, int steps, size_t *nfe) {
    brisk_scheduler_config c;
    brisk_scheduler_config_default(&c, kind);
    if (mode >= 0) c.time_mode = (brisk_time_mode)mode;
    if (spacing >= 0) c.timestep_spacing = (brisk_timestep_spacing)spacing;
    c.clip_sample = 0;
    brisk_scheduler *s;
    brisk_denoiser *d;
    if (brisk_scheduler_create(&c, &s)) return NAN;
    if (brisk_denoiser_create_gaussian(mean, stdv, D, c.prediction_type, &d)) return NAN;
    double z[B * D], x[B * D], ref[B * D];
    brisk_sample_init_noise(5, 0, B, D, z);
    for (int i = 0; i < B * D; i++) x[i] = z[i];
    brisk_run_options o;
    brisk_run_options_default(&o);
    brisk_run_stats st;
    double err = NAN;
    if (!brisk_sample_run(s, d, steps, x, B, &o, &st)) {
        double a0, xs, a1, xe;
        brisk_scheduler_ode_span(s, &a0, &xs, &a1, &xe);
        for (int i = 0; i < B * D; i++) z[i] *= xs;
        brisk_gaussian_pf_map(mean, stdv, D, z, B, a0, a1, ref);
        double acc = 0;
        for (int i = 0; i < B * D; i++) acc += (xe * x[i] - ref[i]) * (xe * x[i] - ref[i]);
        err = sqrt(acc / (B * D));
        *nfe = st.nfe;
    }
    brisk_denoiser_free(d);
    brisk_scheduler_free(s);
    brisk_scheduler_config_clear(&c);
    return err;
}

int main(void) {
    for (int j = 0; j < D; j++) {
        mean[j] = 0.4 * sin(1.3 * j);
        stdv[j] = 0.3 + 0.1 * j; /* smooth: no stiff small-variance direction */
    }
    struct {
        const char *name;
        brisk_sampler_kind kind;
        int mode, spacing;
        double min_order;
    } cases[] = {
        {"ddim", BRISK_SAMPLER_DDIM, -1, -1, 0.8},
        {"euler", BRISK_SAMPLER_EULER, -1, -1, 0.8},
        {"heun", BRISK_SAMPLER_HEUN, -1, -1, 1.5},
        {"dpmpp-2m", BRISK_SAMPLER_DPMPP_2M, -1, -1, 1.5},
        {"plms grid/trailing", BRISK_SAMPLER_PLMS, BRISK_TIME_GRID, BRISK_SPACING_TRAILING, 2.0},
        {"fpndm grid/trailing", BRISK_SAMPLER_FPNDM, BRISK_TIME_GRID, BRISK_SPACING_TRAILING, 2.0},
        {"fpndm grid/leading", BRISK_SAMPLER_FPNDM, BRISK_TIME_GRID, BRISK_SPACING_LEADING, 2.0},
    };
    const int steps[3] = {25, 50, 100};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double e[3];
        size_t nfe[3] = {0};
        for (int i = 0; i < 3; i++)
            e[i] = run_error(cases[k].kind, cases[k].mode, cases[k].spacing, steps[i], &nfe[i]);
        double p1 = log2(e[0] / e[1]), p2 = log2(e[1] / e[2]);
        printf("%-20s err %.3e (NFE %zu)  %.3e (%zu)  %.3e (%zu)  observed order %.2f, %.2f\n",
               cases[k].name, e[0], nfe[0], e[1], nfe[1], e[2], nfe[2], p1, p2);
        ASSERT_TRUE(isfinite(e[0]) && isfinite(e[1]) && isfinite(e[2]));
        ASSERT_DOUBLE_LE(e[2], e[1]);
        ASSERT_DOUBLE_LE(e[1], e[0]);
        ASSERT_DOUBLE_LE(cases[k].min_order, p1);
    }
    TEST_DONE();
}
