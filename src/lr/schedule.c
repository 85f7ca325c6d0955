/* The schedule object: brisk schedules (pure functions of the step), torch schedules
 * (emulated in torch.c, replayed for random access), warm-up and sampling rate in front
 * of any of them, and exact state save/load. */
#include "lr_impl.h"

#include "brisk/core.h"
#include "brisk/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.141592653589793

struct brisk_lr_schedule {
    brisk_lr_kind kind;
    brisk_lr_options opt;
    char *spec_json;   /* canonical spec (brisk_lr_schedule_spec) */
    char *fingerprint; /* spec + options (+ table checksum): what a saved state must match */
    long warmup;       /* linear warm-up steps in front */
    long sample_every; /* read the profile every this many steps (>= 1) */
    long pos;          /* number of step() calls */
    double cur_lr, cur_mom;
    /* brisk schedules */
    double total, max_lr, beta, rate, gamma, eta_min, power, warmup_steps;
    double *fractions;
    size_t n_fractions;
    double *table;
    size_t n_table;
    /* torch schedules */
    lr_torch *torch;
    lr_tstate init, live, scratch;
    long live_pos, scratch_pos;
    int scratch_valid;
};

void brisk_lr_options_default(brisk_lr_options *o) {
    o->base_lr = 0.1;
    o->base_momentum = 0.9;
    o->optimizer = BRISK_LR_OPT_SGD;
    o->steps_per_epoch = 0;
}

/* REX paper (Chen et al. 2022), eq. for the REX profile; generalised form with beta. */
double brisk_lr_rex_profile(double max_lr, long t, long T, double beta) {
    double z = (double)t / (double)T;
    if (z < 0) z = 0;
    if (z > 1) z = 1;
    if (beta == 0.5) return max_lr * (1 - z) / (0.5 + 0.5 * (1 - z));
    return max_lr * (1 - z) / (1 - z * (1 - beta));
}

/* ---- values --------------------------------------------------------------------- */

/* Value of a brisk schedule at its own step q >= 0. */
static double native_value(const brisk_lr_schedule *s, long q) {
    double b = s->opt.base_lr, T = s->total, x = (double)q;
    switch (s->kind) {
    case BRISK_LR_CONSTANT: return b;
    case BRISK_LR_COSINE_CLAMPED: {
        double t = x < T ? x : T;
        return s->eta_min + (b - s->eta_min) * (1 + cos(PI * t / T)) / 2;
    }
    case BRISK_LR_LINEAR_DECAY: { /* REX paper baseline: lr0 (1 - z) */
        double z = x / T;
        if (z > 1) z = 1;
        return b * (1 - z);
    }
    case BRISK_LR_EXP_DECAY: { /* REX paper baseline: lr0 e^{-3z} */
        double z = x / T;
        if (z > 1) z = 1;
        return b * exp(-s->rate * z);
    }
    case BRISK_LR_STEP_DECAY: { /* REX paper baseline: x0.1 at 1/2 and 3/4 of the budget */
        double v = b;
        for (size_t i = 0; i < s->n_fractions; i++)
            if (x >= s->fractions[i] * T) v *= s->gamma;
        return v;
    }
    case BRISK_LR_WARMUP_POLY: { /* refinement paper (visual.py): (j+1)/W, (1-(j-W)/(T-W))^p */
        double W = s->warmup_steps;
        if (x < W) return b * ((x + 1) / W);
        double base = 1 - (x - W) / (T - W);
        if (base < 0) base = 0;
        return b * pow(base, s->power);
    }
    case BRISK_LR_REX: return brisk_lr_rex_profile(s->max_lr, q, (long)T, s->beta);
    case BRISK_LR_REFINED:
        if (!s->n_table) return 0.0;
        return b * s->table[(size_t)q < s->n_table ? (size_t)q : s->n_table - 1];
    default: return b;
    }
}

/* Torch schedule at inner position q (its own step count); replays from the initial
 * state when q is not the live position. */
static int torch_value(brisk_lr_schedule *s, long q, double *lr, double *mom) {
    if (q == s->live_pos) {
        *lr = s->live.g.lr;
        *mom = s->live.g.momentum;
        return 0;
    }
    if (!s->scratch_valid || s->scratch_pos > q) {
        s->scratch = s->init;
        s->scratch_pos = 0;
        s->scratch_valid = 1;
    }
    while (s->scratch_pos < q) {
        int rc = lr_torch_step_root(s->torch, &s->scratch, NAN);
        if (rc) {
            s->scratch_valid = 0;
            return brisk_error_prefix(rc, "step %ld: ", s->scratch_pos + 1);
        }
        s->scratch_pos++;
    }
    *lr = s->scratch.g.lr;
    *mom = s->scratch.g.momentum;
    return 0;
}

/* Value at inner step q after sampling. */
static int inner_value(brisk_lr_schedule *s, long q, double *lr, double *mom) {
    if (s->sample_every > 1) q = (q / s->sample_every) * s->sample_every;
    if (s->torch) return torch_value(s, q, lr, mom);
    *lr = native_value(s, q);
    *mom = s->opt.base_momentum;
    return 0;
}

static int outer_value(brisk_lr_schedule *s, long t, double *lr, double *mom) {
    if (t < s->warmup) { /* linear warm-up to the schedule's own first value */
        double v0, m0;
        if (s->torch) {
            v0 = s->init.g.lr;
            m0 = s->init.g.momentum;
        } else {
            int rc = inner_value(s, 0, &v0, &m0);
            if (rc) return rc;
        }
        *lr = v0 * ((double)(t + 1) / (double)s->warmup);
        *mom = m0;
        return 0;
    }
    return inner_value(s, t - s->warmup, lr, mom);
}

static int refresh_current(brisk_lr_schedule *s) {
    if (s->torch && brisk_lr_schedule_stateful(s)) {
        if (s->pos < s->warmup) {
            s->cur_lr = s->init.g.lr * ((double)(s->pos + 1) / (double)s->warmup);
            s->cur_mom = s->init.g.momentum;
        } else {
            s->cur_lr = s->live.g.lr;
            s->cur_mom = s->live.g.momentum;
        }
        return 0;
    }
    return outer_value(s, s->pos, &s->cur_lr, &s->cur_mom);
}

int brisk_lr_schedule_stateful(const brisk_lr_schedule *s) {
    if (!s->torch) return 0;
    for (int i = 0; i < s->torch->n_nodes; i++)
        if (s->torch->node[i].cls == BRISK_LR_REDUCE_ON_PLATEAU) return 1;
    return 0;
}

int brisk_lr_schedule_cycles_momentum(const brisk_lr_schedule *s) {
    return s->torch && s->torch->cycles_momentum;
}

brisk_lr_kind brisk_lr_schedule_kind(const brisk_lr_schedule *s) { return s->kind; }
const char *brisk_lr_schedule_spec(const brisk_lr_schedule *s) { return s->spec_json; }
long brisk_lr_position(const brisk_lr_schedule *s) { return s->pos; }
double brisk_lr_current(const brisk_lr_schedule *s) { return s->cur_lr; }
double brisk_lr_current_momentum(const brisk_lr_schedule *s) { return s->cur_mom; }

static int sched_step(brisk_lr_schedule *s, double metric) {
    long next = s->pos + 1;
    if (s->torch && next - s->warmup >= 1) {
        lr_tstate tmp = s->live;
        int rc = lr_torch_step_root(s->torch, &tmp, metric);
        if (rc) return brisk_error_prefix(rc, "step %ld: ", next);
        s->live = tmp;
        s->live_pos++;
    }
    s->pos = next;
    int rc = refresh_current(s);
    if (rc) return rc;
    return 0;
}

int brisk_lr_step(brisk_lr_schedule *s, double metric) {
    BRISK_ASSERT(s);
    long pos = s->pos, live_pos = s->live_pos;
    lr_tstate live;
    if (s->torch) live = s->live;
    int rc = sched_step(s, metric);
    if (rc) { /* leave the schedule unchanged */
        s->pos = pos;
        s->live_pos = live_pos;
        if (s->torch) s->live = live;
        refresh_current(s);
    }
    return rc;
}

int brisk_lr_value(brisk_lr_schedule *s, long step, double *lr, double *momentum) {
    BRISK_ASSERT(s);
    double a, b;
    if (step < 0) return brisk_error(BRISK_EINVAL, "step %ld is negative", step);
    if (brisk_lr_schedule_stateful(s)) {
        if (step != s->pos)
            return brisk_error(BRISK_ESTATE,
                               "step %ld: ReduceLROnPlateau depends on the metrics; only the "
                               "current step (%ld) is known", step, s->pos);
        a = s->cur_lr;
        b = s->cur_mom;
    } else {
        int rc = outer_value(s, step, &a, &b);
        if (rc) return rc;
    }
    if (lr) *lr = a;
    if (momentum) *momentum = b;
    return 0;
}

int brisk_lr_values(brisk_lr_schedule *s, size_t n, const double *metrics, double *lr,
                    double *momentum) {
    BRISK_ASSERT(s);
    if (!brisk_lr_schedule_stateful(s)) {
        for (size_t k = 0; k < n; k++) {
            double a, b;
            int rc = outer_value(s, (long)k, &a, &b);
            if (rc) return rc;
            if (lr) lr[k] = a;
            if (momentum) momentum[k] = b;
        }
        return 0;
    }
    if (!metrics && n > 0)
        return brisk_error(BRISK_EINVAL, "ReduceLROnPlateau needs metrics (one per step)");
    brisk_lr_schedule tmp = *s; /* shares the read-only configuration */
    tmp.pos = 0;
    tmp.live = s->init;
    tmp.live_pos = 0;
    tmp.scratch_valid = 0;
    int rc = refresh_current(&tmp);
    for (size_t k = 0; k < n && !rc; k++) {
        if (lr) lr[k] = tmp.cur_lr;
        if (momentum) momentum[k] = tmp.cur_mom;
        if (k + 1 < n) rc = sched_step(&tmp, metrics[k]);
    }
    return rc;
}

/* ---- creation ------------------------------------------------------------------- */

static char *dup_print(const cJSON *j) {
    char *p = cJSON_PrintUnformatted(j);
    if (!p) return NULL;
    char *q = brisk_strdup(p);
    cJSON_free(p);
    return q;
}

static int set_fingerprint(brisk_lr_schedule *s, const cJSON *spec) {
    s->spec_json = dup_print(spec);
    if (!s->spec_json) return brisk_error(BRISK_ENOMEM, "out of memory");
    unsigned long long h = 1469598103934665603ULL; /* FNV-1a over the table's bits */
    for (size_t i = 0; i < s->n_table; i++) {
        unsigned long long u;
        memcpy(&u, &s->table[i], sizeof u);
        for (int b = 0; b < 8; b++) {
            h ^= (u >> (8 * b)) & 0xff;
            h *= 1099511628211ULL;
        }
    }
    size_t n = strlen(s->spec_json) + 256;
    s->fingerprint = brisk_malloc(n);
    if (!s->fingerprint) return BRISK_ENOMEM;
    snprintf(s->fingerprint, n, "%s|base_lr=%.17g|base_momentum=%.17g|optimizer=%s|steps_per_epoch=%ld|table=%zu:%016llx",
             s->spec_json, s->opt.base_lr, s->opt.base_momentum,
             brisk_lr_optimizer_name(s->opt.optimizer), s->opt.steps_per_epoch, s->n_table, h);
    return 0;
}

static int parse_common(brisk_lr_schedule *s, brisk_lr_kind k, const cJSON *kw) {
    long w;
    int rc = lr_kw_int(kw, k, "warmup", 0, 0, &w, NULL);
    if (rc) return rc;
    if (w < 0) return brisk_error(BRISK_EINVAL, "%s: warmup=%ld must be >= 0", brisk_lr_kind_name(k), w);
    s->warmup = w;
    s->sample_every = 1;
    const cJSON *v = kw ? cJSON_GetObjectItemCaseSensitive(kw, "sampling") : NULL;
    if (!v || cJSON_IsNull(v)) return 0;
    double d = 0;
    if (cJSON_IsString(v)) {
        const char *str = v->valuestring;
        if (!strcmp(str, "iteration") || !strcmp(str, "step") || !strcmp(str, "iter")) return 0;
        if (!strcmp(str, "epoch")) {
            if (s->opt.steps_per_epoch <= 0)
                return brisk_error(BRISK_EINVAL, "%s: sampling=epoch needs steps_per_epoch "
                                                 "(--steps-per-epoch)", brisk_lr_kind_name(k));
            s->sample_every = s->opt.steps_per_epoch;
            return 0;
        }
        char *end;
        errno = 0;
        d = strtod(str, &end);
        if (end == str || *end || errno)
            return brisk_error(BRISK_EINVAL, "%s: sampling='%s' must be iteration, epoch or a "
                                             "positive integer", brisk_lr_kind_name(k), str);
    } else if (cJSON_IsNumber(v)) {
        d = v->valuedouble;
    } else {
        return brisk_error(BRISK_EINVAL, "%s: sampling must be iteration, epoch or a positive "
                                         "integer", brisk_lr_kind_name(k));
    }
    if (!(d >= 1) || d != floor(d) || d > 1e15)
        return brisk_error(BRISK_EINVAL, "%s: sampling=%g must be a positive integer",
                           brisk_lr_kind_name(k), d);
    s->sample_every = (long)d;
    return 0;
}

static int need_positive(brisk_lr_kind k, const char *key, double v) {
    if (!(v > 0))
        return brisk_error(BRISK_EINVAL, "%s: %s=%g must be > 0", brisk_lr_kind_name(k), key, v);
    return 0;
}

static int create_native(brisk_lr_schedule *s, brisk_lr_kind k, const cJSON *kw) {
    int rc = 0;
    long T;
    switch (k) {
    case BRISK_LR_CONSTANT: return 0;
    case BRISK_LR_COSINE_CLAMPED:
        if ((rc = lr_kw_num(kw, k, "T_max", 0, 1, &s->total, NULL)) ||
            (rc = lr_kw_num(kw, k, "eta_min", 0, 0, &s->eta_min, NULL)))
            return rc;
        return need_positive(k, "T_max", s->total);
    case BRISK_LR_LINEAR_DECAY:
        if ((rc = lr_kw_int(kw, k, "total_steps", 0, 1, &T, NULL))) return rc;
        s->total = (double)T;
        return need_positive(k, "total_steps", s->total);
    case BRISK_LR_EXP_DECAY:
        if ((rc = lr_kw_int(kw, k, "total_steps", 0, 1, &T, NULL)) ||
            (rc = lr_kw_num(kw, k, "rate", 3.0, 0, &s->rate, NULL)))
            return rc;
        s->total = (double)T;
        return need_positive(k, "total_steps", s->total);
    case BRISK_LR_STEP_DECAY: {
        if ((rc = lr_kw_int(kw, k, "total_steps", 0, 1, &T, NULL)) ||
            (rc = lr_kw_num(kw, k, "gamma", 0.1, 0, &s->gamma, NULL)) ||
            (rc = lr_kw_list(kw, k, "fractions", 0, &s->fractions, &s->n_fractions)))
            return rc;
        const cJSON *f = kw ? cJSON_GetObjectItemCaseSensitive(kw, "fractions") : NULL;
        if (!f || cJSON_IsNull(f)) {
            s->fractions = brisk_malloc(2 * sizeof(double));
            if (!s->fractions) return BRISK_ENOMEM;
            s->fractions[0] = 0.5;
            s->fractions[1] = 0.75;
            s->n_fractions = 2;
        }
        s->total = (double)T;
        return need_positive(k, "total_steps", s->total);
    }
    case BRISK_LR_WARMUP_POLY:
        if ((rc = lr_kw_int(kw, k, "total_steps", 0, 1, &T, NULL)) ||
            (rc = lr_kw_num(kw, k, "warmup_steps", 0, 0, &s->warmup_steps, NULL)) ||
            (rc = lr_kw_num(kw, k, "power", 1.0, 0, &s->power, NULL)))
            return rc;
        s->total = (double)T;
        if ((rc = need_positive(k, "total_steps", s->total))) return rc;
        if (s->warmup_steps < 0 || s->warmup_steps >= s->total)
            return brisk_error(BRISK_EINVAL, "warmup_poly: warmup_steps=%g must be in [0, total_steps)",
                               s->warmup_steps);
        if (s->power < 0) return brisk_error(BRISK_EINVAL, "warmup_poly: power=%g must be >= 0", s->power);
        return 0;
    case BRISK_LR_REX:
        if ((rc = lr_kw_int(kw, k, "total_steps", 0, 1, &T, NULL)) ||
            (rc = lr_kw_num(kw, k, "max_lr", s->opt.base_lr, 0, &s->max_lr, NULL)) ||
            (rc = lr_kw_num(kw, k, "beta", 0.5, 0, &s->beta, NULL)))
            return rc;
        s->total = (double)T;
        if ((rc = need_positive(k, "total_steps", s->total))) return rc;
        return need_positive(k, "beta", s->beta);
    case BRISK_LR_REFINED: {
        const char *path;
        int l1;
        long trim, min_len, width, resample_to;
        brisk_lr_refine_params p;
        brisk_lr_refine_params_default(&p);
        if ((rc = lr_kw_str(kw, k, "grad_norms", NULL, &path)) ||
            (rc = lr_kw_bool(kw, k, "l1", 0, &l1)) ||
            (rc = lr_kw_int(kw, k, "total_steps", 0, 1, &T, NULL)) ||
            (rc = lr_kw_int(kw, k, "trim_each_end", (long)p.trim_each_end, 0, &trim, NULL)) ||
            (rc = lr_kw_int(kw, k, "min_len", (long)p.min_len, 0, &min_len, NULL)) ||
            (rc = lr_kw_int(kw, k, "filter_width", (long)p.filter_width, 0, &width, NULL)) ||
            (rc = lr_kw_int(kw, k, "resample_to", (long)p.resample_to, 0, &resample_to, NULL)))
            return rc;
        if (!path) return brisk_error(BRISK_EINVAL, "refined: missing required argument 'grad_norms'");
        if (T < 2) return brisk_error(BRISK_EINVAL, "refined: total_steps=%ld must be >= 2", T);
        if (trim < 0 || min_len < 0 || width < 0 || resample_to < 2)
            return brisk_error(BRISK_EINVAL, "refined: trim_each_end, min_len, filter_width must be "
                                             ">= 0 and resample_to >= 2");
        p.weight_power = l1 ? 1.0 : 2.0;
        p.trim_each_end = (size_t)trim;
        p.min_len = (size_t)min_len;
        p.filter_width = (size_t)width;
        p.resample_to = (size_t)resample_to;
        double *g;
        size_t n;
        if ((rc = brisk_lr_grad_norms_read(path, l1, &g, &n))) return rc;
        rc = brisk_lr_refine(g, n, &p, (size_t)T, &s->table);
        brisk_free(g);
        if (rc) return brisk_error_prefix(rc, "%s: ", path);
        s->n_table = (size_t)T;
        s->total = (double)T;
        return 0;
    }
    default: return brisk_error(BRISK_EUNSUPPORTED, "%s: not a brisk schedule", brisk_lr_kind_name(k));
    }
}

static int options_check(const brisk_lr_options *o) {
    if (!isfinite(o->base_lr) || !isfinite(o->base_momentum))
        return brisk_error(BRISK_EINVAL, "base_lr and base_momentum must be finite");
    if ((unsigned)o->optimizer >= BRISK_LR_OPT_COUNT)
        return brisk_error(BRISK_EINVAL, "unknown optimizer %d", (int)o->optimizer);
    if (o->steps_per_epoch < 0)
        return brisk_error(BRISK_EINVAL, "steps_per_epoch=%ld must be >= 0", o->steps_per_epoch);
    return 0;
}

int brisk_lr_create(const cJSON *spec, const brisk_lr_options *o, brisk_lr_schedule **out) {
    *out = NULL;
    brisk_lr_options def;
    if (!o) {
        brisk_lr_options_default(&def);
        o = &def;
    }
    int rc = options_check(o);
    if (rc) return rc;
    brisk_lr_kind k;
    const cJSON *kw, *sched;
    if ((rc = lr_spec_parts(spec, &k, &kw, &sched))) return rc;
    if ((rc = lr_check_kwargs(k, kw, 1))) return rc;
    if (sched && k != BRISK_LR_SEQUENTIAL_LR && k != BRISK_LR_CHAINED_SCHEDULER)
        return brisk_error(BRISK_EUNSUPPORTED, "%s takes no 'schedulers'", brisk_lr_kind_name(k));
    brisk_lr_schedule *s = brisk_calloc(1, sizeof *s);
    if (!s) return BRISK_ENOMEM;
    s->kind = k;
    s->opt = *o;
    rc = parse_common(s, k, kw);
    if (!rc) {
        if (brisk_lr_kind_is_torch(k)) {
            rc = lr_torch_build(spec, o, &s->torch, &s->init);
            if (!rc) {
                s->live = s->init;
                if (brisk_lr_schedule_stateful(s) && s->sample_every != 1)
                    rc = brisk_error(BRISK_EINVAL, "ReduceLROnPlateau: sampling must be 'iteration'");
            }
        } else {
            rc = create_native(s, k, kw);
        }
    }
    if (!rc) rc = set_fingerprint(s, spec);
    if (!rc) rc = refresh_current(s);
    if (rc) {
        brisk_lr_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int brisk_lr_create_spec(const char *text, const brisk_lr_options *o, brisk_lr_schedule **out) {
    cJSON *spec;
    *out = NULL;
    int rc = brisk_lr_spec_parse(text, &spec);
    if (rc) return rc;
    rc = brisk_lr_create(spec, o, out);
    cJSON_Delete(spec);
    return rc;
}

int brisk_lr_create_table(const double *table, size_t n, const brisk_lr_options *o,
                          brisk_lr_schedule **out) {
    *out = NULL;
    brisk_lr_options def;
    if (!o) {
        brisk_lr_options_default(&def);
        o = &def;
    }
    int rc = options_check(o);
    if (rc) return rc;
    if (n == 0) return brisk_error(BRISK_EINVAL, "schedule table is empty");
    for (size_t i = 0; i < n; i++)
        if (!isfinite(table[i]))
            return brisk_error(BRISK_ENUMERIC, "schedule table value %zu is not finite", i);
    brisk_lr_schedule *s = brisk_calloc(1, sizeof *s);
    if (!s) return BRISK_ENOMEM;
    s->kind = BRISK_LR_REFINED;
    s->opt = *o;
    s->sample_every = 1;
    s->table = brisk_malloc(n * sizeof(double));
    cJSON *spec = cJSON_CreateObject();
    if (!s->table || !spec) {
        cJSON_Delete(spec);
        brisk_lr_free(s);
        return BRISK_ENOMEM;
    }
    memcpy(s->table, table, n * sizeof(double));
    s->n_table = n;
    s->total = (double)n;
    cJSON_AddStringToObject(spec, "class", "refined");
    cJSON *kw = cJSON_AddObjectToObject(spec, "kwargs");
    if (kw) cJSON_AddNumberToObject(kw, "table_len", (double)n);
    rc = set_fingerprint(s, spec);
    cJSON_Delete(spec);
    if (!rc) rc = refresh_current(s);
    if (rc) {
        brisk_lr_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void brisk_lr_free(brisk_lr_schedule *s) {
    if (!s) return;
    lr_torch_free(s->torch);
    brisk_free(s->spec_json);
    brisk_free(s->fingerprint);
    brisk_free(s->fractions);
    brisk_free(s->table);
    brisk_free(s);
}

/* ---- state ---------------------------------------------------------------------- */

static int add_num(cJSON *arr, double v) {
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", v); /* exact round trip through strtod */
    cJSON *it = cJSON_CreateString(buf);
    if (!it) return BRISK_ENOMEM;
    cJSON_AddItemToArray(arr, it);
    return 0;
}

static void group_to(const lr_tgroup *g, double *v) {
    v[0] = g->lr;
    v[1] = g->initial_lr;
    v[2] = g->momentum;
    v[3] = g->max_lr;
    v[4] = g->min_lr;
    v[5] = g->max_momentum;
    v[6] = g->base_momentum;
    v[7] = g->has_initial_lr;
}

static void group_from(lr_tgroup *g, const double *v) {
    g->lr = v[0];
    g->initial_lr = v[1];
    g->momentum = v[2];
    g->max_lr = v[3];
    g->min_lr = v[4];
    g->max_momentum = v[5];
    g->base_momentum = v[6];
    g->has_initial_lr = v[7] != 0;
}

#define N_GROUP 8
#define N_NODE 9

static void node_to(const lr_tnstate *n, double *v) {
    v[0] = (double)n->last_epoch;
    v[1] = (double)n->step_count;
    v[2] = n->base_lr;
    v[3] = n->T_i;
    v[4] = n->T_cur;
    v[5] = n->best;
    v[6] = n->num_bad_epochs;
    v[7] = n->cooldown_counter;
    v[8] = n->cyc_base_momentum;
}

static void node_from(lr_tnstate *n, const double *v) {
    n->last_epoch = (long)v[0];
    n->step_count = (long)v[1];
    n->base_lr = v[2];
    n->T_i = v[3];
    n->T_cur = v[4];
    n->best = v[5];
    n->num_bad_epochs = v[6];
    n->cooldown_counter = v[7];
    n->cyc_base_momentum = v[8];
}

int brisk_lr_state_save(const brisk_lr_schedule *s, char **out) {
    *out = NULL;
    cJSON *doc = cJSON_CreateObject();
    if (!doc) return BRISK_ENOMEM;
    int rc = 0;
    char buf[40];
    cJSON_AddStringToObject(doc, "format", "brisk-lr-state");
    cJSON_AddNumberToObject(doc, "version", 1);
    cJSON_AddStringToObject(doc, "schedule", s->fingerprint);
    snprintf(buf, sizeof buf, "%ld", s->pos);
    cJSON_AddStringToObject(doc, "position", buf);
    if (s->torch) {
        snprintf(buf, sizeof buf, "%ld", s->live_pos);
        cJSON_AddStringToObject(doc, "torch_position", buf);
        double v[N_NODE];
        cJSON *g = cJSON_AddArrayToObject(doc, "group");
        group_to(&s->live.g, v);
        for (int i = 0; i < N_GROUP && !rc; i++) rc = add_num(g, v[i]);
        cJSON *nodes = cJSON_AddArrayToObject(doc, "nodes");
        for (int k = 0; k < s->torch->n_nodes && !rc; k++) {
            cJSON *a = cJSON_CreateArray();
            if (!a) {
                rc = BRISK_ENOMEM;
                break;
            }
            cJSON_AddItemToArray(nodes, a);
            node_to(&s->live.n[k], v);
            for (int i = 0; i < N_NODE && !rc; i++) rc = add_num(a, v[i]);
        }
    }
    if (!rc) {
        char *txt = cJSON_Print(doc);
        if (!txt) rc = BRISK_ENOMEM;
        else {
            *out = brisk_strdup(txt);
            cJSON_free(txt);
            if (!*out) rc = BRISK_ENOMEM;
        }
    }
    cJSON_Delete(doc);
    if (rc == BRISK_ENOMEM) return brisk_error(rc, "out of memory saving the schedule state");
    return rc;
}

static int read_num(const cJSON *it, const char *what, double *v) {
    if (cJSON_IsNumber(it)) {
        *v = it->valuedouble;
        return 0;
    }
    if (!cJSON_IsString(it))
        return brisk_error(BRISK_EPARSE, "schedule state: %s must be a number string", what);
    char *end;
    *v = strtod(it->valuestring, &end);
    if (end == it->valuestring || *end)
        return brisk_error(BRISK_EPARSE, "schedule state: %s='%s' is not a number", what,
                           it->valuestring);
    return 0;
}

static int read_array(const cJSON *arr, int n, double *v, const char *what) {
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != n)
        return brisk_error(BRISK_EPARSE, "schedule state: %s must have %d entries", what, n);
    for (int i = 0; i < n; i++) {
        int rc = read_num(cJSON_GetArrayItem(arr, i), what, &v[i]);
        if (rc) return rc;
    }
    return 0;
}

int brisk_lr_state_load(brisk_lr_schedule *s, const char *json) {
    cJSON *doc;
    int rc = brisk_json_parse(json, "schedule state", &doc);
    if (rc) return rc;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(doc, "format");
    const cJSON *sch = cJSON_GetObjectItemCaseSensitive(doc, "schedule");
    double pos = 0, tpos = 0;
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "brisk-lr-state")) {
        rc = brisk_error(BRISK_EPARSE, "schedule state: not a brisk-lr-state document");
    } else if (!cJSON_IsString(sch) || strcmp(sch->valuestring, s->fingerprint)) {
        rc = brisk_error(BRISK_ESTATE, "schedule state was saved for a different schedule or "
                                       "options (saved '%.200s', this one '%.200s')",
                         cJSON_IsString(sch) ? sch->valuestring : "?", s->fingerprint);
    } else {
        rc = read_num(cJSON_GetObjectItemCaseSensitive(doc, "position"), "position", &pos);
        if (!rc && (pos < 0 || pos != floor(pos) || pos > 1e15))
            rc = brisk_error(BRISK_EPARSE, "schedule state: bad position %g", pos);
    }
    lr_tstate st;
    if (!rc && s->torch) {
        st = s->init;
        double v[N_NODE];
        rc = read_num(cJSON_GetObjectItemCaseSensitive(doc, "torch_position"), "torch_position", &tpos);
        long want = (long)pos - s->warmup;
        if (want < 0) want = 0;
        if (!rc && tpos != (double)want)
            rc = brisk_error(BRISK_EPARSE, "schedule state: torch_position %g does not match "
                                           "position %g", tpos, pos);
        if (!rc) rc = read_array(cJSON_GetObjectItemCaseSensitive(doc, "group"), N_GROUP, v, "group");
        if (!rc) group_from(&st.g, v);
        const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(doc, "nodes");
        if (!rc && (!cJSON_IsArray(nodes) || cJSON_GetArraySize(nodes) != s->torch->n_nodes))
            rc = brisk_error(BRISK_EPARSE, "schedule state: expected %d scheduler states",
                             s->torch->n_nodes);
        for (int k = 0; !rc && k < s->torch->n_nodes; k++) {
            rc = read_array(cJSON_GetArrayItem(nodes, k), N_NODE, v, "nodes[]");
            if (!rc) node_from(&st.n[k], v);
        }
    }
    cJSON_Delete(doc);
    if (rc) return rc;
    s->pos = (long)pos;
    if (s->torch) {
        s->live = st;
        s->live_pos = (long)tpos;
        s->scratch_valid = 0;
    }
    return refresh_current(s);
}
