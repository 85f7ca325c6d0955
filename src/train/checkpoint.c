/* Checkpoints. A checkpoint is a folder:
 *   model/            config.json + weights (diffusers UNet2DModel folder, or the classifier)
 *   ema/              the same with the EMA weights (when ema > 0)
 *   optimizer.json    optimizer kind, hyperparameters, step; optimizer-<buffer>.npy moments
 *   losses.npy        float64 loss of every update so far
 *   state.json        written last: step, wall time, the full options, the resolved lr
 *                     schedule and its state, EMA update count, per-epoch accuracies, and
 *                     the commands that ran
 * It is written into DIR-tmp and swapped in by renames (DIR -> DIR-old, DIR-tmp -> DIR,
 * remove DIR-old), so DIR (or, after a crash between the two renames, DIR-old) always
 * holds a complete checkpoint. The data position and every random draw are functions of
 * (seed, step), so the step is all the RNG state there is. */
#include "train_impl.h"

#include "brisk/io.h"
#include "brisk/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CKPT_FORMAT "brisk-train-checkpoint"
#define CKPT_VERSION 1

static const char *weights_file(const train_run *r) {
    return r->unet ? "diffusion_pytorch_model.safetensors" : "model.safetensors";
}

static int save_model(train_run *r, const char *dir, const float *params) {
    if (r->unet) return brisk_unet_save(r->unet, dir, params);
    return brisk_classifier_save(r->clf, dir, params);
}

static int path_in(char *buf, size_t cap, const char *dir, const char *name) {
    int w = snprintf(buf, cap, "%s/%s", dir, name);
    if (w < 0 || (size_t)w >= cap) return brisk_error(BRISK_EINVAL, "%s: path too long", dir);
    return BRISK_OK;
}

static cJSON *make_state(train_run *r, int *rc) {
    char *lr_state = NULL;
    *rc = brisk_lr_state_save(r->sched, &lr_state);
    if (*rc) return NULL;
    cJSON *s = cJSON_CreateObject();
    if (!s) {
        brisk_free(lr_state);
        *rc = BRISK_ENOMEM;
        return NULL;
    }
    cJSON_AddStringToObject(s, "format", CKPT_FORMAT);
    cJSON_AddNumberToObject(s, "version", CKPT_VERSION);
    cJSON_AddStringToObject(s, "brisk_version", BRISK_VERSION_STRING);
    cJSON_AddStringToObject(s, "task", brisk_train_task_name(r->o.task));
    cJSON_AddNumberToObject(s, "step", (double)r->step);
    cJSON_AddNumberToObject(s, "samples_seen", (double)r->step * (double)r->o.batch);
    cJSON_AddNumberToObject(s, "seconds", r->seconds_before + (train_now() - r->t0));
    cJSON_AddItemToObject(s, "options", cJSON_Duplicate(r->opts_json, 1));
    cJSON_AddItemToObject(s, "commands", cJSON_Duplicate(r->commands, 1));
    cJSON_AddStringToObject(s, "lr_schedule_resolved", r->sched_resolved);
    cJSON_AddStringToObject(s, "lr_state", lr_state);
    cJSON_AddNumberToObject(s, "ema_updates", r->has_ema ? (double)r->ema.updates : 0.0);
    cJSON_AddNumberToObject(s, "optimizer_steps", (double)brisk_optim_steps(r->opt));
    cJSON_AddItemToObject(s, "epoch_accuracy", cJSON_Duplicate(r->epoch_acc, 1));
    cJSON_AddStringToObject(s, "rng", "Philox4x32-10: data order (seed, epoch), DDPM noise and "
                                      "timesteps (seed, global sample = step * batch + b)");
    brisk_free(lr_state);
    return s;
}

int train_checkpoint_save(train_run *r) {
    char path[4096];
    int rc = train_rmtree(r->ckpt_tmp);
    if (!rc) rc = brisk_mkdir_p(r->ckpt_tmp);
    if (!rc) rc = path_in(path, sizeof path, r->ckpt_tmp, "model");
    if (!rc) rc = save_model(r, path, NULL);
    if (!rc && r->has_ema) {
        if (!(rc = path_in(path, sizeof path, r->ckpt_tmp, "ema")))
            rc = save_model(r, path, r->ema.shadow);
    }
    if (!rc) rc = brisk_optim_save(r->opt, r->ckpt_tmp);
    if (!rc && r->step > 0) {
        size_t shape[1] = {(size_t)r->step};
        if (!(rc = path_in(path, sizeof path, r->ckpt_tmp, "losses.npy")))
            rc = brisk_npy_write_f64(path, r->losses, 1, shape);
    }
    if (!rc) {
        cJSON *s = make_state(r, &rc);
        if (s) {
            if (!(rc = path_in(path, sizeof path, r->ckpt_tmp, "state.json")))
                rc = brisk_json_write_file(path, s);
            cJSON_Delete(s);
        }
    }
    /* the log rows of these steps reach the disk before the checkpoint that covers them */
    if (!rc && r->gn && fflush(r->gn))
        rc = brisk_error(BRISK_EIO, "%s: %s", r->o.grad_norm_log, strerror(errno));
    if (rc) return brisk_error_prefix(rc, "checkpoint at step %ld: ", r->step);
    if (train_exists(r->ckpt_dir)) {
        if ((rc = train_rmtree(r->ckpt_old))) return rc;
        if (rename(r->ckpt_dir, r->ckpt_old))
            return brisk_error(BRISK_EIO, "rename %s -> %s: %s", r->ckpt_dir, r->ckpt_old,
                               strerror(errno));
    }
    if (rename(r->ckpt_tmp, r->ckpt_dir))
        return brisk_error(BRISK_EIO, "rename %s -> %s: %s", r->ckpt_tmp, r->ckpt_dir,
                           strerror(errno));
    if ((rc = train_rmtree(r->ckpt_old))) return rc;
    r->last_ckpt = r->step;
    return BRISK_OK;
}

/* state.json of the first of `dirs` that has one. */
static int read_state(const char *const *dirs, int n, cJSON **state, int *which) {
    char path[4096];
    for (int i = 0; i < n; i++) {
        if (!dirs[i]) continue;
        if (path_in(path, sizeof path, dirs[i], "state.json")) continue;
        if (!train_exists(path)) continue;
        int rc = brisk_json_read_file(path, state);
        if (rc) return rc;
        const char *fmt = NULL;
        long ver = 0;
        if (brisk_json_get_string(*state, "format", "", &fmt, path) || strcmp(fmt, CKPT_FORMAT) ||
            brisk_json_get_int(*state, "version", 0, &ver, path) || ver != CKPT_VERSION) {
            cJSON_Delete(*state);
            *state = NULL;
            return brisk_error(BRISK_EPARSE, "%s: not a brisk training checkpoint (format %d)",
                               path, CKPT_VERSION);
        }
        *which = i;
        return BRISK_OK;
    }
    return brisk_error(BRISK_ENOTFOUND, "no training checkpoint in %s", dirs[0]);
}

int brisk_train_checkpoint_options(const char *dir, cJSON **obj, char **ckpt_dir) {
    BRISK_ASSERT(dir && obj);
    *obj = NULL;
    if (ckpt_dir) *ckpt_dir = NULL;
    char *sub = train_join(dir, "checkpoint");
    size_t n = strlen(dir);
    char *old = brisk_malloc(n + 5), *subold = sub ? brisk_malloc(strlen(sub) + 5) : NULL;
    if (!sub || !old || !subold) {
        brisk_free(sub);
        brisk_free(old);
        brisk_free(subold);
        return BRISK_ENOMEM;
    }
    snprintf(old, n + 5, "%s-old", dir);
    snprintf(subold, strlen(sub) + 5, "%s-old", sub);
    const char *dirs[4] = {dir, old, sub, subold};
    cJSON *st = NULL;
    int which = 0;
    int rc = read_state(dirs, 4, &st, &which);
    if (!rc) {
        cJSON *opts = cJSON_GetObjectItemCaseSensitive(st, "options");
        if (!cJSON_IsObject(opts)) {
            rc = brisk_error(BRISK_EPARSE, "%s/state.json: no 'options' object", dirs[which]);
        } else {
            *obj = cJSON_Duplicate(opts, 1);
            if (!*obj) rc = BRISK_ENOMEM;
        }
        if (!rc && ckpt_dir) {
            *ckpt_dir = brisk_strdup(which < 2 ? dir : sub);
            if (!*ckpt_dir) rc = BRISK_ENOMEM;
        }
        cJSON_Delete(st);
    }
    brisk_free(sub);
    brisk_free(old);
    brisk_free(subold);
    return rc;
}

int train_checkpoint_load(train_run *r) {
    const char *dirs[2] = {r->ckpt_dir, r->ckpt_old};
    cJSON *st = NULL;
    int which = 0;
    int rc = read_state(dirs, 2, &st, &which);
    if (rc) return rc;
    const char *dir = dirs[which];
    char path[4096], what[4200];
    snprintf(what, sizeof what, "%s/state.json", dir);
    const char *task = NULL, *resolved = NULL, *lr_state = NULL;
    long step = 0, ema_updates = 0;
    double seconds = 0;
    cJSON *opts = cJSON_GetObjectItemCaseSensitive(st, "options");
    if ((rc = brisk_json_get_string(st, "task", "", &task, what)) ||
        (rc = brisk_json_get_int(st, "step", -1, &step, what)) ||
        (rc = brisk_json_get_number(st, "seconds", 0, &seconds, what)) ||
        (rc = brisk_json_get_string(st, "lr_schedule_resolved", NULL, &resolved, what)) ||
        (rc = brisk_json_get_string(st, "lr_state", NULL, &lr_state, what)) ||
        (rc = brisk_json_get_int(st, "ema_updates", 0, &ema_updates, what)))
        goto done;
    if (strcmp(task, brisk_train_task_name(r->o.task))) {
        rc = brisk_error(BRISK_EMISMATCH, "%s: a '%s' checkpoint cannot resume '%s' training",
                         what, task, brisk_train_task_name(r->o.task));
        goto done;
    }
    if (step < 0 || !resolved || !lr_state || !cJSON_IsObject(opts)) {
        rc = brisk_error(BRISK_EPARSE, "%s: incomplete checkpoint state", what);
        goto done;
    }
    if ((rc = train_options_identity_check(opts, r->opts_json, what))) goto done;
    /* model */
    if ((rc = path_in(path, sizeof path, dir, "model"))) goto done;
    rc = r->o.task == BRISK_TRAIN_UNET ? brisk_unet_load(path, &r->unet)
                                       : brisk_classifier_load(path, &r->clf);
    if (rc) goto done;
    r->p = r->unet ? brisk_unet_params(r->unet) : brisk_classifier_params(r->clf);
    /* optimizer */
    if ((rc = brisk_optim_create(&r->o.optim, r->p, &r->opt)) ||
        (rc = brisk_optim_load(r->opt, dir)))
        goto done;
    /* EMA */
    if (r->o.ema > 0) {
        if ((rc = brisk_ema_init(&r->ema, r->p->data, r->p->n, r->o.ema, r->o.ema_warmup)))
            goto done;
        r->has_ema = 1;
        snprintf(path, sizeof path, "%s/ema/%s", dir, weights_file(r));
        if ((rc = brisk_nn_params_load(r->p, r->ema.shadow, path, 0))) goto done;
        r->ema.updates = ema_updates;
    }
    /* schedule */
    if ((rc = train_make_schedule(r, resolved)) || (rc = brisk_lr_state_load(r->sched, lr_state))) {
        rc = brisk_error_prefix(rc, "%s: ", what);
        goto done;
    }
    /* losses */
    if (step > 0) {
        if ((rc = path_in(path, sizeof path, dir, "losses.npy"))) goto done;
        brisk_array a;
        if ((rc = brisk_npy_read(path, &a))) goto done;
        if (a.dtype != BRISK_F64 || a.ndim != 1 || a.shape[0] != (size_t)step) {
            brisk_array_free(&a);
            rc = brisk_error(BRISK_EMISMATCH, "%s: expected float64 (%ld)", path, step);
            goto done;
        }
        if (step > r->total) {
            brisk_array_free(&a);
            rc = brisk_error(BRISK_EINVAL, "%s: the checkpoint already has %ld steps, more than "
                             "the %ld asked for", what, step, r->total);
            goto done;
        }
        memcpy(r->losses, a.data, (size_t)step * sizeof(double));
        brisk_array_free(&a);
    }
    /* accuracies and command history */
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(st, "epoch_accuracy");
    if (cJSON_IsArray(acc)) {
        cJSON_Delete(r->epoch_acc);
        r->epoch_acc = cJSON_Duplicate(acc, 1);
    }
    const cJSON *cmds = cJSON_GetObjectItemCaseSensitive(st, "commands");
    r->commands = cJSON_IsArray(cmds) ? cJSON_Duplicate(cmds, 1) : cJSON_CreateArray();
    if (!r->epoch_acc || !r->commands) {
        rc = BRISK_ENOMEM;
        goto done;
    }
    cJSON_AddItemToArray(r->commands, cJSON_CreateString(r->o.command ? r->o.command : ""));
    r->step = step;
    r->seconds_before = seconds;
    r->last_ckpt = step;
done:
    cJSON_Delete(st);
    return rc;
}
