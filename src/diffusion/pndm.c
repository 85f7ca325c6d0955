/* The PNDM family (Liu et al., "Pseudo numerical methods for diffusion models on
 * manifolds", ICLR 2022): pseudo-Euler (DDIM), S-PNDM, F-PNDM, FON, and diffusers'
 * PNDMScheduler (PRK + PLMS, or PLMS with skip_prk_steps).
 *
 * Every planned model call carries its update: which transfer (phi, eq. 11) it makes,
 * from which alpha-bar to which, on which base state and with which multistep weights.
 * The time conventions of the three time modes live entirely in the planning below:
 *   reference: the authors' grid range(0, T, T // N) walked down, the step after 0 going to
 *              -1, phi reading alphas_cumprod[floor(t) + 1] (runner/method.py transfer),
 *              the model seeing alphas_cumprod interpolated at t;
 *   diffusers: diffusers' PNDMScheduler timesteps, prev_t = t - T // N hard-coded, PRK
 *              midpoints t - T // N // 2, alphas_cumprod[t] with final_alpha_cumprod below 0;
 *   grid:      the diffusers grid followed exactly (prev_t = the next grid point, the end
 *              at -1 = final_alpha_cumprod), midpoints (t + t')/2 with alpha-bar linearly
 *              interpolated, and exact variable-step Adams-Bashforth weights in t. */
#include "diffusion/diffusion_impl.h"

#include <math.h>
#include <string.h>

/* Fixed (equal-step) Adams-Bashforth weights, newest first (PNDM eq. 12; diffusers
 * step_plms). */
static const double AB[5][4] = {{0, 0, 0, 0},
                                {1, 0, 0, 0},
                                {3.0 / 2, -1.0 / 2, 0, 0},
                                {23.0 / 12, -16.0 / 12, 5.0 / 12, 0},
                                {55.0 / 24, -59.0 / 24, 37.0 / 24, -9.0 / 24}};

typedef struct planner {
    brisk_scheduler *s;
    brisk_time_mode mode;
    size_t n; /* calls added */
} planner;

/* alpha-bar used by the transfer at time t */
static int alpha_phi(const brisk_scheduler *s, double t, double *out) {
    const double *ac = s->ns.alphas_cumprod;
    int T = s->T;
    switch (s->cfg.time_mode) {
    case BRISK_TIME_REFERENCE: {
        long i = (long)t + 1; /* torch .long() truncates toward zero */
        if (i < 0 || i > T - 1)
            return brisk_error(BRISK_EINVAL,
                               "reference time mode reads alphas_cumprod[t + 1] = [%ld], past the "
                               "%d-step schedule (the authors' code raises IndexError here; use "
                               "fewer steps)",
                               i, T);
        *out = ac[i];
        return BRISK_OK;
    }
    case BRISK_TIME_DIFFUSERS:
        if (t < 0) {
            *out = s->ns.final_alpha_cumprod;
            return BRISK_OK;
        }
        if (t > T - 1)
            return brisk_error(BRISK_EINVAL,
                               "timestep %g lies past the %d-step schedule (diffusers raises "
                               "IndexError here)",
                               t, T);
        *out = t == floor(t) ? ac[(int)t] : brisk_alpha_bar_at(&s->ns, t);
        return BRISK_OK;
    default: *out = brisk__alpha_ext(s, t); return BRISK_OK;
    }
}

/* alpha-bar the model sees at time t */
static double alpha_model(const brisk_scheduler *s, double t) {
    switch (s->cfg.time_mode) {
    case BRISK_TIME_REFERENCE: return brisk_alpha_bar_at(&s->ns, t);
    case BRISK_TIME_DIFFUSERS:
        return t == floor(t) && t >= 0 && t <= s->T - 1 ? s->ns.alphas_cumprod[(int)t]
                                                         : brisk_alpha_bar_at(&s->ns, t);
    default: return brisk__alpha_ext(s, t);
    }
}

static int add(planner *p, double t, int op, double from, double to, double h, int nw,
               const double *w) {
    brisk_scheduler *s = p->s;
    pn_call *c = &s->pn[p->n];
    memset(c, 0, sizeof *c);
    /* grid mode never calls the model outside its training range: a stage at the end
     * point -1 (Heun / Runge-Kutta warm-up with N <= 3) sees t = 0 */
    double tc = p->mode == BRISK_TIME_GRID && t < 0 ? 0 : t;
    s->t_calls[p->n] = tc;
    s->a_calls[p->n] = alpha_model(s, tc);
    c->op = op;
    int rc = alpha_phi(s, from, &c->a_from);
    if (!rc) rc = alpha_phi(s, to, &c->a_to);
    if (rc) return rc;
    c->h = h;
    c->nw = nw;
    for (int j = 0; j < nw; j++) c->w[j] = w[j];
    p->n++;
    return BRISK_OK;
}

/* Multistep weights for a step from g[i] to `to` with m history entries at g[i], g[i-1], ...
 * (grid mode: exact variable-step weights; otherwise the fixed ones). hist_times holds the
 * times of the history entries, newest first. */
static void weights(const planner *p, const double *hist_times, int m, double to, double *w) {
    if (p->mode != BRISK_TIME_GRID || m < 2) {
        memcpy(w, AB[m], sizeof AB[m]);
    } else if (p->s->cfg.grid_variable == BRISK_GRID_SIGMA && p->s->cfg.kind != BRISK_SAMPLER_FON) {
        /* in sigma = sqrt((1-a)/a) the transfer is an Euler step for x / sqrt(a) (DDIM as
         * the ODE d(x/sqrt(a))/dsigma = eps; Song et al. 2021 eq. 14), so Adams-Bashforth
         * in sigma keeps its order */
        double tau[4];
        for (int j = 0; j < m; j++) {
            double a = brisk__alpha_ext(p->s, hist_times[j]);
            tau[j] = sqrt((1 - a) / a);
        }
        double a = brisk__alpha_ext(p->s, to);
        brisk__ab_weights(tau, m, sqrt((1 - a) / a), w);
    } else {
        brisk__ab_weights(hist_times, m, to, w);
    }
}

enum structure { S_ORDER1, S_HEUN, S_RK, S_FON };

int brisk__plan_pndm(brisk_scheduler *s, int n) {
    const brisk_scheduler_config *c = &s->cfg;
    brisk_sampler_kind kind = c->kind;
    brisk_time_mode mode = c->time_mode;
    int T = s->T, ratio = T / n;
    /* ---- the grid g[0..M] ---- */
    size_t M;
    double *g;
    if (mode == BRISK_TIME_REFERENCE) {
        int skip = T / n;
        M = (size_t)((T + skip - 1) / skip); /* len(range(0, T, skip)) */
        g = brisk_malloc((M + 1) * sizeof *g);
        if (!g) return BRISK_ENOMEM;
        for (size_t i = 0; i < M; i++) g[i] = (double)(M - 1 - i) * skip;
        g[M] = -1;
    } else {
        g = brisk_malloc(((size_t)n + 2) * sizeof *g);
        if (!g) return BRISK_ENOMEM;
        M = brisk__dd_timesteps(c, n, g);
        int rc = brisk__check_timesteps(s, g, M);
        if (rc) {
            brisk_free(g);
            return rc;
        }
        g[M] = mode == BRISK_TIME_GRID ? -1 : g[M - 1] - ratio;
    }
    s->grid = g;
    s->n_grid = M + 1;

    enum structure st;
    int maxo;
    switch (kind) {
    case BRISK_SAMPLER_PSEUDO_EULER: st = S_ORDER1, maxo = 1; break;
    case BRISK_SAMPLER_SPNDM: st = S_HEUN, maxo = 2; break;
    case BRISK_SAMPLER_PLMS: st = S_HEUN, maxo = 4; break;
    case BRISK_SAMPLER_FON: st = S_FON, maxo = 4; break;
    default: st = S_RK, maxo = 4; break; /* PNDM, FPNDM */
    }
    size_t cap = 4 * M + 8;
    s->t_calls = brisk_malloc(cap * sizeof(double));
    s->a_calls = brisk_malloc(cap * sizeof(double));
    s->pn = brisk_malloc(cap * sizeof(pn_call));
    if (!s->t_calls || !s->a_calls || !s->pn) return BRISK_ENOMEM;
    s->pn_late_convert = mode == BRISK_TIME_DIFFUSERS &&
                         (kind == BRISK_SAMPLER_PNDM || kind == BRISK_SAMPLER_PLMS ||
                          kind == BRISK_SAMPLER_FPNDM);
    planner p = {s, mode, 0};
    double w[4], ht[4];
    int rc = BRISK_OK;

    if (mode == BRISK_TIME_DIFFUSERS && st == S_RK) {
        /* diffusers PNDMScheduler.set_timesteps / step_prk / step_plms, formula for formula:
         * A = _timesteps ascending; PRK on A[-4:], then PLMS on A[:-3] reversed. */
        if (M < 4)
            return brisk_error(BRISK_EINVAL, "PRK mode needs at least 4 timesteps, got %zu", M);
        double A[4], P[12];
        for (int i = 0; i < 4; i++) A[i] = g[3 - i]; /* A[-4:] ascending */
        int half = ratio / 2;
        double rep[8];
        for (int i = 0; i < 4; i++) {
            rep[2 * i] = A[i];
            rep[2 * i + 1] = A[i] + half;
        }
        /* prk[:-1].repeat(2)[1:-1][::-1] */
        double r2[14];
        for (int i = 0; i < 7; i++) r2[2 * i] = r2[2 * i + 1] = rep[i];
        for (int i = 0; i < 12; i++) P[i] = r2[12 - i];
        for (int cidx = 0; cidx < 12 && !rc; cidx++) {
            double base = P[cidx / 4 * 4];
            double prev = P[cidx] - (cidx % 2 ? 0 : half);
            static const int ops[4] = {PN_RK1, PN_RK2, PN_RK3, PN_RK4};
            rc = add(&p, P[cidx], ops[cidx % 4], base, prev, 0, 0, NULL);
        }
        for (size_t i = 3; i < M && !rc; i++)
            rc = add(&p, g[i], PN_STEP, g[i], g[i] - ratio, 0, 4, AB[4]);
    } else if (mode == BRISK_TIME_DIFFUSERS && st == S_HEUN) {
        /* step_plms with skip_prk_steps: timesteps A[:-1], A[-2:-1], A[-1:] reversed; call 1
         * re-evaluates at the predicted point and steps (t + T//N) -> t from the saved x. */
        rc = add(&p, g[0], PN_HEUN1, g[0], g[0] - ratio, 0, 1, AB[1]);
        if (M >= 2 && !rc) rc = add(&p, g[1], PN_HEUN2, g[1] + ratio, g[1], 0, 0, NULL);
        for (size_t k = 2; k <= M && M >= 2 && !rc; k++) {
            double t = g[k - 1];
            int m = (int)k < maxo ? (int)k : maxo;
            rc = add(&p, t, PN_STEP, t, t - ratio, 0, m, AB[m]);
        }
    } else {
        /* reference and grid modes (and diffusers-mode pseudo-Euler / FON) follow one
         * structure; only the next time of a step differs. */
        for (size_t i = 0; i < M && !rc; i++) {
            double t = g[i];
            double tn = mode == BRISK_TIME_DIFFUSERS ? t - ratio : g[i + 1];
            double tm = (t + tn) / 2;
            int nh = (int)i + 1; /* history entries after this step's push */
            int m = nh < maxo ? nh : maxo;
            for (int j = 0; j < m; j++) ht[j] = g[i - (size_t)j];
            switch (st) {
            case S_ORDER1: rc = add(&p, t, PN_STEP, t, tn, 0, 1, AB[1]); break;
            case S_HEUN:
                if (i == 0) {
                    rc = add(&p, t, PN_HEUN1, t, tn, 0, 1, AB[1]);
                    if (!rc) rc = add(&p, tn, PN_HEUN2, t, tn, 0, 0, NULL);
                } else {
                    weights(&p, ht, m, tn, w);
                    rc = add(&p, t, PN_STEP, t, tn, 0, m, w);
                }
                break;
            case S_RK:
                if (i < 3) {
                    rc = add(&p, t, PN_RK1, t, tm, 0, 0, NULL);
                    if (!rc) rc = add(&p, tm, PN_RK2, t, tm, 0, 0, NULL);
                    if (!rc) rc = add(&p, tm, PN_RK3, t, tn, 0, 0, NULL);
                    if (!rc) rc = add(&p, tn, PN_RK4, t, tn, 0, 0, NULL);
                } else {
                    weights(&p, ht, 4, tn, w);
                    rc = add(&p, t, PN_STEP, t, tn, 0, 4, w);
                }
                break;
            case S_FON:
                /* D = phi(x, e, t, t - 1) - x from the base x (runner/method.py gen_fon) */
                if (i < 3) {
                    double h = t - tn;
                    rc = add(&p, t, PN_FON1, t, t - 1, h, 0, NULL);
                    if (!rc) rc = add(&p, tm, PN_FON2, t, t - 1, h, 0, NULL);
                    if (!rc) rc = add(&p, tm, PN_FON3, t, t - 1, h, 0, NULL);
                    if (!rc) rc = add(&p, tn, PN_FON4, t, t - 1, h, 0, NULL);
                } else {
                    weights(&p, ht, 4, tn, w);
                    rc = add(&p, t, PN_FONAB, t, t - 1, t - tn, 4, w);
                }
                break;
            }
        }
    }
    if (rc) return rc;
    s->n_calls = p.n;
    s->init_noise_sigma = 1;
    s->ode_x_start = s->ode_x_end = 1;
    s->ode_a_start = s->pn[0].a_from;
    if (st == S_FON) {
        double end = mode == BRISK_TIME_DIFFUSERS ? g[M - 1] - ratio : g[M];
        rc = alpha_phi(s, end, &s->ode_a_end);
        if (rc) return rc;
    } else {
        s->ode_a_end = s->pn[p.n - 1].a_to;
    }
    return BRISK_OK;
}

/* e_eff (raw, diffusers PNDMScheduler) -> epsilon at the transfer's start: diffusers
 * _get_prev_sample converts v with alpha_prod_t of the from-timestep and the base sample. */
static const double *late(brisk_scheduler *s, const double *e, const double *base, double a,
                          size_t n, double *buf) {
    if (!s->pn_late_convert || s->cfg.prediction_type == BRISK_PRED_EPSILON) return e;
    brisk__to_eps(s->cfg.prediction_type, e, base, a, n, buf);
    return buf;
}

int brisk__step_pndm(brisk_scheduler *s, const double *mo, const double *x, double *out,
                     size_t batch) {
    const pn_call *c = &s->pn[s->k];
    size_t n = batch * s->dim;
    double a = c->a_from;
    brisk__phi_coef pc = brisk__phi_coefs(a, c->a_to);
    double *e = s->tmp, *eff = s->tmp2, *cur = s->cur, *acc = s->acc;
    /* convert the model output to epsilon at the call (or keep it raw for the diffusers
     * PNDMScheduler, which combines raw outputs and converts afterwards) */
    if (s->pn_late_convert) memcpy(e, mo, n * sizeof *e);
    else brisk__to_eps(s->cfg.prediction_type, mo, x, s->a_calls[s->k], n, e);
    const double *ee;
    switch (c->op) {
    case PN_STEP: {
        memcpy(brisk__hist_push(s), e, n * sizeof *e);
        int m = c->nw < s->n_hist ? c->nw : s->n_hist;
        for (size_t i = 0; i < n; i++) {
            double v = 0;
            for (int j = 0; j < m; j++) v += c->w[j] * s->hist[j][i];
            eff[i] = v;
        }
        ee = late(s, eff, x, a, n, eff);
        for (size_t i = 0; i < n; i++) out[i] = brisk__phi_apply(pc, x[i], ee[i]);
        break;
    }
    case PN_HEUN1:
    case PN_RK1:
        memcpy(brisk__hist_push(s), e, n * sizeof *e);
        memcpy(cur, x, n * sizeof *cur);
        if (c->op == PN_RK1)
            for (size_t i = 0; i < n; i++) acc[i] = e[i] / 6;
        ee = late(s, e, cur, a, n, eff);
        for (size_t i = 0; i < n; i++) out[i] = brisk__phi_apply(pc, cur[i], ee[i]);
        break;
    case PN_HEUN2:
        for (size_t i = 0; i < n; i++) eff[i] = (e[i] + s->hist[0][i]) / 2;
        ee = late(s, eff, cur, a, n, eff);
        for (size_t i = 0; i < n; i++) out[i] = brisk__phi_apply(pc, cur[i], ee[i]);
        break;
    case PN_RK2:
    case PN_RK3:
        for (size_t i = 0; i < n; i++) acc[i] += e[i] / 3;
        ee = late(s, e, cur, a, n, eff);
        for (size_t i = 0; i < n; i++) out[i] = brisk__phi_apply(pc, cur[i], ee[i]);
        break;
    case PN_RK4:
        for (size_t i = 0; i < n; i++) eff[i] = acc[i] + e[i] / 6;
        ee = late(s, eff, cur, a, n, eff);
        for (size_t i = 0; i < n; i++) out[i] = brisk__phi_apply(pc, cur[i], ee[i]);
        break;
    case PN_FON1: {
        double *d = brisk__hist_push(s);
        memcpy(cur, x, n * sizeof *cur);
        for (size_t i = 0; i < n; i++) {
            d[i] = brisk__phi_delta(pc, cur[i], e[i]);
            acc[i] = d[i] / 6;
            out[i] = cur[i] + d[i] * c->h / 2;
        }
        break;
    }
    case PN_FON2:
    case PN_FON3:
    case PN_FON4:
        for (size_t i = 0; i < n; i++) {
            double d = brisk__phi_delta(pc, cur[i], e[i]);
            if (c->op == PN_FON4) {
                out[i] = cur[i] + (acc[i] + d / 6) * c->h;
            } else {
                acc[i] += d / 3;
                out[i] = cur[i] + d * (c->op == PN_FON2 ? c->h / 2 : c->h);
            }
        }
        break;
    case PN_FONAB: {
        double *d = brisk__hist_push(s);
        for (size_t i = 0; i < n; i++) d[i] = brisk__phi_delta(pc, x[i], e[i]);
        int m = c->nw < s->n_hist ? c->nw : s->n_hist;
        for (size_t i = 0; i < n; i++) {
            double v = 0;
            for (int j = 0; j < m; j++) v += c->w[j] * s->hist[j][i];
            out[i] = x[i] + v * c->h;
        }
        break;
    }
    default: return brisk_error(BRISK_ESTATE, "bad PNDM op %d", c->op);
    }
    return BRISK_OK;
}
