/* brisk/eval.h: the generative-evaluation pipeline: draw K samples with a scheduler and a
 * denoiser (optionally starting from DPM-OT data latents), embed images with the shipped
 * classifier, and measure them with brisk/metrics.h.
 *
 *     brisk_scheduler *s;  brisk_denoiser *d;          // as for brisk_sample_run
 *     float *img = brisk_malloc(K * d->dim * sizeof(float));
 *     brisk_generate_options go;
 *     brisk_generate_options_default(&go);
 *     go.seed = 1;
 *     brisk_generate_stats gs;
 *     brisk_generate(s, d, 50, K, &go, img, &gs);     // gs.nfe per sample, gs.seconds
 *
 *     brisk_classifier *clf;
 *     brisk_classifier_load("models/fmnist-classifier", &clf);
 *     float *feat = ..., *prob = ...;                  // (K, 256), (K, 10)
 *     brisk_classifier_embed(clf, img, K, 256, feat, prob);
 *
 * DPM-OT starts (go.ot, go.ot_h): the initial noise of sample i (the same standard normals
 * brisk_sample_run would start from) is replaced by the target latent of its cell, and the
 * scheduler, whose config was restricted with brisk_scheduler_config_truncate to the latents'
 * level, runs from there. brisk_generate checks that the scheduler's first state is at the
 * latents' alpha-bar. Details: docs/eval.md.
 */
#ifndef BRISK_EVAL_H
#define BRISK_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "brisk/denoiser.h"
#include "brisk/diffusion.h"
#include "brisk/io.h"
#include "brisk/nn.h"
#include "brisk/ot.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct brisk_generate_options {
    uint64_t seed;          /* noise seed: sample i starts from Philox (seed, i) (default 0) */
    uint64_t first_sample;  /* index of the first sample (default 0) */
    size_t batch;           /* samples per sampler run (default 64) */
    const brisk_ot *ot;     /* optional DPM-OT start: targets = latents at the start level */
    const double *ot_h;     /* its potential (length N) */
    double ot_alpha_bar;    /* alpha-bar of the latents (checked against the scheduler's
                               start within 1e-6 relative); 0 = do not check */
    int64_t *ot_index;      /* optional out: (K) cell of each sample */
    /* Called after every model call with the calls done and planned over all K samples
     * (planned is 0 for adaptive samplers); non-zero stops (BRISK_ESTATE). */
    int (*progress)(void *ctx, size_t calls_done, size_t calls_planned);
    void *progress_ctx;
} brisk_generate_options;
void brisk_generate_options_default(brisk_generate_options *o);

typedef struct brisk_generate_stats {
    size_t nfe;      /* model calls per sample (the largest over batches) */
    size_t nfe_min;  /* the smallest (differs only for adaptive samplers) */
    double seconds;  /* wall time of the sampling, the OT map included */
    double ot_seconds; /* of which the OT map */
} brisk_generate_stats;

/* Draws K samples into out (K, d->dim) float32. The scheduler's config decides the sampler;
 * batches of o->batch run one after another (each sample's noise depends only on
 * (seed, index), so the result does not depend on the batch size for deterministic
 * samplers). Errors name the failing step or the OT mismatch (dimensions, start level). */
int brisk_generate(brisk_scheduler *s, const brisk_denoiser *d, int num_inference_steps, size_t K,
                   const brisk_generate_options *o, float *out, brisk_generate_stats *st);

/* Runs the classifier on n images x (n, C, H, W) in batches of `batch` (0: 256), writing the
 * penultimate features (n, feature_dim) and/or the softmax probabilities (n, n_classes);
 * either output may be NULL. Non-finite images are BRISK_ENUMERIC naming the sample. */
int brisk_classifier_embed(brisk_classifier *m, const float *x, size_t n, size_t batch,
                           float *features, float *probs);

#ifdef __cplusplus
}
#endif
#endif
