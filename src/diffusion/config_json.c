/* diffusers scheduler_config.json -> brisk_scheduler_config, with diffusers' key names.
 * Unknown keys are reported through the warn callback and ignored; known keys whose value
 * brisk does not implement are BRISK_EUNSUPPORTED naming the key, the value and the valid
 * values. */
#include "diffusion/diffusion_impl.h"

#include "brisk/io.h"
#include "brisk/json.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Classes, as a bit mask per key. */
enum {
    C_DDPM = 1 << 0, C_DDIM = 1 << 1, C_PNDM = 1 << 2, C_EULER = 1 << 3, C_HEUN = 1 << 4,
    C_DPM = 1 << 5, C_UNIPC = 1 << 6, C_ORIG = 1 << 7, C_BRISK = 1 << 8,
    C_ALL = 0x1ff
};

static int class_bit(brisk_sampler_kind k, int original) {
    if (original) return C_ORIG;
    switch (k) {
    case BRISK_SAMPLER_DDPM: return C_DDPM;
    case BRISK_SAMPLER_DDIM: return C_DDIM;
    case BRISK_SAMPLER_PNDM:
    case BRISK_SAMPLER_PLMS: return C_PNDM;
    case BRISK_SAMPLER_EULER: return C_EULER;
    case BRISK_SAMPLER_HEUN: return C_HEUN;
    case BRISK_SAMPLER_DPMPP_2M: return C_DPM;
    case BRISK_SAMPLER_UNIPC: return C_UNIPC;
    default: return C_BRISK;
    }
}

typedef struct parse_ctx {
    const char *what;
    const char *base_dir;
    brisk_scheduler_config *c;
    int cls;
    brisk_config_warn_fn warn;
    void *warn_ctx;
} parse_ctx;

static const char *json_str(const cJSON *v, char *buf, size_t n) {
    char *p = cJSON_PrintUnformatted(v);
    snprintf(buf, n, "%s", p ? p : "?");
    cJSON_free(p);
    return buf;
}

static int unsupported(parse_ctx *p, const char *key, const cJSON *v, const char *valid) {
    char b[160];
    return brisk_error(BRISK_EUNSUPPORTED, "%s: config key '%s'=%s is not supported (valid: %s)",
                       p->what, key, json_str(v, b, sizeof b), valid);
}

static int want_bool(parse_ctx *p, const char *key, const cJSON *v, int *out) {
    if (!cJSON_IsBool(v))
        return brisk_error(BRISK_EPARSE, "%s: config key '%s' must be true or false", p->what, key);
    *out = cJSON_IsTrue(v);
    return BRISK_OK;
}

static int want_num(parse_ctx *p, const char *key, const cJSON *v, double *out) {
    if (!cJSON_IsNumber(v))
        return brisk_error(BRISK_EPARSE, "%s: config key '%s' must be a number", p->what, key);
    *out = v->valuedouble;
    return BRISK_OK;
}

static int want_int(parse_ctx *p, const char *key, const cJSON *v, int *out) {
    double d = 0;
    int rc = want_num(p, key, v, &d);
    if (rc) return rc;
    if (d != floor(d) || fabs(d) > 1e9)
        return brisk_error(BRISK_EPARSE, "%s: config key '%s' must be an integer", p->what, key);
    *out = (int)d;
    return BRISK_OK;
}

static int want_str(parse_ctx *p, const char *key, const cJSON *v, const char **out) {
    if (!cJSON_IsString(v))
        return brisk_error(BRISK_EPARSE, "%s: config key '%s' must be a string", p->what, key);
    *out = v->valuestring;
    return BRISK_OK;
}

/* A boolean key whose only supported value is false. */
static int must_be_false(parse_ctx *p, const char *key, const cJSON *v) {
    if (cJSON_IsNull(v) || cJSON_IsFalse(v)) return BRISK_OK;
    return unsupported(p, key, v, "false");
}

/* A key whose only supported value is null. */
static int must_be_null(parse_ctx *p, const char *key, const cJSON *v) {
    if (cJSON_IsNull(v)) return BRISK_OK;
    return unsupported(p, key, v, "null");
}

static int h_T(parse_ctx *p, const char *k, const cJSON *v) {
    return want_int(p, k, v, &p->c->num_train_timesteps);
}
static int h_beta_start(parse_ctx *p, const char *k, const cJSON *v) {
    return want_num(p, k, v, &p->c->beta_start);
}
static int h_beta_end(parse_ctx *p, const char *k, const cJSON *v) {
    return want_num(p, k, v, &p->c->beta_end);
}
static int h_beta_schedule(parse_ctx *p, const char *k, const cJSON *v) {
    const char *s = NULL;
    int rc = want_str(p, k, v, &s);
    if (rc) return rc;
    if (p->c->beta_schedule == BRISK_BETA_TRAINED) return BRISK_OK; /* trained_betas wins */
    if (p->cls == C_ORIG) { /* the authors' names: linear, quad, cosine */
        if (!strcmp(s, "quad")) s = "scaled_linear";
        else if (!strcmp(s, "cosine")) s = "squaredcos_cap_v2";
    }
    if (!strcmp(s, "linear")) p->c->beta_schedule = BRISK_BETA_LINEAR;
    else if (!strcmp(s, "scaled_linear")) p->c->beta_schedule = BRISK_BETA_SCALED_LINEAR;
    else if (!strcmp(s, "squaredcos_cap_v2")) p->c->beta_schedule = BRISK_BETA_SQUAREDCOS_CAP_V2;
    else
        return unsupported(p, k, v,
                           p->cls == C_ORIG ? "linear, quad, cosine, scaled_linear, squaredcos_cap_v2"
                                            : "linear, scaled_linear, squaredcos_cap_v2");
    return BRISK_OK;
}
static int h_trained(parse_ctx *p, const char *k, const cJSON *v) {
    if (cJSON_IsNull(v)) return BRISK_OK;
    brisk_scheduler_config *c = p->c;
    brisk_free(c->trained_betas);
    c->trained_betas = NULL;
    c->n_trained_betas = 0;
    if (cJSON_IsString(v)) {
        const char *path = v->valuestring;
        char full[4096];
        if (path[0] != '/' && p->base_dir && p->base_dir[0]) {
            snprintf(full, sizeof full, "%s/%s", p->base_dir, path);
            path = full;
        }
        int rc = brisk_trained_betas_load(path, &c->trained_betas, &c->n_trained_betas);
        if (rc) return brisk_error_prefix(rc, "%s: config key '%s': ", p->what, k);
    } else if (cJSON_IsArray(v)) {
        size_t n = (size_t)cJSON_GetArraySize(v);
        if (n == 0) return brisk_error(BRISK_EPARSE, "%s: config key '%s' is empty", p->what, k);
        c->trained_betas = brisk_malloc(n * sizeof(double));
        if (!c->trained_betas) return BRISK_ENOMEM;
        size_t i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v) {
            if (!cJSON_IsNumber(e))
                return brisk_error(BRISK_EPARSE, "%s: element %zu of '%s' is not a number", p->what,
                                   i, k);
            c->trained_betas[i++] = e->valuedouble;
        }
        c->n_trained_betas = n;
    } else {
        return brisk_error(BRISK_EPARSE,
                           "%s: config key '%s' must be null, an array of numbers or a file name",
                           p->what, k);
    }
    c->beta_schedule = BRISK_BETA_TRAINED;
    c->num_train_timesteps = (int)c->n_trained_betas;
    return BRISK_OK;
}
static int h_pred(parse_ctx *p, const char *k, const cJSON *v) {
    const char *s = NULL;
    int rc = want_str(p, k, v, &s);
    if (rc) return rc;
    if (!strcmp(s, "original_sample")) s = "sample"; /* Euler: backwards-compatible name */
    if (brisk_prediction_from_name(s, &p->c->prediction_type))
        return unsupported(p, k, v, "epsilon, v_prediction, sample");
    return BRISK_OK;
}
static int h_spacing(parse_ctx *p, const char *k, const cJSON *v) {
    const char *s = NULL;
    int rc = want_str(p, k, v, &s);
    if (rc) return rc;
    if (brisk_timestep_spacing_from_name(s, &p->c->timestep_spacing))
        return unsupported(p, k, v, "leading, linspace, trailing");
    return BRISK_OK;
}
static int h_offset(parse_ctx *p, const char *k, const cJSON *v) {
    int rc = want_int(p, k, v, &p->c->steps_offset);
    if (!rc && p->c->steps_offset < 0)
        return brisk_error(BRISK_EINVAL, "%s: config key '%s' must be >= 0", p->what, k);
    return rc;
}
static int h_alpha_one(parse_ctx *p, const char *k, const cJSON *v) {
    return want_bool(p, k, v, &p->c->set_alpha_to_one);
}
static int h_skip_prk(parse_ctx *p, const char *k, const cJSON *v) {
    int b = 0;
    int rc = want_bool(p, k, v, &b);
    if (!rc) p->c->kind = b ? BRISK_SAMPLER_PLMS : BRISK_SAMPLER_PNDM;
    return rc;
}
static int h_clip(parse_ctx *p, const char *k, const cJSON *v) {
    return want_bool(p, k, v, &p->c->clip_sample);
}
static int h_clip_range(parse_ctx *p, const char *k, const cJSON *v) {
    return want_num(p, k, v, &p->c->clip_sample_range);
}
static int h_thresh(parse_ctx *p, const char *k, const cJSON *v) {
    return want_bool(p, k, v, &p->c->thresholding);
}
static int h_thresh_ratio(parse_ctx *p, const char *k, const cJSON *v) {
    return want_num(p, k, v, &p->c->dynamic_thresholding_ratio);
}
static int h_max_value(parse_ctx *p, const char *k, const cJSON *v) {
    return want_num(p, k, v, &p->c->sample_max_value);
}
static int h_rescale(parse_ctx *p, const char *k, const cJSON *v) {
    return want_bool(p, k, v, &p->c->rescale_betas_zero_snr);
}
static int h_variance(parse_ctx *p, const char *k, const cJSON *v) {
    if (p->cls == C_DPM) {
        if (cJSON_IsNull(v)) return BRISK_OK;
        return unsupported(p, k, v, "null (learned variances are not supported)");
    }
    const char *s = NULL;
    int rc = want_str(p, k, v, &s);
    if (rc) return rc;
    if (!strcmp(s, "fixed_small")) p->c->variance_type = BRISK_VARIANCE_FIXED_SMALL;
    else if (!strcmp(s, "fixed_small_log")) p->c->variance_type = BRISK_VARIANCE_FIXED_SMALL_LOG;
    else if (!strcmp(s, "fixed_large")) p->c->variance_type = BRISK_VARIANCE_FIXED_LARGE;
    else return unsupported(p, k, v, "fixed_small, fixed_small_log, fixed_large");
    return BRISK_OK;
}
static int h_eta(parse_ctx *p, const char *k, const cJSON *v) { return want_num(p, k, v, &p->c->eta); }
static int h_order(parse_ctx *p, const char *k, const cJSON *v) {
    int rc = want_int(p, k, v, &p->c->solver_order);
    if (!rc && (p->c->solver_order < 1 || p->c->solver_order > 3))
        return unsupported(p, k, v, "1, 2, 3");
    return rc;
}
static int h_lof(parse_ctx *p, const char *k, const cJSON *v) {
    return want_bool(p, k, v, &p->c->lower_order_final);
}
static int h_algorithm(parse_ctx *p, const char *k, const cJSON *v) {
    const char *s = NULL;
    int rc = want_str(p, k, v, &s);
    if (rc) return rc;
    /* diffusers maps "deis" to "dpmsolver++" */
    if (!strcmp(s, "dpmsolver++") || !strcmp(s, "deis")) return BRISK_OK;
    return unsupported(p, k, v, "dpmsolver++ (and deis, which diffusers maps to it)");
}
static int h_solver_type(parse_ctx *p, const char *k, const cJSON *v) {
    const char *s = NULL;
    int rc = want_str(p, k, v, &s);
    if (rc) return rc;
    if (p->cls == C_DPM) {
        /* diffusers maps logrho / bh1 / bh2 to midpoint for DPM-Solver */
        if (!strcmp(s, "midpoint") || !strcmp(s, "logrho") || !strcmp(s, "bh1") || !strcmp(s, "bh2"))
            p->c->solver_type = BRISK_SOLVER_MIDPOINT;
        else if (!strcmp(s, "heun")) p->c->solver_type = BRISK_SOLVER_HEUN;
        else return unsupported(p, k, v, "midpoint, heun (logrho, bh1, bh2 map to midpoint)");
    } else {
        /* diffusers maps midpoint / heun / logrho to bh2 for UniPC */
        if (!strcmp(s, "bh1")) p->c->solver_type = BRISK_SOLVER_BH1;
        else if (!strcmp(s, "bh2") || !strcmp(s, "midpoint") || !strcmp(s, "heun") ||
                 !strcmp(s, "logrho"))
            p->c->solver_type = BRISK_SOLVER_BH2;
        else return unsupported(p, k, v, "bh1, bh2 (midpoint, heun, logrho map to bh2)");
    }
    return BRISK_OK;
}
static int h_euler_final(parse_ctx *p, const char *k, const cJSON *v) {
    return want_bool(p, k, v, &p->c->euler_at_final);
}
static int h_false(parse_ctx *p, const char *k, const cJSON *v) { return must_be_false(p, k, v); }
static int h_null(parse_ctx *p, const char *k, const cJSON *v) { return must_be_null(p, k, v); }
static int h_ignore(parse_ctx *p, const char *k, const cJSON *v) {
    (void)p, (void)k, (void)v;
    return BRISK_OK;
}
static int h_num_or_null(parse_ctx *p, const char *k, const cJSON *v) {
    if (cJSON_IsNull(v) || cJSON_IsNumber(v)) return BRISK_OK; /* only read with karras etc. */
    return brisk_error(BRISK_EPARSE, "%s: config key '%s' must be a number or null", p->what, k);
}
static int h_final_sigmas(parse_ctx *p, const char *k, const cJSON *v) {
    const char *s = NULL;
    int rc = want_str(p, k, v, &s);
    if (rc) return rc;
    if (brisk_final_sigmas_from_name(s, &p->c->final_sigmas_type))
        return unsupported(p, k, v, "zero, sigma_min");
    return BRISK_OK;
}
static int h_lambda_min(parse_ctx *p, const char *k, const cJSON *v) {
    return want_num(p, k, v, &p->c->lambda_min_clipped);
}
static int h_interp(parse_ctx *p, const char *k, const cJSON *v) {
    const char *s = NULL;
    int rc = want_str(p, k, v, &s);
    if (rc) return rc;
    if (!strcmp(s, "linear")) return BRISK_OK;
    return unsupported(p, k, v,
                       "linear (diffusers' log_linear returns N+1 ascending sigmas, not a usable "
                       "schedule)");
}
static int h_timestep_type(parse_ctx *p, const char *k, const cJSON *v) {
    const char *s = NULL;
    int rc = want_str(p, k, v, &s);
    if (rc) return rc;
    if (!strcmp(s, "discrete") || !strcmp(s, "continuous")) return BRISK_OK; /* checked later */
    return unsupported(p, k, v, "discrete, continuous");
}
static int h_predict_x0(parse_ctx *p, const char *k, const cJSON *v) {
    return want_bool(p, k, v, &p->c->predict_x0);
}
static int h_disable_corr(parse_ctx *p, const char *k, const cJSON *v) {
    if (cJSON_IsNull(v)) return BRISK_OK;
    if (!cJSON_IsArray(v))
        return brisk_error(BRISK_EPARSE, "%s: config key '%s' must be a list of step indices",
                           p->what, k);
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (n >= BRISK_MAX_DISABLE_CORRECTOR)
            return brisk_error(BRISK_EUNSUPPORTED, "%s: config key '%s' lists more than %d steps",
                               p->what, k, BRISK_MAX_DISABLE_CORRECTOR);
        int rc = want_int(p, k, e, &p->c->disable_corrector[n]);
        if (rc) return rc;
        n++;
    }
    p->c->n_disable_corrector = n;
    return BRISK_OK;
}
static int h_time_mode(parse_ctx *p, const char *k, const cJSON *v) {
    const char *s = NULL;
    int rc = want_str(p, k, v, &s);
    if (rc) return rc;
    if (brisk_time_mode_from_name(s, &p->c->time_mode))
        return unsupported(p, k, v, "diffusers, reference, grid");
    return BRISK_OK;
}
static int h_grid_variable(parse_ctx *p, const char *k, const cJSON *v) {
    const char *s = NULL;
    int rc = want_str(p, k, v, &s);
    if (rc) return rc;
    if (brisk_grid_variable_from_name(s, &p->c->grid_variable)) return unsupported(p, k, v, "t, sigma");
    return BRISK_OK;
}
static int h_pf_rtol(parse_ctx *p, const char *k, const cJSON *v) { return want_num(p, k, v, &p->c->pf_rtol); }
static int h_pf_atol(parse_ctx *p, const char *k, const cJSON *v) { return want_num(p, k, v, &p->c->pf_atol); }
static int h_pf_t_end(parse_ctx *p, const char *k, const cJSON *v) { return want_num(p, k, v, &p->c->pf_t_end); }
static int h_use_clipped(parse_ctx *p, const char *k, const cJSON *v) {
    return want_bool(p, k, v, &p->c->use_clipped_model_output);
}

typedef struct key_entry {
    const char *key;
    int classes;
    int (*fn)(parse_ctx *, const char *, const cJSON *);
} key_entry;

#define SCHED (C_DDPM | C_DDIM | C_PNDM | C_EULER | C_HEUN | C_DPM | C_UNIPC | C_BRISK)
static const key_entry KEYS[] = {
    {"num_train_timesteps", C_ALL, h_T},
    {"beta_start", C_ALL, h_beta_start},
    {"beta_end", C_ALL, h_beta_end},
    {"beta_schedule", C_ALL, h_beta_schedule},
    {"trained_betas", SCHED, h_trained},
    {"prediction_type", SCHED, h_pred},
    {"timestep_spacing", SCHED, h_spacing},
    {"steps_offset", SCHED, h_offset},
    {"set_alpha_to_one", C_DDIM | C_PNDM | C_BRISK, h_alpha_one},
    {"skip_prk_steps", C_PNDM, h_skip_prk},
    {"clip_sample", C_DDPM | C_DDIM | C_HEUN, h_clip},
    {"clip_sample_range", C_DDPM | C_DDIM | C_HEUN, h_clip_range},
    {"thresholding", C_DDPM | C_DDIM | C_DPM | C_UNIPC, h_thresh},
    {"dynamic_thresholding_ratio", C_DDPM | C_DDIM | C_DPM | C_UNIPC, h_thresh_ratio},
    {"sample_max_value", C_DDPM | C_DDIM | C_DPM | C_UNIPC, h_max_value},
    {"rescale_betas_zero_snr", C_DDPM | C_DDIM | C_EULER | C_DPM | C_UNIPC | C_BRISK, h_rescale},
    {"variance_type", C_DDPM | C_DPM, h_variance},
    {"eta", C_DDIM, h_eta},
    {"use_clipped_model_output", C_DDIM, h_use_clipped},
    {"solver_order", C_DPM | C_UNIPC, h_order},
    {"lower_order_final", C_DPM | C_UNIPC, h_lof},
    {"algorithm_type", C_DPM, h_algorithm},
    {"solver_type", C_DPM | C_UNIPC, h_solver_type},
    {"euler_at_final", C_DPM, h_euler_final},
    {"use_karras_sigmas", C_EULER | C_HEUN | C_DPM | C_UNIPC, h_false},
    {"use_exponential_sigmas", C_EULER | C_HEUN | C_DPM | C_UNIPC, h_false},
    {"use_beta_sigmas", C_EULER | C_HEUN | C_DPM | C_UNIPC, h_false},
    {"use_lu_lambdas", C_DPM, h_false},
    {"use_flow_sigmas", C_DPM | C_UNIPC, h_false},
    {"use_dynamic_shifting", C_DPM | C_UNIPC, h_false},
    {"flow_shift", C_DPM | C_UNIPC, h_num_or_null},          /* read only with flow sigmas */
    {"time_shift_type", C_DPM | C_UNIPC, h_ignore},          /* read only with dynamic shifting */
    {"final_sigmas_type", C_EULER | C_DPM | C_UNIPC | C_BRISK, h_final_sigmas},
    {"lambda_min_clipped", C_DPM, h_lambda_min},
    {"interpolation_type", C_EULER, h_interp},
    {"timestep_type", C_EULER, h_timestep_type},
    {"sigma_min", C_EULER | C_UNIPC, h_num_or_null},         /* read only with karras etc. */
    {"sigma_max", C_EULER | C_UNIPC, h_num_or_null},
    {"predict_x0", C_UNIPC, h_predict_x0},
    {"disable_corrector", C_UNIPC, h_disable_corr},
    {"solver_p", C_UNIPC, h_null},
    {"shift_terminal", C_UNIPC | C_DPM | C_EULER, h_null},
    {"time_mode", C_ALL, h_time_mode},
    {"grid_variable", C_ALL, h_grid_variable},
    {"pf_rtol", C_ORIG | C_BRISK, h_pf_rtol},
    {"pf_atol", C_ORIG | C_BRISK, h_pf_atol},
    {"pf_t_end", C_ORIG | C_BRISK, h_pf_t_end},
    /* descriptive keys of the PNDM authors' cases */
    {"time_grid", C_ORIG, h_ignore},
    {"alpha_index", C_ORIG, h_ignore},
};

static const struct {
    const char *name;
    brisk_sampler_kind kind;
} CLASSES[] = {
    {"DDPMScheduler", BRISK_SAMPLER_DDPM},
    {"DDIMScheduler", BRISK_SAMPLER_DDIM},
    {"PNDMScheduler", BRISK_SAMPLER_PNDM},
    {"EulerDiscreteScheduler", BRISK_SAMPLER_EULER},
    {"HeunDiscreteScheduler", BRISK_SAMPLER_HEUN},
    {"DPMSolverMultistepScheduler", BRISK_SAMPLER_DPMPP_2M},
    {"UniPCMultistepScheduler", BRISK_SAMPLER_UNIPC},
    {"pndm-original:DDIM", BRISK_SAMPLER_PSEUDO_EULER},
    {"pndm-original:S-PNDM", BRISK_SAMPLER_SPNDM},
    {"pndm-original:F-PNDM", BRISK_SAMPLER_FPNDM},
    {"pndm-original:FON", BRISK_SAMPLER_FON},
    {"pndm-original:PF", BRISK_SAMPLER_PF},
};

static int class_lookup(const char *name, brisk_sampler_kind *kind, int *original) {
    size_t nc = sizeof CLASSES / sizeof CLASSES[0];
    for (size_t i = 0; i < nc; i++)
        if (!strcmp(name, CLASSES[i].name)) {
            *kind = CLASSES[i].kind;
            *original = !strncmp(name, "pndm-original:", 14);
            return BRISK_OK;
        }
    /* brisk's own sampler names are accepted as well */
    for (int k = 0; k < BRISK_SAMPLER_COUNT; k++)
        if (!strcmp(name, brisk_sampler_kind_name((brisk_sampler_kind)k))) {
            *kind = (brisk_sampler_kind)k;
            *original = 0;
            return BRISK_OK;
        }
    char list[1024];
    size_t len = 0;
    for (size_t i = 0; i < nc; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s, ", CLASSES[i].name);
    for (int k = 0; k < BRISK_SAMPLER_COUNT; k++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                brisk_sampler_kind_name((brisk_sampler_kind)k),
                                k + 1 < BRISK_SAMPLER_COUNT ? ", " : "");
    return brisk_error(BRISK_EUNSUPPORTED, "scheduler class '%s' is not supported (valid: %s)",
                       name, list);
}

static int from_json(const cJSON *cfg, const char *class_name, brisk_scheduler_config *out,
                     const char *what, const char *base_dir, brisk_config_warn_fn warn,
                     void *warn_ctx) {
    if (!what) what = "scheduler config";
    if (cfg && !cJSON_IsObject(cfg))
        return brisk_error(BRISK_EPARSE, "%s: the scheduler config must be a JSON object", what);
    if (!class_name) {
        const cJSON *cn = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "_class_name") : NULL;
        if (!cJSON_IsString(cn))
            return brisk_error(BRISK_EPARSE, "%s: no scheduler class given and no '_class_name'",
                               what);
        class_name = cn->valuestring;
    }
    brisk_sampler_kind kind = BRISK_SAMPLER_DDIM;
    int original = 0;
    int rc = class_lookup(class_name, &kind, &original);
    if (rc) return brisk_error_prefix(rc, "%s: ", what);
    brisk_scheduler_config c;
    brisk_scheduler_config_default(&c, kind);
    if (original) c.time_mode = BRISK_TIME_REFERENCE;
    parse_ctx p = {what, base_dir, &c, class_bit(kind, original), warn, warn_ctx};
    const cJSON *item;
    const char *timestep_type = "discrete";
    if (cfg) {
        /* trained_betas first so that beta_schedule does not override it */
        const cJSON *tb = cJSON_GetObjectItemCaseSensitive(cfg, "trained_betas");
        if (tb && !cJSON_IsNull(tb) && (p.cls & SCHED)) {
            rc = h_trained(&p, "trained_betas", tb);
            if (rc) goto fail;
        }
        cJSON_ArrayForEach(item, cfg) {
            const char *key = item->string;
            if (!key || key[0] == '_') continue; /* _class_name, _diffusers_version, ... */
            if (!strcmp(key, "trained_betas")) continue;
            const key_entry *e = NULL;
            for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++)
                if (!strcmp(key, KEYS[i].key)) e = &KEYS[i];
            if (!e) {
                if (warn) warn(warn_ctx, what, key);
                continue;
            }
            if (!(e->classes & p.cls)) {
                if (warn) warn(warn_ctx, what, key);
                continue;
            }
            if (!strcmp(key, "timestep_type") && cJSON_IsString(item))
                timestep_type = item->valuestring;
            rc = e->fn(&p, key, item);
            if (rc) goto fail;
        }
    }
    if (!strcmp(timestep_type, "continuous") && c.prediction_type == BRISK_PRED_V) {
        rc = brisk_error(BRISK_EUNSUPPORTED,
                         "%s: config key 'timestep_type'=\"continuous\" is not supported with "
                         "v_prediction (valid: discrete)",
                         what);
        goto fail;
    }
    *out = c; /* out is output-only: whatever it held is not read or freed */
    return BRISK_OK;
fail:
    brisk_scheduler_config_clear(&c);
    return rc;
}

int brisk_scheduler_config_from_json(const cJSON *cfg, const char *class_name,
                                     brisk_scheduler_config *out, const char *what,
                                     brisk_config_warn_fn warn, void *warn_ctx) {
    return from_json(cfg, class_name, out, what, NULL, warn, warn_ctx);
}

int brisk_scheduler_config_load(const char *path, brisk_scheduler_config *out,
                                brisk_config_warn_fn warn, void *warn_ctx) {
    cJSON *doc;
    int rc = brisk_json_read_file(path, &doc);
    if (rc) return rc;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    rc = from_json(doc, NULL, out, path, dir, warn, warn_ctx);
    cJSON_Delete(doc);
    return rc;
}

int brisk_trained_betas_load(const char *path, double **betas, size_t *n) {
    *betas = NULL;
    *n = 0;
    char *text;
    size_t len;
    int rc = brisk_read_file(path, &text, &len);
    if (rc) return rc;
    const char *p = text;
    while (*p && isspace((unsigned char)*p)) p++;
    if (*p == '[') {
        cJSON *doc;
        rc = brisk_json_parse(text, path, &doc);
        brisk_free(text);
        if (rc) return rc;
        if (!cJSON_IsArray(doc)) {
            cJSON_Delete(doc);
            return brisk_error(BRISK_EPARSE, "%s: expected a JSON array of numbers", path);
        }
        size_t m = (size_t)cJSON_GetArraySize(doc), i = 0;
        double *b = brisk_malloc((m ? m : 1) * sizeof *b);
        if (!b) {
            cJSON_Delete(doc);
            return BRISK_ENOMEM;
        }
        const cJSON *e;
        cJSON_ArrayForEach(e, doc) {
            if (!cJSON_IsNumber(e)) {
                brisk_free(b);
                cJSON_Delete(doc);
                return brisk_error(BRISK_EPARSE, "%s: element %zu is not a number", path, i);
            }
            b[i++] = e->valuedouble;
        }
        cJSON_Delete(doc);
        if (m == 0) {
            brisk_free(b);
            return brisk_error(BRISK_EPARSE, "%s: no betas", path);
        }
        *betas = b;
        *n = m;
        return BRISK_OK;
    }
    /* text: numbers separated by white space and/or commas; '#' starts a comment */
    size_t cap = 1024, m = 0;
    double *b = brisk_malloc(cap * sizeof *b);
    if (!b) {
        brisk_free(text);
        return BRISK_ENOMEM;
    }
    int line = 1;
    while (*p) {
        if (*p == '\n') line++;
        if (isspace((unsigned char)*p) || *p == ',') {
            p++;
            continue;
        }
        if (*p == '#') {
            while (*p && *p != '\n') p++;
            continue;
        }
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno) {
            brisk_free(b);
            brisk_free(text);
            return brisk_error(BRISK_EPARSE, "%s: line %d: not a number", path, line);
        }
        if (m == cap) {
            double *nb = brisk_realloc(b, 2 * cap * sizeof *b);
            if (!nb) {
                brisk_free(b);
                brisk_free(text);
                return BRISK_ENOMEM;
            }
            b = nb;
            cap *= 2;
        }
        b[m++] = v;
        p = end;
    }
    brisk_free(text);
    if (m == 0) {
        brisk_free(b);
        return brisk_error(BRISK_EPARSE, "%s: no betas", path);
    }
    *betas = b;
    *n = m;
    return BRISK_OK;
}
