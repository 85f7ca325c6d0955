/* PF: the probability-flow ODE of the VP SDE (Song et al. 2021, "Score-based generative
 * modeling through SDEs", eq. 13) solved from t = 1 to pf_t_end with adaptive
 * Dormand-Prince RK45, as the PNDM authors run it (runner/runner.py sample_image with
 * scipy.integrate.solve_ivp(method='RK45'); runner/method.py gen_pflow):
 *     beta(t) = (b0 + t (b1 - b0)) T,  log m(t) = (-t^2 (b1 - b0) / 4 - t b0 / 2) T,
 *     std(t) = sqrt(1 - m^2),  dx/dt = -beta x / 2 + beta eps(x, t (T - 1)) / (2 std).
 * The whole batch is one ODE system with one step size, as in the authors' code. The
 * step-size control is scipy's RK45 (Hairer, Norsett & Wanner, sec. II.4; scipy
 * _ivp/rk.py): RMS error norm, safety 0.9, factors in [0.2, 10], exponent -1/5, and
 * scipy's select_initial_step. */
#include "diffusion/diffusion_impl.h"

#include <math.h>
#include <string.h>

/* Dormand-Prince 5(4) tableau (Dormand & Prince 1980). */
static const double C[6] = {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1};
static const double A[6][5] = {
    {0, 0, 0, 0, 0},
    {1.0 / 5, 0, 0, 0, 0},
    {3.0 / 40, 9.0 / 40, 0, 0, 0},
    {44.0 / 45, -56.0 / 15, 32.0 / 9, 0, 0},
    {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729, 0},
    {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656}};
static const double B[6] = {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84};
static const double E[7] = {-71.0 / 57600, 0,           71.0 / 16695, -71.0 / 1920,
                            17253.0 / 339200, -22.0 / 525, 1.0 / 40};

typedef struct pf_ctx {
    brisk_scheduler *s;
    const brisk_denoiser *d;
    size_t batch, n;
    double b0, b1;
    int T;
    size_t nfe;
    const brisk_run_options *o;
} pf_ctx;

/* dx/dt at (t, y) -> f */
static int drift(pf_ctx *c, double t, const double *y, double *f) {
    int T = c->T;
    double bt = (c->b0 + t * (c->b1 - c->b0)) * T;
    double lmc = (-0.25 * t * t * (c->b1 - c->b0) - 0.5 * t * c->b0) * T;
    double a = exp(2 * lmc);
    double std = sqrt(1 - a);
    double tm = t * (T - 1);
    double *mo = c->s->mout;
    int rc = brisk_denoiser_predict(c->d, y, c->batch, tm, a, mo);
    if (rc) return brisk_error_prefix(rc, "pf: model call %zu (t = %g): ", c->nfe, tm);
    for (size_t i = 0; i < c->n; i++)
        if (!isfinite(mo[i]))
            return brisk_error(BRISK_ENUMERIC,
                               "pf: model call %zu (t = %g): model output is not finite (element "
                               "%zu)",
                               c->nfe, tm, i);
    brisk__to_eps(c->d->prediction, mo, y, a, c->n, mo);
    for (size_t i = 0; i < c->n; i++) f[i] = -0.5 * bt * y[i] + 0.5 * bt * mo[i] / std;
    c->nfe++;
    if (c->o && c->o->progress && c->o->progress(c->o->progress_ctx, c->nfe, 0))
        return brisk_error(BRISK_ESTATE, "pf: stopped by the progress callback after %zu calls",
                           c->nfe);
    return BRISK_OK;
}

static double rms(const double *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i] * v[i];
    return sqrt(s / (double)n);
}

int brisk__run_pf(brisk_scheduler *s, const brisk_denoiser *d, double *x, size_t batch,
                  const brisk_run_options *o, size_t *nfe) {
    const brisk_scheduler_config *cfg = &s->cfg;
    pf_ctx c = {s, d, batch, batch * s->dim, s->ns.betas[0], s->ns.betas[s->T - 1], s->T, 0, o};
    size_t n = c.n;
    double rtol = cfg->pf_rtol, atol = cfg->pf_atol;
    double t = 1.0, tb = cfg->pf_t_end, dir = -1;
    double *y = s->rk_y, *ynew = s->rk_ynew, **K = s->rk, *sc = s->tmp, *tmp = s->tmp2;
    memcpy(y, x, n * sizeof *y);
    int rc = drift(&c, t, y, K[0]);
    if (rc) goto out;
    /* select_initial_step (scipy _ivp/common.py), order = error estimator order 4 */
    double h_abs;
    {
        double len = fabs(tb - t);
        for (size_t i = 0; i < n; i++) sc[i] = atol + fabs(y[i]) * rtol;
        for (size_t i = 0; i < n; i++) tmp[i] = y[i] / sc[i];
        double d0 = rms(tmp, n);
        for (size_t i = 0; i < n; i++) tmp[i] = K[0][i] / sc[i];
        double d1 = rms(tmp, n);
        double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
        if (h0 > len) h0 = len;
        for (size_t i = 0; i < n; i++) ynew[i] = y[i] + h0 * dir * K[0][i];
        rc = drift(&c, t + h0 * dir, ynew, K[1]);
        if (rc) goto out;
        for (size_t i = 0; i < n; i++) tmp[i] = (K[1][i] - K[0][i]) / sc[i];
        double d2 = rms(tmp, n) / h0;
        double h1 = (d1 <= 1e-15 && d2 <= 1e-15) ? fmax(1e-6, h0 * 1e-3)
                                                   : pow(0.01 / fmax(d1, d2), 1.0 / 5);
        h_abs = fmin(fmin(100 * h0, h1), len);
    }
    while (dir * (t - tb) < 0) {
        double min_step = 10 * fabs(nextafter(t, dir * INFINITY) - t);
        if (h_abs < min_step) h_abs = min_step;
        int accepted = 0, rejected = 0;
        double tnew = t;
        while (!accepted) {
            if (h_abs < min_step) {
                rc = brisk_error(BRISK_ENUMERIC, "pf: RK45 step size too small at t = %g", t);
                goto out;
            }
            double h = h_abs * dir;
            tnew = t + h;
            if (dir * (tnew - tb) > 0) tnew = tb;
            h = tnew - t;
            h_abs = fabs(h);
            /* rk_step: stages 1..5, then y_new and f_new = K[6] */
            for (int st = 1; st < 6; st++) {
                for (size_t i = 0; i < n; i++) {
                    double v = 0;
                    for (int j = 0; j < st; j++) v += K[j][i] * A[st][j];
                    tmp[i] = y[i] + v * h;
                }
                rc = drift(&c, t + C[st] * h, tmp, K[st]);
                if (rc) goto out;
            }
            for (size_t i = 0; i < n; i++) {
                double v = 0;
                for (int j = 0; j < 6; j++) v += K[j][i] * B[j];
                ynew[i] = y[i] + h * v;
            }
            rc = drift(&c, t + h, ynew, K[6]);
            if (rc) goto out;
            for (size_t i = 0; i < n; i++) {
                double scale = atol + fmax(fabs(y[i]), fabs(ynew[i])) * rtol;
                double v = 0;
                for (int j = 0; j < 7; j++) v += K[j][i] * E[j];
                tmp[i] = v * h / scale;
            }
            double err = rms(tmp, n);
            if (err < 1) {
                double factor = err == 0 ? 10 : fmin(10, 0.9 * pow(err, -0.2));
                if (rejected) factor = fmin(1, factor);
                h_abs *= factor;
                accepted = 1;
            } else {
                h_abs *= fmax(0.2, 0.9 * pow(err, -0.2));
                rejected = 1;
            }
        }
        t = tnew;
        memcpy(y, ynew, n * sizeof *y);
        memcpy(K[0], K[6], n * sizeof *y); /* FSAL */
    }
    memcpy(x, y, n * sizeof *x);
out:
    *nfe = c.nfe;
    return rc;
}
