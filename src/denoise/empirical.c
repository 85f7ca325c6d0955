/* The empirical (memorising) denoiser: the exact posterior mean over a finite point set.
 *
 * For data uniform on points y_1..y_n and x = sqrt(a) x0 + sqrt(1-a) eps, Bayes gives
 *     w_i(x) = softmax_i( -||x - sqrt(a) y_i||^2 / (2 (1-a)) ),   E[x0 | x] = sum_i w_i y_i
 * (the "optimal denoiser" of Karras et al. 2022, eq. 57, written in alpha-bar). The
 * per-row constant ||x||^2 cancels in the softmax, so the logits are
 *     l_i = (sqrt(a) <x, y_i> - a ||y_i||^2 / 2) / (1 - a),
 * and the work is two GEMMs per block of points: G = X Y_blk^T for the cross terms and
 * ACC += P Y_blk for the weighted sum. Blocks are combined with an online softmax (running
 * max per row; earlier partial sums are rescaled by exp(old_max - new_max) when the max
 * grows), so memory stays at batch x block and nothing overflows. Logits are always
 * formed in float64 (they reach ~1e7 when 1 - a ~ 1e-4); only the GEMM operands are
 * float32 in the f32 mode.
 *
 * Threads: the GEMMs run on OpenBLAS's own threads. The softmax between them is O(batch x
 * block) against the GEMMs' O(batch x block x dim); splitting it over OpenMP threads was
 * measured slower on 2 cores (64 samples x 20,000 images: 6.7 s user + 2.0 s sys against
 * 5.2 s + 0.5 s single-threaded, the OpenMP team contending with OpenBLAS's threads), so it
 * only goes parallel for blocks of 2^21 logits or more. */
#include "denoise_impl.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

typedef struct empirical_ctx {
    size_t n, dim, block;
    int f64;
    brisk_prediction pred;
    void *points;  /* (n, dim) float or double */
    double *ynorm; /* (n): ||y_i||^2 of the stored (rounded) points */
    /* workspace for batches up to cap rows */
    size_t cap;
    void *xw;      /* (cap, dim) model input in working precision */
    void *g;       /* (cap, block) cross terms, then unnormalised weights */
    void *acc;     /* (cap, dim) running weighted sums */
    double *rmax;  /* (cap) running max logit */
    double *rsum;  /* (cap) running sum of exp(l - rmax) */
} empirical_ctx;

void brisk_empirical_options_default(brisk_empirical_options *o) {
    o->f64 = 1;
    o->block_points = 4096;
}

static int ensure_workspace(empirical_ctx *c, size_t batch) {
    if (batch <= c->cap) return BRISK_OK;
    size_t es = c->f64 ? sizeof(double) : sizeof(float);
    void *xw = brisk_malloc(batch * c->dim * es);
    void *g = brisk_malloc(batch * c->block * es);
    void *acc = brisk_malloc(batch * c->dim * es);
    double *rmax = brisk_malloc(batch * sizeof(double));
    double *rsum = brisk_malloc(batch * sizeof(double));
    if (!xw || !g || !acc || !rmax || !rsum) {
        brisk_free(xw);
        brisk_free(g);
        brisk_free(acc);
        brisk_free(rmax);
        brisk_free(rsum);
        return brisk_error(BRISK_ENOMEM, "empirical denoiser: no memory for a batch of %zu", batch);
    }
    brisk_free(c->xw);
    brisk_free(c->g);
    brisk_free(c->acc);
    brisk_free(c->rmax);
    brisk_free(c->rsum);
    c->xw = xw;
    c->g = g;
    c->acc = acc;
    c->rmax = rmax;
    c->rsum = rsum;
    c->cap = batch;
    return BRISK_OK;
}

/* One block of rows [j0, j0+nb): G holds <x_b, y_j>; turns it into exp(l - new max),
 * rescales the row's running sums. Shared by both precisions through the macro below. */
#define EMPIRICAL_SOFTMAX_BLOCK(T)                                                              \
    static void softmax_block_##T(empirical_ctx *c, size_t batch, size_t j0, size_t nb,       \
                                  double sa, double ha, double inv) {                          \
        T *G = c->g;                                                                            \
        T *acc = c->acc;                                                                        \
        const double *yn = c->ynorm + j0;                                                       \
        const size_t D = c->dim;                                                                \
        _Pragma("omp parallel for schedule(static) if (batch * nb >= ((size_t)1 << 21))")       \
        for (size_t b = 0; b < batch; b++) {                                                    \
            T *gb = G + b * nb;                                                                 \
            double m = c->rmax[b];                                                              \
            for (size_t i = 0; i < nb; i++) {                                                   \
                double l = (sa * (double)gb[i] - ha * yn[i]) * inv;                             \
                if (l > m) m = l;                                                               \
            }                                                                                   \
            double s = exp(c->rmax[b] - m); /* 0 on the first block (rmax = -inf) */            \
            double sum = 0.0;                                                                   \
            for (size_t i = 0; i < nb; i++) {                                                   \
                double p = exp((sa * (double)gb[i] - ha * yn[i]) * inv - m);                    \
                gb[i] = (T)p;                                                                   \
                sum += p;                                                                       \
            }                                                                                   \
            c->rsum[b] = c->rsum[b] * s + sum;                                                  \
            c->rmax[b] = m;                                                                     \
            if (s != 1.0) {                                                                     \
                T *ab = acc + b * D;                                                            \
                for (size_t j = 0; j < D; j++) ab[j] = (T)(ab[j] * s);                          \
            }                                                                                   \
        }                                                                                       \
    }
EMPIRICAL_SOFTMAX_BLOCK(float)
EMPIRICAL_SOFTMAX_BLOCK(double)

static void posterior_mean_f64(empirical_ctx *c, const double *x, size_t batch, double a,
                               double *x0) {
    const size_t D = c->dim, N = c->n, NB = c->block;
    const double sa = sqrt(a), ha = 0.5 * a, inv = 1.0 / (1.0 - a);
    double *xw = c->xw, *G = c->g, *acc = c->acc;
    const double *Y = c->points;
    memcpy(xw, x, batch * D * sizeof(double));
    memset(acc, 0, batch * D * sizeof(double));
    for (size_t b = 0; b < batch; b++) {
        c->rmax[b] = -INFINITY;
        c->rsum[b] = 0.0;
    }
    for (size_t j0 = 0; j0 < N; j0 += NB) {
        size_t nb = N - j0 < NB ? N - j0 : NB;
        const double *Yb = Y + j0 * D;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)batch, (int)nb, (int)D, 1.0, xw,
                    (int)D, Yb, (int)D, 0.0, G, (int)nb);
        softmax_block_double(c, batch, j0, nb, sa, ha, inv);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)batch, (int)D, (int)nb, 1.0, G,
                    (int)nb, Yb, (int)D, 1.0, acc, (int)D);
    }
    for (size_t b = 0; b < batch; b++) {
        double r = 1.0 / c->rsum[b];
        for (size_t j = 0; j < D; j++) x0[b * D + j] = acc[b * D + j] * r;
    }
}

static void posterior_mean_f32(empirical_ctx *c, const double *x, size_t batch, double a,
                               double *x0) {
    const size_t D = c->dim, N = c->n, NB = c->block;
    const double sa = sqrt(a), ha = 0.5 * a, inv = 1.0 / (1.0 - a);
    float *xw = c->xw, *G = c->g, *acc = c->acc;
    const float *Y = c->points;
    for (size_t i = 0; i < batch * D; i++) xw[i] = (float)x[i];
    memset(acc, 0, batch * D * sizeof(float));
    for (size_t b = 0; b < batch; b++) {
        c->rmax[b] = -INFINITY;
        c->rsum[b] = 0.0;
    }
    for (size_t j0 = 0; j0 < N; j0 += NB) {
        size_t nb = N - j0 < NB ? N - j0 : NB;
        const float *Yb = Y + j0 * D;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)batch, (int)nb, (int)D, 1.0f, xw,
                    (int)D, Yb, (int)D, 0.0f, G, (int)nb);
        softmax_block_float(c, batch, j0, nb, sa, ha, inv);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)batch, (int)D, (int)nb, 1.0f, G,
                    (int)nb, Yb, (int)D, 1.0f, acc, (int)D);
    }
    for (size_t b = 0; b < batch; b++) {
        double r = 1.0 / c->rsum[b];
        for (size_t j = 0; j < D; j++) x0[b * D + j] = (double)acc[b * D + j] * r;
    }
}

static int empirical_predict(void *vctx, const double *x, size_t batch, size_t dim, double t,
                             double alpha_bar, double *out) {
    empirical_ctx *c = vctx;
    BRISK_ASSERT(dim == c->dim);
    int rc = denoise_check_alpha("empirical", t, alpha_bar);
    if (rc) return rc;
    if (batch == 0) return BRISK_OK;
    if (batch > (size_t)1 << 30)
        return brisk_error(BRISK_EINVAL, "empirical denoiser: batch %zu is too large", batch);
    for (size_t i = 0; i < batch * dim; i++)
        if (!isfinite(x[i]))
            return brisk_error(BRISK_ENUMERIC,
                               "empirical denoiser: input element %zu (sample %zu) is not finite at t=%g",
                               i % dim, i / dim, t);
    if ((rc = ensure_workspace(c, batch))) return rc;
    if (c->f64) posterior_mean_f64(c, x, batch, alpha_bar, out);
    else posterior_mean_f32(c, x, batch, alpha_bar, out);
    if (c->pred != BRISK_PRED_SAMPLE)
        brisk_prediction_from_x0(c->pred, x, out, batch * dim, alpha_bar, out);
    for (size_t i = 0; i < batch * dim; i++)
        if (!isfinite(out[i]))
            return brisk_error(BRISK_ENUMERIC,
                               "empirical denoiser: non-finite prediction (sample %zu) at t=%g, alpha_bar=%.17g",
                               i / dim, t, alpha_bar);
    return BRISK_OK;
}

static void empirical_destroy(void *vctx) {
    empirical_ctx *c = vctx;
    if (!c) return;
    brisk_free(c->points);
    brisk_free(c->ynorm);
    brisk_free(c->xw);
    brisk_free(c->g);
    brisk_free(c->acc);
    brisk_free(c->rmax);
    brisk_free(c->rsum);
    brisk_free(c);
}

int brisk_denoiser_create_empirical(const float *points, size_t n, size_t dim, size_t c_,
                                    size_t h, size_t w, brisk_prediction pred,
                                    const brisk_empirical_options *opt, brisk_denoiser **out) {
    *out = NULL;
    brisk_empirical_options def;
    if (!opt) {
        brisk_empirical_options_default(&def);
        opt = &def;
    }
    if (n == 0 || dim == 0)
        return brisk_error(BRISK_EINVAL, "empirical denoiser: needs at least one point of positive dimension");
    if (n > (size_t)1 << 31 || dim > (size_t)1 << 24)
        return brisk_error(BRISK_EINVAL, "empirical denoiser: %zu points of dimension %zu is too large", n, dim);
    if ((c_ || h || w) && c_ * h * w != dim)
        return brisk_error(BRISK_ESHAPE, "empirical denoiser: image shape %zux%zux%zu does not match dim %zu",
                           c_, h, w, dim);
    if ((unsigned)pred >= BRISK_PRED_COUNT)
        return brisk_error(BRISK_EINVAL, "empirical denoiser: invalid prediction type %d", (int)pred);
    if (opt->block_points == 0 || opt->block_points > (size_t)1 << 24)
        return brisk_error(BRISK_EINVAL, "empirical denoiser: block_points %zu is outside 1..2^24",
                           opt->block_points);
    for (size_t i = 0; i < n * dim; i++)
        if (!isfinite(points[i]))
            return brisk_error(BRISK_EINVAL, "empirical denoiser: point %zu, element %zu is not finite",
                               i / dim, i % dim);
    empirical_ctx *c = brisk_calloc(1, sizeof *c);
    if (!c) return BRISK_ENOMEM;
    c->n = n;
    c->dim = dim;
    c->f64 = opt->f64 ? 1 : 0;
    c->block = opt->block_points < n ? opt->block_points : n;
    c->pred = pred;
    c->points = brisk_malloc(n * dim * (c->f64 ? sizeof(double) : sizeof(float)));
    c->ynorm = brisk_malloc(n * sizeof(double));
    if (!c->points || !c->ynorm) {
        empirical_destroy(c);
        return BRISK_ENOMEM;
    }
    if (c->f64) {
        double *y = c->points;
        for (size_t i = 0; i < n * dim; i++) y[i] = points[i];
    } else {
        memcpy(c->points, points, n * dim * sizeof(float));
    }
#pragma omp parallel for schedule(static) if (n * dim > 65536)
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t j = 0; j < dim; j++) s += (double)points[i * dim + j] * points[i * dim + j];
        c->ynorm[i] = s;
    }
    return denoise_wrap(c, empirical_predict, empirical_destroy, dim, c_, h, w, pred, out);
}
