/* Internal header of the diffusion module: the scheduler object and the helpers its
 * source files share. Not part of the public API. */
#ifndef BRISK_DIFFUSION_IMPL_H
#define BRISK_DIFFUSION_IMPL_H

#include "brisk/core.h"
#include "brisk/diffusion.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* ---- numpy / torch emulation (timesteps.c) ------------------------------------------- */

/* numpy.linspace(start, stop, num)[i] (endpoint=True): i*step + start, last = stop. */
double brisk__np_linspace(double start, double stop, size_t num, size_t i);
/* numpy.arange(start, stop, step) length and element i (float arithmetic as numpy does:
 * delta = (start + step) - start, x_i = start + i*delta). */
size_t brisk__np_arange_len(double start, double stop, double step);
double brisk__np_arange_at(double start, double step, size_t i);
/* numpy.round: round half to even. */
double brisk__np_round(double x);
/* numpy.interp(x, arange(n), fp) with clamping at both ends. */
double brisk__np_interp_index(double x, const double *fp, size_t n);

/* The integer timesteps diffusers' DDPM/DDIM/PNDM schedulers compute for
 * timestep_spacing (leading: + steps_offset), in calling order (descending).
 * out: capacity n + 1. Returns the count (n, or n + 1 where numpy's float arange for
 * trailing spacing yields one more point, as it does for N = 61 with T = 1000). */
size_t brisk__dd_timesteps(const brisk_scheduler_config *c, int n, double *out);
/* DPMSolverMultistep / UniPC timesteps (n + 1 linspace points, the last dropped), with
 * last_timestep = T - clipped_idx. */
size_t brisk__ms_timesteps(const brisk_scheduler_config *c, int n, int last_timestep, double *out);
/* EulerDiscrete / Heun float32 timesteps. */
size_t brisk__euler_timesteps(const brisk_scheduler_config *c, int n, double *out);

/* Checks that integer timesteps lie in [0, T-1] (ddim.c); BRISK_EINVAL naming the first
 * one outside, where diffusers would raise IndexError. */
int brisk__check_timesteps(const brisk_scheduler *s, const double *ts, size_t n);

/* ---- helpers (common.c) -------------------------------------------------------------- */

/* Dynamic thresholding (Saharia et al. 2022, Imagen, sec. 2.3; diffusers
 * _threshold_sample): per sample, s = clamp(quantile(|x0|, ratio), 1, max_value);
 * x0 = clamp(x0, -s, s) / s. work: dim doubles. */
void brisk__threshold(double *x0, size_t batch, size_t dim, double ratio, double max_value,
                      double *work);
/* The PNDM transfer phi(x, e, a -> a') in the PNDM authors' form (Liu et al. 2022,
 * eq. 11; runner/method.py transfer()):
 *     x' = x + (a' - a) (x / (sqrt(a) (sqrt(a) + sqrt(a'))) - e / (sqrt(a) (sqrt((1-a') a)
 *          + sqrt((1-a) a')))) = x + (cx x - ce e),
 * with the two coefficients computed once per step. */
typedef struct brisk__phi_coef {
    double cx, ce;
} brisk__phi_coef;
static inline brisk__phi_coef brisk__phi_coefs(double a, double an) {
    double sa = sqrt(a), san = sqrt(an);
    double c1 = 1.0 / (sa * (sa + san));
    double c2 = 1.0 / (sa * (sqrt((1.0 - an) * a) + sqrt((1.0 - a) * an)));
    brisk__phi_coef c = {(an - a) * c1, (an - a) * c2};
    return c;
}
/* phi(x, e) - x */
static inline double brisk__phi_delta(brisk__phi_coef c, double x, double e) {
    return c.cx * x - c.ce * e;
}
static inline double brisk__phi_apply(brisk__phi_coef c, double x, double e) {
    return x + (c.cx * x - c.ce * e);
}
/* One-off form (tests): phi(x, e, a, a'). */
static inline double brisk__phi(double x, double e, double a, double an) {
    return brisk__phi_apply(brisk__phi_coefs(a, an), x, e);
}

/* Exact variable-step Adams-Bashforth weights: nodes tau[0..m-1] (tau[0] the current
 * time, then older ones), step from tau[0] to t1. w[j] = (1/h) int_{tau0}^{t1} L_j(s) ds,
 * h = t1 - tau0, L_j the Lagrange basis on the nodes. m <= 4. */
void brisk__ab_weights(const double *tau, int m, double t1, double *w);

/* ---- the scheduler ------------------------------------------------------------------- */

enum pn_op {
    PN_STEP = 0, /* push e; e_eff = sum w_j hist_j; x' = phi(x, e_eff) */
    PN_HEUN1,    /* push e; cur = x; x' = phi(cur, e) */
    PN_HEUN2,    /* x' = phi(cur, (hist_0 + e) / 2) */
    PN_RK1,      /* push e; cur = x; acc = e/6; x' = phi(cur, e) */
    PN_RK2,      /* acc += e/3; x' = phi(cur, e) */
    PN_RK3,      /* acc += e/3; x' = phi(cur, e) */
    PN_RK4,      /* x' = phi(cur, acc + e/6) */
    PN_FON1,     /* d = phi(x, e) - x (transfer t -> t-1); push d; cur = x; acc = d/6;
                    x' = cur + d h/2 */
    PN_FON2,     /* d = phi(cur, e) - cur; acc += d/3; x' = cur + d h/2 */
    PN_FON3,     /* d ...; acc += d/3; x' = cur + d h */
    PN_FON4,     /* d ...; x' = cur + (acc + d/6) h */
    PN_FONAB     /* d = phi(x, e) - x; push d; x' = x + h sum w_j hist_j */
};

/* One planned model call of the PNDM family. */
typedef struct pn_call {
    int op;
    double a_from, a_to; /* transfer alpha-bars */
    double h;            /* FON: step length in t */
    int nw;              /* multistep weights over the history (newest first) */
    double w[4];
} pn_call;

struct brisk_scheduler {
    brisk_scheduler_config cfg;
    brisk_noise_schedule ns;
    int T;
    int N; /* num_inference_steps (0 before set_timesteps) */
    int ready;

    /* plan */
    size_t n_calls;
    double *t_calls; /* (n_calls) model timesteps */
    double *a_calls; /* (n_calls) alpha-bar the model sees */
    double *grid;    /* (n_grid) discretisation grid */
    size_t n_grid;
    pn_call *pn;     /* PNDM family: (n_calls) */
    double *a_prev;  /* DDPM/DDIM: (n_calls) alpha-bar after the step */
    double *sigmas;  /* sigma samplers: (n_sigmas) */
    size_t n_sigmas;
    int pn_late_convert; /* diffusers PNDMScheduler: combine raw outputs, convert after */
    double init_noise_sigma;
    double ode_a_start, ode_x_start, ode_a_end, ode_x_end;

    /* workspace: all allocated by set_timesteps */
    size_t max_batch, dim;
    double *ws;
    double *hist[4];
    int n_hist;
    double *cur, *acc, *tmp, *tmp2, *noise_buf, *work, *xin, *mout;
    double *rk[7];   /* PF: RK45 stages */
    double *rk_y, *rk_ynew;

    /* run state */
    size_t k;      /* model calls stepped */
    size_t batch;  /* batch of the current run (fixed at the first step) */
    int lower_order_nums, this_order, have_last; /* DPM-Solver++ / UniPC */
    int heun_first; /* Heun: 1 when the next call is a first-order call */
    double heun_dt;

    /* noise */
    uint64_t seed, sample_offset;
    const double *noise;
    size_t noise_n, noise_pos;
    size_t noise_draws; /* draws made in this run (RNG stream counter) */
};

/* Planning (one per family); called by brisk_scheduler_set_timesteps after the common
 * checks. They allocate the plan arrays. */
int brisk__plan_ddpm_ddim(brisk_scheduler *s, int n);
int brisk__plan_pndm(brisk_scheduler *s, int n);
int brisk__plan_sigma(brisk_scheduler *s, int n);     /* Euler, Heun, iPNDM */
int brisk__plan_multistep(brisk_scheduler *s, int n); /* DPM-Solver++, UniPC */

/* Steps (one per family); x (batch, dim) -> out, model output already checked finite. */
int brisk__step_ddpm(brisk_scheduler *s, const double *mo, const double *x, double *out, size_t b);
int brisk__step_ddim(brisk_scheduler *s, const double *mo, const double *x, double *out, size_t b);
int brisk__step_pndm(brisk_scheduler *s, const double *mo, const double *x, double *out, size_t b);
int brisk__step_euler(brisk_scheduler *s, const double *mo, const double *x, double *out, size_t b);
int brisk__step_heun(brisk_scheduler *s, const double *mo, const double *x, double *out, size_t b);
int brisk__step_ipndm(brisk_scheduler *s, const double *mo, const double *x, double *out, size_t b);
int brisk__step_dpmpp(brisk_scheduler *s, const double *mo, const double *x, double *out, size_t b);
int brisk__step_unipc(brisk_scheduler *s, const double *mo, const double *x, double *out, size_t b);

/* PF: the whole run (pf.c). */
int brisk__run_pf(brisk_scheduler *s, const brisk_denoiser *d, double *x, size_t batch,
                  const brisk_run_options *o, size_t *nfe);

/* Draws one batch*dim block of standard normals into s->noise_buf (supplied noise or the
 * RNG stream BRISK_RNG_SAMPLER, counter = draw index). */
int brisk__draw_noise(brisk_scheduler *s, size_t batch);

/* Pushes a buffer into the history ring (newest first): returns the slot to fill. */
double *brisk__hist_push(brisk_scheduler *s);

/* Converts a model output of type `pred` made on input x at alpha-bar a into epsilon /
 * x0 (n elements; out may equal mo). */
void brisk__to_eps(brisk_prediction pred, const double *mo, const double *x, double a,
                   size_t n, double *out);
void brisk__to_x0(brisk_prediction pred, const double *mo, const double *x, double a,
                  size_t n, double *out);

/* Alpha-bar of a sigma: 1 / (1 + sigma^2). */
static inline double brisk__sigma_alpha(double sigma) { return 1.0 / (1.0 + sigma * sigma); }

/* alphas_cumprod extended to [-1, T-1]: linear interpolation, with the value at -1 being
 * final_alpha_cumprod (grid mode). */
double brisk__alpha_ext(const brisk_scheduler *s, double t);

#endif
