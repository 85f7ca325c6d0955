/* JSON documents of `brisk variance items`, `irt` and `compare`: the stable contract
 * documented in docs/variance.md. NaN values print as null. */
#include "stats_impl.h"

#include <math.h>

static void num(cJSON *o, const char *k, double v) { cJSON_AddItemToObject(o, k, cJSON_CreateNumber(v)); }

cJSON *brisk_items_to_json(const brisk_matrix *m, const brisk_items_result *r,
                           const brisk_items_params *p) {
    cJSON *d = cJSON_CreateObject();
    if (!d) return NULL;
    cJSON_AddStringToObject(d, "command", "items");
    num(d, "n_models", (double)r->n_models);
    num(d, "n_items", (double)r->n_items);
    cJSON_AddStringToObject(d, "layout", brisk_layout_name(m->layout));
    cJSON_AddBoolToObject(d, "binary", m->binary);
    num(d, "low_discrimination_threshold", p->low_discrimination);
    num(d, "n_low_discrimination", (double)r->n_low_discrimination);
    num(d, "n_null_discrimination", (double)r->n_null_discrimination);
    num(d, "mean_discrimination", r->mean_discrimination);
    num(d, "ranking_tau_without_low", r->ranking_tau_without_low);
    if (p->bootstrap) {
        cJSON *b = cJSON_AddObjectToObject(d, "bootstrap");
        num(b, "resamples", (double)p->boot.n_resamples);
        num(b, "seed", (double)p->boot.seed);
        num(b, "level", p->boot.level);
    }
    cJSON *ms = cJSON_AddArrayToObject(d, "models");
    for (size_t j = 0; j < r->n_models; j++) {
        const brisk_model_summary *s = &r->models[j];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", m->model_names[j]);
        num(o, "mean", s->mean);
        num(o, "stderr", s->se);
        num(o, "ci95_half_width", s->ci95_half_width);
        num(o, "sd", s->sd);
        if (p->bootstrap) {
            cJSON *ci = cJSON_CreateArray();
            cJSON_AddItemToArray(ci, cJSON_CreateNumber(s->boot_lo));
            cJSON_AddItemToArray(ci, cJSON_CreateNumber(s->boot_hi));
            cJSON_AddItemToObject(o, "bootstrap_ci", ci);
            num(o, "bootstrap_stderr", s->boot_se);
        }
        num(o, "mean_without_low", s->mean_without_low);
        cJSON_AddItemToArray(ms, o);
    }
    cJSON *is = cJSON_AddArrayToObject(d, "items");
    for (size_t i = 0; i < r->n_items; i++) {
        const brisk_item_summary *s = &r->items[i];
        cJSON *o = cJSON_CreateObject();
        if (m->item_names) cJSON_AddStringToObject(o, "name", m->item_names[i]);
        num(o, "difficulty", s->difficulty);
        num(o, "discrimination", s->discrimination);
        cJSON_AddBoolToObject(o, "low_discrimination", s->low_discrimination);
        cJSON_AddItemToArray(is, o);
    }
    cJSON *t = cJSON_AddObjectToObject(d, "timings");
    num(t, "items_s", r->seconds_items);
    num(t, "bootstrap_s", r->seconds_bootstrap);
    return d;
}

cJSON *brisk_irt_report_to_json(const brisk_matrix *m, const brisk_irt_report *r,
                                const brisk_irt_report_params *p) {
    cJSON *d = cJSON_CreateObject();
    if (!d) return NULL;
    const brisk_irt_fit *f = &r->fit;
    cJSON_AddStringToObject(d, "command", "irt");
    cJSON_AddStringToObject(d, "model", brisk_irt_model_name(f->model));
    num(d, "n_models", (double)f->n_models);
    num(d, "n_items", (double)f->n_items);
    cJSON *pr = cJSON_AddObjectToObject(d, "priors");
    num(pr, "theta_sd", p->irt.prior_theta_sd);
    num(pr, "b_sd", p->irt.prior_b_sd);
    if (f->model == BRISK_IRT_2PL) {
        num(pr, "a_mean", p->irt.prior_a_mean);
        num(pr, "a_sd", p->irt.prior_a_sd);
    }
    num(d, "log_likelihood", f->log_lik);
    num(d, "log_posterior", f->log_post);
    num(d, "iterations", f->iterations);
    cJSON_AddBoolToObject(d, "converged", f->converged);
    cJSON *h = cJSON_AddObjectToObject(d, "heldout");
    num(h, "fraction", p->holdout);
    num(h, "n_cells", (double)r->n_heldout);
    num(h, "log_likelihood", r->heldout_log_lik);
    num(h, "baseline_log_likelihood", r->heldout_log_lik_baseline);
    num(h, "accuracy", r->heldout_accuracy);
    cJSON *pi = cJSON_AddObjectToObject(d, "pirt");
    num(pi, "n_anchors", (double)r->n_anchors);
    num(pi, "mae", r->pirt_mae);
    num(pi, "anchor_mean_mae", r->anchor_mae);
    cJSON *ab = cJSON_AddArrayToObject(d, "abilities");
    for (size_t j = 0; j < f->n_models; j++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", m->model_names[j]);
        num(o, "theta", f->theta[j]);
        num(o, "mean", r->models[j].observed_mean);
        num(o, "anchor_mean", r->models[j].anchor_mean);
        num(o, "pirt_estimate", r->models[j].pirt_estimate);
        cJSON_AddItemToArray(ab, o);
    }
    cJSON *it = cJSON_AddArrayToObject(d, "items");
    for (size_t i = 0; i < f->n_items; i++) {
        cJSON *o = cJSON_CreateObject();
        if (m->item_names) cJSON_AddStringToObject(o, "name", m->item_names[i]);
        num(o, "a", f->a[i]);
        num(o, "b", f->b[i]);
        cJSON_AddItemToArray(it, o);
    }
    cJSON *t = cJSON_AddObjectToObject(d, "timings");
    num(t, "fit_s", r->seconds_fit);
    num(t, "heldout_s", r->seconds_heldout);
    num(t, "pirt_s", r->seconds_pirt);
    return d;
}

cJSON *brisk_compare_to_json(const char *name_a, const char *name_b,
                             const brisk_compare_result *r, const brisk_compare_params *p) {
    cJSON *d = cJSON_CreateObject();
    if (!d) return NULL;
    cJSON_AddStringToObject(d, "command", "compare");
    cJSON_AddStringToObject(d, "a", name_a);
    cJSON_AddStringToObject(d, "b", name_b);
    cJSON_AddBoolToObject(d, "paired", r->n > 0);
    num(d, "n", r->n ? (double)r->n : NAN);
    num(d, "mean_a", r->mean_a);
    num(d, "mean_b", r->mean_b);
    num(d, "mean_diff", r->mean_diff);
    num(d, "stderr", r->se);
    num(d, "stderr_unpaired", r->se_unpaired);
    cJSON *ci = cJSON_AddArrayToObject(d, "ci95");
    cJSON_AddItemToArray(ci, cJSON_CreateNumber(r->ci95_lo));
    cJSON_AddItemToArray(ci, cJSON_CreateNumber(r->ci95_hi));
    if (p->bootstrap) {
        cJSON *b = cJSON_AddArrayToObject(d, "bootstrap_ci95");
        cJSON_AddItemToArray(b, cJSON_CreateNumber(r->boot_lo));
        cJSON_AddItemToArray(b, cJSON_CreateNumber(r->boot_hi));
    }
    num(d, "z", r->z);
    num(d, "p_value", r->p_value);
    num(d, "correlation", r->correlation);
    num(d, "seed_sd", p->seed_sd);
    num(d, "n_seeds_a", (double)p->n_seeds_a);
    num(d, "n_seeds_b", (double)p->n_seeds_b);
    num(d, "alpha", p->alpha);
    num(d, "power", p->power);
    num(d, "mdd", r->mdd);
    cJSON_AddBoolToObject(d, "significant", fabs(r->z) > 1.959963984540054);
    return d;
}
