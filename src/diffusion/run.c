/* The run API: drives a denoiser callback through a whole sampler. */
#include "diffusion/diffusion_impl.h"

#include "brisk/rng.h"

#include <math.h>
#include <string.h>
#include <time.h>

void brisk_run_options_default(brisk_run_options *o) { memset(o, 0, sizeof *o); }

void brisk_sample_init_noise(uint64_t seed, uint64_t sample_offset, size_t batch, size_t dim,
                             double *x) {
    for (size_t b = 0; b < batch; b++)
        brisk_randn(seed, sample_offset + b, BRISK_STREAM(BRISK_RNG_INIT, 0), dim, x + b * dim);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Converts a prediction of type `from` to type `to` at alpha-bar a on input x. */
static void convert_pred(brisk_prediction from, brisk_prediction to, double *mo, const double *x,
                         double a, size_t n) {
    if (from == to) return;
    brisk__to_x0(from, mo, x, a, n, mo);
    if (to == BRISK_PRED_SAMPLE) return;
    double sa = sqrt(a), sb = sqrt(1 - a);
    for (size_t i = 0; i < n; i++) {
        double eps = (x[i] - sa * mo[i]) / sb;
        mo[i] = to == BRISK_PRED_EPSILON ? eps : sa * eps - sb * mo[i];
    }
}

int brisk_sample_run(brisk_scheduler *s, const brisk_denoiser *d, int num_inference_steps,
                     double *x, size_t batch, const brisk_run_options *o, brisk_run_stats *st) {
    BRISK_ASSERT(s && d && x);
    brisk_run_options def;
    if (!o) {
        brisk_run_options_default(&def);
        o = &def;
    }
    double t0 = now();
    if (st) memset(st, 0, sizeof *st);
    int rc = brisk_scheduler_set_timesteps(s, num_inference_steps, batch, d->dim);
    if (rc) return rc;
    brisk_scheduler_set_seed(s, o->seed, o->sample_offset);
    size_t n = batch * d->dim;
    if (s->cfg.kind == BRISK_SAMPLER_PF) {
        size_t nfe = 0;
        rc = brisk__run_pf(s, d, x, batch, o, &nfe);
        if (st) {
            st->nfe = nfe;
            st->seconds = now() - t0;
        }
        return rc;
    }
    double sig = s->init_noise_sigma;
    if (sig != 1)
        for (size_t i = 0; i < n; i++) x[i] *= sig;
    size_t planned = s->n_calls;
    while (!brisk_scheduler_done(s)) {
        double t, a;
        size_t k = s->k;
        rc = brisk_scheduler_next(s, &t, &a);
        if (rc) break;
        brisk_scheduler_scale_model_input(s, x, s->xin, batch);
        rc = brisk_denoiser_predict(d, s->xin, batch, t, a, s->mout);
        if (rc) {
            rc = brisk_error_prefix(rc, "step %zu (timestep %g): ", k, t);
            break;
        }
        /* non-finite outputs are caught by the step, naming the step */
        convert_pred(d->prediction, s->cfg.prediction_type, s->mout, s->xin, a, n);
        rc = brisk_scheduler_step(s, s->mout, t, x, x, batch);
        if (rc) break;
        if (o->progress && o->progress(o->progress_ctx, s->k, planned)) {
            rc = brisk_error(BRISK_ESTATE, "stopped by the progress callback after %zu of %zu calls",
                             s->k, planned);
            break;
        }
    }
    if (st) {
        st->nfe = s->k;
        st->seconds = now() - t0;
    }
    return rc;
}
