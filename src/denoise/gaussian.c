/* Gaussian data N(mean, diag std^2): exact MMSE predictions and the closed-form
 * probability-flow ODE map.
 *
 * With x = sqrt(a) x0 + sqrt(1-a) eps, each coordinate of x is Gaussian with mean
 * sqrt(a) m and variance a s^2 + 1 - a, and (x0, eps) are jointly Gaussian with x, so
 * E[eps | x] = sqrt(1-a) (x - sqrt(a) m) / (a s^2 + 1 - a) and
 * E[x0 | x]  = m + sqrt(a) s^2 (x - sqrt(a) m) / (a s^2 + 1 - a) (conjugate posterior; the
 * same formulas as the peer reference vectors' analytic model). */
#include "denoise_impl.h"

#include <math.h>
#include <string.h>

void brisk_gaussian_predict(const double *mean, const double *std, size_t dim,
                            brisk_prediction pred, const double *x, size_t batch,
                            double alpha_bar, double *out) {
    const double a = alpha_bar, sa = sqrt(a), s1 = sqrt(1.0 - a);
    for (size_t b = 0; b < batch; b++) {
        const double *xb = x + b * dim;
        double *ob = out + b * dim;
        for (size_t j = 0; j < dim; j++) {
            double s2 = std[j] * std[j];
            double r = (xb[j] - sa * mean[j]) / (a * s2 + 1.0 - a); /* standardised / sqrt(var) */
            double eps = s1 * r;
            double x0 = mean[j] + sa * s2 * r;
            switch (pred) {
            case BRISK_PRED_EPSILON: ob[j] = eps; break;
            case BRISK_PRED_SAMPLE: ob[j] = x0; break;
            case BRISK_PRED_V: ob[j] = sa * eps - s1 * x0; break;
            default: BRISK_ASSERT(0 && "unknown prediction type");
            }
        }
    }
}

/* PF ODE (Song et al. 2021, "Score-based generative modeling through SDEs", eq. 13) in
 * the variables xbar = x / sqrt(a), sigma = sqrt((1-a)/a) reads dxbar/dsigma = eps_hat
 * (Karras et al. 2022, eq. 4 with s(t) = 1). For Gaussian data u = xbar - m obeys
 * du/dsigma = sigma u / (s^2 + sigma^2), so u / sqrt(s^2 + sigma^2) is constant; in x
 * this is (x - sqrt(a) m) / sqrt(a s^2 + 1 - a). */
void brisk_gaussian_pf_map(const double *mean, const double *std, size_t dim, const double *x,
                           size_t batch, double a_from, double a_to, double *out) {
    const double sf = sqrt(a_from), st = sqrt(a_to);
    for (size_t b = 0; b < batch; b++) {
        const double *xb = x + b * dim;
        double *ob = out + b * dim;
        for (size_t j = 0; j < dim; j++) {
            double s2 = std[j] * std[j];
            double z = (xb[j] - sf * mean[j]) / sqrt(a_from * s2 + 1.0 - a_from);
            ob[j] = st * mean[j] + sqrt(a_to * s2 + 1.0 - a_to) * z;
        }
    }
}

typedef struct gaussian_ctx {
    size_t dim;
    brisk_prediction pred;
    double *mean, *std; /* one allocation: mean then std */
} gaussian_ctx;

static int gaussian_predict(void *vctx, const double *x, size_t batch, size_t dim, double t,
                            double alpha_bar, double *out) {
    gaussian_ctx *g = vctx;
    BRISK_ASSERT(dim == g->dim);
    if (!(alpha_bar >= 0.0 && alpha_bar <= 1.0))
        return brisk_error(BRISK_EINVAL, "gaussian denoiser: alpha_bar %.17g at t=%g is outside [0, 1]",
                           alpha_bar, t);
    brisk_gaussian_predict(g->mean, g->std, dim, g->pred, x, batch, alpha_bar, out);
    return BRISK_OK;
}

static void gaussian_destroy(void *vctx) {
    gaussian_ctx *g = vctx;
    if (!g) return;
    brisk_free(g->mean);
    brisk_free(g);
}

int brisk_denoiser_create_gaussian(const double *mean, const double *std, size_t dim,
                                   brisk_prediction pred, brisk_denoiser **out) {
    *out = NULL;
    if (dim == 0) return brisk_error(BRISK_EINVAL, "gaussian denoiser: dim must be positive");
    if ((unsigned)pred >= BRISK_PRED_COUNT)
        return brisk_error(BRISK_EINVAL, "gaussian denoiser: invalid prediction type %d", (int)pred);
    for (size_t j = 0; j < dim; j++) {
        if (!isfinite(mean[j]))
            return brisk_error(BRISK_EINVAL, "gaussian denoiser: mean[%zu] = %g is not finite", j, mean[j]);
        if (!(std[j] > 0.0) || !isfinite(std[j]))
            return brisk_error(BRISK_EINVAL, "gaussian denoiser: std[%zu] = %g must be positive and finite",
                               j, std[j]);
    }
    gaussian_ctx *g = brisk_calloc(1, sizeof *g);
    if (!g) return BRISK_ENOMEM;
    g->mean = brisk_malloc(2 * dim * sizeof(double));
    if (!g->mean) {
        brisk_free(g);
        return BRISK_ENOMEM;
    }
    g->std = g->mean + dim;
    memcpy(g->mean, mean, dim * sizeof(double));
    memcpy(g->std, std, dim * sizeof(double));
    g->dim = dim;
    g->pred = pred;
    return denoise_wrap(g, gaussian_predict, gaussian_destroy, dim, 0, 0, 0, pred, out);
}

int brisk_denoiser_gaussian_params(const brisk_denoiser *d, const double **mean,
                                   const double **std) {
    if (!d || d->predict != gaussian_predict)
        return brisk_error(BRISK_EINVAL, "the denoiser is not a Gaussian denoiser");
    const gaussian_ctx *g = d->ctx;
    *mean = g->mean;
    *std = g->std;
    return BRISK_OK;
}
