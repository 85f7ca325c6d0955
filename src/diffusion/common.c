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

/* The k-th smallest of v[0..n-1] (0-based), rearranging v so that v[0..k-1] <= v[k] <=
 * v[k+1..n-1]: iterative quickselect with a median-of-three pivot and Hoare partitioning
 * (Hoare 1961, "Algorithm 65: FIND"). No allocation; O(n) on average. */
static double select_kth(double *v, size_t n, size_t k) {
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        /* order v[lo], v[mid], v[hi] */
        if (v[mid] < v[lo]) { double t = v[mid]; v[mid] = v[lo]; v[lo] = t; }
        if (v[hi] < v[lo]) { double t = v[hi]; v[hi] = v[lo]; v[lo] = t; }
        if (v[hi] < v[mid]) { double t = v[hi]; v[hi] = v[mid]; v[mid] = t; }
        double pivot = v[mid];
        size_t i = lo, j = hi;
        for (;;) {
            while (v[i] < pivot) i++;
            while (pivot < v[j]) j--;
            if (i >= j) break;
            double t = v[i];
            v[i] = v[j];
            v[j] = t;
            i++;
            j--;
        }
        /* now v[lo..j] <= pivot <= v[j+1..hi] */
        if (k <= j) hi = j;
        else lo = j + 1;
    }
    return v[k];
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
        double q = select_kth(work, dim, lo);
        if (frac > 0 && lo + 1 < dim) {
            /* the next order statistic is the smallest value above position lo */
            double nx = work[lo + 1];
            for (size_t i = lo + 2; i < dim; i++)
                if (work[i] < nx) nx = work[i];
            q = q + frac * (nx - q);
        }
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
