/* The training loop: DDPM epsilon-prediction training of a UNet2DModel (Ho et al. 2020,
 * Algorithm 1, the "simple" loss = MSE between the predicted and the drawn noise, as
 * diffusers' train_unconditional.py computes it) and cross-entropy training of the
 * classifier, with AdamW/SGD, brisk lr schedules, EMA, clipping, gradient-norm logging,
 * periodic checkpoints and bit-identical resume. */
#include "train_impl.h"

#include "brisk/io.h"
#include "brisk/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

double train_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

char *brisk_train_checkpoint_dir(const brisk_train_options *o) {
    if (o->checkpoint_dir && *o->checkpoint_dir) return brisk_strdup(o->checkpoint_dir);
    if (!o->out) return NULL;
    return train_join(o->out, "checkpoint");
}

static char *suffixed(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = brisk_malloc(n);
    if (s) snprintf(s, n, "%s%s", a, b);
    return s;
}

/* ---- options --------------------------------------------------------------------- */

static int validate(const brisk_train_options *o) {
    if ((unsigned)o->task >= BRISK_TRAIN_TASK_COUNT)
        return brisk_error(BRISK_EINVAL, "train: invalid task %d", (int)o->task);
    if (!o->data || strcasecmp(o->data, "fashion-mnist"))
        return brisk_error(BRISK_EUNSUPPORTED, "train: unknown data set '%s' (valid: fashion-mnist)",
                           o->data ? o->data : "(null)");
    if (!o->out || !*o->out) return brisk_error(BRISK_EINVAL, "train: no output folder (--out)");
    if (o->task == BRISK_TRAIN_UNET && !o->resume && (!o->config_path || !*o->config_path))
        return brisk_error(BRISK_EINVAL, "train unet: no model config (--config unet.json)");
    if (o->epochs < 0 || (o->epochs == 0 && o->steps <= 0))
        return brisk_error(BRISK_EINVAL, "train: steps must be > 0 (got %ld)", o->steps);
    if (!o->batch) return brisk_error(BRISK_EINVAL, "train: batch size must be > 0");
    if (!(o->ema >= 0 && o->ema < 1))
        return brisk_error(BRISK_EINVAL, "train: ema decay %g must be in [0, 1)", o->ema);
    if (!(o->clip >= 0) || !isfinite(o->clip))
        return brisk_error(BRISK_EINVAL, "train: clip %g must be >= 0", o->clip);
    if (o->checkpoint_every < 0 || o->log_every < 0)
        return brisk_error(BRISK_EINVAL, "train: checkpoint_every and log_every must be >= 0");
    if (o->task == BRISK_TRAIN_CLASSIFIER && !o->eval_batch)
        return brisk_error(BRISK_EINVAL, "train: eval batch must be > 0");
    return BRISK_OK;
}

/* Fills budget-like arguments the user left out: total_steps / T_max = the number of
 * updates (minus warmup), OneCycleLR's max_lr = the optimizer's lr. Only the top-level
 * schedule is completed. */
static int autofill_schedule(cJSON *spec, long total, double lr) {
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(spec, "class");
    if (!cJSON_IsString(cls)) return BRISK_OK; /* brisk_lr_create reports it */
    brisk_lr_kind kind;
    if (brisk_lr_kind_from_name(cls->valuestring, &kind)) return BRISK_OK;
    cJSON *kw = cJSON_GetObjectItemCaseSensitive(spec, "kwargs");
    if (!kw) {
        kw = cJSON_AddObjectToObject(spec, "kwargs");
        if (!kw) return brisk_error(BRISK_ENOMEM, "schedule spec: out of memory");
    }
    long budget = total;
    const cJSON *wu = cJSON_GetObjectItemCaseSensitive(kw, "warmup");
    if (cJSON_IsNumber(wu) && wu->valuedouble > 0 && wu->valuedouble < (double)total)
        budget = total - (long)wu->valuedouble;
    const brisk_lr_param_info *pi;
    size_t np = brisk_lr_kind_params(kind, &pi);
    for (size_t i = 0; i < np; i++) {
        const char *name = pi[i].name;
        if (cJSON_GetObjectItemCaseSensitive(kw, name)) continue;
        int required = pi[i].def && !strcmp(pi[i].def, "required");
        if (!strcmp(name, "total_steps") || !strcmp(name, "T_max")) {
            int onecycle_free = kind == BRISK_LR_ONE_CYCLE_LR &&
                                !cJSON_GetObjectItemCaseSensitive(kw, "epochs");
            if (required || onecycle_free) cJSON_AddNumberToObject(kw, name, (double)budget);
        } else if (!strcmp(name, "max_lr") && required && kind == BRISK_LR_ONE_CYCLE_LR) {
            cJSON_AddNumberToObject(kw, name, lr);
        }
    }
    return BRISK_OK;
}

/* Builds the schedule from o->lr_schedule (completed by autofill) or, when resuming, from
 * the resolved spec saved in the checkpoint. */
int train_make_schedule(train_run *r, const char *resolved) {
    brisk_lr_options lo;
    brisk_lr_options_default(&lo);
    lo.base_lr = r->o.optim.lr;
    lo.optimizer = r->o.optim.kind == BRISK_OPTIM_ADAMW ? BRISK_LR_OPT_ADAMW : BRISK_LR_OPT_SGD;
    lo.base_momentum = r->o.optim.kind == BRISK_OPTIM_ADAMW ? r->o.optim.beta1 : r->o.optim.momentum;
    lo.steps_per_epoch = (long)((r->train.n + r->o.batch - 1) / r->o.batch);
    cJSON *spec = NULL;
    int rc;
    if (resolved) {
        rc = brisk_json_parse(resolved, "checkpoint lr schedule", &spec);
    } else {
        rc = brisk_lr_spec_parse(r->o.lr_schedule ? r->o.lr_schedule : "constant", &spec);
        if (!rc) rc = autofill_schedule(spec, r->total, r->o.optim.lr);
    }
    if (!rc) rc = brisk_lr_create(spec, &lo, &r->sched);
    if (rc) {
        cJSON_Delete(spec);
        return brisk_error_prefix(rc, "lr schedule: ");
    }
    char *txt = cJSON_PrintUnformatted(spec);
    cJSON_Delete(spec);
    if (!txt) return brisk_error(BRISK_ENOMEM, "lr schedule: out of memory");
    r->sched_resolved = brisk_strdup(txt);
    free(txt);
    if (!r->sched_resolved) return BRISK_ENOMEM;
    r->cycles_momentum = brisk_lr_schedule_cycles_momentum(r->sched);
    return BRISK_OK;
}

/* Classifier config: brisk_classifier_config keys (as the classifier's config.json). */
static int read_classifier_config(const char *path, brisk_classifier_config *c) {
    brisk_classifier_config_default(c);
    if (!path || !*path) return BRISK_OK;
    cJSON *doc;
    int rc = brisk_json_read_file(path, &doc);
    if (rc) return rc;
    static const char *const keys[] = {"in_channels", "height", "width", "channels",
                                       "norm_groups", "feature_dim", "n_classes", NULL};
    for (const cJSON *it = doc->child; it && !rc; it = it->next) {
        if (it->string[0] == '_') continue;
        int ok = 0;
        for (int i = 0; keys[i]; i++) ok |= !strcmp(it->string, keys[i]);
        if (!ok) rc = brisk_error(BRISK_EPARSE, "%s: unknown classifier config key '%s'", path,
                                  it->string);
    }
    long v;
#define GETI(key, field)                                                           \
    if (!rc) {                                                                     \
        rc = brisk_json_get_int(doc, key, (long)c->field, &v, path);               \
        if (!rc && v <= 0) rc = brisk_error(BRISK_EPARSE, "%s: '%s' must be > 0", path, key); \
        if (!rc) c->field = (size_t)v;                                             \
    }
    GETI("in_channels", in_channels)
    GETI("height", height)
    GETI("width", width)
    GETI("norm_groups", norm_groups)
    GETI("feature_dim", feature_dim)
    GETI("n_classes", n_classes)
#undef GETI
    if (!rc && cJSON_GetObjectItemCaseSensitive(doc, "channels")) {
        double *ch = NULL;
        size_t n = 0;
        rc = brisk_json_get_doubles(doc, "channels", &ch, &n, path);
        if (!rc && (n < 1 || n > BRISK_CLASSIFIER_MAX_STAGES))
            rc = brisk_error(BRISK_EPARSE, "%s: 'channels' needs 1..%d entries", path,
                             BRISK_CLASSIFIER_MAX_STAGES);
        for (size_t i = 0; !rc && i < n; i++) {
            if (!(ch[i] >= 1) || ch[i] != floor(ch[i]))
                rc = brisk_error(BRISK_EPARSE, "%s: channels[%zu] must be a positive integer",
                                 path, i);
            else
                c->channels[i] = (size_t)ch[i];
        }
        if (!rc) c->n_stages = n;
        brisk_free(ch);
    }
    cJSON_Delete(doc);
    return rc;
}

/* A fresh model from the options (the resumed case loads it from the checkpoint). */
static int make_model(train_run *r) {
    int rc;
    const brisk_dataset *d = &r->train;
    if (r->o.task == BRISK_TRAIN_UNET) {
        brisk_unet_config cfg;
        if ((rc = brisk_unet_config_read(r->o.config_path, &cfg))) return rc;
        if (cfg.in_channels != d->c || cfg.out_channels != d->c)
            return brisk_error(BRISK_EINVAL, "%s: in_channels/out_channels must be %zu for "
                               "Fashion-MNIST (got %zu/%zu)", r->o.config_path, d->c,
                               cfg.in_channels, cfg.out_channels);
        if (cfg.sample_size == 0) cfg.sample_size = d->h;
        if (cfg.sample_size != d->h)
            return brisk_error(BRISK_EINVAL, "%s: sample_size %zu does not match the %zux%zu "
                               "training images", r->o.config_path, cfg.sample_size, d->h, d->w);
        return brisk_unet_create(&cfg, r->o.seed, &r->unet);
    }
    brisk_classifier_config cfg;
    if ((rc = read_classifier_config(r->o.config_path, &cfg))) return rc;
    if (cfg.in_channels != d->c || cfg.height != d->h || cfg.width != d->w)
        return brisk_error(BRISK_EINVAL, "classifier config: input %zux%zux%zu does not match "
                           "the %zux%zux%zu images", cfg.in_channels, cfg.height, cfg.width, d->c,
                           d->h, d->w);
    return brisk_classifier_create(&cfg, r->o.seed, &r->clf);
}

static int alloc_buffers(train_run *r) {
    size_t B = r->o.batch, dim = r->dim;
    r->x0 = brisk_malloc(B * dim * sizeof(float));
    r->gidx = brisk_malloc(B * sizeof(uint64_t));
    r->backup = r->has_ema || r->o.task == BRISK_TRAIN_CLASSIFIER
                    ? brisk_malloc(r->p->n * sizeof(float)) : NULL;
    int ok = r->x0 && r->gidx;
    if (r->o.task == BRISK_TRAIN_UNET) {
        r->xt = brisk_malloc(B * dim * sizeof(float));
        r->eps = brisk_malloc(B * dim * sizeof(float));
        r->tt = brisk_malloc(B * sizeof(float));
        r->out = brisk_malloc(B * dim * sizeof(float));
        r->dout = brisk_malloc(B * dim * sizeof(float));
        ok = ok && r->xt && r->eps && r->tt && r->out && r->dout;
    } else {
        r->labels = brisk_malloc(B);
        r->out = brisk_malloc(B * r->n_out * sizeof(float));
        r->dout = brisk_malloc(B * r->n_out * sizeof(float));
        r->eval_logits = brisk_malloc(r->o.eval_batch * r->n_out * sizeof(float));
        ok = ok && r->labels && r->out && r->dout && r->eval_logits && r->backup;
    }
    if (r->has_ema && !r->backup) ok = 0;
    return ok ? BRISK_OK : BRISK_ENOMEM;
}

static void run_free(train_run *r) {
    if (r->gn) fclose(r->gn);
    brisk_unet_free(r->unet);
    brisk_classifier_free(r->clf);
    brisk_optim_free(r->opt);
    brisk_ema_free(&r->ema);
    brisk_lr_free(r->sched);
    brisk_batcher_free(&r->bat);
    brisk_dataset_free(&r->train);
    brisk_dataset_free(&r->test);
    brisk_free(r->sched_resolved);
    brisk_free(r->ac);
    brisk_free(r->x0);
    brisk_free(r->xt);
    brisk_free(r->eps);
    brisk_free(r->tt);
    brisk_free(r->out);
    brisk_free(r->dout);
    brisk_free(r->eval_logits);
    brisk_free(r->backup);
    brisk_free(r->labels);
    brisk_free(r->gidx);
    brisk_free(r->losses);
    brisk_free(r->ckpt_dir);
    brisk_free(r->ckpt_tmp);
    brisk_free(r->ckpt_old);
    cJSON_Delete(r->opts_json);
    cJSON_Delete(r->commands);
    cJSON_Delete(r->epoch_acc);
}

/* ---- gradient-norm log ------------------------------------------------------------ */

/* Opens the log: a fresh file with the header, or (resuming) the old rows of steps before
 * r->start, rewritten atomically, then appended to. */
static int open_grad_log(train_run *r) {
    const char *path = r->o.grad_norm_log;
    if (!path || !*path) return BRISK_OK;
    brisk_atomic_file f;
    int rc = brisk_atomic_open(&f, path);
    if (rc) return rc;
    fprintf(f.fp, "%s\n", BRISK_GRAD_NORM_LOG_HEADER);
    if (r->start > 0 && train_exists(path)) {
        char *text;
        if ((rc = brisk_read_file(path, &text, NULL))) {
            brisk_atomic_abort(&f);
            return rc;
        }
        char *save = NULL;
        int first = 1;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            if (first) {
                first = 0;
                if (strncmp(line, "step,", 5)) { /* not our log: start over */
                    break;
                }
                continue;
            }
            char *end;
            errno = 0;
            long s = strtol(line, &end, 10);
            if (end == line || *end != ',' || errno) continue;
            if (s >= 0 && s < r->start) fprintf(f.fp, "%s\n", line);
        }
        brisk_free(text);
    }
    if ((rc = brisk_atomic_commit(&f))) return rc;
    r->gn = fopen(path, "a");
    if (!r->gn) return brisk_error(BRISK_EIO, "%s: %s", path, strerror(errno));
    return BRISK_OK;
}

/* ---- classifier evaluation -------------------------------------------------------- */

int train_evaluate(train_run *r, const float *weights, double *acc) {
    const brisk_dataset *d = &r->test;
    float *params = r->p->data;
    int swap = weights && weights != params;
    if (swap) {
        memcpy(r->backup, params, r->p->n * sizeof(float));
        memcpy(params, weights, r->p->n * sizeof(float));
    }
    size_t correct = 0, eb = r->o.eval_batch, C = r->n_out;
    int rc = BRISK_OK;
    for (size_t i = 0; i < d->n && !rc; i += eb) {
        size_t nb = d->n - i < eb ? d->n - i : eb;
        rc = brisk_classifier_forward(r->clf, d->images + i * r->dim, nb, r->eval_logits);
        for (size_t k = 0; k < nb && !rc; k++) {
            const float *l = r->eval_logits + k * C;
            size_t best = 0;
            for (size_t c = 1; c < C; c++)
                if (l[c] > l[best]) best = c;
            correct += best == d->labels[i + k];
        }
    }
    if (swap) memcpy(params, r->backup, r->p->n * sizeof(float));
    *acc = d->n ? (double)correct / (double)d->n : NAN;
    return rc;
}

static void emit(train_run *r, brisk_train_event *ev) {
    if (!r->progress) return;
    ev->total_steps = r->total;
    ev->start_step = r->start;
    ev->n_params = r->p ? r->p->n : 0;
    ev->seconds = train_now() - r->t0;
    r->progress(r->ctx, ev);
}

/* ---- one update ---------------------------------------------------------------------- */

static int nonfinite(train_run *r, long k, const char *what, double v) {
    if (r->last_ckpt > 0)
        return brisk_error(BRISK_ENUMERIC, "step %ld: %s is %s; training stopped, the last good "
                           "checkpoint (%ld steps) is kept in %s", k, what, isnan(v) ? "nan" : "inf",
                           r->last_ckpt, r->ckpt_dir);
    return brisk_error(BRISK_ENUMERIC, "step %ld: %s is %s; training stopped before the first "
                       "checkpoint", k, what, isnan(v) ? "nan" : "inf");
}

static int train_step(train_run *r, long k, double *loss_out, double *lr_out, double *l2_out,
                      double *l1_out) {
    const size_t B = r->o.batch;
    const brisk_dataset *d = &r->train;
    double loss;
    int rc;
    if (r->o.task == BRISK_TRAIN_UNET) {
        brisk_batcher_fill(&r->bat, (uint64_t)k, r->x0, NULL, r->gidx);
        brisk_ddpm_training_batch(r->ac, r->o.num_train_timesteps, r->o.seed, r->gidx, B, r->dim,
                                  r->x0, r->xt, r->eps, r->tt);
        rc = brisk_unet_forward_train(r->unet, r->xt, r->tt, B, d->h, d->w, r->out);
        if (rc) return brisk_error_prefix(rc, "step %ld: ", k);
        loss = brisk_mse_loss(r->out, r->eps, B * r->dim, r->dout);
        if (k == r->o.debug_nan_step) loss = NAN;
        if (!isfinite(loss)) return nonfinite(r, k, "the loss", loss);
        rc = brisk_unet_backward(r->unet, r->dout, NULL);
    } else {
        brisk_batcher_fill(&r->bat, (uint64_t)k, r->x0, r->labels, r->gidx);
        rc = brisk_classifier_forward_train(r->clf, r->x0, B, r->out);
        if (rc) return brisk_error_prefix(rc, "step %ld: ", k);
        loss = brisk_cross_entropy_loss(r->out, r->labels, B, r->n_out, r->dout);
        if (k == r->o.debug_nan_step) loss = NAN;
        if (!isfinite(loss)) return nonfinite(r, k, "the loss", loss);
        rc = brisk_classifier_backward(r->clf, r->dout);
    }
    if (rc) return brisk_error_prefix(rc, "step %ld: ", k);
    double l2, l1;
    brisk_grad_norms(r->p->grad, r->p->n, &l2, &l1);
    if (!isfinite(l2)) return nonfinite(r, k, "the gradient norm", l2);
    if (r->o.clip > 0) brisk_clip_grad_norm(r->p->grad, r->p->n, r->o.clip, l2);
    double lr = brisk_lr_current(r->sched);
    double mom = r->cycles_momentum ? brisk_lr_current_momentum(r->sched) : -1.0;
    brisk_optim_step(r->opt, r->p->data, r->p->grad, lr, mom);
    if (r->has_ema) brisk_ema_update(&r->ema, r->p->data);
    if ((rc = brisk_lr_step(r->sched, loss))) return brisk_error_prefix(rc, "step %ld: ", k);
    *loss_out = loss;
    *lr_out = lr;
    *l2_out = l2;
    *l1_out = l1;
    return BRISK_OK;
}

/* ---- the run ------------------------------------------------------------------------- */

static int setup(train_run *r) {
    int rc;
    const brisk_train_options *o = &r->o;
    if ((rc = brisk_mkdir_p(o->out))) return rc;
    r->ckpt_dir = brisk_train_checkpoint_dir(o);
    if (!r->ckpt_dir || !(r->ckpt_tmp = suffixed(r->ckpt_dir, "-tmp")) ||
        !(r->ckpt_old = suffixed(r->ckpt_dir, "-old")))
        return BRISK_ENOMEM;
    rc = brisk_fmnist_load(o->data_dir, BRISK_SPLIT_TRAIN, 1, o->limit, &r->train);
    if (rc) return rc;
    if (o->task == BRISK_TRAIN_CLASSIFIER &&
        (rc = brisk_fmnist_load(o->data_dir, BRISK_SPLIT_TEST, 1, o->test_limit, &r->test)))
        return rc;
    r->dim = r->train.c * r->train.h * r->train.w;
    r->total = o->epochs > 0 ? (long)((o->epochs * r->train.n + o->batch - 1) / o->batch) : o->steps;
    if (r->total <= 0) return brisk_error(BRISK_EINVAL, "train: no steps to run");
    r->losses = brisk_malloc((size_t)r->total * sizeof(double));
    if (!r->losses) return BRISK_ENOMEM;
    r->opts_json = brisk_train_options_to_json(o);
    r->epoch_acc = cJSON_CreateArray();
    if (!r->opts_json || !r->epoch_acc) return BRISK_ENOMEM;
    if (o->task == BRISK_TRAIN_UNET &&
        (rc = brisk_train_alphas_cumprod(o->beta_schedule, o->beta_start, o->beta_end,
                                         o->num_train_timesteps, &r->ac)))
        return rc;
    if ((rc = brisk_batcher_init(&r->bat, &r->train, o->batch, o->seed, o->hflip))) return rc;
    r->last_ckpt = -1;
    if (o->resume) {
        if ((rc = train_checkpoint_load(r))) return rc;
    } else {
        if (train_exists(r->ckpt_dir) || train_exists(r->ckpt_old))
            return brisk_error(BRISK_ESTATE, "%s already holds a checkpoint: resume it (--resume) "
                               "or remove it", r->ckpt_dir);
        if ((rc = make_model(r))) return rc;
        r->p = r->unet ? brisk_unet_params(r->unet) : brisk_classifier_params(r->clf);
        if ((rc = brisk_optim_create(&o->optim, r->p, &r->opt))) return rc;
        if (o->ema > 0) {
            if ((rc = brisk_ema_init(&r->ema, r->p->data, r->p->n, o->ema, o->ema_warmup)))
                return rc;
            r->has_ema = 1;
        }
        if ((rc = train_make_schedule(r, NULL))) return rc;
        r->commands = cJSON_CreateArray();
        if (!r->commands) return BRISK_ENOMEM;
        cJSON_AddItemToArray(r->commands, cJSON_CreateString(o->command ? o->command : ""));
        r->step = 0;
    }
    if (r->clf) r->n_out = brisk_classifier_get_config(r->clf)->n_classes;
    r->start = r->step;
    if ((rc = alloc_buffers(r))) return rc;
    if (r->o.task == BRISK_TRAIN_UNET &&
        (rc = brisk_unet_reserve(r->unet, o->batch, r->train.h, r->train.w, 1)))
        return rc;
    return open_grad_log(r);
}

int brisk_train_run(const brisk_train_options *o, brisk_train_progress_fn progress, void *ctx,
                    brisk_train_result *res) {
    BRISK_ASSERT(o);
    int rc = validate(o);
    if (rc) return rc;
    train_run r;
    memset(&r, 0, sizeof r);
    r.o = *o;
    r.progress = progress;
    r.ctx = ctx;
    r.t0 = train_now();
    if ((rc = setup(&r))) goto done;

    brisk_train_event ev = {.kind = BRISK_TRAIN_EV_START, .step = r.start};
    emit(&r, &ev);
    const long log_every = o->log_every > 0 ? o->log_every : 1;
    double win_sum = 0;
    long win_n = 0;
    const size_t n_img = r.train.n;
    for (long k = r.start; k < r.total; k++) {
        double loss = 0, lr = 0, l2 = 0, l1 = 0;
        if ((rc = train_step(&r, k, &loss, &lr, &l2, &l1))) goto done;
        r.losses[k] = loss;
        r.step = k + 1;
        if (r.gn) fprintf(r.gn, "%ld,%.17g,%.17g,%.17g,%.17g\n", k, l2, l1, loss, lr);
        win_sum += loss;
        win_n++;
        int log = (r.step % log_every) == 0 || r.step == r.total;
        brisk_train_event se = {.kind = BRISK_TRAIN_EV_STEP, .step = r.step, .loss = loss,
                                .loss_avg = win_sum / (double)win_n, .log = log, .lr = lr,
                                .grad_norm_l2 = l2, .grad_norm_l1 = l1};
        emit(&r, &se);
        if (log) win_sum = 0, win_n = 0;
        /* classifier: test accuracy whenever an epoch is completed */
        if (r.clf) {
            uint64_t e0 = (uint64_t)k * o->batch / n_img, e1 = (uint64_t)r.step * o->batch / n_img;
            if (e1 > e0) {
                double acc;
                if ((rc = train_evaluate(&r, r.has_ema ? r.ema.shadow : NULL, &acc))) goto done;
                cJSON *e = cJSON_CreateObject();
                if (!e) { rc = BRISK_ENOMEM; goto done; }
                cJSON_AddNumberToObject(e, "epoch", (double)e1);
                cJSON_AddNumberToObject(e, "step", (double)r.step);
                cJSON_AddNumberToObject(e, "accuracy", acc);
                cJSON_AddItemToArray(r.epoch_acc, e);
                brisk_train_event ee = {.kind = BRISK_TRAIN_EV_EVAL, .step = r.step,
                                        .epoch = (long)e1, .accuracy = acc};
                emit(&r, &ee);
            }
        }
        int ck = (o->checkpoint_every > 0 && r.step % o->checkpoint_every == 0) ||
                 r.step == r.total;
        if (ck) {
            if ((rc = train_checkpoint_save(&r))) goto done;
            brisk_train_event ce = {.kind = BRISK_TRAIN_EV_CHECKPOINT, .step = r.step,
                                    .path = r.ckpt_dir};
            emit(&r, &ce);
        }
        if (o->debug_stop_step >= 0 && r.step >= o->debug_stop_step && r.step < r.total) {
            rc = brisk_error(BRISK_ESTATE, "stopped after step %ld (debug_stop_step)", k);
            goto done;
        }
    }
    if (r.last_ckpt != r.step && (rc = train_checkpoint_save(&r))) goto done;
    if (r.gn) fflush(r.gn);
    brisk_train_result tmp;
    if ((rc = train_write_outputs(&r, res ? res : &tmp))) goto done;
    brisk_train_event de = {.kind = BRISK_TRAIN_EV_DONE, .step = r.step, .path = o->out};
    emit(&r, &de);
done:
    run_free(&r);
    return rc;
}
