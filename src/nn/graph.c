/* graph.c: a static graph of fused ops with a memory planner.
 *
 * A model (UNet, classifier) is built once into a list of nodes over tensor ids. Planning
 * for (batch, mode) lays every live buffer into one arena:
 *   - positions: forward node i runs at i; in training mode backward node i runs at
 *     2N-1-i;
 *   - an activation lives from its producer to its last reader (in training mode, readers
 *     include the backward of every consumer); a gradient lives from the backward of its
 *     last consumer (which overwrites it; earlier consumers accumulate) to the backward of
 *     its producer;
 *   - buffers are placed greedily (largest first, lowest offset that does not overlap a
 *     placed buffer with an intersecting lifetime).
 * Forward and backward then run without allocating. */
#include "nn_impl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int nn_profile_on = 0;
double nn_profile_s[NN_OP_COUNT][2];

const char *nn_op_name(nn_op op) {
    static const char *names[NN_OP_COUNT] = {"timestep-embedding", "linear", "silu",
                                             "conv", "groupnorm+silu", "attention",
                                             "upsample", "concat", "affine"};
    return (unsigned)op < NN_OP_COUNT ? names[op] : "?";
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int nn_graph_tensor(nn_graph *g, size_t c, size_t h, size_t w) {
    if (g->n_t == g->cap_t) {
        size_t cap = g->cap_t ? 2 * g->cap_t : 128;
        nn_tdesc *t = brisk_realloc(g->t, cap * sizeof *t);
        if (!t) return NN_NONE;
        g->t = t;
        g->cap_t = cap;
    }
    nn_tdesc *t = &g->t[g->n_t];
    memset(t, 0, sizeof *t);
    t->c = c;
    t->h = h;
    t->w = w;
    t->per_image = c * h * w;
    return (int)g->n_t++;
}

int nn_graph_tensor_flat(nn_graph *g, size_t per_image) {
    return nn_graph_tensor(g, per_image, 1, 1);
}

nn_node *nn_graph_node(nn_graph *g, nn_op op) {
    if (g->n_nodes == g->cap_nodes) {
        size_t cap = g->cap_nodes ? 2 * g->cap_nodes : 128;
        nn_node *n = brisk_realloc(g->nodes, cap * sizeof *n);
        if (!n) return NULL;
        g->nodes = n;
        g->cap_nodes = cap;
    }
    nn_node *n = &g->nodes[g->n_nodes++];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->in[0] = n->in[1] = n->in[2] = NN_NONE;
    n->out = n->aux = NN_NONE;
    for (int i = 0; i < 10; i++) n->p[i] = SIZE_MAX;
    n->scale = 1.0f;
    return n;
}

void nn_graph_reset(nn_graph *g) {
    g->n_nodes = 0;
    g->n_t = 0;
    g->ready = 0;
    g->have_forward = 0;
}

void nn_graph_free(nn_graph *g) {
    if (!g) return;
    brisk_free(g->nodes);
    brisk_free(g->t);
    brisk_free(g->arena);
    brisk_free(g->ws);
    memset(g, 0, sizeof *g);
}

static int node_has_params(const nn_node *n) {
    for (int i = 0; i < 10; i++)
        if (n->p[i] != SIZE_MAX) return 1;
    return 0;
}

/* floats of tensor id for this plan */
static size_t tensor_size(const nn_graph *g, int id, size_t batch, int train) {
    const nn_tdesc *t = &g->t[id];
    if (t->ext) return 0;
    for (size_t i = 0; i < g->n_nodes; i++) {
        const nn_node *n = &g->nodes[i];
        if (n->aux != id) continue;
        if (n->op == NN_OP_ATTN) return train ? nn_align(nn_attn_saved(&n->attn, batch)) : 0;
        return nn_align(batch * t->per_image);
    }
    return nn_align(batch * t->per_image);
}

static size_t node_ws(const nn_node *n, size_t batch, int train, int nt) {
    switch (n->op) {
    case NN_OP_CONV:
        return nn_conv_ws(&n->conv, batch, nt);
    case NN_OP_GN:
        return train ? nn_gn_ws(batch, n->c, n->h * n->w, n->groups, nt) : 0;
    case NN_OP_ATTN:
        return nn_attn_ws(&n->attn, batch, train, nt);
    default:
        return 0;
    }
}

typedef struct place_item {
    size_t size;
    int lo, hi;
    size_t *off;
} place_item;

static int cmp_size_desc(const void *a, const void *b) {
    const place_item *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    return 0;
}

static int cmp_off(const void *a, const void *b) {
    const place_item *x = *(place_item *const *)a, *y = *(place_item *const *)b;
    return x->off[0] < y->off[0] ? -1 : x->off[0] > y->off[0];
}

/* Greedy offset assignment; returns the arena size or SIZE_MAX on allocation failure. */
static size_t place(place_item *items, size_t n) {
    qsort(items, n, sizeof *items, cmp_size_desc);
    place_item **placed = brisk_malloc((n ? n : 1) * sizeof *placed);
    if (!placed) return SIZE_MAX;
    size_t np = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        place_item *it = &items[i];
        if (!it->size) {
            *it->off = 0;
            continue;
        }
        /* conflicts sorted by offset */
        size_t nc = 0;
        for (size_t j = 0; j < np; j++)
            if (placed[j]->lo <= it->hi && it->lo <= placed[j]->hi) {
                place_item *tmp = placed[nc];
                placed[nc] = placed[j];
                placed[j] = tmp;
                nc++;
            }
        qsort(placed, nc, sizeof *placed, cmp_off);
        size_t off = 0;
        for (size_t j = 0; j < nc; j++) {
            size_t b0 = *placed[j]->off, b1 = b0 + placed[j]->size;
            if (off + it->size <= b0) break;
            if (b1 > off) off = b1;
        }
        *it->off = off;
        placed[np++] = it;
        if (off + it->size > total) total = off + it->size;
    }
    brisk_free(placed);
    return total;
}

int nn_graph_plan(nn_graph *g, const brisk_nn_params *p, size_t batch, int train) {
    (void)p;
    const int N = (int)g->n_nodes;
    const int nt = nn_threads();
    g->ready = 0;
    g->have_forward = 0;
    /* external bindings */
    for (size_t i = 0; i < g->n_t; i++) g->t[i].ext = NN_EXT_NONE;
    if (!train) g->t[g->input].ext = NN_EXT_INPUT;
    g->t[g->output].ext = NN_EXT_OUTPUT;
    /* needs_grad */
    for (size_t i = 0; i < g->n_t; i++) g->t[i].needs_grad = 0;
    g->t[g->input].needs_grad = 1;
    for (int i = 0; i < N; i++) {
        nn_node *n = &g->nodes[i];
        int ng = node_has_params(n);
        for (int j = 0; j < 3; j++)
            if (n->in[j] != NN_NONE && g->t[n->in[j]].needs_grad) ng = 1;
        if (n->op == NN_OP_TEMB) ng = 0;
        g->t[n->out].needs_grad = ng;
    }
    /* lifetimes */
    for (size_t i = 0; i < g->n_t; i++) {
        nn_tdesc *t = &g->t[i];
        t->def = 0;
        t->last = 0;
        t->gdef = INT32_MAX;
        t->glast = -1;
    }
    for (int i = 0; i < N; i++) {
        nn_node *n = &g->nodes[i];
        int bpos = 2 * N - 1 - i;
        g->t[n->out].def = i;
        if (g->t[n->out].last < i) g->t[n->out].last = i;
        if (n->aux != NN_NONE) {
            g->t[n->aux].def = i;
            g->t[n->aux].last = train ? bpos : i;
        }
        for (int j = 0; j < 3; j++) {
            int id = n->in[j];
            if (id == NN_NONE) continue;
            nn_tdesc *t = &g->t[id];
            int r = train ? bpos : i;
            if (t->last < r) t->last = r;
            if (train && t->needs_grad) {
                if (bpos < t->gdef) t->gdef = bpos;
                if (bpos > t->glast) t->glast = bpos;
            }
        }
        if (train && g->t[n->out].needs_grad) {
            nn_tdesc *t = &g->t[n->out];
            if (bpos > t->glast) t->glast = bpos;
            if (bpos < t->gdef) t->gdef = bpos;
        }
    }
    /* the input gradient is copied out after the whole backward */
    if (train) g->t[g->input].glast = 2 * N;
    /* accumulate flags: the consumer whose backward runs first (the last forward consumer)
     * overwrites, the others accumulate. A node may read one tensor in two slots (CONCAT
     * of the same tensor, e.g. a UNet without mid block); its backward writes the slots in
     * increasing order, so a later slot accumulates. */
    for (int i = 0; i < N; i++) {
        nn_node *n = &g->nodes[i];
        for (int j = 0; j < 3; j++) {
            n->acc_in[j] = 0;
            if (n->in[j] == NN_NONE) continue;
            for (int l = 0; l < j; l++)
                if (n->in[l] == n->in[j]) {
                    BRISK_ASSERT(n->op == NN_OP_CONCAT);
                    n->acc_in[j] = 1;
                }
            for (int k = i + 1; k < N && !n->acc_in[j]; k++)
                for (int l = 0; l < 3; l++)
                    if (g->nodes[k].in[l] == n->in[j]) n->acc_in[j] = 1;
        }
    }
    /* placement */
    place_item *items = brisk_malloc((2 * g->n_t + 1) * sizeof *items);
    if (!items) return BRISK_ENOMEM;
    size_t ni = 0;
    for (size_t i = 0; i < g->n_t; i++) {
        nn_tdesc *t = &g->t[i];
        items[ni].size = tensor_size(g, (int)i, batch, train);
        items[ni].lo = t->def;
        items[ni].hi = t->last;
        items[ni].off = &t->off;
        ni++;
        t->goff = 0;
        if (train && t->needs_grad && !(t->ext == NN_EXT_OUTPUT) && t->glast >= 0) {
            items[ni].size = nn_align(batch * t->per_image);
            items[ni].lo = t->gdef == INT32_MAX ? t->glast : t->gdef;
            items[ni].hi = t->glast;
            items[ni].off = &t->goff;
            ni++;
        }
    }
    size_t total = place(items, ni);
    brisk_free(items);
    if (total == SIZE_MAX) return BRISK_ENOMEM;
    size_t ws = 0;
    for (int i = 0; i < N; i++) {
        size_t s = node_ws(&g->nodes[i], batch, train, nt);
        if (s > ws) ws = s;
    }
    brisk_free(g->arena);
    brisk_free(g->ws);
    g->arena = NULL;
    g->ws = NULL;
    g->arena = brisk_malloc((total ? total : 1) * sizeof(float));
    g->ws = brisk_malloc((ws ? ws : 1) * sizeof(float));
    if (!g->arena || !g->ws) {
        brisk_free(g->arena);
        brisk_free(g->ws);
        g->arena = g->ws = NULL;
        return brisk_error(BRISK_ENOMEM, "out of memory planning %zu floats of activations "
                           "for batch %zu", total + ws, batch);
    }
    g->arena_size = total;
    g->ws_size = ws;
    g->batch = batch;
    g->train = train;
    g->nt = nt;
    g->ready = 1;
    return BRISK_OK;
}

float *nn_graph_ptr(nn_graph *g, int id) { return g->arena + g->t[id].off; }

typedef struct bind {
    const float *x;
    float *out;
} bind;

static float *tp(nn_graph *g, const bind *b, int id) {
    if (id == NN_NONE) return NULL;
    switch (g->t[id].ext) {
    case NN_EXT_INPUT:
        return (float *)b->x;
    case NN_EXT_OUTPUT:
        return b->out;
    default:
        return g->arena + g->t[id].off;
    }
}

static const float *pp(const brisk_nn_params *p, size_t off) {
    return off == SIZE_MAX ? NULL : p->data + off;
}

static void attn_params(const nn_node *n, const float *base, brisk_attention_params *ap) {
#define P_(i) (n->p[i] == SIZE_MAX ? NULL : base + n->p[i])
    ap->gamma = P_(0);
    ap->beta = P_(1);
    ap->wq = P_(2);
    ap->bq = P_(3);
    ap->wk = P_(4);
    ap->bk = P_(5);
    ap->wv = P_(6);
    ap->bv = P_(7);
    ap->wo = P_(8);
    ap->bo = P_(9);
#undef P_
}

int nn_graph_forward(nn_graph *g, const brisk_nn_params *p, size_t batch, const float *x,
                     const float *t, float *out) {
    BRISK_ASSERT(g->ready && batch <= g->batch);
    /* never more threads than the workspace was planned for */
    const int nt = g->nt < nn_threads() ? g->nt : nn_threads();
    bind b = {x, out};
    if (g->train) memcpy(g->arena + g->t[g->input].off, x,
                         batch * g->t[g->input].per_image * sizeof(float));
    if (g->input_t != NN_NONE) memcpy(g->arena + g->t[g->input_t].off, t, batch * sizeof(float));
    int prev = nn_blas_enter();
    for (size_t i = 0; i < g->n_nodes; i++) {
        const nn_node *n = &g->nodes[i];
        double t0 = nn_profile_on ? now_s() : 0;
        float *y = tp(g, &b, n->out);
        const float *x0 = tp(g, &b, n->in[0]);
        switch (n->op) {
        case NN_OP_TEMB:
            brisk_timestep_embedding(batch, x0, n->c, n->flip, n->shift, y);
            break;
        case NN_OP_LINEAR:
            nn_linear_fwd(batch, n->c, n->c2, x0, pp(p, n->p[0]), pp(p, n->p[1]), y, nt);
            break;
        case NN_OP_SILU:
            nn_silu_fwd(batch * g->t[n->out].per_image, x0, y, nt);
            break;
        case NN_OP_CONV:
            nn_conv_fwd(&n->conv, batch, x0, pp(p, n->p[0]), pp(p, n->p[1]), tp(g, &b, n->in[1]),
                        tp(g, &b, n->in[2]), n->scale, y, g->ws, nt);
            break;
        case NN_OP_GN:
            nn_gn_fwd(batch, n->c, n->h * n->w, n->groups, n->eps, n->silu, x0, pp(p, n->p[0]),
                      pp(p, n->p[1]), tp(g, &b, n->in[1]), y, tp(g, &b, n->aux), nt);
            break;
        case NN_OP_ATTN: {
            brisk_attention_params ap;
            attn_params(n, p->data, &ap);
            nn_attn_fwd(&n->attn, batch, x0, &ap, y, g->train ? tp(g, &b, n->aux) : NULL, g->ws,
                        nt);
            break;
        }
        case NN_OP_UPSAMPLE:
            nn_upsample_fwd(batch, n->c, n->h, n->w, x0, y, nt);
            break;
        case NN_OP_CONCAT: {
            const float *x1 = tp(g, &b, n->in[1]);
            size_t s0 = g->t[n->in[0]].per_image, s1 = g->t[n->in[1]].per_image;
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * (s0 + s1)))
            for (long bi = 0; bi < (long)batch; bi++) {
                memcpy(y + (size_t)bi * (s0 + s1), x0 + (size_t)bi * s0, s0 * sizeof(float));
                memcpy(y + (size_t)bi * (s0 + s1) + s0, x1 + (size_t)bi * s1, s1 * sizeof(float));
            }
            break;
        }
        case NN_OP_AFFINE: {
            size_t nel = batch * g->t[n->out].per_image;
            for (size_t j = 0; j < nel; j++) y[j] = n->scale * x0[j] + n->shift;
            break;
        }
        default:
            BRISK_ASSERT(0);
        }
        if (nn_profile_on) nn_profile_s[n->op][0] += now_s() - t0;
    }
    nn_blas_leave(prev);
    g->have_forward = g->train;
    return BRISK_OK;
}

int nn_graph_backward(nn_graph *g, brisk_nn_params *p, size_t batch, const float *dout,
                      float *dx) {
    if (!g->ready || !g->train || !g->have_forward)
        return brisk_error(BRISK_ESTATE, "backward needs a forward_train first");
    BRISK_ASSERT(batch <= g->batch);
    const int nt = g->nt < nn_threads() ? g->nt : nn_threads();
    bind b = {NULL, NULL};
    memset(p->grad, 0, p->n * sizeof(float));
    int prev = nn_blas_enter();
#define G_(id) ((id) == g->output ? (float *)dout : g->arena + g->t[(id)].goff)
#define NG_(j) (n->in[j] != NN_NONE && g->t[n->in[j]].needs_grad)
#define GW_(i) (n->p[i] == SIZE_MAX ? NULL : p->grad + n->p[i])
    for (long i = (long)g->n_nodes - 1; i >= 0; i--) {
        const nn_node *n = &g->nodes[i];
        if (!g->t[n->out].needs_grad) continue;
        double t0 = nn_profile_on ? now_s() : 0;
        const float *dy = G_(n->out);
        const float *x0 = tp(g, &b, n->in[0]);
        float *dx0 = NG_(0) ? G_(n->in[0]) : NULL;
        switch (n->op) {
        case NN_OP_TEMB:
            break;
        case NN_OP_LINEAR:
            nn_linear_bwd(batch, n->c, n->c2, x0, pp(p, n->p[0]), dy, dx0, n->acc_in[0], GW_(0),
                          GW_(1), nt);
            break;
        case NN_OP_SILU:
            if (dx0) nn_silu_bwd(batch * g->t[n->out].per_image, x0, dy, dx0, n->acc_in[0], nt);
            break;
        case NN_OP_CONV:
            nn_conv_bwd(&n->conv, batch, x0, pp(p, n->p[0]), n->scale, dy, dx0, n->acc_in[0],
                        GW_(0), GW_(1), NG_(1) ? G_(n->in[1]) : NULL, n->acc_in[1],
                        NG_(2) ? G_(n->in[2]) : NULL, n->acc_in[2], g->ws, nt);
            break;
        case NN_OP_GN:
            nn_gn_bwd(batch, n->c, n->h * n->w, n->groups, n->silu, x0, pp(p, n->p[0]),
                      pp(p, n->p[1]), tp(g, &b, n->in[1]), tp(g, &b, n->aux), dy, dx0,
                      n->acc_in[0], GW_(0), GW_(1), NG_(1) ? G_(n->in[1]) : NULL, n->acc_in[1],
                      g->ws, nt);
            break;
        case NN_OP_ATTN: {
            brisk_attention_params ap;
            attn_params(n, p->data, &ap);
            brisk_attention_grads ag = {GW_(0), GW_(1), GW_(2), GW_(3), GW_(4),
                                        GW_(5), GW_(6), GW_(7), GW_(8), GW_(9)};
            nn_attn_bwd(&n->attn, batch, x0, &ap, tp(g, &b, n->aux), dy, dx0, n->acc_in[0], &ag,
                        g->ws, nt);
            break;
        }
        case NN_OP_UPSAMPLE:
            if (dx0) nn_upsample_bwd(batch, n->c, n->h, n->w, dy, dx0, n->acc_in[0], nt);
            break;
        case NN_OP_CONCAT: {
            size_t s0 = g->t[n->in[0]].per_image, s1 = g->t[n->in[1]].per_image;
            float *dx1 = NG_(1) ? G_(n->in[1]) : NULL;
            int a0 = n->acc_in[0], a1 = n->acc_in[1];
#pragma omp parallel for num_threads(nt) schedule(static) if (NN_PAR((double)batch * (s0 + s1)))
            for (long bi = 0; bi < (long)batch; bi++) {
                const float *src = dy + (size_t)bi * (s0 + s1);
                if (dx0) {
                    float *d = dx0 + (size_t)bi * s0;
                    for (size_t j = 0; j < s0; j++) d[j] = a0 ? d[j] + src[j] : src[j];
                }
                if (dx1) {
                    float *d = dx1 + (size_t)bi * s1;
                    for (size_t j = 0; j < s1; j++) d[j] = a1 ? d[j] + src[s0 + j] : src[s0 + j];
                }
            }
            break;
        }
        case NN_OP_AFFINE:
            if (dx0) {
                size_t nel = batch * g->t[n->out].per_image;
                for (size_t j = 0; j < nel; j++)
                    dx0[j] = (n->acc_in[0] ? dx0[j] : 0.0f) + n->scale * dy[j];
            }
            break;
        default:
            BRISK_ASSERT(0);
        }
        if (nn_profile_on) nn_profile_s[n->op][1] += now_s() - t0;
    }
#undef G_
#undef NG_
#undef GW_
    nn_blas_leave(prev);
    if (dx)
        memcpy(dx, g->arena + g->t[g->input].goff,
               batch * g->t[g->input].per_image * sizeof(float));
    return BRISK_OK;
}

double nn_graph_flops(const nn_graph *g) {
    double f = 0;
    for (size_t i = 0; i < g->n_nodes; i++) {
        const nn_node *n = &g->nodes[i];
        switch (n->op) {
        case NN_OP_CONV: {
            size_t oh, ow;
            brisk_conv2d_out_size(&n->conv, &oh, &ow);
            f += 2.0 * n->conv.cout * n->conv.cin * n->conv.k * n->conv.k * oh * ow;
            break;
        }
        case NN_OP_LINEAR:
            f += 2.0 * n->c * n->c2;
            break;
        case NN_OP_ATTN: {
            double inner = (double)n->attn.heads * n->attn.dim_head, c = n->attn.c, m = n->attn.n;
            f += 2.0 * (4 * inner * c * m + 2 * m * m * inner);
            break;
        }
        default:
            break;
        }
    }
    return f;
}
