/* A reference probability-flow ODE solver: adaptive Dormand-Prince RK5(4) with FSAL
 * (Dormand & Prince 1980; Hairer, Norsett & Wanner, "Solving ODEs I", sec. II.5 and the
 * step-size control of sec. II.4) on the PF ODE in the variables of Karras et al. 2022
 * (eq. 4 with s(t) = 1): xbar = x / sqrt(a), sigma = sqrt((1-a)/a),
 *     dxbar/dsigma = eps_hat(sqrt(a) xbar, a),   a = 1 / (1 + sigma^2).
 * Integrating from a large sigma down to a small one. */
#include "denoise_impl.h"

#include <math.h>
#include <string.h>

void brisk_pf_solve_options_default(brisk_pf_solve_options *o) {
    memset(o, 0, sizeof *o);
    o->rtol = 1e-9;
    o->atol = 1e-9;
    o->sigma_min = 1e-4;
    o->max_calls = 10000000;
}

/* Dormand-Prince 5(4) tableau. */
static const double C2 = 1.0 / 5, C3 = 3.0 / 10, C4 = 4.0 / 5, C5 = 8.0 / 9;
static const double A21 = 1.0 / 5;
static const double A31 = 3.0 / 40, A32 = 9.0 / 40;
static const double A41 = 44.0 / 45, A42 = -56.0 / 15, A43 = 32.0 / 9;
static const double A51 = 19372.0 / 6561, A52 = -25360.0 / 2187, A53 = 64448.0 / 6561,
                    A54 = -212.0 / 729;
static const double A61 = 9017.0 / 3168, A62 = -355.0 / 33, A63 = 46732.0 / 5247,
                    A64 = 49.0 / 176, A65 = -5103.0 / 18656;
static const double B1 = 35.0 / 384, B3 = 500.0 / 1113, B4 = 125.0 / 192, B5 = -2187.0 / 6784,
                    B6 = 11.0 / 84;
/* error weights: 5th-order minus 4th-order (b - b*) */
static const double E1 = 71.0 / 57600, E3 = -71.0 / 16695, E4 = 71.0 / 1920,
                    E5 = -17253.0 / 339200, E6 = 22.0 / 525, E7 = -1.0 / 40;

typedef struct pf_work {
    const brisk_denoiser *d;
    const brisk_pf_solve_options *o;
    size_t batch, dim, n; /* n = batch * dim */
    double *xs;           /* scratch: x = sqrt(a) xbar */
    size_t nfe;
} pf_work;

static double sigma_of(double a) { return a >= 1.0 ? 0.0 : sqrt((1.0 - a) / a); }

/* f = eps_hat at (sigma, xbar); also returns the x0 prediction when x0 != NULL. */
static int rhs(pf_work *w, double sigma, const double *xbar, double *f) {
    double a = 1.0 / (1.0 + sigma * sigma), sa = sqrt(a), s1 = sqrt(1.0 - a);
    for (size_t i = 0; i < w->n; i++) w->xs[i] = sa * xbar[i];
    if (w->nfe >= w->o->max_calls)
        return brisk_error(BRISK_ESTATE, "pf reference solver: more than %zu model calls at sigma=%g "
                                         "(tolerance too tight?)", w->o->max_calls, sigma);
    double t = w->o->t_of_alpha ? w->o->t_of_alpha(w->o->t_ctx, a) : NAN;
    int rc = brisk_denoiser_predict(w->d, w->xs, w->batch, t, a, f);
    w->nfe++;
    if (rc) return brisk_error_prefix(rc, "pf reference solver at sigma=%g: ", sigma);
    switch (w->d->prediction) {
    case BRISK_PRED_EPSILON: break;
    case BRISK_PRED_SAMPLE: /* eps = (x - sqrt(a) x0) / sqrt(1-a) */
        for (size_t i = 0; i < w->n; i++) f[i] = (w->xs[i] - sa * f[i]) / s1;
        break;
    case BRISK_PRED_V: /* eps = sqrt(a) v + sqrt(1-a) x */
        for (size_t i = 0; i < w->n; i++) f[i] = sa * f[i] + s1 * w->xs[i];
        break;
    default: BRISK_ASSERT(0 && "unknown prediction type");
    }
    for (size_t i = 0; i < w->n; i++)
        if (!isfinite(f[i]))
            return brisk_error(BRISK_ENUMERIC, "pf reference solver: non-finite model output at sigma=%g", sigma);
    return BRISK_OK;
}

/* x0 prediction at (sigma > 0, xbar): xbar - sigma * eps. */
static int x0_at(pf_work *w, double sigma, const double *xbar, double *f, double *out) {
    int rc = rhs(w, sigma, xbar, f);
    if (rc) return rc;
    for (size_t i = 0; i < w->n; i++) out[i] = xbar[i] - sigma * f[i];
    return BRISK_OK;
}

int brisk_pf_solve(const brisk_denoiser *d, const double *x, size_t batch, double a_from,
                   const double *a_to, size_t n_to, const brisk_pf_solve_options *opt,
                   double *out, brisk_pf_solve_stats *st) {
    BRISK_ASSERT(d && x && out && (a_to || !n_to));
    brisk_pf_solve_options def;
    if (!opt) {
        brisk_pf_solve_options_default(&def);
        opt = &def;
    }
    if (st) memset(st, 0, sizeof *st);
    if (!(opt->rtol > 0 && opt->atol > 0) || !(opt->sigma_min > 0))
        return brisk_error(BRISK_EINVAL, "pf reference solver: rtol, atol and sigma_min must be positive");
    if (!(a_from > 0.0 && a_from < 1.0))
        return brisk_error(BRISK_EINVAL, "pf reference solver: start alpha_bar %.17g is outside (0, 1)", a_from);
    for (size_t k = 0; k < n_to; k++) {
        if (!(a_to[k] >= a_from && a_to[k] <= 1.0) || (k && a_to[k] < a_to[k - 1]))
            return brisk_error(BRISK_EINVAL, "pf reference solver: target %zu alpha_bar %.17g must be in "
                                             "[a_from, 1] and non-decreasing", k, a_to[k]);
    }
    const size_t D = d->dim, n = batch * D;
    if (n == 0 || n_to == 0) return BRISK_OK;
    double *buf = brisk_malloc(11 * n * sizeof(double));
    if (!buf) return BRISK_ENOMEM;
    double *y = buf, *yn = buf + n, *tmp = buf + 2 * n, *k1 = buf + 3 * n, *k2 = buf + 4 * n,
           *k3 = buf + 5 * n, *k4 = buf + 6 * n, *k5 = buf + 7 * n, *k6 = buf + 8 * n,
           *k7 = buf + 9 * n;
    pf_work w = {d, opt, batch, D, n, buf + 10 * n, 0};
    size_t accepted = 0, rejected = 0;
    int rc = BRISK_OK;
    double sa0 = sqrt(a_from);
    for (size_t i = 0; i < n; i++) y[i] = x[i] / sa0;
    double sig = sigma_of(a_from);
    size_t k = 0;
    /* targets equal to the start */
    while (k < n_to && sigma_of(a_to[k]) >= sig) {
        memcpy(out + k * n, x, n * sizeof(double));
        k++;
    }
    if (k == n_to) goto done;
    if ((rc = rhs(&w, sig, y, k1))) goto done;
    double h = -0.01 * sig; /* first trial step; the controller adapts it at once */
    while (k < n_to) {
        int to_data = a_to[k] >= 1.0;
        double target = to_data ? opt->sigma_min : sigma_of(a_to[k]);
        if (target > sig) target = sig; /* e.g. sigma_min above the current sigma */
        if (sig - target <= 1e-15 * (1.0 + sig)) {
            /* at this target: store (x, or the x0 prediction for alpha-bar 1) */
            if (to_data) {
                if ((rc = x0_at(&w, sig, y, tmp, out + k * n))) goto done;
            } else {
                double sa = sqrt(a_to[k]);
                for (size_t i = 0; i < n; i++) out[k * n + i] = sa * y[i];
            }
            k++;
            continue;
        }
        int last = 0;
        if (sig + h <= target) {
            h = target - sig;
            last = 1;
        }
        /* stages */
        for (size_t i = 0; i < n; i++) tmp[i] = y[i] + h * A21 * k1[i];
        if ((rc = rhs(&w, sig + C2 * h, tmp, k2))) goto done;
        for (size_t i = 0; i < n; i++) tmp[i] = y[i] + h * (A31 * k1[i] + A32 * k2[i]);
        if ((rc = rhs(&w, sig + C3 * h, tmp, k3))) goto done;
        for (size_t i = 0; i < n; i++) tmp[i] = y[i] + h * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
        if ((rc = rhs(&w, sig + C4 * h, tmp, k4))) goto done;
        for (size_t i = 0; i < n; i++)
            tmp[i] = y[i] + h * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
        if ((rc = rhs(&w, sig + C5 * h, tmp, k5))) goto done;
        for (size_t i = 0; i < n; i++)
            tmp[i] = y[i] + h * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
        double snew = last ? target : sig + h;
        if ((rc = rhs(&w, snew, tmp, k6))) goto done;
        for (size_t i = 0; i < n; i++)
            yn[i] = y[i] + h * (B1 * k1[i] + B3 * k3[i] + B4 * k4[i] + B5 * k5[i] + B6 * k6[i]);
        if ((rc = rhs(&w, snew, yn, k7))) goto done;
        /* error: the worst sample's RMS of err / (atol + rtol * max(|y|, |ynew|)) */
        double err = 0.0;
        for (size_t b = 0; b < batch; b++) {
            double s = 0.0;
            for (size_t j = 0; j < D; j++) {
                size_t i = b * D + j;
                double e = h * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
                double sc = opt->atol + opt->rtol * fmax(fabs(y[i]), fabs(yn[i]));
                s += (e / sc) * (e / sc);
            }
            s = sqrt(s / (double)D);
            if (s > err || isnan(s)) err = s;
        }
        if (isnan(err)) {
            rc = brisk_error(BRISK_ENUMERIC, "pf reference solver: error estimate is NaN at sigma=%g", sig);
            goto done;
        }
        double fac = err > 0 ? 0.9 * pow(err, -0.2) : 10.0;
        if (fac > 10.0) fac = 10.0;
        if (err <= 1.0) {
            accepted++;
            sig = snew;
            memcpy(y, yn, n * sizeof(double));
            memcpy(k1, k7, n * sizeof(double)); /* FSAL */
            h *= fac;
        } else {
            rejected++;
            h *= fac < 0.2 ? 0.2 : fac;
        }
        if (fabs(h) < 1e-14 * (1.0 + sig)) {
            rc = brisk_error(BRISK_ENUMERIC, "pf reference solver: step size underflow at sigma=%g", sig);
            goto done;
        }
    }
done:
    if (st) {
        st->nfe = w.nfe;
        st->accepted = accepted;
        st->rejected = rejected;
    }
    brisk_free(buf);
    return rc;
}
