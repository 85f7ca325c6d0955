/* brisk/lr.h: learning-rate schedules for training loops: every torch.optim.lr_scheduler
 * schedule (exact to PyTorch 1.13, including its recursive "chainable" forms), REX with
 * its profile and sampling rate kept apart, and schedules refined from the gradient
 * norms of an earlier run.
 *
 *     brisk_lr_options o;
 *     brisk_lr_options_default(&o);            // base_lr 0.1, momentum 0.9, SGD
 *     brisk_lr_schedule *s;
 *     if (brisk_lr_create_spec("OneCycleLR(max_lr=0.1, total_steps=1000)", &o, &s))
 *         die(brisk_last_error());
 *     for (long k = 0; k < 1000; k++) {
 *         double lr = brisk_lr_current(s), mom = brisk_lr_current_momentum(s);
 *         train_one_step(lr, mom);              // the optimizer uses lr/mom for update k
 *         if (brisk_lr_step(s, loss)) die(brisk_last_error());  // metric: plateau only
 *     }
 *     char *state; brisk_lr_state_save(s, &state);   // checkpoint (JSON text)
 *     brisk_lr_free(s);
 *
 * A schedule is written like the Python call that builds it: "StepLR(step_size=30)",
 * "SequentialLR(milestones=[5], schedulers=[LinearLR(start_factor=0.01, total_iters=5),
 * CosineAnnealingLR(T_max=45)])", "rex(total_steps=100)", or as the JSON object
 * {"class": ..., "kwargs": {...}, "schedulers": [...]} used by the reference cases.
 * Every schedule also takes two brisk keywords: warmup=W (linear warm-up over W steps in
 * front of it, lr = v0 (t+1)/W where v0 is the schedule's value at its own step 0, then
 * the schedule shifted by W) and sampling=iteration|epoch|K (read the value off the
 * profile only every K steps or once per epoch; REX paper, section 3).
 *
 * Numbering follows torch: value k is what the optimizer uses for update k, read before
 * optimizer.step(); brisk_lr_step() is scheduler.step(). Formulas and their sources:
 * docs/lr.md.
 */
#ifndef BRISK_LR_H
#define BRISK_LR_H

#include <cjson/cJSON.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum brisk_lr_kind {
    /* torch.optim.lr_scheduler classes (PyTorch 1.13 semantics) */
    BRISK_LR_CONSTANT_LR = 0,     /* "ConstantLR" */
    BRISK_LR_LINEAR_LR,           /* "LinearLR" */
    BRISK_LR_STEP_LR,             /* "StepLR" */
    BRISK_LR_MULTISTEP_LR,        /* "MultiStepLR" */
    BRISK_LR_EXPONENTIAL_LR,      /* "ExponentialLR" */
    BRISK_LR_POLYNOMIAL_LR,       /* "PolynomialLR" */
    BRISK_LR_COSINE_ANNEALING_LR, /* "CosineAnnealingLR": periodic past T_max */
    BRISK_LR_COSINE_WARM_RESTARTS,/* "CosineAnnealingWarmRestarts" */
    BRISK_LR_CYCLIC_LR,           /* "CyclicLR" */
    BRISK_LR_ONE_CYCLE_LR,        /* "OneCycleLR" */
    BRISK_LR_SEQUENTIAL_LR,       /* "SequentialLR" (children restart at their step 0) */
    BRISK_LR_CHAINED_SCHEDULER,   /* "ChainedScheduler" */
    BRISK_LR_REDUCE_ON_PLATEAU,   /* "ReduceLROnPlateau" (stateful: needs metrics) */
    /* brisk schedules: pure functions of the step */
    BRISK_LR_CONSTANT,            /* "constant": base_lr */
    BRISK_LR_COSINE_CLAMPED,      /* "cosine_clamped": cosine held at eta_min past T_max */
    BRISK_LR_LINEAR_DECAY,        /* "linear_decay": lr0 (1 - t/T) */
    BRISK_LR_EXP_DECAY,           /* "exp_decay": lr0 exp(-rate t/T) (REX baseline) */
    BRISK_LR_STEP_DECAY,          /* "step_decay": x gamma at fractions of the budget */
    BRISK_LR_WARMUP_POLY,         /* "warmup_poly": (j+1)/W then (1-(j-W)/(T-W))^p */
    BRISK_LR_REX,                 /* "rex": lr0 (1-z)/(1/2 + 1/2 (1-z)), or beta form */
    BRISK_LR_REFINED,             /* "refined": from gradient norms (Defazio et al.) */
    BRISK_LR_KIND_COUNT
} brisk_lr_kind;

/* Canonical name ("OneCycleLR", "rex"); "?" when out of range. */
const char *brisk_lr_kind_name(brisk_lr_kind k);
/* Parses a name or alias (case-insensitive: "onecycle", "cosine", "plateau", ...).
 * Unknown names: BRISK_ENOTFOUND with a message listing `brisk lr list`. */
int brisk_lr_kind_from_name(const char *name, brisk_lr_kind *out);
/* One-line description of the kind. */
const char *brisk_lr_kind_summary(brisk_lr_kind k);
/* A spec text using the kind with its required keywords ("StepLR(step_size=30, ...)"). */
const char *brisk_lr_kind_example(brisk_lr_kind k);
/* 1 for torch.optim.lr_scheduler classes. */
int brisk_lr_kind_is_torch(brisk_lr_kind k);

/* Parameter documentation (for --help and for the "unknown keyword" check). */
typedef struct brisk_lr_param_info {
    const char *name;  /* keyword, torch spelling */
    const char *type;  /* "float", "int", "bool", "str", "list", "float|list", "spec list" */
    const char *def;   /* default as text; "required" when there is none */
    const char *help;
} brisk_lr_param_info;
/* Parameters of a kind, excluding the common keywords (warmup, sampling, and torch's
 * last_epoch/verbose). Returns the count; *out points to a static table. */
size_t brisk_lr_kind_params(brisk_lr_kind k, const brisk_lr_param_info **out);
/* The keywords every schedule accepts (warmup, sampling, last_epoch, verbose). */
size_t brisk_lr_common_params(const brisk_lr_param_info **out);

typedef enum brisk_lr_optimizer {
    BRISK_LR_OPT_SGD = 0, /* momentum in group['momentum'] */
    BRISK_LR_OPT_ADAM,    /* "momentum" is beta1 */
    BRISK_LR_OPT_ADAMW,
    BRISK_LR_OPT_RMSPROP, /* momentum in group['momentum'] */
    BRISK_LR_OPT_COUNT
} brisk_lr_optimizer;
const char *brisk_lr_optimizer_name(brisk_lr_optimizer o); /* "sgd", "adam", ... */
int brisk_lr_optimizer_from_name(const char *name, brisk_lr_optimizer *out);

/* The optimizer a schedule drives, as torch sees it. */
typedef struct brisk_lr_options {
    double base_lr;               /* the optimizer's lr (torch's initial_lr); 0.1 */
    double base_momentum;         /* SGD/RMSprop momentum or Adam beta1; 0.9 */
    brisk_lr_optimizer optimizer; /* which momentum key torch cycles; SGD */
    long steps_per_epoch;         /* for sampling=epoch; 0 = not known */
} brisk_lr_options;
void brisk_lr_options_default(brisk_lr_options *o);

typedef struct brisk_lr_schedule brisk_lr_schedule;

/* Parses "Name(key=value, ...)" into the JSON spec {"class", "kwargs", "schedulers"}.
 * Values: numbers, true/false/True/False, None/null, 'quoted' or "quoted" or bare-word
 * strings, [lists], and nested Name(...) specs (for schedulers=[...]). The caller owns
 * *out (cJSON_Delete). Syntax errors name the column. */
int brisk_lr_spec_parse(const char *text, cJSON **out);

/* Creates a schedule from a JSON spec (not modified, not kept). Validates like torch
 * (unknown keyword, start_factor outside (0, 1], non-integer T_mult, ...) and returns
 * BRISK_EINVAL / BRISK_EUNSUPPORTED with a message naming the class and keyword. */
int brisk_lr_create(const cJSON *spec, const brisk_lr_options *o, brisk_lr_schedule **out);
/* Same from the text form ("StepLR(step_size=30, gamma=0.1)"). */
int brisk_lr_create_spec(const char *spec, const brisk_lr_options *o,
                         brisk_lr_schedule **out);
/* A schedule from a table of multipliers: lr_t = base_lr * table[t] for t < n, and
 * table[n-1] after the end (kind BRISK_LR_REFINED). The table is copied. */
int brisk_lr_create_table(const double *table, size_t n, const brisk_lr_options *o,
                          brisk_lr_schedule **out);
void brisk_lr_free(brisk_lr_schedule *s);

brisk_lr_kind brisk_lr_schedule_kind(const brisk_lr_schedule *s);
/* Canonical JSON text of the spec the schedule was built from (owned by s). */
const char *brisk_lr_schedule_spec(const brisk_lr_schedule *s);
/* 1 when values depend on metrics (ReduceLROnPlateau): brisk_lr_value then only
 * answers for the current step. */
int brisk_lr_schedule_stateful(const brisk_lr_schedule *s);
/* 1 when the momentum can change over the run (CyclicLR, OneCycleLR). */
int brisk_lr_schedule_cycles_momentum(const brisk_lr_schedule *s);

/* Number of brisk_lr_step calls so far (the index of the current update). */
long brisk_lr_position(const brisk_lr_schedule *s);
/* Learning rate and momentum (beta1 for Adam) for the current update. */
double brisk_lr_current(const brisk_lr_schedule *s);
double brisk_lr_current_momentum(const brisk_lr_schedule *s);
/* scheduler.step(): advances to the next update. `metric` is used by ReduceLROnPlateau
 * (it must be given there; pass 0 or NAN elsewhere, it is ignored). Errors as torch raises
 * them (OneCycleLR stepped past total_steps) leave the schedule unchanged. */
int brisk_lr_step(brisk_lr_schedule *s, double metric);
/* Value at any step, independent of the current position (replays the recursion from the
 * start when needed; sequential queries cost O(1) each). lr or momentum may be NULL.
 * ReduceLROnPlateau: only step == brisk_lr_position(s), else BRISK_ESTATE. Not
 * thread-safe on one schedule (a replay cache is updated). */
int brisk_lr_value(brisk_lr_schedule *s, long step, double *lr, double *momentum);
/* Fills lr[0..n-1] (and momentum, may be NULL) for steps 0..n-1. For ReduceLROnPlateau,
 * `metrics` (n values; metrics[k] is passed to step() after update k) is required and
 * the schedule's position is left unchanged (a copy runs). */
int brisk_lr_values(brisk_lr_schedule *s, size_t n, const double *metrics, double *lr,
                    double *momentum);

/* Saves the complete state (position, the optimizer group's lr/momentum as torch keeps
 * them, every nested scheduler's counters, plateau best/patience/cooldown) as JSON text
 * with exact doubles; the caller frees *out with brisk_free. Loading it into a schedule
 * built from the same spec and options gives identical values from then on; a state
 * saved for a different spec is refused with BRISK_ESTATE. */
int brisk_lr_state_save(const brisk_lr_schedule *s, char **out);
int brisk_lr_state_load(brisk_lr_schedule *s, const char *json);

/* ---- REX (Chen, Wolfe, Kyrillidis, MLSys 2022) ----------------------------------- */

/* The REX profile at step t of T: max_lr (1-z)/(1/2 + 1/2 (1-z)), z = t/T (the paper's
 * expression, exactly, when beta == 0.5), else max_lr (1-z)/(1 - z (1 - beta)).
 * z is clamped to [0, 1]. */
double brisk_lr_rex_profile(double max_lr, long t, long T, double beta);

/* ---- Refined schedules (Defazio et al. 2023, "When, why and how much?") ---------- */

typedef struct brisk_lr_refine_params {
    double weight_power;        /* 2: w = g^-2 (SGD, l2 norms); 1: g^-1 (Adam, l1) */
    int drop_inf;               /* 1: drop infinite values first */
    size_t trim_each_end;       /* 2: drop this many values at each end */
    size_t min_len;             /* 10000: linearly resample up to this length if shorter */
    size_t filter_width;        /* 1001 (odd): median filter width; 0 or 1: none */
    size_t pad_widths;          /* 2: reflect-pad the end by pad_widths*filter_width */
    size_t resample_to;         /* 10000: length of the smoothed sequence */
} brisk_lr_refine_params;
/* The authors' pipeline (REFERENCES.md section 5; adaptive_scheduling visual.py). */
void brisk_lr_refine_params_default(brisk_lr_refine_params *p);

/* Reads gradient norms from a CSV file: brisk's own log (header
 * "step,grad_norm_l2,grad_norm_l1"; `l1` picks the column) or a wandb export (header
 * "Step,<name>,<name>__MIN,<name>__MAX"; the second column). Empty files, non-numeric
 * cells, NaN and negative norms are errors naming the file, line and column; "inf" is
 * kept (the pipeline drops it). *norms is freed with brisk_free. */
int brisk_lr_grad_norms_read(const char *path, int l1, double **norms, size_t *n);

/* Smoothing pipeline: drop inf, trim, resample up to min_len, median filter (scipy
 * median_filter mode 'nearest' on the end-reflect-padded sequence, padding cropped),
 * resample to resample_to points. *out (length *out_n = resample_to) is freed with
 * brisk_free. */
int brisk_lr_refine_smooth(const double *g, size_t n, const brisk_lr_refine_params *p,
                           double **out, size_t *out_n);

/* Closed form on a norm sequence g[0..n-1]: w_t = g_t^-power, s_t = w_t sum_{p>t} w_p,
 * s_{n-1} = 0, divided by max_t s_t (so the peak is 1). Non-positive or non-finite norms
 * are BRISK_ENUMERIC naming the index. */
int brisk_lr_refine_closed_form(const double *g, size_t n, double power, double *sched);

/* Whole pipeline for a training run of `steps` updates: smooth, resample the smoothed
 * norms to `steps` points, closed form. `steps` == resample_to gives the authors'
 * schedule exactly. *sched is freed with brisk_free. Constant norms give linear decay
 * (steps-1-t)/(steps-1). */
int brisk_lr_refine(const double *g, size_t n, const brisk_lr_refine_params *p, size_t steps,
                    double **sched);

/* numpy.interp(linspace(0, 1, m), linspace(0, 1, n), f): linear resampling of f (n >= 1
 * values) to out (m values, caller-owned), with numpy's arithmetic. */
int brisk_lr_resample(const double *f, size_t n, size_t m, double *out);

/* ---- Plots ----------------------------------------------------------------------- */

typedef struct brisk_lr_series {
    const char *label;
    const double *y; /* n values */
    size_t n;
    const double *x; /* n increasing x values; NULL: x = 0..n-1. With x given, the points
                        are also marked (for short series such as metric-vs-NFE curves). */
} brisk_lr_series;
/* Writes a line plot with axes, ticks and a legend: FILE.png (rasterised with a built-in
 * font) or FILE.svg (polylines). The y axis starts at 0 (or below, for negative values)
 * unless every series has x values; then it spans the data. Written atomically. The
 * format comes from the extension; others are BRISK_EUNSUPPORTED. */
int brisk_lr_plot_write(const char *path, const brisk_lr_series *series, size_t n_series,
                        const char *title, const char *xlabel);

#ifdef __cplusplus
}
#endif
#endif
