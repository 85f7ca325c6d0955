/* ops.c: small kernels (SiLU, Linear, nearest upsampling, the sinusoidal timestep
 * embedding, losses) and the engine's threading helpers. */
/* Let GCC vectorise the exp/sigmoid loops: without this, -ftrapping-math (the default) keeps
 * the branch-free clamps in nn_expf from being if-converted. Results are unchanged. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include "nn_impl.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* ---- threading ---- */

int nn_threads(void) {
    int n = brisk_get_num_threads();
    return n > 0 ? n : 1;
}

int nn_blas_enter(void) {
    int prev = openblas_get_num_threads();
    if (prev != 1) openblas_set_num_threads(1);
    return prev;
}

void nn_blas_leave(int prev) {
    if (prev != 1) openblas_set_num_threads(prev);
}

void nn_reduce_chunks(float *dst, const float *parts, size_t nch, size_t n, int acc, int nt) {
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)n))
    for (long i = 0; i < (long)n; i++) {
        float s = acc ? dst[i] : 0.0f;
        for (size_t c = 0; c < nch; c++) s += parts[c * n + (size_t)i];
        dst[i] = s;
    }
}

/* ---- half precision ---- */

float nn_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: renormalise */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400));
            man &= 0x3ff;
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | (man << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float nn_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* ---- SiLU (Hendrycks & Gimpel 2016; Elfwing et al. 2018): x * sigmoid(x) ---- */

void nn_silu_fwd(size_t n, const float *x, float *y, int nt) {
    const float lo = nn_exp_lo, hi = nn_exp_hi;
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static) if (n > 4096)
    for (long i = 0; i < (long)n; i++) y[i] = x[i] / (1.0f + nn_expf2(-x[i], lo, hi));
}

void nn_silu_bwd(size_t n, const float *x, const float *dy, float *dx, int acc, int nt) {
    const float lo = nn_exp_lo, hi = nn_exp_hi;
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static) if (n > 4096)
    for (long i = 0; i < (long)n; i++) {
        float s = 1.0f / (1.0f + nn_expf2(-x[i], lo, hi));
        float v = dy[i] * s * (1.0f + x[i] * (1.0f - s));
        dx[i] = acc ? dx[i] + v : v;
    }
}

void brisk_silu_forward(size_t n, const float *x, float *y) { nn_silu_fwd(n, x, y, nn_threads()); }
void brisk_silu_backward(size_t n, const float *x, const float *dy, float *dx) {
    nn_silu_bwd(n, x, dy, dx, 0, nn_threads());
}

/* ---- Linear: y = x w^T + b, split over fixed blocks of 64 output (or input) features ---- */

#define LIN_BLK 64

/* Forward work items are (sample, block of output features), one sgemv each, so a sample's
 * result does not depend on the batch it is in. */
void nn_linear_fwd(size_t batch, size_t in, size_t out, const float *x, const float *w,
                   const float *b, float *y, int nt) {
    const size_t nblk = (out + LIN_BLK - 1) / LIN_BLK;
    const long nitems = (long)(batch * nblk);
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static) if (batch * in * out > 100000)
    for (long it = 0; it < nitems; it++) {
        size_t bi = (size_t)it / nblk, blk = (size_t)it % nblk;
        size_t o0 = blk * LIN_BLK, o1 = o0 + LIN_BLK < out ? o0 + LIN_BLK : out;
        float *yb = y + bi * out;
        for (size_t o = o0; o < o1; o++) yb[o] = b ? b[o] : 0.0f;
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)(o1 - o0), (int)in, 1.0f, w + o0 * in,
                    (int)in, x + bi * in, 1, 1.0f, yb + o0, 1);
    }
}

void nn_linear_bwd(size_t batch, size_t in, size_t out, const float *x, const float *w,
                   const float *dy, float *dx, int acc_dx, float *dw, float *db, int nt) {
    const size_t oblk = (out + LIN_BLK - 1) / LIN_BLK;
    (void)nt;
    if (dw || db) {
#pragma omp parallel for num_threads(nt) schedule(static) if (batch * in * out > 100000)
        for (long blk = 0; blk < (long)oblk; blk++) {
            size_t o0 = (size_t)blk * LIN_BLK, o1 = o0 + LIN_BLK < out ? o0 + LIN_BLK : out;
            if (dw)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(o1 - o0), (int)in,
                            (int)batch, 1.0f, dy + o0, (int)out, x, (int)in, 0.0f, dw + o0 * in,
                            (int)in);
            if (db)
                for (size_t o = o0; o < o1; o++) {
                    double s = 0;
                    for (size_t bi = 0; bi < batch; bi++) s += dy[bi * out + o];
                    db[o] = (float)s;
                }
        }
    }
    if (dx) {
        const size_t iblk = (in + LIN_BLK - 1) / LIN_BLK;
#pragma omp parallel for num_threads(nt) schedule(static) if (batch * in * out > 100000)
        for (long blk = 0; blk < (long)iblk; blk++) {
            size_t i0 = (size_t)blk * LIN_BLK, i1 = i0 + LIN_BLK < in ? i0 + LIN_BLK : in;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)batch, (int)(i1 - i0),
                        (int)out, 1.0f, dy, (int)out, w + i0, (int)in, acc_dx ? 1.0f : 0.0f,
                        dx + i0, (int)in);
        }
    }
}

void brisk_linear_forward(size_t batch, size_t in, size_t out, const float *x, const float *w,
                          const float *b, float *y) {
    int prev = nn_blas_enter();
    nn_linear_fwd(batch, in, out, x, w, b, y, nn_threads());
    nn_blas_leave(prev);
}

void brisk_linear_backward(size_t batch, size_t in, size_t out, const float *x, const float *w,
                           const float *dy, float *dx, float *dw, float *db) {
    int prev = nn_blas_enter();
    nn_linear_bwd(batch, in, out, x, w, dy, dx, 0, dw, db, nn_threads());
    nn_blas_leave(prev);
}

/* ---- nearest 2x upsampling (diffusers Upsample2D: F.interpolate(scale_factor=2.0,
 * mode="nearest")) ---- */

void nn_upsample_fwd(size_t batch, size_t c, size_t h, size_t w, const float *x, float *y,
                     int nt) {
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * c * h * w))
    for (long p = 0; p < (long)(batch * c); p++) {
        const float *xp = x + (size_t)p * h * w;
        float *yp = y + (size_t)p * 4 * h * w;
        for (size_t i = 0; i < h; i++) {
            float *r0 = yp + (2 * i) * 2 * w, *r1 = r0 + 2 * w;
            for (size_t j = 0; j < w; j++) r0[2 * j] = r0[2 * j + 1] = xp[i * w + j];
            memcpy(r1, r0, 2 * w * sizeof(float));
        }
    }
}

void nn_upsample_bwd(size_t batch, size_t c, size_t h, size_t w, const float *dy, float *dx,
                     int acc, int nt) {
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * c * h * w))
    for (long p = 0; p < (long)(batch * c); p++) {
        const float *dp = dy + (size_t)p * 4 * h * w;
        float *xp = dx + (size_t)p * h * w;
        for (size_t i = 0; i < h; i++) {
            const float *r0 = dp + (2 * i) * 2 * w, *r1 = r0 + 2 * w;
            for (size_t j = 0; j < w; j++) {
                float v = (r0[2 * j] + r0[2 * j + 1]) + (r1[2 * j] + r1[2 * j + 1]);
                xp[i * w + j] = acc ? xp[i * w + j] + v : v;
            }
        }
    }
}

void brisk_upsample2x_forward(size_t batch, size_t c, size_t h, size_t w, const float *x,
                              float *y) {
    nn_upsample_fwd(batch, c, h, w, x, y, nn_threads());
}

void brisk_upsample2x_backward(size_t batch, size_t c, size_t h, size_t w, const float *dy,
                               float *dx) {
    nn_upsample_bwd(batch, c, h, w, dy, dx, 0, nn_threads());
}

/* ---- sinusoidal timestep embedding: diffusers embeddings.get_timestep_embedding
 * (Vaswani et al. 2017 positional encoding; DDPM's Transformer sinusoidal embedding),
 * evaluated in float32 in the same order as PyTorch:
 *   exponent_i = (-ln(max_period) * i) / (half - freq_shift); f_i = exp(exponent_i);
 *   arg = t * f_i; emb = [sin(arg), cos(arg)], halves swapped if flip_sin_to_cos. ---- */

void brisk_timestep_embedding(size_t batch, const float *t, size_t dim, int flip_sin_to_cos,
                              float freq_shift, float *out) {
    const size_t half = dim / 2;
    const float neg_log = (float)(-log(10000.0));
    const float denom = (float)half - freq_shift;
    for (size_t bi = 0; bi < batch; bi++) {
        float *o = out + bi * dim;
        for (size_t i = 0; i < half; i++) {
            float e = expf((neg_log * (float)i) / denom);
            float a = t[bi] * e;
            float s = sinf(a), c = cosf(a);
            if (flip_sin_to_cos) {
                o[i] = c;
                o[half + i] = s;
            } else {
                o[i] = s;
                o[half + i] = c;
            }
        }
        if (dim % 2) o[dim - 1] = 0.0f;
    }
}

/* ---- losses (torch.nn.functional.mse_loss / cross_entropy, reduction "mean") ---- */

double brisk_mse_loss(const float *pred, const float *target, size_t n, float *dpred) {
    double s = 0;
    const float g = 2.0f / (float)n;
    for (size_t i = 0; i < n; i++) {
        float d = pred[i] - target[i];
        s += (double)d * d;
        if (dpred) dpred[i] = g * d;
    }
    return s / (double)n;
}

double brisk_cross_entropy_loss(const float *logits, const uint8_t *labels, size_t batch,
                                size_t classes, float *dlogits) {
    double total = 0;
    for (size_t bi = 0; bi < batch; bi++) {
        const float *l = logits + bi * classes;
        float mx = l[0];
        for (size_t k = 1; k < classes; k++)
            if (l[k] > mx) mx = l[k];
        double se = 0;
        for (size_t k = 0; k < classes; k++) se += exp((double)l[k] - mx);
        double lse = mx + log(se);
        size_t y = labels[bi];
        BRISK_ASSERT(y < classes);
        total += lse - l[y];
        if (dlogits) {
            for (size_t k = 0; k < classes; k++) {
                double p = exp((double)l[k] - lse);
                dlogits[bi * classes + k] = (float)((p - (k == y ? 1.0 : 0.0)) / (double)batch);
            }
        }
    }
    return total / (double)batch;
}

/* ---- tensors ---- */

int brisk_tensor_alloc(brisk_tensor *t, size_t n, size_t c, size_t h, size_t w) {
    t->n = n;
    t->c = c;
    t->h = h;
    t->w = w;
    size_t numel = n * c * h * w;
    t->data = brisk_calloc(numel ? numel : 1, sizeof(float));
    return t->data ? BRISK_OK : BRISK_ENOMEM;
}

void brisk_tensor_free(brisk_tensor *t) {
    if (!t) return;
    brisk_free(t->data);
    t->data = NULL;
}
