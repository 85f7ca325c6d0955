/* brisk/denoiser.h: the model interface samplers drive, and the analytic denoisers that
 * make sampler error exactly measurable.
 *
 * A denoiser maps a batch of noisy states to a prediction. brisk samplers work in
 * float64 on flat (batch, dim) arrays; a neural network adapter converts as needed.
 *
 *     brisk_denoiser *d;
 *     brisk_denoiser_create_gaussian(mean, std, dim, BRISK_PRED_EPSILON, &d);
 *     brisk_denoiser_predict(d, x, batch, t, alpha_bar, out);  // out: (batch, dim)
 *     brisk_denoiser_free(d);
 *
 *     // or from a model spec, as `brisk sample --model SPEC` does (docs/sample.md):
 *     brisk_denoiser_from_spec("empirical:fashion-mnist,n=5000", BRISK_PRED_EPSILON, &d);
 *
 * The analytic denoisers are exact MMSE (posterior-mean) predictors for data x0 drawn
 * from a known distribution, with x = sqrt(a) x0 + sqrt(1-a) eps, eps ~ N(0, I):
 *   - Gaussian N(mean, diag std^2) (closed form, plus the closed-form probability-flow
 *     ODE map brisk_gaussian_pf_map, the exact answer every deterministic sampler
 *     approximates);
 *   - a mixture of diagonal Gaussians (responsibilities by log-sum-exp);
 *   - an empirical point set, e.g. the 60,000 Fashion-MNIST training images (the ideal
 *     "memorising" denoiser; posterior mean by BLAS in blocks with an online softmax).
 * Prediction forms (DDIM, Song et al. 2021, eq. 12; v from Salimans & Ho 2022, sec. 4):
 *     x0 = (x - sqrt(1-a) eps) / sqrt(a),   v = sqrt(a) eps - sqrt(1-a) x0.
 */
#ifndef BRISK_DENOISER_H
#define BRISK_DENOISER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a model predicts (diffusers' prediction_type). */
typedef enum brisk_prediction {
    BRISK_PRED_EPSILON = 0,
    BRISK_PRED_V,      /* "v_prediction" */
    BRISK_PRED_SAMPLE, /* x0 */
    BRISK_PRED_COUNT
} brisk_prediction;
const char *brisk_prediction_name(brisk_prediction p); /* diffusers spelling */
int brisk_prediction_from_name(const char *name, brisk_prediction *out);

/* The callback a denoiser implements.
 * x: (batch, dim) model input at model timestep t (fractional t is allowed) whose
 * alpha-bar, as the sampler computes it, is alpha_bar. out: (batch, dim) prediction of
 * type `prediction`. Returns 0 or a BRISK_E* code (with brisk_error set). */
typedef int (*brisk_predict_fn)(void *ctx, const double *x, size_t batch, size_t dim, double t,
                                double alpha_bar, double *out);

typedef struct brisk_denoiser {
    brisk_predict_fn predict;
    void (*destroy)(void *ctx); /* may be NULL */
    void *ctx;
    size_t dim;                 /* elements per sample */
    size_t c, h, w;             /* image shape when dim = c*h*w, else 0 */
    brisk_prediction prediction;
} brisk_denoiser;

/* Calls d->predict. */
int brisk_denoiser_predict(const brisk_denoiser *d, const double *x, size_t batch, double t,
                           double alpha_bar, double *out);
/* Calls destroy(ctx) and frees d. NULL is allowed. */
void brisk_denoiser_free(brisk_denoiser *d);

/* ---- Gaussian data N(mean, diag(std^2)) ---------------------------------------------- */

/* Exact MMSE prediction of type `pred` for data ~ N(mean, diag(std^2)) at alpha-bar
 * a in [0, 1] (Gaussian conjugate posterior, the formulas the peer vectors use):
 *     eps = sqrt(1-a) (x - sqrt(a) mean) / (a std^2 + 1 - a),
 *     x0  = mean + sqrt(a) std^2 (x - sqrt(a) mean) / (a std^2 + 1 - a),  v from both.
 * x, out: (batch, dim); out may equal x. std must be > 0 (not checked here). */
void brisk_gaussian_predict(const double *mean, const double *std, size_t dim,
                            brisk_prediction pred, const double *x, size_t batch,
                            double alpha_bar, double *out);

/* The exact probability-flow ODE map for Gaussian data: moves states x (batch, dim) at
 * alpha-bar a_from to the ODE solution at a_to (both in [0, 1]; a_to = 1 is the data end).
 * The PF ODE keeps each coordinate's standardised value
 *     (x - sqrt(a) mean) / sqrt(a std^2 + 1 - a)
 * constant (derivation: docs/sample.md), so out = sqrt(a_to) mean + sqrt(a_to std^2 + 1 - a_to)
 * * that value. out may equal x. */
void brisk_gaussian_pf_map(const double *mean, const double *std, size_t dim, const double *x,
                           size_t batch, double a_from, double a_to, double *out);

/* A denoiser for N(mean, diag(std^2)) predicting `pred`. Copies mean and std (dim each;
 * std > 0 and both finite, else BRISK_EINVAL naming the index). *out is owned by the
 * caller (brisk_denoiser_free). */
int brisk_denoiser_create_gaussian(const double *mean, const double *std, size_t dim,
                                   brisk_prediction pred, brisk_denoiser **out);

/* If d is a Gaussian denoiser, points *mean and *std at its parameters (owned by d) and
 * returns 0; otherwise BRISK_EINVAL. */
int brisk_denoiser_gaussian_params(const brisk_denoiser *d, const double **mean,
                                   const double **std);

/* ---- Gaussian mixture with diagonal components --------------------------------------- */

struct cJSON; /* <cjson/cJSON.h> */

typedef struct brisk_gmm {
    size_t k, dim;
    double *weights; /* (k), normalised to sum 1; owned */
    double *means;   /* (k, dim); owned */
    double *stds;    /* (k, dim), > 0; owned */
} brisk_gmm;

/* Reads a GMM from JSON: {"weights": [k], "means": [[dim] x k], "stds": [[dim] x k] or
 * [k] (isotropic components)}. Weights must be >= 0 with a positive sum (they are
 * normalised), stds > 0. Errors name the file, the key and the index. Free with
 * brisk_gmm_free. */
int brisk_gmm_load(const char *path, brisk_gmm *out);
/* The same from a parsed document; `what` names the source in messages. */
int brisk_gmm_from_json(const struct cJSON *doc, const char *what, brisk_gmm *out);
void brisk_gmm_free(brisk_gmm *g);

/* A denoiser returning the exact posterior mean E[x0 | x] of the mixture (converted to
 * `pred`). Copies g. Needs a in [0, 1) for eps/v output. */
int brisk_denoiser_create_gmm(const brisk_gmm *g, brisk_prediction pred, brisk_denoiser **out);

/* ---- Empirical point set (the ideal memorising denoiser) ----------------------------- */

typedef struct brisk_empirical_options {
    int f64;             /* 1: points and products in float64 (exact; default);
                            0: float32 (about 2x faster, logits good to ~1e-6 relative) */
    size_t block_points; /* points per block (bounds memory to batch x block); default 4096 */
} brisk_empirical_options;
void brisk_empirical_options_default(brisk_empirical_options *o);

/* A denoiser whose x0 prediction is the exact posterior mean over the n points y_i
 * (n, dim) with equal prior weights:
 *     w_i = softmax_i(-||x - sqrt(a) y_i||^2 / (2 (1 - a))),   x0 = sum_i w_i y_i,
 * computed with BLAS GEMMs in blocks of points and an online (rescaled) log-sum-exp.
 * Copies the points. (c, h, w) record the image shape (0 when not an image; then
 * c*h*w must equal dim). Requires a in [0, 1). One denoiser must not be called from two
 * threads at once (it keeps its workspace between calls). */
int brisk_denoiser_create_empirical(const float *points, size_t n, size_t dim, size_t c,
                                    size_t h, size_t w, brisk_prediction pred,
                                    const brisk_empirical_options *opt, brisk_denoiser **out);

/* ---- Reference probability-flow ODE solver ------------------------------------------ */

typedef struct brisk_pf_solve_options {
    double rtol, atol;  /* Dormand-Prince error control (default 1e-9 both) */
    double sigma_min;   /* a target alpha-bar of 1 is reached by integrating to this sigma
                           and taking the x0 prediction there (default 1e-4) */
    size_t max_calls;   /* BRISK_ESTATE when exceeded (default 10,000,000) */
    /* Model timestep for an alpha-bar, passed as t to the denoiser; NULL passes t = NAN
     * (fine for the analytic denoisers, which read alpha_bar only). */
    double (*t_of_alpha)(void *ctx, double alpha_bar);
    void *t_ctx;
} brisk_pf_solve_options;
void brisk_pf_solve_options_default(brisk_pf_solve_options *o);

typedef struct brisk_pf_solve_stats {
    size_t nfe, accepted, rejected; /* model calls (each on the whole batch), steps */
} brisk_pf_solve_stats;

/* Solves the probability-flow ODE to high accuracy, the reference that sampler errors are
 * measured against: adaptive Dormand-Prince RK5(4) on dxbar/dsigma = eps_hat(x, a) with
 * xbar = x / sqrt(a), sigma = sqrt((1-a)/a) (Karras et al. 2022, eq. 4), from states
 * x (batch, dim) at alpha-bar a_from to each of a_to[0..n_to-1] (non-decreasing, each
 * >= a_from, <= 1). out: (n_to, batch, dim). The step size is controlled on every sample
 * separately (the worst sample's RMS error ratio). st may be NULL. */
int brisk_pf_solve(const brisk_denoiser *d, const double *x, size_t batch, double a_from,
                   const double *a_to, size_t n_to, const brisk_pf_solve_options *opt,
                   double *out, brisk_pf_solve_stats *st);

/* ---- Model specs --------------------------------------------------------------------- */

/* Creates a denoiser from a spec string (syntax in docs/sample.md):
 *     gaussian:dim=6,mean=0.5,std=0.8      scalars broadcast; mean=@FILE / std=@FILE read
 *                                          .npy or JSON arrays; shape=CxHxW for images
 *     gaussian:FILE.json                   {"mean": [...], "std": [...]}
 *     gmm:FILE.json                        brisk_gmm_load
 *     empirical:fashion-mnist[,n=N][,split=train|test][,precision=f32|f64][,block=B][,dir=PATH]
 *     empirical:FILE.npy                   points (n, dim) or (n, c, h, w)
 *     unet:DIR                             a diffusers UNet2DModel folder (nn module)
 * The denoiser predicts `pred`. Unknown kinds are BRISK_EUNSUPPORTED listing the valid
 * ones; bad values name the key. *out is owned by the caller. */
int brisk_denoiser_from_spec(const char *spec, brisk_prediction pred, brisk_denoiser **out);

/* Converts an x0 prediction to `pred` at alpha-bar a: out = x0, eps = (x - sqrt(a) x0) /
 * sqrt(1-a), or v = sqrt(a) eps - sqrt(1-a) x0. x, x0, out: (n elements); out may equal
 * x0. For eps/v, a must be < 1 (not checked). */
void brisk_prediction_from_x0(brisk_prediction pred, const double *x, const double *x0,
                              size_t n, double alpha_bar, double *out);

#ifdef __cplusplus
}
#endif
#endif
