/* brisk/metrics.h: sample-quality metrics on feature arrays: Fréchet distance (the
 * FID recipe on any feature extractor), KID, k-NN precision/recall, and summaries of a
 * classifier's softmax output (class histogram against uniform, mode-mixture rate).
 *
 *     brisk_array ra, ga;                      // (N, D) float32 or float64 features
 *     brisk_features real, gen;
 *     if (brisk_features_load("real.npy", &ra, &real) ||
 *         brisk_features_load("gen.npy", &ga, &gen)) die(brisk_last_error());
 *
 *     brisk_gauss_stats sr, sg;                // mean and covariance (ddof 1)
 *     double fd;
 *     brisk_gauss_stats_compute(&real, &sr);   // or brisk_gauss_stats_load("stats/", &sr)
 *     brisk_gauss_stats_compute(&gen, &sg);
 *     brisk_frechet_distance(&sr, &sg, &fd, NULL);
 *
 *     brisk_kid_params kp;
 *     brisk_kid_params_default(&kp);           // 100 subsets of min(1000, N1, N2)
 *     brisk_kid_result kid;                    // kid.mean, kid.std
 *     brisk_kid(&real, &gen, &kp, &kid, NULL);
 *
 *     brisk_pr_result pr;                      // k = 3 as Kynkäänniemi et al.
 *     brisk_precision_recall(&real, &gen, 3, &pr);
 *
 *     brisk_gauss_stats_free(&sr); brisk_gauss_stats_free(&sg);
 *     brisk_array_free(&ra); brisk_array_free(&ga);
 *
 * brisk_quality_evaluate() runs a chosen set of these on one generated set against a
 * reference (precomputed statistics and/or real features) and writes JSON; it is what
 * `brisk eval` calls. Every input carries a name used in error messages: mismatched
 * dimensions, empty files and too few samples for a statistic are BRISK_ESHAPE or
 * BRISK_EINVAL errors naming the input. Formulas, conventions and file formats:
 * docs/metrics.md.
 */
#ifndef BRISK_METRICS_H
#define BRISK_METRICS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "brisk/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- feature sets ---------------------------------------------------------------- */

/* A borrowed (n, dim) row-major matrix of float32 or float64 values: features of n
 * samples, or (for the classifier summaries) n rows of softmax probabilities. */
typedef struct brisk_features {
    const void *data;  /* (n, dim), borrowed */
    brisk_dtype dtype; /* BRISK_F32 or BRISK_F64 */
    size_t n, dim;
    const char *name;  /* borrowed; names the input in errors (NULL: "features") */
} brisk_features;

/* Views a 2-D float array as features (no copy; `a` and `name` must outlive `out`).
 * Errors: BRISK_ESHAPE if `a` is not 2-D or has no rows ("empty") or no columns,
 * BRISK_EUNSUPPORTED if it is not float32/float64. */
int brisk_features_view(const brisk_array *a, const char *name, brisk_features *out);

/* Reads an (N, D) float .npy file into `storage` (caller frees it with
 * brisk_array_free) and views it. out->name points to `path`, which must outlive `out`.
 * Errors name the file. */
int brisk_features_load(const char *path, brisk_array *storage, brisk_features *out);

/* ---- Gaussian statistics and the Fréchet distance ------------------------------- */

/* Mean and covariance of a feature set, in float64. The covariance uses ddof = 1 (the
 * unbiased estimate, np.cov's default, as pytorch-fid). */
typedef struct brisk_gauss_stats {
    size_t dim;
    size_t n;       /* samples the statistics came from (0: unknown, loaded without it) */
    double *mu;     /* (dim), owned */
    double *sigma;  /* (dim, dim) row-major, symmetric, owned */
    char name[160]; /* what they describe, for error messages */
} brisk_gauss_stats;

/* Computes mean and covariance of `x` (two passes, float64 accumulation). Needs
 * x->n >= 2 (BRISK_EINVAL naming the input otherwise); non-finite values are
 * BRISK_ENUMERIC naming the row. Free with brisk_gauss_stats_free. */
int brisk_gauss_stats_compute(const brisk_features *x, brisk_gauss_stats *out);

/* Releases the arrays; safe on a zeroed struct. */
void brisk_gauss_stats_free(brisk_gauss_stats *s);

/* Saves to the directory `dir` (created if missing): mu.npy (D,) float64, sigma.npy
 * (D, D) float64 and stats.json {format, version, n, dim, ddof, source}; each file is
 * written atomically. `source` (may be NULL) says what was measured, e.g. the classifier
 * and the data split. numpy reads the files with np.load. */
int brisk_gauss_stats_save(const char *dir, const brisk_gauss_stats *s, const char *source);

/* Loads statistics saved by brisk_gauss_stats_save, or a directory holding just mu.npy
 * and sigma.npy written by numpy (float32 or float64; n is then 0). Shapes are checked
 * against each other and sigma must be finite and symmetric; errors name the file. */
int brisk_gauss_stats_load(const char *dir, brisk_gauss_stats *out);

/* The terms of a Fréchet distance, for diagnostics. */
typedef struct brisk_fd_terms {
    double mean_term;  /* ||mu1 - mu2||^2 */
    double trace1;     /* tr S1 */
    double trace2;     /* tr S2 */
    double trace_sqrt; /* tr sqrt(S1 S2) */
    int n_clipped;     /* eigenvalues below zero (rounding, rank deficiency) set to zero */
    double min_eig;    /* most negative eigenvalue clipped, relative to the largest (0: none) */
} brisk_fd_terms;

/* Fréchet distance between N(mu1, S1) and N(mu2, S2) (Dowson & Landau 1982; FID,
 * Heusel et al. 2017): ||mu1 - mu2||^2 + tr S1 + tr S2 - 2 tr sqrt(S1 S2), with the trace
 * term from symmetric eigendecompositions (LAPACK dsyevd). `terms` may be NULL. A
 * dimension mismatch is BRISK_ESHAPE naming both inputs. The result is not clamped: for
 * identical statistics it is zero up to rounding (about 1e-15 tr S). */
int brisk_frechet_distance(const brisk_gauss_stats *a, const brisk_gauss_stats *b, double *fd,
                           brisk_fd_terms *terms);

/* Convenience: statistics of both feature sets, then their Fréchet distance. */
int brisk_frechet_distance_features(const brisk_features *x, const brisk_features *y,
                                    double *fd);

/* ---- KID (Bińkowski et al. 2018) ------------------------------------------------- */

typedef struct brisk_kid_params {
    size_t subset_size; /* 0 (default): min(1000, N1, N2); an explicit value larger than
                           either set is BRISK_EINVAL naming that set */
    size_t num_subsets; /* default 100 */
    int degree;         /* polynomial kernel (gamma x.y + coef0)^degree; default 3 */
    double gamma;       /* 0 (default): 1 / dim */
    double coef0;       /* default 1 */
    uint64_t seed;      /* subset selection (Philox, purpose BRISK_RNG_MC); default 0 */
} brisk_kid_params;

void brisk_kid_params_default(brisk_kid_params *p);

typedef struct brisk_kid_result {
    double mean;        /* mean over subsets of the unbiased MMD^2 */
    double std;         /* standard deviation over subsets, ddof 0 (as torch-fidelity) */
    size_t subset_size; /* the sizes used */
    size_t num_subsets;
} brisk_kid_result;

/* Kernel Inception Distance on arbitrary features: the unbiased MMD^2 of the polynomial
 * kernel on `num_subsets` pairs of random subsets (drawn without replacement, one from
 * each set), averaged. Subset s of set t (0 real, 1 generated) is a partial Fisher-Yates
 * shuffle driven by brisk_rand_u32(seed, s, BRISK_STREAM(BRISK_RNG_MC, 0x100 + t)), so
 * the result depends only on (data, params), not on the thread count (subsets run in
 * parallel; Gram tiles in float64 with cblas_dgemm). `per_subset` (may be NULL) receives
 * the num_subsets values. Subsets need at least 2 samples. */
int brisk_kid(const brisk_features *real, const brisk_features *gen, const brisk_kid_params *p,
              brisk_kid_result *out, double *per_subset);

/* Unbiased MMD^2 of the polynomial kernel of `p` (degree, gamma, coef0) between all of x
 * and all of y (sizes may differ; each needs >= 2 rows). Memory is O(block), not O(N^2). */
int brisk_mmd2_unbiased(const brisk_features *x, const brisk_features *y,
                        const brisk_kid_params *p, double *out);

/* ---- precision / recall with k-NN manifolds (Kynkäänniemi et al. 2019) ----------- */

typedef struct brisk_pr_result {
    double precision;     /* fraction of generated samples inside the real manifold */
    double recall;        /* fraction of real samples inside the generated manifold */
    size_t k;
    size_t n_real, n_gen;
    size_t n_gen_in_real; /* counts behind precision and recall */
    size_t n_real_in_gen;
} brisk_pr_result;

/* Distance from each row of `x` to its k-th nearest neighbour among the other rows
 * (self excluded). radii: (x->n) doubles, caller-allocated. Needs x->n > k
 * (BRISK_EINVAL naming the input). Distances use cblas_sgemm on mean-centred float32
 * copies, in tiles spread over the OpenMP threads; the result does not depend on the
 * thread count. */
int brisk_knn_radii(const brisk_features *x, size_t k, double *radii);

/* Counts the rows of `query` lying inside the manifold of `ref`: within ref_radii[j] (<=)
 * of at least one ref row j. `inside` (may be NULL) receives 0/1 per query row. */
int brisk_manifold_count(const brisk_features *query, const brisk_features *ref,
                         const double *ref_radii, size_t *count, unsigned char *inside);

/* Precision and recall with k-NN radii (k = 3 in the paper). Needs both sets larger
 * than k and equal dimensions. */
int brisk_precision_recall(const brisk_features *real, const brisk_features *gen, size_t k,
                           brisk_pr_result *out);

/* ---- classifier-based summaries on softmax probabilities (N, C) ----------------- */

typedef struct brisk_class_summary {
    size_t n, n_classes;
    size_t *counts; /* (C) samples whose argmax is each class (ties: lowest index); owned */
    double tv;      /* total variation to uniform: 1/2 sum_c |f_c - 1/C|, in [0, 1 - 1/C] */
    double kl;      /* KL(f || uniform) = sum_c f_c log(C f_c), nats, in [0, log C] */
    double chi2;    /* Pearson's statistic sum_c (n_c - N/C)^2 / (N/C) */
    double chi2_p;  /* its upper-tail p-value, C - 1 degrees of freedom */
} brisk_class_summary;

/* Histogram of argmax classes against the uniform distribution. `probs` rows must be
 * probabilities (entries in [0, 1], rows summing to 1 within 1e-3; logits are rejected
 * with BRISK_EINVAL naming the row). Needs C >= 2. Free with brisk_class_summary_free. */
int brisk_class_summary_compute(const brisk_features *probs, brisk_class_summary *out);
void brisk_class_summary_free(brisk_class_summary *s);

/* Mode-mixture rate (DPM-OT, Li et al. 2023): for each tau, the fraction of rows with at
 * least two classes of probability >= tau. taus in (0, 1]; rates: (n_taus), caller's. */
int brisk_mode_mixture_rate(const brisk_features *probs, const double *taus, size_t n_taus,
                            double *rates);

/* Softmax of each row of logits (N, C), in place, computed stably in double. */
void brisk_softmax_rows(float *logits, size_t n, size_t c);

/* ---- bootstrap ------------------------------------------------------------------- */

/* Percentile bootstrap confidence interval of the mean of x[0..n-1] (e.g. one metric
 * over seeds): `n_boot` resamples with replacement (Philox, sample = resample index,
 * stream BRISK_STREAM(BRISK_RNG_MC, 0x200)), interval at `level` (e.g. 0.95) from the
 * sorted resample means with linear interpolation. Needs n >= 2 and n_boot >= 10. */
int brisk_bootstrap_mean_ci(const double *x, size_t n, size_t n_boot, double level,
                            uint64_t seed, double *lo, double *hi);

/* ---- everything at once (what `brisk eval` calls) ------------------------------- */

typedef enum brisk_metric {
    BRISK_METRIC_FD = 0,  /* needs reference statistics or real features */
    BRISK_METRIC_KID,     /* needs real features */
    BRISK_METRIC_PR,      /* needs real features */
    BRISK_METRIC_CLASSES, /* needs generated probabilities */
    BRISK_METRIC_MMR,     /* needs generated probabilities */
    BRISK_METRIC_COUNT
} brisk_metric;

const char *brisk_metric_name(brisk_metric m); /* "fd", "kid", "pr", "classes", "mmr" */
/* Parses a name; BRISK_EINVAL (listing the valid names) if unknown. */
int brisk_metric_from_name(const char *name, brisk_metric *out);
/* Parses a comma-separated list ("fd,kid") into a bit mask (1u << metric). */
int brisk_metric_mask_parse(const char *list, unsigned *mask);

#define BRISK_MMR_MAX_TAUS 16

typedef struct brisk_quality_params {
    unsigned metrics;             /* bit mask 1u << brisk_metric; default all */
    brisk_kid_params kid;
    size_t pr_k;                  /* default 3 */
    size_t n_mmr_taus;            /* default 5: 0.1 0.2 0.3 0.4 0.5 */
    double mmr_taus[BRISK_MMR_MAX_TAUS];
} brisk_quality_params;

void brisk_quality_params_default(brisk_quality_params *p);

/* The reference side. Everything is borrowed; unused members may be NULL. */
typedef struct brisk_quality_ref {
    const brisk_gauss_stats *stats;  /* FD against these if set, else from `features` */
    const brisk_features *features;  /* real features: KID, PR (and FD without stats) */
    const double *radii;             /* optional k-NN radii of `features` for pr_k */
} brisk_quality_ref;

typedef struct brisk_quality_result {
    unsigned computed; /* bit mask of the metrics below that hold values */
    double fd;
    brisk_fd_terms fd_terms;
    brisk_kid_result kid;
    brisk_pr_result pr;
    brisk_class_summary classes; /* owns its counts */
    size_t n_mmr_taus;
    double mmr_taus[BRISK_MMR_MAX_TAUS], mmr[BRISK_MMR_MAX_TAUS];
} brisk_quality_result;

/* Computes the metrics selected in p->metrics on the generated features `gen` (may be
 * NULL if only classifier summaries are asked) and probabilities `gen_probs` (may be NULL
 * if none are asked). A selected metric whose inputs are missing is BRISK_EINVAL saying
 * which input. Free with brisk_quality_result_free. */
int brisk_quality_evaluate(const brisk_quality_ref *ref, const brisk_features *gen,
                           const brisk_features *gen_probs, const brisk_quality_params *p,
                           brisk_quality_result *out);
void brisk_quality_result_free(brisk_quality_result *r);

/* Adds the computed metrics to the JSON object `obj` ("fd", "fd_terms", "kid",
 * "precision", "recall", "classes", "mmr", ...; layout in docs/metrics.md). */
int brisk_quality_result_to_json(const brisk_quality_result *r, cJSON *obj);

#ifdef __cplusplus
}
#endif
#endif
