/* norm.c: GroupNorm (Wu & He, "Group Normalization", ECCV 2018; torch.nn.GroupNorm:
 * biased variance, y = (x - mean) / sqrt(var + eps) * gamma + beta), fused with diffusers'
 * ResnetBlock2D "scale_shift" modulation (h = norm2(h) * (1 + scale) + shift) and SiLU.
 *
 * Forward and backward run one (image, group) per work item. Statistics accumulate in
 * double. dgamma/dbeta are reduced per (image, channel) first and then over images in a
 * fixed order, so results do not depend on the thread count. The backward pass recomputes
 * the normalised value from x and the saved (mean, rstd) instead of storing it. */
/* Let GCC vectorise the exp/sigmoid loops: without this, -ftrapping-math (the default) keeps
 * the branch-free clamps in nn_expf from being if-converted. Results are unchanged. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include "nn_impl.h"

#include <math.h>
#include <string.h>

static inline float sigmoidf_(float z, float lo, float hi) {
    return 1.0f / (1.0f + nn_expf2(-z, lo, hi));
}

size_t nn_gn_ws(size_t batch, size_t c, size_t hw, size_t groups, int nt) {
    size_t cpg = c / groups;
    return nn_align(batch * c * 2) + (size_t)nt * nn_align(cpg * hw);
}

void nn_gn_fwd(size_t batch, size_t c, size_t hw, size_t groups, float eps, int silu,
               const float *x, const float *gamma, const float *beta, const float *mod,
               float *y, float *stats, int nt) {
    const size_t cpg = c / groups;
    const size_t n = cpg * hw;
    const float lo = nn_exp_lo, hi = nn_exp_hi;
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * c * hw))
    for (long it = 0; it < (long)(batch * groups); it++) {
        size_t bi = (size_t)it / groups, gi = (size_t)it % groups;
        const float *xg = x + (bi * c + gi * cpg) * hw;
        float *yg = y + (bi * c + gi * cpg) * hw;
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (size_t i = 0; i < n; i++) s += xg[i];
        double mean = s / (double)n, v = 0;
#pragma omp simd reduction(+ : v)
        for (size_t i = 0; i < n; i++) {
            double dd = xg[i] - mean;
            v += dd * dd;
        }
        v /= (double)n;
        float meanf = (float)mean;
        float rstd = (float)(1.0 / sqrt(v + (double)eps));
        stats[2 * (size_t)it] = meanf;
        stats[2 * (size_t)it + 1] = rstd;
        for (size_t cc = 0; cc < cpg; cc++) {
            size_t ch = gi * cpg + cc;
            float a = rstd * gamma[ch];
            float b = beta[ch] - meanf * a;
            if (mod) {
                float sc = 1.0f + mod[bi * 2 * c + ch], sh = mod[bi * 2 * c + c + ch];
                a *= sc;
                b = b * sc + sh;
            }
            const float *xr = xg + cc * hw;
            float *yr = yg + cc * hw;
            if (silu) {
#pragma omp simd
                for (size_t j = 0; j < hw; j++) {
                    float z = xr[j] * a + b;
                    yr[j] = z * sigmoidf_(z, lo, hi);
                }
            } else {
                for (size_t j = 0; j < hw; j++) yr[j] = xr[j] * a + b;
            }
        }
    }
}

void nn_gn_bwd(size_t batch, size_t c, size_t hw, size_t groups, int silu, const float *x,
               const float *gamma, const float *beta, const float *mod, const float *stats,
               const float *dy, float *dx, int acc_dx, float *dgamma, float *dbeta,
               float *dmod, int acc_dmod, float *ws, int nt) {
    const size_t cpg = c / groups;
    const size_t n = cpg * hw;
    float *part = ws; /* (B, C, 2): per image sums of dzn * xhat and dzn */
    float *scratch0 = ws + nn_align(batch * c * 2);
    const float lo = nn_exp_lo, hi = nn_exp_hi;
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * c * hw))
    for (long it = 0; it < (long)(batch * groups); it++) {
        size_t bi = (size_t)it / groups, gi = (size_t)it % groups;
        const float *xg = x + (bi * c + gi * cpg) * hw;
        const float *dyg = dy + (bi * c + gi * cpg) * hw;
        float *dxg = dx + (bi * c + gi * cpg) * hw;
        float *dxh = scratch0 + (size_t)NN_THREAD_ID() * nn_align(n); /* d xhat */
        const float mean = stats[2 * (size_t)it], rstd = stats[2 * (size_t)it + 1];
        double s1 = 0, s2 = 0; /* sum dxhat, sum dxhat * xhat over the group */
        for (size_t cc = 0; cc < cpg; cc++) {
            size_t ch = gi * cpg + cc;
            const float g = gamma[ch];
            const float a0 = rstd * g, b0 = beta[ch] - mean * a0;
            float sc = 1.0f, sh = 0.0f;
            if (mod) {
                sc = 1.0f + mod[bi * 2 * c + ch];
                sh = mod[bi * 2 * c + c + ch];
            }
            const float *xr = xg + cc * hw;
            const float *dyr = dyg + cc * hw;
            float *dr = dxh + cc * hw;
            /* per-row sums in float (vectorised, fixed order for a given hw), then double */
            float sdz = 0, sdz_zn = 0, sdzn = 0, sdzn_xh = 0, r1 = 0, r2 = 0;
#pragma omp simd reduction(+ : sdz, sdz_zn, sdzn, sdzn_xh, r1, r2)
            for (size_t j = 0; j < hw; j++) {
                float zn = xr[j] * a0 + b0;
                float dz = dyr[j];
                if (silu) {
                    float z = zn * sc + sh;
                    float sg = sigmoidf_(z, lo, hi);
                    dz *= sg * (1.0f + z * (1.0f - sg));
                }
                float dzn = dz * sc;
                float xh = (xr[j] - mean) * rstd;
                sdz += dz;
                sdz_zn += dz * zn;
                sdzn += dzn;
                sdzn_xh += dzn * xh;
                float dxhat = dzn * g;
                dr[j] = dxhat;
                r1 += dxhat;
                r2 += dxhat * xh;
            }
            s1 += r1;
            s2 += r2;
            part[(bi * c + ch) * 2] = (float)sdzn_xh;
            part[(bi * c + ch) * 2 + 1] = (float)sdzn;
            if (dmod) {
                float *dm = dmod + bi * 2 * c;
                dm[ch] = (acc_dmod ? dm[ch] : 0.0f) + (float)sdz_zn;
                dm[c + ch] = (acc_dmod ? dm[c + ch] : 0.0f) + (float)sdz;
            }
        }
        const float m1 = (float)(s1 / (double)n), m2 = (float)(s2 / (double)n);
        for (size_t i = 0; i < n; i++) {
            float xh = (xg[i] - mean) * rstd;
            float v = rstd * (dxh[i] - m1 - xh * m2);
            dxg[i] = acc_dx ? dxg[i] + v : v;
        }
    }
    if (dgamma || dbeta) {
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * c))
        for (long ch = 0; ch < (long)c; ch++) {
            double sg = 0, sb = 0;
            for (size_t bi = 0; bi < batch; bi++) {
                sg += part[(bi * c + (size_t)ch) * 2];
                sb += part[(bi * c + (size_t)ch) * 2 + 1];
            }
            if (dgamma) dgamma[ch] = (float)sg;
            if (dbeta) dbeta[ch] = (float)sb;
        }
    }
}

void brisk_groupnorm_forward(size_t batch, size_t c, size_t hw, size_t groups, float eps,
                             const float *x, const float *gamma, const float *beta, float *y,
                             float *stats) {
    BRISK_ASSERT(groups > 0 && c % groups == 0);
    nn_gn_fwd(batch, c, hw, groups, eps, 0, x, gamma, beta, NULL, y, stats, nn_threads());
}

void brisk_groupnorm_backward(size_t batch, size_t c, size_t hw, size_t groups,
                              const float *x, const float *gamma, const float *stats,
                              const float *dy, float *dx, float *dgamma, float *dbeta) {
    BRISK_ASSERT(groups > 0 && c % groups == 0);
    int nt = nn_threads();
    /* The public entry allocates its scratch: GroupNorm backward needs per-thread
     * temporaries that the caller would otherwise have to size. beta only enters through
     * the SiLU path, which the plain GroupNorm does not use. */
    float *ws = brisk_malloc(nn_gn_ws(batch, c, hw, groups, nt) * sizeof(float));
    BRISK_ASSERT(ws);
    nn_gn_bwd(batch, c, hw, groups, 0, x, gamma, gamma, NULL, stats, dy, dx, 0, dgamma, dbeta,
              NULL, 0, ws, nt);
    brisk_free(ws);
}
