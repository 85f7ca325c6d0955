/* Schedule kinds: names, aliases, parameter tables (for --help and for rejecting unknown
 * keywords), and typed keyword getters with torch-like validation messages. */
#include "lr_impl.h"

#include "brisk/core.h"

#include <ctype.h>
#include <math.h>
#include <string.h>
#include <strings.h>

typedef struct kind_info {
    const char *example; /* a spec with the required keywords */
    const char *name;
    const char *aliases; /* space-separated, matched case-insensitively */
    const char *summary;
    const brisk_lr_param_info *params;
    size_t n_params;
    int torch;
} kind_info;

#define P(name, type, def, help) {name, type, def, help}
#define N_(a) (sizeof(a) / sizeof((a)[0]))

/* Parameter tables follow the torch 1.13 signatures (torch/optim/lr_scheduler.py). */
static const brisk_lr_param_info p_constant_lr[] = {
    P("factor", "float", "0.3333333333333333", "multiplier until total_iters, in [0, 1]"),
    P("total_iters", "int", "5", "steps with the reduced rate"),
};
static const brisk_lr_param_info p_linear_lr[] = {
    P("start_factor", "float", "0.3333333333333333", "multiplier at step 0, in (0, 1]"),
    P("end_factor", "float", "1.0", "multiplier from total_iters on, in [0, 1]"),
    P("total_iters", "int", "5", "steps of the linear change"),
};
static const brisk_lr_param_info p_step_lr[] = {
    P("step_size", "int", "required", "decay every step_size steps"),
    P("gamma", "float", "0.1", "decay factor"),
};
static const brisk_lr_param_info p_multistep_lr[] = {
    P("milestones", "list", "required", "steps at which lr *= gamma (a repeated one decays twice)"),
    P("gamma", "float", "0.1", "decay factor"),
};
static const brisk_lr_param_info p_exponential_lr[] = {
    P("gamma", "float", "required", "lr *= gamma every step"),
};
static const brisk_lr_param_info p_polynomial_lr[] = {
    P("total_iters", "int", "5", "steps of the decay to 0"),
    P("power", "float", "1.0", "power of the polynomial"),
};
static const brisk_lr_param_info p_cosine_lr[] = {
    P("T_max", "int", "required", "half period; periodic past T_max as in torch"),
    P("eta_min", "float", "0", "minimum lr"),
};
static const brisk_lr_param_info p_cawr[] = {
    P("T_0", "int", "required", "steps until the first restart (> 0)"),
    P("T_mult", "int", "1", "period multiplier after each restart (integer >= 1)"),
    P("eta_min", "float", "0", "minimum lr"),
};
static const brisk_lr_param_info p_cyclic[] = {
    P("base_lr", "float|list", "required", "lower lr bound (also the optimizer's lr)"),
    P("max_lr", "float|list", "required", "upper lr bound"),
    P("step_size_up", "int", "2000", "steps of the increasing half"),
    P("step_size_down", "int", "None", "steps of the decreasing half (None: step_size_up)"),
    P("mode", "str", "triangular", "triangular, triangular2 or exp_range"),
    P("gamma", "float", "1.0", "exp_range factor gamma**step"),
    P("scale_fn", "None", "None", "a Python callable in torch; only None is supported"),
    P("scale_mode", "str", "cycle", "used by torch only with a custom scale_fn"),
    P("cycle_momentum", "bool", "True", "cycle momentum inversely (SGD/RMSprop only in torch 1.13)"),
    P("base_momentum", "float|list", "0.8", "lower momentum bound"),
    P("max_momentum", "float|list", "0.9", "upper momentum bound"),
};
static const brisk_lr_param_info p_onecycle[] = {
    P("max_lr", "float|list", "required", "peak lr"),
    P("total_steps", "int", "None", "length of the cycle (or epochs * steps_per_epoch)"),
    P("epochs", "int", "None", "with steps_per_epoch, when total_steps is None"),
    P("steps_per_epoch", "int", "None", "with epochs, when total_steps is None"),
    P("pct_start", "float", "0.3", "fraction of the cycle spent increasing, in [0, 1]"),
    P("anneal_strategy", "str", "cos", "cos or linear"),
    P("cycle_momentum", "bool", "True", "cycle momentum (SGD) or beta1 (Adam) inversely"),
    P("base_momentum", "float|list", "0.85", "lower momentum bound"),
    P("max_momentum", "float|list", "0.95", "upper momentum bound"),
    P("div_factor", "float", "25.0", "initial_lr = max_lr / div_factor"),
    P("final_div_factor", "float", "10000.0", "min_lr = initial_lr / final_div_factor"),
    P("three_phase", "bool", "False", "up, down to initial_lr, then anneal to min_lr"),
};
static const brisk_lr_param_info p_sequential[] = {
    P("schedulers", "spec list", "required", "child schedules, e.g. [LinearLR(...), CosineAnnealingLR(...)]"),
    P("milestones", "list", "required", "steps at which the next child starts at its step 0"),
};
static const brisk_lr_param_info p_chained[] = {
    P("schedulers", "spec list", "required", "schedules stepped together on the same lr"),
};
static const brisk_lr_param_info p_plateau[] = {
    P("mode", "str", "min", "min or max"),
    P("factor", "float", "0.1", "lr *= factor on a plateau (< 1)"),
    P("patience", "int", "10", "bad epochs tolerated before reducing"),
    P("threshold", "float", "0.0001", "improvement needed to count as better"),
    P("threshold_mode", "str", "rel", "rel or abs"),
    P("cooldown", "int", "0", "epochs to wait after a reduction"),
    P("min_lr", "float|list", "0", "lower bound on the lr"),
    P("eps", "float", "1e-08", "reductions smaller than eps are skipped"),
};
static const brisk_lr_param_info p_cosine_clamped[] = {
    P("T_max", "int", "required", "steps of the cosine; eta_min afterwards"),
    P("eta_min", "float", "0", "minimum lr"),
};
static const brisk_lr_param_info p_total_only[] = {
    P("total_steps", "int", "required", "training budget T (z = t/T)"),
};
static const brisk_lr_param_info p_exp_decay[] = {
    P("total_steps", "int", "required", "training budget T (z = t/T)"),
    P("rate", "float", "3.0", "lr0 exp(-rate z) (REX paper baseline: 3)"),
};
static const brisk_lr_param_info p_step_decay[] = {
    P("total_steps", "int", "required", "training budget T"),
    P("fractions", "list", "[0.5, 0.75]", "fractions of T at which lr *= gamma"),
    P("gamma", "float", "0.1", "decay factor"),
};
static const brisk_lr_param_info p_warmup_poly[] = {
    P("total_steps", "int", "required", "training length T"),
    P("warmup_steps", "float", "0", "W: (j+1)/W for j < W"),
    P("power", "float", "1.0", "p: (1 - (j-W)/(T-W))^p afterwards"),
};
static const brisk_lr_param_info p_rex[] = {
    P("total_steps", "int", "required", "training budget T (z = t/T)"),
    P("max_lr", "float", "base_lr", "lr at step 0"),
    P("beta", "float", "0.5", "(1-z)/(1-z(1-beta)); 0.5 is the REX paper's profile"),
};
static const brisk_lr_param_info p_refined[] = {
    P("grad_norms", "str", "required", "CSV of gradient norms (brisk log or wandb export)"),
    P("l1", "bool", "False", "l1 norms with weights g^-1 (Adam); default l2 with g^-2 (SGD)"),
    P("total_steps", "int", "required", "training length the schedule is resampled to"),
    P("trim_each_end", "int", "2", "values dropped at each end"),
    P("min_len", "int", "10000", "resample up to this length if shorter"),
    P("filter_width", "int", "1001", "median filter width (odd)"),
    P("resample_to", "int", "10000", "length of the smoothed norms"),
};

static const brisk_lr_param_info p_common[] = {
    P("warmup", "int", "0", "brisk: linear warm-up over this many steps in front"),
    P("sampling", "str|int", "iteration", "brisk: iteration, epoch, or K (read every K steps)"),
    P("last_epoch", "int", "-1", "torch classes: only -1 (resume with the state API)"),
    P("verbose", "bool", "False", "torch classes: ignored"),
};

static const kind_info kinds[BRISK_LR_KIND_COUNT] = {
    [BRISK_LR_CONSTANT_LR] = {"ConstantLR(factor=0.5, total_iters=5)", "ConstantLR", "constant_lr", "torch: lr*factor until total_iters, then lr",
                              p_constant_lr, N_(p_constant_lr), 1},
    [BRISK_LR_LINEAR_LR] = {"LinearLR(start_factor=0.1, total_iters=10)", "LinearLR", "linear_lr linear", "torch: factor linear from start_factor to end_factor",
                            p_linear_lr, N_(p_linear_lr), 1},
    [BRISK_LR_STEP_LR] = {"StepLR(step_size=30, gamma=0.1)", "StepLR", "step step_lr", "torch: lr *= gamma every step_size steps",
                          p_step_lr, N_(p_step_lr), 1},
    [BRISK_LR_MULTISTEP_LR] = {"MultiStepLR(milestones=[30, 60, 90])", "MultiStepLR", "multistep multistep_lr", "torch: lr *= gamma at each milestone",
                               p_multistep_lr, N_(p_multistep_lr), 1},
    [BRISK_LR_EXPONENTIAL_LR] = {"ExponentialLR(gamma=0.95)", "ExponentialLR", "exponential exponential_lr", "torch: lr *= gamma every step",
                                 p_exponential_lr, N_(p_exponential_lr), 1},
    [BRISK_LR_POLYNOMIAL_LR] = {"PolynomialLR(total_iters=50, power=2.0)", "PolynomialLR", "polynomial polynomial_lr poly", "torch: lr (1 - t/total_iters)^power",
                                p_polynomial_lr, N_(p_polynomial_lr), 1},
    [BRISK_LR_COSINE_ANNEALING_LR] = {"CosineAnnealingLR(T_max=100, eta_min=0.001)", "CosineAnnealingLR", "cosine cosine_annealing cosine_annealing_lr",
                                      "torch: cosine from lr to eta_min over T_max, periodic past it",
                                      p_cosine_lr, N_(p_cosine_lr), 1},
    [BRISK_LR_COSINE_WARM_RESTARTS] = {"CosineAnnealingWarmRestarts(T_0=10, T_mult=2)", "CosineAnnealingWarmRestarts", "warm_restarts cosine_warm_restarts sgdr",
                                       "torch: cosine with restarts after T_0, T_0*T_mult, ...",
                                       p_cawr, N_(p_cawr), 1},
    [BRISK_LR_CYCLIC_LR] = {"CyclicLR(base_lr=0.001, max_lr=0.1, step_size_up=10, mode=triangular2)", "CyclicLR", "cyclic cyclic_lr clr", "torch: triangular/triangular2/exp_range cycles, momentum inverse",
                            p_cyclic, N_(p_cyclic), 1},
    [BRISK_LR_ONE_CYCLE_LR] = {"OneCycleLR(max_lr=0.1, total_steps=100)", "OneCycleLR", "onecycle one_cycle one_cycle_lr", "torch: 1cycle policy (two or three phases)",
                               p_onecycle, N_(p_onecycle), 1},
    [BRISK_LR_SEQUENTIAL_LR] = {"SequentialLR(milestones=[5], schedulers=[LinearLR(start_factor=0.01, total_iters=5), CosineAnnealingLR(T_max=45)])", "SequentialLR", "sequential sequential_lr", "torch: children in turn, switching at milestones",
                                p_sequential, N_(p_sequential), 1},
    [BRISK_LR_CHAINED_SCHEDULER] = {"ChainedScheduler(schedulers=[ConstantLR(factor=0.1, total_iters=2), ExponentialLR(gamma=0.9)])", "ChainedScheduler", "chained chained_scheduler", "torch: children stepped together",
                                    p_chained, N_(p_chained), 1},
    [BRISK_LR_REDUCE_ON_PLATEAU] = {"ReduceLROnPlateau(factor=0.5, patience=3)", "ReduceLROnPlateau", "plateau reduce_on_plateau reducelronplateau",
                                    "torch: lr *= factor when a metric stops improving (needs metrics)",
                                    p_plateau, N_(p_plateau), 1},
    [BRISK_LR_CONSTANT] = {"constant", "constant", "const", "base_lr at every step", NULL, 0, 0},
    [BRISK_LR_COSINE_CLAMPED] = {"cosine_clamped(T_max=100)", "cosine_clamped", "cosine_clamp", "cosine to eta_min over T_max, then held at eta_min",
                                 p_cosine_clamped, N_(p_cosine_clamped), 0},
    [BRISK_LR_LINEAR_DECAY] = {"linear_decay(total_steps=100)", "linear_decay", "linear_to_zero", "lr0 (1 - t/T) (REX baseline, the worst-case optimum)",
                               p_total_only, N_(p_total_only), 0},
    [BRISK_LR_EXP_DECAY] = {"exp_decay(total_steps=100)", "exp_decay", "", "lr0 exp(-rate t/T) (REX baseline)", p_exp_decay, N_(p_exp_decay), 0},
    [BRISK_LR_STEP_DECAY] = {"step_decay(total_steps=100)", "step_decay", "", "lr0 * gamma at fractions of the budget (REX baseline: 1/2, 3/4)",
                             p_step_decay, N_(p_step_decay), 0},
    [BRISK_LR_WARMUP_POLY] = {"warmup_poly(total_steps=100, warmup_steps=10, power=1.5)", "warmup_poly", "warmup_polynomial", "(j+1)/W, then (1-(j-W)/(T-W))^p (refinement paper's comparison)",
                              p_warmup_poly, N_(p_warmup_poly), 0},
    [BRISK_LR_REX] = {"rex(total_steps=100)", "rex", "REX", "REX profile lr0 (1-z)/(1/2 + 1/2 (1-z)), z = t/T", p_rex, N_(p_rex), 0},
    [BRISK_LR_REFINED] = {"refined(grad_norms='run.csv', total_steps=1000)", "refined", "refine", "refined from a run's gradient norms (Defazio et al. 2023)",
                          p_refined, N_(p_refined), 0},
};

const char *brisk_lr_kind_name(brisk_lr_kind k) {
    return (unsigned)k < BRISK_LR_KIND_COUNT ? kinds[k].name : "?";
}

const char *brisk_lr_kind_example(brisk_lr_kind k) {
    return (unsigned)k < BRISK_LR_KIND_COUNT ? kinds[k].example : "";
}

const char *brisk_lr_kind_summary(brisk_lr_kind k) {
    return (unsigned)k < BRISK_LR_KIND_COUNT ? kinds[k].summary : "";
}

int brisk_lr_kind_is_torch(brisk_lr_kind k) {
    return (unsigned)k < BRISK_LR_KIND_COUNT && kinds[k].torch;
}

static int word_in_list(const char *list, const char *name) {
    size_t n = strlen(name);
    const char *p = list;
    while (*p) {
        while (*p == ' ') p++;
        const char *e = p;
        while (*e && *e != ' ') e++;
        if ((size_t)(e - p) == n && n && !strncasecmp(p, name, n)) return 1;
        p = e;
    }
    return 0;
}

int brisk_lr_kind_from_name(const char *name, brisk_lr_kind *out) {
    if (!name) return brisk_error(BRISK_EINVAL, "schedule name is missing");
    for (int k = 0; k < BRISK_LR_KIND_COUNT; k++)
        if (!strcmp(kinds[k].name, name)) {
            *out = (brisk_lr_kind)k;
            return 0;
        }
    for (int k = 0; k < BRISK_LR_KIND_COUNT; k++)
        if (!strcasecmp(kinds[k].name, name) || word_in_list(kinds[k].aliases, name)) {
            *out = (brisk_lr_kind)k;
            return 0;
        }
    if (!strcmp(name, "LambdaLR") || !strcmp(name, "MultiplicativeLR"))
        return brisk_error(BRISK_EUNSUPPORTED,
                           "%s takes a Python callable (lr_lambda) and cannot be described in a "
                           "spec; use a schedule table (brisk_lr_create_table)", name);
    return brisk_error(BRISK_ENOTFOUND, "unknown schedule '%s' (see 'brisk lr list')", name);
}

size_t brisk_lr_kind_params(brisk_lr_kind k, const brisk_lr_param_info **out) {
    if ((unsigned)k >= BRISK_LR_KIND_COUNT) {
        *out = NULL;
        return 0;
    }
    *out = kinds[k].params;
    return kinds[k].n_params;
}

size_t brisk_lr_common_params(const brisk_lr_param_info **out) {
    *out = p_common;
    return N_(p_common);
}

static const char *opt_names[BRISK_LR_OPT_COUNT] = {"sgd", "adam", "adamw", "rmsprop"};

const char *brisk_lr_optimizer_name(brisk_lr_optimizer o) {
    return (unsigned)o < BRISK_LR_OPT_COUNT ? opt_names[o] : "?";
}

int brisk_lr_optimizer_from_name(const char *name, brisk_lr_optimizer *out) {
    for (int i = 0; i < BRISK_LR_OPT_COUNT; i++)
        if (name && !strcasecmp(name, opt_names[i])) {
            *out = (brisk_lr_optimizer)i;
            return 0;
        }
    return brisk_error(BRISK_EINVAL, "unknown optimizer '%s' (sgd, adam, adamw, rmsprop)",
                       name ? name : "(null)");
}

const brisk_lr_param_info *lr_find_param(brisk_lr_kind k, const char *name) {
    const brisk_lr_param_info *p;
    size_t n = brisk_lr_kind_params(k, &p);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(p[i].name, name)) return &p[i];
    return NULL;
}

int lr_check_kwargs(brisk_lr_kind k, const cJSON *kwargs, int top_level) {
    if (!kwargs) return 0;
    if (!cJSON_IsObject(kwargs))
        return brisk_error(BRISK_EPARSE, "%s: kwargs must be an object", brisk_lr_kind_name(k));
    const cJSON *it;
    cJSON_ArrayForEach(it, kwargs) {
        const char *key = it->string;
        if (lr_find_param(k, key)) continue;
        /* torch 1.13 signatures: ChainedScheduler(schedulers) takes neither keyword,
         * ReduceLROnPlateau takes verbose but no last_epoch */
        if (kinds[k].torch && k != BRISK_LR_CHAINED_SCHEDULER &&
            (!strcmp(key, "verbose") || (!strcmp(key, "last_epoch") && k != BRISK_LR_REDUCE_ON_PLATEAU)))
            continue;
        if (!strcmp(key, "warmup") || !strcmp(key, "sampling")) {
            if (top_level) continue;
            return brisk_error(BRISK_EUNSUPPORTED,
                               "%s: keyword '%s' is allowed on the outer schedule only",
                               brisk_lr_kind_name(k), key);
        }
        return brisk_error(BRISK_EUNSUPPORTED,
                           "%s: unsupported keyword argument '%s' (see 'brisk lr %s --help')",
                           brisk_lr_kind_name(k), key, brisk_lr_kind_name(k));
    }
    return 0;
}

static const cJSON *kw_get(const cJSON *kw, const char *key) {
    return kw ? cJSON_GetObjectItemCaseSensitive(kw, key) : NULL;
}

int lr_kw_num(const cJSON *kw, brisk_lr_kind k, const char *key, double def, int required,
              double *out, int *is_none) {
    const cJSON *v = kw_get(kw, key);
    if (is_none) *is_none = 0;
    *out = def;
    if (!v || cJSON_IsNull(v)) {
        if (is_none) *is_none = 1;
        if (required)
            return brisk_error(BRISK_EINVAL, "%s: missing required argument '%s'",
                               brisk_lr_kind_name(k), key);
        return 0;
    }
    if (cJSON_IsBool(v)) { /* Python bools are ints */
        *out = cJSON_IsTrue(v) ? 1.0 : 0.0;
        return 0;
    }
    if (!cJSON_IsNumber(v)) {
        if (cJSON_IsString(v))
            return brisk_error(BRISK_EINVAL, "%s: %s='%s' must be a number", brisk_lr_kind_name(k),
                               key, v->valuestring);
        return brisk_error(BRISK_EINVAL, "%s: %s must be a number", brisk_lr_kind_name(k), key);
    }
    if (!isfinite(v->valuedouble))
        return brisk_error(BRISK_EINVAL, "%s: %s is not finite", brisk_lr_kind_name(k), key);
    *out = v->valuedouble;
    return 0;
}

int lr_kw_int(const cJSON *kw, brisk_lr_kind k, const char *key, long def, int required,
              long *out, int *is_none) {
    double d;
    int none;
    int rc = lr_kw_num(kw, k, key, (double)def, required, &d, &none);
    if (is_none) *is_none = none;
    if (rc) return rc;
    if (none) {
        *out = def;
        return 0;
    }
    if (d != floor(d) || fabs(d) > 9.0e15)
        return brisk_error(BRISK_EINVAL, "%s: %s must be an integer, got %.17g",
                           brisk_lr_kind_name(k), key, d);
    *out = (long)d;
    return 0;
}

int lr_kw_bool(const cJSON *kw, brisk_lr_kind k, const char *key, int def, int *out) {
    const cJSON *v = kw_get(kw, key);
    *out = def;
    if (!v || cJSON_IsNull(v)) return 0;
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v);
        return 0;
    }
    if (cJSON_IsNumber(v)) { /* Python truthiness */
        *out = v->valuedouble != 0.0;
        return 0;
    }
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        if (!strcasecmp(s, "true") || !strcmp(s, "1")) {
            *out = 1;
            return 0;
        }
        if (!strcasecmp(s, "false") || !strcmp(s, "0")) {
            *out = 0;
            return 0;
        }
    }
    return brisk_error(BRISK_EINVAL, "%s: %s must be true or false", brisk_lr_kind_name(k), key);
}

int lr_kw_str(const cJSON *kw, brisk_lr_kind k, const char *key, const char *def,
              const char **out) {
    const cJSON *v = kw_get(kw, key);
    *out = def;
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsString(v))
        return brisk_error(BRISK_EINVAL, "%s: %s must be a string", brisk_lr_kind_name(k), key);
    *out = v->valuestring;
    return 0;
}

int lr_kw_num_or_list1(const cJSON *kw, brisk_lr_kind k, const char *key, double def,
                       int required, double *out) {
    const cJSON *v = kw_get(kw, key);
    if (v && cJSON_IsArray(v)) {
        if (cJSON_GetArraySize(v) != 1)
            return brisk_error(BRISK_EINVAL, "%s: expected 1 values for %s, got %d (one param group)",
                               brisk_lr_kind_name(k), key, cJSON_GetArraySize(v));
        const cJSON *e = cJSON_GetArrayItem(v, 0);
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return brisk_error(BRISK_EINVAL, "%s: %s[0] must be a finite number",
                               brisk_lr_kind_name(k), key);
        *out = e->valuedouble;
        return 0;
    }
    return lr_kw_num(kw, k, key, def, required, out, NULL);
}

int lr_kw_list(const cJSON *kw, brisk_lr_kind k, const char *key, int required, double **out,
               size_t *n) {
    const cJSON *v = kw_get(kw, key);
    *out = NULL;
    *n = 0;
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return brisk_error(BRISK_EINVAL, "%s: missing required argument '%s'",
                               brisk_lr_kind_name(k), key);
        return 0;
    }
    if (cJSON_IsNumber(v)) {
        *out = brisk_malloc(sizeof(double));
        if (!*out) return BRISK_ENOMEM;
        (*out)[0] = v->valuedouble;
        *n = 1;
        return 0;
    }
    if (!cJSON_IsArray(v))
        return brisk_error(BRISK_EINVAL, "%s: %s must be a list of numbers",
                           brisk_lr_kind_name(k), key);
    size_t m = (size_t)cJSON_GetArraySize(v);
    double *a = brisk_malloc((m ? m : 1) * sizeof(double));
    if (!a) return BRISK_ENOMEM;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble)) {
            brisk_free(a);
            return brisk_error(BRISK_EINVAL, "%s: %s[%zu] must be a finite number",
                               brisk_lr_kind_name(k), key, i);
        }
        a[i++] = e->valuedouble;
    }
    *out = a;
    *n = m;
    return 0;
}

int lr_spec_parts(const cJSON *spec, brisk_lr_kind *k, const cJSON **kwargs,
                  const cJSON **schedulers) {
    if (cJSON_IsString(spec)) { /* a bare class name: no keyword arguments */
        *kwargs = NULL;
        *schedulers = NULL;
        return brisk_lr_kind_from_name(spec->valuestring, k);
    }
    if (!cJSON_IsObject(spec))
        return brisk_error(BRISK_EPARSE, "schedule spec must be an object with 'class'");
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(spec, "class");
    if (!cJSON_IsString(cls))
        return brisk_error(BRISK_EPARSE, "schedule spec has no 'class' string");
    int rc = brisk_lr_kind_from_name(cls->valuestring, k);
    if (rc) return rc;
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(spec, "kwargs");
    if (kw && cJSON_IsNull(kw)) kw = NULL;
    if (kw && !cJSON_IsObject(kw))
        return brisk_error(BRISK_EPARSE, "%s: 'kwargs' must be an object", cls->valuestring);
    *kwargs = kw;
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(spec, "schedulers");
    if (!sc && kw) sc = cJSON_GetObjectItemCaseSensitive(kw, "schedulers");
    if (sc && !cJSON_IsArray(sc))
        return brisk_error(BRISK_EPARSE, "%s: 'schedulers' must be a list", cls->valuestring);
    *schedulers = sc;
    return 0;
}
