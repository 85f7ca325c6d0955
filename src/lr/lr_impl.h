/* Internal header of the lr module: the torch emulation (an optimizer param group shared
 * by nested schedulers, as torch.optim.lr_scheduler keeps it) and the schedule object. */
#ifndef BRISK_LR_IMPL_H
#define BRISK_LR_IMPL_H

#include "brisk/lr.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* At most this many torch scheduler objects in one schedule (a SequentialLR of children
 * counts one per object). */
#define LR_MAX_NODES 32

/* Keys of the optimizer's param group that OneCycleLR phases read (group[...]). */
enum { LR_G_INITIAL_LR = 0, LR_G_MAX_LR, LR_G_MIN_LR, LR_G_MAX_MOMENTUM, LR_G_BASE_MOMENTUM };

/* The optimizer's (single) param group: what torch schedulers read and write. */
typedef struct lr_tgroup {
    double lr;
    double initial_lr;
    double momentum; /* group['momentum'], or group['betas'][0] for Adam */
    double max_lr, min_lr, max_momentum, base_momentum; /* set by OneCycleLR */
    int has_initial_lr;
} lr_tgroup;

/* Mutable counters of one torch scheduler object. */
typedef struct lr_tnstate {
    long last_epoch;
    long step_count;       /* _step_count */
    double base_lr;        /* base_lrs[0] */
    double T_i, T_cur;     /* CosineAnnealingWarmRestarts */
    double best;           /* ReduceLROnPlateau */
    double num_bad_epochs, cooldown_counter;
    double cyc_base_momentum; /* CyclicLR base_momentums[0] (read from the group at init) */
} lr_tnstate;

/* Everything that changes while a torch schedule runs; plain data (copy with =). */
typedef struct lr_tstate {
    lr_tgroup g;
    lr_tnstate n[LR_MAX_NODES];
} lr_tstate;

/* Configuration of one torch scheduler object (fixed after construction). */
typedef struct lr_tnode {
    brisk_lr_kind cls;
    double step_size, gamma, factor, total_iters, start_factor, end_factor, power;
    double T_max, eta_min;
    long T_0, T_mult;
    /* CyclicLR */
    double cyc_base_lr, cyc_max_lr, total_size, step_ratio, cyc_max_momentum, cyc_base_momentum_kw;
    int cyc_mode;       /* 0 triangular, 1 triangular2, 2 exp_range */
    int scale_by_cycle; /* scale_mode 'cycle' (1) or 'iterations' (0) */
    int cycle_momentum;
    /* OneCycleLR */
    long total_steps;
    int n_phases, anneal_cos;
    double end_step[3];
    int ph_lr0[3], ph_lr1[3], ph_m0[3], ph_m1[3];
    double oc_max_lr, div_factor, final_div_factor, oc_base_momentum, oc_max_momentum;
    /* ReduceLROnPlateau */
    int mode_max, thr_abs;
    double threshold, min_lr, eps, patience, cooldown;
    /* MultiStepLR / SequentialLR milestones (owned) */
    double *milestones;
    size_t n_milestones;
    int child[LR_MAX_NODES];
    int n_children;
} lr_tnode;

typedef struct lr_torch {
    lr_tnode node[LR_MAX_NODES];
    int n_nodes;
    int root;
    brisk_lr_optimizer optimizer;
    int cycles_momentum;
} lr_torch;

/* Builds the torch objects of `spec` in construction order and runs their constructors on
 * st (group lr = o->base_lr, momentum = o->base_momentum first). On error *t is freed. */
int lr_torch_build(const cJSON *spec, const brisk_lr_options *o, lr_torch **t, lr_tstate *st);
void lr_torch_free(lr_torch *t);
/* scheduler.step() on the root (metric used by ReduceLROnPlateau). On error st is
 * unspecified: callers step a copy. */
int lr_torch_step_root(const lr_torch *t, lr_tstate *st, double metric);

/* kinds.c: validation helpers shared by torch.c and schedule.c. */
const brisk_lr_param_info *lr_find_param(brisk_lr_kind k, const char *name);
/* Checks that every key of kwargs is a parameter of kind k (or a common keyword allowed
 * at this level). */
int lr_check_kwargs(brisk_lr_kind k, const cJSON *kwargs, int top_level);
/* Typed keyword getters. `required` makes a missing key (or None) an error; a present
 * None sets *is_none (may be NULL) and leaves *out = def. */
int lr_kw_num(const cJSON *kw, brisk_lr_kind k, const char *key, double def, int required,
              double *out, int *is_none);
int lr_kw_int(const cJSON *kw, brisk_lr_kind k, const char *key, long def, int required,
              long *out, int *is_none);
int lr_kw_bool(const cJSON *kw, brisk_lr_kind k, const char *key, int def, int *out);
int lr_kw_str(const cJSON *kw, brisk_lr_kind k, const char *key, const char *def,
              const char **out);
/* A scalar or a one-element list (one value per param group; brisk has one group). */
int lr_kw_num_or_list1(const cJSON *kw, brisk_lr_kind k, const char *key, double def,
                       int required, double *out);
/* A list of numbers (a bare number counts as a list of one). *out freed with brisk_free. */
int lr_kw_list(const cJSON *kw, brisk_lr_kind k, const char *key, int required, double **out,
               size_t *n);
/* The class name and kwargs of a spec object; kwargs may be NULL (empty). */
int lr_spec_parts(const cJSON *spec, brisk_lr_kind *k, const cJSON **kwargs,
                  const cJSON **schedulers);

/* refine.c: numpy-compatible helpers (exposed for tests through the public API only). */
void lr_linspace(double start, double stop, size_t n, double *out);
void lr_interp(const double *x, size_t nx, const double *xp, const double *fp, size_t np_,
               double *out);

#endif
