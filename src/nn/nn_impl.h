/* nn_impl.h: internals shared by src/nn/ (all .c files): BLAS threading guard, parallel helpers,
 * internal kernel variants (accumulating gradients, fused GroupNorm+SiLU), and the small
 * static graph + memory planner the UNet and the classifier run on. */
#ifndef BRISK_NN_IMPL_H
#define BRISK_NN_IMPL_H

#include "brisk/core.h"
#include "brisk/nn.h"

#include <stddef.h>
#include <stdint.h>

#ifdef BRISK_OPENMP
#include <omp.h>
#define NN_THREAD_ID() omp_get_thread_num()
#else
#define NN_THREAD_ID() 0
#endif

/* Fixed number of partial sums for weight-gradient reductions: the split depends only on
 * the problem shape, so reductions are bit-identical for any thread count. */
#define NN_MAX_CHUNKS 8
/* Output pixels per im2col tile (rounded to whole output rows). */
#define NN_CONV_TILE 256
/* Input channels per backward-data work item. */
#define NN_CONV_CBLK 32
/* Run a loop in parallel only when it has this much work (floats touched or multiply-adds):
 * tiny layers skip the fork/join. Which thread runs an item never changes the result. */
#define NN_PAR(work) ((work) > 65536.0)
/* Floats per alignment unit in arenas/workspaces (64 bytes). */
#define NN_ALIGN 16

/* exp(x) in float32 without a library call, so loops over it vectorise: Cody-Waite range
 * reduction x = n ln2 + r and the Cephes expf polynomial on r (relative error about 1e-7,
 * like expf). x is clamped to [lo, hi]; hot loops pass the bounds nn_exp_lo/nn_exp_hi read
 * into locals: bounds GCC cannot see stop it from specialising the clamped lanes into a
 * separate path whose (discarded) results are denormal and slow every lane down 5x. */
extern float nn_exp_lo, nn_exp_hi; /* -87.3, 88.3 */
static inline float nn_expf2(float x, float lo, float hi) {
    x = x > lo ? x : lo;
    x = x < hi ? x : hi;
    /* round x / ln2 to nearest with the 1.5 * 2^23 trick (no branch, no libm call) */
    float fn = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - fn * 0.693359375f + fn * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union {
        uint32_t u;
        float f;
    } sc;
    sc.u = (uint32_t)((int32_t)fn + 127) << 23;
    return p * sc.f;
}
static inline float nn_expf(float x) { return nn_expf2(x, -87.3f, 88.3f); }

static inline size_t nn_align(size_t n) { return (n + NN_ALIGN - 1) / NN_ALIGN * NN_ALIGN; }

/* OpenBLAS single-threaded for the duration of an engine call (the engine parallelises
 * itself); returns the previous setting for nn_blas_leave. */
int nn_blas_enter(void);
void nn_blas_leave(int prev);
/* Threads the engine uses now (>= 1). */
int nn_threads(void);

/* Chunking: item range [lo, hi) of chunk c out of nch for n items. */
static inline void nn_chunk_range(size_t n, size_t nch, size_t c, size_t *lo, size_t *hi) {
    *lo = n * c / nch;
    *hi = n * (c + 1) / nch;
}
static inline size_t nn_nchunks(size_t n) { return n < NN_MAX_CHUNKS ? (n ? n : 1) : NN_MAX_CHUNKS; }
/* dst[i] (+)= sum_c parts[c*n + i], in chunk order; acc: add to dst. */
void nn_reduce_chunks(float *dst, const float *parts, size_t nch, size_t n, int acc, int nt);

/* ---- internal kernels (nt threads; acc = accumulate into dx instead of overwrite) ---- */

/* Conv with optional fused extras: y = (conv(x) + b + cb[b, co] + res) * oscale.
 * cb: (B, cout) per-image channel bias or NULL; res: like y or NULL. */
size_t nn_conv_ws(const brisk_conv2d_desc *d, size_t batch, int nt);
void nn_conv_fwd(const brisk_conv2d_desc *d, size_t batch, const float *x, const float *w,
                 const float *b, const float *cb, const float *res, float oscale, float *y,
                 float *ws, int nt);
/* dy is the gradient of y. Gradients: dx (acc_dx), dw, db (overwrite), dcb (B, cout)
 * (acc_dcb), dres (acc_dres). Any may be NULL. */
void nn_conv_bwd(const brisk_conv2d_desc *d, size_t batch, const float *x, const float *w,
                 float oscale, const float *dy, float *dx, int acc_dx, float *dw, float *db,
                 float *dcb, int acc_dcb, float *dres, int acc_dres, float *ws, int nt);

/* Fused GroupNorm (+ optional per-image modulation) (+ optional SiLU):
 * z = GN(x) * gamma + beta; if mod: z = z * (1 + mod[b, c]) + mod[b, C + c];
 * y = silu ? silu(z) : z. mod: (B, 2C) or NULL. stats: (B, G, 2). */
size_t nn_gn_ws(size_t batch, size_t c, size_t hw, size_t groups, int nt);
void nn_gn_fwd(size_t batch, size_t c, size_t hw, size_t groups, float eps, int silu,
               const float *x, const float *gamma, const float *beta, const float *mod,
               float *y, float *stats, int nt);
/* dmod (B, 2C) overwritten if not NULL (acc_dmod to add); dgamma/dbeta overwritten. */
void nn_gn_bwd(size_t batch, size_t c, size_t hw, size_t groups, int silu, const float *x,
               const float *gamma, const float *beta, const float *mod, const float *stats,
               const float *dy, float *dx, int acc_dx, float *dgamma, float *dbeta,
               float *dmod, int acc_dmod, float *ws, int nt);

void nn_linear_fwd(size_t batch, size_t in, size_t out, const float *x, const float *w,
                   const float *b, float *y, int nt);
void nn_linear_bwd(size_t batch, size_t in, size_t out, const float *x, const float *w,
                   const float *dy, float *dx, int acc_dx, float *dw, float *db, int nt);
void nn_silu_fwd(size_t n, const float *x, float *y, int nt);
void nn_silu_bwd(size_t n, const float *x, const float *dy, float *dx, int acc, int nt);
void nn_upsample_fwd(size_t batch, size_t c, size_t h, size_t w, const float *x, float *y,
                     int nt);
void nn_upsample_bwd(size_t batch, size_t c, size_t h, size_t w, const float *dy, float *dx,
                     int acc, int nt);

/* Attention: saved may be NULL for inference (then ws holds the temporaries). */
size_t nn_attn_saved(const brisk_attention_desc *d, size_t batch);
size_t nn_attn_ws(const brisk_attention_desc *d, size_t batch, int train, int nt);
void nn_attn_fwd(const brisk_attention_desc *d, size_t batch, const float *x,
                 const brisk_attention_params *p, float *y, float *saved, float *ws, int nt);
void nn_attn_bwd(const brisk_attention_desc *d, size_t batch, const float *x,
                 const brisk_attention_params *p, const float *saved, const float *dy,
                 float *dx, int acc_dx, const brisk_attention_grads *g, float *ws, int nt);

/* ---- the graph ---- */

typedef enum nn_op {
    NN_OP_TEMB = 0,  /* timesteps (B) -> sinusoidal embedding (B, dim) */
    NN_OP_LINEAR,    /* (B, in) -> (B, out) */
    NN_OP_SILU,      /* elementwise */
    NN_OP_CONV,      /* conv with fused channel bias / residual / scale */
    NN_OP_GN,        /* fused GroupNorm (+mod) (+SiLU) */
    NN_OP_ATTN,      /* attention block */
    NN_OP_UPSAMPLE,  /* nearest 2x */
    NN_OP_CONCAT,    /* channel concatenation of two tensors */
    NN_OP_AFFINE,    /* y = a x + b (center_input_sample) */
    NN_OP_COUNT
} nn_op;

#define NN_NONE (-1)

typedef struct nn_node {
    nn_op op;
    int in[3];    /* tensor ids; meaning depends on op (NN_NONE if unused) */
    int out;
    int aux;      /* saved-state tensor (GN stats, attention), or NN_NONE */
    int acc_in[3]; /* backward: accumulate into grad(in[j]) (set by the planner) */
    size_t p[10]; /* parameter offsets (floats into params), SIZE_MAX if none */
    size_t c, h, w, c2; /* op-specific sizes */
    size_t groups;
    int silu;
    float eps, scale, shift;
    brisk_conv2d_desc conv;
    brisk_attention_desc attn;
    int flip; /* temb */
} nn_node;

typedef enum nn_ext {
    NN_EXT_NONE = 0,
    NN_EXT_INPUT,  /* bound to the caller's input (inference only) */
    NN_EXT_OUTPUT, /* bound to the caller's output */
} nn_ext;

typedef struct nn_tdesc {
    size_t per_image; /* floats per image */
    size_t c, h, w;
    nn_ext ext;
    int needs_grad;   /* backward propagates into it */
    size_t off, goff; /* arena offsets of value and gradient (floats) */
    int def, last;    /* planner: lifetime (positions) */
    int gdef, glast;
} nn_tdesc;

typedef struct nn_graph {
    nn_node *nodes;
    size_t n_nodes, cap_nodes;
    nn_tdesc *t;
    size_t n_t, cap_t;
    int input, input_t, output; /* tensor ids: image input, timesteps (or NN_NONE), output */
    /* plan */
    size_t batch, h, w;
    int train, nt;
    float *arena;
    size_t arena_size;
    float *ws;
    size_t ws_size;
    int ready;
    int have_forward; /* train: a forward_train ran since the plan */
    size_t cur_batch; /* batch of the last forward_train */
} nn_graph;

/* Parameter registry used while building a model's graph. */
typedef struct nn_registry {
    brisk_nn_params *p;
    size_t cap;
    int frozen;     /* layout fixed: look params up in order instead of adding */
    size_t cursor;  /* next tensor (frozen mode) */
    int err;
} nn_registry;

/* Adds (or, frozen, checks in order) a parameter; returns its offset or SIZE_MAX on error
 * (recorded with brisk_error, reg->err set). */
size_t nn_reg_param(nn_registry *reg, const char *name, int ndim, const size_t *shape,
                    int is_weight);
int nn_reg_finish(nn_registry *reg); /* allocates data/grad after the first build */
void nn_params_free(brisk_nn_params *p);
/* PyTorch-default init of every registered tensor (Linear/Conv bound 1/sqrt(fan_in); norm
 * weights 1, biases 0). `norm_names` decides which tensors are norms by name. */
int nn_params_init_default(brisk_nn_params *p, uint64_t seed);

int nn_graph_tensor(nn_graph *g, size_t c, size_t h, size_t w);
int nn_graph_tensor_flat(nn_graph *g, size_t per_image);
nn_node *nn_graph_node(nn_graph *g, nn_op op);
void nn_graph_reset(nn_graph *g);  /* forget nodes/tensors, keep plan buffers */
void nn_graph_free(nn_graph *g);
/* Assigns arena offsets for (batch, train) and allocates arena + workspace. */
int nn_graph_plan(nn_graph *g, const brisk_nn_params *p, size_t batch, int train);
/* Runs the forward pass. x: input (B, ...) (copied into the arena in train mode);
 * t: timesteps (B) if the graph has them; out: output buffer. */
int nn_graph_forward(nn_graph *g, const brisk_nn_params *p, size_t batch, const float *x,
                     const float *t, float *out);
/* Backward of the last forward (train plan). dout: gradient of the output; dx may be NULL. */
int nn_graph_backward(nn_graph *g, brisk_nn_params *p, size_t batch, const float *dout,
                      float *dx);
/* Pointer to tensor `id` in the arena (after a forward). */
float *nn_graph_ptr(nn_graph *g, int id);
double nn_graph_flops(const nn_graph *g);

/* Graph building with sticky errors (b->rc). */
typedef struct nn_builder {
    nn_registry *reg;
    nn_graph *g;
    int rc;
    float eps; /* GroupNorm eps */
} nn_builder;
size_t nn_b_param(nn_builder *b, const char *name, int ndim, size_t d0, size_t d1, size_t d2,
                  size_t d3, int is_weight);
int nn_b_tensor(nn_builder *b, size_t c, size_t h, size_t w);
nn_node *nn_b_node(nn_builder *b, nn_op op);
/* conv "prefix.weight" (cout, cin, k, k) + "prefix.bias"; chan_bias (B, cout) / res tensors
 * or NN_NONE; y = (conv + bias + chan_bias + res) * oscale */
int nn_b_conv(nn_builder *b, int x, size_t cout, size_t k, size_t stride, size_t pt, size_t pl,
              size_t pb, size_t pr, const char *prefix, int chan_bias, int res, float oscale);
/* GroupNorm "prefix.weight/bias" (+ mod (B, 2C)) (+ SiLU) */
int nn_b_gn(nn_builder *b, int x, size_t groups, int silu, int mod, const char *prefix);
int nn_b_linear(nn_builder *b, int x, size_t out, const char *prefix);
int nn_b_silu(nn_builder *b, int x);

/* Optional per-op timing (benchmarks): when nn_profile_on is set, graph forward/backward add
 * each node's wall time to nn_profile_s[op][0 = forward, 1 = backward]. */
extern int nn_profile_on;
extern double nn_profile_s[NN_OP_COUNT][2];
const char *nn_op_name(nn_op op);

/* float16 / bfloat16 -> float32 */
float nn_f16_to_f32(uint16_t h);
float nn_bf16_to_f32(uint16_t h);

#endif
