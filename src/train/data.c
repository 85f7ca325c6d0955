/* The deterministic data pipeline: per-epoch Fisher-Yates shuffles (Knuth, TAOCP vol. 2,
 * Algorithm 3.4.2P) driven by Philox words, an endless sample stream indexed by the global
 * sample number, optional horizontal flips, and DDPM training pairs (Ho et al. 2020,
 * Algorithm 1: x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps, t uniform in {0..T-1} as diffusers'
 * train_unconditional.py draws it). */
#include "train_impl.h"

#include "brisk/diffusion.h"
#include "brisk/rng.h"

#include <math.h>
#include <string.h>
#include <strings.h>

void brisk_train_permutation(uint64_t seed, uint64_t epoch, size_t n, uint32_t *perm,
                             uint32_t *words) {
    BRISK_ASSERT((perm && words) || !n);
    BRISK_ASSERT(n < ((size_t)1 << 32));
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    if (n < 2) return;
    brisk_rand_u32(seed, epoch, BRISK_STREAM(BRISK_RNG_DATA, 0), n, words);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = brisk_rand_below(words[i], (uint32_t)(i + 1));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

int brisk_batcher_init(brisk_batcher *b, const brisk_dataset *data, size_t batch,
                       uint64_t seed, int hflip) {
    BRISK_ASSERT(b && data);
    memset(b, 0, sizeof *b);
    if (!data->n || !batch)
        return brisk_error(BRISK_EINVAL, "batcher: empty dataset or batch size 0");
    if (data->n >= ((size_t)1 << 32))
        return brisk_error(BRISK_EINVAL, "batcher: %zu images is too many", data->n);
    b->perm = brisk_malloc(data->n * sizeof(uint32_t));
    b->words = brisk_malloc(data->n * sizeof(uint32_t));
    if (!b->perm || !b->words) {
        brisk_batcher_free(b);
        return BRISK_ENOMEM;
    }
    b->data = data;
    b->batch = batch;
    b->seed = seed;
    b->hflip = hflip ? 1 : 0;
    b->perm_epoch = UINT64_MAX;
    return BRISK_OK;
}

void brisk_batcher_free(brisk_batcher *b) {
    if (!b) return;
    brisk_free(b->perm);
    brisk_free(b->words);
    memset(b, 0, sizeof *b);
}

void brisk_batcher_fill(brisk_batcher *b, uint64_t step, float *x, uint8_t *labels,
                        uint64_t *gidx) {
    BRISK_ASSERT(b && b->perm && x);
    const brisk_dataset *d = b->data;
    const size_t dim = d->c * d->h * d->w;
    for (size_t k = 0; k < b->batch; k++) {
        uint64_t g = step * (uint64_t)b->batch + k;
        uint64_t epoch = g / d->n;
        if (epoch != b->perm_epoch) {
            brisk_train_permutation(b->seed, epoch, d->n, b->perm, b->words);
            b->perm_epoch = epoch;
        }
        size_t idx = b->perm[g % d->n];
        const float *src = d->images + idx * dim;
        float *dst = x + k * dim;
        int flip = 0;
        if (b->hflip) {
            uint32_t w;
            brisk_rand_u32(b->seed, g, BRISK_STREAM(BRISK_RNG_DATA, 1), 1, &w);
            flip = (int)(w & 1u);
        }
        if (!flip) {
            memcpy(dst, src, dim * sizeof(float));
        } else {
            for (size_t r = 0; r < d->c * d->h; r++)
                for (size_t c = 0; c < d->w; c++)
                    dst[r * d->w + c] = src[r * d->w + (d->w - 1 - c)];
        }
        if (labels) labels[k] = d->labels ? d->labels[idx] : 0;
        if (gidx) gidx[k] = g;
    }
}

void brisk_ddpm_training_batch(const double *alphas_cumprod, int T, uint64_t seed,
                               const uint64_t *gidx, size_t batch, size_t dim, const float *x0,
                               float *xt, float *eps, float *t) {
    BRISK_ASSERT(alphas_cumprod && T > 0 && gidx && x0 && xt && eps && t);
    const ptrdiff_t nb = (ptrdiff_t)batch;
    const int nt = batch > 1 ? brisk_get_num_threads() : 1;
#pragma omp parallel for schedule(static) num_threads(nt > 0 ? nt : 1) if (nt > 1)
    for (ptrdiff_t k = 0; k < nb; k++) {
        uint32_t w;
        brisk_rand_u32(seed, gidx[k], BRISK_STREAM(BRISK_RNG_TRAIN, 1), 1, &w);
        uint32_t tk = brisk_rand_below(w, (uint32_t)T);
        float *e = eps + (size_t)k * dim;
        brisk_randn_f32(seed, gidx[k], BRISK_STREAM(BRISK_RNG_TRAIN, 0), dim, e);
        /* diffusers DDPMScheduler.add_noise: sqrt(a_t) x0 + sqrt(1 - a_t) eps */
        const float sa = (float)sqrt(alphas_cumprod[tk]);
        const float s1 = (float)sqrt(1.0 - alphas_cumprod[tk]);
        const float *x = x0 + (size_t)k * dim;
        float *y = xt + (size_t)k * dim;
        for (size_t i = 0; i < dim; i++) y[i] = sa * x[i] + s1 * e[i];
        t[k] = (float)tk;
    }
}

int brisk_train_alphas_cumprod(const char *beta_schedule, double beta_start, double beta_end,
                               int T, double **out) {
    BRISK_ASSERT(out);
    *out = NULL;
    if (T < 2) return brisk_error(BRISK_EINVAL, "num_train_timesteps %d must be >= 2", T);
    brisk_scheduler_config c;
    brisk_scheduler_config_default(&c, BRISK_SAMPLER_DDPM);
    int rc = brisk_beta_schedule_from_name(beta_schedule ? beta_schedule : "linear",
                                           &c.beta_schedule);
    if (!rc && c.beta_schedule == BRISK_BETA_TRAINED)
        rc = brisk_error(BRISK_EUNSUPPORTED, "beta_schedule '%s' is not supported for training "
                         "(linear, scaled_linear, squaredcos_cap_v2)", beta_schedule);
    if (rc) return rc;
    if (c.beta_schedule != BRISK_BETA_SQUAREDCOS_CAP_V2 &&
        !(beta_start > 0 && beta_end < 1 && beta_start <= beta_end))
        return brisk_error(BRISK_EINVAL, "betas must satisfy 0 < beta_start <= beta_end < 1 "
                           "(got %g, %g)", beta_start, beta_end);
    c.num_train_timesteps = T;
    c.beta_start = beta_start;
    c.beta_end = beta_end;
    /* The sampler's own table (diffusers' float32 arithmetic by default), so a model is
     * trained on exactly the alpha-bars brisk samples it with. */
    brisk_noise_schedule ns;
    if ((rc = brisk_noise_schedule_init(&ns, &c))) return rc;
    *out = ns.alphas_cumprod;
    ns.alphas_cumprod = NULL;
    brisk_noise_schedule_free(&ns);
    return BRISK_OK;
}
