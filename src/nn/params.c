/* params.c: the flat parameter buffer with named views: registration while a model's graph
 * is built, PyTorch-default initialisation, and safetensors save/load by name. */
#include "nn_impl.h"

#include "brisk/rng.h"

#include <math.h>
#include <string.h>

float nn_exp_lo = -87.3f, nn_exp_hi = 88.3f;

size_t nn_reg_param(nn_registry *reg, const char *name, int ndim, const size_t *shape,
                    int is_weight) {
    if (reg->err) return SIZE_MAX;
    brisk_nn_params *p = reg->p;
    size_t numel = 1;
    for (int d = 0; d < ndim; d++) numel *= shape[d];
    if (reg->frozen) {
        if (reg->cursor >= p->n_tensors || strcmp(p->tensors[reg->cursor].name, name)) {
            reg->err = brisk_error(BRISK_ESTATE, "internal: parameter order changed at '%s'",
                                   name);
            return SIZE_MAX;
        }
        return p->tensors[reg->cursor++].offset;
    }
    if (p->n_tensors == reg->cap) {
        size_t cap = reg->cap ? 2 * reg->cap : 64;
        brisk_nn_tensor *t = brisk_realloc(p->tensors, cap * sizeof *t);
        if (!t) {
            reg->err = BRISK_ENOMEM;
            return SIZE_MAX;
        }
        p->tensors = t;
        reg->cap = cap;
    }
    brisk_nn_tensor *t = &p->tensors[p->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = brisk_strdup(name);
    if (!t->name) {
        reg->err = BRISK_ENOMEM;
        return SIZE_MAX;
    }
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
    t->numel = numel;
    t->offset = p->n;
    t->is_weight = is_weight;
    p->n += numel;
    p->n_tensors++;
    return t->offset;
}

int nn_reg_finish(nn_registry *reg) {
    if (reg->err) return reg->err;
    brisk_nn_params *p = reg->p;
    p->data = brisk_calloc(p->n ? p->n : 1, sizeof(float));
    p->grad = brisk_calloc(p->n ? p->n : 1, sizeof(float));
    if (!p->data || !p->grad) return BRISK_ENOMEM;
    reg->frozen = 1;
    return BRISK_OK;
}

void nn_params_free(brisk_nn_params *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n_tensors; i++) brisk_free(p->tensors[i].name);
    brisk_free(p->tensors);
    brisk_free(p->data);
    brisk_free(p->grad);
    memset(p, 0, sizeof *p);
}

/* PyTorch defaults: Conv2d/Linear reset_parameters use kaiming_uniform_(a=sqrt(5)), i.e.
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the weight, and the same bound for the bias;
 * GroupNorm weight 1, bias 0. A bias takes its fan_in from the weight registered just
 * before it; a 1-D tensor that follows no weight is a norm. */
int nn_params_init_default(brisk_nn_params *p, uint64_t seed) {
    size_t maxn = 0;
    for (size_t i = 0; i < p->n_tensors; i++)
        if (p->tensors[i].numel > maxn) maxn = p->tensors[i].numel;
    double *u = brisk_malloc((maxn ? maxn : 1) * sizeof(double));
    if (!u) return BRISK_ENOMEM;
    for (size_t i = 0; i < p->n_tensors; i++) {
        const brisk_nn_tensor *t = &p->tensors[i];
        float *dst = p->data + t->offset;
        size_t fan_in = 0;
        if (t->is_weight) {
            fan_in = t->numel / t->shape[0];
        } else if (i > 0 && p->tensors[i - 1].is_weight && p->tensors[i - 1].shape[0] == t->numel) {
            const brisk_nn_tensor *w = &p->tensors[i - 1];
            fan_in = w->numel / w->shape[0];
        }
        if (!fan_in) { /* norm */
            const char *nm = t->name;
            size_t L = strlen(nm);
            int is_bias = L >= 4 && !strcmp(nm + L - 4, "bias");
            for (size_t j = 0; j < t->numel; j++) dst[j] = is_bias ? 0.0f : 1.0f;
            continue;
        }
        double bound = 1.0 / sqrt((double)fan_in);
        brisk_randu(seed, i, BRISK_STREAM(BRISK_RNG_USER, 0x1417), t->numel, u);
        for (size_t j = 0; j < t->numel; j++) dst[j] = (float)((2.0 * u[j] - 1.0) * bound);
    }
    brisk_free(u);
    return BRISK_OK;
}

const brisk_nn_tensor *brisk_nn_params_find(const brisk_nn_params *p, const char *name) {
    for (size_t i = 0; i < p->n_tensors; i++)
        if (!strcmp(p->tensors[i].name, name)) return &p->tensors[i];
    return NULL;
}

int brisk_nn_params_save(const brisk_nn_params *p, const float *values, const char *path,
                         const brisk_kv *meta, size_t n_meta) {
    if (!values) values = p->data;
    brisk_st_entry *e = brisk_calloc(p->n_tensors ? p->n_tensors : 1, sizeof *e);
    if (!e) return BRISK_ENOMEM;
    for (size_t i = 0; i < p->n_tensors; i++) {
        const brisk_nn_tensor *t = &p->tensors[i];
        e[i].name = t->name;
        e[i].dtype = BRISK_ST_F32;
        e[i].ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++) e[i].shape[d] = t->shape[d];
        e[i].numel = t->numel;
        e[i].data = values + t->offset;
    }
    int rc = brisk_safetensors_write(path, e, p->n_tensors, meta, n_meta);
    brisk_free(e);
    return rc;
}

int brisk_nn_params_load(const brisk_nn_params *p, float *values, const char *path,
                         int allow_extra) {
    if (!values) values = p->data;
    brisk_safetensors *st;
    int rc = brisk_safetensors_open(path, &st);
    if (rc) return rc;
    for (size_t i = 0; i < p->n_tensors && !rc; i++) {
        const brisk_nn_tensor *t = &p->tensors[i];
        rc = brisk_safetensors_read_f32(st, t->name, t->ndim, t->shape, values + t->offset);
    }
    if (!rc && !allow_extra) {
        for (size_t i = 0; i < brisk_safetensors_count(st); i++) {
            const brisk_st_entry *e = brisk_safetensors_entry(st, i);
            if (!brisk_nn_params_find(p, e->name)) {
                rc = brisk_error(BRISK_EMISMATCH, "%s: unexpected tensor '%s' (not a parameter "
                                 "of this model)", path, e->name);
                break;
            }
        }
    }
    brisk_safetensors_close(st);
    return rc;
}
