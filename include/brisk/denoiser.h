/* brisk/denoiser.h: the model interface samplers drive, and the analytic denoisers that
 * make sampler error exactly measurable.
 *
 * A denoiser maps a batch of noisy states to a prediction. brisk samplers work in
 * float64 on flat (batch, dim) arrays; a neural network adapter converts as needed.
 *
 *     brisk_denoiser *d;
 *     brisk_denoiser_create_gaussian(mean, std, dim, BRISK_PRED_EPSILON, &d);
 *     brisk_denoiser_predict(d, x, batch, t, alpha_bar, out);  // out: (batch, dim)
 *     brisk_denoiser_free(d);
 */
#ifndef BRISK_DENOISER_H
#define BRISK_DENOISER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a model predicts (diffusers' prediction_type). */
typedef enum brisk_prediction {
    BRISK_PRED_EPSILON = 0,
    BRISK_PRED_V,      /* "v_prediction" */
    BRISK_PRED_SAMPLE, /* x0 */
    BRISK_PRED_COUNT
} brisk_prediction;
const char *brisk_prediction_name(brisk_prediction p); /* diffusers spelling */
int brisk_prediction_from_name(const char *name, brisk_prediction *out);

/* The callback a denoiser implements.
 * x: (batch, dim) model input at model timestep t (fractional t is allowed) whose
 * alpha-bar, as the sampler computes it, is alpha_bar. out: (batch, dim) prediction of
 * type `prediction`. Returns 0 or a BRISK_E* code (with brisk_error set). */
typedef int (*brisk_predict_fn)(void *ctx, const double *x, size_t batch, size_t dim, double t,
                                double alpha_bar, double *out);

typedef struct brisk_denoiser {
    brisk_predict_fn predict;
    void (*destroy)(void *ctx); /* may be NULL */
    void *ctx;
    size_t dim;                 /* elements per sample */
    size_t c, h, w;             /* image shape when dim = c*h*w, else 0 */
    brisk_prediction prediction;
} brisk_denoiser;

/* Calls d->predict. */
int brisk_denoiser_predict(const brisk_denoiser *d, const double *x, size_t batch, double t,
                           double alpha_bar, double *out);
/* Calls destroy(ctx) and frees d. NULL is allowed. */
void brisk_denoiser_free(brisk_denoiser *d);

#ifdef __cplusplus
}
#endif
#endif
