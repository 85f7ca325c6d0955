/* brisk/nn.h: the CPU neural-network engine: NCHW float32 kernels with forward and
 * backward passes, diffusers' UNet2DModel (load, run, train, save), a small CNN
 * classifier, safetensors files, and losses.
 *
 *     brisk_unet *m;
 *     if (brisk_unet_load("models/fmnist-unet", &m)) die(brisk_last_error());
 *     // x: (B, 1, 32, 32) float32, t: (B) timesteps, eps: (B, 1, 32, 32)
 *     brisk_unet_forward(m, x, t, B, 32, 32, eps);
 *
 *     // one training step (the optimizer lives elsewhere):
 *     brisk_nn_params *p = brisk_unet_params(m);      // p->data, p->grad: p->n floats
 *     brisk_unet_forward_train(m, x_t, t, B, 32, 32, pred);
 *     double loss = brisk_mse_loss(pred, eps, B * 32 * 32, dpred);
 *     brisk_unet_backward(m, dpred, NULL);            // p->grad = d loss / d params
 *     ... update p->data ...
 *     brisk_unet_save(m, "out/model", NULL);           // config.json + safetensors
 *     brisk_unet_free(m);
 *
 * Conventions. Tensors are raw float pointers in NCHW order (shapes are given in the
 * comments); the caller owns every buffer it passes in. Parameters of a model live in one
 * flat float buffer (and gradients in a second one of the same layout) with named views
 * that use diffusers' parameter names, so a brisk checkpoint loads in diffusers unchanged.
 *
 * Memory is planned once per (model, batch size, image size, mode): the first call with a
 * new shape (or brisk_unet_reserve) allocates one arena; later calls with the same or a
 * smaller batch allocate nothing. Work is split into pieces whose shapes depend only on the
 * tensor shapes, never on the thread count, and reductions run in a fixed order, so results
 * are bit-identical for any number of OpenMP threads (docs/nn.md). The engine calls
 * OpenBLAS single-threaded inside its own parallel regions.
 */
#ifndef BRISK_NN_H
#define BRISK_NN_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "brisk/denoiser.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------
 * Tensors: a non-owning NCHW float32 view, plus helpers for owned buffers.
 * ------------------------------------------------------------------------------- */
typedef struct brisk_tensor {
    float *data; /* n*c*h*w floats */
    size_t n, c, h, w;
} brisk_tensor;

static inline size_t brisk_tensor_numel(const brisk_tensor *t) {
    return t->n * t->c * t->h * t->w;
}
/* Allocates a zeroed (n, c, h, w) tensor; free with brisk_tensor_free. BRISK_ENOMEM. */
int brisk_tensor_alloc(brisk_tensor *t, size_t n, size_t c, size_t h, size_t w);
void brisk_tensor_free(brisk_tensor *t);

/* A (key, value) string pair: safetensors "__metadata__" entries. */
typedef struct brisk_kv {
    const char *key, *value;
} brisk_kv;

/* ---------------------------------------------------------------------------------
 * Parameters: one flat buffer with named views.
 * ------------------------------------------------------------------------------- */
typedef struct brisk_nn_tensor {
    char *name;      /* diffusers name, e.g. "down_blocks.0.resnets.1.conv2.weight" */
    size_t offset;   /* first float in data/grad */
    size_t numel;
    int ndim;
    size_t shape[4]; /* PyTorch shape: conv (out, in, kh, kw), linear (out, in) */
    int is_weight;   /* 1 for conv/linear weights, 0 for biases and norm scales/shifts
                      * (a hint for weight decay) */
} brisk_nn_tensor;

typedef struct brisk_nn_params {
    size_t n;                 /* total floats */
    float *data;              /* parameters (owned by the model) */
    float *grad;              /* gradients, same layout, written by backward (owned) */
    size_t n_tensors;
    brisk_nn_tensor *tensors; /* in the model's order */
} brisk_nn_params;

/* The view named `name`, or NULL. */
const brisk_nn_tensor *brisk_nn_params_find(const brisk_nn_params *p, const char *name);
/* Writes `values` (p->n floats laid out like p->data; NULL = p->data) to a safetensors file
 * as F32 with the views' names and shapes, atomically. meta: n_meta (key, value) pairs
 * stored in "__metadata__" (besides "format": "pt"); may be NULL. */
int brisk_nn_params_save(const brisk_nn_params *p, const float *values, const char *path,
                         const brisk_kv *meta, size_t n_meta);
/* Reads every view by name from a safetensors file into `values` (NULL = p->data),
 * converting F16/BF16/F64 to float. Errors name the file and the tensor: missing tensor,
 * wrong shape, unsupported dtype. Extra tensors in the file are an error too
 * (BRISK_EMISMATCH) unless allow_extra is set. */
int brisk_nn_params_load(const brisk_nn_params *p, float *values, const char *path,
                         int allow_extra);

/* ---------------------------------------------------------------------------------
 * safetensors (https://github.com/huggingface/safetensors): 8-byte little-endian header
 * length N, N bytes of JSON {name: {dtype, shape, data_offsets}, "__metadata__": {..}},
 * then the raw little-endian data.
 * ------------------------------------------------------------------------------- */
typedef enum brisk_st_dtype {
    BRISK_ST_F32 = 0,
    BRISK_ST_F16,
    BRISK_ST_BF16,
    BRISK_ST_F64,
    BRISK_ST_I64,
    BRISK_ST_I32,
    BRISK_ST_U8,
    BRISK_ST_DTYPE_COUNT
} brisk_st_dtype;
const char *brisk_st_dtype_name(brisk_st_dtype t); /* "F32", "F16", "BF16", ... */
int brisk_st_dtype_from_name(const char *name, brisk_st_dtype *out);
size_t brisk_st_dtype_size(brisk_st_dtype t);

#define BRISK_ST_MAX_DIMS 8
typedef struct brisk_st_entry {
    const char *name;
    brisk_st_dtype dtype;
    int ndim;
    size_t shape[BRISK_ST_MAX_DIMS];
    size_t numel;
    const void *data; /* reader: points into the opened file's buffer; writer: caller's */
} brisk_st_entry;

typedef struct brisk_safetensors brisk_safetensors;
/* Reads and validates a whole file: header length within the file and at most 100 MB,
 * valid JSON, known dtypes, data_offsets inside the data area and matching the shape.
 * Errors name the file and the tensor. Free with brisk_safetensors_close. */
int brisk_safetensors_open(const char *path, brisk_safetensors **out);
void brisk_safetensors_close(brisk_safetensors *st);
size_t brisk_safetensors_count(const brisk_safetensors *st);
const brisk_st_entry *brisk_safetensors_entry(const brisk_safetensors *st, size_t i);
/* The entry named `name`, or NULL. */
const brisk_st_entry *brisk_safetensors_find(const brisk_safetensors *st, const char *name);
/* A "__metadata__" value, or NULL. */
const char *brisk_safetensors_metadata(const brisk_safetensors *st, const char *key);
const char *brisk_safetensors_path(const brisk_safetensors *st);
/* Copies tensor `name` into dst as float32 (F32, F16, BF16, F64 accepted), checking that
 * its shape is (shape[0..ndim-1]). BRISK_ENOTFOUND / BRISK_ESHAPE / BRISK_EUNSUPPORTED
 * with a message naming the file and the tensor. */
int brisk_safetensors_read_f32(const brisk_safetensors *st, const char *name, int ndim,
                               const size_t *shape, float *dst);
/* Writes entries (any dtype, data as given) atomically; names must be unique. */
int brisk_safetensors_write(const char *path, const brisk_st_entry *entries, size_t n,
                            const brisk_kv *meta, size_t n_meta);

/* ---------------------------------------------------------------------------------
 * Kernels. All take caller-owned buffers, allocate nothing and are OpenMP-parallel with a
 * thread-count-independent split. `ws` is scratch of the size the matching *_workspace
 * function returns (in floats) for the current brisk_get_num_threads().
 * ------------------------------------------------------------------------------- */

/* 2-D convolution with a k x k kernel (k = 1 or 3), stride 1 or 2 and explicit (possibly
 * asymmetric) zero padding, as PyTorch's Conv2d (cross-correlation).
 * x: (B, cin, h, w), w: (cout, cin, k, k), b: (cout) or NULL, y: (B, cout, oh, ow). */
typedef struct brisk_conv2d_desc {
    size_t cin, cout, h, w;
    size_t k, stride;
    size_t pad_top, pad_left, pad_bottom, pad_right;
} brisk_conv2d_desc;
/* oh = (h + pad_top + pad_bottom - k) / stride + 1, same for ow. */
void brisk_conv2d_out_size(const brisk_conv2d_desc *d, size_t *oh, size_t *ow);
size_t brisk_conv2d_workspace(const brisk_conv2d_desc *d, size_t batch);
void brisk_conv2d_forward(const brisk_conv2d_desc *d, size_t batch, const float *x,
                          const float *w, const float *b, float *y, float *ws);
/* dy: (B, cout, oh, ow). Writes (overwrites) dx (may be NULL), dw and db (may be NULL). */
void brisk_conv2d_backward(const brisk_conv2d_desc *d, size_t batch, const float *x,
                           const float *w, const float *dy, float *dx, float *dw, float *db,
                           float *ws);

/* GroupNorm (Wu & He 2018; torch.nn.GroupNorm): per (image, group) mean and biased
 * variance over (c/groups, hw), y = (x - mean) * rstd * gamma[c] + beta[c].
 * x, y: (B, c, hw). stats: (B, groups, 2) = (mean, rstd), written by forward. */
void brisk_groupnorm_forward(size_t batch, size_t c, size_t hw, size_t groups, float eps,
                             const float *x, const float *gamma, const float *beta, float *y,
                             float *stats);
/* Overwrites dx, dgamma, dbeta (dgamma/dbeta may be NULL). This convenience entry allocates
 * its scratch (the UNet and classifier graphs use a planned workspace instead). */
void brisk_groupnorm_backward(size_t batch, size_t c, size_t hw, size_t groups,
                              const float *x, const float *gamma, const float *stats,
                              const float *dy, float *dx, float *dgamma, float *dbeta);

/* SiLU: y = x * sigmoid(x). Backward overwrites dx. */
void brisk_silu_forward(size_t n, const float *x, float *y);
void brisk_silu_backward(size_t n, const float *x, const float *dy, float *dx);

/* Linear (torch.nn.Linear): y = x w^T + b. x: (B, in), w: (out, in), b: (out) or NULL,
 * y: (B, out). Backward overwrites dx (may be NULL), dw, db (may be NULL). */
void brisk_linear_forward(size_t batch, size_t in, size_t out, const float *x, const float *w,
                          const float *b, float *y);
void brisk_linear_backward(size_t batch, size_t in, size_t out, const float *x, const float *w,
                           const float *dy, float *dx, float *dw, float *db);

/* Nearest-neighbour 2x upsampling (F.interpolate(scale_factor=2, mode="nearest")).
 * x: (B, c, h, w), y: (B, c, 2h, 2w). Backward overwrites dx (sums the 4 copies). */
void brisk_upsample2x_forward(size_t batch, size_t c, size_t h, size_t w, const float *x,
                              float *y);
void brisk_upsample2x_backward(size_t batch, size_t c, size_t h, size_t w, const float *dy,
                               float *dx);

/* Sinusoidal timestep embedding, diffusers get_timestep_embedding semantics:
 * half = dim/2, f_i = exp(-ln(10000) i / (half - freq_shift)), e = [sin(t f), cos(t f)]
 * (cos first when flip_sin_to_cos), zero-padded when dim is odd. Computed in float32 as
 * PyTorch does. t: (B), out: (B, dim). */
void brisk_timestep_embedding(size_t batch, const float *t, size_t dim, int flip_sin_to_cos,
                              float freq_shift, float *out);

/* Multi-head self-attention over the spatial positions of an image, as diffusers'
 * Attention block in UNet2DModel (_from_deprecated_attn_block, AttnProcessor):
 *   g = GroupNorm(x) (skipped when groups == 0); q, k, v = W{q,k,v} g + b (per position);
 *   per head: o = softmax(q^T k / sqrt(dim_head)) v; y = (W_o o + b_o + x) / rescale.
 * x, y: (B, c, n) with n = h*w; heads*dim_head = inner. Parameters (PyTorch layout):
 * gamma, beta (c); wq, wk, wv (inner, c); bq, bk, bv (inner); wo (c, inner); bo (c).
 * `saved` holds what backward needs: brisk_attention_saved_size floats. */
typedef struct brisk_attention_desc {
    size_t c, n, heads, dim_head, groups;
    float eps, rescale;
} brisk_attention_desc;
typedef struct brisk_attention_params {
    const float *gamma, *beta, *wq, *bq, *wk, *bk, *wv, *bv, *wo, *bo;
} brisk_attention_params;
typedef struct brisk_attention_grads {
    float *gamma, *beta, *wq, *bq, *wk, *bk, *wv, *bv, *wo, *bo; /* overwritten */
} brisk_attention_grads;
size_t brisk_attention_saved_size(const brisk_attention_desc *d, size_t batch);
size_t brisk_attention_workspace(const brisk_attention_desc *d, size_t batch);
void brisk_attention_forward(const brisk_attention_desc *d, size_t batch, const float *x,
                             const brisk_attention_params *p, float *y, float *saved,
                             float *ws);
/* Overwrites dx and every gradient in g. */
void brisk_attention_backward(const brisk_attention_desc *d, size_t batch, const float *x,
                              const brisk_attention_params *p, const float *saved,
                              const float *dy, float *dx, const brisk_attention_grads *g,
                              float *ws);

/* Losses (mean reductions, as torch's defaults), accumulated in double.
 * MSE: mean((pred - target)^2) over n; dpred (may be NULL) = 2 (pred - target) / n. */
double brisk_mse_loss(const float *pred, const float *target, size_t n, float *dpred);
/* Cross-entropy of softmax(logits) against integer labels, mean over the batch.
 * logits: (B, classes); dlogits (may be NULL) = (softmax - onehot) / B. */
double brisk_cross_entropy_loss(const float *logits, const uint8_t *labels, size_t batch,
                                size_t classes, float *dlogits);

/* ---------------------------------------------------------------------------------
 * UNet2DModel (diffusers): config.json + diffusion_pytorch_model.safetensors.
 * ------------------------------------------------------------------------------- */
#define BRISK_UNET_MAX_BLOCKS 8

typedef enum brisk_unet_block {
    BRISK_BLOCK_DOWN = 0,  /* "DownBlock2D" */
    BRISK_BLOCK_ATTN_DOWN, /* "AttnDownBlock2D" */
    BRISK_BLOCK_UP,        /* "UpBlock2D" */
    BRISK_BLOCK_ATTN_UP,   /* "AttnUpBlock2D" */
    BRISK_BLOCK_COUNT
} brisk_unet_block;
const char *brisk_unet_block_name(brisk_unet_block b);
/* Accepts the diffusers names (and the "UNetRes" prefix diffusers strips). */
int brisk_unet_block_from_name(const char *name, brisk_unet_block *out);

typedef enum brisk_time_norm {
    BRISK_TIME_NORM_DEFAULT = 0, /* "default": h = GN(conv1(..) + proj(temb)) */
    BRISK_TIME_NORM_SCALE_SHIFT, /* "scale_shift": h = GN(conv1(..)) * (1 + s) + b */
    BRISK_TIME_NORM_COUNT
} brisk_time_norm;
const char *brisk_time_norm_name(brisk_time_norm t);
int brisk_time_norm_from_name(const char *name, brisk_time_norm *out);

/* The UNet2DModel config keys brisk implements (diffusers names and defaults). */
typedef struct brisk_unet_config {
    size_t sample_size;                   /* informational: default input size */
    size_t in_channels, out_channels;     /* 3, 3 */
    size_t n_blocks;                      /* len(block_out_channels) */
    size_t block_out_channels[BRISK_UNET_MAX_BLOCKS];
    brisk_unet_block down_block_types[BRISK_UNET_MAX_BLOCKS];
    brisk_unet_block up_block_types[BRISK_UNET_MAX_BLOCKS];
    size_t layers_per_block;              /* 2 */
    size_t norm_num_groups;               /* 32 */
    size_t attn_norm_num_groups;          /* 0 = null (mid-block attention groups rule) */
    double norm_eps;                      /* 1e-5 */
    size_t attention_head_dim;            /* 8; 0 = null (one head over all channels) */
    size_t downsample_padding;            /* 1; 0 = pad (0,1,0,1) then conv, no padding */
    int flip_sin_to_cos;                  /* 1 */
    double freq_shift;                    /* 0 */
    brisk_time_norm resnet_time_scale_shift;
    int add_attention;                    /* 1: attention in the mid block */
    int mid_block;                        /* 1: "UNetMidBlock2D", 0: null (no mid block) */
    double mid_block_scale_factor;        /* 1 */
    int center_input_sample;              /* 0 */
    size_t time_embedding_dim;            /* 0 = null (4 * block_out_channels[0]) */
    double dropout;                       /* stored and written back; brisk does not apply
                                           * dropout (inference semantics) */
} brisk_unet_config;

/* diffusers' UNet2DModel defaults (4 blocks 224..896, as the class signature). */
void brisk_unet_config_default(brisk_unet_config *c);
/* Parses a UNet2DModel config. Unknown keys, unsupported values (act_fn other than silu,
 * time_embedding_type other than positional, class embeddings, downsample_type "resnet"
 * in an AttnDownBlock2D, ...) and inconsistent lists are errors naming `what` and the key. */
int brisk_unet_config_parse(const cJSON *obj, const char *what, brisk_unet_config *c);
int brisk_unet_config_read(const char *path, brisk_unet_config *c);
/* Writes config.json with every diffusers key (and "_class_name": "UNet2DModel"),
 * atomically. */
int brisk_unet_config_write(const char *path, const brisk_unet_config *c);

typedef struct brisk_unet brisk_unet;

/* A model with PyTorch's default initialisation (Conv2d/Linear: weights and biases
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)); norms 1 and 0), drawn from Philox with `seed`
 * (deterministic). Validates the config (errors name the key). */
int brisk_unet_create(const brisk_unet_config *c, uint64_t seed, brisk_unet **out);
/* Loads DIR/config.json and DIR/diffusion_pytorch_model.safetensors (F32, F16 or BF16;
 * old attention names query/key/value/proj_attn are accepted). If DIR has no config.json
 * but DIR/unet/ does (a pipeline folder), that is used. Errors name the file and the
 * key or tensor. */
int brisk_unet_load(const char *dir, brisk_unet **out);
/* Writes DIR/config.json and DIR/diffusion_pytorch_model.safetensors atomically (creates
 * DIR). params: m's layout, NULL = the model's own parameters (pass EMA weights here). */
int brisk_unet_save(const brisk_unet *m, const char *dir, const float *params);
void brisk_unet_free(brisk_unet *m);

const brisk_unet_config *brisk_unet_get_config(const brisk_unet *m);
/* Parameters and gradients (owned by the model; pointers stay valid until free). */
brisk_nn_params *brisk_unet_params(brisk_unet *m);
/* Forward FLOPs per image at h x w (2 per multiply-add, convs/linears/attention). */
double brisk_unet_flops(const brisk_unet *m, size_t h, size_t w);

/* Plans memory for up to `batch` images of h x w (train = 1 keeps activations for
 * backward). Optional: forward calls plan on demand. BRISK_EINVAL if h or w is not a
 * multiple of 2^(n_blocks-1). */
int brisk_unet_reserve(brisk_unet *m, size_t batch, size_t h, size_t w, int train);
/* Inference. x: (B, in_channels, h, w); t: (B) timesteps (fractional allowed);
 * out: (B, out_channels, h, w). Allocates only when planning a new shape. */
int brisk_unet_forward(brisk_unet *m, const float *x, const float *t, size_t batch, size_t h,
                       size_t w, float *out);
/* Forward that keeps activations for brisk_unet_backward. */
int brisk_unet_forward_train(brisk_unet *m, const float *x, const float *t, size_t batch,
                             size_t h, size_t w, float *out);
/* Backward of the last forward_train. dout: (B, out_channels, h, w) = dLoss/dout.
 * Overwrites params->grad with dLoss/dparams (no accumulation across calls) and, if dx is
 * not NULL, writes dLoss/dx (B, in_channels, h, w). BRISK_ESTATE without forward_train. */
int brisk_unet_backward(brisk_unet *m, const float *dout, float *dx);

/* A float64 (batch, c*h*w) denoiser over a loaded model folder (brisk_unet_load rules);
 * the prediction type comes from DIR/scheduler_config.json (or DIR/../scheduler/...)
 * "prediction_type" if present, else epsilon. The timestep is passed to the model as is. */
int brisk_unet_denoiser_create(const char *dir, brisk_denoiser **out);
/* Wraps an existing model; with own = 1 the denoiser frees it. Image size = sample_size. */
int brisk_unet_denoiser_wrap(brisk_unet *m, int own, brisk_prediction pred,
                             brisk_denoiser **out);

/* ---------------------------------------------------------------------------------
 * Classifier: a small CNN for 1x32x32 (Fashion-MNIST) images, built from the same kernels:
 * per stage s: conv3x3(stride 1) -> GN -> SiLU -> conv3x3(stride 2) -> GN -> SiLU; then
 * flatten -> linear(feature_dim) -> SiLU (= the features) -> linear(n_classes).
 * Parameter names: "stages.{s}.conv{1,2}.{weight,bias}", "stages.{s}.norm{1,2}.{weight,
 * bias}", "fc.{weight,bias}", "head.{weight,bias}".
 * ------------------------------------------------------------------------------- */
#define BRISK_CLASSIFIER_MAX_STAGES 4
typedef struct brisk_classifier_config {
    size_t in_channels, height, width; /* 1, 32, 32 */
    size_t n_stages;                   /* 3 */
    size_t channels[BRISK_CLASSIFIER_MAX_STAGES]; /* 32, 64, 128 */
    size_t norm_groups;                /* 8 */
    size_t feature_dim;                /* 256 */
    size_t n_classes;                  /* 10 */
} brisk_classifier_config;
void brisk_classifier_config_default(brisk_classifier_config *c);

typedef struct brisk_classifier brisk_classifier;
int brisk_classifier_create(const brisk_classifier_config *c, uint64_t seed,
                            brisk_classifier **out);
/* DIR/config.json ("_class_name": "BriskClassifier") + DIR/model.safetensors. */
int brisk_classifier_load(const char *dir, brisk_classifier **out);
int brisk_classifier_save(const brisk_classifier *m, const char *dir, const float *params);
void brisk_classifier_free(brisk_classifier *m);
const brisk_classifier_config *brisk_classifier_get_config(const brisk_classifier *m);
brisk_nn_params *brisk_classifier_params(brisk_classifier *m);
/* x: (B, in_channels, height, width); logits: (B, n_classes). */
int brisk_classifier_forward(brisk_classifier *m, const float *x, size_t batch, float *logits);
int brisk_classifier_forward_train(brisk_classifier *m, const float *x, size_t batch,
                                   float *logits);
/* Overwrites params->grad from dlogits (B, n_classes) of the last forward_train. */
int brisk_classifier_backward(brisk_classifier *m, const float *dlogits);
/* The penultimate features (B, feature_dim) of the last forward (valid until the next
 * forward or backward call; owned by the model). */
const float *brisk_classifier_features(const brisk_classifier *m);

#ifdef __cplusplus
}
#endif
#endif
