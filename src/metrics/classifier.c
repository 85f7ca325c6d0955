/* Summaries of a classifier's softmax output on generated samples: the histogram of
 * predicted classes against uniform, and the mode-mixture rate of DPM-OT (Li et al.,
 * ICCV 2023: a sample is mode-mixed when at least two classes get probability >= tau). */
#include "metrics/metrics_impl.h"

#include <math.h>
#include <string.h>

/* Rows must be probability vectors: finite entries in [0, 1] (1e-6 slack) summing to 1
 * within 1e-3 (float32 softmax outputs). */
static int check_probs(const brisk_features *p) {
    int rc = metrics_check_features(p, 1, "a class summary");
    if (rc) return rc;
    if (p->dim < 2)
        return brisk_error(BRISK_ESHAPE, "%s: probabilities need at least 2 classes, got %zu",
                           feat_name(p), p->dim);
    for (size_t i = 0; i < p->n; i++) {
        double s = 0.0;
        for (size_t c = 0; c < p->dim; c++) {
            double v = feat_at(p, i, c);
            if (v < -1e-6 || v > 1.0 + 1e-6)
                return brisk_error(BRISK_EINVAL,
                                   "%s: row %zu, class %zu is %g, not a probability (pass softmax "
                                   "probabilities, not logits)", feat_name(p), i, c, v);
            s += v;
        }
        if (fabs(s - 1.0) > 1e-3)
            return brisk_error(BRISK_EINVAL, "%s: row %zu sums to %g, not 1 (pass softmax probabilities, not logits)",
                               feat_name(p), i, s);
    }
    return 0;
}

/* Regularized upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a): the power series
 * of P = 1 - Q for x < a + 1, otherwise the continued fraction of Q (Legendre's,
 * evaluated with the modified Lentz method); Abramowitz & Stegun 6.5.29 and 6.5.31. */
double metrics_gamma_q(double a, double x) {
    if (!(a > 0) || !(x >= 0)) return NAN;
    if (x == 0) return 1.0;
    double lpre = -x + a * log(x) - lgamma(a);
    if (x < a + 1.0) {
        double term = 1.0 / a, sum = term;
        for (int n = 1; n < 10000; n++) {
            term *= x / (a + n);
            sum += term;
            if (fabs(term) < fabs(sum) * 1e-16) break;
        }
        double pv = sum * exp(lpre);
        return pv >= 1.0 ? 0.0 : 1.0 - pv;
    }
    const double tiny = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
    for (int i = 1; i < 10000; i++) {
        double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < tiny) d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-16) break;
    }
    return exp(lpre) * h;
}

int brisk_class_summary_compute(const brisk_features *probs, brisk_class_summary *out) {
    BRISK_ASSERT(probs && out);
    memset(out, 0, sizeof *out);
    int rc = check_probs(probs);
    if (rc) return rc;
    size_t n = probs->n, c = probs->dim;
    out->counts = brisk_calloc(c, sizeof *out->counts);
    if (!out->counts) return BRISK_ENOMEM;
    out->n = n;
    out->n_classes = c;
    for (size_t i = 0; i < n; i++) {
        size_t best = 0;
        double bv = feat_at(probs, i, 0);
        for (size_t k = 1; k < c; k++) {
            double v = feat_at(probs, i, k);
            if (v > bv) {
                bv = v;
                best = k;
            }
        }
        out->counts[best]++;
    }
    /* Against uniform: Pearson's chi-square with C - 1 dof, total variation, KL. */
    double expct = (double)n / (double)c, u = 1.0 / (double)c;
    for (size_t k = 0; k < c; k++) {
        double f = (double)out->counts[k] / (double)n, dev = (double)out->counts[k] - expct;
        out->chi2 += dev * dev / expct;
        out->tv += 0.5 * fabs(f - u);
        if (f > 0) out->kl += f * log(f * (double)c);
    }
    out->chi2_p = metrics_gamma_q(0.5 * (double)(c - 1), 0.5 * out->chi2);
    return 0;
}

void brisk_class_summary_free(brisk_class_summary *s) {
    if (!s) return;
    brisk_free(s->counts);
    s->counts = NULL;
}

int brisk_mode_mixture_rate(const brisk_features *probs, const double *taus, size_t n_taus,
                            double *rates) {
    BRISK_ASSERT(probs && (taus || !n_taus) && (rates || !n_taus));
    for (size_t t = 0; t < n_taus; t++)
        if (!(taus[t] > 0 && taus[t] <= 1))
            return brisk_error(BRISK_EINVAL, "mode-mixture rate: tau %g outside (0, 1]", taus[t]);
    int rc = check_probs(probs);
    if (rc) return rc;
    size_t *mixed = brisk_calloc(n_taus ? n_taus : 1, sizeof *mixed);
    if (!mixed) return BRISK_ENOMEM;
    /* A row has >= 2 classes at or above tau exactly when its second largest is >= tau. */
    for (size_t i = 0; i < probs->n; i++) {
        double p1 = -INFINITY, p2 = -INFINITY;
        for (size_t k = 0; k < probs->dim; k++) {
            double v = feat_at(probs, i, k);
            if (v > p1) {
                p2 = p1;
                p1 = v;
            } else if (v > p2) {
                p2 = v;
            }
        }
        for (size_t t = 0; t < n_taus; t++) mixed[t] += p2 >= taus[t];
    }
    for (size_t t = 0; t < n_taus; t++) rates[t] = (double)mixed[t] / (double)probs->n;
    brisk_free(mixed);
    return 0;
}

void brisk_softmax_rows(float *logits, size_t n, size_t c) {
    BRISK_ASSERT(logits || !n);
    for (size_t i = 0; i < n; i++) {
        float *r = logits + i * c;
        double mx = -INFINITY, s = 0.0;
        for (size_t k = 0; k < c; k++)
            if (r[k] > mx) mx = r[k];
        for (size_t k = 0; k < c; k++) s += exp((double)r[k] - mx);
        for (size_t k = 0; k < c; k++) r[k] = (float)(exp((double)r[k] - mx) / s);
    }
}
