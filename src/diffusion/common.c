/* Helpers shared by the samplers: prediction conversions, dynamic thresholding,
 * variable-step Adams-Bashforth weights, noise draws and the history ring. */
#include "diffusion/diffusion_impl.h"

#include "brisk/rng.h"

#include <math.h>
#include <string.h>

/* Prediction forms (Song et al. 2021 DDIM eq. 12; v: Salimans & Ho 2022 sec. 4):
 * x = sqrt(a) x0 + sqrt(1-a) eps, v = sqrt(a) eps - sqrt(1-a) x0. */
void brisk__to_eps(brisk_prediction pred, const double *mo, const double *x, double a,
                   size_t n, double *out) {
    double sa = sqrt(a), sb = sqrt(1 - a);
    switch (pred) {
    case BRISK_PRED_V:
        for (size_t i = 0; i < n; i++) out[i] = sa * mo[i] + sb * x[i];
        break;
    case BRISK_PRED_SAMPLE:
        for (size_t i = 0; i < n; i++) out[i] = (x[i] - sa * mo[i]) / sb;
        break;
    default:
        if (out != mo) memcpy(out, mo, n * sizeof *out);
        break;
    }
}

void brisk__to_x0(brisk_prediction pred, const double *mo, const double *x, double a,
                  size_t n, double *out) {
    double sa = sqrt(a), sb = sqrt(1 - a);
    switch (pred) {
    case BRISK_PRED_V:
        for (size_t i = 0; i < n; i++) out[i] = sa * x[i] - sb * mo[i];
        break;
    case BRISK_PRED_SAMPLE:
        if (out != mo) memcpy(out, mo, n * sizeof *out);
        break;
    default:
        for (size_t i = 0; i < n; i++) out[i] = (x[i] - sb * mo[i]) / sa;
        break;
    }
}

/* In-place heapsort (no allocation, O(n log n)). */
static void sift_down(double *v, size_t root, size_t n) {
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n) return;
        if (c + 1 < n && v[c + 1] > v[c]) c++;
        if (v[root] >= v[c]) return;
        double t = v[root];
        v[root] = v[c];
        v[c] = t;
        root = c;
    }
}

static void heapsort_d(double *v, size_t n) {
    if (n < 2) return;
    for (size_t i = n / 2; i-- > 0;) sift_down(v, i, n);
    for (size_t end = n - 1; end > 0; end--) {
        double t = v[0];
        v[0] = v[end];
        v[end] = t;
        sift_down(v, 0, end);
    }
}

void brisk__threshold(double *x0, size_t batch, size_t dim, double ratio, double max_value,
                      double *work) {
    for (size_t b = 0; b < batch; b++) {
        double *x = x0 + b * dim;
        for (size_t i = 0; i < dim; i++) work[i] = fabs(x[i]);
        /* torch.quantile, linear interpolation: position ratio * (n - 1) */
        double pos = ratio * (double)(dim - 1);
        size_t lo = (size_t)floor(pos);
        double frac = pos - (double)lo;
        heapsort_d(work, dim);
        double q = work[lo];
        if (frac > 0 && lo + 1 < dim) q = q + frac * (work[lo + 1] - q);
        double sv = q < 1 ? 1 : (q > max_value ? max_value : q);
        for (size_t i = 0; i < dim; i++) {
            double v = x[i] < -sv ? -sv : (x[i] > sv ? sv : x[i]);
            x[i] = v / sv;
        }
    }
}

/* Adams-Bashforth weights for uneven steps: integrate the Lagrange interpolant of the
 * history over the step (Hairer, Norsett & Wanner, Solving ODEs I, sec. III.5, variable
 * step size Adams methods). Normalised variable u = (s - tau0) / h on [0, 1]; node j sits
 * at u_j = (tau_j - tau0) / h. Each basis polynomial is expanded into monomial
 * coefficients and integrated exactly. */
void brisk__ab_weights(const double *tau, int m, double t1, double *w) {
    double h = t1 - tau[0];
    if (h == 0) { /* a zero-length step: any consistent weights; the update is the identity */
        for (int j = 0; j < m; j++) w[j] = j == 0;
        return;
    }
    double u[4];
    for (int j = 0; j < m; j++) u[j] = (tau[j] - tau[0]) / h;
    for (int j = 0; j < m; j++) {
        double coef[4] = {1, 0, 0, 0}; /* polynomial in u, degree < m */
        int deg = 0;
        double denom = 1;
        for (int i = 0; i < m; i++) {
            if (i == j) continue;
            /* multiply by (u - u_i) */
            for (int d = deg + 1; d >= 1; d--) coef[d] = coef[d - 1] - u[i] * coef[d];
            coef[0] = -u[i] * coef[0];
            deg++;
            denom *= u[j] - u[i];
        }
        double integral = 0;
        for (int d = 0; d <= deg; d++) integral += coef[d] / (d + 1);
        w[j] = integral / denom;
    }
}

double brisk__alpha_ext(const brisk_scheduler *s, double t) {
    const brisk_noise_schedule *ns = &s->ns;
    if (t >= 0) return brisk_alpha_bar_at(ns, t);
    if (t <= -1) return ns->final_alpha_cumprod;
    double f = t + 1; /* weight of alphas_cumprod[0] */
    return ns->final_alpha_cumprod + f * (ns->alphas_cumprod[0] - ns->final_alpha_cumprod);
}

int brisk__draw_noise(brisk_scheduler *s, size_t batch) {
    size_t n = batch * s->dim;
    if (s->noise) {
        if (s->noise_pos + n > s->noise_n)
            return brisk_error(BRISK_ESTATE,
                               "supplied noise ran out at draw %zu (%zu values given, %zu needed "
                               "per draw)",
                               s->noise_draws, s->noise_n, n);
        memcpy(s->noise_buf, s->noise + s->noise_pos, n * sizeof(double));
        s->noise_pos += n;
    } else {
        uint32_t stream = BRISK_STREAM(BRISK_RNG_SAMPLER, s->noise_draws);
        for (size_t b = 0; b < batch; b++)
            brisk_randn(s->seed, s->sample_offset + b, stream, s->dim, s->noise_buf + b * s->dim);
    }
    s->noise_draws++;
    return BRISK_OK;
}

double *brisk__hist_push(brisk_scheduler *s) {
    double *last = s->hist[3];
    s->hist[3] = s->hist[2];
    s->hist[2] = s->hist[1];
    s->hist[1] = s->hist[0];
    s->hist[0] = last;
    if (s->n_hist < 4) s->n_hist++;
    return last;
}
