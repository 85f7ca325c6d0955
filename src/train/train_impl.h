/* train_impl.h: internals shared by the files of src/train. */
#ifndef BRISK_TRAIN_IMPL_H
#define BRISK_TRAIN_IMPL_H

#include "brisk/core.h"
#include "brisk/lr.h"
#include "brisk/nn.h"
#include "brisk/train.h"

#include <stdio.h>

#include <stddef.h>

#ifdef BRISK_OPENMP
#include <omp.h>
#endif

/* Elements per parallel work item of the element-wise loops and reduction chunks. */
#define TRAIN_CHUNK 4096

/* Threads for element-wise loops over n floats (1 for small buffers). */
static inline int train_threads(size_t n) {
    int t = brisk_get_num_threads();
    if (t < 1) t = 1;
    if (n < 4 * TRAIN_CHUNK) t = 1;
    return t;
}

/* Recursively removes a folder (files and sub-folders); a missing folder is not an error. */
int train_rmtree(const char *path);
/* 1 when path exists (any type). */
int train_exists(const char *path);
/* Joins a folder and a name into a new string (brisk_free). NULL on ENOMEM. */
char *train_join(const char *dir, const char *name);

/* BRISK_EMISMATCH naming the first option that defines the run (batch, seed, optimizer,
 * schedule, ...) and differs between two options objects (brisk_train_options_to_json). */
int train_options_identity_check(const cJSON *saved, const cJSON *given, const char *what);

/* The state of one training run (trainer.c drives it, checkpoint.c saves and restores it,
 * summary.c writes the output folder). */
typedef struct train_run {
    brisk_train_options o;      /* strings borrowed from the caller */
    cJSON *opts_json;           /* o as JSON, saved in checkpoints */
    cJSON *commands;            /* array: the command of the first run and of each resume */
    char *ckpt_dir, *ckpt_tmp, *ckpt_old;
    brisk_dataset train, test;
    brisk_unet *unet;
    brisk_classifier *clf;
    brisk_nn_params *p;
    size_t n_out;               /* classifier classes */
    brisk_optim *opt;
    brisk_ema ema;
    int has_ema;
    brisk_lr_schedule *sched;
    char *sched_resolved;       /* JSON text of the schedule spec actually run */
    int cycles_momentum;
    brisk_batcher bat;
    double *ac;                 /* UNet: alphas_cumprod (T) */
    size_t dim;                 /* floats per image */
    float *x0, *xt, *eps, *tt, *out, *dout, *eval_logits, *backup;
    uint8_t *labels;
    uint64_t *gidx;
    double *losses;             /* total entries; [0, step) valid */
    long total, start, step;    /* planned updates, first update of this session, done */
    long last_ckpt;             /* updates in the newest checkpoint; -1: none */
    double seconds_before;      /* wall time of earlier sessions */
    double t0;                  /* start of this session (monotonic seconds) */
    cJSON *epoch_acc;           /* array of {"epoch", "step", "accuracy"} */
    FILE *gn;                   /* gradient-norm log or NULL */
    brisk_train_progress_fn progress;
    void *ctx;
} train_run;

double train_now(void);
/* Builds r->sched from o.lr_schedule (budget arguments filled in) or, when resuming, from
 * the resolved spec saved in the checkpoint. */
int train_make_schedule(train_run *r, const char *resolved);
/* Writes the checkpoint of r->step updates (atomic folder swap). */
int train_checkpoint_save(train_run *r);
/* Restores a run from its checkpoint folder (model, EMA, optimizer, schedule, losses). */
int train_checkpoint_load(train_run *r);
/* Reads DIR/state.json of a checkpoint folder (DIR, DIR/checkpoint or the -old swap). */
int train_checkpoint_state(const char *dir, cJSON **state, char **found_dir);
/* Final model folder, scheduler_config.json, training.json and TRAINING.md. */
int train_write_outputs(train_run *r, brisk_train_result *res);
/* Classifier test accuracy with the given weights (r->p layout; NULL = current). */
int train_evaluate(train_run *r, const float *weights, double *acc);

#endif
