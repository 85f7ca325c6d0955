/* verify_unet.c: a UNet case is a diffusers model folder (config.json,
 * diffusion_pytorch_model.safetensors) plus io.json {x_shape, x, timesteps, out_shape, out}
 * produced by diffusers' UNet2DModel forward. Pass: max |out - ref| <= 1e-3. */
#include "brisk/core.h"
#include "brisk/json.h"
#include "brisk/nn.h"
#include "brisk/verify.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define UNET_TOL 1e-3

static int get_shape(const cJSON *doc, const char *key, const char *what, size_t shape[4]) {
    double *v = NULL;
    size_t n = 0;
    int rc = brisk_json_get_doubles(doc, key, &v, &n, what);
    if (rc) return rc;
    if (n != 4) {
        brisk_free(v);
        return brisk_error(BRISK_EPARSE, "%s: key '%s' must have 4 entries (N, C, H, W)", what,
                           key);
    }
    for (int i = 0; i < 4; i++) shape[i] = (size_t)v[i];
    brisk_free(v);
    return BRISK_OK;
}

static int get_floats(const cJSON *doc, const char *key, const char *what, size_t want,
                      float **out) {
    double *v = NULL;
    size_t n = 0;
    int rc = brisk_json_get_doubles(doc, key, &v, &n, what);
    if (rc) return rc;
    if (n != want) {
        brisk_free(v);
        return brisk_error(BRISK_ESHAPE, "%s: key '%s' has %zu values, expected %zu", what, key,
                           n, want);
    }
    float *f = brisk_malloc((n ? n : 1) * sizeof(float));
    if (!f) {
        brisk_free(v);
        return BRISK_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) f[i] = (float)v[i];
    brisk_free(v);
    *out = f;
    return BRISK_OK;
}

int brisk_verify_unet_case(const char *dir, brisk_verify_result *r) {
    char iop[4096];
    snprintf(iop, sizeof iop, "%s/io.json", dir);
    cJSON *doc = NULL;
    brisk_unet *m = NULL;
    float *x = NULL, *t = NULL, *ref = NULL, *out = NULL;
    size_t xs[4] = {0}, os[4] = {0};
    int rc = brisk_json_read_file(iop, &doc);
    if (!rc) rc = get_shape(doc, "x_shape", iop, xs);
    if (!rc) rc = get_shape(doc, "out_shape", iop, os);
    size_t nx = xs[0] * xs[1] * xs[2] * xs[3];
    size_t no = rc ? 0 : os[0] * os[1] * os[2] * os[3];
    if (!rc) rc = get_floats(doc, "x", iop, nx, &x);
    if (!rc) rc = get_floats(doc, "timesteps", iop, xs[0], &t);
    if (!rc) rc = get_floats(doc, "out", iop, no, &ref);
    if (!rc) rc = brisk_unet_load(dir, &m);
    if (!rc) {
        const brisk_unet_config *c = brisk_unet_get_config(m);
        if (os[0] != xs[0] || os[1] != c->out_channels || os[2] != xs[2] || os[3] != xs[3] ||
            xs[1] != c->in_channels)
            rc = brisk_error(BRISK_ESHAPE, "%s: x_shape/out_shape do not match the model's "
                             "in_channels %zu / out_channels %zu", iop, c->in_channels,
                             c->out_channels);
    }
    if (!rc) {
        out = brisk_malloc(no * sizeof(float));
        if (!out) rc = BRISK_ENOMEM;
    }
    if (!rc) rc = brisk_unet_forward(m, x, t, xs[0], xs[2], xs[3], out);
    if (!rc) {
        double me = 0;
        size_t at = 0;
        for (size_t i = 0; i < no; i++) {
            double e = fabs((double)out[i] - (double)ref[i]);
            if (!(e <= me)) { /* also catches NaN */
                me = isnan(e) ? INFINITY : e;
                at = i;
            }
        }
        r->max_err = me;
        r->max_rel = me / UNET_TOL;
        r->passed = me <= UNET_TOL;
        const brisk_unet_config *c = brisk_unet_get_config(m);
        snprintf(r->detail, sizeof r->detail,
                 "%zu outputs, batch %zu, %zux%zu, %zu blocks, %zu params; max |out-ref| %.3g "
                 "(at %zu) %s tol %.0e",
                 no, xs[0], xs[2], xs[3], c->n_blocks, brisk_unet_params(m)->n, me, at,
                 r->passed ? "<=" : ">", UNET_TOL);
    }
    brisk_unet_free(m);
    cJSON_Delete(doc);
    brisk_free(x);
    brisk_free(t);
    brisk_free(ref);
    brisk_free(out);
    return rc;
}
