/* DDPM (Ho et al. 2020, eqs. 6-7 and 15) and DDIM (Song et al. 2021, eq. 12), as
 * diffusers' DDPMScheduler.step / DDIMScheduler.step compute them. */
#include "diffusion/diffusion_impl.h"

#include <math.h>
#include <string.h>

/* Checks that integer timesteps lie inside the training schedule. */
static int check_range(const brisk_scheduler *s, const double *ts, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (ts[i] < 0 || ts[i] > s->T - 1)
            return brisk_error(BRISK_EINVAL,
                               "timestep %g (timestep_spacing %s, steps_offset %d, %d steps) lies "
                               "outside the training schedule [0, %d]; diffusers raises IndexError "
                               "here. Use fewer steps, steps_offset 0 or timestep_spacing "
                               "'trailing'",
                               ts[i], brisk_timestep_spacing_name(s->cfg.timestep_spacing),
                               s->cfg.steps_offset, s->N, s->T - 1);
    return BRISK_OK;
}

int brisk__check_timesteps(const brisk_scheduler *s, const double *ts, size_t n) {
    return check_range(s, ts, n);
}

int brisk__plan_ddpm_ddim(brisk_scheduler *s, int n) {
    const brisk_scheduler_config *c = &s->cfg;
    int ddpm = c->kind == BRISK_SAMPLER_DDPM;
    s->t_calls = brisk_malloc(((size_t)n + 1) * sizeof(double));
    if (!s->t_calls) return BRISK_ENOMEM;
    size_t m = brisk__dd_timesteps(c, n, s->t_calls);
    int rc = check_range(s, s->t_calls, m);
    if (rc) return rc;
    s->n_calls = m;
    s->a_calls = brisk_malloc(m * sizeof(double));
    s->a_prev = brisk_malloc(m * sizeof(double));
    s->grid = brisk_malloc((m + 1) * sizeof(double));
    if (!s->a_calls || !s->a_prev || !s->grid) return BRISK_ENOMEM;
    const double *ac = s->ns.alphas_cumprod;
    int ratio = s->T / n;
    double final = ddpm ? 1.0 : s->ns.final_alpha_cumprod; /* DDPM: self.one */
    for (size_t i = 0; i < m; i++) {
        double t = s->t_calls[i];
        /* diffusers: prev_t = t - T // N (previous_timestep); grid mode: the next grid point */
        double prev = c->time_mode == BRISK_TIME_GRID ? (i + 1 < m ? s->t_calls[i + 1] : -1)
                                                      : t - ratio;
        s->a_calls[i] = ac[(int)t];
        s->a_prev[i] = prev >= 0 ? ac[(int)prev] : final;
        s->grid[i] = t;
        if (i + 1 == m) s->grid[m] = prev;
    }
    s->n_grid = m + 1;
    s->init_noise_sigma = 1;
    s->ode_a_start = s->a_calls[0];
    s->ode_a_end = s->a_prev[m - 1];
    s->ode_x_start = s->ode_x_end = 1;
    return BRISK_OK;
}

/* x0 and eps from the model output (diffusers step, "compute predicted original sample"). */
static void predict_x0_eps(brisk_prediction p, const double *mo, const double *x, double a,
                           size_t n, double *x0, double *eps) {
    double sa = sqrt(a), sb = sqrt(1 - a);
    for (size_t i = 0; i < n; i++) {
        switch (p) {
        case BRISK_PRED_V:
            x0[i] = sa * x[i] - sb * mo[i];
            if (eps) eps[i] = sa * mo[i] + sb * x[i];
            break;
        case BRISK_PRED_SAMPLE:
            x0[i] = mo[i];
            if (eps) eps[i] = (x[i] - sa * mo[i]) / sb;
            break;
        default:
            x0[i] = (x[i] - sb * mo[i]) / sa;
            if (eps) eps[i] = mo[i];
            break;
        }
    }
}

static void clip_or_threshold(brisk_scheduler *s, double *x0, size_t batch) {
    const brisk_scheduler_config *c = &s->cfg;
    size_t n = batch * s->dim;
    if (c->thresholding) {
        brisk__threshold(x0, batch, s->dim, c->dynamic_thresholding_ratio, c->sample_max_value,
                         s->work);
    } else if (c->clip_sample) {
        double r = c->clip_sample_range;
        for (size_t i = 0; i < n; i++) x0[i] = x0[i] < -r ? -r : (x0[i] > r ? r : x0[i]);
    }
}

int brisk__step_ddim(brisk_scheduler *s, const double *mo, const double *x, double *out,
                     size_t batch) {
    const brisk_scheduler_config *c = &s->cfg;
    size_t n = batch * s->dim;
    double a = s->a_calls[s->k], ap = s->a_prev[s->k], b = 1 - a;
    double *x0 = s->tmp, *eps = s->tmp2;
    predict_x0_eps(c->prediction_type, mo, x, a, n, x0, eps);
    clip_or_threshold(s, x0, batch);
    /* _get_variance: (1 - a') / (1 - a) * (1 - a / a') */
    double var = (1 - ap) / b * (1 - a / ap);
    double std = c->eta * sqrt(var);
    if (c->use_clipped_model_output)
        for (size_t i = 0; i < n; i++) eps[i] = (x[i] - sqrt(a) * x0[i]) / sqrt(b);
    double cdir = sqrt(1 - ap - std * std), cx0 = sqrt(ap);
    int noisy = c->eta > 0;
    if (noisy) {
        int rc = brisk__draw_noise(s, batch);
        if (rc) return rc;
    }
    for (size_t i = 0; i < n; i++) {
        double v = cx0 * x0[i] + cdir * eps[i];
        if (noisy) v += std * s->noise_buf[i];
        out[i] = v;
    }
    return BRISK_OK;
}

int brisk__step_ddpm(brisk_scheduler *s, const double *mo, const double *x, double *out,
                     size_t batch) {
    const brisk_scheduler_config *c = &s->cfg;
    size_t n = batch * s->dim;
    double t = s->t_calls[s->k];
    double a = s->a_calls[s->k], ap = s->a_prev[s->k];
    double b = 1 - a, bp = 1 - ap;
    double cur_alpha = a / ap, cur_beta = 1 - cur_alpha;
    double *x0 = s->tmp;
    predict_x0_eps(c->prediction_type, mo, x, a, n, x0, NULL);
    clip_or_threshold(s, x0, batch);
    /* formula (7) of Ho et al. 2020: posterior mean coefficients */
    double c0 = sqrt(ap) * cur_beta / b;
    double ct = sqrt(cur_alpha) * bp / b;
    double std = 0;
    if (t > 0) {
        double var = bp / b * cur_beta;
        if (var < 1e-20) var = 1e-20;
        switch (c->variance_type) {
        case BRISK_VARIANCE_FIXED_LARGE: std = sqrt(cur_beta); break;
        case BRISK_VARIANCE_FIXED_SMALL_LOG: std = exp(0.5 * log(var)); break;
        default: std = sqrt(var); break;
        }
        int rc = brisk__draw_noise(s, batch);
        if (rc) return rc;
    }
    for (size_t i = 0; i < n; i++) {
        double v = c0 * x0[i] + ct * x[i];
        if (t > 0) v += std * s->noise_buf[i];
        out[i] = v;
    }
    return BRISK_OK;
}
