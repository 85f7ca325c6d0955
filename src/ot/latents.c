/* Data latents for DPM-OT: training images diffused to an intermediate level with fixed
 * noise, y_t = sqrt(a_t) y_0 + sqrt(1 - a_t) eps (DDPM forward process, Ho et al. 2020,
 * Eq. 4). DPM-OT (Li et al., ICCV 2023) transports white noise to these latents. */
#include "ot_impl.h"

#include "brisk/core.h"

#include <math.h>
#include <string.h>

/* The linear beta schedule of DDPM (Ho et al. 2020, Sec. 4: 1e-4 .. 0.02 over T = 1000) in
 * diffusers' form: betas = linspace(beta_start, beta_end, T), alphas_cumprod = cumprod(1 -
 * betas). A small local copy so the OT module does not depend on the diffusion module. */
int brisk_ot_alpha_bar_linear(int level, int T, double beta_start, double beta_end,
                              double *out) {
    BRISK_ASSERT(out != NULL);
    if (T < 1) return brisk_error(BRISK_EINVAL, "latents: T must be >= 1 (got %d)", T);
    if (level < 0 || level >= T)
        return brisk_error(BRISK_EINVAL, "latents: level %d is outside 0..%d", level, T - 1);
    if (!(beta_start > 0 && beta_end >= beta_start && beta_end < 1))
        return brisk_error(BRISK_EINVAL,
                           "latents: need 0 < beta_start <= beta_end < 1 (got %g, %g)",
                           beta_start, beta_end);
    double ab = 1.0;
    for (int s = 0; s <= level; s++) {
        double beta = T == 1 ? beta_start
                             : beta_start + (beta_end - beta_start) * (double)s / (double)(T - 1);
        ab *= 1.0 - beta;
    }
    *out = ab;
    return 0;
}

int brisk_ot_diffuse(float *y, size_t n, size_t d, double alpha_bar, uint64_t seed,
                     uint64_t first_index) {
    BRISK_ASSERT(y || n == 0);
    if (!(alpha_bar > 0 && alpha_bar <= 1))
        return brisk_error(BRISK_EINVAL, "latents: alpha-bar must lie in (0, 1] (got %g)",
                           alpha_bar);
    double *eps = brisk_malloc(d * sizeof *eps);
    if (!eps) return BRISK_ENOMEM;
    const double a = sqrt(alpha_bar), b = sqrt(1.0 - alpha_bar);
    for (size_t i = 0; i < n; i++) {
        brisk_randn(seed, first_index + i, BRISK_OT_STREAM_LATENT, d, eps);
        float *row = y + i * d;
        for (size_t j = 0; j < d; j++) row[j] = (float)(a * (double)row[j] + b * eps[j]);
    }
    brisk_free(eps);
    return 0;
}

int brisk_ot_fmnist_latents(const char *dir, size_t num, double alpha_bar, uint64_t seed,
                            brisk_array *out, uint8_t **labels) {
    BRISK_ASSERT(out != NULL);
    memset(out, 0, sizeof *out);
    if (labels) *labels = NULL;
    if (num == 0) return brisk_error(BRISK_EINVAL, "latents: --num must be positive");
    brisk_dataset ds;
    int rc = brisk_fmnist_load(dir, BRISK_SPLIT_TRAIN, 1, num, &ds);
    if (rc) return rc;
    if (ds.n < num) {
        rc = brisk_error(BRISK_EINVAL, "latents: asked for %zu images but the training set has %zu",
                         num, ds.n);
        brisk_dataset_free(&ds);
        return rc;
    }
    size_t d = ds.c * ds.h * ds.w;
    rc = brisk_ot_diffuse(ds.images, num, d, alpha_bar, seed, 0);
    if (rc) {
        brisk_dataset_free(&ds);
        return rc;
    }
    out->dtype = BRISK_F32;
    out->ndim = 2;
    out->shape[0] = num;
    out->shape[1] = d;
    out->data = ds.images; /* ownership moves to out */
    ds.images = NULL;
    if (labels) {
        *labels = ds.labels;
        ds.labels = NULL;
    }
    brisk_dataset_free(&ds);
    return 0;
}
