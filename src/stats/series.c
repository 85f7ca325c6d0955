/* Seed variance, SNR and monotonicity over checkpoints (Madaan et al. 2024, sec. 3):
 *   seed variance: sd across seeds at each checkpoint, averaged over checkpoints;
 *   SNR: mean of the seeds' final scores / their sd;
 *   monotonicity: Kendall tau-b of a run's scores against checkpoint order, averaged
 *   over seeds (sign flipped for metrics where lower is better).
 * And paired / unpaired comparison of two models with the minimum detectable
 * difference. */
#include "stats_impl.h"

#include <math.h>
#include <string.h>

static const char *lower_better[] = {"perplexity", "ppl", "word_perplexity", "byte_perplexity",
                                     "bits_per_byte", "loss", "likelihood_difference", "ter",
                                     "nll", NULL};
static const char *continuous[] = {"prob", "prob_norm", "logprob", "perplexity", "ppl",
                                   "word_perplexity", "byte_perplexity", "bits_per_byte", "loss",
                                   "likelihood_difference", "mc2", "brier_score", "nll", NULL};

static int in_list(const char *metric, const char **list) {
    size_t n = strcspn(metric, ",");
    for (int i = 0; list[i]; i++)
        if (strlen(list[i]) == n && !strncmp(metric, list[i], n)) return 1;
    return 0;
}

int brisk_metric_lower_is_better(const char *metric) { return in_list(metric, lower_better); }
int brisk_metric_is_continuous(const char *metric) { return in_list(metric, continuous); }

int brisk_series_analyze(const double *steps, const double *values, size_t n_seeds,
                         size_t n_steps, int ddof, int higher_is_better,
                         brisk_series_stats *out, double *tau_out) {
    memset(out, 0, sizeof *out);
    if (!n_seeds || !n_steps) return brisk_error(BRISK_EINVAL, "series: no seeds or no steps");
    if (ddof < 0) return brisk_error(BRISK_EINVAL, "series: ddof %d < 0", ddof);
    double xs[4096], ys[4096];
    if (n_steps > 4096 || n_seeds > 4096)
        return brisk_error(BRISK_EINVAL, "series: more than 4096 steps or seeds");
    /* monotonicity per seed, over the steps that seed has */
    double tsum = 0;
    size_t tcount = 0;
    for (size_t s = 0; s < n_seeds; s++) {
        size_t k = 0;
        for (size_t t = 0; t < n_steps; t++) {
            double v = values[s * n_steps + t];
            if (isnan(v)) continue;
            xs[k] = steps[t];
            ys[k++] = v;
        }
        double tau = brisk_stats_kendall_tau_b(xs, ys, k);
        if (tau_out) tau_out[s] = tau;
        if (!isnan(tau)) {
            tsum += tau;
            tcount++;
        }
    }
    out->tau_b_mean = tcount ? tsum / (double)tcount : NAN;
    out->monotonicity = higher_is_better ? out->tau_b_mean : -out->tau_b_mean;
    /* seed sd at each step with at least 2 (and > ddof) seeds */
    double sdsum = 0;
    size_t need = (size_t)ddof + 1 > 2 ? (size_t)ddof + 1 : 2;
    size_t last = n_steps, best = 0;
    for (size_t t = 0; t < n_steps; t++) {
        size_t k = 0;
        for (size_t s = 0; s < n_seeds; s++) {
            double v = values[s * n_steps + t];
            if (!isnan(v)) ys[k++] = v;
        }
        if (k && (last == n_steps || steps[t] > steps[best])) {
            last = t;
            best = t;
        }
        if (k >= need) {
            sdsum += brisk_stats_sd(ys, k, ddof);
            out->n_steps_with_seeds++;
        }
    }
    out->seed_sd = out->n_steps_with_seeds ? sdsum / (double)out->n_steps_with_seeds : NAN;
    out->final_mean = out->final_sd = out->snr = NAN;
    if (last < n_steps) {
        size_t k = 0;
        for (size_t s = 0; s < n_seeds; s++) {
            double v = values[s * n_steps + last];
            if (!isnan(v)) ys[k++] = v;
        }
        out->final_mean = brisk_stats_mean(ys, k);
        out->final_sd = k >= need ? brisk_stats_sd(ys, k, ddof) : NAN;
        out->snr = out->final_sd > 0 ? out->final_mean / out->final_sd : NAN;
    }
    return 0;
}

void brisk_compare_params_default(brisk_compare_params *p) {
    p->seed_sd = 0;
    p->n_seeds_a = p->n_seeds_b = 1;
    p->alpha = 0.05;
    p->power = 0.8;
    p->bootstrap = 0;
    brisk_bootstrap_params_default(&p->boot);
}

/* Minimum detectable difference of a two-sided z test at level alpha with the given power:
 * (z_{1-alpha/2} + z_power) * sqrt(se^2 + seed_sd^2 (1/k_a + 1/k_b)) (the usual power
 * formula; seed variance enters as independent noise of each model's seed average). */
static double mdd(double se, const brisk_compare_params *p) {
    double za = brisk_stats_normal_quantile(1 - p->alpha / 2);
    double zb = brisk_stats_normal_quantile(p->power);
    double ka = p->n_seeds_a ? (double)p->n_seeds_a : 1, kb = p->n_seeds_b ? (double)p->n_seeds_b : 1;
    double sv = p->seed_sd > 0 ? p->seed_sd * p->seed_sd * (1 / ka + 1 / kb) : 0;
    return (za + zb) * sqrt(se * se + sv);
}

static void finish(brisk_compare_result *r, const brisk_compare_params *p) {
    r->ci95_lo = r->mean_diff - 1.96 * r->se;
    r->ci95_hi = r->mean_diff + 1.96 * r->se;
    if (r->se > 0)
        r->z = r->mean_diff / r->se;
    else
        r->z = r->mean_diff == 0 ? 0 : (r->mean_diff > 0 ? INFINITY : -INFINITY);
    r->p_value = isinf(r->z) ? 0 : brisk_stats_normal_pvalue(r->z);
    r->mdd = mdd(r->se, p);
}

int brisk_compare_paired(const double *a, const double *b, size_t n,
                         const brisk_compare_params *p, brisk_compare_result *out) {
    memset(out, 0, sizeof *out);
    brisk_compare_params def;
    if (!p) {
        brisk_compare_params_default(&def);
        p = &def;
    }
    if (n < 2) return brisk_error(BRISK_EINVAL, "compare: need at least 2 items, got %zu", n);
    if (!(p->alpha > 0 && p->alpha < 1) || !(p->power > 0 && p->power < 1))
        return brisk_error(BRISK_EINVAL, "compare: alpha and power must lie in (0, 1)");
    double *d = brisk_malloc(n * sizeof *d);
    if (!d) return BRISK_ENOMEM;
    for (size_t i = 0; i < n; i++) d[i] = a[i] - b[i];
    out->n = n;
    out->mean_a = brisk_stats_mean(a, n);
    out->mean_b = brisk_stats_mean(b, n);
    out->mean_diff = brisk_stats_mean(d, n);
    out->se = brisk_stats_stderr(d, n);
    double sa = brisk_stats_stderr(a, n), sb = brisk_stats_stderr(b, n);
    out->se_unpaired = sqrt(sa * sa + sb * sb);
    out->correlation = brisk_stats_pearson(a, b, n);
    finish(out, p);
    out->boot_lo = out->boot_hi = NAN;
    if (p->bootstrap) {
        brisk_bootstrap_ci ci;
        int rc = brisk_bootstrap_row_means(d, 1, n, &p->boot, &ci, NULL);
        if (rc) {
            brisk_free(d);
            return rc;
        }
        out->boot_lo = ci.lo;
        out->boot_hi = ci.hi;
    }
    brisk_free(d);
    return 0;
}

void brisk_compare_summary(double mean_a, double se_a, double mean_b, double se_b,
                           const brisk_compare_params *p, brisk_compare_result *out) {
    memset(out, 0, sizeof *out);
    brisk_compare_params def;
    if (!p) {
        brisk_compare_params_default(&def);
        p = &def;
    }
    out->mean_a = mean_a;
    out->mean_b = mean_b;
    out->mean_diff = mean_a - mean_b;
    out->se = out->se_unpaired = sqrt(se_a * se_a + se_b * se_b);
    out->correlation = NAN;
    out->boot_lo = out->boot_hi = NAN;
    finish(out, p);
}
