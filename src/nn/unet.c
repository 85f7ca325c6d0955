/* unet.c: diffusers' UNet2DModel (unet_2d.py, unet_2d_blocks.py, resnet.py,
 * attention_processor.py) as a brisk graph.
 *
 * Structure (Ho et al. 2020 DDPM UNet as diffusers builds it):
 *   temb = linear_2(silu(linear_1(sinusoidal(t))))
 *   h = conv_in(x); skips = [h]
 *   down block i: layers_per_block x (ResnetBlock2D [+ Attention]) each pushing a skip;
 *                 all but the last block end with a stride-2 conv (pushing a skip);
 *                 downsample_padding 0 pads (0,1,0,1) first (Downsample2D quirk);
 *   mid: ResnetBlock2D [+ Attention] + ResnetBlock2D (output_scale_factor and
 *        rescale_output_factor = mid_block_scale_factor; the attention has a GroupNorm with
 *        attn_norm_num_groups, or norm_num_groups when that is null and
 *        resnet_time_scale_shift is "default", else none);
 *   up block i: (layers_per_block + 1) x (concat skip -> ResnetBlock2D [+ Attention]);
 *               all but the last end with nearest 2x upsampling + conv3x3;
 *   out = conv_out(silu(conv_norm_out(h))).
 * ResnetBlock2D: h = conv1(silu(norm1(x))); default: h = norm2(h + proj(silu(temb)));
 * scale_shift: h = norm2(h) * (1 + scale) + shift; h = conv2(silu(h));
 * out = (shortcut(x) + h) / output_scale_factor, shortcut = 1x1 conv when channels change.
 */
#include "nn_impl.h"

#include "brisk/io.h"
#include "brisk/json.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct brisk_unet {
    brisk_unet_config cfg;
    brisk_nn_params params;
    nn_registry reg;
    nn_graph g[2]; /* [0] inference, [1] training */
    size_t gh[2], gw[2];
};

typedef struct builder {
    nn_builder base; /* must be first: helpers take &b->base */
    brisk_unet *m;
    int temb_act; /* silu(temb) tensor */
} builder;

#define rc base.rc
#define P(b, ...) nn_b_param(&(b)->base, __VA_ARGS__)
#define T(b, ...) nn_b_tensor(&(b)->base, __VA_ARGS__)
#define N(b, op) nn_b_node(&(b)->base, op)
#define TD(b, id) (&(b)->base.g->t[id])
#define conv(b, ...) nn_b_conv(&(b)->base, __VA_ARGS__)
#define gn(b, ...) nn_b_gn(&(b)->base, __VA_ARGS__)
#define linear(b, ...) nn_b_linear(&(b)->base, __VA_ARGS__)
#define silu(b, x) nn_b_silu(&(b)->base, x)

static int conv3(builder *b, int x, size_t cout, const char *prefix) {
    return conv(b, x, cout, 3, 1, 1, 1, 1, 1, prefix, NN_NONE, NN_NONE, 1.0f);
}

/* diffusers ResnetBlock2D (resnet.py) */
static int resnet(builder *b, int x, size_t cout, float osf, const char *prefix) {
    if (b->rc) return NN_NONE;
    const brisk_unet_config *c = &b->m->cfg;
    size_t cin = TD(b, x)->c;
    int ss = c->resnet_time_scale_shift == BRISK_TIME_NORM_SCALE_SHIFT;
    char nm[256];
    snprintf(nm, sizeof nm, "%s.norm1", prefix);
    int a1 = gn(b, x, c->norm_num_groups, 1, NN_NONE, nm);
    snprintf(nm, sizeof nm, "%s.time_emb_proj", prefix);
    int tproj = linear(b, b->temb_act, ss ? 2 * cout : cout, nm);
    snprintf(nm, sizeof nm, "%s.conv1", prefix);
    int h1 = conv(b, a1, cout, 3, 1, 1, 1, 1, 1, nm, ss ? NN_NONE : tproj, NN_NONE, 1.0f);
    snprintf(nm, sizeof nm, "%s.norm2", prefix);
    int a2 = gn(b, h1, c->norm_num_groups, 1, ss ? tproj : NN_NONE, nm);
    int sc = x;
    if (cin != cout) {
        snprintf(nm, sizeof nm, "%s.conv_shortcut", prefix);
        sc = conv(b, x, cout, 1, 1, 0, 0, 0, 0, nm, NN_NONE, NN_NONE, 1.0f);
    }
    snprintf(nm, sizeof nm, "%s.conv2", prefix);
    return conv(b, a2, cout, 3, 1, 1, 1, 1, 1, nm, NN_NONE, sc, 1.0f / osf);
}

/* diffusers Attention(_from_deprecated_attn_block=True) */
static int attention(builder *b, int x, size_t groups, float rescale, const char *prefix) {
    if (b->rc) return NN_NONE;
    const nn_tdesc *xt = TD(b, x);
    size_t c = xt->c, h = xt->h, w = xt->w;
    size_t hd = b->m->cfg.attention_head_dim ? b->m->cfg.attention_head_dim : c;
    size_t heads = c / hd;
    if (!heads)
        return b->rc = brisk_error(BRISK_EUNSUPPORTED, "%s: attention_head_dim %zu is larger "
                                   "than the %zu channels (0 heads)", prefix, hd, c),
               NN_NONE;
    if (groups && c % groups)
        return b->rc = brisk_error(BRISK_EUNSUPPORTED, "%s: GroupNorm over %zu channels with "
                                   "%zu groups", prefix, c, groups),
               NN_NONE;
    size_t inner = heads * hd;
    char nm[256];
    size_t p[10];
    for (int i = 0; i < 10; i++) p[i] = SIZE_MAX;
    if (groups) {
        snprintf(nm, sizeof nm, "%s.group_norm.weight", prefix);
        p[0] = P(b, nm, 1, c, 0, 0, 0, 0);
        snprintf(nm, sizeof nm, "%s.group_norm.bias", prefix);
        p[1] = P(b, nm, 1, c, 0, 0, 0, 0);
    }
    const char *proj[4] = {"to_q", "to_k", "to_v", "to_out.0"};
    for (int i = 0; i < 4; i++) {
        snprintf(nm, sizeof nm, "%s.%s.weight", prefix, proj[i]);
        p[2 + 2 * i] = i < 3 ? P(b, nm, 2, inner, c, 0, 0, 1) : P(b, nm, 2, c, inner, 0, 0, 1);
        snprintf(nm, sizeof nm, "%s.%s.bias", prefix, proj[i]);
        p[3 + 2 * i] = P(b, nm, 1, i < 3 ? inner : c, 0, 0, 0, 0);
    }
    int y = T(b, c, h, w);
    int saved = T(b, 0, 1, 1);
    nn_node *n = N(b, NN_OP_ATTN);
    if (b->rc) return NN_NONE;
    n->in[0] = x;
    n->out = y;
    n->aux = saved;
    for (int i = 0; i < 10; i++) n->p[i] = p[i];
    brisk_attention_desc d = {c, h * w, heads, hd, groups, (float)b->m->cfg.norm_eps, rescale};
    n->attn = d;
    return y;
}

static int build(brisk_unet *m, nn_graph *g, size_t h, size_t w) {
    const brisk_unet_config *c = &m->cfg;
    builder B;
    memset(&B, 0, sizeof B);
    B.base.reg = &m->reg;
    B.base.g = g;
    B.base.eps = (float)c->norm_eps;
    B.m = m;
    B.temb_act = NN_NONE;
    builder *b = &B;
    m->reg.cursor = 0;
    nn_graph_reset(g);
    const size_t c0 = c->block_out_channels[0];
    const size_t D = c->time_embedding_dim ? c->time_embedding_dim : 4 * c0;
    char nm[256];

    g->input = T(b, c->in_channels, h, w);
    g->input_t = T(b, 1, 1, 1);
    int x = g->input;
    if (c->center_input_sample && !b->rc) {
        int y = T(b, c->in_channels, h, w);
        nn_node *n = N(b, NN_OP_AFFINE);
        if (b->rc) return b->rc;
        n->in[0] = x;
        n->out = y;
        n->scale = 2.0f;
        n->shift = -1.0f;
        x = y;
    }
    /* time: Timesteps(c0, flip_sin_to_cos, freq_shift) + TimestepEmbedding(c0, D) */
    int e0 = T(b, c0, 1, 1);
    nn_node *tn = N(b, NN_OP_TEMB);
    if (b->rc) return b->rc;
    tn->in[0] = g->input_t;
    tn->out = e0;
    tn->c = c0;
    tn->flip = c->flip_sin_to_cos;
    tn->shift = (float)c->freq_shift;
    int e1 = linear(b, e0, D, "time_embedding.linear_1");
    int temb = linear(b, silu(b, e1), D, "time_embedding.linear_2");
    b->temb_act = silu(b, temb);

    int cur = conv3(b, x, c0, "conv_in");
    int skips[BRISK_UNET_MAX_BLOCKS * 16 + 2];
    size_t ns = 0;
    skips[ns++] = cur;
    size_t H = h, W = w;
    for (size_t i = 0; i < c->n_blocks && !b->rc; i++) {
        size_t co = c->block_out_channels[i];
        int attn = c->down_block_types[i] == BRISK_BLOCK_ATTN_DOWN;
        for (size_t j = 0; j < c->layers_per_block; j++) {
            snprintf(nm, sizeof nm, "down_blocks.%zu.resnets.%zu", i, j);
            cur = resnet(b, cur, co, 1.0f, nm);
            if (attn) {
                snprintf(nm, sizeof nm, "down_blocks.%zu.attentions.%zu", i, j);
                cur = attention(b, cur, c->norm_num_groups, 1.0f, nm);
            }
            skips[ns++] = cur;
        }
        if (i + 1 < c->n_blocks) {
            snprintf(nm, sizeof nm, "down_blocks.%zu.downsamplers.0.conv", i);
            if (c->downsample_padding == 0) /* F.pad(x, (0, 1, 0, 1)) then conv, padding 0 */
                cur = conv(b, cur, co, 3, 2, 0, 0, 1, 1, nm, NN_NONE, NN_NONE, 1.0f);
            else
                cur = conv(b, cur, co, 3, 2, 1, 1, 1, 1, nm, NN_NONE, NN_NONE, 1.0f);
            skips[ns++] = cur;
            H /= 2;
            W /= 2;
        }
    }
    if (c->mid_block && !b->rc) {
        size_t cm = c->block_out_channels[c->n_blocks - 1];
        float sf = (float)c->mid_block_scale_factor;
        cur = resnet(b, cur, cm, sf, "mid_block.resnets.0");
        if (c->add_attention) {
            size_t ag = c->attn_norm_num_groups
                            ? c->attn_norm_num_groups
                            : (c->resnet_time_scale_shift == BRISK_TIME_NORM_DEFAULT ? c->norm_num_groups
                                                                                     : 0);
            cur = attention(b, cur, ag, sf, "mid_block.attentions.0");
        }
        cur = resnet(b, cur, cm, sf, "mid_block.resnets.1");
    }
    for (size_t i = 0; i < c->n_blocks && !b->rc; i++) {
        size_t co = c->block_out_channels[c->n_blocks - 1 - i];
        int attn = c->up_block_types[i] == BRISK_BLOCK_ATTN_UP;
        for (size_t j = 0; j < c->layers_per_block + 1 && !b->rc; j++) {
            int skip = skips[--ns];
            const nn_tdesc *ct = TD(b, cur), *st = TD(b, skip);
            int cat = T(b, ct->c + st->c, ct->h, ct->w);
            nn_node *n = N(b, NN_OP_CONCAT);
            if (b->rc) break;
            n->in[0] = cur;
            n->in[1] = skip;
            n->out = cat;
            snprintf(nm, sizeof nm, "up_blocks.%zu.resnets.%zu", i, j);
            cur = resnet(b, cat, co, 1.0f, nm);
            if (attn) {
                snprintf(nm, sizeof nm, "up_blocks.%zu.attentions.%zu", i, j);
                cur = attention(b, cur, c->norm_num_groups, 1.0f, nm);
            }
        }
        if (i + 1 < c->n_blocks && !b->rc) {
            const nn_tdesc *ct = TD(b, cur);
            int up = T(b, ct->c, 2 * ct->h, 2 * ct->w);
            nn_node *n = N(b, NN_OP_UPSAMPLE);
            if (b->rc) break;
            n->in[0] = cur;
            n->out = up;
            n->c = TD(b, cur)->c;
            n->h = TD(b, cur)->h;
            n->w = TD(b, cur)->w;
            snprintf(nm, sizeof nm, "up_blocks.%zu.upsamplers.0.conv", i);
            cur = conv3(b, up, co, nm);
        }
    }
    int a = gn(b, cur, c->norm_num_groups, 1, NN_NONE, "conv_norm_out");
    g->output = conv3(b, a, c->out_channels, "conv_out");
    if (!b->rc && m->reg.err) b->rc = m->reg.err;
    return b->rc;
}
#undef rc

static int check_hw(const brisk_unet *m, size_t h, size_t w) {
    size_t f = (size_t)1 << (m->cfg.n_blocks - 1);
    if (!h || !w || h % f || w % f)
        return brisk_error(BRISK_EINVAL, "UNet input %zux%zu: height and width must be positive "
                           "multiples of %zu (2^(number of blocks - 1))", h, w, f);
    return BRISK_OK;
}

static size_t default_hw(const brisk_unet_config *c) {
    size_t f = (size_t)1 << (c->n_blocks - 1);
    if (c->sample_size && c->sample_size % f == 0) return c->sample_size;
    return f;
}

void brisk_unet_free(brisk_unet *m) {
    if (!m) return;
    nn_graph_free(&m->g[0]);
    nn_graph_free(&m->g[1]);
    nn_params_free(&m->params);
    brisk_free(m);
}

static int unet_new(const brisk_unet_config *c, brisk_unet **out) {
    *out = NULL;
    if (!c->n_blocks || c->n_blocks > BRISK_UNET_MAX_BLOCKS)
        return brisk_error(BRISK_EINVAL, "UNet config: %zu blocks (1..%d supported)",
                           c->n_blocks, BRISK_UNET_MAX_BLOCKS);
    brisk_unet *m = brisk_calloc(1, sizeof *m);
    if (!m) return BRISK_ENOMEM;
    m->cfg = *c;
    m->reg.p = &m->params;
    size_t hw = default_hw(c);
    int rc = build(m, &m->g[0], hw, hw);
    if (!rc) rc = nn_reg_finish(&m->reg);
    if (rc) {
        brisk_unet_free(m);
        return rc;
    }
    m->gh[0] = m->gw[0] = hw;
    *out = m;
    return BRISK_OK;
}

int brisk_unet_create(const brisk_unet_config *c, uint64_t seed, brisk_unet **out) {
    int rc = unet_new(c, out);
    if (rc) return rc;
    rc = nn_params_init_default(&(*out)->params, seed);
    if (rc) {
        brisk_unet_free(*out);
        *out = NULL;
    }
    return rc;
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Old diffusers attention names (AttentionBlock, diffusers < 0.15): query/key/value/
 * proj_attn; diffusers converts them on load (_convert_deprecated_attention_blocks). */
static int old_attn_name(const char *name, char *out, size_t n) {
    static const char *map[4][2] = {
        {".to_q.", ".query."}, {".to_k.", ".key."}, {".to_v.", ".value."}, {".to_out.0.", ".proj_attn."}};
    for (int i = 0; i < 4; i++) {
        const char *s = strstr(name, map[i][0]);
        if (s && strstr(name, "attentions.")) {
            snprintf(out, n, "%.*s%s%s", (int)(s - name), name, map[i][1], s + strlen(map[i][0]));
            return 1;
        }
    }
    return 0;
}

static int load_weights(brisk_unet *m, const char *path) {
    brisk_safetensors *st;
    int rc = brisk_safetensors_open(path, &st);
    if (rc) return rc;
    const brisk_nn_params *p = &m->params;
    char *used = brisk_calloc(brisk_safetensors_count(st) + 1, 1);
    if (!used) {
        brisk_safetensors_close(st);
        return BRISK_ENOMEM;
    }
    for (size_t i = 0; i < p->n_tensors && !rc; i++) {
        const brisk_nn_tensor *t = &p->tensors[i];
        const char *name = t->name;
        char alt[300];
        if (!brisk_safetensors_find(st, name) && old_attn_name(name, alt, sizeof alt) &&
            brisk_safetensors_find(st, alt))
            name = alt;
        rc = brisk_safetensors_read_f32(st, name, t->ndim, t->shape, p->data + t->offset);
        if (!rc) used[brisk_safetensors_find(st, name) - brisk_safetensors_entry(st, 0)] = 1;
    }
    for (size_t i = 0; i < brisk_safetensors_count(st) && !rc; i++)
        if (!used[i])
            rc = brisk_error(BRISK_EMISMATCH,
                             "%s: unexpected tensor '%s' (not a parameter of the UNet2DModel "
                             "that config.json describes)",
                             path, brisk_safetensors_entry(st, i)->name);
    brisk_free(used);
    brisk_safetensors_close(st);
    return rc;
}

int brisk_unet_load(const char *dir, brisk_unet **out) {
    *out = NULL;
    char cfgp[4096], wp[4096], sub[4096];
    snprintf(cfgp, sizeof cfgp, "%s/config.json", dir);
    if (!file_exists(cfgp)) {
        snprintf(sub, sizeof sub, "%s/unet", dir);
        if (is_dir(sub)) return brisk_unet_load(sub, out);
        if (!is_dir(dir)) return brisk_error(BRISK_EIO, "%s: no such model folder", dir);
        return brisk_error(BRISK_EIO, "%s: no config.json (a diffusers UNet2DModel folder "
                           "holds config.json and diffusion_pytorch_model.safetensors)", dir);
    }
    brisk_unet_config c;
    int rc = brisk_unet_config_read(cfgp, &c);
    if (rc) return rc;
    snprintf(wp, sizeof wp, "%s/diffusion_pytorch_model.safetensors", dir);
    if (!file_exists(wp)) {
        snprintf(sub, sizeof sub, "%s/diffusion_pytorch_model.bin", dir);
        if (file_exists(sub))
            return brisk_error(BRISK_EUNSUPPORTED, "%s: only a PyTorch pickle "
                               "(diffusion_pytorch_model.bin) is present; convert it to "
                               "safetensors first (docs/nn.md)", dir);
        return brisk_error(BRISK_EIO, "%s: missing diffusion_pytorch_model.safetensors", dir);
    }
    brisk_unet *m;
    rc = unet_new(&c, &m);
    if (rc) return brisk_error_prefix(rc, "%s: ", cfgp);
    rc = load_weights(m, wp);
    if (rc) {
        brisk_unet_free(m);
        return rc;
    }
    *out = m;
    return BRISK_OK;
}

int brisk_unet_save(const brisk_unet *m, const char *dir, const float *params) {
    int rc = brisk_mkdir_p(dir);
    if (rc) return rc;
    char p[4096];
    snprintf(p, sizeof p, "%s/diffusion_pytorch_model.safetensors", dir);
    rc = brisk_nn_params_save(&m->params, params, p, NULL, 0);
    if (rc) return rc;
    snprintf(p, sizeof p, "%s/config.json", dir);
    return brisk_unet_config_write(p, &m->cfg);
}

const brisk_unet_config *brisk_unet_get_config(const brisk_unet *m) { return &m->cfg; }

brisk_nn_params *brisk_unet_params(brisk_unet *m) { return &m->params; }

static int ensure_plan(brisk_unet *m, size_t batch, size_t h, size_t w, int train) {
    int rc = check_hw(m, h, w);
    if (rc) return rc;
    nn_graph *g = &m->g[train];
    int rebuild = !g->n_nodes || m->gh[train] != h || m->gw[train] != w;
    if (rebuild) {
        m->reg.frozen = 1;
        rc = build(m, g, h, w);
        if (rc) return rc;
        m->gh[train] = h;
        m->gw[train] = w;
    }
    if (rebuild || !g->ready || batch > g->batch || g->nt < nn_threads() || g->train != train)
        return nn_graph_plan(g, &m->params, batch, train);
    return BRISK_OK;
}

int brisk_unet_reserve(brisk_unet *m, size_t batch, size_t h, size_t w, int train) {
    if (!batch) return brisk_error(BRISK_EINVAL, "UNet reserve: batch must be positive");
    return ensure_plan(m, batch, h, w, train ? 1 : 0);
}

double brisk_unet_flops(const brisk_unet *m, size_t h, size_t w) {
    brisk_unet *mm = (brisk_unet *)m;
    if (check_hw(m, h, w)) return 0;
    nn_graph g;
    memset(&g, 0, sizeof g);
    mm->reg.frozen = 1;
    double f = 0;
    if (!build(mm, &g, h, w)) f = nn_graph_flops(&g);
    nn_graph_free(&g);
    return f;
}

int brisk_unet_forward(brisk_unet *m, const float *x, const float *t, size_t batch, size_t h,
                       size_t w, float *out) {
    if (!batch) return BRISK_OK;
    int rc = ensure_plan(m, batch, h, w, 0);
    if (rc) return rc;
    return nn_graph_forward(&m->g[0], &m->params, batch, x, t, out);
}

int brisk_unet_forward_train(brisk_unet *m, const float *x, const float *t, size_t batch,
                             size_t h, size_t w, float *out) {
    if (!batch) return brisk_error(BRISK_EINVAL, "UNet forward_train: batch must be positive");
    int rc = ensure_plan(m, batch, h, w, 1);
    if (rc) return rc;
    nn_graph *g = &m->g[1];
    rc = nn_graph_forward(g, &m->params, batch, x, t, out);
    g->cur_batch = batch;
    return rc;
}

int brisk_unet_backward(brisk_unet *m, const float *dout, float *dx) {
    nn_graph *g = &m->g[1];
    return nn_graph_backward(g, &m->params, g->cur_batch, dout, dx);
}
