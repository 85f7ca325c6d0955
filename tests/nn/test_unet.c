/* UNet2DModel tests: the diffusers reference cases, model-level gradient checks on several
 * configurations, planned memory (no allocation after the first call), bit-identical
 * results for 1 and 2 threads, checkpoint round trips (F32, F16, BF16, old attention names),
 * bad input, the denoiser adapter, and the classifier. */
#include "brisk/core.h"
#include "brisk/io.h"
#include "brisk/json.h"
#include "brisk/nn.h"
#include "brisk/rng.h"
#include "brisk/verify.h"
#include "brisk_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static void randf(float *x, size_t n, double scale, uint64_t k) {
    double *d = malloc(n * sizeof *d);
    brisk_randn(7, k, 0, n, d);
    for (size_t i = 0; i < n; i++) x[i] = (float)(d[i] * scale);
    free(d);
}

static void cfg_tiny(brisk_unet_config *c) {
    brisk_unet_config_default(c);
    c->sample_size = 8;
    c->in_channels = 1;
    c->out_channels = 1;
    c->n_blocks = 2;
    c->block_out_channels[0] = 8;
    c->block_out_channels[1] = 16;
    c->down_block_types[0] = BRISK_BLOCK_DOWN;
    c->down_block_types[1] = BRISK_BLOCK_ATTN_DOWN;
    c->up_block_types[0] = BRISK_BLOCK_ATTN_UP;
    c->up_block_types[1] = BRISK_BLOCK_UP;
    c->layers_per_block = 1;
    c->norm_num_groups = 4;
    c->attention_head_dim = 4;
    c->downsample_padding = 0;
}

/* scale_shift, center_input_sample, 3 blocks, mid scale 2, explicit time_embedding_dim */
static void cfg_b(brisk_unet_config *c) {
    cfg_tiny(c);
    c->in_channels = 2;
    c->out_channels = 3;
    c->n_blocks = 3;
    c->block_out_channels[0] = 8;
    c->block_out_channels[1] = 8;
    c->block_out_channels[2] = 16;
    c->down_block_types[0] = BRISK_BLOCK_ATTN_DOWN;
    c->down_block_types[1] = BRISK_BLOCK_DOWN;
    c->down_block_types[2] = BRISK_BLOCK_ATTN_DOWN;
    c->up_block_types[0] = BRISK_BLOCK_ATTN_UP;
    c->up_block_types[1] = BRISK_BLOCK_UP;
    c->up_block_types[2] = BRISK_BLOCK_ATTN_UP;
    c->layers_per_block = 2;
    c->resnet_time_scale_shift = BRISK_TIME_NORM_SCALE_SHIFT;
    c->center_input_sample = 1;
    c->mid_block_scale_factor = 2;
    c->time_embedding_dim = 24;
    c->freq_shift = 1;
    c->flip_sin_to_cos = 0;
    c->downsample_padding = 1;
    c->attention_head_dim = 0;
}

/* no mid-block attention, attn_norm_num_groups given, no mid block at all in cfg_d */
static void cfg_c(brisk_unet_config *c) {
    cfg_tiny(c);
    c->attn_norm_num_groups = 2;
}

static void cfg_e(brisk_unet_config *c) {
    cfg_tiny(c);
    c->add_attention = 0;
}

static void cfg_d(brisk_unet_config *c) {
    cfg_tiny(c);
    c->mid_block = 0;
    c->down_block_types[1] = BRISK_BLOCK_DOWN;
    c->up_block_types[0] = BRISK_BLOCK_UP;
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* Directional finite differences per parameter tensor (and for the input): perturb along a
 * random unit direction v restricted to that tensor by +-eps, compare (L+ - L-)/2eps with
 * g.v. Float32 forward; tolerance 3e-3 * (1 + |g.v|) (eps = 1e-2; rounding of L is ~1e-6). */
static void gradcheck(const brisk_unet_config *c, const char *name, size_t B, size_t hw) {
    brisk_unet *m;
    ASSERT_OK(brisk_unet_create(c, 11, &m));
    if (!m) return;
    brisk_nn_params *p = brisk_unet_params(m);
    size_t nx = B * c->in_channels * hw * hw, ny = B * c->out_channels * hw * hw;
    float *x = malloc(nx * 4), *y = malloc(ny * 4), *r = malloc(ny * 4), *dx = malloc(nx * 4);
    float t[4] = {3, 500, 999, 42.5f};
    randf(x, nx, 1, 1);
    randf(r, ny, 1, 2);
    /* non-trivial norms so their gradients are exercised away from 1 / 0 */
    for (size_t i = 0; i < p->n_tensors; i++)
        if (!p->tensors[i].is_weight)
            randf(p->data + p->tensors[i].offset, p->tensors[i].numel, 0.3, 100 + i),
                p->data[p->tensors[i].offset] += 1.0f;
    ASSERT_OK(brisk_unet_forward_train(m, x, t, B, hw, hw, y));
    ASSERT_OK(brisk_unet_backward(m, r, dx));
    float *g = malloc(p->n * 4);
    memcpy(g, p->grad, p->n * 4);
    const double eps = 1e-2;
    double worst = 0;
    const char *worst_name = "";
    float *v = malloc((p->n > nx ? p->n : nx) * 4);
    /* every tensor in sanitizer-free runs of small configs; otherwise a fixed stride */
    size_t stride = p->n_tensors / (test_sanitized() ? 12 : 60) + 1;
    for (size_t i = 0; i <= p->n_tensors; i += (i + stride > p->n_tensors && i != p->n_tensors) ? p->n_tensors - i : stride) {
        int is_x = i == p->n_tensors;
        size_t n = is_x ? nx : p->tensors[i].numel;
        float *base = is_x ? x : p->data + p->tensors[i].offset;
        const float *gg = is_x ? dx : g + p->tensors[i].offset;
        randf(v, n, 1, 1000 + i);
        double nv = sqrt(dot(v, v, n));
        for (size_t j = 0; j < n; j++) v[j] = (float)(v[j] / nv);
        double gv = dot(gg, v, n);
        float *keep = malloc(n * 4);
        memcpy(keep, base, n * 4);
        double L[2];
        for (int s = 0; s < 2; s++) {
            for (size_t j = 0; j < n; j++) base[j] = keep[j] + (float)((s ? -eps : eps) * v[j]);
            ASSERT_OK(brisk_unet_forward(m, x, t, B, hw, hw, y));
            L[s] = dot(y, r, ny);
        }
        memcpy(base, keep, n * 4);
        free(keep);
        double fd = (L[0] - L[1]) / (2 * eps);
        double e = fabs(fd - gv) / (1 + fabs(gv));
        if (e > worst) {
            worst = e;
            worst_name = is_x ? "input" : p->tensors[i].name;
        }
    }
    printf("unet gradcheck %s: every %zu-th of %zu tensors + input, worst rel err %.2g (%s)\n",
           name, stride, p->n_tensors, worst, worst_name);
    ASSERT_DOUBLE_LE(worst, 3e-3);
    free(v), free(g), free(x), free(y), free(r), free(dx);
    brisk_unet_free(m);
}

/* forward/backward allocate nothing after the first call; 1 and 2 threads agree bitwise */
static void test_memory_and_threads(void) {
    brisk_unet_config c;
    cfg_tiny(&c);
    c.block_out_channels[0] = 16;
    c.block_out_channels[1] = 32;
    c.norm_num_groups = 8;
    size_t B = 4, hw = 16, nx = B * hw * hw;
    float *x = malloc(nx * 4), *y = malloc(nx * 4), *y1 = malloc(nx * 4), *r = malloc(nx * 4);
    float t[4] = {1, 10, 100, 999};
    randf(x, nx, 1, 5);
    randf(r, nx, 1, 6);
    brisk_unet *m;
    ASSERT_OK(brisk_unet_create(&c, 3, &m));
    brisk_nn_params *p = brisk_unet_params(m);
    ASSERT_OK(brisk_unet_forward(m, x, t, B, hw, hw, y));
    ASSERT_OK(brisk_unet_forward_train(m, x, t, B, hw, hw, y));
    ASSERT_OK(brisk_unet_backward(m, r, NULL));
    uint64_t a0 = brisk_alloc_count();
    for (int k = 0; k < 2; k++) {
        ASSERT_OK(brisk_unet_forward(m, x, t, B, hw, hw, y));
        ASSERT_OK(brisk_unet_forward(m, x, t, 2, hw, hw, y)); /* smaller batch: same plan */
        ASSERT_OK(brisk_unet_forward_train(m, x, t, B, hw, hw, y));
        ASSERT_OK(brisk_unet_backward(m, r, NULL));
    }
    ASSERT_EQ(brisk_alloc_count() - a0, 0);
    printf("allocations during 8 forward/backward calls after planning: %llu\n",
           (unsigned long long)(brisk_alloc_count() - a0));

    /* threads */
    float *g1 = malloc(p->n * 4);
    brisk_set_num_threads(1);
    ASSERT_OK(brisk_unet_forward_train(m, x, t, B, hw, hw, y1));
    ASSERT_OK(brisk_unet_backward(m, r, NULL));
    memcpy(g1, p->grad, p->n * 4);
    float *yi1 = malloc(nx * 4);
    ASSERT_OK(brisk_unet_forward(m, x, t, B, hw, hw, yi1));
    brisk_set_num_threads(2);
    ASSERT_OK(brisk_unet_forward_train(m, x, t, B, hw, hw, y));
    ASSERT_OK(brisk_unet_backward(m, r, NULL));
    ASSERT_TRUE(memcmp(y, y1, nx * 4) == 0);
    ASSERT_TRUE(memcmp(g1, p->grad, p->n * 4) == 0);
    ASSERT_OK(brisk_unet_forward(m, x, t, B, hw, hw, y));
    ASSERT_TRUE(memcmp(y, yi1, nx * 4) == 0);
    /* batch 1 (tiles split within the image) too */
    float *b1 = malloc(hw * hw * 4);
    brisk_set_num_threads(1);
    ASSERT_OK(brisk_unet_forward(m, x, t, 1, hw, hw, b1));
    brisk_set_num_threads(2);
    ASSERT_OK(brisk_unet_forward(m, x, t, 1, hw, hw, y));
    ASSERT_TRUE(memcmp(y, b1, hw * hw * 4) == 0);
    /* inference forward = training forward, and a batch of 4 = 4 batches of 1 */
    ASSERT_TRUE(memcmp(y1, yi1, nx * 4) == 0);
    ASSERT_TRUE(memcmp(b1, yi1, hw * hw * 4) == 0);
    brisk_set_num_threads(0);
    printf("1 vs 2 threads: outputs and %zu gradients bit-identical\n", p->n);
    free(b1), free(g1), free(yi1), free(x), free(y), free(y1), free(r);
    brisk_unet_free(m);
}

static uint16_t f32_to_f16(float f) { /* round to nearest even; normal range only */
    uint32_t b;
    memcpy(&b, &f, 4);
    uint32_t sign = (b >> 16) & 0x8000;
    int e = (int)((b >> 23) & 0xff) - 127 + 15;
    uint32_t man = b & 0x7fffff;
    if (e <= 0) return (uint16_t)sign; /* flush tiny values */
    uint32_t h = sign | ((uint32_t)e << 10) | (man >> 13);
    uint32_t rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return (uint16_t)h;
}

static int write_variant(const brisk_nn_params *p, const char *path, brisk_st_dtype dt,
                         int old_names, const char *drop, const char *bad_shape,
                         const char *bad_dtype, const char *extra) {
    brisk_st_entry *e = calloc(p->n_tensors + 1, sizeof *e);
    char **names = calloc(p->n_tensors + 1, sizeof *names);
    void **bufs = calloc(p->n_tensors + 1, sizeof *bufs);
    size_t n = 0;
    for (size_t i = 0; i < p->n_tensors; i++) {
        const brisk_nn_tensor *t = &p->tensors[i];
        if (drop && !strcmp(t->name, drop)) continue;
        names[n] = malloc(strlen(t->name) + 16);
        strcpy(names[n], t->name);
        char *q;
        if (old_names && (q = strstr(names[n], ".to_q."))) sprintf(q, ".query.%s", t->name + (q - names[n]) + 6);
        else if (old_names && (q = strstr(names[n], ".to_k."))) sprintf(q, ".key.%s", t->name + (q - names[n]) + 6);
        else if (old_names && (q = strstr(names[n], ".to_v."))) sprintf(q, ".value.%s", t->name + (q - names[n]) + 6);
        else if (old_names && (q = strstr(names[n], ".to_out.0."))) sprintf(q, ".proj_attn.%s", t->name + (q - names[n]) + 10);
        e[n].name = names[n];
        e[n].ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++) e[n].shape[d] = t->shape[d];
        if (bad_shape && !strcmp(t->name, bad_shape)) e[n].shape[0] += 1;
        size_t numel = 1;
        for (int d = 0; d < t->ndim; d++) numel *= e[n].shape[d];
        const float *src = p->data + t->offset;
        brisk_st_dtype d = bad_dtype && !strcmp(t->name, bad_dtype) ? BRISK_ST_I32 : dt;
        e[n].dtype = d;
        if (d == BRISK_ST_F32 || d == BRISK_ST_I32) {
            float *b = calloc(numel, 4);
            memcpy(b, src, (numel < t->numel ? numel : t->numel) * 4);
            bufs[n] = b;
        } else {
            uint16_t *b = calloc(numel, 2);
            for (size_t j = 0; j < numel && j < t->numel; j++) {
                uint32_t u;
                memcpy(&u, &src[j], 4);
                b[j] = d == BRISK_ST_F16 ? f32_to_f16(src[j]) : (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
            }
            bufs[n] = b;
        }
        e[n].data = bufs[n];
        n++;
    }
    float one = 1;
    if (extra) {
        e[n].name = extra;
        e[n].dtype = BRISK_ST_F32;
        e[n].ndim = 1;
        e[n].shape[0] = 1;
        e[n].data = &one;
        n++;
    }
    int rc = brisk_safetensors_write(path, e, n, NULL, 0);
    for (size_t i = 0; i < n; i++) {
        if (e[i].name != extra) free(names[i]), free(bufs[i]);
    }
    free(e), free(names), free(bufs);
    return rc;
}

static void path_in(char *buf, size_t n, const char *sub, const char *file) {
    snprintf(buf, n, "%s/%s", tmpdir, sub);
    brisk_mkdir_p(buf);
    snprintf(buf, n, "%s/%s/%s", tmpdir, sub, file);
}

static void test_roundtrip(void) {
    brisk_unet_config c;
    cfg_b(&c);
    c.sample_size = 8;
    brisk_unet *m, *m2;
    ASSERT_OK(brisk_unet_create(&c, 5, &m));
    char dir[512];
    snprintf(dir, sizeof dir, "%s/rt", tmpdir);
    ASSERT_OK(brisk_unet_save(m, dir, NULL));
    ASSERT_OK(brisk_unet_load(dir, &m2));
    if (!m2) return;
    brisk_nn_params *p = brisk_unet_params(m), *p2 = brisk_unet_params(m2);
    ASSERT_EQ(p->n, p2->n);
    ASSERT_TRUE(memcmp(p->data, p2->data, p->n * 4) == 0);
    const brisk_unet_config *c2 = brisk_unet_get_config(m2);
    ASSERT_EQ(c2->resnet_time_scale_shift, BRISK_TIME_NORM_SCALE_SHIFT);
    ASSERT_EQ(c2->time_embedding_dim, 24);
    ASSERT_EQ(c2->center_input_sample, 1);
    ASSERT_EQ(c2->attention_head_dim, 0);
    ASSERT_NEAR(c2->mid_block_scale_factor, 2, 0);
    ASSERT_EQ(c2->n_blocks, 3);
    ASSERT_EQ(c2->down_block_types[2], BRISK_BLOCK_ATTN_DOWN);
    size_t nx = 2 * 2 * 64, ny = 2 * 3 * 64;
    float x[256], y[384], y2[384], t[2] = {10, 700};
    randf(x, nx, 1, 9);
    ASSERT_OK(brisk_unet_forward(m, x, t, 2, 8, 8, y));
    ASSERT_OK(brisk_unet_forward(m2, x, t, 2, 8, 8, y2));
    ASSERT_TRUE(memcmp(y, y2, ny * 4) == 0);
    /* EMA-style: saving another parameter buffer */
    float *alt = malloc(p->n * 4);
    for (size_t i = 0; i < p->n; i++) alt[i] = p->data[i] * 0.5f;
    ASSERT_OK(brisk_unet_save(m, dir, alt));
    brisk_unet_free(m2);
    ASSERT_OK(brisk_unet_load(dir, &m2));
    ASSERT_TRUE(m2 && memcmp(alt, brisk_unet_params(m2)->data, p->n * 4) == 0);
    free(alt);
    brisk_unet_free(m2);
    printf("round trip: %zu parameters, config and outputs identical\n", p->n);

    /* F16 / BF16 / old attention names load */
    for (int variant = 0; variant < 3; variant++) {
        char wp[512];
        path_in(wp, sizeof wp, "var", "diffusion_pytorch_model.safetensors");
        brisk_st_dtype dt = variant == 0 ? BRISK_ST_F16 : variant == 1 ? BRISK_ST_BF16 : BRISK_ST_F32;
        ASSERT_OK(write_variant(p, wp, dt, variant == 2, NULL, NULL, NULL, NULL));
        char cp[512];
        path_in(cp, sizeof cp, "var", "config.json");
        ASSERT_OK(brisk_unet_config_write(cp, &c));
        snprintf(dir, sizeof dir, "%s/var", tmpdir);
        ASSERT_OK(brisk_unet_load(dir, &m2));
        if (!m2) continue;
        /* F16 keeps 11 significant bits (values below 2^-14 flushed by this test's
         * converter), BF16 8: |change| <= 2^-11 |p| + 2^-14, resp. 2^-8 |p| */
        double worst = 0;
        float *d2 = brisk_unet_params(m2)->data;
        double rel = variant == 0 ? 1.0 / 2048 : variant == 1 ? 1.0 / 256 : 0;
        double abs_ = variant == 0 ? 1.0 / 16384 : 0;
        for (size_t i = 0; i < p->n; i++)
            worst = fmax(worst, fabs(d2[i] - p->data[i]) - rel * fabs(p->data[i]) - abs_);
        ASSERT_DOUBLE_LE(worst, 0);
        printf("load %s: parameter changes within the format's rounding (%.2g)\n",
               variant == 0 ? "F16" : variant == 1 ? "BF16" : "old attention names", worst);
        brisk_unet_free(m2);
    }
    brisk_unet_free(m);
}

static void expect_load_error(const char *dir, const char *needle1, const char *needle2) {
    brisk_unet *m = NULL;
    int rc = brisk_unet_load(dir, &m);
    ASSERT_TRUE(rc < 0);
    ASSERT_TRUE(m == NULL);
    ASSERT_STR_CONTAINS(brisk_last_error(), needle1);
    if (needle2) ASSERT_STR_CONTAINS(brisk_last_error(), needle2);
    printf("  error: %s\n", brisk_last_error());
    brisk_unet_free(m);
}

static void write_bytes(const char *path, const void *d, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(d, 1, n, f);
    fclose(f);
}

static void test_bad_input(void) {
    brisk_unet_config c;
    cfg_tiny(&c);
    brisk_unet *m;
    ASSERT_OK(brisk_unet_create(&c, 1, &m));
    brisk_nn_params *p = brisk_unet_params(m);
    char dir[512], wp[512], cp[512];
    snprintf(dir, sizeof dir, "%s/bad", tmpdir);
    path_in(cp, sizeof cp, "bad", "config.json");
    path_in(wp, sizeof wp, "bad", "diffusion_pytorch_model.safetensors");
    ASSERT_OK(brisk_unet_config_write(cp, &c));
    printf("bad input:\n");
    /* truncated file */
    ASSERT_OK(brisk_unet_save(m, dir, NULL));
    char *buf;
    size_t len;
    ASSERT_OK(brisk_read_file(wp, &buf, &len));
    write_bytes(wp, buf, len / 2);
    expect_load_error(dir, "diffusion_pytorch_model.safetensors", "past the end");
    write_bytes(wp, buf, 5);
    expect_load_error(dir, "diffusion_pytorch_model.safetensors", "truncated");
    /* oversized header length */
    unsigned char big[16] = {0, 0, 0, 0, 0, 1, 0, 0, '{', '}'};
    write_bytes(wp, big, 10);
    expect_load_error(dir, "diffusion_pytorch_model.safetensors", "100 MB");
    /* header length larger than the file */
    memcpy(big, "\x20\x00\x00\x00\x00\x00\x00\x00{}", 10);
    write_bytes(wp, big, 10);
    expect_load_error(dir, "diffusion_pytorch_model.safetensors", "past the end");
    /* header not JSON */
    memcpy(big, "\x02\x00\x00\x00\x00\x00\x00\x00{x", 10);
    write_bytes(wp, big, 10);
    expect_load_error(dir, "diffusion_pytorch_model.safetensors", "JSON");
    brisk_free(buf);
    /* wrong dtype, wrong shape, missing, extra */
    ASSERT_OK(write_variant(p, wp, BRISK_ST_F32, 0, NULL, NULL, "down_blocks.0.resnets.0.conv1.weight", NULL));
    expect_load_error(dir, "down_blocks.0.resnets.0.conv1.weight", "I32");
    ASSERT_OK(write_variant(p, wp, BRISK_ST_F32, 0, NULL, "mid_block.attentions.0.to_k.weight", NULL, NULL));
    expect_load_error(dir, "mid_block.attentions.0.to_k.weight", "shape [17, 16], expected [16, 16]");
    ASSERT_OK(write_variant(p, wp, BRISK_ST_F32, 0, "conv_out.bias", NULL, NULL, NULL));
    expect_load_error(dir, "missing tensor 'conv_out.bias'", "diffusion_pytorch_model.safetensors");
    ASSERT_OK(write_variant(p, wp, BRISK_ST_F32, 0, NULL, NULL, NULL, "class_embedding.weight"));
    expect_load_error(dir, "unexpected tensor 'class_embedding.weight'", NULL);
    ASSERT_OK(write_variant(p, wp, BRISK_ST_F32, 0, NULL, NULL, NULL, NULL));
    brisk_unet *ok;
    ASSERT_OK(brisk_unet_load(dir, &ok));
    brisk_unet_free(ok);
    /* config errors */
    static const struct {
        const char *key, *value, *needle;
    } bad[] = {
        {"down_block_types", "[\"DownBlock2D\", \"CrossAttnDownBlock2D\"]", "'down_block_types'[1]"},
        {"up_block_types", "[\"AttnUpBlock2D\", \"DownBlock2D\"]", "'up_block_types'[1]"},
        {"act_fn", "\"gelu\"", "act_fn"},
        {"time_embedding_type", "\"fourier\"", "time_embedding_type"},
        {"class_embed_type", "\"timestep\"", "class_embed_type"},
        {"resnet_time_scale_shift", "\"spatial\"", "resnet_time_scale_shift"},
        {"cross_attention_dim", "512", "'cross_attention_dim'"},
        {"block_out_channels", "[8, 16, 32]", "block_out_channels"},
        {"norm_num_groups", "3", "GroupNorm"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ASSERT_OK(brisk_unet_config_write(cp, &c));
        cJSON *doc;
        ASSERT_OK(brisk_json_read_file(cp, &doc));
        cJSON *v = cJSON_Parse(bad[i].value);
        cJSON_DeleteItemFromObjectCaseSensitive(doc, bad[i].key);
        cJSON_AddItemToObject(doc, bad[i].key, v);
        ASSERT_OK(brisk_json_write_file(cp, doc));
        cJSON_Delete(doc);
        expect_load_error(dir, bad[i].needle, NULL);
    }
    snprintf(wp, sizeof wp, "%s/nonexistent", tmpdir);
    expect_load_error(wp, "nonexistent", NULL);
    brisk_unet_free(m);
}

static void test_verify_cases(void) {
    const char *cases[2] = {"tests/data/unet/unet_ddpm_cifar_like", "tests/data/unet/unet_tiny_attn"};
    for (int i = 0; i < 2; i++) {
        brisk_verify_result r;
        ASSERT_OK(brisk_verify_path(cases[i], &r));
        ASSERT_TRUE(r.passed);
        ASSERT_DOUBLE_LE(r.max_err, 1e-3);
        printf("verify %s: %s\n", r.name, r.detail);
    }
}

static void test_denoiser(void) {
    brisk_denoiser *d;
    ASSERT_OK(brisk_unet_denoiser_create("tests/data/unet/unet_tiny_attn", &d));
    if (!d) return;
    ASSERT_EQ(d->prediction, BRISK_PRED_EPSILON);
    ASSERT_EQ(d->dim, 64);
    brisk_unet *m;
    ASSERT_OK(brisk_unet_load("tests/data/unet/unet_tiny_attn", &m));
    float xf[192], yf[192], t[3] = {250, 250, 250};
    double xd[192], yd[192];
    randf(xf, 192, 1, 77);
    for (int i = 0; i < 192; i++) xd[i] = xf[i];
    ASSERT_OK(brisk_denoiser_predict(d, xd, 3, 250, 0.5, yd));
    ASSERT_OK(brisk_unet_forward(m, xf, t, 3, 8, 8, yf));
    double worst = 0;
    for (int i = 0; i < 192; i++) worst = fmax(worst, fabs(yd[i] - yf[i]));
    ASSERT_NEAR(worst, 0, 0);
    brisk_denoiser_free(d);
    /* prediction type from scheduler_config.json */
    char dir[512], p[600];
    snprintf(dir, sizeof dir, "%s/den", tmpdir);
    ASSERT_OK(brisk_unet_save(m, dir, NULL));
    snprintf(p, sizeof p, "%s/scheduler_config.json", dir);
    const char *sc = "{\"_class_name\": \"DDPMScheduler\", \"prediction_type\": \"v_prediction\"}";
    ASSERT_OK(brisk_write_file_atomic(p, sc, strlen(sc)));
    ASSERT_OK(brisk_unet_denoiser_create(dir, &d));
    ASSERT_TRUE(d && d->prediction == BRISK_PRED_V);
    brisk_denoiser_free(d);
    brisk_unet_free(m);
    printf("denoiser adapter: matches forward; prediction type read from scheduler_config.json\n");
}

static void test_classifier(void) {
    brisk_classifier_config c;
    brisk_classifier_config_default(&c);
    c.height = c.width = 16;
    c.channels[0] = 8;
    c.channels[1] = 16;
    c.channels[2] = 16;
    c.norm_groups = 4;
    c.feature_dim = 32;
    brisk_classifier *m;
    ASSERT_OK(brisk_classifier_create(&c, 9, &m));
    if (!m) return;
    brisk_nn_params *p = brisk_classifier_params(m);
    size_t B = 4, nx = B * 256;
    float *x = malloc(nx * 4), lg[40], dl[40], lg2[40];
    uint8_t y[4] = {1, 7, 3, 9};
    randf(x, nx, 1, 31);
    ASSERT_OK(brisk_classifier_forward_train(m, x, B, lg));
    double l0 = brisk_cross_entropy_loss(lg, y, B, 10, dl);
    ASSERT_OK(brisk_classifier_backward(m, dl));
    float *g = malloc(p->n * 4), *v = malloc(p->n * 4);
    memcpy(g, p->grad, p->n * 4);
    double worst = 0;
    for (size_t i = 0; i < p->n_tensors; i++) {
        const brisk_nn_tensor *t = &p->tensors[i];
        randf(v, t->numel, 1, 500 + i);
        double nv = sqrt(dot(v, v, t->numel));
        double gv = 0;
        for (size_t j = 0; j < t->numel; j++) gv += g[t->offset + j] * v[j] / nv;
        double L[2];
        for (int s = 0; s < 2; s++) {
            for (size_t j = 0; j < t->numel; j++) p->data[t->offset + j] += (float)((s ? -2e-2 : 1e-2) * v[j] / nv);
            ASSERT_OK(brisk_classifier_forward(m, x, B, lg2));
            L[s] = brisk_cross_entropy_loss(lg2, y, B, 10, NULL);
        }
        for (size_t j = 0; j < t->numel; j++) p->data[t->offset + j] += (float)(1e-2 * v[j] / nv);
        double e = fabs((L[0] - L[1]) / 2e-2 - gv) / (1e-2 + fabs(gv));
        if (e > worst) worst = e;
    }
    printf("classifier: loss %.4f, %zu params, gradcheck worst rel err %.2g\n", l0, p->n, worst);
    ASSERT_DOUBLE_LE(worst, 2e-2);
    ASSERT_OK(brisk_classifier_forward(m, x, B, lg2));
    const float *f = brisk_classifier_features(m);
    ASSERT_TRUE(f != NULL);
    /* logits = head(features) */
    const brisk_nn_tensor *hw = brisk_nn_params_find(p, "head.weight"), *hb = brisk_nn_params_find(p, "head.bias");
    ASSERT_TRUE(hw && hb);
    double s = p->data[hb->offset + 3];
    for (size_t j = 0; j < 32; j++) s += p->data[hw->offset + 3 * 32 + j] * f[32 + j];
    ASSERT_NEAR(lg2[10 + 3], s, 1e-5);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/cls", tmpdir);
    ASSERT_OK(brisk_classifier_save(m, dir, NULL));
    brisk_classifier *m2;
    ASSERT_OK(brisk_classifier_load(dir, &m2));
    if (m2) {
        float lg3[40];
        ASSERT_OK(brisk_classifier_forward(m2, x, B, lg3));
        ASSERT_TRUE(memcmp(lg2, lg3, sizeof lg3) == 0);
        brisk_classifier_free(m2);
    }
    free(x), free(g), free(v);
    brisk_classifier_free(m);
}

#include <time.h>
static double t_last;
static void lap(const char *what) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double t = ts.tv_sec + 1e-9 * ts.tv_nsec;
    if (what) printf("  [%s: %.2f s]\n", what, t - t_last);
    t_last = t;
}

static void rm_rf(const char *d) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", d);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/brisk_test_unet_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    lap(NULL);
    test_verify_cases();
    lap("verify");
    brisk_unet_config c;
    cfg_tiny(&c);
    gradcheck(&c, "tiny (attn heads 4, downsample_padding 0)", 2, 8);
    cfg_b(&c);
    gradcheck(&c, "scale_shift + center_input + 3 blocks + mid scale 2", 2, 8);
    if (!test_sanitized()) {
        cfg_c(&c);
        gradcheck(&c, "attn_norm_num_groups 2", 1, 8);
        cfg_e(&c);
        gradcheck(&c, "add_attention false", 1, 8);
    }
    cfg_d(&c);
    gradcheck(&c, "no mid block", 2, 4);
    lap("gradchecks");
    test_memory_and_threads();
    lap("memory and threads");
    test_roundtrip();
    lap("round trip");
    test_bad_input();
    lap("bad input");
    test_denoiser();
    test_classifier();
    lap("denoiser and classifier");
    rm_rf(tmpdir);
    TEST_DONE();
}
