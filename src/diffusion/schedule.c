/* Names, configuration defaults and the training noise schedule.
 *
 * Beta schedules (diffusers schedulers' __init__; Ho et al. 2020 linear; Rombach et al.
 * 2022 scaled_linear; Nichol & Dhariwal 2021 squaredcos_cap_v2 with max_beta 0.999),
 * rescale_betas_zero_snr (Lin et al. 2024, Algorithm 1). */
#include "diffusion/diffusion_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- names --------------------------------------------------------------------------- */

static const char *kind_names[BRISK_SAMPLER_COUNT] = {
    "ddpm", "ddim", "pndm", "plms", "euler", "heun", "dpmpp-2m",
    "unipc", "ipndm", "pseudo-euler", "spndm", "fpndm", "fon", "pf"};
static const char *beta_names[BRISK_BETA_COUNT] = {"linear", "scaled_linear",
                                                   "squaredcos_cap_v2", "trained_betas"};
static const char *spacing_names[BRISK_SPACING_COUNT] = {"leading", "linspace", "trailing"};
static const char *mode_names[BRISK_TIME_MODE_COUNT] = {"diffusers", "reference", "grid"};
static const char *variance_names[BRISK_VARIANCE_COUNT] = {"fixed_small", "fixed_small_log",
                                                           "fixed_large", "fixed_large_log"};
static const char *final_names[BRISK_FINAL_SIGMA_COUNT] = {"zero", "sigma_min"};
static const char *solver_names[BRISK_SOLVER_COUNT] = {"midpoint", "heun", "bh1", "bh2"};
static const char *gridvar_names[BRISK_GRID_VARIABLE_COUNT] = {"t", "sigma"};

static int lookup(const char *what, const char *name, const char *const *names, int n) {
    if (name)
        for (int i = 0; i < n; i++)
            if (!strcmp(name, names[i])) return i;
    char list[512];
    size_t len = 0;
    list[0] = '\0';
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", names[i]);
    return brisk_error(BRISK_EUNSUPPORTED, "%s '%s' is not supported (valid: %s)", what,
                       name ? name : "(null)", list);
}

#define NAME_FNS(fn, type, arr, count, what)                                    \
    const char *brisk_##fn##_name(type v) {                                     \
        return (unsigned)v < (unsigned)(count) ? arr[v] : "unknown";            \
    }                                                                           \
    int brisk_##fn##_from_name(const char *name, type *out) {                   \
        int i = lookup(what, name, arr, (int)(count));                          \
        if (i < 0) return i;                                                    \
        *out = (type)i;                                                         \
        return BRISK_OK;                                                        \
    }

NAME_FNS(sampler_kind, brisk_sampler_kind, kind_names, BRISK_SAMPLER_COUNT, "sampler")
NAME_FNS(beta_schedule, brisk_beta_schedule, beta_names, BRISK_BETA_COUNT, "beta_schedule")
NAME_FNS(timestep_spacing, brisk_timestep_spacing, spacing_names, BRISK_SPACING_COUNT,
         "timestep_spacing")
NAME_FNS(time_mode, brisk_time_mode, mode_names, BRISK_TIME_MODE_COUNT, "time_mode")
NAME_FNS(variance_type, brisk_variance_type, variance_names, BRISK_VARIANCE_COUNT,
         "variance_type")
NAME_FNS(final_sigmas, brisk_final_sigmas, final_names, BRISK_FINAL_SIGMA_COUNT,
         "final_sigmas_type")
NAME_FNS(solver_type, brisk_solver_type, solver_names, BRISK_SOLVER_COUNT, "solver_type")
NAME_FNS(grid_variable, brisk_grid_variable, gridvar_names, BRISK_GRID_VARIABLE_COUNT,
         "grid_variable")

/* ---- configuration ------------------------------------------------------------------- */

void brisk_scheduler_config_default(brisk_scheduler_config *c, brisk_sampler_kind kind) {
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->time_mode = BRISK_TIME_DIFFUSERS;
    c->num_train_timesteps = 1000;
    c->beta_start = 0.0001;
    c->beta_end = 0.02;
    c->beta_schedule = BRISK_BETA_LINEAR;
    c->prediction_type = BRISK_PRED_EPSILON;
    c->timestep_spacing = BRISK_SPACING_LEADING;
    c->clip_sample_range = 1.0;
    c->dynamic_thresholding_ratio = 0.995;
    c->sample_max_value = 1.0;
    c->variance_type = BRISK_VARIANCE_FIXED_SMALL;
    c->solver_order = 2;
    c->lower_order_final = 1;
    c->pf_rtol = 1e-5;
    c->pf_atol = 1e-5;
    c->pf_t_end = 1e-3;
    c->final_sigmas_type = BRISK_FINAL_SIGMA_ZERO;
    c->solver_type = BRISK_SOLVER_MIDPOINT;
    c->predict_x0 = 1;
    c->lambda_min_clipped = -INFINITY;
    c->schedule_float32 = 1;
    switch (kind) {
    case BRISK_SAMPLER_DDPM: c->clip_sample = 1; break;  /* DDPMScheduler defaults */
    case BRISK_SAMPLER_DDIM:                             /* DDIMScheduler defaults */
        c->clip_sample = 1;
        c->set_alpha_to_one = 1;
        break;
    case BRISK_SAMPLER_PNDM:
    case BRISK_SAMPLER_PLMS: break; /* PNDMScheduler: set_alpha_to_one False, leading */
    case BRISK_SAMPLER_EULER:
    case BRISK_SAMPLER_HEUN:
    case BRISK_SAMPLER_IPNDM:
    case BRISK_SAMPLER_DPMPP_2M: c->timestep_spacing = BRISK_SPACING_LINSPACE; break;
    case BRISK_SAMPLER_UNIPC:
        c->timestep_spacing = BRISK_SPACING_LINSPACE;
        c->solver_type = BRISK_SOLVER_BH2;
        break;
    case BRISK_SAMPLER_PSEUDO_EULER:
    case BRISK_SAMPLER_SPNDM:
    case BRISK_SAMPLER_FPNDM:
    case BRISK_SAMPLER_FON:
    case BRISK_SAMPLER_PF: c->time_mode = BRISK_TIME_REFERENCE; break; /* authors' code */
    default: break;
    }
}

void brisk_scheduler_config_clear(brisk_scheduler_config *c) {
    if (!c) return;
    brisk_free(c->trained_betas);
    c->trained_betas = NULL;
    c->n_trained_betas = 0;
}

int brisk_scheduler_config_copy(brisk_scheduler_config *dst, const brisk_scheduler_config *src) {
    if (dst == src) return BRISK_OK;
    *dst = *src;
    dst->trained_betas = NULL;
    if (src->trained_betas && src->n_trained_betas) {
        dst->trained_betas = brisk_malloc(src->n_trained_betas * sizeof(double));
        if (!dst->trained_betas) {
            dst->n_trained_betas = 0;
            return BRISK_ENOMEM;
        }
        memcpy(dst->trained_betas, src->trained_betas, src->n_trained_betas * sizeof(double));
    }
    return BRISK_OK;
}

int brisk_scheduler_config_truncate(brisk_scheduler_config *c, int level) {
    BRISK_ASSERT(c);
    if (c->rescale_betas_zero_snr)
        return brisk_error(BRISK_EUNSUPPORTED,
                           "starting at an intermediate level with rescale_betas_zero_snr is not "
                           "supported (the rescaling would change the kept betas)");
    brisk_noise_schedule ns;
    int rc = brisk_noise_schedule_init(&ns, c);
    if (rc) return rc;
    if (level < 1 || level >= ns.T) {
        int T = ns.T;
        brisk_noise_schedule_free(&ns);
        return brisk_error(BRISK_EINVAL, "start level %d is outside 1..%d (the schedule has %d steps)",
                           level, T - 1, T);
    }
    double *b = brisk_malloc((size_t)(level + 1) * sizeof(double));
    if (!b) {
        brisk_noise_schedule_free(&ns);
        return BRISK_ENOMEM;
    }
    memcpy(b, ns.betas, (size_t)(level + 1) * sizeof(double));
    brisk_noise_schedule_free(&ns);
    brisk_free(c->trained_betas);
    c->trained_betas = b;
    c->n_trained_betas = (size_t)(level + 1);
    c->beta_schedule = BRISK_BETA_TRAINED;
    c->num_train_timesteps = level + 1;
    return BRISK_OK;
}

/* ---- noise schedule ------------------------------------------------------------------ */

/* torch.linspace(start, end, n, dtype=float32) on the CPU: float arithmetic, the first
 * half counted from start and the second from end (ATen RangeFactoriesKernel). */
static double torch_linspace_f32(double start, double end, int n, int i) {
    float s = (float)start, e = (float)end;
    if (n == 1) return s;
    float step = (e - s) / (float)(n - 1);
    int half = n / 2;
    float v = i < half ? s + step * (float)i : e - step * (float)(n - 1 - i);
    return v;
}

static double cos_alpha_bar(double t) {
    double c = cos((t + 0.008) / 1.008 * 3.14159265358979323846 / 2);
    return c * c;
}

int brisk_noise_schedule_init(brisk_noise_schedule *s, const brisk_scheduler_config *c) {
    memset(s, 0, sizeof *s);
    int T = c->num_train_timesteps;
    if (c->beta_schedule == BRISK_BETA_TRAINED) {
        if (!c->trained_betas || c->n_trained_betas == 0)
            return brisk_error(BRISK_EINVAL, "beta_schedule trained_betas needs the betas");
        T = (int)c->n_trained_betas;
    }
    if (T < 2)
        return brisk_error(BRISK_EINVAL, "num_train_timesteps must be at least 2 (got %d)", T);
    int f32 = c->schedule_float32;
    int ref = c->time_mode == BRISK_TIME_REFERENCE;
    s->T = T;
    s->betas = brisk_malloc((size_t)T * sizeof(double));
    s->alphas_cumprod = brisk_malloc((size_t)T * sizeof(double));
    if (!s->betas || !s->alphas_cumprod) {
        brisk_noise_schedule_free(s);
        return BRISK_ENOMEM;
    }
    double *b = s->betas;
    for (int i = 0; i < T; i++) {
        double v;
        switch (c->beta_schedule) {
        case BRISK_BETA_LINEAR:
            /* diffusers: torch.linspace float32; the PNDM authors: np.linspace float64 */
            v = (f32 && !ref) ? torch_linspace_f32(c->beta_start, c->beta_end, T, i)
                              : brisk__np_linspace(c->beta_start, c->beta_end, (size_t)T, (size_t)i);
            break;
        case BRISK_BETA_SCALED_LINEAR: {
            double r = (f32 && !ref)
                           ? torch_linspace_f32(sqrt(c->beta_start), sqrt(c->beta_end), T, i)
                           : brisk__np_linspace(sqrt(c->beta_start), sqrt(c->beta_end), (size_t)T,
                                                (size_t)i);
            v = (f32 && !ref) ? (double)((float)r * (float)r) : r * r;
            break;
        }
        case BRISK_BETA_SQUAREDCOS_CAP_V2: {
            double t1 = (double)i / T, t2 = (double)(i + 1) / T;
            v = 1 - cos_alpha_bar(t2) / cos_alpha_bar(t1);
            if (v > 0.999) v = 0.999;
            break;
        }
        default: v = c->trained_betas[i]; break;
        }
        if (!(v >= 0 && v <= 1)) {
            brisk_noise_schedule_free(s);
            return brisk_error(BRISK_EINVAL, "beta %d = %g is outside [0, 1]", i, v);
        }
        b[i] = f32 ? (double)(float)v : v;
    }
    if (c->rescale_betas_zero_snr) {
        /* Lin et al. 2024, Algorithm 1: shift sqrt(alpha-bar) so the last is 0, scale so
         * the first is unchanged, convert back to betas. */
        double *ab = s->alphas_cumprod, p = 1;
        for (int i = 0; i < T; i++) {
            p *= 1 - b[i];
            ab[i] = sqrt(p);
        }
        double a0 = ab[0], aT = ab[T - 1];
        for (int i = 0; i < T; i++) {
            ab[i] = (ab[i] - aT) * (a0 / (a0 - aT));
            ab[i] *= ab[i];
        }
        for (int i = T - 1; i >= 1; i--) b[i] = 1 - ab[i] / ab[i - 1];
        b[0] = 1 - ab[0];
        if (f32)
            for (int i = 0; i < T; i++) b[i] = (float)b[i];
    }
    /* alphas = 1 - betas (float32 when emulating), cumulative product accumulated in
     * float64 and stored rounded (torch's CPU cumprod accumulates in double). */
    double p = 1;
    for (int i = 0; i < T; i++) {
        double a = f32 ? (double)(1.0f - (float)b[i]) : 1 - b[i];
        p *= a;
        s->alphas_cumprod[i] = f32 ? (double)(float)p : p;
    }
    brisk_sampler_kind k = c->kind;
    if (c->rescale_betas_zero_snr &&
        (k == BRISK_SAMPLER_EULER || k == BRISK_SAMPLER_DPMPP_2M || k == BRISK_SAMPLER_UNIPC ||
         k == BRISK_SAMPLER_IPNDM || k == BRISK_SAMPLER_HEUN))
        s->alphas_cumprod[T - 1] = 0x1p-24; /* diffusers: "so first sigma is not inf" (Heun,
                                               which lacks the option there, too) */
    s->final_alpha_cumprod = c->set_alpha_to_one ? 1.0 : s->alphas_cumprod[0];
    return BRISK_OK;
}

void brisk_noise_schedule_free(brisk_noise_schedule *s) {
    if (!s) return;
    brisk_free(s->betas);
    brisk_free(s->alphas_cumprod);
    s->betas = s->alphas_cumprod = NULL;
}

double brisk_alpha_bar_at(const brisk_noise_schedule *s, double t) {
    if (!(t > 0)) return s->alphas_cumprod[0];
    if (t >= s->T - 1) return s->alphas_cumprod[s->T - 1];
    int i = (int)t;
    double f = t - i;
    return s->alphas_cumprod[i] + f * (s->alphas_cumprod[i + 1] - s->alphas_cumprod[i]);
}
