/* lm-evaluation-harness output: results JSON (old and 0.4 formats) and per-sample JSONL
 * logs written by --log_samples. Facts used (lm-evaluation-harness 0.4): each sample line
 * holds doc_id, doc, target, arguments ({"gen_args_K": {"arg_0": context, "arg_1":
 * " choice"}}), resps / filtered_resps (every leaf stringified, a log-likelihood as
 * "(-1.23, False)"), filter, metrics (names) and each metric's value. acc = argmax of the
 * choices' log-likelihoods == gold; acc_norm divides each by len(choice) in characters. */
#include "stats_impl.h"

#include "brisk/io.h"
#include "brisk/json.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long brisk_step_from_path(const char *path) {
    const char *base = stats_basename(path);
    const char *s = base, *hit = NULL;
    while ((s = strstr(s, "step")) != NULL) {
        if (isdigit((unsigned char)s[4]) && (s == base || s[-1] == '_' || s[-1] == '-' ||
                                             s[-1] == '.'))
            hit = s + 4;
        s += 4;
    }
    if (!hit) { /* also accept a folder named step<N> */
        const char *d = strstr(path, "step");
        while (d && d < base) {
            if (isdigit((unsigned char)d[4]) && (d == path || d[-1] == '/' || d[-1] == '_' ||
                                                 d[-1] == '-'))
                hit = d + 4;
            d = strstr(d + 4, "step");
        }
        if (!hit) return -1;
    }
    errno = 0;
    long v = strtol(hit, NULL, 10);
    return errno ? -1 : v;
}

char *brisk_lm_task_from_samples_path(const char *path) {
    const char *base = stats_basename(path);
    size_t n = strlen(base);
    const char *s = base;
    if (!strncmp(s, "samples_", 8)) s += 8;
    const char *e = base + n;
    if (n >= 6 && !strcmp(e - 6, ".jsonl")) e -= 6;
    /* strip a trailing "_<timestamp>" that starts with a digit (e.g. _2024-05-01T12-00-00) */
    for (const char *q = e - 1; q > s; q--) {
        if (*q == '_' && isdigit((unsigned char)q[1]) && isdigit((unsigned char)q[2]) &&
            isdigit((unsigned char)q[3]) && isdigit((unsigned char)q[4]) && q[5] == '-') {
            e = q;
            break;
        }
    }
    size_t len = (size_t)(e - s);
    char *out = brisk_malloc(len + 1);
    if (!out) return NULL;
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

/* ------------------------------------------------------------------ results JSON */

void brisk_lm_results_free(brisk_lm_results *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        brisk_free(r->metrics[i].task);
        brisk_free(r->metrics[i].metric);
        brisk_free(r->metrics[i].filter);
    }
    brisk_free(r->metrics);
    memset(r, 0, sizeof *r);
}

double brisk_lm_infer_n(double p, double se) {
    if (!(p > 0 && p < 1) || !(se > 0)) return NAN;
    return round(p * (1 - p) / (se * se) + 1);
}

/* Splits "acc_stderr,none" into name "acc_stderr" and filter "none". */
static void split_key(const char *key, char *name, size_t nn, const char **filter) {
    const char *c = strchr(key, ',');
    size_t len = c ? (size_t)(c - key) : strlen(key);
    if (len >= nn) len = nn - 1;
    memcpy(name, key, len);
    name[len] = '\0';
    *filter = c ? c + 1 : NULL;
}

int brisk_lmeval_read_results(const char *path, brisk_lm_results *out) {
    memset(out, 0, sizeof *out);
    out->step = brisk_step_from_path(path);
    cJSON *doc;
    int rc = brisk_json_read_file(path, &doc);
    if (rc) return rc;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "results");
    if (!cJSON_IsObject(res)) {
        cJSON_Delete(doc);
        return brisk_error(BRISK_EPARSE, "%s: no \"results\" object (not an lm-eval results file)",
                           path);
    }
    const cJSON *nsamp = cJSON_GetObjectItemCaseSensitive(doc, "n-samples");
    size_t cap = 0;
    const cJSON *task;
    cJSON_ArrayForEach(task, res) {
        if (!cJSON_IsObject(task)) continue;
        const cJSON *kv;
        cJSON_ArrayForEach(kv, task) {
            if (!cJSON_IsNumber(kv)) continue;
            char name[256];
            const char *filter;
            split_key(kv->string, name, sizeof name, &filter);
            size_t ln = strlen(name);
            if (ln > 7 && !strcmp(name + ln - 7, "_stderr")) continue;
            /* stderr key: "<name>_stderr" + same filter suffix */
            char skey[300];
            if (filter)
                snprintf(skey, sizeof skey, "%s_stderr,%s", name, filter);
            else
                snprintf(skey, sizeof skey, "%s_stderr", name);
            const cJSON *sv = cJSON_GetObjectItemCaseSensitive(task, skey);
            double n = NAN;
            const cJSON *ns = nsamp ? cJSON_GetObjectItemCaseSensitive(nsamp, task->string) : NULL;
            if (ns) {
                const cJSON *eff = cJSON_GetObjectItemCaseSensitive(ns, "effective");
                if (cJSON_IsNumber(eff)) n = eff->valuedouble;
            }
            if (out->n == cap) {
                size_t nc = cap ? cap * 2 : 64;
                brisk_lm_metric *q = brisk_realloc(out->metrics, nc * sizeof *q);
                if (!q) {
                    cJSON_Delete(doc);
                    brisk_lm_results_free(out);
                    return BRISK_ENOMEM;
                }
                out->metrics = q;
                cap = nc;
            }
            brisk_lm_metric *e = &out->metrics[out->n];
            memset(e, 0, sizeof *e);
            e->task = brisk_strdup(task->string);
            e->metric = brisk_strdup(name);
            e->filter = filter ? brisk_strdup(filter) : NULL;
            out->n++;
            if (!e->task || !e->metric || (filter && !e->filter)) {
                cJSON_Delete(doc);
                brisk_lm_results_free(out);
                return BRISK_ENOMEM;
            }
            e->value = kv->valuedouble;
            e->se = cJSON_IsNumber(sv) ? sv->valuedouble : NAN;
            e->n = n;
        }
    }
    cJSON_Delete(doc);
    if (!out->n) return brisk_error(BRISK_EPARSE, "%s: \"results\" holds no numeric metrics", path);
    return 0;
}

int brisk_lm_results_find(const brisk_lm_results *r, const char *path, const char *task,
                          const char *metric, const brisk_lm_metric **out) {
    char name[256];
    const char *filter;
    split_key(metric, name, sizeof name, &filter);
    int task_seen = 0;
    for (size_t i = 0; i < r->n; i++) {
        const brisk_lm_metric *e = &r->metrics[i];
        if (strcmp(e->task, task)) continue;
        task_seen = 1;
        if (strcmp(e->metric, name)) continue;
        if (filter && (!e->filter || strcmp(e->filter, filter))) continue;
        *out = e;
        return 0;
    }
    if (!task_seen) return brisk_error(BRISK_ENOTFOUND, "%s: unknown task '%s'", path, task);
    return brisk_error(BRISK_ENOTFOUND, "%s: task '%s' has no metric '%s'", path, task, metric);
}

/* ------------------------------------------------------------------ samples JSONL */

void brisk_lm_samples_free(brisk_lm_samples *s) {
    if (!s) return;
    brisk_free(s->task);
    brisk_free(s->filter);
    brisk_free(s->doc_id);
    if (s->metric_names)
        for (size_t i = 0; i < s->n_metrics; i++) brisk_free(s->metric_names[i]);
    brisk_free(s->metric_names);
    brisk_free(s->values);
    memset(s, 0, sizeof *s);
}

static const char *non_metric_keys[] = {"doc_id", "doc", "target", "arguments", "resps",
                                        "filtered_resps", "filter", "metrics", "doc_hash",
                                        "prompt_hash", "target_hash", "task_name", NULL};

static int is_non_metric(const char *k) {
    for (int i = 0; non_metric_keys[i]; i++)
        if (!strcmp(k, non_metric_keys[i])) return 1;
    return 0;
}

/* Parses one log-likelihood response: "(-1.23, False)", "-1.23", ["-1.23", "False"],
 * [-1.23, false] or -1.23. Returns 1 on success. */
static int parse_ll(const cJSON *v, double *ll) {
    if (cJSON_IsNumber(v)) {
        *ll = v->valuedouble;
        return 1;
    }
    if (cJSON_IsArray(v)) {
        const cJSON *f = cJSON_GetArrayItem(v, 0);
        if (!f) return 0;
        if (cJSON_GetArraySize(v) == 1 && cJSON_IsArray(f)) return parse_ll(f, ll);
        if (cJSON_IsNumber(f)) {
            *ll = f->valuedouble;
            return 1;
        }
        if (cJSON_IsString(f)) {
            if (cJSON_GetArraySize(v) == 1) return parse_ll(f, ll);
            char *end;
            double d = strtod(f->valuestring, &end);
            if (end == f->valuestring || !isfinite(d)) return 0;
            *ll = d;
            return 1;
        }
        return 0;
    }
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        while (*s == ' ' || *s == '(' || *s == '[') s++;
        char *end;
        double d = strtod(s, &end);
        if (end == s || !isfinite(d)) return 0;
        while (*end == ' ') end++;
        if (*end && *end != ',' && *end != ')' && *end != ']') return 0;
        *ll = d;
        return 1;
    }
    return 0;
}

/* Number of Unicode code points of a UTF-8 string (Python's len). */
static size_t utf8_len(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

/* Choice text k from "arguments": {"gen_args_k": {"arg_1": " text"}} or [[ctx, " text"]]. */
static const char *choice_text(const cJSON *args, int k) {
    if (cJSON_IsObject(args)) {
        char key[32];
        snprintf(key, sizeof key, "gen_args_%d", k);
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(args, key);
        const cJSON *a1 = g ? cJSON_GetObjectItemCaseSensitive(g, "arg_1") : NULL;
        return cJSON_IsString(a1) ? a1->valuestring : NULL;
    }
    if (cJSON_IsArray(args)) {
        const cJSON *g = cJSON_GetArrayItem(args, k);
        const cJSON *a1 = g ? cJSON_GetArrayItem(g, 1) : NULL;
        return cJSON_IsString(a1) ? a1->valuestring : NULL;
    }
    return NULL;
}

/* The choice without lm-eval's default target delimiter (one leading space). */
static const char *strip_delim(const char *s) { return s[0] == ' ' ? s + 1 : s; }

typedef struct row_acc {
    size_t n, cap;
    long *doc_id;
    int *line;
    double *vals;  /* (cap, n_metrics) row-major while reading */
    double *deriv; /* (cap, 3): prob, prob_norm, logprob */
} row_acc;

typedef struct id_line {
    long id;
    int line;
} id_line;

static int cmp_id_line(const void *a, const void *b) {
    const id_line *x = a, *y = b;
    if (x->id != y->id) return (x->id > y->id) - (x->id < y->id);
    return (x->line > y->line) - (x->line < y->line);
}

#define MAX_CHOICES 64

int brisk_lmeval_read_samples(const char *path, const char *filter, brisk_lm_samples *out) {
    memset(out, 0, sizeof *out);
    char *text;
    size_t len;
    int rc = brisk_read_file(path, &text, &len);
    if (rc) return rc;
    row_acc acc = {0};
    char **names = NULL;
    size_t n_names = 0;
    int have_prob = 1, have_norm = 1, have_logprob = 1;
    char *p = text;
    int line = 0;
    cJSON *row = NULL;
    rc = 0;
    while (*p) {
        line++;
        char *nl = strchr(p, '\n');
        char *end = nl ? nl : p + strlen(p);
        char *q = p;
        while (q < end && isspace((unsigned char)*q)) q++;
        if (q == end) {
            p = nl ? nl + 1 : end;
            continue;
        }
        row = cJSON_ParseWithLength(p, (size_t)(end - p));
        if (!row || !cJSON_IsObject(row)) {
            rc = brisk_error(BRISK_EPARSE, "%s:%d: invalid JSON line", path, line);
            goto fail;
        }
        const cJSON *fv = cJSON_GetObjectItemCaseSensitive(row, "filter");
        const char *rf = cJSON_IsString(fv) ? fv->valuestring : "none";
        if (!out->filter) {
            if (!(out->filter = brisk_strdup(filter ? filter : rf))) goto nomem;
        }
        if (strcmp(rf, out->filter)) {
            out->n_other_filter_rows++;
            cJSON_Delete(row);
            row = NULL;
            p = nl ? nl + 1 : end;
            continue;
        }
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(row, "doc_id");
        if (!cJSON_IsNumber(id) || id->valuedouble != floor(id->valuedouble)) {
            rc = brisk_error(BRISK_EPARSE, "%s:%d: missing or non-integer \"doc_id\"", path, line);
            goto fail;
        }
        if (!names) {
            /* the metric set: the "metrics" list, else every numeric/bool field */
            const cJSON *ml = cJSON_GetObjectItemCaseSensitive(row, "metrics");
            size_t cap = 8;
            names = brisk_calloc(cap, sizeof *names);
            if (!names) goto nomem;
            const cJSON *it;
            if (cJSON_IsArray(ml)) {
                cJSON_ArrayForEach(it, ml) {
                    if (!cJSON_IsString(it)) continue;
                    const cJSON *val = cJSON_GetObjectItemCaseSensitive(row, it->valuestring);
                    if (!cJSON_IsNumber(val) && !cJSON_IsBool(val)) continue; /* non-numeric */
                    if (n_names == cap) {
                        char **nn = brisk_realloc(names, 2 * cap * sizeof *nn);
                        if (!nn) goto nomem;
                        names = nn;
                        cap *= 2;
                    }
                    if (!(names[n_names++] = brisk_strdup(it->valuestring))) goto nomem;
                }
            } else {
                cJSON_ArrayForEach(it, row) {
                    if (is_non_metric(it->string)) continue;
                    if (!cJSON_IsNumber(it) && !cJSON_IsBool(it)) continue;
                    if (n_names == cap) {
                        char **nn = brisk_realloc(names, 2 * cap * sizeof *nn);
                        if (!nn) goto nomem;
                        names = nn;
                        cap *= 2;
                    }
                    if (!(names[n_names++] = brisk_strdup(it->string))) goto nomem;
                }
            }
            if (!n_names) {
                rc = brisk_error(BRISK_EPARSE, "%s:%d: no numeric metric fields", path, line);
                goto fail;
            }
        }
        if (acc.n == acc.cap) {
            size_t nc = acc.cap ? acc.cap * 2 : 256;
            long *d = brisk_realloc(acc.doc_id, nc * sizeof *d);
            if (!d) goto nomem;
            acc.doc_id = d;
            int *l = brisk_realloc(acc.line, nc * sizeof *l);
            if (!l) goto nomem;
            acc.line = l;
            double *v = brisk_realloc(acc.vals, nc * n_names * sizeof *v);
            if (!v) goto nomem;
            acc.vals = v;
            double *dv = brisk_realloc(acc.deriv, nc * 3 * sizeof *dv);
            if (!dv) goto nomem;
            acc.deriv = dv;
            acc.cap = nc;
        }
        size_t r = acc.n;
        acc.doc_id[r] = (long)id->valuedouble;
        acc.line[r] = line;
        for (size_t k = 0; k < n_names; k++) {
            const cJSON *val = cJSON_GetObjectItemCaseSensitive(row, names[k]);
            if (!val) {
                rc = brisk_error(BRISK_EPARSE, "%s:%d: missing metric field '%s' (doc_id %ld)",
                                 path, line, names[k], acc.doc_id[r]);
                goto fail;
            }
            if (cJSON_IsBool(val))
                acc.vals[r * n_names + k] = cJSON_IsTrue(val) ? 1 : 0;
            else if (cJSON_IsNumber(val) && isfinite(val->valuedouble))
                acc.vals[r * n_names + k] = val->valuedouble;
            else {
                rc = brisk_error(BRISK_EPARSE, "%s:%d: metric '%s' is not a finite number", path,
                                 line, names[k]);
                goto fail;
            }
        }
        /* per-choice log-likelihoods -> continuous metrics */
        double ll[MAX_CHOICES];
        int nch = 0, ok = 1;
        const cJSON *fr = cJSON_GetObjectItemCaseSensitive(row, "filtered_resps");
        const cJSON *rs = cJSON_GetObjectItemCaseSensitive(row, "resps");
        const cJSON *src = cJSON_IsArray(fr) ? fr : rs;
        if (cJSON_IsArray(src)) {
            const cJSON *c;
            cJSON_ArrayForEach(c, src) {
                if (nch == MAX_CHOICES || !parse_ll(c, &ll[nch])) {
                    ok = 0;
                    break;
                }
                nch++;
            }
        } else
            ok = 0;
        if (!ok || nch < 1) have_prob = have_norm = have_logprob = 0;
        int gold = -1;
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(row, "arguments");
        if (ok && nch >= 1) {
            const cJSON *tg = cJSON_GetObjectItemCaseSensitive(row, "target");
            if (nch == 1)
                gold = 0;
            else if (cJSON_IsNumber(tg))
                gold = (int)tg->valuedouble;
            else if (cJSON_IsString(tg)) {
                char *e2;
                long g = strtol(tg->valuestring, &e2, 10);
                if (e2 != tg->valuestring && !*e2)
                    gold = (int)g;
                else
                    for (int k = 0; k < nch; k++) {
                        const char *ct = choice_text(args, k);
                        if (ct && !strcmp(strip_delim(ct), tg->valuestring)) {
                            gold = k;
                            break;
                        }
                    }
            }
            if (gold < 0 || gold >= nch) have_prob = have_norm = have_logprob = 0;
        }
        if (have_logprob && gold >= 0) {
            acc.deriv[r * 3 + 2] = ll[gold];
            if (nch < 2) have_prob = have_norm = 0;
        }
        if (have_prob && nch >= 2 && gold >= 0) {
            double mx = ll[0];
            int am = 0;
            for (int k = 1; k < nch; k++)
                if (ll[k] > mx) { mx = ll[k]; am = k; }
            double z = 0;
            for (int k = 0; k < nch; k++) z += exp(ll[k] - mx);
            acc.deriv[r * 3 + 0] = exp(ll[gold] - mx) / z;
            for (size_t k = 0; k < n_names; k++)
                if (!strcmp(names[k], "acc") &&
                    acc.vals[r * n_names + k] != (double)(am == gold))
                    out->n_acc_mismatch++;
        }
        if (have_norm && nch >= 2 && gold >= 0) {
            double nl2[MAX_CHOICES], mx = -INFINITY;
            for (int k = 0; k < nch && have_norm; k++) {
                const char *ct = choice_text(args, k);
                size_t L = ct ? utf8_len(strip_delim(ct)) : 0;
                if (!L) {
                    have_norm = 0;
                    break;
                }
                nl2[k] = ll[k] / (double)L;
                if (nl2[k] > mx) mx = nl2[k];
            }
            if (have_norm) {
                double z = 0;
                for (int k = 0; k < nch; k++) z += exp(nl2[k] - mx);
                acc.deriv[r * 3 + 1] = exp(nl2[gold] - mx) / z;
            }
        }
        acc.n++;
        cJSON_Delete(row);
        row = NULL;
        p = nl ? nl + 1 : end;
    }
    if (!acc.n) {
        rc = brisk_error(BRISK_EPARSE, "%s: no samples%s", path,
                         out->n_other_filter_rows ? " for the chosen filter" : " (empty file)");
        goto fail;
    }
    /* duplicate doc_ids */
    {
        id_line *il = brisk_malloc(acc.n * sizeof *il);
        if (!il) goto nomem;
        for (size_t r = 0; r < acc.n; r++) {
            il[r].id = acc.doc_id[r];
            il[r].line = acc.line[r];
        }
        qsort(il, acc.n, sizeof *il, cmp_id_line);
        for (size_t r = 1; r < acc.n; r++)
            if (il[r].id == il[r - 1].id) {
                rc = brisk_error(BRISK_EPARSE, "%s:%d: duplicate doc_id %ld (first on line %d)",
                                 path, il[r].line, il[r].id, il[r - 1].line);
                brisk_free(il);
                goto fail;
            }
        brisk_free(il);
    }
    int nd = have_prob + have_norm + have_logprob;
    size_t nm = n_names + (size_t)nd;
    out->n_docs = acc.n;
    out->n_metrics = nm;
    out->doc_id = acc.doc_id;
    acc.doc_id = NULL;
    out->metric_names = brisk_calloc(nm, sizeof *out->metric_names);
    out->values = brisk_malloc(nm * acc.n * sizeof *out->values);
    if (!out->metric_names || !out->values) goto nomem;
    for (size_t k = 0; k < n_names; k++) {
        out->metric_names[k] = names[k];
        names[k] = NULL;
        for (size_t r = 0; r < acc.n; r++) out->values[k * acc.n + r] = acc.vals[r * n_names + k];
    }
    size_t k = n_names;
    static const char *dn[3] = {"prob", "prob_norm", "logprob"};
    int hv[3] = {have_prob, have_norm, have_logprob};
    for (int d = 0; d < 3; d++) {
        if (!hv[d]) continue;
        if (!(out->metric_names[k] = brisk_strdup(dn[d]))) goto nomem;
        for (size_t r = 0; r < acc.n; r++) out->values[k * acc.n + r] = acc.deriv[r * 3 + d];
        k++;
    }
    if (!(out->task = brisk_lm_task_from_samples_path(path))) goto nomem;
    for (size_t i = 0; i < n_names; i++) brisk_free(names[i]);
    brisk_free(names);
    brisk_free(acc.line);
    brisk_free(acc.vals);
    brisk_free(acc.deriv);
    brisk_free(text);
    return 0;
nomem:
    rc = BRISK_ENOMEM;
fail:
    cJSON_Delete(row);
    if (names)
        for (size_t i = 0; i < n_names; i++) brisk_free(names[i]);
    brisk_free(names);
    brisk_free(acc.doc_id);
    brisk_free(acc.line);
    brisk_free(acc.vals);
    brisk_free(acc.deriv);
    brisk_free(text);
    brisk_lm_samples_free(out);
    return rc;
}

int brisk_lm_samples_metric(const brisk_lm_samples *s, const char *path, const char *metric,
                            const double **out) {
    char name[256];
    const char *filter;
    split_key(metric, name, sizeof name, &filter);
    if (filter && s->filter && strcmp(filter, s->filter))
        return brisk_error(BRISK_ENOTFOUND, "%s: metric '%s' asks for filter '%s' but '%s' was read",
                           path, metric, filter, s->filter);
    for (size_t k = 0; k < s->n_metrics; k++)
        if (!strcmp(s->metric_names[k], name)) {
            *out = s->values + k * s->n_docs;
            return 0;
        }
    char avail[512] = "";
    for (size_t k = 0; k < s->n_metrics; k++) {
        size_t l = strlen(avail);
        snprintf(avail + l, sizeof avail - l, "%s%s", k ? ", " : "", s->metric_names[k]);
    }
    return brisk_error(BRISK_ENOTFOUND, "%s: no metric '%s' (available: %s)", path, metric, avail);
}
