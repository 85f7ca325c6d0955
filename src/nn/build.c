/* build.c: helpers that add parameters, tensors and nodes to a graph while a model is
 * built (shared by the UNet and the classifier). Errors are sticky in b->rc. */
#include "nn_impl.h"

#include <stdio.h>
#include <string.h>

size_t nn_b_param(nn_builder *b, const char *name, int ndim, size_t d0, size_t d1, size_t d2,
                size_t d3, int is_weight) {
    size_t shape[4] = {d0, d1, d2, d3};
    size_t off = nn_reg_param(b->reg, name, ndim, shape, is_weight);
    if (off == SIZE_MAX && !b->rc) b->rc = b->reg->err ? b->reg->err : BRISK_ENOMEM;
    return off;
}

int nn_b_tensor(nn_builder *b, size_t c, size_t h, size_t w) {
    int id = nn_graph_tensor(b->g, c, h, w);
    if (id == NN_NONE && !b->rc) b->rc = brisk_error(BRISK_ENOMEM, "out of memory building the graph");
    return id;
}

nn_node *nn_b_node(nn_builder *b, nn_op op) {
    nn_node *n = nn_graph_node(b->g, op);
    if (!n && !b->rc) b->rc = brisk_error(BRISK_ENOMEM, "out of memory building the graph");
    return n;
}


int nn_b_conv(nn_builder *b, int x, size_t cout, size_t k, size_t stride, size_t pt, size_t pl,
                size_t pb, size_t pr, const char *prefix, int chan_bias, int res, float oscale) {
    if (b->rc) return NN_NONE;
    const nn_tdesc *xt = (&b->g->t[x]);
    size_t cin = xt->c, h = xt->h, w = xt->w;
    char nm[256];
    snprintf(nm, sizeof nm, "%s.weight", prefix);
    size_t pw = nn_b_param(b, nm, 4, cout, cin, k, k, 1);
    snprintf(nm, sizeof nm, "%s.bias", prefix);
    size_t pbias = nn_b_param(b, nm, 1, cout, 0, 0, 0, 0);
    brisk_conv2d_desc d = {cin, cout, h, w, k, stride, pt, pl, pb, pr};
    size_t oh, ow;
    brisk_conv2d_out_size(&d, &oh, &ow);
    int y = nn_b_tensor(b, cout, oh, ow);
    nn_node *n = nn_b_node(b, NN_OP_CONV);
    if (b->rc) return NN_NONE;
    n->conv = d;
    n->in[0] = x;
    n->in[1] = chan_bias;
    n->in[2] = res;
    n->out = y;
    n->p[0] = pw;
    n->p[1] = pbias;
    n->scale = oscale;
    return y;
}

int nn_b_gn(nn_builder *b, int x, size_t groups, int silu, int mod, const char *prefix) {
    if (b->rc) return NN_NONE;
    const nn_tdesc *xt = (&b->g->t[x]);
    size_t c = xt->c, h = xt->h, w = xt->w;
    if (!groups || c % groups)
        return b->rc = brisk_error(BRISK_EUNSUPPORTED, "%s: GroupNorm over %zu channels with "
                                   "%zu groups (channels must be a multiple of the groups)",
                                   prefix, c, groups),
               NN_NONE;
    char nm[256];
    snprintf(nm, sizeof nm, "%s.weight", prefix);
    size_t pg = nn_b_param(b, nm, 1, c, 0, 0, 0, 0);
    snprintf(nm, sizeof nm, "%s.bias", prefix);
    size_t pbe = nn_b_param(b, nm, 1, c, 0, 0, 0, 0);
    int y = nn_b_tensor(b, c, h, w);
    int st = nn_b_tensor(b, groups * 2, 1, 1);
    nn_node *n = nn_b_node(b, NN_OP_GN);
    if (b->rc) return NN_NONE;
    n->in[0] = x;
    n->in[1] = mod;
    n->out = y;
    n->aux = st;
    n->p[0] = pg;
    n->p[1] = pbe;
    n->c = c;
    n->h = h;
    n->w = w;
    n->groups = groups;
    n->eps = b->eps;
    n->silu = silu;
    return y;
}

int nn_b_linear(nn_builder *b, int x, size_t out, const char *prefix) {
    if (b->rc) return NN_NONE;
    size_t in = (&b->g->t[x])->per_image;
    char nm[256];
    snprintf(nm, sizeof nm, "%s.weight", prefix);
    size_t pw = nn_b_param(b, nm, 2, out, in, 0, 0, 1);
    snprintf(nm, sizeof nm, "%s.bias", prefix);
    size_t pbias = nn_b_param(b, nm, 1, out, 0, 0, 0, 0);
    int y = nn_b_tensor(b, out, 1, 1);
    nn_node *n = nn_b_node(b, NN_OP_LINEAR);
    if (b->rc) return NN_NONE;
    n->in[0] = x;
    n->out = y;
    n->p[0] = pw;
    n->p[1] = pbias;
    n->c = in;
    n->c2 = out;
    return y;
}

int nn_b_silu(nn_builder *b, int x) {
    if (b->rc) return NN_NONE;
    const nn_tdesc *xt = (&b->g->t[x]);
    int y = nn_b_tensor(b, xt->c, xt->h, xt->w);
    nn_node *n = nn_b_node(b, NN_OP_SILU);
    if (b->rc) return NN_NONE;
    n->in[0] = x;
    n->out = y;
    return y;
}

