/* Training options: defaults, names, and the JSON form saved in every checkpoint. */
#include "train_impl.h"

#include "brisk/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const task_names[BRISK_TRAIN_TASK_COUNT] = {"unet", "classifier"};

const char *brisk_train_task_name(brisk_train_task t) {
    return (unsigned)t < BRISK_TRAIN_TASK_COUNT ? task_names[t] : "?";
}

int brisk_train_task_from_name(const char *name, brisk_train_task *out) {
    for (int k = 0; k < BRISK_TRAIN_TASK_COUNT; k++)
        if (name && !strcasecmp(name, task_names[k])) {
            *out = (brisk_train_task)k;
            return BRISK_OK;
        }
    return brisk_error(BRISK_EUNSUPPORTED, "unknown training task '%s' (valid: unet, classifier)",
                       name ? name : "(null)");
}

void brisk_train_options_default(brisk_train_options *o, brisk_train_task task) {
    memset(o, 0, sizeof *o);
    o->task = task;
    o->data = "fashion-mnist";
    o->steps = 1000;
    o->batch = 64;
    brisk_optim_params_default(&o->optim, BRISK_OPTIM_ADAMW);
    o->optim.lr = task == BRISK_TRAIN_UNET ? 1e-4 : 1e-3;
    o->lr_schedule = "constant";
    o->ema = task == BRISK_TRAIN_UNET ? 0.9999 : 0.0;
    o->ema_warmup = 1;
    o->num_train_timesteps = 1000;
    o->beta_start = 1e-4;
    o->beta_end = 0.02;
    o->beta_schedule = "linear";
    o->eval_batch = 256;
    o->debug_nan_step = -1;
    o->debug_stop_step = -1;
}

static void add_str(cJSON *j, const char *k, const char *v) {
    if (v) cJSON_AddStringToObject(j, k, v);
    else cJSON_AddNullToObject(j, k);
}

static void add_u64(cJSON *j, const char *k, uint64_t v) {
    if (v <= ((uint64_t)1 << 53)) {
        cJSON_AddNumberToObject(j, k, (double)v);
    } else {
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRIu64, v);
        cJSON_AddStringToObject(j, k, buf);
    }
}

cJSON *brisk_train_options_to_json(const brisk_train_options *o) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    add_str(j, "task", brisk_train_task_name(o->task));
    add_str(j, "data", o->data);
    add_str(j, "data_dir", o->data_dir);
    add_str(j, "config", o->config_path);
    cJSON_AddNumberToObject(j, "steps", (double)o->steps);
    cJSON_AddNumberToObject(j, "epochs", (double)o->epochs);
    cJSON_AddNumberToObject(j, "batch", (double)o->batch);
    cJSON_AddNumberToObject(j, "limit", (double)o->limit);
    cJSON_AddBoolToObject(j, "hflip", o->hflip);
    add_u64(j, "seed", o->seed);
    add_str(j, "optimizer", brisk_optim_kind_name(o->optim.kind));
    cJSON_AddNumberToObject(j, "lr", o->optim.lr);
    cJSON_AddNumberToObject(j, "beta1", o->optim.beta1);
    cJSON_AddNumberToObject(j, "beta2", o->optim.beta2);
    cJSON_AddNumberToObject(j, "eps", o->optim.eps);
    cJSON_AddNumberToObject(j, "weight_decay", o->optim.weight_decay);
    cJSON_AddNumberToObject(j, "momentum", o->optim.momentum);
    cJSON_AddNumberToObject(j, "dampening", o->optim.dampening);
    cJSON_AddBoolToObject(j, "nesterov", o->optim.nesterov);
    cJSON_AddBoolToObject(j, "decay_all", o->optim.decay_all);
    add_str(j, "lr_schedule", o->lr_schedule ? o->lr_schedule : "constant");
    cJSON_AddNumberToObject(j, "ema", o->ema);
    cJSON_AddBoolToObject(j, "ema_warmup", o->ema_warmup);
    cJSON_AddNumberToObject(j, "clip", o->clip);
    cJSON_AddNumberToObject(j, "num_train_timesteps", o->num_train_timesteps);
    cJSON_AddNumberToObject(j, "beta_start", o->beta_start);
    cJSON_AddNumberToObject(j, "beta_end", o->beta_end);
    add_str(j, "beta_schedule", o->beta_schedule);
    add_str(j, "out", o->out);
    add_str(j, "checkpoint_dir", o->checkpoint_dir);
    cJSON_AddNumberToObject(j, "checkpoint_every", (double)o->checkpoint_every);
    cJSON_AddNumberToObject(j, "log_every", (double)o->log_every);
    add_str(j, "grad_norm_log", o->grad_norm_log);
    cJSON_AddNumberToObject(j, "eval_batch", (double)o->eval_batch);
    cJSON_AddNumberToObject(j, "test_limit", (double)o->test_limit);
    add_str(j, "command", o->command);
    return j;
}

/* Keys that define the run: a resumed run must agree on all of them. */
static const char *const identity_keys[] = {
    "task", "data", "batch", "limit", "hflip", "seed", "optimizer", "lr", "beta1", "beta2",
    "eps", "weight_decay", "momentum", "dampening", "nesterov", "decay_all", "lr_schedule",
    "ema", "ema_warmup", "clip", "num_train_timesteps", "beta_start", "beta_end",
    "beta_schedule", NULL};

int train_options_identity_check(const cJSON *saved, const cJSON *given, const char *what) {
    for (int i = 0; identity_keys[i]; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(saved, identity_keys[i]);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(given, identity_keys[i]);
        if (a && b && cJSON_Compare(a, b, 1)) continue;
        if (!a && !b) continue;
        char *sa = a ? cJSON_PrintUnformatted(a) : NULL;
        char *sb = b ? cJSON_PrintUnformatted(b) : NULL;
        int rc = brisk_error(BRISK_EMISMATCH, "%s: option '%s' is %s in the checkpoint but %s "
                             "here (a resumed run must use the same settings)", what,
                             identity_keys[i], sa ? sa : "absent", sb ? sb : "absent");
        free(sa);
        free(sb);
        return rc;
    }
    return BRISK_OK;
}

static int known_key(const char *k) {
    static const char *const keys[] = {
        "task", "data", "data_dir", "config", "steps", "epochs", "batch", "limit", "hflip",
        "seed", "optimizer", "lr", "beta1", "beta2", "eps", "weight_decay", "momentum",
        "dampening", "nesterov", "decay_all", "lr_schedule", "ema", "ema_warmup", "clip",
        "num_train_timesteps", "beta_start", "beta_end", "beta_schedule", "out",
        "checkpoint_dir", "checkpoint_every", "log_every", "grad_norm_log", "eval_batch",
        "test_limit", "command", NULL};
    for (int i = 0; keys[i]; i++)
        if (!strcmp(k, keys[i])) return 1;
    return 0;
}

static int get_size(const cJSON *j, const char *k, size_t def, size_t *out, const char *what) {
    long v;
    int rc = brisk_json_get_int(j, k, (long)def, &v, what);
    if (rc) return rc;
    if (v < 0) return brisk_error(BRISK_EPARSE, "%s: key '%s' must not be negative", what, k);
    *out = (size_t)v;
    return BRISK_OK;
}

static int get_u64(const cJSON *j, const char *k, uint64_t def, uint64_t *out, const char *what) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return BRISK_OK;
    }
    if (cJSON_IsString(v)) {
        char *end;
        unsigned long long x = strtoull(v->valuestring, &end, 10);
        if (end == v->valuestring || *end)
            return brisk_error(BRISK_EPARSE, "%s: key '%s' must be an unsigned integer", what, k);
        *out = x;
        return BRISK_OK;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble))
        return brisk_error(BRISK_EPARSE, "%s: key '%s' must be an unsigned integer", what, k);
    *out = (uint64_t)v->valuedouble;
    return BRISK_OK;
}

int brisk_train_options_from_json(const cJSON *obj, const char *what, brisk_train_options *o,
                                  cJSON **strings) {
    BRISK_ASSERT(obj && o && strings);
    *strings = NULL;
    if (!cJSON_IsObject(obj)) return brisk_error(BRISK_EPARSE, "%s: options must be an object", what);
    for (const cJSON *c = obj->child; c; c = c->next)
        if (!known_key(c->string))
            return brisk_error(BRISK_EPARSE, "%s: unknown training option '%s'", what, c->string);
    cJSON *dup = cJSON_Duplicate(obj, 1);
    if (!dup) return brisk_error(BRISK_ENOMEM, "%s: out of memory", what);
    const char *task_s, *opt_s;
    int rc = brisk_json_get_string(dup, "task", "unet", &task_s, what);
    brisk_train_task task = BRISK_TRAIN_UNET;
    if (!rc) rc = brisk_train_task_from_name(task_s, &task);
    if (rc) goto fail;
    brisk_train_options_default(o, task);
    brisk_optim_kind ok = BRISK_OPTIM_ADAMW;
    if ((rc = brisk_json_get_string(dup, "optimizer", "adamw", &opt_s, what)) ||
        (rc = brisk_optim_kind_from_name(opt_s, &ok)))
        goto fail;
    o->optim.kind = ok;
    long l;
    double d;
    int b;
#define GET_STR(key, field) \
    if ((rc = brisk_json_get_string(dup, key, o->field, &o->field, what))) goto fail
#define GET_LONG(key, field)                                                  \
    if ((rc = brisk_json_get_int(dup, key, (long)o->field, &l, what))) goto fail; \
    o->field = l
#define GET_DBL(key, field)                                                   \
    if ((rc = brisk_json_get_number(dup, key, o->field, &d, what))) goto fail; \
    o->field = d
#define GET_BOOL(key, field)                                                  \
    if ((rc = brisk_json_get_bool(dup, key, o->field, &b, what))) goto fail;  \
    o->field = b
#define GET_SIZE(key, field) \
    if ((rc = get_size(dup, key, o->field, &o->field, what))) goto fail
    GET_STR("data", data);
    GET_STR("data_dir", data_dir);
    GET_STR("config", config_path);
    GET_LONG("steps", steps);
    GET_LONG("epochs", epochs);
    GET_SIZE("batch", batch);
    GET_SIZE("limit", limit);
    GET_BOOL("hflip", hflip);
    if ((rc = get_u64(dup, "seed", 0, &o->seed, what))) goto fail;
    GET_DBL("lr", optim.lr);
    GET_DBL("beta1", optim.beta1);
    GET_DBL("beta2", optim.beta2);
    GET_DBL("eps", optim.eps);
    GET_DBL("weight_decay", optim.weight_decay);
    GET_DBL("momentum", optim.momentum);
    GET_DBL("dampening", optim.dampening);
    GET_BOOL("nesterov", optim.nesterov);
    GET_BOOL("decay_all", optim.decay_all);
    GET_STR("lr_schedule", lr_schedule);
    GET_DBL("ema", ema);
    GET_BOOL("ema_warmup", ema_warmup);
    GET_DBL("clip", clip);
    GET_LONG("num_train_timesteps", num_train_timesteps);
    GET_DBL("beta_start", beta_start);
    GET_DBL("beta_end", beta_end);
    GET_STR("beta_schedule", beta_schedule);
    GET_STR("out", out);
    GET_STR("checkpoint_dir", checkpoint_dir);
    GET_LONG("checkpoint_every", checkpoint_every);
    GET_LONG("log_every", log_every);
    GET_STR("grad_norm_log", grad_norm_log);
    GET_SIZE("eval_batch", eval_batch);
    GET_SIZE("test_limit", test_limit);
    GET_STR("command", command);
#undef GET_STR
#undef GET_LONG
#undef GET_DBL
#undef GET_BOOL
#undef GET_SIZE
    *strings = dup;
    return BRISK_OK;
fail:
    cJSON_Delete(dup);
    return rc;
}
