/* brisk/diffusion.h: noise schedules, time grids and samplers (PNDM and the samplers
 * users compare against), in diffusers' shape.
 *
 * Step API (a program with its own model loop):
 *
 *     brisk_scheduler_config cfg;
 *     brisk_scheduler_config_default(&cfg, BRISK_SAMPLER_FPNDM);
 *     brisk_scheduler *s;
 *     brisk_scheduler_create(&cfg, &s);
 *     brisk_scheduler_set_timesteps(s, 50, batch, dim);      // allocates all workspace
 *     scale x (batch*dim standard normals) by brisk_scheduler_init_noise_sigma(s);
 *     while (!brisk_scheduler_done(s)) {
 *         double t, ab;
 *         brisk_scheduler_next(s, &t, &ab);                 // timestep of this model call
 *         brisk_scheduler_scale_model_input(s, x, xin, batch);
 *         model(xin, t, ab) -> eps;
 *         brisk_scheduler_step(s, eps, t, x, x, batch);     // allocates nothing
 *     }
 *     brisk_scheduler_free(s);
 *
 * Run API (brisk drives a denoiser callback):
 *
 *     brisk_sample_run(s, denoiser, 50, x, batch, &opts, &stats);  // stats.nfe
 *
 * Configs come from diffusers' scheduler_config.json (brisk_scheduler_config_load), unknown
 * keys reported, unsupported values refused (docs/samplers.md has the key table).
 *
 * Samplers work in float64 on (batch, dim) arrays. Formulas: docs/samplers.md, with
 * citations to the PNDM paper (Liu et al., ICLR 2022) and diffusers' schedulers.
 */
#ifndef BRISK_DIFFUSION_H
#define BRISK_DIFFUSION_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "brisk/denoiser.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum brisk_beta_schedule {
    BRISK_BETA_LINEAR = 0,
    BRISK_BETA_SCALED_LINEAR,
    BRISK_BETA_SQUAREDCOS_CAP_V2,
    BRISK_BETA_TRAINED, /* trained_betas given explicitly */
    BRISK_BETA_COUNT
} brisk_beta_schedule;

typedef enum brisk_timestep_spacing {
    BRISK_SPACING_LEADING = 0, /* i * (T // N) + steps_offset */
    BRISK_SPACING_LINSPACE,    /* round(linspace(0, T - 1, N)) */
    BRISK_SPACING_TRAILING,    /* round(arange(T, 0, -T / N)) - 1 */
    BRISK_SPACING_COUNT
} brisk_timestep_spacing;

typedef enum brisk_sampler_kind {
    BRISK_SAMPLER_DDPM = 0,     /* "ddpm": ancestral */
    BRISK_SAMPLER_DDIM,         /* "ddim": eta >= 0 */
    BRISK_SAMPLER_PNDM,         /* "pndm": diffusers PNDMScheduler, PRK warm-up + PLMS */
    BRISK_SAMPLER_PLMS,         /* "plms": diffusers PNDMScheduler with skip_prk_steps */
    BRISK_SAMPLER_EULER,        /* "euler": EulerDiscreteScheduler */
    BRISK_SAMPLER_HEUN,         /* "heun": HeunDiscreteScheduler */
    BRISK_SAMPLER_DPMPP_2M,     /* "dpmpp-2m": DPMSolverMultistepScheduler defaults */
    BRISK_SAMPLER_UNIPC,        /* "unipc": UniPCMultistepScheduler (bh2) */
    BRISK_SAMPLER_IPNDM,        /* "ipndm": Adams-Bashforth ramp, no warm-up */
    BRISK_SAMPLER_PSEUDO_EULER, /* "pseudo-euler": PNDM authors' DDIM */
    BRISK_SAMPLER_SPNDM,        /* "spndm": S-PNDM */
    BRISK_SAMPLER_FPNDM,        /* "fpndm": F-PNDM */
    BRISK_SAMPLER_FON,          /* "fon": classical RK4 + Adams-Bashforth on x */
    BRISK_SAMPLER_PF,           /* "pf": probability-flow ODE, adaptive RK45; run API only
                                   (its step API returns BRISK_EUNSUPPORTED) */
    BRISK_SAMPLER_COUNT
} brisk_sampler_kind;

/* How time grids and alpha-bar lookups follow the peers. */
typedef enum brisk_time_mode {
    BRISK_TIME_DIFFUSERS = 0, /* "diffusers": exactly what diffusers computes, quirks included */
    BRISK_TIME_REFERENCE,     /* "reference": the PNDM authors' grid, alpha-bar at [t + 1] */
    BRISK_TIME_GRID,          /* "grid": prev_t follows the grid; exact variable-step
                                 Adams-Bashforth weights on uneven grids */
    BRISK_TIME_MODE_COUNT
} brisk_time_mode;

typedef enum brisk_variance_type {
    BRISK_VARIANCE_FIXED_SMALL = 0,
    BRISK_VARIANCE_FIXED_SMALL_LOG,
    BRISK_VARIANCE_FIXED_LARGE,
    BRISK_VARIANCE_FIXED_LARGE_LOG,
    BRISK_VARIANCE_COUNT
} brisk_variance_type;

/* Final sigma of the sigma-based samplers (diffusers' final_sigmas_type). */
typedef enum brisk_final_sigmas {
    BRISK_FINAL_SIGMA_ZERO = 0, /* "zero" */
    BRISK_FINAL_SIGMA_MIN,      /* "sigma_min": sigma of training step 0 */
    BRISK_FINAL_SIGMA_COUNT
} brisk_final_sigmas;

/* Multistep solver variants: DPM-Solver++ ("midpoint", "heun") and UniPC ("bh1", "bh2"). */
typedef enum brisk_solver_type {
    BRISK_SOLVER_MIDPOINT = 0,
    BRISK_SOLVER_HEUN,
    BRISK_SOLVER_BH1,
    BRISK_SOLVER_BH2,
    BRISK_SOLVER_COUNT
} brisk_solver_type;

/* Time variable of grid mode's variable-step Adams-Bashforth weights (PNDM family). */
typedef enum brisk_grid_variable {
    BRISK_GRID_T = 0, /* "t": the training timestep; on an even grid the weights are PNDM's
                         fixed ones (55, -59, 37, -9)/24 */
    BRISK_GRID_SIGMA, /* "sigma": sqrt((1 - a) / a), in which the transfer phi is an exact
                         Euler step; restores the Adams-Bashforth order (docs/samplers.md) */
    BRISK_GRID_VARIABLE_COUNT
} brisk_grid_variable;

#define BRISK_MAX_DISABLE_CORRECTOR 64

const char *brisk_sampler_kind_name(brisk_sampler_kind k);
/* Unknown names are BRISK_EUNSUPPORTED with a message listing the valid names. */
int brisk_sampler_kind_from_name(const char *name, brisk_sampler_kind *out);
const char *brisk_beta_schedule_name(brisk_beta_schedule b);
int brisk_beta_schedule_from_name(const char *name, brisk_beta_schedule *out);
const char *brisk_timestep_spacing_name(brisk_timestep_spacing s);
int brisk_timestep_spacing_from_name(const char *name, brisk_timestep_spacing *out);
const char *brisk_time_mode_name(brisk_time_mode m);
int brisk_time_mode_from_name(const char *name, brisk_time_mode *out);
const char *brisk_variance_type_name(brisk_variance_type v);
int brisk_variance_type_from_name(const char *name, brisk_variance_type *out);
const char *brisk_final_sigmas_name(brisk_final_sigmas f);
int brisk_final_sigmas_from_name(const char *name, brisk_final_sigmas *out);
const char *brisk_solver_type_name(brisk_solver_type t);
int brisk_solver_type_from_name(const char *name, brisk_solver_type *out);
const char *brisk_grid_variable_name(brisk_grid_variable v);
int brisk_grid_variable_from_name(const char *name, brisk_grid_variable *out);

/* A scheduler configuration with diffusers' key names. Fill with
 * brisk_scheduler_config_default (diffusers' defaults for that kind), then override. */
typedef struct brisk_scheduler_config {
    brisk_sampler_kind kind;
    brisk_time_mode time_mode;
    int num_train_timesteps;
    double beta_start, beta_end;
    brisk_beta_schedule beta_schedule;
    double *trained_betas; /* owned copy when beta_schedule == BRISK_BETA_TRAINED */
    size_t n_trained_betas;
    brisk_prediction prediction_type;
    brisk_timestep_spacing timestep_spacing;
    int steps_offset;
    int set_alpha_to_one;
    int clip_sample;
    double clip_sample_range;
    int thresholding;
    double dynamic_thresholding_ratio;
    double sample_max_value;
    int rescale_betas_zero_snr;
    brisk_variance_type variance_type; /* DDPM */
    double eta;                        /* DDIM */
    int solver_order;                  /* DPM-Solver++, UniPC */
    int lower_order_final;
    double pf_rtol, pf_atol, pf_t_end; /* PF (RK45) */
    /* Added fields (diffusers key names). */
    int use_clipped_model_output;      /* DDIM step(use_clipped_model_output=...) */
    brisk_final_sigmas final_sigmas_type; /* Euler, DPM-Solver++, UniPC, iPNDM */
    brisk_solver_type solver_type;     /* DPM-Solver++: midpoint|heun; UniPC: bh1|bh2 */
    int predict_x0;                    /* UniPC: 1 (data prediction) or 0 (noise) */
    int euler_at_final;                /* DPM-Solver++ */
    double lambda_min_clipped;         /* DPM-Solver++ (default -inf) */
    int disable_corrector[BRISK_MAX_DISABLE_CORRECTOR]; /* UniPC: step indices */
    int n_disable_corrector;
    /* 1 (default): build betas / alphas_cumprod in float32 as the peers do (torch / the
     * PNDM authors), stored as float64; 0: all float64. */
    int schedule_float32;
    brisk_grid_variable grid_variable; /* grid mode's Adams-Bashforth time variable */
} brisk_scheduler_config;

void brisk_scheduler_config_default(brisk_scheduler_config *c, brisk_sampler_kind kind);
/* Releases owned members (trained_betas). */
void brisk_scheduler_config_clear(brisk_scheduler_config *c);
/* Deep copy. */
int brisk_scheduler_config_copy(brisk_scheduler_config *dst, const brisk_scheduler_config *src);
/* Restricts c's training schedule to its first level + 1 steps (timesteps 0..level keep
 * their betas and alpha-bars bit for bit): the config becomes beta_schedule trained_betas
 * with num_train_timesteps = level + 1, so a sampler run with it starts at timestep
 * `level` instead of T - 1 and its x_T is the state at that level (DPM-OT's data latents,
 * img2img). Needs 1 <= level < T; rescale_betas_zero_snr is BRISK_EUNSUPPORTED (it would
 * change the kept betas). Use timestep_spacing trailing (or the reference / grid time
 * modes) for a grid whose first model call is at `level`. */
int brisk_scheduler_config_truncate(brisk_scheduler_config *c, int level);

/* Called once per key brisk does not know (the key is ignored). */
typedef void (*brisk_config_warn_fn)(void *ctx, const char *what, const char *key);

/* Reads a diffusers scheduler config. `class_name` is a diffusers class
 * ("DDIMScheduler", ...) or "pndm-original:<DDIM|S-PNDM|F-PNDM|FON>"; NULL reads the
 * config's "_class_name". `out` is output-only (its previous contents are neither read
 * nor freed; release it with brisk_scheduler_config_clear). Unknown keys go to `warn` (may be NULL) and are ignored; known
 * keys with values brisk does not support are BRISK_EUNSUPPORTED ("config key
 * 'use_karras_sigmas'=true is not supported"). `what` names the source in messages. */
int brisk_scheduler_config_from_json(const cJSON *cfg, const char *class_name,
                                     brisk_scheduler_config *out, const char *what,
                                     brisk_config_warn_fn warn, void *warn_ctx);
int brisk_scheduler_config_load(const char *path, brisk_scheduler_config *out,
                                brisk_config_warn_fn warn, void *warn_ctx);

/* Reads trained betas from a file: a JSON array of numbers, or a text file of numbers
 * separated by white space or commas. *betas is owned by the caller (brisk_free). */
int brisk_trained_betas_load(const char *path, double **betas, size_t *n);

/* The training noise schedule: betas and alphas_cumprod (length T), float64. */
typedef struct brisk_noise_schedule {
    int T;
    double *betas;          /* owned */
    double *alphas_cumprod; /* owned */
    double final_alpha_cumprod;
} brisk_noise_schedule;
int brisk_noise_schedule_init(brisk_noise_schedule *s, const brisk_scheduler_config *c);
void brisk_noise_schedule_free(brisk_noise_schedule *s);
/* Alpha-bar at fractional t in [0, T-1], linear interpolation between integer steps. */
double brisk_alpha_bar_at(const brisk_noise_schedule *s, double t);

typedef struct brisk_scheduler brisk_scheduler;

/* Copies the config. Returns BRISK_EUNSUPPORTED for combinations brisk cannot run. */
int brisk_scheduler_create(const brisk_scheduler_config *c, brisk_scheduler **out);
void brisk_scheduler_free(brisk_scheduler *s);
const brisk_scheduler_config *brisk_scheduler_get_config(const brisk_scheduler *s);
const brisk_noise_schedule *brisk_scheduler_noise_schedule(const brisk_scheduler *s);

/* Prepares a run of `num_inference_steps` for batches of at most max_batch x dim; all
 * workspace is allocated here. Steps below the method's minimum are BRISK_EINVAL
 * ("PRK mode needs at least 4 steps"), as are more steps than num_train_timesteps and grids
 * that would index past the schedule (1000 steps with steps_offset 1, where diffusers raises
 * IndexError). Resets the multistep history and the supplied-noise position. */
int brisk_scheduler_set_timesteps(brisk_scheduler *s, int num_inference_steps, size_t max_batch,
                                  size_t dim);

/* The planned model calls (known in advance except for PF): count and timesteps. */
size_t brisk_scheduler_num_model_calls(const brisk_scheduler *s);
const double *brisk_scheduler_model_timesteps(const brisk_scheduler *s);
/* The alpha-bar the model sees at each planned call (same length). */
const double *brisk_scheduler_model_alpha_bars(const brisk_scheduler *s);
/* The discretisation grid (num_inference_steps + 1 points, the last is the end time). */
const double *brisk_scheduler_grid(const brisk_scheduler *s, size_t *n);

double brisk_scheduler_init_noise_sigma(const brisk_scheduler *s);
/* 1 when every planned model call has been stepped. */
int brisk_scheduler_done(const brisk_scheduler *s);
/* Timestep t of the next model call and the alpha-bar a model should see there. */
int brisk_scheduler_next(const brisk_scheduler *s, double *t, double *alpha_bar);
/* out = the model input for state x at the next call (Euler/Heun scale by
 * 1/sqrt(sigma^2+1); identity otherwise). out may equal x. */
void brisk_scheduler_scale_model_input(const brisk_scheduler *s, const double *x, double *out,
                                       size_t batch);

/* Stochastic steps draw noise from brisk's RNG: sample i of the batch uses
 * (seed, sample_offset + i). Default seed 0, offset 0. */
void brisk_scheduler_set_seed(brisk_scheduler *s, uint64_t seed, uint64_t sample_offset);
/* Or consume supplied standard normals in order (batch*dim per draw); not owned, must
 * outlive the run. Running out is BRISK_ESTATE. */
void brisk_scheduler_set_noise(brisk_scheduler *s, const double *noise, size_t n);

/* One model call's update, diffusers' step(model_output, t, sample) -> prev_sample:
 * model_output (batch, dim, of cfg.prediction_type) was computed at the timestep given by
 * brisk_scheduler_next (t must equal it, else BRISK_EINVAL), `sample` is the current state;
 * `prev_sample` receives the state of the next model call (an intermediate Runge-Kutta /
 * Heun stage during warm-ups, as diffusers' PNDMScheduler returns) or, after the last call,
 * the final sample. prev_sample may alias sample; the batch must stay the same during a run.
 * Allocates nothing. Non-finite model output (or a non-finite update) is BRISK_ENUMERIC
 * naming the step; pf returns BRISK_EUNSUPPORTED. */
int brisk_scheduler_step(brisk_scheduler *s, const double *model_output, double t,
                         const double *sample, double *prev_sample, size_t batch);

/* Number of model calls made since set_timesteps. */
size_t brisk_scheduler_nfe(const brisk_scheduler *s);

/* The span of the probability-flow ODE that the sampler discretises, in variance-preserving
 * terms (x = sqrt(a) x0 + sqrt(1-a) eps), for measuring its error against an exact solution:
 * the run starts from the VP state x_start_scale * x_T at alpha-bar *a_start (x_T the
 * standard normals given to brisk_sample_run) and its final state x maps to the VP state
 * x_end_scale * x at alpha-bar *a_end. Valid after set_timesteps. Any pointer may be NULL. */
void brisk_scheduler_ode_span(const brisk_scheduler *s, double *a_start, double *x_start_scale,
                              double *a_end, double *x_end_scale);

/* Run API. */
typedef struct brisk_run_options {
    uint64_t seed;          /* for stochastic samplers */
    uint64_t sample_offset; /* index of x's first sample in the whole job */
    /* Called after every model call; a non-zero return stops the run (BRISK_ESTATE). */
    int (*progress)(void *ctx, size_t calls_done, size_t calls_planned);
    void *progress_ctx;
} brisk_run_options;
void brisk_run_options_default(brisk_run_options *o);

typedef struct brisk_run_stats {
    size_t nfe;
    double seconds;
} brisk_run_stats;

/* Draws x_T: standard normals for samples sample_offset.. (RNG stream BRISK_RNG_INIT). */
void brisk_sample_init_noise(uint64_t seed, uint64_t sample_offset, size_t batch, size_t dim,
                             double *x);

/* Runs the whole sampler: x (batch, dim) holds x_T as standard normals on entry (the run
 * applies init_noise_sigma) and the final sample on return. Calls set_timesteps itself
 * with `num_inference_steps` (ignored by pf, which is adaptive). The denoiser's prediction
 * type is converted to cfg.prediction_type at each call's alpha-bar. Errors name the step;
 * supplied noise (set_noise) is used when set, else the RNG with opts' seed / offset. */
int brisk_sample_run(brisk_scheduler *s, const brisk_denoiser *d, int num_inference_steps,
                     double *x, size_t batch, const brisk_run_options *o, brisk_run_stats *st);

#ifdef __cplusplus
}
#endif
#endif
