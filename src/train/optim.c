/* Optimizers over one flat float32 buffer, following PyTorch 1.13's single-tensor code
 * paths (torch/optim/adamw.py _single_tensor_adamw, torch/optim/sgd.py _single_tensor_sgd)
 * operation by operation, in float32 with the Python scalars rounded to float as torch's
 * CPU kernels do:
 *
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019, Alg. 2;
 * Kingma & Ba 2015 for the moments), update k = 1, 2, ...:
 *     p  = p * (1 - lr wd)                       (decoupled decay, weights only by default)
 *     m  = m * b1 + g * (1 - b1)
 *     v  = v * b2 + (1 - b2) g g
 *     denom = sqrt(v) / sqrt(1 - b2^k) + eps     (eps outside the square root)
 *     p  = p + (-lr / (1 - b1^k)) * m / denom   (addcdiv: value * t1 / t2)
 * SGD (torch.optim.SGD; Sutskever et al. 2013 for the Nesterov form):
 *     d = g + wd p;  buf = d (first update) else buf * mu + (1 - dampening) d;
 *     d = nesterov ? d + mu buf : buf;  p = p - lr d
 */
#include "train_impl.h"

#include "brisk/io.h"
#include "brisk/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct optim_chunk {
    size_t off, n;
    int decay;
} optim_chunk;

struct brisk_optim {
    brisk_optim_params p;
    size_t n;
    float *buf0, *buf1; /* AdamW: exp_avg, exp_avg_sq; SGD: momentum_buffer (buf1 NULL) */
    int buf_init;       /* SGD: momentum buffer holds a value (torch: buf is not None) */
    long steps;
    optim_chunk *chunks;
    size_t n_chunks;
};

static const char *const kind_names[BRISK_OPTIM_COUNT] = {"adamw", "sgd"};

const char *brisk_optim_kind_name(brisk_optim_kind k) {
    return (unsigned)k < BRISK_OPTIM_COUNT ? kind_names[k] : "?";
}

int brisk_optim_kind_from_name(const char *name, brisk_optim_kind *out) {
    for (int k = 0; k < BRISK_OPTIM_COUNT; k++)
        if (name && !strcasecmp(name, kind_names[k])) {
            *out = (brisk_optim_kind)k;
            return BRISK_OK;
        }
    return brisk_error(BRISK_EUNSUPPORTED, "unknown optimizer '%s' (valid: adamw, sgd)",
                       name ? name : "(null)");
}

void brisk_optim_params_default(brisk_optim_params *p, brisk_optim_kind kind) {
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->beta1 = 0.9;
    p->beta2 = 0.999;
    p->eps = 1e-8;
    if (kind == BRISK_OPTIM_ADAMW) {
        p->lr = 1e-3;
        p->weight_decay = 1e-2;
    } else {
        p->lr = 1e-2;
        p->weight_decay = 0.0;
    }
}

const brisk_optim_params *brisk_optim_get_params(const brisk_optim *o) { return &o->p; }
long brisk_optim_steps(const brisk_optim *o) { return o->steps; }

float *brisk_optim_buffer(brisk_optim *o, int i) {
    return i == 0 ? o->buf0 : i == 1 ? o->buf1 : NULL;
}

static int check_params(const brisk_optim_params *p) {
    if ((unsigned)p->kind >= BRISK_OPTIM_COUNT)
        return brisk_error(BRISK_EINVAL, "optimizer: invalid kind %d", (int)p->kind);
    if (!(p->lr >= 0) || !isfinite(p->lr))
        return brisk_error(BRISK_EINVAL, "optimizer: invalid lr %g", p->lr);
    if (!(p->weight_decay >= 0) || !isfinite(p->weight_decay))
        return brisk_error(BRISK_EINVAL, "optimizer: invalid weight_decay %g", p->weight_decay);
    if (p->kind == BRISK_OPTIM_ADAMW) {
        if (!(p->beta1 >= 0 && p->beta1 < 1))
            return brisk_error(BRISK_EINVAL, "adamw: invalid beta1 %g (must be in [0, 1))",
                               p->beta1);
        if (!(p->beta2 >= 0 && p->beta2 < 1))
            return brisk_error(BRISK_EINVAL, "adamw: invalid beta2 %g (must be in [0, 1))",
                               p->beta2);
        if (!(p->eps >= 0) || !isfinite(p->eps))
            return brisk_error(BRISK_EINVAL, "adamw: invalid eps %g", p->eps);
    } else {
        if (!(p->momentum >= 0) || !isfinite(p->momentum))
            return brisk_error(BRISK_EINVAL, "sgd: invalid momentum %g", p->momentum);
        if (!isfinite(p->dampening))
            return brisk_error(BRISK_EINVAL, "sgd: invalid dampening %g", p->dampening);
        if (p->nesterov && (p->momentum <= 0 || p->dampening != 0))
            return brisk_error(BRISK_EINVAL,
                               "sgd: nesterov needs a momentum and zero dampening");
    }
    return BRISK_OK;
}

/* Splits [off, off+n) into work items of at most TRAIN_CHUNK floats. */
static size_t add_chunks(optim_chunk *c, size_t k, size_t off, size_t n, int decay) {
    for (size_t s = 0; s < n; s += TRAIN_CHUNK) {
        if (c) c[k] = (optim_chunk){off + s, n - s < TRAIN_CHUNK ? n - s : TRAIN_CHUNK, decay};
        k++;
    }
    return k;
}

/* Builds the work items: runs of views with the same decay flag, split into chunks. */
static size_t build_chunks(const brisk_nn_params *layout, size_t n, int decay_all,
                           optim_chunk *c) {
    if (!layout || !layout->n_tensors || decay_all) return add_chunks(c, 0, 0, n, 1);
    size_t k = 0, pos = 0;
    /* Views are assumed to tile [0, n) in order; gaps (if any) get no decay. */
    for (size_t i = 0; i < layout->n_tensors; i++) {
        const brisk_nn_tensor *t = &layout->tensors[i];
        if (t->offset > pos) k = add_chunks(c, k, pos, t->offset - pos, 0);
        k = add_chunks(c, k, t->offset, t->numel, t->is_weight ? 1 : 0);
        pos = t->offset + t->numel;
    }
    if (pos < n) k = add_chunks(c, k, pos, n - pos, 0);
    return k;
}

static int create(const brisk_optim_params *p, size_t n, const brisk_nn_params *layout,
                  brisk_optim **out) {
    *out = NULL;
    int rc = check_params(p);
    if (rc) return rc;
    if (layout) {
        size_t end = 0;
        for (size_t i = 0; i < layout->n_tensors; i++) {
            const brisk_nn_tensor *t = &layout->tensors[i];
            if (t->offset < end || t->offset + t->numel > n)
                return brisk_error(BRISK_EINVAL, "optimizer: parameter view '%s' is out of order "
                                   "or outside the buffer", t->name ? t->name : "?");
            end = t->offset + t->numel;
        }
    }
    brisk_optim *o = brisk_calloc(1, sizeof *o);
    if (!o) return BRISK_ENOMEM;
    o->p = *p;
    o->n = n;
    o->n_chunks = build_chunks(layout, n, p->decay_all, NULL);
    o->chunks = brisk_malloc((o->n_chunks ? o->n_chunks : 1) * sizeof *o->chunks);
    o->buf0 = brisk_calloc(n ? n : 1, sizeof(float));
    if (p->kind == BRISK_OPTIM_ADAMW) o->buf1 = brisk_calloc(n ? n : 1, sizeof(float));
    if (!o->chunks || !o->buf0 || (p->kind == BRISK_OPTIM_ADAMW && !o->buf1)) {
        brisk_optim_free(o);
        return BRISK_ENOMEM;
    }
    build_chunks(layout, n, p->decay_all, o->chunks);
    *out = o;
    return BRISK_OK;
}

int brisk_optim_create(const brisk_optim_params *p, const brisk_nn_params *layout,
                       brisk_optim **out) {
    BRISK_ASSERT(p && layout && out);
    return create(p, layout->n, layout, out);
}

int brisk_optim_create_flat(const brisk_optim_params *p, size_t n, brisk_optim **out) {
    BRISK_ASSERT(p && out);
    brisk_optim_params q = *p;
    q.decay_all = 1;
    return create(&q, n, NULL, out);
}

void brisk_optim_free(brisk_optim *o) {
    if (!o) return;
    brisk_free(o->chunks);
    brisk_free(o->buf0);
    brisk_free(o->buf1);
    brisk_free(o);
}

/* One AdamW chunk (see the file comment). */
static void adamw_chunk(float *restrict p, const float *restrict g, float *restrict m,
                        float *restrict v, size_t n, float decay_mul, float b1, float omb1,
                        float b2, float omb2, float bc2_sqrt, float eps, float neg_step) {
    for (size_t i = 0; i < n; i++) {
        float pi = p[i] * decay_mul;
        float gi = g[i];
        float mi = m[i] * b1 + gi * omb1;
        float vi = v[i] * b2 + omb2 * gi * gi;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        p[i] = pi + neg_step * mi / denom; /* addcdiv: self + value * t1 / t2 */
        m[i] = mi;
        v[i] = vi;
    }
}

static void sgd_chunk(float *restrict p, const float *restrict g, float *restrict buf, size_t n,
                      float wd, int use_mom, int first, float mu, float omd, int nesterov,
                      float neg_lr) {
    for (size_t i = 0; i < n; i++) {
        float d = g[i];
        if (wd != 0.0f) d = d + wd * p[i];
        if (use_mom) {
            float b = first ? d : buf[i] * mu + d * omd;
            buf[i] = b;
            d = nesterov ? d + b * mu : b;
        }
        p[i] = p[i] + d * neg_lr;
    }
}

void brisk_optim_step(brisk_optim *o, float *data, const float *grad, double lr,
                      double momentum) {
    BRISK_ASSERT(o && (data || !o->n) && (grad || !o->n));
    const brisk_optim_params *q = &o->p;
    if (lr < 0) lr = q->lr;
    o->steps++;
    const long k = o->steps;
    const int nt = train_threads(o->n);
    const ptrdiff_t nc = (ptrdiff_t)o->n_chunks;
    if (q->kind == BRISK_OPTIM_ADAMW) {
        double b1 = momentum >= 0 ? momentum : q->beta1, b2 = q->beta2;
        /* Python floats: bias corrections and step size in double, as adamw.py. */
        double bc1 = 1.0 - pow(b1, (double)k), bc2 = 1.0 - pow(b2, (double)k);
        double step_size = lr / bc1;
        float decay_mul = (float)(1.0 - lr * q->weight_decay);
        float fb1 = (float)b1, fomb1 = (float)(1.0 - b1), fb2 = (float)b2,
              fomb2 = (float)(1.0 - b2), fbc2 = (float)sqrt(bc2), feps = (float)q->eps,
              fneg = (float)(-step_size);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (ptrdiff_t c = 0; c < nc; c++) {
            const optim_chunk *ch = &o->chunks[c];
            adamw_chunk(data + ch->off, grad + ch->off, o->buf0 + ch->off, o->buf1 + ch->off,
                        ch->n, ch->decay ? decay_mul : 1.0f, fb1, fomb1, fb2, fomb2, fbc2, feps,
                        fneg);
        }
    } else {
        double mu = momentum >= 0 ? momentum : q->momentum;
        int use_mom = mu != 0.0, first = use_mom && !o->buf_init;
        float fwd = (float)q->weight_decay, fmu = (float)mu, fomd = (float)(1.0 - q->dampening),
              fneg = (float)(-lr);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (ptrdiff_t c = 0; c < nc; c++) {
            const optim_chunk *ch = &o->chunks[c];
            sgd_chunk(data + ch->off, grad + ch->off, o->buf0 + ch->off, ch->n,
                      ch->decay ? fwd : 0.0f, use_mom, first, fmu, fomd, q->nesterov, fneg);
        }
        if (use_mom) o->buf_init = 1;
    }
}

/* ---- state files ------------------------------------------------------------------ */

static const char *buf_name(const brisk_optim *o, int i) {
    if (o->p.kind == BRISK_OPTIM_ADAMW) return i == 0 ? "exp_avg" : "exp_avg_sq";
    return i == 0 ? "momentum_buffer" : NULL;
}

static int buf_path(const brisk_optim *o, const char *dir, int i, char *path, size_t cap) {
    int w = snprintf(path, cap, "%s/optimizer-%s.npy", dir, buf_name(o, i));
    if (w < 0 || (size_t)w >= cap) return brisk_error(BRISK_EINVAL, "%s: path too long", dir);
    return BRISK_OK;
}

int brisk_optim_save(const brisk_optim *o, const char *dir) {
    BRISK_ASSERT(o && dir);
    char path[4096];
    int rc = brisk_mkdir_p(dir);
    if (rc) return rc;
    int nbuf = o->p.kind == BRISK_OPTIM_ADAMW ? 2 : 1;
    for (int i = 0; i < nbuf; i++) {
        if ((rc = buf_path(o, dir, i, path, sizeof path))) return rc;
        size_t shape[1] = {o->n};
        rc = brisk_npy_write_f32(path, i == 0 ? o->buf0 : o->buf1, 1, shape);
        if (rc) return rc;
    }
    cJSON *j = cJSON_CreateObject();
    if (!j) return brisk_error(BRISK_ENOMEM, "optimizer state: out of memory");
    cJSON_AddStringToObject(j, "kind", brisk_optim_kind_name(o->p.kind));
    cJSON_AddNumberToObject(j, "n", (double)o->n);
    cJSON_AddNumberToObject(j, "step", (double)o->steps);
    cJSON_AddBoolToObject(j, "momentum_buffer_set", o->buf_init);
    cJSON_AddNumberToObject(j, "lr", o->p.lr);
    cJSON_AddNumberToObject(j, "beta1", o->p.beta1);
    cJSON_AddNumberToObject(j, "beta2", o->p.beta2);
    cJSON_AddNumberToObject(j, "eps", o->p.eps);
    cJSON_AddNumberToObject(j, "weight_decay", o->p.weight_decay);
    cJSON_AddNumberToObject(j, "momentum", o->p.momentum);
    cJSON_AddNumberToObject(j, "dampening", o->p.dampening);
    cJSON_AddBoolToObject(j, "nesterov", o->p.nesterov);
    cJSON_AddBoolToObject(j, "decay_all", o->p.decay_all);
    snprintf(path, sizeof path, "%s/optimizer.json", dir);
    rc = brisk_json_write_file(path, j);
    cJSON_Delete(j);
    return rc;
}

int brisk_optim_load(brisk_optim *o, const char *dir) {
    BRISK_ASSERT(o && dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/optimizer.json", dir);
    cJSON *j;
    int rc = brisk_json_read_file(path, &j);
    if (rc) return rc;
    const char *kind;
    long n = 0, step = 0;
    int bset = 0;
    if ((rc = brisk_json_get_string(j, "kind", "", &kind, path)) ||
        (rc = brisk_json_get_int(j, "n", -1, &n, path)) ||
        (rc = brisk_json_get_int(j, "step", -1, &step, path)) ||
        (rc = brisk_json_get_bool(j, "momentum_buffer_set", 0, &bset, path))) {
        cJSON_Delete(j);
        return rc;
    }
    if (strcmp(kind, brisk_optim_kind_name(o->p.kind))) {
        rc = brisk_error(BRISK_EMISMATCH, "%s: optimizer '%s' does not match '%s'", path, kind,
                         brisk_optim_kind_name(o->p.kind));
    } else if (n != (long)o->n) {
        rc = brisk_error(BRISK_EMISMATCH, "%s: state for %ld parameters, the model has %zu",
                         path, n, o->n);
    } else if (step < 0) {
        rc = brisk_error(BRISK_EPARSE, "%s: missing or negative 'step'", path);
    }
    cJSON_Delete(j);
    if (rc) return rc;
    int nbuf = o->p.kind == BRISK_OPTIM_ADAMW ? 2 : 1;
    for (int i = 0; i < nbuf; i++) {
        if ((rc = buf_path(o, dir, i, path, sizeof path))) return rc;
        brisk_array a;
        if ((rc = brisk_npy_read(path, &a))) return rc;
        if (a.dtype != BRISK_F32 || a.ndim != 1 || a.shape[0] != o->n) {
            brisk_array_free(&a);
            return brisk_error(BRISK_EMISMATCH, "%s: expected float32 (%zu)", path, o->n);
        }
        memcpy(i == 0 ? o->buf0 : o->buf1, a.data, o->n * sizeof(float));
        brisk_array_free(&a);
    }
    o->steps = step;
    o->buf_init = bset;
    return BRISK_OK;
}
