/* conv.c: 2-D convolution (PyTorch Conv2d semantics: cross-correlation, zero padding) as
 * im2col + OpenBLAS sgemm.
 *
 * Work split (independent of the thread count, so results are bit-identical for any number
 * of threads):
 *   forward:        items (image, tile of whole output rows), each one sgemm;
 *   backward data:  items (image, block of NN_CONV_CBLK input channels): col2im of one
 *                   channel block never touches another block's pixels;
 *   backward weight: items (image, tile) grouped into at most NN_MAX_CHUNKS fixed chunks,
 *                   each chunk accumulates its own partial dW, partials are summed in order.
 */
#include "nn_impl.h"

#include <cblas.h>
#include <string.h>

void brisk_conv2d_out_size(const brisk_conv2d_desc *d, size_t *oh, size_t *ow) {
    *oh = (d->h + d->pad_top + d->pad_bottom - d->k) / d->stride + 1;
    *ow = (d->w + d->pad_left + d->pad_right - d->k) / d->stride + 1;
}

static int is_pointwise(const brisk_conv2d_desc *d) {
    return d->k == 1 && d->stride == 1 && !d->pad_top && !d->pad_left && !d->pad_bottom &&
           !d->pad_right;
}

typedef struct conv_geom {
    size_t oh, ow, ohw, hw, K, rows, ntile, tile_px;
} conv_geom;

static conv_geom geom(const brisk_conv2d_desc *d) {
    conv_geom g;
    brisk_conv2d_out_size(d, &g.oh, &g.ow);
    g.ohw = g.oh * g.ow;
    g.hw = d->h * d->w;
    g.K = d->cin * d->k * d->k;
    g.rows = NN_CONV_TILE / g.ow;
    if (g.rows < 1) g.rows = 1;
    if (g.rows > g.oh) g.rows = g.oh;
    g.ntile = (g.oh + g.rows - 1) / g.rows;
    g.tile_px = g.rows * g.ow;
    return g;
}

/* col (K x npx) for output rows [r0, r1) of image x (cin, h, w). */
static void im2col(const brisk_conv2d_desc *d, const conv_geom *g, const float *x, size_t r0,
                   size_t r1, float *col) {
    const size_t k = d->k, s = d->stride, w = d->w, h = d->h, ow = g->ow;
    const size_t npx = (r1 - r0) * ow;
    for (size_t ci = 0; ci < d->cin; ci++) {
        const float *xc = x + ci * g->hw;
        for (size_t ky = 0; ky < k; ky++)
            for (size_t kx = 0; kx < k; kx++) {
                float *dst = col + ((ci * k + ky) * k + kx) * npx;
                /* valid ox: 0 <= ox*s + kx - pad_left < w */
                long off = (long)kx - (long)d->pad_left;
                size_t lo = 0, hi = ow;
                while (lo < ow && (long)(lo * s) + off < 0) lo++;
                while (hi > lo && (long)((hi - 1) * s) + off >= (long)w) hi--;
                for (size_t oy = r0; oy < r1; oy++) {
                    float *drow = dst + (oy - r0) * ow;
                    long iy = (long)(oy * s) + (long)ky - (long)d->pad_top;
                    if (iy < 0 || iy >= (long)h) {
                        memset(drow, 0, ow * sizeof(float));
                        continue;
                    }
                    const float *srow = xc + (size_t)iy * w;
                    for (size_t ox = 0; ox < lo; ox++) drow[ox] = 0.0f;
                    if (s == 1) {
                        if (hi > lo) memcpy(drow + lo, srow + (long)lo + off, (hi - lo) * sizeof(float));
                    } else {
                        for (size_t ox = lo; ox < hi; ox++) drow[ox] = srow[(long)(ox * s) + off];
                    }
                    for (size_t ox = hi; ox < ow; ox++) drow[ox] = 0.0f;
                }
            }
    }
}

/* dx (channels [c0, c1) of one image) += col2im(dcol) for output rows [r0, r1). */
static void col2im_add(const brisk_conv2d_desc *d, const conv_geom *g, const float *dcol,
                       size_t c0, size_t c1, size_t r0, size_t r1, float *dx) {
    const size_t k = d->k, s = d->stride, w = d->w, h = d->h, ow = g->ow;
    const size_t npx = (r1 - r0) * ow;
    for (size_t ci = c0; ci < c1; ci++) {
        float *xc = dx + ci * g->hw;
        for (size_t ky = 0; ky < k; ky++)
            for (size_t kx = 0; kx < k; kx++) {
                const float *src = dcol + (((ci - c0) * k + ky) * k + kx) * npx;
                long off = (long)kx - (long)d->pad_left;
                size_t lo = 0, hi = ow;
                while (lo < ow && (long)(lo * s) + off < 0) lo++;
                while (hi > lo && (long)((hi - 1) * s) + off >= (long)w) hi--;
                for (size_t oy = r0; oy < r1; oy++) {
                    long iy = (long)(oy * s) + (long)ky - (long)d->pad_top;
                    if (iy < 0 || iy >= (long)h) continue;
                    const float *srow = src + (oy - r0) * ow;
                    float *drow = xc + (size_t)iy * w;
                    if (s == 1) {
                        float *dd = drow + (long)lo + off;
                        for (size_t ox = lo; ox < hi; ox++) dd[ox - lo] += srow[ox];
                    } else {
                        for (size_t ox = lo; ox < hi; ox++) drow[(long)(ox * s) + off] += srow[ox];
                    }
                }
            }
    }
}

size_t nn_conv_ws(const brisk_conv2d_desc *d, size_t batch, int nt) {
    conv_geom g = geom(d);
    size_t cb = d->cin < NN_CONV_CBLK ? d->cin : NN_CONV_CBLK;
    size_t per_thread = nn_align(g.K * g.tile_px) + nn_align(cb * d->k * d->k * g.tile_px);
    size_t nch = nn_nchunks(batch * g.ntile);
    size_t parts = nch > 1 ? nn_align(nch * d->cout * g.K) : 0;
    return (size_t)nt * per_thread + parts;
}

void nn_conv_fwd(const brisk_conv2d_desc *d, size_t batch, const float *x, const float *w,
                 const float *b, const float *cb, const float *res, float oscale, float *y,
                 float *ws, int nt) {
    const conv_geom g = geom(d);
    const int pw = is_pointwise(d);
    const size_t cbn = d->cin < NN_CONV_CBLK ? d->cin : NN_CONV_CBLK;
    const size_t per_thread = nn_align(g.K * g.tile_px) + nn_align(cbn * d->k * d->k * g.tile_px);
    const long nitems = (long)(batch * g.ntile);
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * d->cout * g.K * g.ohw))
    for (long it = 0; it < nitems; it++) {
        size_t bi = (size_t)it / g.ntile, tile = (size_t)it % g.ntile;
        size_t r0 = tile * g.rows, r1 = r0 + g.rows < g.oh ? r0 + g.rows : g.oh;
        size_t npx = (r1 - r0) * g.ow;
        float *yb = y + bi * d->cout * g.ohw + r0 * g.ow;
        const float *rb = res ? res + bi * d->cout * g.ohw + r0 * g.ow : NULL;
        for (size_t co = 0; co < d->cout; co++) {
            float v = (b ? b[co] : 0.0f) + (cb ? cb[bi * d->cout + co] : 0.0f);
            float *yr = yb + co * g.ohw;
            if (rb) {
                const float *rr = rb + co * g.ohw;
                for (size_t j = 0; j < npx; j++) yr[j] = (v + rr[j]) * oscale;
            } else {
                v *= oscale;
                for (size_t j = 0; j < npx; j++) yr[j] = v;
            }
        }
        const float *B;
        size_t ldb;
        if (pw) {
            B = x + bi * d->cin * g.hw + r0 * g.ow;
            ldb = g.hw;
        } else {
            float *col = ws + (size_t)NN_THREAD_ID() * per_thread;
            im2col(d, &g, x + bi * d->cin * g.hw, r0, r1, col);
            B = col;
            ldb = npx;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d->cout, (int)npx, (int)g.K,
                    oscale, w, (int)g.K, B, (int)ldb, 1.0f, yb, (int)g.ohw);
    }
}

void nn_conv_bwd(const brisk_conv2d_desc *d, size_t batch, const float *x, const float *w,
                 float oscale, const float *dy, float *dx, int acc_dx, float *dw, float *db,
                 float *dcb, int acc_dcb, float *dres, int acc_dres, float *ws, int nt) {
    const conv_geom g = geom(d);
    const int pw = is_pointwise(d);
    const size_t cout = d->cout, cin = d->cin, k2 = d->k * d->k;
    const size_t cbn = cin < NN_CONV_CBLK ? cin : NN_CONV_CBLK;
    const size_t per_thread = nn_align(g.K * g.tile_px) + nn_align(cbn * k2 * g.tile_px);
    (void)nt;

    if (dres) {
        size_t n = batch * cout * g.ohw;
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)n))
        for (long i = 0; i < (long)n; i++)
            dres[i] = (acc_dres ? dres[i] : 0.0f) + oscale * dy[i];
    }
    if (dcb) {
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * cout * g.ohw))
        for (long i = 0; i < (long)(batch * cout); i++) {
            const float *p = dy + (size_t)i * g.ohw;
            double s = 0;
            for (size_t j = 0; j < g.ohw; j++) s += p[j];
            dcb[i] = (acc_dcb ? dcb[i] : 0.0f) + (float)(s * oscale);
        }
    }
    if (db) {
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * cout * g.ohw))
        for (long co = 0; co < (long)cout; co++) {
            double s = 0;
            for (size_t bi = 0; bi < batch; bi++) {
                const float *p = dy + (bi * cout + (size_t)co) * g.ohw;
                for (size_t j = 0; j < g.ohw; j++) s += p[j];
            }
            db[co] = (float)(s * oscale);
        }
    }
    if (dw) {
        const size_t nitems = batch * g.ntile;
        const size_t nch = nn_nchunks(nitems);
        float *parts = ws + (size_t)nt * per_thread;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (NN_PAR((double)batch * cout * g.K * g.ohw))
        for (long c = 0; c < (long)nch; c++) {
            size_t lo, hi;
            nn_chunk_range(nitems, nch, (size_t)c, &lo, &hi);
            float *P = nch > 1 ? parts + (size_t)c * cout * g.K : dw;
            float *col = ws + (size_t)NN_THREAD_ID() * per_thread;
            for (size_t it = lo; it < hi; it++) {
                size_t bi = it / g.ntile, tile = it % g.ntile;
                size_t r0 = tile * g.rows, r1 = r0 + g.rows < g.oh ? r0 + g.rows : g.oh;
                size_t npx = (r1 - r0) * g.ow;
                const float *B;
                size_t ldb;
                if (pw) {
                    B = x + bi * cin * g.hw + r0 * g.ow;
                    ldb = g.hw;
                } else {
                    im2col(d, &g, x + bi * cin * g.hw, r0, r1, col);
                    B = col;
                    ldb = npx;
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)cout, (int)g.K, (int)npx,
                            oscale, dy + bi * cout * g.ohw + r0 * g.ow, (int)g.ohw, B, (int)ldb,
                            it == lo ? 0.0f : 1.0f, P, (int)g.K);
            }
        }
        if (nch > 1) nn_reduce_chunks(dw, parts, nch, cout * g.K, 0, nt);
    }
    if (dx) {
        const size_t nblk = (cin + cbn - 1) / cbn;
        const long nitems = (long)(batch * nblk);
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * cout * g.K * g.ohw))
        for (long it = 0; it < nitems; it++) {
            size_t bi = (size_t)it / nblk, blk = (size_t)it % nblk;
            size_t c0 = blk * cbn, c1 = c0 + cbn < cin ? c0 + cbn : cin;
            float *dxb = dx + bi * cin * g.hw;
            const float *dyb = dy + bi * cout * g.ohw;
            if (pw) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(c1 - c0), (int)g.hw,
                            (int)cout, oscale, w + c0, (int)cin, dyb, (int)g.ohw,
                            acc_dx ? 1.0f : 0.0f, dxb + c0 * g.hw, (int)g.hw);
                continue;
            }
            if (!acc_dx) memset(dxb + c0 * g.hw, 0, (c1 - c0) * g.hw * sizeof(float));
            float *dcol = ws + (size_t)NN_THREAD_ID() * per_thread + nn_align(g.K * g.tile_px);
            for (size_t tile = 0; tile < g.ntile; tile++) {
                size_t r0 = tile * g.rows, r1 = r0 + g.rows < g.oh ? r0 + g.rows : g.oh;
                size_t npx = (r1 - r0) * g.ow;
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)((c1 - c0) * k2),
                            (int)npx, (int)cout, oscale, w + c0 * k2, (int)g.K,
                            dyb + r0 * g.ow, (int)g.ohw, 0.0f, dcol, (int)npx);
                col2im_add(d, &g, dcol, c0, c1, r0, r1, dxb);
            }
        }
    }
}

size_t brisk_conv2d_workspace(const brisk_conv2d_desc *d, size_t batch) {
    return nn_conv_ws(d, batch, nn_threads());
}

void brisk_conv2d_forward(const brisk_conv2d_desc *d, size_t batch, const float *x,
                          const float *w, const float *b, float *y, float *ws) {
    int prev = nn_blas_enter();
    nn_conv_fwd(d, batch, x, w, b, NULL, NULL, 1.0f, y, ws, nn_threads());
    nn_blas_leave(prev);
}

void brisk_conv2d_backward(const brisk_conv2d_desc *d, size_t batch, const float *x,
                           const float *w, const float *dy, float *dx, float *dw, float *db,
                           float *ws) {
    int prev = nn_blas_enter();
    nn_conv_bwd(d, batch, x, w, 1.0f, dy, dx, 0, dw, db, NULL, 0, NULL, 0, ws, nn_threads());
    nn_blas_leave(prev);
}
