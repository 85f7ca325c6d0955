/* Internal helpers shared by the analytic denoisers (src/denoise). */
#ifndef BRISK_DENOISE_IMPL_H
#define BRISK_DENOISE_IMPL_H

#include "brisk/core.h"
#include "brisk/denoiser.h"

/* Wraps ctx into a new brisk_denoiser. On failure calls destroy(ctx) and returns
 * BRISK_ENOMEM, so callers can hand over ctx unconditionally. */
int denoise_wrap(void *ctx, brisk_predict_fn predict, void (*destroy)(void *), size_t dim,
                 size_t c, size_t h, size_t w, brisk_prediction pred, brisk_denoiser **out);

/* Checks a model alpha-bar for the x0-based denoisers: finite and in [0, 1). */
int denoise_check_alpha(const char *who, double t, double alpha_bar);

/* Reads a numeric vector from a .npy file (any float/int dtype, any shape: flattened)
 * or a JSON file holding an array of numbers. Caller frees *out with brisk_free. */
int denoise_read_vector(const char *path, double **out, size_t *n);

#endif
