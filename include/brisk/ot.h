/* brisk/ot.h: semi-discrete optimal transport for DPM-OT (Li et al., "DPM-OT: a new
 * diffusion probabilistic model based on optimal transport", ICCV 2023).
 *
 * Targets y_1..y_N (N x D float32) each carry mass 1/N; the source is N(0, I) or the
 * uniform measure on the cube [-1, 1]^D. A dual potential h (float64, length N) splits
 * the source space into cells: x belongs to cell argmax_i <x, y_i> + h_i (ties go to the
 * lowest index). Fitting minimises the convex energy
 *     E(h) = E_x[max_i (<x, y_i> + h_i)] - mean(h),   grad E = g - 1/N,
 * where g_i is the source mass of cell i, estimated by Monte Carlo.
 *
 *     brisk_array y;
 *     brisk_ot_targets_load("latents.npy", &y);          // (N, D) float32, checked
 *     brisk_ot *ot;
 *     brisk_ot_create(y.data, y.shape[0], y.shape[1], BRISK_OT_SOURCE_NORMAL,
 *                     "latents.npy", &ot);               // borrows y
 *     brisk_ot_params p;
 *     brisk_ot_params_default(&p);
 *     p.seed = 1;
 *     double *h = brisk_calloc(y.shape[0], sizeof *h);  // cold start: h = 0
 *     brisk_ot_result r;
 *     brisk_ot_fit(ot, &p, h, &r);                        // r.converged, r.grad_norm
 *     brisk_ot_h_save("h.npy", h, y.shape[0]);
 *     // sampler: noise x (B x D, float64) -> the latent of its cell
 *     brisk_ot_map(ot, h, x, B, idx, latent);
 *     brisk_ot_free(ot); brisk_free(h); brisk_array_free(&y);
 *
 * Monte Carlo: iteration k of a fit draws M_k source samples with brisk's Philox RNG,
 * sample index = global Monte Carlo index (the running count over all iterations),
 * stream BRISK_OT_STREAM_FIT, key = seed. Scores are computed by blocked cblas_sgemm
 * (a block of source samples against a block of targets) with a running argmax; at most
 * one block of the N x M score matrix exists per thread. Results are identical for a
 * given seed whatever the thread count. The calls parallelise with OpenMP and set
 * OpenBLAS to one thread while they run (restored afterwards; a process-wide setting, so
 * do not call them concurrently from several threads). Details: docs/ot.md.
 */
#ifndef BRISK_OT_H
#define BRISK_OT_H

#include <stddef.h>
#include <stdint.h>

#include "brisk/io.h"
#include "brisk/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RNG streams (purpose BRISK_RNG_MC, counters far from other Monte Carlo users): the
 * samples of a fit, and the fixed noise that diffuses training images into data latents
 * (sample index = training-image index). */
#define BRISK_OT_STREAM_FIT BRISK_STREAM(BRISK_RNG_MC, 0xD70000)
#define BRISK_OT_STREAM_LATENT BRISK_STREAM(BRISK_RNG_MC, 0xD70001)

typedef enum brisk_ot_source {
    BRISK_OT_SOURCE_NORMAL = 0, /* "normal": N(0, I) */
    BRISK_OT_SOURCE_UNIFORM,    /* "uniform": uniform on [-1, 1]^D */
    BRISK_OT_SOURCE_COUNT
} brisk_ot_source;

typedef enum brisk_ot_optimizer {
    BRISK_OT_OPT_AUTHORS = 0, /* "authors": Adam without bias correction, then h -= mean(h) */
    BRISK_OT_OPT_ADAM,        /* "adam": bias-corrected Adam, then h -= mean(h) */
    BRISK_OT_OPT_COUNT
} brisk_ot_optimizer;

const char *brisk_ot_source_name(brisk_ot_source s);
/* Unknown names are BRISK_EUNSUPPORTED with a message listing the valid names. */
int brisk_ot_source_from_name(const char *name, brisk_ot_source *out);
const char *brisk_ot_optimizer_name(brisk_ot_optimizer o);
int brisk_ot_optimizer_from_name(const char *name, brisk_ot_optimizer *out);

/* Draws source sample `sample` of (seed, stream): d float32 values. Normal: brisk_randn_f32;
 * uniform: 2u - 1 with u from brisk_randu. `tmp` is scratch of d doubles (uniform only;
 * may be NULL for the normal source). */
void brisk_ot_source_draw(brisk_ot_source src, uint64_t seed, uint64_t sample, uint32_t stream,
                          size_t d, float *out, double *tmp);

/* Reads a targets file: a rank-2 (N, D) .npy of float32 (float64 is converted). Rejects
 * other dtypes or ranks, N = 0, D = 0 and non-finite values with a message naming the
 * file (and the row and column of a NaN). `out` is owned by the caller. */
int brisk_ot_targets_load(const char *path, brisk_array *out);

/* Checks n x d targets: n > 0, d > 0, every value finite. `what` names the source. */
int brisk_ot_targets_check(const float *y, size_t n, size_t d, const char *what);

typedef struct brisk_ot brisk_ot;

/* A solver over targets y (n x d, row-major float32). y is BORROWED: it must outlive
 * the handle and stay unchanged. Checks y like brisk_ot_targets_check; `what` (may be
 * NULL) names the targets in messages. Free with brisk_ot_free. */
int brisk_ot_create(const float *y, size_t n, size_t d, brisk_ot_source src, const char *what,
                    brisk_ot **out);
void brisk_ot_free(brisk_ot *ot);
size_t brisk_ot_num_targets(const brisk_ot *ot);
size_t brisk_ot_dim(const brisk_ot *ot);
brisk_ot_source brisk_ot_get_source(const brisk_ot *ot);
const float *brisk_ot_targets(const brisk_ot *ot);
/* GEMM blocking: source samples and targets per block (0 keeps the default 512 x 1024).
 * Results are bitwise reproducible for fixed blocking; changing it may change the last
 * bits of scores (and so a near-tie). */
void brisk_ot_set_blocking(brisk_ot *ot, size_t block_samples, size_t block_targets);

/* Monte Carlo cell measures at potential h (length N): draws source samples
 * first_sample .. first_sample + m - 1 of (seed, stream) and counts how many land in each
 * cell: counts (length N, written). If energy is not NULL it receives the estimate of
 * E(h) = mean over the samples of max_i(<x, y_i> + h_i) - mean(h). Adding a constant to h
 * changes neither output (h is centred before scoring). */
int brisk_ot_cells(const brisk_ot *ot, const double *h, uint64_t seed, uint32_t stream,
                   uint64_t first_sample, size_t m, int64_t *counts, double *energy);

/* Cell of each of m drawn source samples (first_sample .. first_sample + m - 1 of
 * (seed, stream), drawn as brisk_ot_source_draw does): idx (length m, written). The samples
 * are never stored together, so m may be large. */
int brisk_ot_assign_draws(const brisk_ot *ot, const double *h, uint64_t seed, uint32_t stream,
                          uint64_t first_sample, size_t m, int64_t *idx);

/* Cell of each of b given points x (b x d float32): idx (length b, written). */
int brisk_ot_assign(const brisk_ot *ot, const double *h, const float *x, size_t b, int64_t *idx);

/* The OT map for a sampler: x (b x d float64 source noise) -> idx (length b, may be NULL)
 * and out (b x d float64, may be NULL) = the target y_idx of each sample's cell. out may
 * alias x (every sample is assigned before any output is written). */
int brisk_ot_map(const brisk_ot *ot, const double *h, const double *x, size_t b, int64_t *idx,
                 double *out);

/* One line of progress, given to the callback after every iteration. */
typedef enum brisk_ot_event {
    BRISK_OT_EVENT_NONE = 0,
    BRISK_OT_EVENT_DOUBLED,   /* the norm stalled: the next iterations use 2 M samples, and lr
                                 is decayed from this iteration's update on */
    BRISK_OT_EVENT_CONVERGED, /* norm < tol and no empty cell: the fit stops with this h */
    BRISK_OT_EVENT_COUNT
} brisk_ot_event;

typedef struct brisk_ot_iter {
    int iter;            /* 1-based */
    double grad_norm;    /* ||g - 1/N||_2 measured at h */
    double max_grad;     /* max_i |g_i - 1/N| */
    size_t empty;        /* cells with no sample */
    size_t m;            /* Monte Carlo samples in this iteration */
    double lr;           /* learning rate of the update after this iteration (already decayed
                            when event == BRISK_OT_EVENT_DOUBLED) */
    double energy;       /* E(h) estimated on this iteration's samples */
    int doublings;       /* stalls handled so far (this one included) */
    brisk_ot_event event;
    double seconds;      /* since the fit started */
    const double *h;     /* the potential the iteration measured (length N) */
} brisk_ot_iter;
/* Return non-zero to stop the fit (brisk_ot_fit then returns BRISK_ESTATE). */
typedef int (*brisk_ot_progress_fn)(void *ctx, const brisk_ot_iter *it);

typedef struct brisk_ot_params {
    brisk_ot_optimizer optimizer; /* BRISK_OT_OPT_AUTHORS */
    double lr;                    /* 0.1 */
    double beta1, beta2, eps;     /* 0.9, 0.999, 1e-8 */
    double tol;                   /* 8e-4 on ||g - 1/N||_2 */
    int max_iter;                 /* 2000 */
    size_t samples_per_iter;      /* M; 0 = 10 N */
    int patience;                 /* 50 iterations without a new best norm -> stall */
    int max_doublings;            /* 3 */
    double lr_decay;              /* 0.8 */
    uint64_t seed;                /* 0 */
    uint64_t first_sample;        /* global Monte Carlo index of the first sample (0) */
    brisk_ot_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} brisk_ot_params;
void brisk_ot_params_default(brisk_ot_params *p);

typedef struct brisk_ot_result {
    int iterations;       /* iterations run (each one measurement, plus an update unless it converged) */
    int converged;        /* 1 when norm < tol with no empty cell */
    double grad_norm;     /* last measured norm */
    double best_grad_norm;
    size_t empty;         /* empty cells at the last measurement */
    size_t m;             /* samples per iteration at the end */
    double lr;            /* learning rate at the end */
    int doublings;
    uint64_t samples_used; /* total Monte Carlo samples drawn */
    double seconds;
} brisk_ot_result;

/* Fits h (length N; in: the starting potential, e.g. zeros; out: the fitted potential,
 * centred to mean 0). Deterministic for a given seed and blocking. Returns 0 whether or
 * not the fit converged (see res->converged); BRISK_EINVAL for bad parameters,
 * BRISK_ENUMERIC for a non-finite h, BRISK_ESTATE when the callback stopped it. */
int brisk_ot_fit(const brisk_ot *ot, const brisk_ot_params *p, double *h, brisk_ot_result *res);

/* h as a rank-1 float64 .npy of length n (written atomically). */
int brisk_ot_h_save(const char *path, const double *h, size_t n);
/* Reads h: a rank-1 float64 or float32 .npy whose length must equal n (a mismatch is
 * BRISK_ESHAPE naming the file); *out is allocated with brisk_malloc. */
int brisk_ot_h_load(const char *path, size_t n, double **out);

/* Data latents (targets for DPM-OT). alpha-bar of the linear beta schedule
 * (betas = linspace(beta_start, beta_end, T), alpha_bar[t] = prod_{s <= t} (1 - beta_s),
 * diffusers' DDPM convention): level t in [0, T-1]. Computed in float64. */
int brisk_ot_alpha_bar_linear(int level, int T, double beta_start, double beta_end, double *out);

/* Diffuses y (n x d float32, in place) to alpha-bar a with fixed noise:
 * y_i <- sqrt(a) y_i + sqrt(1 - a) eps_i, eps_i = brisk_randn(seed, first_index + i,
 * BRISK_OT_STREAM_LATENT) (float64, rounded to float32 at the end). */
int brisk_ot_diffuse(float *y, size_t n, size_t d, double alpha_bar, uint64_t seed,
                     uint64_t first_index);

/* The first `num` Fashion-MNIST training images (padded to 32 x 32, in [-1, 1], D = 1024)
 * diffused to alpha-bar a with brisk_ot_diffuse (first_index 0, so image i always gets the
 * same noise). out: (num, 1024) float32; labels (may be NULL): num bytes, brisk_malloc'd.
 * `dir` as in brisk_fmnist_load (NULL: default). */
int brisk_ot_fmnist_latents(const char *dir, size_t num, double alpha_bar, uint64_t seed,
                            brisk_array *out, uint8_t **labels);

#ifdef __cplusplus
}
#endif
#endif
