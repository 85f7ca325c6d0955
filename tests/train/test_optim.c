/* Optimizers: AdamW and SGD against PyTorch 1.13 trajectories (tests/data/train/
 * optim_torch.json, from gen_optim.py) and against naive double-precision implementations
 * of torch's update formulas; state save/load; thread-count independence; bad input. */
#include "brisk/core.h"
#include "brisk/json.h"
#include "brisk/train.h"
#include "brisk_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXN 64
#define MAXS 16

/* Naive double reference of torch.optim.AdamW / SGD for one update. wdmask[i]: decay on i. */
typedef struct ref_state {
    double p[MAXN], m[MAXN], v[MAXN];
    int buf_init;
    long k;
} ref_state;

static void ref_adamw(ref_state *s, size_t n, const float *g, const int *wdmask, double lr,
                      double b1, double b2, double eps, double wd) {
    s->k++;
    double bc1 = 1 - pow(b1, (double)s->k), bc2 = 1 - pow(b2, (double)s->k);
    for (size_t i = 0; i < n; i++) {
        if (wdmask[i]) s->p[i] *= 1 - lr * wd;
        s->m[i] = b1 * s->m[i] + (1 - b1) * g[i];
        s->v[i] = b2 * s->v[i] + (1 - b2) * (double)g[i] * g[i];
        s->p[i] -= lr / bc1 * s->m[i] / (sqrt(s->v[i]) / sqrt(bc2) + eps);
    }
}

static void ref_sgd(ref_state *s, size_t n, const float *g, const int *wdmask, double lr,
                    double mu, double damp, int nesterov, double wd) {
    for (size_t i = 0; i < n; i++) {
        double d = g[i] + (wdmask[i] ? wd * s->p[i] : 0.0);
        if (mu != 0) {
            s->m[i] = s->buf_init ? mu * s->m[i] + (1 - damp) * d : d;
            d = nesterov ? d + mu * s->m[i] : s->m[i];
        }
        s->p[i] -= lr * d;
    }
    if (mu != 0) s->buf_init = 1;
}

static double num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return v ? v->valuedouble : NAN;
}
static void vec(const cJSON *arr, double *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = cJSON_GetArrayItem(arr, (int)i)->valuedouble;
}

static void test_torch_cases(void) {
    cJSON *doc;
    ASSERT_OK(brisk_json_read_file("tests/data/train/optim_torch.json", &doc));
    if (!doc) return;
    size_t nw = (size_t)num(doc, "n_weight"), nb = (size_t)num(doc, "n_bias");
    size_t n = nw + nb, steps = (size_t)num(doc, "steps");
    ASSERT_TRUE(n <= MAXN && steps <= MAXS);
    double p0[MAXN], grads[MAXS][MAXN];
    vec(cJSON_GetObjectItem(doc, "p0"), p0, n);
    for (size_t k = 0; k < steps; k++)
        vec(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "grads"), (int)k), grads[k], n);

    /* Layout: "weight" (is_weight) then "bias". */
    brisk_nn_tensor views[2] = {{.name = "w", .offset = 0, .numel = nw, .ndim = 1,
                                 .shape = {nw}, .is_weight = 1},
                                {.name = "b", .offset = nw, .numel = nb, .ndim = 1,
                                 .shape = {nb}, .is_weight = 0}};
    float pdata[MAXN], gdata[MAXN];
    brisk_nn_params layout = {.n = n, .data = pdata, .grad = gdata, .n_tensors = 2,
                              .tensors = views};
    const cJSON *cases = cJSON_GetObjectItem(doc, "cases");
    int nc = cJSON_GetArraySize(cases);
    ASSERT_EQ(nc, 5);
    for (int c = 0; c < nc; c++) {
        const cJSON *cs = cJSON_GetArrayItem(cases, c);
        const char *name = cJSON_GetObjectItem(cs, "name")->valuestring;
        const char *kind = cJSON_GetObjectItem(cs, "kind")->valuestring;
        int decay_all = cJSON_IsTrue(cJSON_GetObjectItem(cs, "decay_all"));
        double lr[MAXS], mom[MAXS];
        vec(cJSON_GetObjectItem(cs, "lr"), lr, steps);
        vec(cJSON_GetObjectItem(cs, "momentum"), mom, steps);
        brisk_optim_params op;
        brisk_optim_kind k;
        ASSERT_OK(brisk_optim_kind_from_name(kind, &k));
        brisk_optim_params_default(&op, k);
        op.weight_decay = num(cs, "weight_decay");
        op.decay_all = decay_all;
        if (k == BRISK_OPTIM_ADAMW) {
            op.beta1 = num(cs, "beta1");
            op.beta2 = num(cs, "beta2");
            op.eps = num(cs, "eps");
        } else {
            op.momentum = mom[0];
            op.dampening = num(cs, "dampening");
            op.nesterov = cJSON_IsTrue(cJSON_GetObjectItem(cs, "nesterov"));
        }
        brisk_optim *o;
        ASSERT_OK(brisk_optim_create(&op, &layout, &o));
        if (!o) continue;
        ref_state rs;
        memset(&rs, 0, sizeof rs);
        int wdmask[MAXN];
        for (size_t i = 0; i < n; i++) {
            pdata[i] = (float)p0[i];
            rs.p[i] = p0[i];
            wdmask[i] = decay_all || i < nw;
        }
        double max_torch = 0, max_ref = 0, max_step = 0;
        for (size_t s = 0; s < steps; s++) {
            double before[MAXN];
            for (size_t i = 0; i < n; i++) {
                gdata[i] = (float)grads[s][i];
                before[i] = pdata[i];
            }
            brisk_optim_step(o, pdata, gdata, lr[s], mom[s]);
            if (k == BRISK_OPTIM_ADAMW)
                ref_adamw(&rs, n, gdata, wdmask, lr[s], mom[s], op.beta2, op.eps,
                          op.weight_decay);
            else
                ref_sgd(&rs, n, gdata, wdmask, lr[s], mom[s], op.dampening, op.nesterov,
                        op.weight_decay);
            double want[MAXN];
            vec(cJSON_GetArrayItem(cJSON_GetObjectItem(cs, "params"), (int)s), want, n);
            for (size_t i = 0; i < n; i++) {
                double et = fabs(pdata[i] - want[i]) / (1 + fabs(want[i]));
                double er = fabs(pdata[i] - rs.p[i]) / (1 + fabs(rs.p[i]));
                if (et > max_torch) max_torch = et;
                if (er > max_ref) max_ref = er;
                if (fabs(pdata[i] - before[i]) > max_step) max_step = fabs(pdata[i] - before[i]);
            }
        }
        ASSERT_EQ(brisk_optim_steps(o), (long)steps);
        /* float32 vs torch's float32 (torch's vector kernels fuse multiply-adds):
         * a few ulps of |p| <= 10 per step; vs the double reference: float rounding. */
        printf("%-16s max rel err vs torch %.3g, vs double reference %.3g (largest update %.3g)\n",
               name, max_torch, max_ref, max_step);
        ASSERT_DOUBLE_LE(max_torch, 2e-6);
        ASSERT_DOUBLE_LE(max_ref, 2e-6);
        ASSERT_TRUE(max_step > 1e-3); /* the updates are not trivially small */
        brisk_optim_free(o);
    }
    cJSON_Delete(doc);
}

/* A decay that reaches the bias would change the bias: check decay_all = 0 leaves a bias
 * with zero gradient untouched while the weight decays. */
static void test_weight_decay_mask(void) {
    brisk_nn_tensor views[3] = {{.name = "a.weight", .offset = 0, .numel = 10, .is_weight = 1},
                                {.name = "a.bias", .offset = 10, .numel = 5, .is_weight = 0},
                                {.name = "b.weight", .offset = 15, .numel = 20000, .is_weight = 1}};
    size_t n = 20015;
    float *p = malloc(n * sizeof *p), *g = calloc(n, sizeof *g);
    for (size_t i = 0; i < n; i++) p[i] = 1.0f;
    brisk_nn_params layout = {.n = n, .data = p, .grad = g, .n_tensors = 3, .tensors = views};
    brisk_optim_params op;
    brisk_optim_params_default(&op, BRISK_OPTIM_ADAMW);
    op.lr = 0.1;
    op.weight_decay = 0.5;
    brisk_optim *o;
    ASSERT_OK(brisk_optim_create(&op, &layout, &o));
    brisk_optim_step(o, p, g, -1, -1);
    ASSERT_NEAR(p[0], 0.95, 1e-7);
    ASSERT_NEAR(p[10], 1.0, 0);
    ASSERT_NEAR(p[14], 1.0, 0);
    ASSERT_NEAR(p[15], 0.95, 1e-7);
    ASSERT_NEAR(p[n - 1], 0.95, 1e-7);
    brisk_optim_free(o);
    op.decay_all = 1;
    for (size_t i = 0; i < n; i++) p[i] = 1.0f;
    ASSERT_OK(brisk_optim_create(&op, &layout, &o));
    brisk_optim_step(o, p, g, -1, -1);
    ASSERT_NEAR(p[12], 0.95, 1e-7);
    brisk_optim_free(o);
    /* A view outside the buffer is refused. */
    views[2].numel = 30000;
    ASSERT_STATUS(brisk_optim_create(&op, &layout, &o), BRISK_EINVAL);
    free(p);
    free(g);
}

/* Bit-identical for 1 and 2 threads; save/load continues identically. */
static void test_threads_and_state(void) {
    size_t n = 100003;
    float *p1 = malloc(n * 4), *p2 = malloc(n * 4), *g = malloc(n * 4);
    for (size_t i = 0; i < n; i++) {
        p1[i] = p2[i] = sinf((float)i);
        g[i] = cosf(0.37f * (float)i) * 1e-2f;
    }
    for (int kind = 0; kind < BRISK_OPTIM_COUNT; kind++) {
        brisk_optim_params op;
        brisk_optim_params_default(&op, (brisk_optim_kind)kind);
        op.momentum = 0.9;
        brisk_optim *a, *b;
        ASSERT_OK(brisk_optim_create_flat(&op, n, &a));
        ASSERT_OK(brisk_optim_create_flat(&op, n, &b));
        for (size_t i = 0; i < n; i++) p1[i] = p2[i] = sinf((float)i);
        brisk_set_num_threads(1);
        for (int s = 0; s < 3; s++) brisk_optim_step(a, p1, g, -1, -1);
        brisk_set_num_threads(2);
        for (int s = 0; s < 3; s++) brisk_optim_step(b, p2, g, -1, -1);
        ASSERT_TRUE(!memcmp(p1, p2, n * 4));
        /* Save b, continue a; load into a fresh optimizer, continue: identical. */
        char dir[] = "/tmp/brisk-test-optim-XXXXXX";
        ASSERT_TRUE(mkdtemp(dir) != NULL);
        ASSERT_OK(brisk_optim_save(b, dir));
        brisk_optim *c;
        ASSERT_OK(brisk_optim_create_flat(&op, n, &c));
        ASSERT_OK(brisk_optim_load(c, dir));
        ASSERT_EQ(brisk_optim_steps(c), 3);
        brisk_optim_step(a, p1, g, -1, -1);
        brisk_optim_step(c, p2, g, -1, -1);
        ASSERT_TRUE(!memcmp(p1, p2, n * 4));
        ASSERT_TRUE(!memcmp(brisk_optim_buffer(a, 0), brisk_optim_buffer(c, 0), n * 4));
        /* Wrong size or kind is refused. */
        brisk_optim *d;
        ASSERT_OK(brisk_optim_create_flat(&op, n - 1, &d));
        ASSERT_STATUS(brisk_optim_load(d, dir), BRISK_EMISMATCH);
        brisk_optim_free(d);
        brisk_optim_params other;
        brisk_optim_params_default(&other, (brisk_optim_kind)(1 - kind));
        ASSERT_OK(brisk_optim_create_flat(&other, n, &d));
        ASSERT_STATUS(brisk_optim_load(d, dir), BRISK_EMISMATCH);
        ASSERT_STR_CONTAINS(brisk_last_error(), "does not match");
        brisk_optim_free(d);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        ASSERT_EQ(system(cmd), 0);
        brisk_optim_free(a);
        brisk_optim_free(b);
        brisk_optim_free(c);
    }
    brisk_set_num_threads(0);
    free(p1);
    free(p2);
    free(g);
}

static void test_bad_params(void) {
    brisk_optim_params op;
    brisk_optim *o;
    brisk_optim_params_default(&op, BRISK_OPTIM_ADAMW);
    op.beta2 = 1.0;
    ASSERT_STATUS(brisk_optim_create_flat(&op, 4, &o), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "beta2");
    brisk_optim_params_default(&op, BRISK_OPTIM_ADAMW);
    op.lr = -1;
    ASSERT_STATUS(brisk_optim_create_flat(&op, 4, &o), BRISK_EINVAL);
    brisk_optim_params_default(&op, BRISK_OPTIM_SGD);
    op.nesterov = 1;
    ASSERT_STATUS(brisk_optim_create_flat(&op, 4, &o), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "nesterov");
    brisk_optim_kind k;
    ASSERT_STATUS(brisk_optim_kind_from_name("adam9", &k), BRISK_EUNSUPPORTED);
    ASSERT_OK(brisk_optim_kind_from_name("AdamW", &k));
    ASSERT_EQ(k, BRISK_OPTIM_ADAMW);
    ASSERT_TRUE(!strcmp(brisk_optim_kind_name(BRISK_OPTIM_SGD), "sgd"));
    /* Out of memory paths. */
    brisk_optim_params_default(&op, BRISK_OPTIM_ADAMW);
    for (long f = 0; f < 4; f++) {
        brisk_alloc_fail_after(f);
        int rc = brisk_optim_create_flat(&op, 8, &o);
        brisk_alloc_fail_after(-1);
        if (rc == 0) {
            brisk_optim_free(o);
            break;
        }
        ASSERT_EQ(rc, BRISK_ENOMEM);
    }
}

int main(void) {
    test_torch_cases();
    test_weight_decay_mask();
    test_threads_and_state();
    test_bad_params();
    TEST_DONE();
}
