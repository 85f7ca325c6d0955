/* Analyses of evaluation runs over checkpoints and seeds (`brisk variance checkpoints` and
 * `report`): loads every file of a manifest (lm-eval results JSON or per-sample JSONL),
 * builds per (task, metric) a grid model x seed x step, and reports series, seed
 * variance, SNR, monotonicity (Madaan et al. 2024) and pairwise comparisons at the final
 * checkpoint, as one JSON document (contract: docs/variance.md). */
#include "stats_impl.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void brisk_runs_params_default(brisk_runs_params *p) {
    p->tasks = NULL;
    p->metrics = NULL;
    p->filter = NULL;
    p->group = NULL;
    p->ddof = 1;
    p->lower_is_better = -1;
    p->compare = 1;
    brisk_compare_params_default(&p->cmp);
}

typedef struct run_file {
    const brisk_manifest_entry *e;
    int is_samples;
    brisk_lm_results res;
    brisk_lm_samples smp;
} run_file;

typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

static void strlist_free(strlist *l) {
    for (size_t i = 0; i < l->n; i++) brisk_free(l->v[i]);
    brisk_free(l->v);
    memset(l, 0, sizeof *l);
}

static int strlist_find(const strlist *l, const char *s) {
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s)) return (int)i;
    return -1;
}

static int strlist_add_unique(strlist *l, const char *s) {
    if (strlist_find(l, s) >= 0) return 0;
    if (l->n == l->cap) {
        size_t c = l->cap ? l->cap * 2 : 16;
        char **v = brisk_realloc(l->v, c * sizeof *v);
        if (!v) return BRISK_ENOMEM;
        l->v = v;
        l->cap = c;
    }
    if (!(l->v[l->n] = brisk_strdup(s))) return BRISK_ENOMEM;
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits a comma-separated list into `out`. */
static int split_list(const char *s, strlist *out) {
    while (s && *s) {
        const char *c = strchr(s, ',');
        size_t n = c ? (size_t)(c - s) : strlen(s);
        char tmp[512];
        if (n >= sizeof tmp) n = sizeof tmp - 1;
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        if (n && strlist_add_unique(out, tmp)) return BRISK_ENOMEM;
        s = c ? c + 1 : NULL;
    }
    return 0;
}

/* value of (task, metric) in one file; 0 found, 1 absent */
typedef struct cell {
    double value, se, n;
    const double *items; /* per-item scores (JSONL), or NULL */
    const long *ids;
    size_t n_items;
    const char *file;
} cell;

static int file_lookup(const run_file *f, const char *task, const char *metric, cell *c) {
    memset(c, 0, sizeof *c);
    c->file = f->e->file;
    if (f->is_samples) {
        if (strcmp(f->smp.task, task)) return 1;
        for (size_t k = 0; k < f->smp.n_metrics; k++)
            if (!strcmp(f->smp.metric_names[k], metric)) {
                const double *col = f->smp.values + k * f->smp.n_docs;
                c->items = col;
                c->ids = f->smp.doc_id;
                c->n_items = f->smp.n_docs;
                c->value = brisk_stats_mean(col, f->smp.n_docs);
                c->se = brisk_stats_stderr(col, f->smp.n_docs);
                c->n = (double)f->smp.n_docs;
                return 0;
            }
        return 1;
    }
    for (size_t i = 0; i < f->res.n; i++) {
        const brisk_lm_metric *m = &f->res.metrics[i];
        if (strcmp(m->task, task) || strcmp(m->metric, metric)) continue;
        c->value = m->value;
        c->se = m->se;
        c->n = m->n;
        if (isnan(c->n) && !brisk_metric_is_continuous(metric)) c->n = brisk_lm_infer_n(m->value, m->se);
        return 0;
    }
    return 1;
}

/* grid of one (task, metric) for one model */
typedef struct grid {
    size_t n_seeds, n_steps;
    long *seeds;
    double *steps;
    cell *cells; /* (n_seeds, n_steps); value NaN when absent */
} grid;

static void grid_free(grid *g) {
    brisk_free(g->seeds);
    brisk_free(g->steps);
    brisk_free(g->cells);
    memset(g, 0, sizeof *g);
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}
static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int build_grid(const run_file *files, size_t nf, const char *model, const char *task,
                      const char *metric, grid *g) {
    memset(g, 0, sizeof *g);
    g->seeds = brisk_malloc((nf ? nf : 1) * sizeof *g->seeds);
    g->steps = brisk_malloc((nf ? nf : 1) * sizeof *g->steps);
    if (!g->seeds || !g->steps) {
        grid_free(g);
        return BRISK_ENOMEM;
    }
    cell c;
    for (size_t i = 0; i < nf; i++) {
        if (strcmp(files[i].e->model, model) || file_lookup(&files[i], task, metric, &c)) continue;
        int found = 0;
        for (size_t k = 0; k < g->n_seeds; k++) found |= g->seeds[k] == files[i].e->seed;
        if (!found) g->seeds[g->n_seeds++] = files[i].e->seed;
        found = 0;
        for (size_t k = 0; k < g->n_steps; k++) found |= g->steps[k] == (double)files[i].e->step;
        if (!found) g->steps[g->n_steps++] = (double)files[i].e->step;
    }
    qsort(g->seeds, g->n_seeds, sizeof *g->seeds, cmp_long);
    qsort(g->steps, g->n_steps, sizeof *g->steps, cmp_dbl);
    size_t nc = g->n_seeds * g->n_steps;
    g->cells = brisk_malloc((nc ? nc : 1) * sizeof *g->cells);
    if (!g->cells) {
        grid_free(g);
        return BRISK_ENOMEM;
    }
    for (size_t k = 0; k < nc; k++) {
        memset(&g->cells[k], 0, sizeof(cell));
        g->cells[k].value = g->cells[k].se = g->cells[k].n = NAN;
    }
    for (size_t i = 0; i < nf; i++) {
        if (strcmp(files[i].e->model, model) || file_lookup(&files[i], task, metric, &c)) continue;
        size_t s = 0, t = 0;
        while (g->seeds[s] != files[i].e->seed) s++;
        while (g->steps[t] != (double)files[i].e->step) t++;
        cell *dst = &g->cells[s * g->n_steps + t];
        if (dst->file) {
            int rc = brisk_error(BRISK_EINVAL,
                                 "%s and %s both give model '%s' seed %ld step %ld for task '%s'",
                                 dst->file, c.file, model, files[i].e->seed, files[i].e->step, task);
            grid_free(g);
            return rc;
        }
        *dst = c;
    }
    return 0;
}

/* lm-eval group aggregation: size-weighted mean, pooled stderr (pooled_sample_stderr) */
static int build_group(const run_file *files, size_t nf, const char *model,
                       const strlist *tasks, const char *metric, grid *g) {
    memset(g, 0, sizeof *g);
    grid *sub = brisk_calloc(tasks->n, sizeof *sub);
    if (!sub) return BRISK_ENOMEM;
    int rc = 0;
    for (size_t k = 0; k < tasks->n && !rc; k++)
        rc = build_grid(files, nf, model, tasks->v[k], metric, &sub[k]);
    if (rc) goto done;
    /* the group grid uses the first task's seeds and steps */
    g->n_seeds = sub[0].n_seeds;
    g->n_steps = sub[0].n_steps;
    g->seeds = brisk_malloc((g->n_seeds ? g->n_seeds : 1) * sizeof *g->seeds);
    g->steps = brisk_malloc((g->n_steps ? g->n_steps : 1) * sizeof *g->steps);
    g->cells = brisk_calloc(g->n_seeds * g->n_steps + 1, sizeof *g->cells);
    double *se = brisk_malloc(tasks->n * sizeof *se), *sz = brisk_malloc(tasks->n * sizeof *sz);
    if (!g->seeds || !g->steps || !g->cells || !se || !sz) {
        brisk_free(se);
        brisk_free(sz);
        grid_free(g);
        rc = BRISK_ENOMEM;
        goto done;
    }
    memcpy(g->seeds, sub[0].seeds, g->n_seeds * sizeof *g->seeds);
    memcpy(g->steps, sub[0].steps, g->n_steps * sizeof *g->steps);
    for (size_t s = 0; s < g->n_seeds; s++)
        for (size_t t = 0; t < g->n_steps; t++) {
            cell *dst = &g->cells[s * g->n_steps + t];
            dst->value = dst->se = dst->n = NAN;
            double wsum = 0, nsum = 0;
            size_t k;
            for (k = 0; k < tasks->n; k++) {
                const grid *q = &sub[k];
                size_t si = 0, ti = 0;
                while (si < q->n_seeds && q->seeds[si] != g->seeds[s]) si++;
                while (ti < q->n_steps && q->steps[ti] != g->steps[t]) ti++;
                if (si == q->n_seeds || ti == q->n_steps) break;
                const cell *c = &q->cells[si * q->n_steps + ti];
                if (isnan(c->value) || !(c->n > 0)) break;
                wsum += c->n * c->value;
                nsum += c->n;
                se[k] = c->se;
                sz[k] = c->n;
            }
            if (k < tasks->n) continue; /* some task missing: no group value */
            dst->value = wsum / nsum;
            dst->se = brisk_stats_pooled_stderr(se, sz, tasks->n);
            dst->n = nsum;
            dst->file = "(group)";
        }
    brisk_free(se);
    brisk_free(sz);
done:
    for (size_t k = 0; k < tasks->n; k++) grid_free(&sub[k]);
    brisk_free(sub);
    return rc;
}

static int add_num(cJSON *o, const char *k, double v) {
    return cJSON_AddItemToObject(o, k, cJSON_CreateNumber(v)) ? 0 : BRISK_ENOMEM;
}

static double ci_half(int discrete, double v, double se, double n) {
    if (discrete && v >= 0 && v <= 1 && n > 0) return brisk_stats_ci95_half_width(v, n);
    return 1.96 * se;
}

/* Per-item scores of a model at a step, averaged over its seeds; aligned to `ids` order of
 * the first seed. Returns 1 if available. */
static int model_items(const grid *g, size_t t, double *out, const long **ids, size_t *n) {
    const cell *c0 = NULL;
    size_t k = 0;
    for (size_t s = 0; s < g->n_seeds; s++) {
        const cell *c = &g->cells[s * g->n_steps + t];
        if (isnan(c->value)) continue;
        if (!c->items) return 0;
        if (!c0) {
            c0 = c;
            for (size_t i = 0; i < c->n_items; i++) out[i] = 0;
        } else if (c->n_items != c0->n_items || memcmp(c->ids, c0->ids, c->n_items * sizeof(long)))
            return 0;
        for (size_t i = 0; i < c->n_items; i++) out[i] += c->items[i];
        k++;
    }
    if (!k) return 0;
    for (size_t i = 0; i < c0->n_items; i++) out[i] /= (double)k;
    *ids = c0->ids;
    *n = c0->n_items;
    return 1;
}

typedef struct id_idx {
    long id;
    size_t idx;
} id_idx;
static int cmp_id_idx(const void *a, const void *b) {
    const id_idx *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* Aligns b's items to a's doc_id order; error naming both when the doc sets differ. */
static int align_items(const long *ida, size_t na, const long *idb, const double *vb, size_t nb,
                       double *out, const char *ma, const char *mb, const char *task) {
    if (na != nb)
        return brisk_error(BRISK_ESHAPE, "task '%s': model '%s' has %zu items, model '%s' has %zu",
                           task, ma, na, mb, nb);
    id_idx *s = brisk_malloc(nb * sizeof *s);
    if (!s) return BRISK_ENOMEM;
    for (size_t i = 0; i < nb; i++) {
        s[i].id = idb[i];
        s[i].idx = i;
    }
    qsort(s, nb, sizeof *s, cmp_id_idx);
    for (size_t i = 0; i < na; i++) {
        size_t lo = 0, hi = nb;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (s[mid].id < ida[i]) lo = mid + 1; else hi = mid;
        }
        if (lo == nb || s[lo].id != ida[i]) {
            int rc = brisk_error(BRISK_ESHAPE, "task '%s': doc_id %ld of model '%s' is missing for "
                                 "model '%s'", task, ida[i], ma, mb);
            brisk_free(s);
            return rc;
        }
        out[i] = vb[s[lo].idx];
    }
    brisk_free(s);
    return 0;
}

typedef struct model_block {
    grid g;
    brisk_series_stats st;
} model_block;

static int metric_block(const run_file *files, size_t nf, const strlist *models, const char *task,
                        const strlist *group_tasks, const char *metric,
                        const brisk_runs_params *p, cJSON **out) {
    int hib = p->lower_is_better >= 0 ? !p->lower_is_better : !brisk_metric_lower_is_better(metric);
    int discrete = !brisk_metric_is_continuous(metric);
    cJSON *blk = cJSON_CreateObject();
    cJSON *series = cJSON_CreateArray(), *mods = cJSON_CreateArray();
    if (!blk || !series || !mods) {
        cJSON_Delete(blk); cJSON_Delete(series); cJSON_Delete(mods);
        return BRISK_ENOMEM;
    }
    cJSON_AddStringToObject(blk, "metric", metric);
    cJSON_AddStringToObject(blk, "kind", discrete ? "discrete" : "continuous");
    cJSON_AddBoolToObject(blk, "higher_is_better", hib);
    model_block *mb = brisk_calloc(models->n, sizeof *mb);
    double *tau = NULL;
    int rc = 0;
    if (!mb) { rc = BRISK_ENOMEM; goto fail; }
    double tsum = 0;
    size_t tcount = 0;
    for (size_t mi = 0; mi < models->n; mi++) {
        grid *g = &mb[mi].g;
        rc = group_tasks ? build_group(files, nf, models->v[mi], group_tasks, metric, g)
                         : build_grid(files, nf, models->v[mi], task, metric, g);
        if (rc) goto fail;
        if (!g->n_seeds || !g->n_steps) continue;
        double *vals = brisk_malloc(g->n_seeds * g->n_steps * sizeof *vals);
        brisk_free(tau);
        tau = brisk_malloc(g->n_seeds * sizeof *tau);
        if (!vals || !tau) { brisk_free(vals); rc = BRISK_ENOMEM; goto fail; }
        for (size_t k = 0; k < g->n_seeds * g->n_steps; k++) vals[k] = g->cells[k].value;
        rc = brisk_series_analyze(g->steps, vals, g->n_seeds, g->n_steps, p->ddof, hib, &mb[mi].st, tau);
        brisk_free(vals);
        if (rc) goto fail;
        brisk_series_stats *st = &mb[mi].st;
        cJSON *m = cJSON_CreateObject(), *runs = cJSON_CreateArray(), *steps = cJSON_CreateArray();
        cJSON_AddItemToArray(mods, m);
        cJSON_AddStringToObject(m, "model", models->v[mi]);
        add_num(m, "n_seeds", (double)g->n_seeds);
        for (size_t t = 0; t < g->n_steps; t++) cJSON_AddItemToArray(steps, cJSON_CreateNumber(g->steps[t]));
        cJSON_AddItemToObject(m, "steps", steps);
        add_num(m, "kendall_tau_b", st->tau_b_mean);
        add_num(m, "monotonicity", st->monotonicity);
        add_num(m, "seed_sd", st->seed_sd);
        add_num(m, "seed_sd_ddof", p->ddof);
        add_num(m, "n_steps_with_seeds", (double)st->n_steps_with_seeds);
        add_num(m, "snr", st->snr);
        /* final checkpoint */
        size_t tl = g->n_steps - 1;
        double se_sum = 0, n_fin = NAN;
        size_t se_cnt = 0;
        for (size_t s = 0; s < g->n_seeds; s++) {
            const cell *c = &g->cells[s * g->n_steps + tl];
            if (isnan(c->value)) continue;
            if (!isnan(c->se)) { se_sum += c->se; se_cnt++; }
            if (isnan(n_fin)) n_fin = c->n;
        }
        double se_fin = se_cnt ? se_sum / (double)se_cnt : NAN;
        cJSON *fin = cJSON_CreateObject();
        add_num(fin, "step", g->steps[tl]);
        add_num(fin, "mean", st->final_mean);
        add_num(fin, "sd", st->final_sd);
        add_num(fin, "stderr", se_fin);
        add_num(fin, "n", n_fin);
        add_num(fin, "ci95_half_width", ci_half(discrete, st->final_mean, se_fin, n_fin));
        cJSON_AddItemToObject(m, "final", fin);
        for (size_t s = 0; s < g->n_seeds; s++) {
            cJSON *r = cJSON_CreateObject();
            add_num(r, "seed", (double)g->seeds[s]);
            add_num(r, "kendall_tau_b", tau[s]);
            cJSON_AddItemToArray(runs, r);
            if (!isnan(tau[s])) { tsum += tau[s]; tcount++; }
            for (size_t t = 0; t < g->n_steps; t++) {
                const cell *c = &g->cells[s * g->n_steps + t];
                if (isnan(c->value)) continue;
                cJSON *pt = cJSON_CreateObject();
                cJSON_AddStringToObject(pt, "model", models->v[mi]);
                add_num(pt, "seed", (double)g->seeds[s]);
                add_num(pt, "step", g->steps[t]);
                add_num(pt, "value", c->value);
                add_num(pt, "stderr", c->se);
                add_num(pt, "n", c->n);
                cJSON_AddItemToArray(series, pt);
            }
        }
        cJSON_AddItemToObject(m, "runs", runs);
    }
    cJSON_AddItemToObject(blk, "series", series);
    series = NULL;
    add_num(blk, "kendall_tau_b", tcount ? tsum / (double)tcount : NAN);
    cJSON_AddItemToObject(blk, "models", mods);
    mods = NULL;
    /* pairwise comparisons at the last step both models have */
    cJSON *cmps = cJSON_CreateArray();
    cJSON_AddItemToObject(blk, "comparisons", cmps);
    if (p->compare) {
        for (size_t i = 0; i < models->n; i++)
            for (size_t j = i + 1; j < models->n; j++) {
                grid *ga = &mb[i].g, *gb = &mb[j].g;
                if (!ga->n_steps || !gb->n_steps) continue;
                long ta = (long)ga->n_steps - 1, tb = (long)gb->n_steps - 1;
                while (ta >= 0 && tb >= 0 && ga->steps[ta] != gb->steps[tb]) {
                    if (ga->steps[ta] > gb->steps[tb]) ta--; else tb--;
                }
                if (ta < 0 || tb < 0) continue;
                brisk_compare_params cp = p->cmp;
                double sds = 0;
                int nsd = 0;
                if (!isnan(mb[i].st.seed_sd)) { sds += mb[i].st.seed_sd; nsd++; }
                if (!isnan(mb[j].st.seed_sd)) { sds += mb[j].st.seed_sd; nsd++; }
                if (nsd) cp.seed_sd = sds / nsd;
                cp.n_seeds_a = ga->n_seeds;
                cp.n_seeds_b = gb->n_seeds;
                brisk_compare_result r;
                int paired = 0;
                size_t na = 0, nb2 = 0;
                const long *ida = NULL, *idb = NULL;
                size_t cap = 0;
                for (size_t s = 0; s < ga->n_seeds; s++) cap = ga->cells[s * ga->n_steps + ta].n_items > cap ? ga->cells[s * ga->n_steps + ta].n_items : cap;
                for (size_t s = 0; s < gb->n_seeds; s++) cap = gb->cells[s * gb->n_steps + tb].n_items > cap ? gb->cells[s * gb->n_steps + tb].n_items : cap;
                if (cap) {
                    double *va = brisk_malloc(cap * sizeof *va), *vb = brisk_malloc(cap * sizeof *vb);
                    double *vb2 = brisk_malloc(cap * sizeof *vb2);
                    if (!va || !vb || !vb2) { brisk_free(va); brisk_free(vb); brisk_free(vb2); rc = BRISK_ENOMEM; goto fail; }
                    if (model_items(ga, (size_t)ta, va, &ida, &na) && model_items(gb, (size_t)tb, vb, &idb, &nb2)) {
                        rc = align_items(ida, na, idb, vb, nb2, vb2, models->v[i], models->v[j], task);
                        if (!rc) rc = brisk_compare_paired(va, vb2, na, &cp, &r);
                        paired = 1;
                    }
                    brisk_free(va); brisk_free(vb); brisk_free(vb2);
                    if (rc) goto fail;
                }
                if (!paired) {
                    double ma = 0, mbv = 0, sa = 0, sb = 0;
                    size_t ka = 0, kb = 0, ksa = 0, ksb = 0;
                    for (size_t s = 0; s < ga->n_seeds; s++) {
                        const cell *c = &ga->cells[s * ga->n_steps + ta];
                        if (isnan(c->value)) continue;
                        ma += c->value; ka++;
                        if (!isnan(c->se)) { sa += c->se; ksa++; }
                    }
                    for (size_t s = 0; s < gb->n_seeds; s++) {
                        const cell *c = &gb->cells[s * gb->n_steps + tb];
                        if (isnan(c->value)) continue;
                        mbv += c->value; kb++;
                        if (!isnan(c->se)) { sb += c->se; ksb++; }
                    }
                    brisk_compare_summary(ma / (double)ka, ksa ? sa / (double)ksa : NAN,
                                          mbv / (double)kb, ksb ? sb / (double)ksb : NAN, &cp, &r);
                }
                cJSON *c = cJSON_CreateObject();
                cJSON_AddStringToObject(c, "a", models->v[i]);
                cJSON_AddStringToObject(c, "b", models->v[j]);
                add_num(c, "step", ga->steps[ta]);
                cJSON_AddBoolToObject(c, "paired", paired);
                add_num(c, "n", paired ? (double)r.n : NAN);
                add_num(c, "mean_a", r.mean_a);
                add_num(c, "mean_b", r.mean_b);
                add_num(c, "mean_diff", r.mean_diff);
                add_num(c, "stderr", r.se);
                cJSON *ci = cJSON_CreateArray();
                cJSON_AddItemToArray(ci, cJSON_CreateNumber(r.ci95_lo));
                cJSON_AddItemToArray(ci, cJSON_CreateNumber(r.ci95_hi));
                cJSON_AddItemToObject(c, "ci95", ci);
                add_num(c, "z", r.z);
                add_num(c, "p_value", r.p_value);
                add_num(c, "seed_sd", cp.seed_sd);
                add_num(c, "mdd", r.mdd);
                cJSON_AddBoolToObject(c, "significant", fabs(r.z) > 1.959963984540054);
                cJSON_AddItemToArray(cmps, c);
            }
    }
    for (size_t mi = 0; mi < models->n; mi++) grid_free(&mb[mi].g);
    brisk_free(mb);
    brisk_free(tau);
    *out = blk;
    return 0;
fail:
    if (mb)
        for (size_t mi = 0; mi < models->n; mi++) grid_free(&mb[mi].g);
    brisk_free(mb);
    brisk_free(tau);
    cJSON_Delete(series);
    cJSON_Delete(mods);
    cJSON_Delete(blk);
    return rc;
}

static int task_has_metric(const run_file *files, size_t nf, const char *task, const char *metric) {
    cell c;
    for (size_t i = 0; i < nf; i++)
        if (!file_lookup(&files[i], task, metric, &c)) return 1;
    return 0;
}

static int pattern_match(const strlist *pats, const char *s) {
    for (size_t i = 0; i < pats->n; i++)
        if (!fnmatch(pats->v[i], s, 0)) return 1;
    return 0;
}

static void list_some(const strlist *l, char *buf, size_t n) {
    buf[0] = '\0';
    for (size_t i = 0; i < l->n && i < 8; i++) {
        size_t k = strlen(buf);
        snprintf(buf + k, n - k, "%s%s", i ? ", " : "", l->v[i]);
    }
    if (l->n > 8) {
        size_t k = strlen(buf);
        snprintf(buf + k, n - k, ", ... (%zu in all)", l->n);
    }
}

int brisk_runs_analyze(const brisk_manifest *man, const brisk_runs_params *p,
                       const char *command, cJSON **out) {
    *out = NULL;
    brisk_runs_params def;
    if (!p) {
        brisk_runs_params_default(&def);
        p = &def;
    }
    if (!man->n) return brisk_error(BRISK_EINVAL, "no input files");
    int rc = 0;
    run_file *files = brisk_calloc(man->n, sizeof *files);
    strlist tasks = {0}, models = {0}, pats = {0}, mets = {0}, sel = {0};
    cJSON *doc = NULL;
    if (!files) return BRISK_ENOMEM;
    for (size_t i = 0; i < man->n; i++) {
        const brisk_manifest_entry *e = &man->e[i];
        files[i].e = e;
        size_t l = strlen(e->file);
        if (l > 6 && !strcmp(e->file + l - 6, ".jsonl")) {
            files[i].is_samples = 1;
            rc = brisk_lmeval_read_samples(e->file, p->filter, &files[i].smp);
            if (!rc && e->task) {
                char *t = brisk_strdup(e->task);
                if (!t) rc = BRISK_ENOMEM;
                else { brisk_free(files[i].smp.task); files[i].smp.task = t; }
            }
        } else {
            rc = brisk_lmeval_read_results(e->file, &files[i].res);
        }
        if (rc) goto done;
        if ((rc = strlist_add_unique(&models, e->model))) goto done;
        if (files[i].is_samples) {
            if ((rc = strlist_add_unique(&tasks, files[i].smp.task))) goto done;
        } else {
            for (size_t k = 0; k < files[i].res.n; k++)
                if ((rc = strlist_add_unique(&tasks, files[i].res.metrics[k].task))) goto done;
        }
    }
    qsort(tasks.v, tasks.n, sizeof *tasks.v, cmp_str);
    /* task selection */
    if (p->tasks) {
        if ((rc = split_list(p->tasks, &pats))) goto done;
        for (size_t i = 0; i < pats.n; i++) {
            int any = 0;
            for (size_t k = 0; k < tasks.n; k++)
                if (!fnmatch(pats.v[i], tasks.v[k], 0)) any = 1;
            if (!any) {
                char buf[512];
                list_some(&tasks, buf, sizeof buf);
                rc = brisk_error(BRISK_ENOTFOUND, "unknown task '%s' (not in any input file; tasks: %s)",
                                 pats.v[i], buf);
                goto done;
            }
        }
        for (size_t k = 0; k < tasks.n; k++)
            if (pattern_match(&pats, tasks.v[k]) && (rc = strlist_add_unique(&sel, tasks.v[k]))) goto done;
    } else {
        for (size_t k = 0; k < tasks.n; k++)
            if ((rc = strlist_add_unique(&sel, tasks.v[k]))) goto done;
    }
    if (p->metrics && (rc = split_list(p->metrics, &mets))) goto done;
    doc = cJSON_CreateObject();
    if (!doc) { rc = BRISK_ENOMEM; goto done; }
    cJSON_AddStringToObject(doc, "command", command ? command : "report");
    if (mets.n) cJSON_AddStringToObject(doc, "metric", mets.v[0]);
    cJSON *jr = cJSON_AddArrayToObject(doc, "runs");
    for (size_t i = 0; i < man->n; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "file", man->e[i].file);
        cJSON_AddStringToObject(r, "model", man->e[i].model);
        add_num(r, "seed", (double)man->e[i].seed);
        add_num(r, "step", (double)man->e[i].step);
        if (files[i].is_samples) {
            cJSON_AddStringToObject(r, "task", files[i].smp.task);
            add_num(r, "n_docs", (double)files[i].smp.n_docs);
            add_num(r, "acc_mismatches", (double)files[i].smp.n_acc_mismatch);
        }
        cJSON_AddItemToArray(jr, r);
    }
    cJSON *jt = cJSON_AddObjectToObject(doc, "tasks");
    size_t n_units = sel.n + (p->group ? 1 : 0);
    for (size_t u = 0; u < n_units; u++) {
        int is_group = u == sel.n;
        const char *task = is_group ? p->group : sel.v[u];
        /* metrics available for this task (for a group: those of its first task) */
        strlist avail = {0};
        const char *probe = is_group ? sel.v[0] : task;
        for (size_t i = 0; i < man->n && !rc; i++) {
            if (files[i].is_samples) {
                if (strcmp(files[i].smp.task, probe)) continue;
                for (size_t k = 0; k < files[i].smp.n_metrics && !rc; k++)
                    rc = strlist_add_unique(&avail, files[i].smp.metric_names[k]);
            } else {
                for (size_t k = 0; k < files[i].res.n && !rc; k++)
                    if (!strcmp(files[i].res.metrics[k].task, probe))
                        rc = strlist_add_unique(&avail, files[i].res.metrics[k].metric);
            }
        }
        if (rc) { strlist_free(&avail); goto done; }
        /* a requested metric that no selected task has is an error; a task without it is
         * skipped for that metric */
        strlist here = {0};
        for (size_t k = 0; k < mets.n && !rc; k++) {
            if (strlist_find(&avail, mets.v[k]) >= 0) {
                rc = strlist_add_unique(&here, mets.v[k]);
                continue;
            }
            int anywhere = 0;
            for (size_t t2 = 0; t2 < sel.n && !anywhere; t2++)
                anywhere = task_has_metric(files, man->n, sel.v[t2], mets.v[k]);
            if (!anywhere) {
                char buf[512];
                list_some(&avail, buf, sizeof buf);
                rc = brisk_error(BRISK_ENOTFOUND, "unknown metric '%s' for task '%s' (available: %s)",
                                 mets.v[k], probe, buf);
            }
        }
        if (rc) { strlist_free(&avail); strlist_free(&here); goto done; }
        const strlist *use = mets.n ? &here : &avail;
        cJSON *tb = NULL, *mm = cJSON_CreateObject();
        for (size_t k = 0; k < use->n; k++) {
            cJSON *blk;
            rc = metric_block(files, man->n, &models, task, is_group ? &sel : NULL, use->v[k], p, &blk);
            if (rc) { cJSON_Delete(mm); cJSON_Delete(tb); strlist_free(&avail); strlist_free(&here); goto done; }
            if (!tb) tb = cJSON_Duplicate(blk, 1);
            cJSON_AddItemToObject(mm, use->v[k], blk);
        }
        strlist_free(&avail);
        strlist_free(&here);
        if (!tb) { cJSON_Delete(mm); continue; }
        if (is_group) {
            cJSON *members = cJSON_CreateArray();
            for (size_t k = 0; k < sel.n; k++) cJSON_AddItemToArray(members, cJSON_CreateString(sel.v[k]));
            cJSON_AddItemToObject(tb, "group_of", members);
        }
        cJSON_AddItemToObject(tb, "metrics", mm);
        cJSON_AddItemToObject(jt, task, tb);
    }
    *out = doc;
    doc = NULL;
done:
    cJSON_Delete(doc);
    for (size_t i = 0; i < man->n; i++) {
        brisk_lm_results_free(&files[i].res);
        brisk_lm_samples_free(&files[i].smp);
    }
    brisk_free(files);
    strlist_free(&tasks);
    strlist_free(&models);
    strlist_free(&pats);
    strlist_free(&mets);
    strlist_free(&sel);
    return rc;
}
