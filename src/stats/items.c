/* Item analysis (classical test theory, as Madaan et al. 2024 sec. 5 use it): per-model
 * means, stderrs and CIs; per-item difficulty and item-rest discrimination. */
#include "stats_impl.h"

#include <math.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void brisk_items_params_default(brisk_items_params *p) {
    p->low_discrimination = 0.2;
    p->bootstrap = 1;
    brisk_bootstrap_params_default(&p->boot);
}

void brisk_items_result_free(brisk_items_result *r) {
    if (!r) return;
    brisk_free(r->models);
    brisk_free(r->items);
    memset(r, 0, sizeof *r);
}

int brisk_items_analyze(const brisk_matrix *m, const brisk_items_params *p,
                        brisk_items_result *out) {
    memset(out, 0, sizeof *out);
    brisk_items_params def;
    if (!p) {
        brisk_items_params_default(&def);
        p = &def;
    }
    const size_t M = m->n_models, N = m->n_items;
    if (M < 2) return brisk_error(BRISK_EINVAL, "item analysis needs at least 2 models, got %zu", M);
    if (N < 1) return brisk_error(BRISK_EINVAL, "item analysis needs at least 1 item");
    double t0 = now_s();
    out->n_models = M;
    out->n_items = N;
    out->models = brisk_calloc(M, sizeof *out->models);
    out->items = brisk_calloc(N, sizeof *out->items);
    /* per item: sum v, sum v^2, sum v * T' (T' = centred model totals), min, max */
    double *sv = brisk_calloc(N, sizeof *sv), *svv = brisk_calloc(N, sizeof *svv);
    double *svt = brisk_calloc(N, sizeof *svt), *vmin = brisk_malloc(N * sizeof *vmin);
    double *vmax = brisk_malloc(N * sizeof *vmax), *tot = brisk_malloc(M * sizeof *tot);
    double *keep_means = brisk_malloc(M * sizeof *keep_means);
    double *all_means = brisk_malloc(M * sizeof *all_means);
    if (!out->models || !out->items || !sv || !svv || !svt || !vmin || !vmax || !tot ||
        !keep_means || !all_means) {
        brisk_free(sv); brisk_free(svv); brisk_free(svt); brisk_free(vmin); brisk_free(vmax);
        brisk_free(tot); brisk_free(keep_means); brisk_free(all_means);
        brisk_items_result_free(out);
        return BRISK_ENOMEM;
    }
    /* models: mean, sd (two-pass, ddof 1), lm-eval stderr, analytic CI */
    for (size_t j = 0; j < M; j++) {
        const double *row = m->x + j * N;
        brisk_model_summary *s = &out->models[j];
        double sum = 0;
        for (size_t i = 0; i < N; i++) sum += row[i];
        s->mean = sum / (double)N;
        tot[j] = sum;
        s->sd = brisk_stats_sd(row, N, 1);
        s->se = N > 1 ? s->sd / sqrt((double)N) : NAN;
        s->ci95_half_width = m->binary ? brisk_stats_ci95_half_width(s->mean, (double)N)
                                       : 1.96 * s->se;
        s->boot_lo = s->boot_hi = s->boot_se = NAN;
    }
    double tbar = 0;
    for (size_t j = 0; j < M; j++) tbar += tot[j];
    tbar /= (double)M;
    double stt = 0; /* sum of centred totals squared */
    for (size_t j = 0; j < M; j++) stt += (tot[j] - tbar) * (tot[j] - tbar);
    for (size_t i = 0; i < N; i++) {
        vmin[i] = INFINITY;
        vmax[i] = -INFINITY;
    }
    for (size_t j = 0; j < M; j++) {
        const double *row = m->x + j * N;
        double tc = tot[j] - tbar;
        for (size_t i = 0; i < N; i++) {
            double v = row[i];
            sv[i] += v;
            svv[i] += v * v;
            svt[i] += v * tc;
            vmin[i] = v < vmin[i] ? v : vmin[i];
            vmax[i] = v > vmax[i] ? v : vmax[i];
        }
    }
    /* item-rest correlation: rest_j = T_j - v_j. With centred sums (over models):
     *   Svv = sum v^2 - (sum v)^2 / M, Svt = sum v T', Stt = sum T'^2
     *   cov(v, rest) ~ Svt - Svv,  var(rest) ~ Stt - 2 Svt + Svv. */
    double dsum = 0;
    size_t dcount = 0;
    for (size_t i = 0; i < N; i++) {
        brisk_item_summary *it = &out->items[i];
        it->difficulty = sv[i] / (double)M;
        double Svv = svv[i] - sv[i] * sv[i] / (double)M;
        double Svt = svt[i];
        double Srr = stt - 2 * Svt + Svv;
        double scale = stt + Svv + 1e-300;
        it->low_discrimination = 0;
        if (vmin[i] == vmax[i] || !(Svv > 0) || !(Srr > 1e-12 * scale)) {
            it->discrimination = NAN;
            out->n_null_discrimination++;
            continue;
        }
        double r = (Svt - Svv) / sqrt(Svv * Srr);
        r = r > 1 ? 1 : r < -1 ? -1 : r;
        it->discrimination = r;
        dsum += r;
        dcount++;
        if (r < p->low_discrimination) {
            it->low_discrimination = 1;
            out->n_low_discrimination++;
        }
    }
    out->mean_discrimination = dcount ? dsum / (double)dcount : NAN;
    /* model means without the flagged items, and how the ranking moves */
    size_t kept = N - out->n_low_discrimination;
    for (size_t j = 0; j < M; j++) {
        const double *row = m->x + j * N;
        double s = 0;
        for (size_t i = 0; i < N; i++)
            if (!out->items[i].low_discrimination) s += row[i];
        out->models[j].mean_without_low = kept ? s / (double)kept : NAN;
        keep_means[j] = out->models[j].mean_without_low;
        all_means[j] = out->models[j].mean;
    }
    out->ranking_tau_without_low = kept ? brisk_stats_kendall_tau_b(all_means, keep_means, M) : NAN;
    out->seconds_items = now_s() - t0;
    brisk_free(sv); brisk_free(svv); brisk_free(svt); brisk_free(vmin); brisk_free(vmax);
    brisk_free(tot); brisk_free(keep_means); brisk_free(all_means);

    if (p->bootstrap) {
        double t1 = now_s();
        brisk_bootstrap_ci *ci = brisk_malloc(M * sizeof *ci);
        if (!ci) {
            brisk_items_result_free(out);
            return BRISK_ENOMEM;
        }
        int rc = brisk_bootstrap_row_means(m->x, M, N, &p->boot, ci, NULL);
        if (rc) {
            brisk_free(ci);
            brisk_items_result_free(out);
            return rc;
        }
        for (size_t j = 0; j < M; j++) {
            out->models[j].boot_lo = ci[j].lo;
            out->models[j].boot_hi = ci[j].hi;
            out->models[j].boot_se = ci[j].se;
        }
        brisk_free(ci);
        out->seconds_bootstrap = now_s() - t1;
    }
    return 0;
}
