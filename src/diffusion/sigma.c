/* Samplers in sigma = sqrt((1 - a) / a): Euler (diffusers EulerDiscreteScheduler; Karras et
 * al. 2022, Algorithm 1 without churn), Heun (HeunDiscreteScheduler; Karras et al. 2022,
 * Algorithm 1) and iPNDM (Zhang & Chen 2023, "Fast sampling of diffusion models with
 * exponential integrator", sec. 4 / k-diffusion sample_ipndm: Adams-Bashforth on
 * d = (x - D) / sigma with fixed equal-step weights and an order ramp, no warm-up). */
#include "diffusion/diffusion_impl.h"

#include <math.h>
#include <string.h>

/* sigma of training step j, float32 as torch computes ((1 - a) / a) ** 0.5 */
static double train_sigma(const brisk_scheduler *s, int j) {
    double a = s->ns.alphas_cumprod[j];
    if (s->cfg.schedule_float32) {
        float af = (float)a;
        return (double)sqrtf((1.0f - af) / af);
    }
    return sqrt((1 - a) / a);
}

int brisk__plan_sigma(brisk_scheduler *s, int n) {
    const brisk_scheduler_config *c = &s->cfg;
    int T = s->T, f32 = c->schedule_float32;
    int heun = c->kind == BRISK_SAMPLER_HEUN;
    double *ts = brisk_malloc(((size_t)n + 1) * sizeof(double));
    double *tsig = brisk_malloc((size_t)T * sizeof(double));
    if (!ts || !tsig) {
        brisk_free(ts);
        brisk_free(tsig);
        return BRISK_ENOMEM;
    }
    size_t m = brisk__euler_timesteps(c, n, ts);
    for (int j = 0; j < T; j++) tsig[j] = train_sigma(s, j);
    double last = 0;
    if (!heun && c->final_sigmas_type == BRISK_FINAL_SIGMA_MIN) last = tsig[0];
    size_t ncalls = heun ? 2 * m - 1 : m;
    s->n_sigmas = ncalls + 1;
    s->sigmas = brisk_malloc(s->n_sigmas * sizeof(double));
    s->t_calls = brisk_malloc(ncalls * sizeof(double));
    s->a_calls = brisk_malloc(ncalls * sizeof(double));
    s->grid = brisk_malloc((m + 1) * sizeof(double));
    if (!s->sigmas || !s->t_calls || !s->a_calls || !s->grid) {
        brisk_free(ts);
        brisk_free(tsig);
        return BRISK_ENOMEM;
    }
    /* np.interp(timesteps, arange(T), sigmas), then float32 */
    double *sg = brisk_malloc((m + 1) * sizeof(double));
    if (!sg) {
        brisk_free(ts);
        brisk_free(tsig);
        return BRISK_ENOMEM;
    }
    for (size_t i = 0; i < m; i++) {
        double v = brisk__np_interp_index(ts[i], tsig, (size_t)T);
        sg[i] = f32 ? (double)(float)v : v;
    }
    sg[m] = f32 ? (double)(float)last : last;
    if (heun) {
        /* sigmas = cat(sigmas[:1], sigmas[1:-1].repeat_interleave(2), sigmas[-1:]);
         * timesteps = cat(timesteps[:1], timesteps[1:].repeat_interleave(2)) */
        size_t q = 0;
        s->sigmas[q++] = sg[0];
        for (size_t i = 1; i < m; i++) s->sigmas[q++] = sg[i], s->sigmas[q++] = sg[i];
        s->sigmas[q++] = sg[m];
        q = 0;
        s->t_calls[q++] = ts[0];
        for (size_t i = 1; i < m; i++) s->t_calls[q++] = ts[i], s->t_calls[q++] = ts[i];
    } else {
        for (size_t i = 0; i <= m; i++) s->sigmas[i] = sg[i];
        for (size_t i = 0; i < m; i++) s->t_calls[i] = ts[i];
    }
    for (size_t i = 0; i < ncalls; i++) s->a_calls[i] = brisk__sigma_alpha(s->sigmas[i]);
    for (size_t i = 0; i < m; i++) s->grid[i] = ts[i];
    s->grid[m] = -1;
    s->n_grid = m + 1;
    s->n_calls = ncalls;
    double mx = 0;
    for (size_t i = 0; i < s->n_sigmas; i++)
        if (s->sigmas[i] > mx) mx = s->sigmas[i];
    /* init_noise_sigma: max sigma for linspace / trailing, sqrt(max^2 + 1) for leading */
    s->init_noise_sigma = c->timestep_spacing == BRISK_SPACING_LEADING ? sqrt(mx * mx + 1) : mx;
    if (f32) s->init_noise_sigma = (float)s->init_noise_sigma;
    s->ode_a_start = brisk__sigma_alpha(s->sigmas[0]);
    s->ode_x_start = s->init_noise_sigma * sqrt(s->ode_a_start);
    s->ode_a_end = brisk__sigma_alpha(s->sigmas[s->n_sigmas - 1]);
    s->ode_x_end = sqrt(s->ode_a_end);
    brisk_free(sg);
    brisk_free(ts);
    brisk_free(tsig);
    return BRISK_OK;
}

/* Denoised x0 from the model output at sigma (EulerDiscreteScheduler.step, "compute
 * predicted original sample"; the model saw x / sqrt(sigma^2 + 1)). */
static void sigma_x0(brisk_prediction p, const double *mo, const double *x, double sigma,
                     size_t n, double *x0) {
    switch (p) {
    case BRISK_PRED_V: {
        double c1 = -sigma / sqrt(sigma * sigma + 1), c2 = 1 / (sigma * sigma + 1);
        for (size_t i = 0; i < n; i++) x0[i] = mo[i] * c1 + x[i] * c2;
        break;
    }
    case BRISK_PRED_SAMPLE: memcpy(x0, mo, n * sizeof *x0); break;
    default:
        for (size_t i = 0; i < n; i++) x0[i] = x[i] - sigma * mo[i];
        break;
    }
}

int brisk__step_euler(brisk_scheduler *s, const double *mo, const double *x, double *out,
                      size_t batch) {
    size_t n = batch * s->dim;
    double sigma = s->sigmas[s->k], sn = s->sigmas[s->k + 1];
    double *x0 = s->tmp;
    sigma_x0(s->cfg.prediction_type, mo, x, sigma, n, x0);
    double dt = sn - sigma;
    for (size_t i = 0; i < n; i++) {
        double d = (x[i] - x0[i]) / sigma;
        out[i] = x[i] + d * dt;
    }
    return BRISK_OK;
}

int brisk__step_heun(brisk_scheduler *s, const double *mo, const double *x, double *out,
                     size_t batch) {
    const brisk_scheduler_config *c = &s->cfg;
    size_t n = batch * s->dim;
    size_t k = s->k;
    int first = s->heun_first;
    double sigma = first ? s->sigmas[k] : s->sigmas[k - 1];
    double sn = first ? s->sigmas[k + 1] : s->sigmas[k];
    double sin_ = first ? sigma : sn; /* sigma_input */
    double *x0 = s->tmp;
    sigma_x0(c->prediction_type, mo, x, sin_, n, x0);
    if (c->clip_sample) {
        double r = c->clip_sample_range;
        for (size_t i = 0; i < n; i++) x0[i] = x0[i] < -r ? -r : (x0[i] > r ? r : x0[i]);
    }
    if (first) {
        double dt = sn - sigma;
        for (size_t i = 0; i < n; i++) {
            double d = (x[i] - x0[i]) / sigma;
            s->acc[i] = d;    /* prev_derivative */
            s->cur[i] = x[i]; /* sample */
            out[i] = x[i] + d * dt;
        }
        s->heun_dt = dt;
        s->heun_first = 0; /* the next call is the second-order correction */
    } else {
        double dt = s->heun_dt;
        for (size_t i = 0; i < n; i++) {
            double d = (x[i] - x0[i]) / sn;
            d = (s->acc[i] + d) / 2;
            out[i] = s->cur[i] + d * dt;
        }
        s->heun_first = 1;
    }
    return BRISK_OK;
}

int brisk__step_ipndm(brisk_scheduler *s, const double *mo, const double *x, double *out,
                      size_t batch) {
    size_t n = batch * s->dim;
    size_t k = s->k;
    double sigma = s->sigmas[k], sn = s->sigmas[k + 1];
    double *x0 = s->tmp;
    sigma_x0(s->cfg.prediction_type, mo, x, sigma, n, x0);
    double *d = brisk__hist_push(s);
    for (size_t i = 0; i < n; i++) d[i] = (x[i] - x0[i]) / sigma;
    int m = (int)k + 1 < 4 ? (int)k + 1 : 4;
    double w[4];
    static const double AB[5][4] = {{0, 0, 0, 0},
                                    {1, 0, 0, 0},
                                    {3.0 / 2, -1.0 / 2, 0, 0},
                                    {23.0 / 12, -16.0 / 12, 5.0 / 12, 0},
                                    {55.0 / 24, -59.0 / 24, 37.0 / 24, -9.0 / 24}};
    if (s->cfg.time_mode == BRISK_TIME_GRID && m > 1) {
        /* exact variable-step weights in sigma, the ODE's own time variable */
        double tau[4];
        for (int j = 0; j < m; j++) tau[j] = s->sigmas[k - (size_t)j];
        brisk__ab_weights(tau, m, sn, w);
    } else {
        memcpy(w, AB[m], sizeof w);
    }
    double dt = sn - sigma;
    for (size_t i = 0; i < n; i++) {
        double v = 0;
        for (int j = 0; j < m; j++) v += w[j] * s->hist[j][i];
        out[i] = x[i] + dt * v;
    }
    return BRISK_OK;
}
