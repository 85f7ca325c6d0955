/* torch.optim.lr_scheduler (PyTorch 1.13) emulated exactly: one optimizer param group
 * shared by every scheduler object, constructors that run in Python's order (children of
 * SequentialLR/ChainedScheduler first) with their side effects on the group, the initial
 * step every _LRScheduler takes in its constructor, and the recursive ("chainable")
 * get_lr forms. step(epoch) (used by SequentialLR at its milestones) takes the closed
 * forms (_get_closed_form_lr) where torch has them.
 *
 * Source of every formula: torch/optim/lr_scheduler.py of PyTorch 1.13 (class named in
 * each function). Operations are written in Python's evaluation order so that results
 * agree to the last bit where torch's own arithmetic is double precision. */
#include "lr_impl.h"

#include "brisk/core.h"

#include <math.h>
#include <string.h>

#define PI 3.141592653589793 /* math.pi */

static int has_closed_form(brisk_lr_kind k) {
    switch (k) {
    case BRISK_LR_STEP_LR:
    case BRISK_LR_MULTISTEP_LR:
    case BRISK_LR_CONSTANT_LR:
    case BRISK_LR_LINEAR_LR:
    case BRISK_LR_EXPONENTIAL_LR:
    case BRISK_LR_COSINE_ANNEALING_LR:
    case BRISK_LR_POLYNOMIAL_LR: return 1;
    default: return 0;
    }
}

static const char *nm(const lr_tnode *n) { return brisk_lr_kind_name(n->cls); }

static int zero_div(const lr_tnode *n, long le) {
    return brisk_error(BRISK_ENUMERIC,
                       "%s: division by zero at last_epoch %ld (torch raises ZeroDivisionError)",
                       nm(n), le);
}

/* Python's bisect.bisect_right on a list as given (sorted or not). */
static size_t bisect_right(const double *a, size_t n, double x) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (x < a[mid]) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* Python's x % y == 0 for ints or floats (y != 0). */
static int py_mod_is_zero(double x, double y) { return fmod(x, y) == 0.0; }

static double group_key(const lr_tgroup *g, int key) {
    switch (key) {
    case LR_G_INITIAL_LR: return g->initial_lr;
    case LR_G_MAX_LR: return g->max_lr;
    case LR_G_MIN_LR: return g->min_lr;
    case LR_G_MAX_MOMENTUM: return g->max_momentum;
    default: return g->base_momentum;
    }
}

/* OneCycleLR._annealing_cos / _annealing_linear. */
static double anneal(int cosine, double start, double end, double pct) {
    if (cosine) {
        double cos_out = cos(PI * pct) + 1;
        return end + (start - end) / 2.0 * cos_out;
    }
    return (end - start) * pct + start;
}

/* CyclicLR scale functions (_triangular_scale_fn, ...). */
static double cyclic_scale(const lr_tnode *n, double x) {
    switch (n->cyc_mode) {
    case 0: return 1.0;
    case 1: return 1 / pow(2.0, x - 1);
    default: return pow(n->gamma, x);
    }
}

/* get_lr() of the _LRScheduler subclasses (chainable forms); may write the group's
 * momentum (CyclicLR, OneCycleLR). */
static int get_lr(const lr_torch *t, lr_tstate *st, int i, double *out) {
    const lr_tnode *n = &t->node[i];
    lr_tnstate *s = &st->n[i];
    lr_tgroup *g = &st->g;
    long le = s->last_epoch;
    double lr = g->lr;
    switch (n->cls) {
    case BRISK_LR_STEP_LR: /* StepLR.get_lr */
        if (le == 0 || !py_mod_is_zero((double)le, n->step_size)) *out = lr;
        else *out = lr * n->gamma;
        return 0;
    case BRISK_LR_MULTISTEP_LR: { /* MultiStepLR.get_lr: Counter(milestones) */
        size_t c = 0;
        for (size_t k = 0; k < n->n_milestones; k++) c += n->milestones[k] == (double)le;
        *out = c ? lr * pow(n->gamma, (double)c) : lr;
        return 0;
    }
    case BRISK_LR_CONSTANT_LR: /* ConstantLR.get_lr */
        if (le == 0) *out = lr * n->factor;
        else if ((double)le > n->total_iters || (double)le != n->total_iters) *out = lr;
        else {
            if (n->factor == 0.0) return zero_div(n, le);
            *out = lr * (1.0 / n->factor);
        }
        return 0;
    case BRISK_LR_LINEAR_LR: { /* LinearLR.get_lr */
        if (le == 0) {
            *out = lr * n->start_factor;
            return 0;
        }
        if ((double)le > n->total_iters) {
            *out = lr;
            return 0;
        }
        double den = n->total_iters * n->start_factor + (double)(le - 1) * (n->end_factor - n->start_factor);
        if (den == 0.0) return zero_div(n, le);
        *out = lr * (1. + (n->end_factor - n->start_factor) / den);
        return 0;
    }
    case BRISK_LR_EXPONENTIAL_LR: /* ExponentialLR.get_lr */
        *out = le == 0 ? lr : lr * n->gamma;
        return 0;
    case BRISK_LR_POLYNOMIAL_LR: { /* PolynomialLR.get_lr */
        if (le == 0 || (double)le > n->total_iters) {
            *out = lr;
            return 0;
        }
        double a = 1.0 - (double)le / n->total_iters;
        double b = 1.0 - (double)(le - 1) / n->total_iters;
        if (b == 0.0) return zero_div(n, le);
        double base = a / b;
        if (base == 0.0 && n->power < 0) return zero_div(n, le);
        if (base < 0.0 && n->power != floor(n->power))
            return brisk_error(BRISK_ENUMERIC, "%s: negative base to a fractional power at last_epoch %ld",
                               nm(n), le);
        *out = lr * pow(base, n->power);
        return 0;
    }
    case BRISK_LR_COSINE_ANNEALING_LR: { /* CosineAnnealingLR.get_lr */
        double T = n->T_max, em = n->eta_min, b = s->base_lr;
        if (le == 0) *out = lr;
        else if (s->step_count == 1 && le > 0)
            *out = em + (b - em) * (1 + cos((double)le * PI / T)) / 2;
        else if (py_mod_is_zero((double)(le - 1) - T, 2 * T))
            *out = lr + (b - em) * (1 - cos(PI / T)) / 2;
        else {
            double den = 1 + cos(PI * (double)(le - 1) / T);
            if (den == 0.0) return zero_div(n, le);
            *out = (1 + cos(PI * (double)le / T)) / den * (lr - em) + em;
        }
        return 0;
    }
    case BRISK_LR_COSINE_WARM_RESTARTS: /* CosineAnnealingWarmRestarts.get_lr */
        *out = n->eta_min + (s->base_lr - n->eta_min) * (1 + cos(PI * s->T_cur / s->T_i)) / 2;
        return 0;
    case BRISK_LR_CYCLIC_LR: { /* CyclicLR.get_lr */
        double cycle = floor(1 + (double)le / n->total_size);
        double x = 1. + (double)le / n->total_size - cycle;
        double sf;
        if (x <= n->step_ratio) {
            if (n->step_ratio == 0.0) return zero_div(n, le);
            sf = x / n->step_ratio;
        } else {
            if (n->step_ratio == 1.0) return zero_div(n, le);
            sf = (x - 1) / (n->step_ratio - 1);
        }
        double arg = n->scale_by_cycle ? cycle : (double)le;
        double scale = cyclic_scale(n, arg);
        double base_height = (n->cyc_max_lr - s->base_lr) * sf;
        *out = s->base_lr + base_height * scale;
        if (n->cycle_momentum) {
            double mh = (n->cyc_max_momentum - s->cyc_base_momentum) * sf;
            g->momentum = n->cyc_max_momentum - mh * scale;
        }
        return 0;
    }
    case BRISK_LR_ONE_CYCLE_LR: { /* OneCycleLR.get_lr */
        if (le > n->total_steps)
            return brisk_error(BRISK_ESTATE,
                               "OneCycleLR: tried to step %ld times; the specified number of total "
                               "steps is %ld", le + 1, n->total_steps);
        double start_step = 0;
        for (int p = 0; p < n->n_phases; p++) {
            double end_step = n->end_step[p];
            if ((double)le <= end_step || p == n->n_phases - 1) {
                if (end_step - start_step == 0.0) return zero_div(n, le);
                double pct = ((double)le - start_step) / (end_step - start_step);
                *out = anneal(n->anneal_cos, group_key(g, n->ph_lr0[p]), group_key(g, n->ph_lr1[p]), pct);
                if (n->cycle_momentum)
                    g->momentum = anneal(n->anneal_cos, group_key(g, n->ph_m0[p]),
                                         group_key(g, n->ph_m1[p]), pct);
                return 0;
            }
            start_step = end_step;
        }
        return brisk_error(BRISK_ESTATE, "OneCycleLR: no phase"); /* not reached */
    }
    default:
        return brisk_error(BRISK_ESTATE, "%s has no get_lr", nm(n));
    }
}

/* _get_closed_form_lr() (used by step(epoch)). */
static int closed_form(const lr_torch *t, lr_tstate *st, int i, double *out) {
    const lr_tnode *n = &t->node[i];
    const lr_tnstate *s = &st->n[i];
    long le = s->last_epoch;
    double b = s->base_lr;
    switch (n->cls) {
    case BRISK_LR_STEP_LR:
        *out = b * pow(n->gamma, floor((double)le / n->step_size));
        return 0;
    case BRISK_LR_MULTISTEP_LR: {
        size_t c = 0; /* bisect_right(sorted(milestones), last_epoch) */
        for (size_t k = 0; k < n->n_milestones; k++) c += n->milestones[k] <= (double)le;
        *out = b * pow(n->gamma, (double)c);
        return 0;
    }
    case BRISK_LR_CONSTANT_LR:
        *out = b * (n->factor + ((double)le >= n->total_iters) * (1 - n->factor));
        return 0;
    case BRISK_LR_LINEAR_LR: {
        if (n->total_iters == 0.0) return zero_div(n, le);
        double m = n->total_iters < (double)le ? n->total_iters : (double)le;
        *out = b * (n->start_factor + (n->end_factor - n->start_factor) * m / n->total_iters);
        return 0;
    }
    case BRISK_LR_EXPONENTIAL_LR:
        *out = b * pow(n->gamma, (double)le);
        return 0;
    case BRISK_LR_COSINE_ANNEALING_LR:
        *out = n->eta_min + (b - n->eta_min) * (1 + cos(PI * (double)le / n->T_max)) / 2;
        return 0;
    case BRISK_LR_POLYNOMIAL_LR: {
        if (n->total_iters == 0.0) return zero_div(n, le);
        double m = n->total_iters < (double)le ? n->total_iters : (double)le;
        double base = 1.0 - m / n->total_iters;
        if (base == 0.0 && n->power < 0) return zero_div(n, le);
        *out = b * pow(base, n->power);
        return 0;
    }
    default: return get_lr(t, st, i, out);
    }
}

static int node_step(const lr_torch *t, lr_tstate *st, int i, int has_epoch, long epoch,
                     int has_metric, double metric);

/* _LRScheduler._initial_step(). */
static int initial_step(const lr_torch *t, lr_tstate *st, int i) {
    const lr_tnode *n = &t->node[i];
    if (n->cls == BRISK_LR_REDUCE_ON_PLATEAU)
        return brisk_error(BRISK_EUNSUPPORTED,
                           "ReduceLROnPlateau cannot be the first child of SequentialLR (torch "
                           "1.13: it has no _initial_step)");
    st->n[i].step_count = 0;
    return node_step(t, st, i, 0, 0, 0, 0.0);
}

/* ReduceLROnPlateau.step(metrics). */
static void plateau_step(const lr_tnode *n, lr_tnstate *s, lr_tgroup *g, double current) {
    s->last_epoch += 1;
    int better;
    if (!n->mode_max && !n->thr_abs) better = current < s->best * (1. - n->threshold);
    else if (!n->mode_max) better = current < s->best - n->threshold;
    else if (!n->thr_abs) better = current > s->best * (n->threshold + 1.);
    else better = current > s->best + n->threshold;
    if (better) {
        s->best = current;
        s->num_bad_epochs = 0;
    } else {
        s->num_bad_epochs += 1;
    }
    if (s->cooldown_counter > 0) {
        s->cooldown_counter -= 1;
        s->num_bad_epochs = 0;
    }
    if (s->num_bad_epochs > n->patience) {
        double old_lr = g->lr;
        double cand = old_lr * n->factor;
        double new_lr = n->min_lr > cand ? n->min_lr : cand; /* max(old*factor, min_lr) */
        if (old_lr - new_lr > n->eps) g->lr = new_lr;
        s->cooldown_counter = n->cooldown;
        s->num_bad_epochs = 0;
    }
}

/* CosineAnnealingWarmRestarts.step(epoch). */
static int cawr_step(const lr_torch *t, lr_tstate *st, int i, int has_epoch, long epoch) {
    const lr_tnode *n = &t->node[i];
    lr_tnstate *s = &st->n[i];
    if (!has_epoch && s->last_epoch < 0) {
        has_epoch = 1;
        epoch = 0;
    }
    if (!has_epoch) {
        epoch = s->last_epoch + 1;
        s->T_cur = s->T_cur + 1;
        if (s->T_cur >= s->T_i) {
            s->T_cur = s->T_cur - s->T_i;
            s->T_i = s->T_i * (double)n->T_mult;
        }
    } else {
        if (epoch < 0)
            return brisk_error(BRISK_EINVAL, "%s: expected non-negative epoch, but got %ld", nm(n), epoch);
        if (epoch >= n->T_0) {
            if (n->T_mult == 1) {
                s->T_cur = (double)(epoch % n->T_0);
            } else {
                double tm = (double)n->T_mult;
                long p = (long)(log((double)epoch / (double)n->T_0 * (tm - 1) + 1) / log(tm));
                s->T_cur = (double)epoch - (double)n->T_0 * (pow(tm, (double)p) - 1) / (tm - 1);
                s->T_i = (double)n->T_0 * pow(tm, (double)p);
            }
        } else {
            s->T_i = (double)n->T_0;
            s->T_cur = (double)epoch;
        }
    }
    s->last_epoch = epoch;
    double v;
    int rc = get_lr(t, st, i, &v);
    if (rc) return rc;
    st->g.lr = v;
    return 0;
}

static int node_step(const lr_torch *t, lr_tstate *st, int i, int has_epoch, long epoch,
                     int has_metric, double metric) {
    const lr_tnode *n = &t->node[i];
    lr_tnstate *s = &st->n[i];
    switch (n->cls) {
    case BRISK_LR_REDUCE_ON_PLATEAU:
        /* step(metrics, epoch=None): a positional step(0) from SequentialLR is metrics=0 */
        if (!has_metric) {
            if (!has_epoch)
                return brisk_error(BRISK_EINVAL,
                                   "ReduceLROnPlateau.step() needs a metric (torch: missing 1 "
                                   "required positional argument 'metrics')");
            metric = (double)epoch;
        }
        plateau_step(n, s, &st->g, metric);
        return 0;
    case BRISK_LR_COSINE_WARM_RESTARTS: return cawr_step(t, st, i, has_epoch, epoch);
    case BRISK_LR_SEQUENTIAL_LR: { /* SequentialLR.step() */
        if (has_epoch)
            return brisk_error(BRISK_EUNSUPPORTED,
                               "SequentialLR.step() takes no epoch argument (torch 1.13): a "
                               "SequentialLR cannot be a later child of another SequentialLR");
        s->last_epoch += 1;
        size_t idx = bisect_right(n->milestones, n->n_milestones, (double)s->last_epoch);
        int c = n->child[idx];
        if (idx > 0 && n->milestones[idx - 1] == (double)s->last_epoch)
            return node_step(t, st, c, 1, 0, 0, 0.0);
        return node_step(t, st, c, 0, 0, 0, 0.0);
    }
    case BRISK_LR_CHAINED_SCHEDULER: /* ChainedScheduler.step() */
        if (has_epoch)
            return brisk_error(BRISK_EUNSUPPORTED,
                               "ChainedScheduler.step() takes no epoch argument (torch 1.13)");
        for (int k = 0; k < n->n_children; k++) {
            int rc = node_step(t, st, n->child[k], 0, 0, 0, 0.0);
            if (rc) return rc;
        }
        return 0;
    default: { /* _LRScheduler.step(epoch=None) */
        s->step_count += 1;
        double v;
        int rc;
        if (!has_epoch) {
            s->last_epoch += 1;
            rc = get_lr(t, st, i, &v);
        } else {
            s->last_epoch = epoch;
            rc = has_closed_form(n->cls) ? closed_form(t, st, i, &v) : get_lr(t, st, i, &v);
        }
        if (rc) return rc;
        st->g.lr = v;
        return 0;
    }
    }
}

int lr_torch_step_root(const lr_torch *t, lr_tstate *st, double metric) {
    int plateau = t->node[t->root].cls == BRISK_LR_REDUCE_ON_PLATEAU;
    return node_step(t, st, t->root, 0, 0, plateau, metric);
}

/* ---- construction --------------------------------------------------------------- */

/* _LRScheduler.__init__ with last_epoch=-1: setdefault('initial_lr'), base_lrs, initial step. */
static int base_init(const lr_torch *t, lr_tstate *st, int i) {
    lr_tgroup *g = &st->g;
    if (!g->has_initial_lr) {
        g->initial_lr = g->lr;
        g->has_initial_lr = 1;
    }
    st->n[i].base_lr = g->initial_lr;
    st->n[i].last_epoch = -1;
    return initial_step(t, st, i);
}

static int check_last_epoch(brisk_lr_kind k, const cJSON *kw) {
    long le;
    int rc = lr_kw_int(kw, k, "last_epoch", -1, 0, &le, NULL);
    if (rc) return rc;
    if (le != -1)
        return brisk_error(BRISK_EUNSUPPORTED,
                           "%s: last_epoch=%ld: torch raises KeyError ('initial_lr' is not in the "
                           "param group) for a fresh optimizer; resume with brisk_lr_state_load",
                           brisk_lr_kind_name(k), le);
    return 0;
}

static int build_node(lr_torch *t, lr_tstate *st, const brisk_lr_options *o, const cJSON *spec,
                      int depth, int *out);

static int construct_leaf(lr_torch *t, lr_tstate *st, const brisk_lr_options *o, int i,
                          const cJSON *kw) {
    lr_tnode *n = &t->node[i];
    lr_tnstate *s = &st->n[i];
    brisk_lr_kind k = n->cls;
    const char *name = brisk_lr_kind_name(k);
    lr_tgroup *g = &st->g;
    int rc = 0;
    int none;
    switch (k) {
    case BRISK_LR_STEP_LR:
        if ((rc = lr_kw_num(kw, k, "step_size", 0, 1, &n->step_size, NULL)) ||
            (rc = lr_kw_num(kw, k, "gamma", 0.1, 0, &n->gamma, NULL)))
            return rc;
        if (n->step_size == 0.0)
            return brisk_error(BRISK_EINVAL, "StepLR: step_size must not be 0 (torch raises "
                                             "ZeroDivisionError at the first step)");
        return base_init(t, st, i);
    case BRISK_LR_MULTISTEP_LR:
        if ((rc = lr_kw_list(kw, k, "milestones", 1, &n->milestones, &n->n_milestones)) ||
            (rc = lr_kw_num(kw, k, "gamma", 0.1, 0, &n->gamma, NULL)))
            return rc;
        return base_init(t, st, i);
    case BRISK_LR_CONSTANT_LR:
        if ((rc = lr_kw_num(kw, k, "factor", 1.0 / 3, 0, &n->factor, NULL)) ||
            (rc = lr_kw_num(kw, k, "total_iters", 5, 0, &n->total_iters, NULL)))
            return rc;
        if (n->factor > 1.0 || n->factor < 0)
            return brisk_error(BRISK_EINVAL, "ConstantLR: factor=%g: constant multiplicative "
                                             "factor expected to be between 0 and 1", n->factor);
        return base_init(t, st, i);
    case BRISK_LR_LINEAR_LR:
        if ((rc = lr_kw_num(kw, k, "start_factor", 1.0 / 3, 0, &n->start_factor, NULL)) ||
            (rc = lr_kw_num(kw, k, "end_factor", 1.0, 0, &n->end_factor, NULL)) ||
            (rc = lr_kw_num(kw, k, "total_iters", 5, 0, &n->total_iters, NULL)))
            return rc;
        if (n->start_factor > 1.0 || n->start_factor <= 0)
            return brisk_error(BRISK_EINVAL, "LinearLR: start_factor=%g: starting multiplicative "
                                             "factor expected to be in (0, 1]", n->start_factor);
        if (n->end_factor > 1.0 || n->end_factor < 0)
            return brisk_error(BRISK_EINVAL, "LinearLR: end_factor=%g: ending multiplicative "
                                             "factor expected to be between 0 and 1", n->end_factor);
        return base_init(t, st, i);
    case BRISK_LR_EXPONENTIAL_LR:
        if ((rc = lr_kw_num(kw, k, "gamma", 0, 1, &n->gamma, NULL))) return rc;
        return base_init(t, st, i);
    case BRISK_LR_POLYNOMIAL_LR:
        if ((rc = lr_kw_num(kw, k, "total_iters", 5, 0, &n->total_iters, NULL)) ||
            (rc = lr_kw_num(kw, k, "power", 1.0, 0, &n->power, NULL)))
            return rc;
        return base_init(t, st, i);
    case BRISK_LR_COSINE_ANNEALING_LR:
        if ((rc = lr_kw_num(kw, k, "T_max", 0, 1, &n->T_max, NULL)) ||
            (rc = lr_kw_num(kw, k, "eta_min", 0, 0, &n->eta_min, NULL)))
            return rc;
        if (n->T_max == 0.0)
            return brisk_error(BRISK_EINVAL, "CosineAnnealingLR: T_max must not be 0 (torch "
                                             "raises ZeroDivisionError at the first step)");
        return base_init(t, st, i);
    case BRISK_LR_COSINE_WARM_RESTARTS: {
        double T0, Tm;
        if ((rc = lr_kw_num(kw, k, "T_0", 0, 1, &T0, NULL)) ||
            (rc = lr_kw_num(kw, k, "T_mult", 1, 0, &Tm, NULL)) ||
            (rc = lr_kw_num(kw, k, "eta_min", 0, 0, &n->eta_min, NULL)))
            return rc;
        if (T0 <= 0 || T0 != floor(T0) || T0 > 1e15)
            return brisk_error(BRISK_EINVAL, "%s: expected positive integer T_0, but got %g", name, T0);
        if (Tm < 1 || Tm != floor(Tm) || Tm > 1e15)
            return brisk_error(BRISK_EINVAL, "%s: expected integer T_mult >= 1, but got %g", name, Tm);
        n->T_0 = (long)T0;
        n->T_mult = (long)Tm;
        s->T_i = T0;
        s->T_cur = -1; /* T_cur = last_epoch */
        return base_init(t, st, i);
    }
    case BRISK_LR_CYCLIC_LR: {
        double up, down;
        const char *mode, *scale_mode;
        if ((rc = lr_kw_num_or_list1(kw, k, "base_lr", 0, 1, &n->cyc_base_lr)) ||
            (rc = lr_kw_num_or_list1(kw, k, "max_lr", 0, 1, &n->cyc_max_lr)) ||
            (rc = lr_kw_num(kw, k, "step_size_up", 2000, 0, &up, NULL)) ||
            (rc = lr_kw_num(kw, k, "step_size_down", 0, 0, &down, &none)))
            return rc;
        if (none) down = up;
        if ((rc = lr_kw_str(kw, k, "mode", "triangular", &mode)) ||
            (rc = lr_kw_num(kw, k, "gamma", 1.0, 0, &n->gamma, NULL)) ||
            (rc = lr_kw_str(kw, k, "scale_mode", "cycle", &scale_mode)) ||
            (rc = lr_kw_bool(kw, k, "cycle_momentum", 1, &n->cycle_momentum)) ||
            (rc = lr_kw_num_or_list1(kw, k, "base_momentum", 0.8, 0, &n->cyc_base_momentum_kw)) ||
            (rc = lr_kw_num_or_list1(kw, k, "max_momentum", 0.9, 0, &n->cyc_max_momentum)))
            return rc;
        const cJSON *sf = cJSON_GetObjectItemCaseSensitive(kw, "scale_fn");
        if (sf && !cJSON_IsNull(sf))
            return brisk_error(BRISK_EUNSUPPORTED, "CyclicLR: scale_fn is a Python callable; only "
                                                   "None is supported (use mode=...)");
        g->lr = n->cyc_base_lr; /* last_epoch == -1: group['lr'] = base_lr */
        n->total_size = up + down;
        if (n->total_size == 0.0)
            return brisk_error(BRISK_EINVAL, "CyclicLR: step_size_up + step_size_down is 0 "
                                             "(torch raises ZeroDivisionError)");
        n->step_ratio = up / n->total_size;
        if (!strcmp(mode, "triangular")) n->cyc_mode = 0;
        else if (!strcmp(mode, "triangular2")) n->cyc_mode = 1;
        else if (!strcmp(mode, "exp_range")) n->cyc_mode = 2;
        else
            return brisk_error(BRISK_EINVAL, "CyclicLR: mode='%s' is invalid and scale_fn is None "
                                             "(triangular, triangular2, exp_range)", mode);
        n->scale_by_cycle = n->cyc_mode != 2; /* torch overrides scale_mode without scale_fn */
        if (n->cycle_momentum) {
            if (o->optimizer == BRISK_LR_OPT_ADAM || o->optimizer == BRISK_LR_OPT_ADAMW)
                return brisk_error(BRISK_EUNSUPPORTED,
                                   "CyclicLR: optimizer must support momentum with `cycle_momentum` "
                                   "option enabled (torch 1.13 does not cycle %s's beta1); pass "
                                   "cycle_momentum=False", brisk_lr_optimizer_name(o->optimizer));
            g->momentum = n->cyc_base_momentum_kw;
            s->cyc_base_momentum = g->momentum;
            t->cycles_momentum = 1;
        }
        rc = base_init(t, st, i);
        if (rc) return rc;
        s->base_lr = n->cyc_base_lr; /* self.base_lrs = base_lrs after super().__init__ */
        return 0;
    }
    case BRISK_LR_ONE_CYCLE_LR: {
        long total, epochs, spe;
        int ts_none, ep_none, spe_none, three;
        double pct;
        const char *strategy;
        if ((rc = lr_kw_num_or_list1(kw, k, "max_lr", 0, 1, &n->oc_max_lr)) ||
            (rc = lr_kw_int(kw, k, "total_steps", 0, 0, &total, &ts_none)) ||
            (rc = lr_kw_int(kw, k, "epochs", 0, 0, &epochs, &ep_none)) ||
            (rc = lr_kw_int(kw, k, "steps_per_epoch", 0, 0, &spe, &spe_none)) ||
            (rc = lr_kw_num(kw, k, "pct_start", 0.3, 0, &pct, NULL)) ||
            (rc = lr_kw_str(kw, k, "anneal_strategy", "cos", &strategy)) ||
            (rc = lr_kw_bool(kw, k, "cycle_momentum", 1, &n->cycle_momentum)) ||
            (rc = lr_kw_num_or_list1(kw, k, "base_momentum", 0.85, 0, &n->oc_base_momentum)) ||
            (rc = lr_kw_num_or_list1(kw, k, "max_momentum", 0.95, 0, &n->oc_max_momentum)) ||
            (rc = lr_kw_num(kw, k, "div_factor", 25., 0, &n->div_factor, NULL)) ||
            (rc = lr_kw_num(kw, k, "final_div_factor", 1e4, 0, &n->final_div_factor, NULL)) ||
            (rc = lr_kw_bool(kw, k, "three_phase", 0, &three)))
            return rc;
        if (ts_none && ep_none && spe_none)
            return brisk_error(BRISK_EINVAL, "OneCycleLR: you must define either total_steps OR "
                                             "(epochs AND steps_per_epoch)");
        if (!ts_none) {
            if (total <= 0)
                return brisk_error(BRISK_EINVAL, "OneCycleLR: expected positive integer "
                                                 "total_steps, but got %ld", total);
        } else {
            if (ep_none || epochs <= 0)
                return brisk_error(BRISK_EINVAL, "OneCycleLR: expected positive integer epochs, "
                                                 "but got %s", ep_none ? "None" : "a value <= 0");
            if (spe_none || spe <= 0)
                return brisk_error(BRISK_EINVAL, "OneCycleLR: expected positive integer "
                                                 "steps_per_epoch, but got %s",
                                   spe_none ? "None" : "a value <= 0");
            total = epochs * spe;
        }
        n->total_steps = total;
        if (three) {
            n->n_phases = 3;
            n->end_step[0] = (double)(pct * (double)total) - 1;
            n->end_step[1] = (double)(2 * pct * (double)total) - 2;
            n->end_step[2] = (double)(total - 1);
            int l0[3] = {LR_G_INITIAL_LR, LR_G_MAX_LR, LR_G_INITIAL_LR};
            int l1[3] = {LR_G_MAX_LR, LR_G_INITIAL_LR, LR_G_MIN_LR};
            int m0[3] = {LR_G_MAX_MOMENTUM, LR_G_BASE_MOMENTUM, LR_G_MAX_MOMENTUM};
            int m1[3] = {LR_G_BASE_MOMENTUM, LR_G_MAX_MOMENTUM, LR_G_MAX_MOMENTUM};
            memcpy(n->ph_lr0, l0, sizeof l0);
            memcpy(n->ph_lr1, l1, sizeof l1);
            memcpy(n->ph_m0, m0, sizeof m0);
            memcpy(n->ph_m1, m1, sizeof m1);
        } else {
            n->n_phases = 2;
            n->end_step[0] = (double)(pct * (double)total) - 1;
            n->end_step[1] = (double)(total - 1);
            int l0[2] = {LR_G_INITIAL_LR, LR_G_MAX_LR}, l1[2] = {LR_G_MAX_LR, LR_G_MIN_LR};
            int m0[2] = {LR_G_MAX_MOMENTUM, LR_G_BASE_MOMENTUM};
            int m1[2] = {LR_G_BASE_MOMENTUM, LR_G_MAX_MOMENTUM};
            memcpy(n->ph_lr0, l0, sizeof l0);
            memcpy(n->ph_lr1, l1, sizeof l1);
            memcpy(n->ph_m0, m0, sizeof m0);
            memcpy(n->ph_m1, m1, sizeof m1);
        }
        if (pct < 0 || pct > 1)
            return brisk_error(BRISK_EINVAL, "OneCycleLR: expected float between 0 and 1 "
                                             "pct_start, but got %g", pct);
        if (!strcmp(strategy, "cos")) n->anneal_cos = 1;
        else if (!strcmp(strategy, "linear")) n->anneal_cos = 0;
        else
            return brisk_error(BRISK_EINVAL, "OneCycleLR: anneal_strategy must be one of 'cos' or "
                                             "'linear', instead got '%s'", strategy);
        if (n->div_factor == 0.0 || n->final_div_factor == 0.0)
            return brisk_error(BRISK_EINVAL, "OneCycleLR: %s is 0 (torch raises ZeroDivisionError)",
                               n->div_factor == 0.0 ? "div_factor" : "final_div_factor");
        g->initial_lr = n->oc_max_lr / n->div_factor;
        g->has_initial_lr = 1;
        g->max_lr = n->oc_max_lr;
        g->min_lr = g->initial_lr / n->final_div_factor;
        if (n->cycle_momentum) {
            g->momentum = n->oc_max_momentum; /* momentum, or betas[0] for Adam */
            g->max_momentum = n->oc_max_momentum;
            g->base_momentum = n->oc_base_momentum;
            t->cycles_momentum = 1;
        }
        return base_init(t, st, i);
    }
    case BRISK_LR_REDUCE_ON_PLATEAU: {
        const char *mode, *thr_mode;
        if ((rc = lr_kw_str(kw, k, "mode", "min", &mode)) ||
            (rc = lr_kw_num(kw, k, "factor", 0.1, 0, &n->factor, NULL)) ||
            (rc = lr_kw_num(kw, k, "patience", 10, 0, &n->patience, NULL)) ||
            (rc = lr_kw_num(kw, k, "threshold", 1e-4, 0, &n->threshold, NULL)) ||
            (rc = lr_kw_str(kw, k, "threshold_mode", "rel", &thr_mode)) ||
            (rc = lr_kw_num(kw, k, "cooldown", 0, 0, &n->cooldown, NULL)) ||
            (rc = lr_kw_num_or_list1(kw, k, "min_lr", 0, 0, &n->min_lr)) ||
            (rc = lr_kw_num(kw, k, "eps", 1e-8, 0, &n->eps, NULL)))
            return rc;
        if (n->factor >= 1.0)
            return brisk_error(BRISK_EINVAL, "ReduceLROnPlateau: factor=%g: factor should be < 1.0",
                               n->factor);
        if (!strcmp(mode, "min")) n->mode_max = 0;
        else if (!strcmp(mode, "max")) n->mode_max = 1;
        else return brisk_error(BRISK_EINVAL, "ReduceLROnPlateau: mode '%s' is unknown (min, max)", mode);
        if (!strcmp(thr_mode, "rel")) n->thr_abs = 0;
        else if (!strcmp(thr_mode, "abs")) n->thr_abs = 1;
        else
            return brisk_error(BRISK_EINVAL, "ReduceLROnPlateau: threshold mode '%s' is unknown "
                                             "(rel, abs)", thr_mode);
        s->best = n->mode_max ? -INFINITY : INFINITY; /* mode_worse */
        s->cooldown_counter = 0;
        s->num_bad_epochs = 0;
        s->last_epoch = 0;
        return 0;
    }
    default:
        return brisk_error(BRISK_EUNSUPPORTED, "%s is not a torch scheduler", name);
    }
}

static int build_node(lr_torch *t, lr_tstate *st, const brisk_lr_options *o, const cJSON *spec,
                      int depth, int *out) {
    brisk_lr_kind k;
    const cJSON *kw, *sched;
    int rc = lr_spec_parts(spec, &k, &kw, &sched);
    if (rc) return rc;
    if (!brisk_lr_kind_is_torch(k))
        return brisk_error(BRISK_EUNSUPPORTED,
                           "'%s' is a brisk schedule; only torch classes can be children of "
                           "SequentialLR/ChainedScheduler", brisk_lr_kind_name(k));
    if (depth > 8) return brisk_error(BRISK_EUNSUPPORTED, "schedulers nested too deeply");
    if ((rc = lr_check_kwargs(k, kw, depth == 0))) return rc;
    if (k != BRISK_LR_CHAINED_SCHEDULER && k != BRISK_LR_REDUCE_ON_PLATEAU &&
        (rc = check_last_epoch(k, kw)))
        return rc;
    if (t->n_nodes >= LR_MAX_NODES)
        return brisk_error(BRISK_EUNSUPPORTED, "more than %d nested schedulers", LR_MAX_NODES);
    int i = t->n_nodes++;
    lr_tnode *n = &t->node[i];
    n->cls = k;
    *out = i;
    if (k != BRISK_LR_SEQUENTIAL_LR && k != BRISK_LR_CHAINED_SCHEDULER) {
        if (sched)
            return brisk_error(BRISK_EUNSUPPORTED, "%s takes no 'schedulers'", brisk_lr_kind_name(k));
        rc = construct_leaf(t, st, o, i, kw);
        if (rc && strncmp(brisk_last_error(), brisk_lr_kind_name(k), strlen(brisk_lr_kind_name(k))))
            brisk_error_prefix(rc, "%s: ", brisk_lr_kind_name(k));
        return rc;
    }
    const char *name = brisk_lr_kind_name(k);
    int nc = sched ? cJSON_GetArraySize(sched) : 0;
    if (nc == 0)
        return brisk_error(BRISK_EINVAL, "%s: 'schedulers' must list at least one schedule", name);
    if (nc > LR_MAX_NODES) return brisk_error(BRISK_EUNSUPPORTED, "%s: too many schedulers", name);
    /* Python evaluates the children (constructing them on the shared optimizer) first. */
    const cJSON *c;
    cJSON_ArrayForEach(c, sched) {
        int ci;
        rc = build_node(t, st, o, c, depth + 1, &ci);
        if (rc) return brisk_error_prefix(rc, "%s child %d: ", name, n->n_children);
        t->node[i].child[t->node[i].n_children++] = ci;
    }
    n = &t->node[i];
    if (k == BRISK_LR_CHAINED_SCHEDULER) return 0; /* ChainedScheduler.__init__ steps nothing */
    /* SequentialLR.__init__ */
    if ((rc = lr_kw_list(kw, k, "milestones", 1, &n->milestones, &n->n_milestones))) return rc;
    if (n->n_milestones != (size_t)nc - 1)
        return brisk_error(BRISK_EINVAL,
                           "SequentialLR expects number of schedulers provided to be one more than "
                           "the number of milestone points, but got number of schedulers %d and "
                           "the number of milestones to be equal to %zu", nc, n->n_milestones);
    st->n[i].last_epoch = 0; /* last_epoch + 1 */
    if (!st->g.has_initial_lr)
        return brisk_error(BRISK_EINVAL, "SequentialLR: param group has no 'initial_lr' (torch "
                                         "raises KeyError)");
    st->g.lr = st->g.initial_lr;
    for (int q = 0; q < n->n_children; q++) {
        int ci = n->child[q];
        if (t->node[ci].cls == BRISK_LR_CHAINED_SCHEDULER)
            return brisk_error(BRISK_EUNSUPPORTED, "SequentialLR: a ChainedScheduler child has no "
                                                   "last_epoch (torch 1.13 raises AttributeError)");
        st->n[ci].last_epoch -= 1; /* "undo" the step of their constructors */
    }
    rc = initial_step(t, st, n->child[0]);
    if (rc) return brisk_error_prefix(rc, "SequentialLR: ");
    return 0;
}

int lr_torch_build(const cJSON *spec, const brisk_lr_options *o, lr_torch **out, lr_tstate *st) {
    lr_torch *t = brisk_calloc(1, sizeof *t);
    if (!t) return BRISK_ENOMEM;
    memset(st, 0, sizeof *st);
    st->g.lr = o->base_lr;
    st->g.momentum = o->base_momentum;
    t->optimizer = o->optimizer;
    int root = 0;
    int rc = build_node(t, st, o, spec, 0, &root);
    if (rc) {
        lr_torch_free(t);
        *out = NULL;
        return rc;
    }
    t->root = root;
    *out = t;
    return 0;
}

void lr_torch_free(lr_torch *t) {
    if (!t) return;
    for (int i = 0; i < t->n_nodes; i++) brisk_free(t->node[i].milestones);
    brisk_free(t);
}
