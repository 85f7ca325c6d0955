#include "brisk/denoiser.h"
#include "brisk/core.h"

#include <string.h>

static const char *pred_names[BRISK_PRED_COUNT] = {"epsilon", "v_prediction", "sample"};

const char *brisk_prediction_name(brisk_prediction p) {
    return (unsigned)p < BRISK_PRED_COUNT ? pred_names[p] : "unknown";
}

int brisk_prediction_from_name(const char *name, brisk_prediction *out) {
    for (int i = 0; i < BRISK_PRED_COUNT; i++)
        if (!strcmp(name, pred_names[i])) {
            *out = (brisk_prediction)i;
            return BRISK_OK;
        }
    return brisk_error(BRISK_EUNSUPPORTED,
                       "prediction_type '%s' is not supported (valid: epsilon, v_prediction, sample)",
                       name);
}

int brisk_denoiser_predict(const brisk_denoiser *d, const double *x, size_t batch, double t,
                           double alpha_bar, double *out) {
    BRISK_ASSERT(d && d->predict);
    return d->predict(d->ctx, x, batch, d->dim, t, alpha_bar, out);
}

void brisk_denoiser_free(brisk_denoiser *d) {
    if (!d) return;
    if (d->destroy) d->destroy(d->ctx);
    brisk_free(d);
}
