/* The evaluation pipeline's two halves: drawing K samples with any scheduler (optionally
 * from DPM-OT data latents) and embedding images with the classifier. */
#include "brisk/eval.h"

#include "brisk/core.h"
#include "brisk/metrics.h"

#include <math.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void brisk_generate_options_default(brisk_generate_options *o) {
    memset(o, 0, sizeof *o);
    o->batch = 64;
}

typedef struct gen_progress {
    const brisk_generate_options *o;
    size_t done_before; /* calls made by earlier batches */
    size_t n_batches;
} gen_progress;

static int forward_progress(void *vctx, size_t done, size_t planned) {
    gen_progress *g = vctx;
    return g->o->progress(g->o->progress_ctx, g->done_before + done, planned * g->n_batches);
}

int brisk_generate(brisk_scheduler *s, const brisk_denoiser *d, int num_inference_steps, size_t K,
                   const brisk_generate_options *o, float *out, brisk_generate_stats *st) {
    BRISK_ASSERT(s && d && out);
    brisk_generate_options def;
    if (!o) {
        brisk_generate_options_default(&def);
        o = &def;
    }
    if (st) memset(st, 0, sizeof *st);
    if (K == 0) return brisk_error(BRISK_EINVAL, "generate: 0 samples requested");
    size_t dim = d->dim, B = o->batch ? o->batch : 64;
    if (B > K) B = K;
    if (o->ot) {
        if (!o->ot_h) return brisk_error(BRISK_EINVAL, "generate: an OT start needs its potential h");
        if (brisk_ot_dim(o->ot) != dim)
            return brisk_error(BRISK_ESHAPE, "generate: the OT targets have dimension %zu, the model %zu",
                               brisk_ot_dim(o->ot), dim);
        if (brisk_ot_get_source(o->ot) != BRISK_OT_SOURCE_NORMAL)
            return brisk_error(BRISK_EINVAL, "generate: the OT source must be 'normal' (the "
                                             "sampler's noise), not uniform");
    }
    /* Check the start before any model call. */
    int rc = brisk_scheduler_set_timesteps(s, num_inference_steps, B, dim);
    if (rc) return rc;
    /* The run maps its input x_T to the VP state xs * x_T at alpha-bar a0; an OT latent is
     * a VP state, so it enters as latent / xs (xs = 1 for the VP samplers). */
    double a0 = 0, xs = 1;
    brisk_scheduler_ode_span(s, &a0, &xs, NULL, NULL);
    if (o->ot && o->ot_alpha_bar > 0 && fabs(a0 - o->ot_alpha_bar) > 1e-6 * o->ot_alpha_bar)
        return brisk_error(BRISK_EINVAL,
                           "generate: the scheduler starts at alpha-bar %.9g but the OT latents are "
                           "at %.9g; restrict the schedule to the latents' level and use "
                           "timestep_spacing trailing", a0, o->ot_alpha_bar);
    if (o->ot && !(xs > 0 && isfinite(xs)))
        return brisk_error(BRISK_EINVAL, "generate: the scheduler's start scale %g cannot take OT latents", xs);
    double *x = brisk_malloc(B * dim * sizeof(double));
    if (!x) return BRISK_ENOMEM;
    gen_progress gp = {.o = o, .n_batches = (K + B - 1) / B};
    brisk_run_options ro;
    brisk_run_options_default(&ro);
    ro.seed = o->seed;
    if (o->progress) {
        ro.progress = forward_progress;
        ro.progress_ctx = &gp;
    }
    size_t nfe_max = 0, nfe_min = (size_t)-1;
    double t0 = now(), t_ot = 0;
    for (size_t off = 0; off < K && !rc; off += B) {
        size_t nb = K - off < B ? K - off : B;
        uint64_t first = o->first_sample + off;
        brisk_sample_init_noise(o->seed, first, nb, dim, x);
        if (o->ot) {
            double t1 = now();
            rc = brisk_ot_map(o->ot, o->ot_h, x, nb, o->ot_index ? o->ot_index + off : NULL, x);
            t_ot += now() - t1;
            if (rc) break;
            if (xs != 1)
                for (size_t i = 0; i < nb * dim; i++) x[i] /= xs;
        }
        ro.sample_offset = first;
        brisk_run_stats rs;
        rc = brisk_sample_run(s, d, num_inference_steps, x, nb, &ro, &rs);
        if (rc) {
            rc = brisk_error_prefix(rc, "samples %zu..%zu: ", (size_t)first, (size_t)(first + nb - 1));
            break;
        }
        gp.done_before += rs.nfe;
        if (rs.nfe > nfe_max) nfe_max = rs.nfe;
        if (rs.nfe < nfe_min) nfe_min = rs.nfe;
        for (size_t i = 0; i < nb * dim; i++) {
            if (!isfinite(x[i])) {
                rc = brisk_error(BRISK_ENUMERIC, "generate: sample %zu is not finite",
                                 (size_t)(first + i / dim));
                break;
            }
            out[off * dim + i] = (float)x[i];
        }
    }
    brisk_free(x);
    if (rc) return rc;
    if (st) {
        st->nfe = nfe_max;
        st->nfe_min = nfe_min;
        st->seconds = now() - t0;
        st->ot_seconds = t_ot;
    }
    return BRISK_OK;
}

int brisk_classifier_embed(brisk_classifier *m, const float *x, size_t n, size_t batch,
                           float *features, float *probs) {
    BRISK_ASSERT(m && x);
    const brisk_classifier_config *c = brisk_classifier_get_config(m);
    size_t dim = c->in_channels * c->height * c->width, F = c->feature_dim, C = c->n_classes;
    if (!batch) batch = 256;
    if (n == 0) return brisk_error(BRISK_EINVAL, "classifier: no images to embed");
    for (size_t i = 0; i < n * dim; i++)
        if (!isfinite(x[i]))
            return brisk_error(BRISK_ENUMERIC, "classifier: image %zu has a non-finite pixel", i / dim);
    float *logits = brisk_malloc(batch * C * sizeof(float));
    if (!logits) return BRISK_ENOMEM;
    int rc = BRISK_OK;
    for (size_t off = 0; off < n; off += batch) {
        size_t nb = n - off < batch ? n - off : batch;
        rc = brisk_classifier_forward(m, x + off * dim, nb, logits);
        if (rc) break;
        if (features) memcpy(features + off * F, brisk_classifier_features(m), nb * F * sizeof(float));
        if (probs) {
            brisk_softmax_rows(logits, nb, C);
            memcpy(probs + off * C, logits, nb * C * sizeof(float));
        }
    }
    brisk_free(logits);
    return rc;
}
