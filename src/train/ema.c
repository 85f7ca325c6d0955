/* Exponential moving average of the parameters (Polyak & Juditsky 1992; as used by DDPM,
 * Ho et al. 2020, appendix B, decay 0.9999). The warm-up decay min(decay, (1+k)/(10+k))
 * is diffusers' EMAModel.get_decay without use_ema_warmup (training/ema), numbered here
 * from the first update k = 0; the update is EMAModel.step's
 * shadow -= (1 - d) (shadow - param). */
#include "train_impl.h"

#include <string.h>

int brisk_ema_init(brisk_ema *e, const float *params, size_t n, double decay, int warmup) {
    BRISK_ASSERT(e && (params || !n));
    memset(e, 0, sizeof *e);
    if (!(decay >= 0 && decay < 1))
        return brisk_error(BRISK_EINVAL, "ema: decay %g must be in [0, 1)", decay);
    e->shadow = brisk_malloc((n ? n : 1) * sizeof(float));
    if (!e->shadow) return BRISK_ENOMEM;
    if (n) memcpy(e->shadow, params, n * sizeof(float));
    e->n = n;
    e->decay = decay;
    e->warmup = warmup ? 1 : 0;
    return BRISK_OK;
}

void brisk_ema_free(brisk_ema *e) {
    if (!e) return;
    brisk_free(e->shadow);
    memset(e, 0, sizeof *e);
}

double brisk_ema_decay_at(const brisk_ema *e, long k) {
    if (!e->warmup) return e->decay;
    double w = (1.0 + (double)k) / (10.0 + (double)k);
    return w < e->decay ? w : e->decay;
}

void brisk_ema_update(brisk_ema *e, const float *params) {
    BRISK_ASSERT(e && (params || !e->n));
    const float omd = (float)(1.0 - brisk_ema_decay_at(e, e->updates));
    float *restrict s = e->shadow;
    const ptrdiff_t n = (ptrdiff_t)e->n;
    const int nt = train_threads(e->n);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (ptrdiff_t i = 0; i < n; i++) s[i] = s[i] - omd * (s[i] - params[i]);
    e->updates++;
}
