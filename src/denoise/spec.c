/* Model specs: "KIND:ARGS" strings naming a denoiser (docs/sample.md). */
#include "denoise_impl.h"

#include "brisk/io.h"
#include "brisk/json.h"
#include "brisk/nn.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define VALID_KINDS "gaussian, gmm, empirical, unet"

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static int parse_double(const char *spec, const char *key, const char *v, double *out) {
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d))
        return brisk_error(BRISK_EINVAL, "model spec '%s': %s='%s' is not a finite number", spec, key, v);
    *out = d;
    return BRISK_OK;
}

static int parse_size(const char *spec, const char *key, const char *v, size_t *out) {
    char *end;
    errno = 0;
    if (*v == '-' || *v == '+')
        return brisk_error(BRISK_EINVAL, "model spec '%s': %s='%s' must be a positive integer", spec, key, v);
    unsigned long long d = strtoull(v, &end, 10);
    if (errno || end == v || *end || d == 0)
        return brisk_error(BRISK_EINVAL, "model spec '%s': %s='%s' must be a positive integer", spec, key, v);
    *out = (size_t)d;
    return BRISK_OK;
}

/* "CxHxW" (or "HxW" for one channel). */
static int parse_shape(const char *spec, const char *v, size_t *c, size_t *h, size_t *w) {
    unsigned long a, b, d;
    char tail;
    if (sscanf(v, "%lux%lux%lu%c", &a, &b, &d, &tail) == 3 && a && b && d) {
        *c = a, *h = b, *w = d;
        return BRISK_OK;
    }
    if (sscanf(v, "%lux%lu%c", &b, &d, &tail) == 2 && b && d) {
        *c = 1, *h = b, *w = d;
        return BRISK_OK;
    }
    return brisk_error(BRISK_EINVAL, "model spec '%s': shape='%s' must be CxHxW or HxW", spec, v);
}

/* Iterates "k1=v1,k2=v2": copies the next pair into key/val buffers. Returns 1 while a
 * pair was read, 0 at the end, negative on a malformed item. */
static int next_pair(const char *spec, const char **p, char *key, size_t nk, char *val, size_t nv) {
    while (**p == ',') (*p)++;
    if (!**p) return 0;
    const char *end = strchr(*p, ',');
    if (!end) end = *p + strlen(*p);
    const char *eq = memchr(*p, '=', (size_t)(end - *p));
    if (!eq)
        return brisk_error(BRISK_EINVAL, "model spec '%s': '%.*s' must be KEY=VALUE", spec,
                           (int)(end - *p), *p);
    size_t lk = (size_t)(eq - *p), lv = (size_t)(end - eq - 1);
    if (lk == 0 || lk >= nk || lv >= nv)
        return brisk_error(BRISK_EINVAL, "model spec '%s': item '%.*s' is malformed", spec,
                           (int)(end - *p), *p);
    memcpy(key, *p, lk);
    key[lk] = '\0';
    memcpy(val, eq + 1, lv);
    val[lv] = '\0';
    *p = end;
    return 1;
}

/* mean/std value: a number (broadcast) or @FILE (.npy or JSON array). */
typedef struct vec_arg {
    int given, is_file;
    double scalar;
    double *v; /* owned when is_file */
    size_t n;
} vec_arg;

static int parse_vec_arg(const char *spec, const char *key, const char *val, vec_arg *a) {
    a->given = 1;
    if (val[0] == '@') {
        a->is_file = 1;
        int rc = denoise_read_vector(val + 1, &a->v, &a->n);
        if (rc) return brisk_error_prefix(rc, "model spec '%s': %s: ", spec, key);
        if (a->n == 0) return brisk_error(BRISK_EINVAL, "model spec '%s': %s file %s is empty", spec, key, val + 1);
        return BRISK_OK;
    }
    return parse_double(spec, key, val, &a->scalar);
}

static int fill_vec(const char *spec, const char *key, const vec_arg *a, double def, size_t dim,
                    double *dst) {
    if (!a->given) {
        for (size_t j = 0; j < dim; j++) dst[j] = def;
    } else if (!a->is_file) {
        for (size_t j = 0; j < dim; j++) dst[j] = a->scalar;
    } else if (a->n == 1) {
        for (size_t j = 0; j < dim; j++) dst[j] = a->v[0];
    } else {
        if (a->n != dim)
            return brisk_error(BRISK_ESHAPE, "model spec '%s': %s has %zu values, expected dim %zu",
                               spec, key, a->n, dim);
        memcpy(dst, a->v, dim * sizeof *dst);
    }
    return BRISK_OK;
}

/* gaussian:FILE.json with {"mean": [...], "std": [...]} (std may be a number). */
static int gaussian_from_json(const char *spec, const char *path, brisk_prediction pred,
                              brisk_denoiser **out) {
    cJSON *doc;
    int rc = brisk_json_read_file(path, &doc);
    if (rc) return rc;
    double *mean = NULL, *std = NULL;
    size_t nm = 0, ns = 0;
    if ((rc = brisk_json_get_doubles(doc, "mean", &mean, &nm, path))) goto done;
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(doc, "std");
    if (sv && cJSON_IsNumber(sv)) {
        std = brisk_malloc(nm * sizeof *std);
        if (!std) { rc = BRISK_ENOMEM; goto done; }
        for (size_t j = 0; j < nm; j++) std[j] = sv->valuedouble;
        ns = nm;
    } else if ((rc = brisk_json_get_doubles(doc, "std", &std, &ns, path))) {
        goto done;
    }
    if (nm == 0 || ns != nm) {
        rc = brisk_error(BRISK_ESHAPE, "%s: key 'std' has %zu values and 'mean' %zu (spec '%s')",
                         path, ns, nm, spec);
        goto done;
    }
    rc = brisk_denoiser_create_gaussian(mean, std, nm, pred, out);
    if (rc) brisk_error_prefix(rc, "%s: ", path);
done:
    brisk_free(mean);
    brisk_free(std);
    cJSON_Delete(doc);
    return rc;
}

static int gaussian_from_spec(const char *spec, const char *args, brisk_prediction pred,
                              brisk_denoiser **out) {
    if (ends_with(args, ".json") && !strchr(args, '='))
        return gaussian_from_json(spec, args, pred, out);
    size_t dim = 0, c = 0, h = 0, w = 0;
    vec_arg mean = {0}, std = {0};
    char key[64], val[4096];
    const char *p = args;
    int r, rc = BRISK_OK;
    double *buf = NULL;
    while ((r = next_pair(spec, &p, key, sizeof key, val, sizeof val)) > 0) {
        if (!strcmp(key, "dim")) rc = parse_size(spec, key, val, &dim);
        else if (!strcmp(key, "mean")) rc = parse_vec_arg(spec, key, val, &mean);
        else if (!strcmp(key, "std")) rc = parse_vec_arg(spec, key, val, &std);
        else if (!strcmp(key, "shape")) rc = parse_shape(spec, val, &c, &h, &w);
        else
            rc = brisk_error(BRISK_EINVAL, "model spec '%s': unknown key '%s' (gaussian keys: dim, "
                                           "mean, std, shape)", spec, key);
        if (rc) goto done;
    }
    if (r < 0) { rc = r; goto done; }
    if (c) {
        if (dim && dim != c * h * w) {
            rc = brisk_error(BRISK_ESHAPE, "model spec '%s': dim=%zu does not match shape %zux%zux%zu",
                             spec, dim, c, h, w);
            goto done;
        }
        dim = c * h * w;
    }
    if (!dim) dim = mean.is_file ? mean.n : std.is_file ? std.n : 0;
    if (!dim) {
        rc = brisk_error(BRISK_EINVAL, "model spec '%s': gaussian needs dim=N, shape=CxHxW or a "
                                       "mean/std file", spec);
        goto done;
    }
    buf = brisk_malloc(2 * dim * sizeof *buf);
    if (!buf) { rc = BRISK_ENOMEM; goto done; }
    if ((rc = fill_vec(spec, "mean", &mean, 0.0, dim, buf))) goto done;
    if ((rc = fill_vec(spec, "std", &std, 1.0, dim, buf + dim))) goto done;
    rc = brisk_denoiser_create_gaussian(buf, buf + dim, dim, pred, out);
    if (rc) {
        brisk_error_prefix(rc, "model spec '%s': ", spec);
        goto done;
    }
    (*out)->c = c, (*out)->h = h, (*out)->w = w;
done:
    brisk_free(buf);
    brisk_free(mean.v);
    brisk_free(std.v);
    return rc;
}

static int gmm_from_spec(const char *spec, const char *args, brisk_prediction pred,
                         brisk_denoiser **out) {
    if (!*args) return brisk_error(BRISK_EINVAL, "model spec '%s': gmm needs a file (gmm:FILE.json)", spec);
    brisk_gmm g;
    int rc = brisk_gmm_load(args, &g);
    if (rc) return rc;
    rc = brisk_denoiser_create_gmm(&g, pred, out);
    brisk_gmm_free(&g);
    return rc;
}

/* empirical:SOURCE[,key=value...] with SOURCE fashion-mnist or a .npy file. */
static int empirical_from_spec(const char *spec, const char *args, brisk_prediction pred,
                               brisk_denoiser **out) {
    char source[4096];
    const char *comma = strchr(args, ',');
    size_t ls = comma ? (size_t)(comma - args) : strlen(args);
    if (ls == 0 || ls >= sizeof source)
        return brisk_error(BRISK_EINVAL, "model spec '%s': empirical needs a source "
                                         "(fashion-mnist or FILE.npy)", spec);
    memcpy(source, args, ls);
    source[ls] = '\0';
    int is_fmnist = !strcmp(source, "fashion-mnist");
    if (!is_fmnist && !ends_with(source, ".npy"))
        return brisk_error(BRISK_EINVAL, "model spec '%s': unknown empirical source '%s' "
                                         "(valid: fashion-mnist, FILE.npy)", spec, source);
    size_t limit = 0;
    brisk_split split = BRISK_SPLIT_TRAIN;
    brisk_empirical_options opt;
    brisk_empirical_options_default(&opt);
    char key[64], val[4096], dir[4096] = "";
    const char *p = args + ls;
    int r, rc = BRISK_OK;
    while ((r = next_pair(spec, &p, key, sizeof key, val, sizeof val)) > 0) {
        if (!strcmp(key, "n")) rc = parse_size(spec, key, val, &limit);
        else if (!strcmp(key, "block")) rc = parse_size(spec, key, val, &opt.block_points);
        else if (!strcmp(key, "precision")) {
            if (!strcmp(val, "f64")) opt.f64 = 1;
            else if (!strcmp(val, "f32")) opt.f64 = 0;
            else rc = brisk_error(BRISK_EINVAL, "model spec '%s': precision='%s' (valid: f32, f64)", spec, val);
        } else if (is_fmnist && !strcmp(key, "split")) {
            if (!strcmp(val, "train")) split = BRISK_SPLIT_TRAIN;
            else if (!strcmp(val, "test")) split = BRISK_SPLIT_TEST;
            else rc = brisk_error(BRISK_EINVAL, "model spec '%s': split='%s' (valid: train, test)", spec, val);
        } else if (is_fmnist && !strcmp(key, "dir")) {
            snprintf(dir, sizeof dir, "%s", val);
        } else {
            rc = brisk_error(BRISK_EINVAL, "model spec '%s': unknown key '%s' (empirical keys: n, "
                                           "precision, block%s)", spec, key,
                             is_fmnist ? ", split, dir" : "");
        }
        if (rc) return rc;
    }
    if (r < 0) return r;
    if (is_fmnist) {
        brisk_dataset ds;
        rc = brisk_fmnist_load(dir[0] ? dir : NULL, split, 1, limit, &ds);
        if (rc) return rc;
        rc = brisk_denoiser_create_empirical(ds.images, ds.n, ds.c * ds.h * ds.w, ds.c, ds.h, ds.w,
                                             pred, &opt, out);
        brisk_dataset_free(&ds);
        return rc;
    }
    brisk_array a;
    if ((rc = brisk_npy_read(source, &a))) return rc;
    if ((rc = brisk_array_convert(&a, BRISK_F32))) goto npy_done;
    if (a.ndim != 2 && a.ndim != 4) {
        rc = brisk_error(BRISK_ESHAPE, "%s: points must have shape (n, dim) or (n, c, h, w), got %d dims",
                         source, a.ndim);
        goto npy_done;
    }
    size_t n = a.shape[0], dim = brisk_array_numel(&a) / (n ? n : 1);
    if (limit && limit < n) n = limit;
    rc = brisk_denoiser_create_empirical(a.data, n, dim, a.ndim == 4 ? a.shape[1] : 0,
                                         a.ndim == 4 ? a.shape[2] : 0, a.ndim == 4 ? a.shape[3] : 0,
                                         pred, &opt, out);
    if (rc) brisk_error_prefix(rc, "%s: ", source);
npy_done:
    brisk_array_free(&a);
    return rc;
}

int brisk_denoiser_from_spec(const char *spec, brisk_prediction pred, brisk_denoiser **out) {
    *out = NULL;
    if (!spec || !*spec)
        return brisk_error(BRISK_EINVAL, "empty model spec (valid kinds: " VALID_KINDS ")");
    const char *colon = strchr(spec, ':');
    if (!colon)
        return brisk_error(BRISK_EINVAL, "model spec '%s' must be KIND:ARGS (valid kinds: " VALID_KINDS ")",
                           spec);
    size_t lk = (size_t)(colon - spec);
    const char *args = colon + 1;
    if (lk == 8 && !strncmp(spec, "gaussian", lk)) return gaussian_from_spec(spec, args, pred, out);
    if (lk == 3 && !strncmp(spec, "gmm", lk)) return gmm_from_spec(spec, args, pred, out);
    if (lk == 9 && !strncmp(spec, "empirical", lk)) return empirical_from_spec(spec, args, pred, out);
    if (lk == 4 && !strncmp(spec, "unet", lk)) {
        if (!*args) return brisk_error(BRISK_EINVAL, "model spec '%s': unet needs a model folder (unet:DIR)", spec);
        /* The model's own prediction type (its scheduler_config.json) is kept; the run API
         * converts it to the scheduler's. */
        (void)pred;
        return brisk_unet_denoiser_create(args, out);
    }
    return brisk_error(BRISK_EUNSUPPORTED, "unknown model kind '%.*s' in spec '%s' (valid kinds: " VALID_KINDS ")",
                       (int)lk, spec, spec);
}
