/* KID: kernel inception distance (Bińkowski et al., "Demystifying MMD GANs", ICLR 2018)
 * on arbitrary features. Per subset pair (X, Y) of size m each, the unbiased MMD^2 with
 * the polynomial kernel k(x, y) = (gamma x.y + coef0)^degree, gamma = 1/d, coef0 = 1,
 * degree 3 (the paper's kernel; torch-fidelity and clean-fid use the same):
 *     MMD^2 = sum_{i!=j} k(x_i,x_j) / (m(m-1)) + sum_{i!=j} k(y_i,y_j) / (m(m-1))
 *             - 2 sum_{i,j} k(x_i,y_j) / m^2,
 * averaged over subsets (100 of 1000 by default, torch-fidelity's kid_subsets and
 * kid_subset_size), with the standard deviation over subsets (ddof 0, np.std as
 * torch-fidelity). Gram tiles come from cblas_dgemm; sums are accumulated in double.
 * Threads: brisk_kid runs subsets in parallel, brisk_mmd2_unbiased runs the tiles of each
 * sum in parallel; partial sums are combined in a fixed order either way, so results do
 * not depend on the thread count. */
#include "metrics/metrics_impl.h"

#include "brisk/rng.h"

#include <math.h>
#include <string.h>

void brisk_kid_params_default(brisk_kid_params *p) {
    BRISK_ASSERT(p);
    memset(p, 0, sizeof *p);
    p->subset_size = 0;
    p->num_subsets = 100;
    p->degree = 3;
    p->gamma = 0.0;
    p->coef0 = 1.0;
    p->seed = 0;
}

void metrics_subset_indices(uint64_t seed, uint64_t subset, unsigned which, size_t n, size_t m,
                            size_t *idx, uint32_t *words) {
    BRISK_ASSERT(m <= n && n <= UINT32_MAX);
    brisk_rand_u32(seed, subset, BRISK_STREAM(BRISK_RNG_MC, METRICS_STREAM_KID + which), m, words);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    for (size_t i = 0; i < m; i++) { /* partial Fisher-Yates */
        size_t j = i + brisk_rand_below(words[i], (uint32_t)(n - i));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

static inline double ipow(double b, int e) {
    double r = 1.0;
    for (int i = 0; i < e; i++) r *= b;
    return r;
}

/* Tile scratch of one thread: a Gram tile and one partial sum per tile. */
typedef struct kernel_ws {
    double *buf;   /* METRICS_ROW_BLOCK * METRICS_COL_BLOCK */
    double *tiles; /* cap */
    size_t cap;
} kernel_ws;

static size_t n_tiles(size_t nx, size_t ny) {
    return ((nx + METRICS_ROW_BLOCK - 1) / METRICS_ROW_BLOCK) * ((ny + METRICS_COL_BLOCK - 1) / METRICS_COL_BLOCK);
}

/* Sums k(x_i, y_j) over tile t of the (nx, ny) pair grid; with same != 0 (y == x) only
 * over pairs i < j, the tile's columns starting right of the diagonal. */
static double kernel_tile(const double *x, size_t nx, const double *y, size_t ny, size_t d, int same,
                          int degree, double gamma, double coef0, size_t t, double *buf) {
    size_t ncb = (ny + METRICS_COL_BLOCK - 1) / METRICS_COL_BLOCK;
    size_t r0 = (t / ncb) * METRICS_ROW_BLOCK, c0 = (t % ncb) * METRICS_COL_BLOCK;
    size_t rm = nx - r0 < METRICS_ROW_BLOCK ? nx - r0 : METRICS_ROW_BLOCK;
    size_t c1 = ny - c0 < METRICS_COL_BLOCK ? ny : c0 + METRICS_COL_BLOCK;
    if (same && c0 < r0 + 1) c0 = r0 + 1; /* columns j > r0 only */
    if (c0 >= c1) return 0.0;
    size_t cm = c1 - c0;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rm, (int)cm, (int)d, 1.0, x + r0 * d,
                (int)d, y + c0 * d, (int)d, 0.0, buf, (int)cm);
    double s = 0.0;
    for (size_t i = 0; i < rm; i++) {
        size_t j0 = 0;
        if (same && r0 + i + 1 > c0) j0 = r0 + i + 1 - c0; /* only j > i */
        double row = 0.0;
        for (size_t j = j0; j < cm; j++) row += ipow(gamma * buf[i * cm + j] + coef0, degree);
        s += row;
    }
    return s;
}

/* Sum over all tiles, sequentially with one thread's scratch (nt <= 1) or with the tiles
 * spread over nt threads, each using its own scratch ws[tid]; ws[0].tiles holds the
 * per-tile sums, added in tile order. */
static double kernel_sum(const double *x, size_t nx, const double *y, size_t ny, size_t d, int same,
                         const brisk_kid_params *p, double gamma, kernel_ws *ws, int nt) {
    size_t nts = n_tiles(nx, ny);
    BRISK_ASSERT(nts <= ws[0].cap);
    double *tiles = ws[0].tiles;
    if (nt > 1 && nts > 1) {
        (void)nt;
        METRICS_OMP("omp parallel for num_threads(nt) schedule(dynamic, 1)")
        for (size_t t = 0; t < nts; t++)
            tiles[t] = kernel_tile(x, nx, y, ny, d, same, p->degree, gamma, p->coef0, t,
                                   ws[metrics_thread_id()].buf);
    } else {
        for (size_t t = 0; t < nts; t++)
            tiles[t] = kernel_tile(x, nx, y, ny, d, same, p->degree, gamma, p->coef0, t, ws[0].buf);
    }
    double total = 0.0;
    for (size_t t = 0; t < nts; t++) total += tiles[t];
    return total;
}

/* nt scratch sets for pair grids up to (max_n, max_n). */
static kernel_ws *ws_create(int nt, size_t max_n) {
    kernel_ws *ws = brisk_calloc((size_t)nt, sizeof *ws);
    if (!ws) return NULL;
    for (int i = 0; i < nt; i++) {
        ws[i].cap = n_tiles(max_n, max_n);
        ws[i].buf = brisk_malloc((size_t)METRICS_ROW_BLOCK * METRICS_COL_BLOCK * sizeof(double));
        ws[i].tiles = brisk_malloc(ws[i].cap * sizeof(double));
        if (!ws[i].buf || !ws[i].tiles) {
            for (int j = 0; j <= i; j++) {
                brisk_free(ws[j].buf);
                brisk_free(ws[j].tiles);
            }
            brisk_free(ws);
            return NULL;
        }
    }
    return ws;
}

static void ws_free(kernel_ws *ws, int nt) {
    if (!ws) return;
    for (int i = 0; i < nt; i++) {
        brisk_free(ws[i].buf);
        brisk_free(ws[i].tiles);
    }
    brisk_free(ws);
}

static int check_kernel(const brisk_kid_params *p) {
    if (p->degree < 1 || p->degree > 16)
        return brisk_error(BRISK_EINVAL, "KID: kernel degree %d outside 1..16", p->degree);
    if (!(p->gamma >= 0) || !isfinite(p->gamma) || !isfinite(p->coef0))
        return brisk_error(BRISK_EINVAL, "KID: kernel gamma %g / coef0 %g invalid (gamma >= 0, 0 = 1/dim)",
                           p->gamma, p->coef0);
    return 0;
}

/* Unbiased MMD^2 from the three kernel sums (pairs i < j for the within-set sums). */
static double mmd2_from_sums(double sxx, size_t nx, double syy, size_t ny, double sxy) {
    return 2.0 * sxx / ((double)nx * (double)(nx - 1)) + 2.0 * syy / ((double)ny * (double)(ny - 1)) -
           2.0 * sxy / ((double)nx * (double)ny);
}

int brisk_mmd2_unbiased(const brisk_features *x, const brisk_features *y,
                        const brisk_kid_params *p, double *out) {
    BRISK_ASSERT(x && y && p && out);
    int rc;
    if ((rc = check_kernel(p)) || (rc = metrics_check_features(x, 2, "unbiased MMD^2")) ||
        (rc = metrics_check_features(y, 2, "unbiased MMD^2")) || (rc = metrics_check_same_dim(x, y)))
        return rc;
    size_t d = x->dim, big = x->n > y->n ? x->n : y->n;
    double gamma = p->gamma > 0 ? p->gamma : 1.0 / (double)d;
    int nt = metrics_threads_for(2.0 * (double)big * (double)big * (double)d, n_tiles(big, big));
    double *xd = brisk_malloc(x->n * d * sizeof *xd), *yd = brisk_malloc(y->n * d * sizeof *yd);
    kernel_ws *ws = xd && yd ? ws_create(nt, big) : NULL;
    if (!ws) {
        rc = BRISK_ENOMEM;
    } else {
        metrics_gather_f64(x, NULL, x->n, NULL, xd);
        metrics_gather_f64(y, NULL, y->n, NULL, yd);
        int prev = metrics_blas_enter(nt);
        double sxx = kernel_sum(xd, x->n, xd, x->n, d, 1, p, gamma, ws, nt);
        double syy = kernel_sum(yd, y->n, yd, y->n, d, 1, p, gamma, ws, nt);
        double sxy = kernel_sum(xd, x->n, yd, y->n, d, 0, p, gamma, ws, nt);
        metrics_blas_leave(nt, prev);
        *out = mmd2_from_sums(sxx, x->n, syy, y->n, sxy);
        if (!isfinite(*out))
            rc = brisk_error(BRISK_ENUMERIC, "MMD^2 between %s and %s overflowed", feat_name(x), feat_name(y));
    }
    brisk_free(xd);
    brisk_free(yd);
    ws_free(ws, nt);
    return rc;
}

/* Per-thread scratch of brisk_kid: index permutations, Philox words, the two gathered
 * subsets, and the kernel tiles. */
typedef struct kid_ws {
    size_t *ia, *ib;
    uint32_t *words;
    double *xs, *ys;
    kernel_ws *kw;
} kid_ws;

static void kid_ws_free(kid_ws *w, int nt) {
    if (!w) return;
    for (int i = 0; i < nt; i++) {
        brisk_free(w[i].ia);
        brisk_free(w[i].ib);
        brisk_free(w[i].words);
        brisk_free(w[i].xs);
        brisk_free(w[i].ys);
        ws_free(w[i].kw, 1);
    }
    brisk_free(w);
}

static kid_ws *kid_ws_create(int nt, size_t n1, size_t n2, size_t m, size_t d) {
    kid_ws *w = brisk_calloc((size_t)nt, sizeof *w);
    if (!w) return NULL;
    for (int i = 0; i < nt; i++) {
        w[i].ia = brisk_malloc(n1 * sizeof(size_t));
        w[i].ib = brisk_malloc(n2 * sizeof(size_t));
        w[i].words = brisk_malloc(m * sizeof(uint32_t));
        w[i].xs = brisk_malloc(m * d * sizeof(double));
        w[i].ys = brisk_malloc(m * d * sizeof(double));
        w[i].kw = ws_create(1, m);
        if (!w[i].ia || !w[i].ib || !w[i].words || !w[i].xs || !w[i].ys || !w[i].kw) {
            kid_ws_free(w, i + 1);
            return NULL;
        }
    }
    return w;
}

int brisk_kid(const brisk_features *real, const brisk_features *gen, const brisk_kid_params *p,
              brisk_kid_result *out, double *per_subset) {
    BRISK_ASSERT(real && gen && p && out);
    memset(out, 0, sizeof *out);
    int rc;
    if ((rc = check_kernel(p)) || (rc = metrics_check_features(real, 2, "KID")) ||
        (rc = metrics_check_features(gen, 2, "KID")) || (rc = metrics_check_same_dim(real, gen)))
        return rc;
    if (p->num_subsets == 0) return brisk_error(BRISK_EINVAL, "KID: num_subsets must be at least 1");
    if (real->n > UINT32_MAX || gen->n > UINT32_MAX)
        return brisk_error(BRISK_EINVAL, "KID: more than 2^32 samples");
    size_t m = p->subset_size;
    if (m == 0) {
        m = 1000;
        if (real->n < m) m = real->n;
        if (gen->n < m) m = gen->n;
    } else {
        const brisk_features *small = real->n < gen->n ? real : gen;
        if (m > small->n)
            return brisk_error(BRISK_EINVAL, "%s: KID subset size %zu is larger than its %zu samples",
                               feat_name(small), m, small->n);
        if (m < 2) return brisk_error(BRISK_EINVAL, "KID: subset size %zu, needs at least 2", m);
    }
    size_t d = real->dim, ns = p->num_subsets;
    double gamma = p->gamma > 0 ? p->gamma : 1.0 / (double)d;
    int nt = metrics_threads_for(4.0 * (double)m * (double)m * (double)d * (double)ns, ns);
    double *vals = per_subset ? per_subset : brisk_malloc(ns * sizeof *vals);
    kid_ws *w = vals ? kid_ws_create(nt, real->n, gen->n, m, d) : NULL;
    if (!w) {
        if (vals != per_subset) brisk_free(vals);
        return BRISK_ENOMEM;
    }
    int prev = metrics_blas_enter(nt);
    /* One subset pair per iteration; each thread uses its own scratch. */
    METRICS_OMP("omp parallel for num_threads(nt) schedule(dynamic, 1)")
    for (size_t s = 0; s < ns; s++) {
        kid_ws *t = w + metrics_thread_id();
        metrics_subset_indices(p->seed, s, 0, real->n, m, t->ia, t->words);
        metrics_subset_indices(p->seed, s, 1, gen->n, m, t->ib, t->words);
        metrics_gather_f64(real, t->ia, m, NULL, t->xs);
        metrics_gather_f64(gen, t->ib, m, NULL, t->ys);
        double sxx = kernel_sum(t->xs, m, t->xs, m, d, 1, p, gamma, t->kw, 1);
        double syy = kernel_sum(t->ys, m, t->ys, m, d, 1, p, gamma, t->kw, 1);
        double sxy = kernel_sum(t->xs, m, t->ys, m, d, 0, p, gamma, t->kw, 1);
        vals[s] = mmd2_from_sums(sxx, m, syy, m, sxy);
    }
    metrics_blas_leave(nt, prev);
    kid_ws_free(w, nt);
    double sum = 0.0;
    for (size_t s = 0; s < ns; s++) {
        if (!isfinite(vals[s])) {
            rc = brisk_error(BRISK_ENUMERIC, "KID between %s and %s overflowed (subset %zu)",
                             feat_name(real), feat_name(gen), s);
            break;
        }
        sum += vals[s];
    }
    if (!rc) {
        double mean = sum / (double)ns, var = 0.0;
        for (size_t s = 0; s < ns; s++) var += (vals[s] - mean) * (vals[s] - mean);
        out->mean = mean;
        out->std = sqrt(var / (double)ns); /* ddof 0 */
        out->subset_size = m;
        out->num_subsets = ns;
    }
    if (vals != per_subset) brisk_free(vals);
    return rc;
}
