/* Gradient norms and clipping by the global l2 norm (Pascanu et al. 2013, "On the
 * difficulty of training recurrent neural networks", Algorithm 1; semantics of PyTorch's
 * torch.nn.utils.clip_grad_norm_: coefficient max_norm / (norm + 1e-6), clamped at 1). */
#include "train_impl.h"

#include <math.h>

void brisk_grad_norms(const float *g, size_t n, double *l2, double *l1) {
    BRISK_ASSERT(g || !n);
    const size_t nch = (n + TRAIN_CHUNK - 1) / TRAIN_CHUNK;
    double s2 = 0.0, s1 = 0.0;
    const int nt = train_threads(n);
    /* Per-chunk partial sums in double, then summed in chunk order: the result does not
     * depend on the number of threads. Partial sums are kept per block of 64 chunks so
     * that no allocation is needed. */
    for (size_t b0 = 0; b0 < nch; b0 += 64) {
        double p2[64], p1[64];
        const ptrdiff_t nb = (ptrdiff_t)(nch - b0 < 64 ? nch - b0 : 64);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (ptrdiff_t c = 0; c < nb; c++) {
            size_t lo = (b0 + (size_t)c) * TRAIN_CHUNK;
            size_t hi = lo + TRAIN_CHUNK < n ? lo + TRAIN_CHUNK : n;
            double a2 = 0.0, a1 = 0.0;
            for (size_t i = lo; i < hi; i++) {
                double v = g[i];
                a2 += v * v;
                a1 += fabs(v);
            }
            p2[c] = a2;
            p1[c] = a1;
        }
        for (ptrdiff_t c = 0; c < nb; c++) {
            s2 += p2[c];
            s1 += p1[c];
        }
    }
    if (l2) *l2 = sqrt(s2);
    if (l1) *l1 = s1;
}

double brisk_clip_grad_norm(float *g, size_t n, double max_norm, double norm) {
    BRISK_ASSERT(g || !n);
    /* torch computes the norm and the coefficient as float32 tensors. */
    float fnorm = (float)norm;
    float coef = (float)max_norm / (fnorm + 1e-6f);
    if (!(coef < 1.0f)) return 1.0;
    const ptrdiff_t m = (ptrdiff_t)n;
    const int nt = train_threads(n);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (ptrdiff_t i = 0; i < m; i++) g[i] *= coef;
    return coef;
}
