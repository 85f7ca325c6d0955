/* Semi-discrete optimal transport by Monte Carlo gradient descent on the dual potential,
 * as in DPM-OT (Li et al., ICCV 2023, Sec. 3.2 and Alg. 1) and AE-OT (An et al., ICLR
 * 2020), which it builds on:
 *   cell_i(h) = {x : <x, y_i> + h_i >= <x, y_j> + h_j for all j},
 *   E(h) = E_x[max_i(<x, y_i> + h_i)] - sum_i h_i / N,   dE/dh_i = mu(cell_i) - 1/N.
 * The cell masses mu(cell_i) are estimated from M source samples per iteration; the
 * scores <x, y_i> come from blocked sgemm with a running argmax, so only one
 * (block_samples x block_targets) tile of the N x M score matrix exists per thread. */
#include "ot_impl.h"

#include "brisk/core.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#ifdef BRISK_OPENMP
#include <omp.h>
#endif

double ot_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- names ---------------------------------------------------------------------- */

static const char *const source_names[BRISK_OT_SOURCE_COUNT] = {"normal", "uniform"};
static const char *const optimizer_names[BRISK_OT_OPT_COUNT] = {"authors", "adam"};

const char *brisk_ot_source_name(brisk_ot_source s) {
    return (unsigned)s < BRISK_OT_SOURCE_COUNT ? source_names[s] : "unknown";
}

int brisk_ot_source_from_name(const char *name, brisk_ot_source *out) {
    for (int i = 0; i < BRISK_OT_SOURCE_COUNT; i++)
        if (name && !strcmp(name, source_names[i])) {
            *out = (brisk_ot_source)i;
            return 0;
        }
    return brisk_error(BRISK_EUNSUPPORTED, "unknown OT source '%s' (valid: normal, uniform)",
                       name ? name : "(null)");
}

const char *brisk_ot_optimizer_name(brisk_ot_optimizer o) {
    return (unsigned)o < BRISK_OT_OPT_COUNT ? optimizer_names[o] : "unknown";
}

int brisk_ot_optimizer_from_name(const char *name, brisk_ot_optimizer *out) {
    for (int i = 0; i < BRISK_OT_OPT_COUNT; i++)
        if (name && !strcmp(name, optimizer_names[i])) {
            *out = (brisk_ot_optimizer)i;
            return 0;
        }
    return brisk_error(BRISK_EUNSUPPORTED, "unknown OT optimizer '%s' (valid: authors, adam)",
                       name ? name : "(null)");
}

/* ---- source measure ------------------------------------------------------------- */

void brisk_ot_source_draw(brisk_ot_source src, uint64_t seed, uint64_t sample, uint32_t stream,
                          size_t d, float *out, double *tmp) {
    if (src == BRISK_OT_SOURCE_UNIFORM) {
        BRISK_ASSERT(tmp != NULL);
        brisk_randu(seed, sample, stream, d, tmp);
        for (size_t j = 0; j < d; j++) out[j] = (float)(2.0 * tmp[j] - 1.0);
    } else {
        brisk_randn_f32(seed, sample, stream, d, out);
    }
}

/* ---- handle --------------------------------------------------------------------- */

int brisk_ot_targets_check(const float *y, size_t n, size_t d, const char *what) {
    if (!what) what = "targets";
    if (n == 0) return brisk_error(BRISK_ESHAPE, "%s: no targets (N = 0)", what);
    if (d == 0) return brisk_error(BRISK_ESHAPE, "%s: targets have dimension D = 0", what);
    BRISK_ASSERT(y != NULL);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            float v = y[i * d + j];
            if (!isfinite(v))
                return brisk_error(BRISK_ENUMERIC, "%s: target %zu, element %zu is %s", what, i,
                                   j, isnan(v) ? "NaN" : "infinite");
        }
    return 0;
}

int brisk_ot_create(const float *y, size_t n, size_t d, brisk_ot_source src, const char *what,
                    brisk_ot **out) {
    BRISK_ASSERT(out != NULL);
    *out = NULL;
    if ((unsigned)src >= BRISK_OT_SOURCE_COUNT)
        return brisk_error(BRISK_EINVAL, "OT source %d is out of range", (int)src);
    int rc = brisk_ot_targets_check(y, n, d, what);
    if (rc) return rc;
    if (n > (size_t)INT32_MAX || d > (size_t)INT32_MAX)
        return brisk_error(BRISK_EUNSUPPORTED, "%s: %zu x %zu targets exceed the BLAS int range",
                           what ? what : "targets", n, d);
    brisk_ot *ot = brisk_calloc(1, sizeof *ot);
    if (!ot) return BRISK_ENOMEM;
    ot->y = y;
    ot->n = n;
    ot->d = d;
    ot->src = src;
    ot->bm = OT_DEFAULT_BLOCK_SAMPLES;
    ot->bn = OT_DEFAULT_BLOCK_TARGETS;
    snprintf(ot->what, sizeof ot->what, "%s", what ? what : "targets");
    *out = ot;
    return 0;
}

void brisk_ot_free(brisk_ot *ot) { brisk_free(ot); }
size_t brisk_ot_num_targets(const brisk_ot *ot) { return ot->n; }
size_t brisk_ot_dim(const brisk_ot *ot) { return ot->d; }
brisk_ot_source brisk_ot_get_source(const brisk_ot *ot) { return ot->src; }
const float *brisk_ot_targets(const brisk_ot *ot) { return ot->y; }

void brisk_ot_set_blocking(brisk_ot *ot, size_t block_samples, size_t block_targets) {
    ot->bm = block_samples ? block_samples : OT_DEFAULT_BLOCK_SAMPLES;
    ot->bn = block_targets ? block_targets : OT_DEFAULT_BLOCK_TARGETS;
    if (ot->bm > (size_t)INT32_MAX) ot->bm = OT_DEFAULT_BLOCK_SAMPLES;
    if (ot->bn > (size_t)INT32_MAX) ot->bn = OT_DEFAULT_BLOCK_TARGETS;
}

/* ---- workspace ------------------------------------------------------------------ */

static int num_threads(void) {
    int nt = brisk_get_num_threads();
    return nt > 0 ? nt : 1;
}

int ot_ws_init(ot_ws *w, const brisk_ot *ot, size_t max_m) {
    memset(w, 0, sizeof *w);
    w->nt = num_threads();
    size_t bn = ot->bn < ot->n ? ot->bn : ot->n;
    size_t bm = ot->bm < max_m ? ot->bm : (max_m ? max_m : 1); /* rows per block <= max_m */
    w->t = brisk_calloc((size_t)w->nt, sizeof *w->t);
    w->hf = brisk_malloc(ot->n * sizeof *w->hf);
    w->nblocks_cap = max_m / ot->bm + 1;
    w->part = brisk_malloc(w->nblocks_cap * sizeof *w->part);
    if (!w->t || !w->hf || !w->part) goto nomem;
    for (int t = 0; t < w->nt; t++) {
        ot_thread_ws *tw = &w->t[t];
        tw->x = brisk_malloc(bm * ot->d * sizeof *tw->x);
        tw->s = brisk_malloc(bm * bn * sizeof *tw->s);
        tw->bval = brisk_malloc(bm * sizeof *tw->bval);
        tw->bidx = brisk_malloc(bm * sizeof *tw->bidx);
        tw->counts = brisk_malloc(ot->n * sizeof *tw->counts);
        tw->tmp = brisk_malloc(ot->d * sizeof *tw->tmp);
        if (!tw->x || !tw->s || !tw->bval || !tw->bidx || !tw->counts || !tw->tmp) goto nomem;
    }
    return 0;
nomem:
    ot_ws_free(w);
    return brisk_error(BRISK_ENOMEM, "OT workspace (%zu targets x %zu dims): out of memory",
                       ot->n, ot->d);
}

void ot_ws_free(ot_ws *w) {
    if (w->t)
        for (int t = 0; t < w->nt; t++) {
            ot_thread_ws *tw = &w->t[t];
            brisk_free(tw->x);
            brisk_free(tw->s);
            brisk_free(tw->bval);
            brisk_free(tw->bidx);
            brisk_free(tw->counts);
            brisk_free(tw->tmp);
        }
    brisk_free(w->t);
    brisk_free(w->hf);
    brisk_free(w->part);
    memset(w, 0, sizeof *w);
}

/* ---- the kernel ----------------------------------------------------------------- */

/* Row-wise argmax of <x_r, y_i> + hf_i over all targets for `rows` source rows x
 * (rows x d, row-major). Scores come from sgemm one target block at a time (S = X Y_b^T,
 * rows x nb); the running best keeps the first maximum, so ties go to the lowest index. */
static void argmax_rows(const brisk_ot *ot, const float *hf, const float *x, size_t rows,
                        float *s, float *bval, int64_t *bidx) {
    const size_t n = ot->n, d = ot->d;
    for (size_t r = 0; r < rows; r++) {
        bval[r] = -INFINITY;
        bidx[r] = 0;
    }
    for (size_t j0 = 0; j0 < n; j0 += ot->bn) {
        size_t nb = n - j0 < ot->bn ? n - j0 : ot->bn;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)nb, (int)d, 1.0f, x,
                    (int)d, ot->y + j0 * d, (int)d, 0.0f, s, (int)nb);
        const float *hh = hf + j0;
        for (size_t r = 0; r < rows; r++) {
            const float *row = s + r * nb;
            float mx = -INFINITY;
            /* max is exact in any order (scores are finite), so let it vectorise */
#ifdef BRISK_OPENMP
#pragma omp simd reduction(max : mx)
#endif
            for (size_t j = 0; j < nb; j++) {
                float v = row[j] + hh[j];
                mx = v > mx ? v : mx;
            }
            if (mx > bval[r]) {
                size_t j = 0;
                while (j + 1 < nb && row[j] + hh[j] != mx) j++;
                bval[r] = mx;
                bidx[r] = (int64_t)(j0 + j);
            }
        }
    }
}

/* OpenBLAS runs single-threaded inside our parallel region (we parallelise over source
 * blocks); the caller's setting is restored afterwards. One BLAS thread per block also
 * keeps every score bitwise independent of the thread count. */
int ot_run(const brisk_ot *ot, ot_ws *w, const double *h, const ot_rows *rows, size_t m,
           int64_t *counts, int64_t *idx, double *energy) {
    const size_t n = ot->n, d = ot->d, bm = ot->bm;
    /* Centre h in float64, then round to float32: scores use h - mean(h), so adding a
     * constant to h changes no assignment. */
    double mean = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(h[i]))
            return brisk_error(BRISK_ENUMERIC, "%s: potential h[%zu] is not finite", ot->what, i);
        mean += h[i];
    }
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) w->hf[i] = (float)(h[i] - mean);
    size_t nblocks = (m + bm - 1) / bm;
    BRISK_ASSERT(nblocks <= w->nblocks_cap);

    int saved_blas = openblas_get_num_threads();
    if (saved_blas != 1) openblas_set_num_threads(1);
    int nt = w->nt;
#ifdef BRISK_OPENMP
#pragma omp parallel num_threads(nt)
#endif
    {
#ifdef BRISK_OPENMP
        int tid = omp_get_thread_num();
#else
        int tid = 0;
#endif
        ot_thread_ws *tw = &w->t[tid < nt ? tid : 0];
        if (counts) memset(tw->counts, 0, n * sizeof *tw->counts);
#ifdef BRISK_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (long bl = 0; bl < (long)nblocks; bl++) {
            size_t r0 = (size_t)bl * bm;
            size_t nr = m - r0 < bm ? m - r0 : bm;
            const float *x = tw->x;
            if (rows->kind == OT_ROWS_F32) {
                x = rows->xf + r0 * d;
            } else if (rows->kind == OT_ROWS_F64) {
                for (size_t k = 0; k < nr * d; k++) tw->x[k] = (float)rows->xd[r0 * d + k];
            } else {
                for (size_t r = 0; r < nr; r++)
                    brisk_ot_source_draw(ot->src, rows->seed, rows->first + r0 + r, rows->stream,
                                         d, tw->x + r * d, tw->tmp);
            }
            argmax_rows(ot, w->hf, x, nr, tw->s, tw->bval, tw->bidx);
            double sum = 0;
            for (size_t r = 0; r < nr; r++) {
                sum += (double)tw->bval[r];
                if (counts) tw->counts[tw->bidx[r]]++;
                if (idx) idx[r0 + r] = tw->bidx[r];
            }
            w->part[bl] = sum;
        }
    }
    if (saved_blas != 1) openblas_set_num_threads(saved_blas);

    /* Integer counts add up exactly in any order; the energy sums per-block partials in
     * block order, so both are independent of the thread count. */
    if (counts) {
        memcpy(counts, w->t[0].counts, n * sizeof *counts);
        for (int t = 1; t < nt; t++)
            for (size_t i = 0; i < n; i++) counts[i] += w->t[t].counts[i];
    }
    if (energy) {
        double e = 0;
        for (size_t b = 0; b < nblocks; b++) e += w->part[b];
        *energy = m ? e / (double)m : 0.0;
    }
    return 0;
}

/* ---- public scoring ------------------------------------------------------------- */

int brisk_ot_cells(const brisk_ot *ot, const double *h, uint64_t seed, uint32_t stream,
                   uint64_t first_sample, size_t m, int64_t *counts, double *energy) {
    BRISK_ASSERT(ot && h && counts);
    if (m == 0) return brisk_error(BRISK_EINVAL, "OT cells: no Monte Carlo samples (M = 0)");
    ot_ws w;
    int rc = ot_ws_init(&w, ot, m);
    if (rc) return rc;
    ot_rows rows = {.kind = OT_ROWS_DRAW, .seed = seed, .stream = stream, .first = first_sample};
    rc = ot_run(ot, &w, h, &rows, m, counts, NULL, energy);
    ot_ws_free(&w);
    return rc;
}

int brisk_ot_assign_draws(const brisk_ot *ot, const double *h, uint64_t seed, uint32_t stream,
                          uint64_t first_sample, size_t m, int64_t *idx) {
    BRISK_ASSERT(ot && h && (idx || m == 0));
    if (m == 0) return 0;
    ot_ws w;
    int rc = ot_ws_init(&w, ot, m);
    if (rc) return rc;
    ot_rows rows = {.kind = OT_ROWS_DRAW, .seed = seed, .stream = stream, .first = first_sample};
    rc = ot_run(ot, &w, h, &rows, m, NULL, idx, NULL);
    ot_ws_free(&w);
    return rc;
}

int brisk_ot_assign(const brisk_ot *ot, const double *h, const float *x, size_t b, int64_t *idx) {
    BRISK_ASSERT(ot && h && idx && (x || b == 0));
    if (b == 0) return 0;
    ot_ws w;
    int rc = ot_ws_init(&w, ot, b);
    if (rc) return rc;
    ot_rows rows = {.kind = OT_ROWS_F32, .xf = x};
    rc = ot_run(ot, &w, h, &rows, b, NULL, idx, NULL);
    ot_ws_free(&w);
    return rc;
}

int brisk_ot_map(const brisk_ot *ot, const double *h, const double *x, size_t b, int64_t *idx,
                 double *out) {
    BRISK_ASSERT(ot && h && (x || b == 0));
    if (b == 0) return 0;
    int64_t *own = NULL;
    if (!idx) {
        own = brisk_malloc(b * sizeof *own);
        if (!own) return BRISK_ENOMEM;
        idx = own;
    }
    ot_ws w;
    int rc = ot_ws_init(&w, ot, b);
    if (!rc) {
        ot_rows rows = {.kind = OT_ROWS_F64, .xd = x};
        rc = ot_run(ot, &w, h, &rows, b, NULL, idx, NULL);
        ot_ws_free(&w);
    }
    if (!rc && out)
        for (size_t r = 0; r < b; r++) {
            const float *y = ot->y + (size_t)idx[r] * ot->d;
            for (size_t j = 0; j < ot->d; j++) out[r * ot->d + j] = (double)y[j];
        }
    brisk_free(own);
    return rc;
}

/* ---- fitting -------------------------------------------------------------------- */

void brisk_ot_params_default(brisk_ot_params *p) {
    memset(p, 0, sizeof *p);
    p->optimizer = BRISK_OT_OPT_AUTHORS;
    p->lr = 0.1; /* the DPM-OT code's default lr_ot */
    p->beta1 = 0.9;
    p->beta2 = 0.999;
    p->eps = 1e-8;
    p->tol = 8e-4; /* DPM-OT: stop when ||g - 1/N|| < 8e-4 with no empty cell */
    p->max_iter = 2000;
    p->samples_per_iter = 0; /* 10 N, as the authors */
    p->patience = 50;
    p->max_doublings = 3;
    p->lr_decay = 0.8;
}

static int check_params(const brisk_ot_params *p) {
    if ((unsigned)p->optimizer >= BRISK_OT_OPT_COUNT)
        return brisk_error(BRISK_EINVAL, "OT fit: optimizer %d is out of range", (int)p->optimizer);
    if (!(p->lr > 0) || !isfinite(p->lr))
        return brisk_error(BRISK_EINVAL, "OT fit: lr must be positive (got %g)", p->lr);
    if (!(p->beta1 >= 0 && p->beta1 < 1) || !(p->beta2 >= 0 && p->beta2 < 1))
        return brisk_error(BRISK_EINVAL, "OT fit: Adam betas must lie in [0, 1) (got %g, %g)",
                           p->beta1, p->beta2);
    if (!(p->eps >= 0) || !isfinite(p->eps))
        return brisk_error(BRISK_EINVAL, "OT fit: eps must be >= 0 (got %g)", p->eps);
    if (!(p->tol >= 0) || !isfinite(p->tol))
        return brisk_error(BRISK_EINVAL, "OT fit: tol must be >= 0 (got %g)", p->tol);
    if (p->max_iter < 0)
        return brisk_error(BRISK_EINVAL, "OT fit: max_iter must be >= 0 (got %d)", p->max_iter);
    if (p->patience < 1)
        return brisk_error(BRISK_EINVAL, "OT fit: patience must be >= 1 (got %d)", p->patience);
    if (p->max_doublings < 0 || p->max_doublings > 20)
        return brisk_error(BRISK_EINVAL, "OT fit: max_doublings must lie in 0..20 (got %d)",
                           p->max_doublings);
    if (!(p->lr_decay > 0) || !isfinite(p->lr_decay))
        return brisk_error(BRISK_EINVAL, "OT fit: lr_decay must be positive (got %g)",
                           p->lr_decay);
    return 0;
}

int brisk_ot_fit(const brisk_ot *ot, const brisk_ot_params *p, double *h, brisk_ot_result *res) {
    BRISK_ASSERT(ot && p && h);
    brisk_ot_result r_local;
    if (!res) res = &r_local;
    memset(res, 0, sizeof *res);
    int rc = check_params(p);
    if (rc) return rc;
    const size_t n = ot->n;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(h[i]))
            return brisk_error(BRISK_ENUMERIC, "OT fit: initial h[%zu] is not finite", i);
    if (!p->samples_per_iter && n > SIZE_MAX / 160)
        return brisk_error(BRISK_EINVAL, "OT fit: 10 N samples per iteration overflow");
    size_t m = p->samples_per_iter ? p->samples_per_iter : 10 * n;
    size_t max_m = m;
    for (int k = 0; k < p->max_doublings; k++) {
        if (max_m > SIZE_MAX / 2 / sizeof(float))
            return brisk_error(BRISK_EINVAL, "OT fit: %zu samples per iteration overflow", m);
        max_m *= 2;
    }

    const double t0 = ot_now(), inv_n = 1.0 / (double)n;
    double lr = p->lr, best = INFINITY;
    int doublings = 0;
    ot_ws w;
    rc = ot_ws_init(&w, ot, max_m);
    if (rc) return rc;
    int64_t *counts = brisk_malloc(n * sizeof *counts);
    double *grad = brisk_malloc(n * sizeof *grad);
    double *am = brisk_calloc(n, sizeof *am);
    double *av = brisk_calloc(n, sizeof *av);
    if (!counts || !grad || !am || !av) {
        rc = BRISK_ENOMEM;
        goto done;
    }

    double b1t = 1.0, b2t = 1.0; /* beta1^t, beta2^t for the bias correction */
    int bad = 0;
    uint64_t cursor = p->first_sample;
    ot_rows rows = {.kind = OT_ROWS_DRAW, .seed = p->seed, .stream = BRISK_OT_STREAM_FIT};
    res->best_grad_norm = INFINITY;
    for (int it = 1; it <= p->max_iter; it++) {
        rows.first = cursor;
        double energy;
        rc = ot_run(ot, &w, h, &rows, m, counts, NULL, &energy);
        if (rc) goto done;
        cursor += m;
        res->samples_used += m;

        /* g_i - 1/N and its norm (DPM-OT Alg. 1). */
        double nrm2 = 0, gmax = 0;
        size_t empty = 0;
        for (size_t i = 0; i < n; i++) {
            grad[i] = (double)counts[i] / (double)m - inv_n;
            nrm2 += grad[i] * grad[i];
            if (fabs(grad[i]) > gmax) gmax = fabs(grad[i]);
            empty += counts[i] == 0;
        }
        double nrm = sqrt(nrm2);
        res->iterations = it;
        res->grad_norm = nrm;
        res->empty = empty;
        if (nrm < res->best_grad_norm) res->best_grad_norm = nrm;

        brisk_ot_iter info = {.iter = it, .grad_norm = nrm, .max_grad = gmax, .empty = empty,
                              .m = m, .lr = lr, .energy = energy, .doublings = doublings,
                              .event = BRISK_OT_EVENT_NONE, .h = h};
        int converged = nrm < p->tol && empty == 0;
        if (converged) {
            info.event = BRISK_OT_EVENT_CONVERGED;
        } else {
            /* Stall handling as the DPM-OT code: a new best norm resets the counter;
             * `patience` iterations without one double M and decay lr (at most
             * max_doublings times), and the best norm starts afresh. */
            if (nrm < best) {
                best = nrm;
                bad = 0;
            } else if (++bad >= p->patience && doublings < p->max_doublings) {
                m *= 2;
                lr *= p->lr_decay;
                doublings++;
                bad = 0;
                best = INFINITY;
                info.event = BRISK_OT_EVENT_DOUBLED;
            }
        }
        info.lr = lr; /* the step below uses the decayed lr after a doubling */
        info.doublings = doublings;
        info.seconds = ot_now() - t0;
        if (p->progress && p->progress(p->progress_ctx, &info)) {
            rc = brisk_error(BRISK_ESTATE, "OT fit: stopped by the progress callback at "
                                           "iteration %d", it);
            goto done;
        }
        if (converged) {
            res->converged = 1;
            break;
        }

        /* Adam on the energy (minimise: h -= step). "authors": no bias correction
         * (DPM-OT's train_ot); "adam": Kingma & Ba (2015) Alg. 1. Then h -= mean(h). */
        double c1 = 1.0, c2 = 1.0;
        if (p->optimizer == BRISK_OT_OPT_ADAM) {
            b1t *= p->beta1;
            b2t *= p->beta2;
            c1 = 1.0 / (1.0 - b1t);
            c2 = 1.0 / (1.0 - b2t);
        }
        double mean = 0;
        for (size_t i = 0; i < n; i++) {
            am[i] = p->beta1 * am[i] + (1.0 - p->beta1) * grad[i];
            av[i] = p->beta2 * av[i] + (1.0 - p->beta2) * grad[i] * grad[i];
            h[i] -= lr * (am[i] * c1) / (sqrt(av[i] * c2) + p->eps);
            mean += h[i];
        }
        mean /= (double)n;
        for (size_t i = 0; i < n; i++) h[i] -= mean;
    }
done:
    res->doublings = doublings;
    res->m = m;
    res->lr = lr;
    res->seconds = ot_now() - t0;
    ot_ws_free(&w);
    brisk_free(counts);
    brisk_free(grad);
    brisk_free(am);
    brisk_free(av);
    return rc;
}
