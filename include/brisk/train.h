/* brisk/train.h: training on Fashion-MNIST: optimizers (AdamW, SGD) over flat float
 * buffers, an exponential moving average (EMA) of the parameters, gradient norms and
 * clipping, a deterministic data pipeline, DDPM epsilon-prediction training of a diffusers
 * UNet2DModel, classifier training, atomic checkpoints and bit-identical resume.
 *
 * The whole loop (what `brisk train unet` runs):
 *
 *     brisk_train_options o;
 *     brisk_train_options_default(&o, BRISK_TRAIN_UNET);
 *     o.config_path = "unet.json"; o.steps = 20000; o.batch = 64;
 *     o.lr_schedule = "CosineAnnealingLR(T_max=20000)"; o.out = "models/fmnist-unet";
 *     brisk_train_result r;
 *     if (brisk_train_run(&o, &r)) die(brisk_last_error());   // "step 812: loss is nan ..."
 *
 * The pieces, for a program with its own loop:
 *
 *     brisk_nn_params *p = brisk_unet_params(model);
 *     brisk_optim_params op;
 *     brisk_optim_params_default(&op, BRISK_OPTIM_ADAMW);
 *     brisk_optim *opt;
 *     brisk_optim_create(&op, p, &opt);
 *     brisk_ema ema;
 *     brisk_ema_init(&ema, p->data, p->n, 0.9999, 1);
 *     ... forward_train, loss, backward ...
 *     double l2, l1;
 *     brisk_grad_norms(p->grad, p->n, &l2, &l1);
 *     brisk_clip_grad_norm(p->grad, p->n, 1.0, l2);
 *     brisk_optim_step(opt, p->data, p->grad, lr, -1);
 *     brisk_ema_update(&ema, p->data);
 *
 * Determinism. Every random draw comes from brisk's Philox RNG (rng.h) and is a pure
 * function of the seed and a position: the data order of epoch e from (seed, e), the
 * DDPM noise and timestep of a training sample from (seed, its global sample index).
 * Reductions run in a fixed order, so a run gives the same bits for any thread count and
 * a resumed run continues exactly as an uninterrupted one. Formulas: docs/training.md.
 */
#ifndef BRISK_TRAIN_H
#define BRISK_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "brisk/io.h"
#include "brisk/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------
 * Optimizers over one flat float buffer (brisk_nn_params data/grad).
 * ------------------------------------------------------------------------------- */
typedef enum brisk_optim_kind {
    BRISK_OPTIM_ADAMW = 0, /* "adamw": torch.optim.AdamW (Loshchilov & Hutter, ICLR 2019) */
    BRISK_OPTIM_SGD,       /* "sgd": torch.optim.SGD with momentum / Nesterov */
    BRISK_OPTIM_COUNT
} brisk_optim_kind;
const char *brisk_optim_kind_name(brisk_optim_kind k); /* "?" when out of range */
/* Case-insensitive; unknown names are BRISK_EUNSUPPORTED listing the valid names. */
int brisk_optim_kind_from_name(const char *name, brisk_optim_kind *out);

typedef struct brisk_optim_params {
    brisk_optim_kind kind;
    double lr;           /* used by brisk_optim_step when it is given lr < 0 */
    double beta1, beta2; /* AdamW: 0.9, 0.999 */
    double eps;          /* AdamW: 1e-8 (added outside the square root, as torch) */
    double weight_decay; /* AdamW: 1e-2 (torch's default), SGD: 0 */
    double momentum;     /* SGD: 0 */
    double dampening;    /* SGD: 0 */
    int nesterov;        /* SGD: 0 */
    int decay_all;       /* 0 (default): weight decay only on views with is_weight (conv and
                          * linear weights, not biases or norm parameters); 1: on every
                          * parameter, as torch with a single param group */
} brisk_optim_params;
/* torch's defaults for `kind` (lr 1e-3 for AdamW, 1e-2 for SGD) and decay_all = 0. */
void brisk_optim_params_default(brisk_optim_params *p, brisk_optim_kind kind);

typedef struct brisk_optim brisk_optim;

/* An optimizer for the parameters laid out as `layout` (only n and the views' offsets,
 * sizes and is_weight flags are read; nothing is kept). State (moments) starts at zero.
 * Invalid hyperparameters (lr, betas outside [0, 1), eps, momentum < 0, nesterov without
 * momentum or with dampening) are BRISK_EINVAL naming the key. */
int brisk_optim_create(const brisk_optim_params *p, const brisk_nn_params *layout,
                       brisk_optim **out);
/* The same over a plain buffer of n floats (every element gets weight decay). */
int brisk_optim_create_flat(const brisk_optim_params *p, size_t n, brisk_optim **out);
void brisk_optim_free(brisk_optim *o);
const brisk_optim_params *brisk_optim_get_params(const brisk_optim *o);

/* One update of data[0..n-1] from grad, exactly torch's step() order of operations in
 * float32 (docs/training.md). lr < 0 uses params.lr; momentum < 0 uses the configured
 * value, else it replaces beta1 (AdamW) or the momentum (SGD) for this update, as a
 * momentum-cycling schedule (OneCycleLR) does in torch. Allocates nothing; parallel,
 * element-wise (bit-identical for any thread count). */
void brisk_optim_step(brisk_optim *o, float *data, const float *grad, double lr,
                      double momentum);
/* Number of updates so far (torch's state['step']). */
long brisk_optim_steps(const brisk_optim *o);

/* Saves / restores the state as DIR/optimizer.json (kind, hyperparameters, step) and
 * DIR/optimizer-<buffer>.npy (exp_avg and exp_avg_sq for AdamW, momentum_buffer for SGD),
 * each written atomically. Loading checks the kind and the size (BRISK_EMISMATCH). */
int brisk_optim_save(const brisk_optim *o, const char *dir);
int brisk_optim_load(brisk_optim *o, const char *dir);
/* The state buffers (moments); for tests. i: 0 = exp_avg / momentum_buffer,
 * 1 = exp_avg_sq; NULL when absent. */
float *brisk_optim_buffer(brisk_optim *o, int i);

/* ---------------------------------------------------------------------------------
 * EMA of the parameters (Polyak averaging; diffusers' EMAModel without power warm-up).
 * ------------------------------------------------------------------------------- */
typedef struct brisk_ema {
    size_t n;
    float *shadow;   /* n floats (owned) */
    double decay;    /* maximal decay, e.g. 0.9999 */
    int warmup;      /* 1: decay_k = min(decay, (1 + k) / (10 + k)) */
    long updates;    /* k: number of updates so far */
} brisk_ema;
/* Copies params into the shadow. decay in [0, 1). BRISK_EINVAL / BRISK_ENOMEM. */
int brisk_ema_init(brisk_ema *e, const float *params, size_t n, double decay, int warmup);
void brisk_ema_free(brisk_ema *e);
/* The decay the update numbered k uses: min(decay, (1+k)/(10+k)) with warm-up, else decay. */
double brisk_ema_decay_at(const brisk_ema *e, long k);
/* shadow -= (1 - d) (shadow - params) with d = brisk_ema_decay_at(e, e->updates), then
 * updates++. Element-wise, allocates nothing. */
void brisk_ema_update(brisk_ema *e, const float *params);

/* ---------------------------------------------------------------------------------
 * Gradient norms and clipping.
 * ------------------------------------------------------------------------------- */
/* l2 = sqrt(sum g^2), l1 = sum |g|, accumulated in double over fixed 4096-element chunks
 * summed in order (identical for any thread count). Either output may be NULL.
 * Non-finite gradients give non-finite norms. */
void brisk_grad_norms(const float *g, size_t n, double *l2, double *l1);
/* torch.nn.utils.clip_grad_norm_ on one buffer whose l2 norm is `norm`:
 * scale = max_norm / (norm + 1e-6); if scale < 1 every gradient is multiplied by
 * (float)scale. Returns the scale applied (1 when none). */
double brisk_clip_grad_norm(float *g, size_t n, double max_norm, double norm);

/* Appends/reads the gradient-norm log, a CSV with header
 * "step,grad_norm_l2,grad_norm_l1,loss,lr" (one row per update; step = update index from
 * 0), the input of `brisk lr refine`. Doubles are written with 17 significant digits. */
#define BRISK_GRAD_NORM_LOG_HEADER "step,grad_norm_l2,grad_norm_l1,loss,lr"

/* ---------------------------------------------------------------------------------
 * Data pipeline.
 * ------------------------------------------------------------------------------- */
/* The order of epoch `epoch`: a Fisher-Yates shuffle of 0..n-1 driven by the Philox words
 * brisk_rand_u32(seed, epoch, BRISK_STREAM(BRISK_RNG_DATA, 0), n): for i = n-1 down to 1
 * swap perm[i] with perm[j], j = brisk_rand_below(word[i], i + 1). `words` is n words of
 * scratch. n < 2^32. */
void brisk_train_permutation(uint64_t seed, uint64_t epoch, size_t n, uint32_t *perm,
                             uint32_t *words);

/* Batches from an endless stream: global sample g (g = step * batch + b) is image
 * perm_e[g mod n] of epoch e = g / n, so a batch may span two epochs and the data
 * position is a function of the step alone. With hflip, sample g is mirrored left-right
 * when bit 0 of brisk_rand_u32(seed, g, BRISK_STREAM(BRISK_RNG_DATA, 1)) is set. */
typedef struct brisk_batcher {
    const brisk_dataset *data; /* borrowed */
    uint64_t seed;
    size_t batch;
    int hflip;
    uint32_t *perm, *words; /* owned, n each */
    uint64_t perm_epoch;    /* epoch perm holds; UINT64_MAX before the first */
} brisk_batcher;
int brisk_batcher_init(brisk_batcher *b, const brisk_dataset *data, size_t batch,
                       uint64_t seed, int hflip);
void brisk_batcher_free(brisk_batcher *b);
/* Fills x (batch, c, h, w), labels (batch) (may be NULL) and gidx (batch) global sample
 * indices (may be NULL) for update `step`. Allocates nothing. */
void brisk_batcher_fill(brisk_batcher *b, uint64_t step, float *x, uint8_t *labels,
                        uint64_t *gidx);

/* DDPM training pairs (Ho et al. 2020, Algorithm 1): for sample b with global index gidx[b],
 * t_b = brisk_rand_below(w, T) with w = brisk_rand_u32(seed, gidx[b], BRISK_STREAM(
 * BRISK_RNG_TRAIN, 1)), eps_b = brisk_randn_f32(seed, gidx[b], BRISK_STREAM(
 * BRISK_RNG_TRAIN, 0), dim), x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps (diffusers add_noise).
 * alphas_cumprod: T values. x0, xt, eps: (batch, dim); t: (batch) as float. */
void brisk_ddpm_training_batch(const double *alphas_cumprod, int T, uint64_t seed,
                               const uint64_t *gidx, size_t batch, size_t dim, const float *x0,
                               float *xt, float *eps, float *t);
/* alphas_cumprod of a beta schedule ("linear", "scaled_linear", "squaredcos_cap_v2"), taken
 * from brisk_noise_schedule_init with DDPMScheduler defaults (diffusers' float32 arithmetic),
 * so training uses exactly the table brisk samples with. *out (T values) is freed with
 * brisk_free. Unknown names are BRISK_EUNSUPPORTED. */
int brisk_train_alphas_cumprod(const char *beta_schedule, double beta_start, double beta_end,
                               int T, double **out);

/* ---------------------------------------------------------------------------------
 * The training loop.
 * ------------------------------------------------------------------------------- */
typedef enum brisk_train_task {
    BRISK_TRAIN_UNET = 0,   /* "unet": DDPM epsilon prediction, MSE loss */
    BRISK_TRAIN_CLASSIFIER, /* "classifier": cross-entropy, test accuracy per epoch */
    BRISK_TRAIN_TASK_COUNT
} brisk_train_task;
const char *brisk_train_task_name(brisk_train_task t);
int brisk_train_task_from_name(const char *name, brisk_train_task *out);

/* Everything that defines a run; saved in full in every checkpoint (string members are
 * borrowed here; brisk_train_options_from_json returns owned copies). */
typedef struct brisk_train_options {
    brisk_train_task task;
    const char *data;          /* "fashion-mnist" */
    const char *data_dir;      /* NULL: brisk_fmnist_load's default */
    const char *config_path;   /* UNet: UNet2DModel config.json (required); classifier:
                                * optional JSON with brisk_classifier_config keys */
    long steps;                /* number of updates (> 0) */
    long epochs;               /* > 0: steps = ceil(epochs * n / batch) (overrides steps) */
    size_t batch;              /* 64 */
    size_t limit;              /* > 0: first `limit` training images only */
    int hflip;                 /* random horizontal flip; 0 */
    uint64_t seed;             /* 0: model init, data order, noise */
    brisk_optim_params optim;  /* AdamW; lr 1e-4 (UNet) or 1e-3 (classifier) */
    const char *lr_schedule;   /* lr.h spec ("constant", "OneCycleLR(max_lr=0.01)");
                                * NULL = "constant" */
    double ema;                /* EMA decay (0: off); 0.9999 UNet, 0 classifier */
    int ema_warmup;            /* 1: decay min(ema, (1+k)/(10+k)) */
    double clip;               /* clip the global l2 gradient norm to this (0: off) */
    /* DDPM (UNet) */
    int num_train_timesteps;   /* 1000 */
    double beta_start, beta_end; /* 1e-4, 0.02 */
    const char *beta_schedule; /* "linear" */
    /* bookkeeping (not part of the run's identity) */
    const char *out;           /* output folder (required) */
    const char *checkpoint_dir;/* NULL: OUT/checkpoint */
    long checkpoint_every;     /* 0: only at the end */
    long log_every;            /* progress events every K steps (0: every step) */
    const char *grad_norm_log; /* CSV path or NULL */
    int resume;                /* 1: continue from the checkpoint in checkpoint_dir */
    size_t eval_batch;         /* classifier evaluation batch; 256 */
    size_t test_limit;         /* classifier: > 0 evaluates on the first test images only */
    const char *command;       /* the command line, for the summary; may be NULL */
    long debug_nan_step;       /* test hook: the loss of this update becomes NaN (-1 off) */
    long debug_stop_step;      /* test hook: return BRISK_ESTATE after this many updates
                                * (after any checkpoint there), as if killed (-1 off) */
} brisk_train_options;
void brisk_train_options_default(brisk_train_options *o, brisk_train_task task);

/* The options as a JSON object (caller deletes), and back. from_json fills `o` with
 * strings owned by `*strings` (free with cJSON_Delete after use). Unknown keys are
 * BRISK_EPARSE naming `what` and the key. */
cJSON *brisk_train_options_to_json(const brisk_train_options *o);
int brisk_train_options_from_json(const cJSON *obj, const char *what, brisk_train_options *o,
                                  cJSON **strings);

/* What the progress callback sees. */
typedef enum brisk_train_event_kind {
    BRISK_TRAIN_EV_START = 0, /* step = first update (0, or the resumed step) */
    BRISK_TRAIN_EV_STEP,      /* after update `step`-1 (every log_every updates) */
    BRISK_TRAIN_EV_CHECKPOINT,/* a checkpoint of `step` updates was written */
    BRISK_TRAIN_EV_EVAL,      /* classifier: test accuracy after epoch `epoch` */
    BRISK_TRAIN_EV_DONE,
    BRISK_TRAIN_EV_COUNT
} brisk_train_event_kind;
typedef struct brisk_train_event {
    brisk_train_event_kind kind;
    long step, total_steps;  /* updates done so far, updates planned */
    long start_step;         /* first update of this session (resumed runs: > 0) */
    double loss;             /* STEP: this update's loss */
    double loss_avg;         /* STEP: mean loss since the previous log point */
    int log;                 /* STEP: 1 every log_every updates (and at the last one) */
    double lr, grad_norm_l2, grad_norm_l1; /* STEP: before clipping */
    double seconds;          /* wall time of this session so far */
    long epoch;              /* EVAL: epochs completed */
    double accuracy;         /* EVAL: test accuracy in [0, 1] */
    size_t n_params;
    const char *path;        /* CHECKPOINT: the folder; DONE: the output folder */
} brisk_train_event;
typedef void (*brisk_train_progress_fn)(void *ctx, const brisk_train_event *ev);

typedef struct brisk_train_result {
    long steps;               /* updates done in total */
    double seconds;           /* wall time of all runs (resumed ones included) */
    double final_loss;        /* mean loss over the last 5% of updates */
    double test_accuracy;     /* classifier: final model on the test set; else NAN */
    size_t n_params;
} brisk_train_result;

/* Runs (or with o->resume, continues) a training run and writes the output folder:
 *   UNet:       OUT/config.json, OUT/diffusion_pytorch_model.safetensors (the EMA weights
 *               when ema > 0), OUT/scheduler_config.json (DDPMScheduler keys);
 *   classifier: OUT/config.json, OUT/model.safetensors (EMA weights when ema > 0);
 *   both:       OUT/training.json and OUT/TRAINING.md (command, options, time, loss per
 *               5% of training, accuracy), and the checkpoint folder (docs/training.md).
 * A non-finite loss or gradient stops with BRISK_ENUMERIC ("step K: loss is nan; last good
 * checkpoint: ...") and leaves the last checkpoint untouched. `progress` may be NULL. */
int brisk_train_run(const brisk_train_options *o, brisk_train_progress_fn progress,
                    void *ctx, brisk_train_result *res);

/* The checkpoint folder a run uses (o->checkpoint_dir or OUT/checkpoint); caller frees. */
char *brisk_train_checkpoint_dir(const brisk_train_options *o);
/* Reads the options saved in a checkpoint: `dir` is a checkpoint folder or an output
 * folder holding checkpoint/ (the "-old" folder of an interrupted swap is used when the
 * main one is missing). *obj: the saved options (caller deletes); *ckpt_dir (may be NULL):
 * the checkpoint folder to pass as checkpoint_dir (caller frees with brisk_free).
 * BRISK_ENOTFOUND when there is no checkpoint. */
int brisk_train_checkpoint_options(const char *dir, cJSON **obj, char **ckpt_dir);

#ifdef __cplusplus
}
#endif
#endif
