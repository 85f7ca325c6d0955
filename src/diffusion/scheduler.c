/* The scheduler object: creation, planning (set_timesteps), the step dispatch and the
 * checks every step shares. The per-family planning and update rules live in ddim.c,
 * pndm.c, sigma.c and multistep.c. */
#include "diffusion/diffusion_impl.h"

#include <math.h>
#include <string.h>

static int is_pndm_family(brisk_sampler_kind k) {
    return k == BRISK_SAMPLER_PNDM || k == BRISK_SAMPLER_PLMS || k == BRISK_SAMPLER_PSEUDO_EULER ||
           k == BRISK_SAMPLER_SPNDM || k == BRISK_SAMPLER_FPNDM || k == BRISK_SAMPLER_FON;
}

static int validate(const brisk_scheduler_config *c) {
    brisk_sampler_kind k = c->kind;
    if ((unsigned)k >= BRISK_SAMPLER_COUNT)
        return brisk_error(BRISK_EINVAL, "sampler kind %d is out of range", (int)k);
    if ((unsigned)c->time_mode >= BRISK_TIME_MODE_COUNT)
        return brisk_error(BRISK_EINVAL, "time_mode %d is out of range", (int)c->time_mode);
    if ((unsigned)c->prediction_type >= BRISK_PRED_COUNT)
        return brisk_error(BRISK_EINVAL, "prediction_type %d is out of range", (int)c->prediction_type);
    if ((unsigned)c->timestep_spacing >= BRISK_SPACING_COUNT)
        return brisk_error(BRISK_EINVAL, "timestep_spacing %d is out of range",
                           (int)c->timestep_spacing);
    if ((unsigned)c->beta_schedule >= BRISK_BETA_COUNT)
        return brisk_error(BRISK_EINVAL, "beta_schedule %d is out of range", (int)c->beta_schedule);
    if (c->time_mode == BRISK_TIME_REFERENCE &&
        !(k == BRISK_SAMPLER_PSEUDO_EULER || k == BRISK_SAMPLER_SPNDM || k == BRISK_SAMPLER_FPNDM ||
          k == BRISK_SAMPLER_FON || k == BRISK_SAMPLER_PF))
        return brisk_error(BRISK_EUNSUPPORTED,
                           "time_mode 'reference' (the PNDM authors' grid) applies to pseudo-euler, "
                           "spndm, fpndm, fon and pf, not to %s",
                           brisk_sampler_kind_name(k));
    if ((k == BRISK_SAMPLER_PNDM || k == BRISK_SAMPLER_PLMS) &&
        c->time_mode == BRISK_TIME_DIFFUSERS && c->prediction_type == BRISK_PRED_SAMPLE)
        return brisk_error(BRISK_EUNSUPPORTED,
                           "config key 'prediction_type'='sample' is not supported by "
                           "PNDMScheduler (valid: epsilon, v_prediction)");
    if (is_pndm_family(k) && c->rescale_betas_zero_snr)
        return brisk_error(BRISK_EUNSUPPORTED,
                           "rescale_betas_zero_snr is not supported by %s: the PNDM transfer divides "
                           "by sqrt(alpha-bar), which is 0 at the last training step",
                           brisk_sampler_kind_name(k));
    if (k == BRISK_SAMPLER_DDPM && c->variance_type == BRISK_VARIANCE_FIXED_LARGE_LOG)
        return brisk_error(BRISK_EUNSUPPORTED,
                           "config key 'variance_type'='fixed_large_log' is not supported (valid: "
                           "fixed_small, fixed_small_log, fixed_large): diffusers' DDPMScheduler "
                           "takes sqrt(log(beta)) there and produces NaN");
    if ((unsigned)c->grid_variable >= BRISK_GRID_VARIABLE_COUNT)
        return brisk_error(BRISK_EINVAL, "grid_variable %d is out of range", (int)c->grid_variable);
    if ((unsigned)c->final_sigmas_type >= BRISK_FINAL_SIGMA_COUNT)
        return brisk_error(BRISK_EINVAL, "final_sigmas_type %d is out of range",
                           (int)c->final_sigmas_type);
    if ((unsigned)c->variance_type >= BRISK_VARIANCE_COUNT)
        return brisk_error(BRISK_EINVAL, "variance_type %d is out of range", (int)c->variance_type);
    if (k == BRISK_SAMPLER_DPMPP_2M) {
        if (c->solver_order < 1 || c->solver_order > 3)
            return brisk_error(BRISK_EUNSUPPORTED,
                               "config key 'solver_order'=%d is not supported (valid: 1, 2, 3)",
                               c->solver_order);
        if (c->solver_type != BRISK_SOLVER_MIDPOINT && c->solver_type != BRISK_SOLVER_HEUN)
            return brisk_error(BRISK_EUNSUPPORTED,
                               "config key 'solver_type'='%s' is not supported by "
                               "DPMSolverMultistepScheduler (valid: midpoint, heun)",
                               brisk_solver_type_name(c->solver_type));
    }
    if (k == BRISK_SAMPLER_UNIPC) {
        if (c->solver_order < 1 || c->solver_order > 3)
            return brisk_error(BRISK_EUNSUPPORTED,
                               "config key 'solver_order'=%d is not supported (valid: 1, 2, 3)",
                               c->solver_order);
        if (c->solver_type != BRISK_SOLVER_BH1 && c->solver_type != BRISK_SOLVER_BH2)
            return brisk_error(BRISK_EUNSUPPORTED,
                               "config key 'solver_type'='%s' is not supported by "
                               "UniPCMultistepScheduler (valid: bh1, bh2)",
                               brisk_solver_type_name(c->solver_type));
    }
    if (c->thresholding && !(c->dynamic_thresholding_ratio > 0 && c->dynamic_thresholding_ratio <= 1))
        return brisk_error(BRISK_EINVAL, "dynamic_thresholding_ratio must be in (0, 1] (got %g)",
                           c->dynamic_thresholding_ratio);
    if (k == BRISK_SAMPLER_DDIM && !(c->eta >= 0))
        return brisk_error(BRISK_EINVAL, "eta must be >= 0 (got %g)", c->eta);
    if (k == BRISK_SAMPLER_PF &&
        !(c->pf_rtol > 0 && c->pf_atol > 0 && c->pf_t_end > 0 && c->pf_t_end < 1))
        return brisk_error(BRISK_EINVAL, "PF needs rtol > 0, atol > 0 and 0 < t_end < 1");
    return BRISK_OK;
}

int brisk_scheduler_create(const brisk_scheduler_config *c, brisk_scheduler **out) {
    *out = NULL;
    int rc = validate(c);
    if (rc) return rc;
    brisk_scheduler *s = brisk_calloc(1, sizeof *s);
    if (!s) return BRISK_ENOMEM;
    rc = brisk_scheduler_config_copy(&s->cfg, c);
    if (!rc) rc = brisk_noise_schedule_init(&s->ns, &s->cfg);
    if (rc) {
        brisk_scheduler_free(s);
        return rc;
    }
    s->T = s->ns.T;
    s->cfg.num_train_timesteps = s->T;
    *out = s;
    return BRISK_OK;
}

static void free_plan(brisk_scheduler *s) {
    brisk_free(s->t_calls);
    brisk_free(s->a_calls);
    brisk_free(s->grid);
    brisk_free(s->pn);
    brisk_free(s->a_prev);
    brisk_free(s->sigmas);
    brisk_free(s->ws);
    s->t_calls = s->a_calls = s->grid = s->a_prev = s->sigmas = s->ws = NULL;
    s->pn = NULL;
    s->n_calls = s->n_grid = s->n_sigmas = 0;
    s->ready = 0;
}

void brisk_scheduler_free(brisk_scheduler *s) {
    if (!s) return;
    free_plan(s);
    brisk_noise_schedule_free(&s->ns);
    brisk_scheduler_config_clear(&s->cfg);
    brisk_free(s);
}

const brisk_scheduler_config *brisk_scheduler_get_config(const brisk_scheduler *s) {
    return &s->cfg;
}
const brisk_noise_schedule *brisk_scheduler_noise_schedule(const brisk_scheduler *s) {
    return &s->ns;
}

int brisk_scheduler_set_timesteps(brisk_scheduler *s, int n, size_t max_batch, size_t dim) {
    BRISK_ASSERT(s);
    brisk_sampler_kind k = s->cfg.kind;
    free_plan(s);
    if (max_batch == 0 || dim == 0)
        return brisk_error(BRISK_EINVAL, "set_timesteps: batch and dim must be positive");
    if (k != BRISK_SAMPLER_PF) {
        int min = 1;
        if (k == BRISK_SAMPLER_PNDM ||
            (k == BRISK_SAMPLER_FPNDM && s->cfg.time_mode == BRISK_TIME_DIFFUSERS))
            min = 4;
        if (n < min)
            return brisk_error(BRISK_EINVAL,
                               min == 4 ? "%s needs at least 4 steps (PRK mode runs Runge-Kutta on "
                                          "the last 4 timesteps), got %d"
                                        : "%s needs at least 1 step, got %d",
                               brisk_sampler_kind_name(k), n);
        if (n > s->T)
            return brisk_error(BRISK_EINVAL,
                               "%d steps exceed num_train_timesteps %d (diffusers raises here too)", n,
                               s->T);
    }
    s->N = n;
    int rc;
    switch (k) {
    case BRISK_SAMPLER_DDPM:
    case BRISK_SAMPLER_DDIM: rc = brisk__plan_ddpm_ddim(s, n); break;
    case BRISK_SAMPLER_EULER:
    case BRISK_SAMPLER_HEUN:
    case BRISK_SAMPLER_IPNDM: rc = brisk__plan_sigma(s, n); break;
    case BRISK_SAMPLER_DPMPP_2M:
    case BRISK_SAMPLER_UNIPC: rc = brisk__plan_multistep(s, n); break;
    case BRISK_SAMPLER_PF: {
        /* adaptive: nothing is planned; the ODE runs from t = 1 to pf_t_end */
        const double *b = s->ns.betas;
        int T = s->T;
        double lmc1 = (-0.25 * (b[T - 1] - b[0]) - 0.5 * b[0]) * T;
        double te = s->cfg.pf_t_end;
        double lmce = (-0.25 * te * te * (b[T - 1] - b[0]) - 0.5 * te * b[0]) * T;
        s->init_noise_sigma = 1;
        s->ode_a_start = exp(2 * lmc1);
        s->ode_a_end = exp(2 * lmce);
        s->ode_x_start = s->ode_x_end = 1;
        rc = BRISK_OK;
        break;
    }
    default: rc = is_pndm_family(k) ? brisk__plan_pndm(s, n) : BRISK_EINVAL; break;
    }
    if (rc) {
        free_plan(s);
        return rc;
    }
    /* workspace: history ring, cur, acc, tmp, tmp2, noise, model input/output; PF adds the
     * seven RK45 stages and two states; plus `dim` for thresholding. */
    size_t ne = max_batch * dim;
    size_t nbuf = 12 + (k == BRISK_SAMPLER_PF ? 9 : 0);
    s->ws = brisk_malloc((nbuf * ne + dim) * sizeof(double));
    if (!s->ws) {
        free_plan(s);
        return BRISK_ENOMEM;
    }
    double *p = s->ws;
    for (int i = 0; i < 4; i++, p += ne) s->hist[i] = p;
    s->cur = p; p += ne;
    s->acc = p; p += ne;
    s->tmp = p; p += ne;
    s->tmp2 = p; p += ne;
    s->noise_buf = p; p += ne;
    s->xin = p; p += ne;
    s->mout = p; p += ne;
    if (k == BRISK_SAMPLER_PF) {
        for (int i = 0; i < 7; i++, p += ne) s->rk[i] = p;
        s->rk_y = p; p += ne;
        s->rk_ynew = p; p += ne;
    } else {
        p += ne; /* spare */
    }
    s->work = p;
    s->max_batch = max_batch;
    s->dim = dim;
    s->k = 0;
    s->batch = 0;
    s->n_hist = 0;
    s->lower_order_nums = s->this_order = s->have_last = 0;
    s->heun_first = 1;
    s->noise_pos = 0;
    s->noise_draws = 0;
    s->ready = 1;
    return BRISK_OK;
}

size_t brisk_scheduler_num_model_calls(const brisk_scheduler *s) { return s->n_calls; }
const double *brisk_scheduler_model_timesteps(const brisk_scheduler *s) { return s->t_calls; }
const double *brisk_scheduler_model_alpha_bars(const brisk_scheduler *s) { return s->a_calls; }
const double *brisk_scheduler_grid(const brisk_scheduler *s, size_t *n) {
    if (n) *n = s->n_grid;
    return s->grid;
}
double brisk_scheduler_init_noise_sigma(const brisk_scheduler *s) { return s->init_noise_sigma; }
int brisk_scheduler_done(const brisk_scheduler *s) { return !s->ready || s->k >= s->n_calls; }
size_t brisk_scheduler_nfe(const brisk_scheduler *s) { return s->k; }

void brisk_scheduler_ode_span(const brisk_scheduler *s, double *a_start, double *x_start_scale,
                              double *a_end, double *x_end_scale) {
    if (a_start) *a_start = s->ode_a_start;
    if (x_start_scale) *x_start_scale = s->ode_x_start;
    if (a_end) *a_end = s->ode_a_end;
    if (x_end_scale) *x_end_scale = s->ode_x_end;
}

int brisk_scheduler_next(const brisk_scheduler *s, double *t, double *alpha_bar) {
    if (!s->ready)
        return brisk_error(BRISK_ESTATE, "call brisk_scheduler_set_timesteps before stepping");
    if (s->cfg.kind == BRISK_SAMPLER_PF)
        return brisk_error(BRISK_EUNSUPPORTED,
                           "pf is adaptive (RK45): its model calls are not planned; use "
                           "brisk_sample_run");
    if (s->k >= s->n_calls)
        return brisk_error(BRISK_ESTATE, "all %zu model calls have been stepped", s->n_calls);
    if (t) *t = s->t_calls[s->k];
    if (alpha_bar) *alpha_bar = s->a_calls[s->k];
    return BRISK_OK;
}

void brisk_scheduler_scale_model_input(const brisk_scheduler *s, const double *x, double *out,
                                       size_t batch) {
    size_t n = batch * s->dim;
    brisk_sampler_kind k = s->cfg.kind;
    if ((k == BRISK_SAMPLER_EULER || k == BRISK_SAMPLER_HEUN || k == BRISK_SAMPLER_IPNDM) &&
        s->ready && s->k < s->n_calls) {
        /* EulerDiscreteScheduler.scale_model_input: x / sqrt(sigma^2 + 1) */
        double sg = s->sigmas[s->k];
        double c = 1.0 / sqrt(sg * sg + 1);
        for (size_t i = 0; i < n; i++) out[i] = x[i] * c;
    } else if (out != x) {
        memcpy(out, x, n * sizeof *out);
    }
}

void brisk_scheduler_set_seed(brisk_scheduler *s, uint64_t seed, uint64_t sample_offset) {
    s->seed = seed;
    s->sample_offset = sample_offset;
}

void brisk_scheduler_set_noise(brisk_scheduler *s, const double *noise, size_t n) {
    s->noise = noise;
    s->noise_n = noise ? n : 0;
    s->noise_pos = 0;
}

int brisk_scheduler_step(brisk_scheduler *s, const double *model_output, double t,
                         const double *sample, double *prev_sample, size_t batch) {
    BRISK_ASSERT(s && model_output && sample && prev_sample);
    if (s->cfg.kind == BRISK_SAMPLER_PF)
        return brisk_error(BRISK_EUNSUPPORTED,
                           "pf has no step API (adaptive RK45 over the whole batch); use "
                           "brisk_sample_run");
    if (!s->ready)
        return brisk_error(BRISK_ESTATE, "call brisk_scheduler_set_timesteps before stepping");
    if (s->k >= s->n_calls)
        return brisk_error(BRISK_ESTATE, "step %zu: all %zu planned model calls are done", s->k,
                           s->n_calls);
    if (batch == 0 || batch > s->max_batch)
        return brisk_error(BRISK_EINVAL, "step %zu: batch %zu exceeds max_batch %zu", s->k, batch,
                           s->max_batch);
    if (s->k == 0) s->batch = batch;
    if (batch != s->batch)
        return brisk_error(BRISK_EINVAL, "step %zu: batch changed from %zu to %zu during a run",
                           s->k, s->batch, batch);
    double want = s->t_calls[s->k];
    if (!(fabs(t - want) <= 1e-6 * (fabs(want) > 1 ? fabs(want) : 1)))
        return brisk_error(BRISK_EINVAL, "step %zu: expected timestep %g, got %g", s->k, want, t);
    size_t n = batch * s->dim;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(model_output[i]))
            return brisk_error(BRISK_ENUMERIC,
                               "step %zu (timestep %g): model output is not finite (%g at sample "
                               "%zu, element %zu)",
                               s->k, want, model_output[i], i / s->dim, i % s->dim);
    int rc;
    switch (s->cfg.kind) {
    case BRISK_SAMPLER_DDPM: rc = brisk__step_ddpm(s, model_output, sample, prev_sample, batch); break;
    case BRISK_SAMPLER_DDIM: rc = brisk__step_ddim(s, model_output, sample, prev_sample, batch); break;
    case BRISK_SAMPLER_EULER: rc = brisk__step_euler(s, model_output, sample, prev_sample, batch); break;
    case BRISK_SAMPLER_HEUN: rc = brisk__step_heun(s, model_output, sample, prev_sample, batch); break;
    case BRISK_SAMPLER_IPNDM: rc = brisk__step_ipndm(s, model_output, sample, prev_sample, batch); break;
    case BRISK_SAMPLER_DPMPP_2M: rc = brisk__step_dpmpp(s, model_output, sample, prev_sample, batch); break;
    case BRISK_SAMPLER_UNIPC: rc = brisk__step_unipc(s, model_output, sample, prev_sample, batch); break;
    default: rc = brisk__step_pndm(s, model_output, sample, prev_sample, batch); break;
    }
    if (rc) return brisk_error_prefix(rc, "step %zu (timestep %g): ", s->k, want);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(prev_sample[i]))
            return brisk_error(BRISK_ENUMERIC,
                               "step %zu (timestep %g): the update produced a non-finite sample "
                               "(%g at sample %zu, element %zu)",
                               s->k, want, prev_sample[i], i / s->dim, i % s->dim);
    s->k++;
    return BRISK_OK;
}
