/* attention.c: the self-attention block of diffusers' UNet2DModel (Attention with
 * _from_deprecated_attn_block=True, residual_connection=True, AttnProcessor):
 *   g = GroupNorm(x); q/k/v = to_q/to_k/to_v(g); per head softmax(q k^T * dim_head^-0.5) v;
 *   y = (to_out.0(o) + x) / rescale_output_factor
 * (Vaswani et al. 2017 scaled dot-product attention; DDPM's AttnBlock).
 *
 * Everything stays channel-major: per image q, k, v, o are (inner, n) matrices, so the
 * projections are plain sgemms on the NCHW activations and no transposes are needed.
 * Work items: images for projections, (image, head) for the attention core, fixed chunks
 * of images for weight gradients. */
/* Let GCC vectorise the exp/sigmoid loops: without this, -ftrapping-math (the default) keeps
 * the branch-free clamps in nn_expf from being if-converted. Results are unchanged. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include "nn_impl.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

typedef struct attn_layout {
    size_t inner, cn, in_n, nn;
    size_t o_stats, o_g, o_q, o_k, o_v, o_o, o_p, total; /* offsets into saved */
} attn_layout;

static attn_layout layout(const brisk_attention_desc *d, size_t batch) {
    attn_layout L;
    L.inner = d->heads * d->dim_head;
    L.cn = d->c * d->n;
    L.in_n = L.inner * d->n;
    L.nn = d->n * d->n;
    size_t off = 0;
    L.o_stats = off;
    off += nn_align(batch * (d->groups ? d->groups : 1) * 2);
    L.o_g = off;
    off += nn_align(batch * L.cn);
    L.o_q = off;
    off += nn_align(batch * L.in_n);
    L.o_k = off;
    off += nn_align(batch * L.in_n);
    L.o_v = off;
    off += nn_align(batch * L.in_n);
    L.o_o = off;
    off += nn_align(batch * L.in_n);
    L.o_p = off;
    off += nn_align(batch * d->heads * L.nn);
    L.total = off;
    return L;
}

size_t nn_attn_saved(const brisk_attention_desc *d, size_t batch) {
    return layout(d, batch).total;
}

static size_t bwd_ws(const brisk_attention_desc *d, size_t batch, int nt) {
    attn_layout L = layout(d, batch);
    size_t nch = nn_nchunks(batch);
    size_t wmax = L.inner * d->c;
    size_t s = 4 * nn_align(batch * L.in_n) + nn_align(batch * L.cn) +
               (size_t)nt * nn_align(L.nn) + (nch > 1 ? nn_align(nch * wmax) : 0);
    if (d->groups) s += nn_gn_ws(batch, d->c, d->n, d->groups, nt);
    return s;
}

size_t nn_attn_ws(const brisk_attention_desc *d, size_t batch, int train, int nt) {
    attn_layout L = layout(d, batch);
    size_t fwd = train ? 0 : L.o_p + (size_t)nt * nn_align(L.nn);
    size_t bwd = train ? bwd_ws(d, batch, nt) : 0;
    return fwd > bwd ? fwd : bwd;
}

static void softmax_rows(float *P, size_t n) {
    const float lo = nn_exp_lo, hi = nn_exp_hi;
    for (size_t i = 0; i < n; i++) {
        float *r = P + i * n;
        float mx = r[0];
        for (size_t j = 1; j < n; j++)
            if (r[j] > mx) mx = r[j];
        for (size_t j = 0; j < n; j++) r[j] = nn_expf2(r[j] - mx, lo, hi);
        float s = 0;
        for (size_t j = 0; j < n; j++) s += r[j];
        float inv = 1.0f / s;
        for (size_t j = 0; j < n; j++) r[j] *= inv;
    }
}

void nn_attn_fwd(const brisk_attention_desc *d, size_t batch, const float *x,
                 const brisk_attention_params *p, float *y, float *saved, float *ws, int nt) {
    const attn_layout L = layout(d, batch);
    const size_t c = d->c, n = d->n, dh = d->dim_head, H = d->heads;
    float *base = saved ? saved : ws;
    float *stats = base + L.o_stats;
    const float *g = x;
    if (d->groups) {
        nn_gn_fwd(batch, c, n, d->groups, d->eps, 0, x, p->gamma, p->beta, NULL,
                  base + L.o_g, stats, nt);
        g = base + L.o_g;
    }
    float *q = base + L.o_q, *k = base + L.o_k, *v = base + L.o_v, *o = base + L.o_o;
    (void)nt;
    /* projections: items (image, which of q/k/v) */
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * L.inner * c * n))
    for (long it = 0; it < (long)(batch * 3); it++) {
        size_t bi = (size_t)it / 3, which = (size_t)it % 3;
        const float *W = which == 0 ? p->wq : which == 1 ? p->wk : p->wv;
        const float *B = which == 0 ? p->bq : which == 1 ? p->bk : p->bv;
        float *dst = (which == 0 ? q : which == 1 ? k : v) + bi * L.in_n;
        for (size_t r = 0; r < L.inner; r++)
            for (size_t j = 0; j < n; j++) dst[r * n + j] = B[r];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)L.inner, (int)n, (int)c,
                    1.0f, W, (int)c, g + bi * L.cn, (int)n, 1.0f, dst, (int)n);
    }
    const float scale = 1.0f / sqrtf((float)dh);
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * H * n * n * dh))
    for (long it = 0; it < (long)(batch * H); it++) {
        size_t bi = (size_t)it / H, hh = (size_t)it % H;
        float *P = saved ? base + L.o_p + (size_t)it * L.nn
                         : ws + L.o_p + (size_t)NN_THREAD_ID() * nn_align(L.nn);
        const float *Qh = q + bi * L.in_n + hh * dh * n;
        const float *Kh = k + bi * L.in_n + hh * dh * n;
        const float *Vh = v + bi * L.in_n + hh * dh * n;
        float *Oh = o + bi * L.in_n + hh * dh * n;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)dh, scale, Qh,
                    (int)n, Kh, (int)n, 0.0f, P, (int)n);
        softmax_rows(P, n);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)dh, (int)n, (int)n, 1.0f, Vh,
                    (int)n, P, (int)n, 0.0f, Oh, (int)n);
    }
    const float inv = 1.0f / d->rescale;
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * c * L.inner * n))
    for (long bi = 0; bi < (long)batch; bi++) {
        float *yb = y + (size_t)bi * L.cn;
        const float *xb = x + (size_t)bi * L.cn;
        for (size_t r = 0; r < c; r++)
            for (size_t j = 0; j < n; j++) yb[r * n + j] = (p->bo[r] + xb[r * n + j]) * inv;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c, (int)n, (int)L.inner, inv,
                    p->wo, (int)L.inner, o + (size_t)bi * L.in_n, (int)n, 1.0f, yb, (int)n);
    }
}

/* dW (m x kk) = alpha * sum_b A_b (m x n) B_b^T (kk x n), fixed chunks over images. */
static void wgrad(size_t batch, size_t m, size_t kk, size_t n, float alpha, const float *A,
                  size_t sa, const float *B, size_t sb, float *dW, float *parts, int nt) {
    const size_t nch = nn_nchunks(batch);
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (NN_PAR((double)batch * m * kk * n))
    for (long c = 0; c < (long)nch; c++) {
        size_t lo, hi;
        nn_chunk_range(batch, nch, (size_t)c, &lo, &hi);
        float *P = nch > 1 ? parts + (size_t)c * m * kk : dW;
        for (size_t bi = lo; bi < hi; bi++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)kk, (int)n, alpha,
                        A + bi * sa, (int)n, B + bi * sb, (int)n, bi == lo ? 0.0f : 1.0f, P,
                        (int)kk);
    }
    if (nch > 1) nn_reduce_chunks(dW, parts, nch, m * kk, 0, nt);
}

/* db[r] = alpha * sum_b sum_j A_b[r, j] */
static void bgrad(size_t batch, size_t m, size_t n, float alpha, const float *A, size_t sa,
                  float *db, int nt) {
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * m * n))
    for (long r = 0; r < (long)m; r++) {
        double s = 0;
        for (size_t bi = 0; bi < batch; bi++) {
            const float *a = A + bi * sa + (size_t)r * n;
            for (size_t j = 0; j < n; j++) s += a[j];
        }
        db[r] = (float)(s * alpha);
    }
}

void nn_attn_bwd(const brisk_attention_desc *d, size_t batch, const float *x,
                 const brisk_attention_params *p, const float *saved, const float *dy,
                 float *dx, int acc_dx, const brisk_attention_grads *gr, float *ws, int nt) {
    const attn_layout L = layout(d, batch);
    const size_t c = d->c, n = d->n, dh = d->dim_head, H = d->heads;
    const float inv = 1.0f / d->rescale;
    const float scale = 1.0f / sqrtf((float)dh);
    const float *stats = saved + L.o_stats;
    const float *g = d->groups ? saved + L.o_g : x;
    const float *q = saved + L.o_q, *k = saved + L.o_k, *v = saved + L.o_v, *o = saved + L.o_o;
    float *dO = ws;
    float *dQ = dO + nn_align(batch * L.in_n);
    float *dK = dQ + nn_align(batch * L.in_n);
    float *dV = dK + nn_align(batch * L.in_n);
    float *dg = dV + nn_align(batch * L.in_n);
    float *dPs = dg + nn_align(batch * L.cn);
    float *parts = dPs + (size_t)nt * nn_align(L.nn);
    float *gnws = parts + (nn_nchunks(batch) > 1 ? nn_align(nn_nchunks(batch) * L.inner * c) : 0);
    (void)nt;

    /* residual path */
    {
        size_t tot = batch * L.cn;
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)tot))
        for (long i = 0; i < (long)tot; i++) dx[i] = (acc_dx ? dx[i] : 0.0f) + inv * dy[i];
    }
    /* to_out */
    wgrad(batch, c, L.inner, n, inv, dy, L.cn, o, L.in_n, gr->wo, parts, nt);
    bgrad(batch, c, n, inv, dy, L.cn, gr->bo, nt);
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * L.inner * c * n))
    for (long bi = 0; bi < (long)batch; bi++)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)L.inner, (int)n, (int)c, inv,
                    p->wo, (int)L.inner, dy + (size_t)bi * L.cn, (int)n, 0.0f,
                    dO + (size_t)bi * L.in_n, (int)n);
    /* attention core */
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * H * n * n * dh))
    for (long it = 0; it < (long)(batch * H); it++) {
        size_t bi = (size_t)it / H, hh = (size_t)it % H;
        size_t off = bi * L.in_n + hh * dh * n;
        const float *P = saved + L.o_p + (size_t)it * L.nn;
        float *dP = dPs + (size_t)NN_THREAD_ID() * nn_align(L.nn);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)dh, (int)n, (int)n, 1.0f,
                    dO + off, (int)n, P, (int)n, 0.0f, dV + off, (int)n);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)dh, 1.0f,
                    dO + off, (int)n, v + off, (int)n, 0.0f, dP, (int)n);
        for (size_t i = 0; i < n; i++) { /* softmax backward: dS = P (dP - rowsum(P dP)) */
            const float *pr = P + i * n;
            float *dr = dP + i * n;
            double s = 0;
            for (size_t j = 0; j < n; j++) s += (double)pr[j] * dr[j];
            float sf = (float)s;
            for (size_t j = 0; j < n; j++) dr[j] = pr[j] * (dr[j] - sf);
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)dh, (int)n, (int)n, scale,
                    k + off, (int)n, dP, (int)n, 0.0f, dQ + off, (int)n);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)dh, (int)n, (int)n, scale,
                    q + off, (int)n, dP, (int)n, 0.0f, dK + off, (int)n);
    }
    /* q, k, v projections */
    wgrad(batch, L.inner, c, n, 1.0f, dQ, L.in_n, g, L.cn, gr->wq, parts, nt);
    wgrad(batch, L.inner, c, n, 1.0f, dK, L.in_n, g, L.cn, gr->wk, parts, nt);
    wgrad(batch, L.inner, c, n, 1.0f, dV, L.in_n, g, L.cn, gr->wv, parts, nt);
    bgrad(batch, L.inner, n, 1.0f, dQ, L.in_n, gr->bq, nt);
    bgrad(batch, L.inner, n, 1.0f, dK, L.in_n, gr->bk, nt);
    bgrad(batch, L.inner, n, 1.0f, dV, L.in_n, gr->bv, nt);
    float *dgt = d->groups ? dg : dx; /* without a norm, dg adds straight into dx */
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * c * L.inner * n))
    for (long bi = 0; bi < (long)batch; bi++) {
        size_t ob = (size_t)bi * L.in_n;
        float *dgb = dgt + (size_t)bi * L.cn;
        float beta0 = d->groups ? 0.0f : 1.0f;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)c, (int)n, (int)L.inner, 1.0f,
                    p->wq, (int)c, dQ + ob, (int)n, beta0, dgb, (int)n);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)c, (int)n, (int)L.inner, 1.0f,
                    p->wk, (int)c, dK + ob, (int)n, 1.0f, dgb, (int)n);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)c, (int)n, (int)L.inner, 1.0f,
                    p->wv, (int)c, dV + ob, (int)n, 1.0f, dgb, (int)n);
    }
    if (d->groups) {
        nn_gn_bwd(batch, c, n, d->groups, 0, x, p->gamma, p->beta, NULL, stats, dg, dx, 1,
                  gr->gamma, gr->beta, NULL, 0, gnws, nt);
    } else {
        if (gr->gamma) memset(gr->gamma, 0, c * sizeof(float));
        if (gr->beta) memset(gr->beta, 0, c * sizeof(float));
    }
}

size_t brisk_attention_saved_size(const brisk_attention_desc *d, size_t batch) {
    return nn_attn_saved(d, batch);
}

size_t brisk_attention_workspace(const brisk_attention_desc *d, size_t batch) {
    return nn_attn_ws(d, batch, 1, nn_threads()) > nn_attn_ws(d, batch, 0, nn_threads())
               ? nn_attn_ws(d, batch, 1, nn_threads())
               : nn_attn_ws(d, batch, 0, nn_threads());
}

void brisk_attention_forward(const brisk_attention_desc *d, size_t batch, const float *x,
                             const brisk_attention_params *p, float *y, float *saved,
                             float *ws) {
    int prev = nn_blas_enter();
    nn_attn_fwd(d, batch, x, p, y, saved, ws, nn_threads());
    nn_blas_leave(prev);
}

void brisk_attention_backward(const brisk_attention_desc *d, size_t batch, const float *x,
                              const brisk_attention_params *p, const float *saved,
                              const float *dy, float *dx, const brisk_attention_grads *g,
                              float *ws) {
    int prev = nn_blas_enter();
    nn_attn_bwd(d, batch, x, p, saved, dy, dx, 0, g, ws, nn_threads());
    nn_blas_leave(prev);
}
