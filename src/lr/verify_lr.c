/* LR reference cases (formats: /work/shared/vectors/README.md, docs/lr.md):
 *   torch cases  {"torch_scheduler", "optimizer", "base_lr", "base_momentum", "steps",
 *                 "metrics", "lr", "momentum"}: |x - ref| <= 1e-12 + 1e-9 |ref|;
 *   REX cases    {"rex": {kwargs}, "lr"}: exact;
 *   refined      {"input_csv" (relative to the case file), "weights", "pipeline",
 *                 "schedule"}: |x - ref| <= 1e-6 + 1e-4 |ref|. */
#include "brisk/core.h"
#include "brisk/json.h"
#include "brisk/lr.h"
#include "brisk/verify.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cmp {
    double max_err, max_rel;
    long worst;
    double worst_x, worst_ref;
} cmp;

static void compare(const double *x, const double *ref, size_t n, double atol, double rtol,
                    cmp *c) {
    for (size_t k = 0; k < n; k++) {
        double err = fabs(x[k] - ref[k]);
        if (isnan(err)) err = INFINITY;
        double tol = atol + rtol * fabs(ref[k]);
        double rel = tol > 0 ? err / tol : (err > 0 ? INFINITY : 0);
        if (err > c->max_err) c->max_err = err;
        if (rel > c->max_rel || (c->worst < 0 && rel > 0)) {
            c->max_rel = rel;
            c->worst = (long)k;
            c->worst_x = x[k];
            c->worst_ref = ref[k];
        }
    }
}

static int get_doubles(const cJSON *doc, const char *key, double **out, size_t *n, const char *path) {
    int rc = brisk_json_get_doubles(doc, key, out, n, path);
    if (rc == BRISK_ENOTFOUND) return brisk_error(rc, "%s: missing '%s'", path, key);
    return rc;
}

static int run_torch(const char *path, const cJSON *doc, brisk_verify_result *r) {
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(doc, "torch_scheduler");
    brisk_lr_options o;
    brisk_lr_options_default(&o);
    const char *opt_name;
    long steps;
    int rc;
    if ((rc = brisk_json_get_number(doc, "base_lr", 0.1, &o.base_lr, path)) ||
        (rc = brisk_json_get_number(doc, "base_momentum", 0.9, &o.base_momentum, path)) ||
        (rc = brisk_json_get_string(doc, "optimizer", "sgd", &opt_name, path)) ||
        (rc = brisk_json_get_int(doc, "steps", -1, &steps, path)))
        return rc;
    if ((rc = brisk_lr_optimizer_from_name(opt_name, &o.optimizer)))
        return brisk_error_prefix(rc, "%s: ", path);
    double *ref_lr = NULL, *ref_m = NULL, *metrics = NULL, *lr = NULL, *m = NULL;
    size_t n_lr = 0, n_m = 0, n_met = 0;
    brisk_lr_schedule *s = NULL;
    if ((rc = get_doubles(doc, "lr", &ref_lr, &n_lr, path))) goto done;
    rc = brisk_json_get_doubles(doc, "momentum", &ref_m, &n_m, path);
    if (rc == BRISK_ENOTFOUND) rc = 0;
    if (rc) goto done;
    const cJSON *mj = cJSON_GetObjectItemCaseSensitive(doc, "metrics");
    if (mj && !cJSON_IsNull(mj) && (rc = brisk_json_get_doubles(doc, "metrics", &metrics, &n_met, path)))
        goto done;
    if (steps >= 0 && (size_t)steps != n_lr) {
        rc = brisk_error(BRISK_EPARSE, "%s: 'steps' is %ld but 'lr' has %zu values", path, steps, n_lr);
        goto done;
    }
    if (ref_m && n_m != n_lr) {
        rc = brisk_error(BRISK_EPARSE, "%s: 'momentum' has %zu values, 'lr' %zu", path, n_m, n_lr);
        goto done;
    }
    if ((rc = brisk_lr_create(spec, &o, &s))) {
        brisk_error_prefix(rc, "%s: ", path);
        goto done;
    }
    if (brisk_lr_schedule_stateful(s) && n_met + 1 < n_lr) {
        rc = brisk_error(BRISK_EPARSE, "%s: ReduceLROnPlateau case needs %zu metrics, has %zu", path,
                         n_lr - 1, n_met);
        goto done;
    }
    lr = brisk_malloc((n_lr ? n_lr : 1) * sizeof(double));
    m = brisk_malloc((n_lr ? n_lr : 1) * sizeof(double));
    if (!lr || !m) {
        rc = BRISK_ENOMEM;
        goto done;
    }
    if ((rc = brisk_lr_values(s, n_lr, metrics, lr, m))) {
        brisk_error_prefix(rc, "%s: ", path);
        goto done;
    }
    cmp c = {0, 0, -1, 0, 0}, cm = {0, 0, -1, 0, 0};
    compare(lr, ref_lr, n_lr, 1e-12, 1e-9, &c);
    if (ref_m) compare(m, ref_m, n_lr, 1e-12, 1e-9, &cm);
    r->max_err = c.max_err > cm.max_err ? c.max_err : cm.max_err;
    r->max_rel = c.max_rel > cm.max_rel ? c.max_rel : cm.max_rel;
    r->passed = r->max_rel <= 1.0;
    if (r->passed)
        snprintf(r->detail, sizeof r->detail, "%s lr%s %zu steps", brisk_lr_kind_name(brisk_lr_schedule_kind(s)),
                 ref_m ? "+momentum" : "", n_lr);
    else if (c.max_rel > 1.0)
        snprintf(r->detail, sizeof r->detail, "lr[%ld] = %.17g, reference %.17g", c.worst,
                 c.worst_x, c.worst_ref);
    else
        snprintf(r->detail, sizeof r->detail, "momentum[%ld] = %.17g, reference %.17g", cm.worst,
                 cm.worst_x, cm.worst_ref);
done:
    brisk_lr_free(s);
    brisk_free(ref_lr);
    brisk_free(ref_m);
    brisk_free(metrics);
    brisk_free(lr);
    brisk_free(m);
    return rc;
}

static int run_rex(const char *path, const cJSON *doc, brisk_verify_result *r) {
    const cJSON *rex = cJSON_GetObjectItemCaseSensitive(doc, "rex");
    if (!cJSON_IsObject(rex)) return brisk_error(BRISK_EPARSE, "%s: 'rex' must be an object", path);
    brisk_lr_options o;
    brisk_lr_options_default(&o);
    int rc;
    long spe;
    if ((rc = brisk_json_get_number(doc, "base_lr", 0.1, &o.base_lr, path)) ||
        (rc = brisk_json_get_int(doc, "steps_per_epoch", 0, &spe, path)))
        return rc;
    cJSON *kw = cJSON_Duplicate(rex, 1);
    cJSON *spec = cJSON_CreateObject();
    if (!kw || !spec) {
        cJSON_Delete(kw);
        cJSON_Delete(spec);
        return BRISK_ENOMEM;
    }
    cJSON *spe_kw = cJSON_DetachItemFromObjectCaseSensitive(kw, "steps_per_epoch");
    if (cJSON_IsNumber(spe_kw)) spe = (long)spe_kw->valuedouble;
    cJSON_Delete(spe_kw);
    o.steps_per_epoch = spe;
    cJSON_AddStringToObject(spec, "class", "rex");
    cJSON_AddItemToObject(spec, "kwargs", kw);
    double *ref = NULL, *lr = NULL;
    size_t n = 0;
    brisk_lr_schedule *s = NULL;
    if ((rc = get_doubles(doc, "lr", &ref, &n, path))) goto done;
    if ((rc = brisk_lr_create(spec, &o, &s))) {
        brisk_error_prefix(rc, "%s: ", path);
        goto done;
    }
    lr = brisk_malloc((n ? n : 1) * sizeof(double));
    if (!lr) {
        rc = BRISK_ENOMEM;
        goto done;
    }
    if ((rc = brisk_lr_values(s, n, NULL, lr, NULL))) goto done;
    cmp c = {0, 0, -1, 0, 0};
    compare(lr, ref, n, 0, 0, &c);
    r->max_err = c.max_err;
    r->max_rel = c.max_err > 0 ? INFINITY : 0;
    r->passed = c.max_err == 0;
    if (r->passed) snprintf(r->detail, sizeof r->detail, "rex lr %zu steps, bit-exact", n);
    else
        snprintf(r->detail, sizeof r->detail, "lr[%ld] = %.17g, reference %.17g (exact expected)",
                 c.worst, c.worst_x, c.worst_ref);
done:
    cJSON_Delete(spec);
    brisk_lr_free(s);
    brisk_free(ref);
    brisk_free(lr);
    return rc;
}

/* input_csv relative to the directory of the case file. */
static void resolve(const char *case_path, const char *rel, char *out, size_t n) {
    if (rel[0] == '/') {
        snprintf(out, n, "%s", rel);
        return;
    }
    const char *slash = strrchr(case_path, '/');
    if (!slash) snprintf(out, n, "%s", rel);
    else snprintf(out, n, "%.*s/%s", (int)(slash - case_path), case_path, rel);
}

static int pipeline_params(const char *path, const cJSON *pl, brisk_lr_refine_params *p) {
    if (!pl || cJSON_IsNull(pl)) return 0;
    if (!cJSON_IsObject(pl)) return brisk_error(BRISK_EPARSE, "%s: 'pipeline' must be an object", path);
    int drop;
    long trim, minlen, width, to;
    const char *pad, *norm;
    int rc;
    if ((rc = brisk_json_get_bool(pl, "drop_inf", 1, &drop, path)) ||
        (rc = brisk_json_get_int(pl, "trim_each_end", (long)p->trim_each_end, &trim, path)) ||
        (rc = brisk_json_get_int(pl, "resample_if_shorter_than", (long)p->min_len, &minlen, path)) ||
        (rc = brisk_json_get_int(pl, "median_filter_width", (long)p->filter_width, &width, path)) ||
        (rc = brisk_json_get_int(pl, "resample_to", (long)p->resample_to, &to, path)) ||
        (rc = brisk_json_get_string(pl, "pad", "reflect, end only, 2*width", &pad, path)) ||
        (rc = brisk_json_get_string(pl, "normalise", "divide by max", &norm, path)))
        return rc;
    if (trim < 0 || minlen < 0 || width < 0 || to < 2)
        return brisk_error(BRISK_EINVAL, "%s: pipeline values out of range", path);
    unsigned mult;
    char tail[8];
    if (sscanf(pad, "reflect, end only, %u*width%7s", &mult, tail) != 1)
        return brisk_error(BRISK_EUNSUPPORTED, "%s: unsupported: pipeline pad='%s' (brisk does "
                                               "'reflect, end only, K*width')", path, pad);
    if (strcmp(norm, "divide by max"))
        return brisk_error(BRISK_EUNSUPPORTED, "%s: unsupported: pipeline normalise='%s'", path, norm);
    p->drop_inf = drop;
    p->trim_each_end = (size_t)trim;
    p->min_len = (size_t)minlen;
    p->filter_width = (size_t)width;
    p->pad_widths = mult;
    p->resample_to = (size_t)to;
    return 0;
}

static int run_refined(const char *path, const cJSON *doc, brisk_verify_result *r) {
    const char *csv, *weights;
    long input_len;
    int rc;
    if ((rc = brisk_json_get_string(doc, "input_csv", NULL, &csv, path)) ||
        (rc = brisk_json_get_string(doc, "weights", "g^-2", &weights, path)) ||
        (rc = brisk_json_get_int(doc, "input_len", -1, &input_len, path)))
        return rc;
    if (!csv) return brisk_error(BRISK_EPARSE, "%s: missing 'input_csv'", path);
    brisk_lr_refine_params p;
    brisk_lr_refine_params_default(&p);
    int l1;
    if (!strcmp(weights, "g^-2")) l1 = 0;
    else if (!strcmp(weights, "g^-1")) l1 = 1;
    else return brisk_error(BRISK_EUNSUPPORTED, "%s: unsupported: weights='%s' (g^-2 or g^-1)", path, weights);
    p.weight_power = l1 ? 1.0 : 2.0;
    if ((rc = pipeline_params(path, cJSON_GetObjectItemCaseSensitive(doc, "pipeline"), &p))) return rc;
    char full[4096];
    resolve(path, csv, full, sizeof full);
    double *g = NULL, *ref = NULL, *sched = NULL;
    size_t n = 0, nref = 0;
    if ((rc = brisk_lr_grad_norms_read(full, l1, &g, &n))) goto done;
    if (input_len >= 0 && (size_t)input_len != n) {
        rc = brisk_error(BRISK_EPARSE, "%s: %s has %zu values, the case says input_len %ld", path, full,
                         n, input_len);
        goto done;
    }
    if ((rc = get_doubles(doc, "schedule", &ref, &nref, path))) goto done;
    if (nref != p.resample_to) {
        rc = brisk_error(BRISK_EPARSE, "%s: 'schedule' has %zu values, pipeline resample_to is %zu",
                         path, nref, p.resample_to);
        goto done;
    }
    if ((rc = brisk_lr_refine(g, n, &p, nref, &sched))) {
        brisk_error_prefix(rc, "%s: ", path);
        goto done;
    }
    cmp c = {0, 0, -1, 0, 0};
    compare(sched, ref, nref, 1e-6, 1e-4, &c);
    r->max_err = c.max_err;
    r->max_rel = c.max_rel;
    r->passed = c.max_rel <= 1.0;
    if (r->passed)
        snprintf(r->detail, sizeof r->detail, "refined %s, %zu norms -> %zu values", weights, n, nref);
    else
        snprintf(r->detail, sizeof r->detail, "schedule[%ld] = %.17g, reference %.17g", c.worst,
                 c.worst_x, c.worst_ref);
done:
    brisk_free(g);
    brisk_free(ref);
    brisk_free(sched);
    return rc;
}

int brisk_verify_lr_case(const char *path, const cJSON *doc, brisk_verify_result *r) {
    if (cJSON_GetObjectItemCaseSensitive(doc, "torch_scheduler")) return run_torch(path, doc, r);
    if (cJSON_GetObjectItemCaseSensitive(doc, "rex")) return run_rex(path, doc, r);
    if (cJSON_GetObjectItemCaseSensitive(doc, "schedule")) return run_refined(path, doc, r);
    return brisk_error(BRISK_EUNSUPPORTED, "%s: not an LR case", path);
}
