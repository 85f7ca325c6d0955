/* unet_denoiser.c: a UNet2DModel as a brisk_denoiser (float64 (batch, dim) in and out). The
 * model runs in float32; buffers grow to the largest batch seen and are then reused. */
#include "nn_impl.h"

#include "brisk/json.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct unet_den {
    brisk_unet *m;
    int own;
    size_t c, h, w, cout;
    size_t cap;
    float *x, *out, *t;
} unet_den;

static void den_destroy(void *ctx) {
    unet_den *u = ctx;
    if (!u) return;
    if (u->own) brisk_unet_free(u->m);
    brisk_free(u->x);
    brisk_free(u->out);
    brisk_free(u->t);
    brisk_free(u);
}

static int den_predict(void *ctx, const double *x, size_t batch, size_t dim, double t,
                       double alpha_bar, double *out) {
    (void)alpha_bar;
    unet_den *u = ctx;
    size_t per = u->c * u->h * u->w;
    if (dim != per)
        return brisk_error(BRISK_ESHAPE, "UNet denoiser: dim %zu, expected %zu (%zux%zux%zu)",
                           dim, per, u->c, u->h, u->w);
    if (batch > u->cap) {
        brisk_free(u->x);
        brisk_free(u->out);
        brisk_free(u->t);
        u->x = brisk_malloc(batch * per * sizeof(float));
        u->out = brisk_malloc(batch * u->cout * u->h * u->w * sizeof(float));
        u->t = brisk_malloc(batch * sizeof(float));
        u->cap = (u->x && u->out && u->t) ? batch : 0;
        if (!u->cap) return BRISK_ENOMEM;
    }
    for (size_t i = 0; i < batch * per; i++) u->x[i] = (float)x[i];
    for (size_t i = 0; i < batch; i++) u->t[i] = (float)t;
    int rc = brisk_unet_forward(u->m, u->x, u->t, batch, u->h, u->w, u->out);
    if (rc) return rc;
    /* learned-variance models (out = 2 * in channels): the first half is the prediction */
    size_t oper = u->cout * u->h * u->w;
    for (size_t b = 0; b < batch; b++)
        for (size_t i = 0; i < per; i++) out[b * per + i] = (double)u->out[b * oper + i];
    return BRISK_OK;
}

int brisk_unet_denoiser_wrap(brisk_unet *m, int own, brisk_prediction pred,
                             brisk_denoiser **out) {
    *out = NULL;
    const brisk_unet_config *c = brisk_unet_get_config(m);
    if (c->out_channels != c->in_channels && c->out_channels != 2 * c->in_channels)
        return brisk_error(BRISK_EUNSUPPORTED, "UNet denoiser: out_channels %zu must equal "
                           "in_channels %zu (or twice it, learned variance)",
                           c->out_channels, c->in_channels);
    size_t f = (size_t)1 << (c->n_blocks - 1);
    if (!c->sample_size || c->sample_size % f)
        return brisk_error(BRISK_EUNSUPPORTED, "UNet denoiser: config sample_size %zu is not a "
                           "positive multiple of %zu", c->sample_size, f);
    unet_den *u = brisk_calloc(1, sizeof *u);
    brisk_denoiser *d = brisk_calloc(1, sizeof *d);
    if (!u || !d) {
        brisk_free(u);
        brisk_free(d);
        return BRISK_ENOMEM;
    }
    u->m = m;
    u->own = own;
    u->c = c->in_channels;
    u->h = u->w = c->sample_size;
    u->cout = c->out_channels;
    d->predict = den_predict;
    d->destroy = den_destroy;
    d->ctx = u;
    d->dim = u->c * u->h * u->w;
    d->c = u->c;
    d->h = u->h;
    d->w = u->w;
    d->prediction = pred;
    *out = d;
    return BRISK_OK;
}

static int read_prediction(const char *path, brisk_prediction *pred) {
    cJSON *doc;
    int rc = brisk_json_read_file(path, &doc);
    if (rc) return rc;
    const char *s = NULL;
    rc = brisk_json_get_string(doc, "prediction_type", "epsilon", &s, path);
    if (!rc) {
        rc = brisk_prediction_from_name(s, pred);
        if (rc) rc = brisk_error_prefix(rc, "%s: ", path);
    }
    cJSON_Delete(doc);
    return rc;
}

int brisk_unet_denoiser_create(const char *dir, brisk_denoiser **out) {
    *out = NULL;
    brisk_prediction pred = BRISK_PRED_EPSILON;
    const char *cands[3] = {"%s/scheduler_config.json", "%s/scheduler/scheduler_config.json",
                            "%s/../scheduler/scheduler_config.json"};
    struct stat st;
    for (int i = 0; i < 3; i++) {
        char p[4096];
        snprintf(p, sizeof p, cands[i], dir);
        if (stat(p, &st) == 0) {
            int rc = read_prediction(p, &pred);
            if (rc) return rc;
            break;
        }
    }
    brisk_unet *m;
    int rc = brisk_unet_load(dir, &m);
    if (rc) return rc;
    rc = brisk_unet_denoiser_wrap(m, 1, pred, out);
    if (rc) brisk_unet_free(m);
    return rc;
}
