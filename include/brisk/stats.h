/* brisk/stats.h: evaluation variance (Madaan et al. 2024, "Quantifying Variance in
 * Evaluation Benchmarks"): confidence intervals, bootstrap, seed variance, monotonicity,
 * item analysis, IRT and paired model comparison over real evaluation output.
 *
 *     brisk_matrix m;                        // rows = models, columns = items
 *     brisk_csv_options o;
 *     brisk_csv_options_default(&o);         // layout/header/index column autodetected
 *     if (brisk_matrix_read_csv("m.csv", &o, &m)) die(brisk_last_error());
 *     brisk_items_params p;
 *     brisk_items_params_default(&p);
 *     brisk_items_result r;
 *     if (brisk_items_analyze(&m, &p, &r)) die(brisk_last_error());
 *     printf("%s: %.4f +- %.4f\n", m.model_names[0], r.models[0].mean,
 *            r.models[0].ci95_half_width);
 *     // r.items[i].discrimination is NaN where undefined (JSON null)
 *     brisk_items_result_free(&r);
 *     brisk_matrix_free(&m);
 *
 * Conventions (docs/variance.md states each one): stderr = sample sd (ddof 1) / sqrt(n)
 * as lm-evaluation-harness; undefined statistics are NaN (printed as null / "nan");
 * bootstrap resample b draws its items from Philox stream (seed, b), so results do not
 * depend on the thread count. Every function that can fail returns 0 or a negative
 * BRISK_E* status with a one-line message naming the file, line, key or row.
 */
#ifndef BRISK_STATS_H
#define BRISK_STATS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ basic statistics */

/* Arithmetic mean; NaN for n == 0. */
double brisk_stats_mean(const double *x, size_t n);
/* Standard deviation with the given ddof (sum of squares / (n - ddof)); NaN if n <= ddof. */
double brisk_stats_sd(const double *x, size_t n, int ddof);
/* lm-eval's mean_stderr: sd(ddof 1) / sqrt(n); NaN for n < 2. */
double brisk_stats_stderr(const double *x, size_t n);
/* Analytic 95% CI half-width of a proportion: 1.96 sqrt(p (1 - p) / n) (Madaan et al.). */
double brisk_stats_ci95_half_width(double p, double n);
/* lm-eval's pooled_sample_stderr over k groups:
 * sqrt( sum (n_i - 1) n_i se_i^2 / (sum n_i - k) / sum n_i ). NaN if sum n_i <= k. */
double brisk_stats_pooled_stderr(const double *se, const double *sizes, size_t k);
/* Pearson correlation; NaN when either input has zero variance or n < 2. */
double brisk_stats_pearson(const double *x, const double *y, size_t n);
/* Kendall's tau-b with ties handled as scipy.stats.kendalltau (variant 'b');
 * NaN when either input is constant or n < 2. O(n^2) time, no allocation. */
double brisk_stats_kendall_tau_b(const double *x, const double *y, size_t n);
/* q-th quantile (q in [0, 1]) with numpy's default 'linear' interpolation. Sorts `x` in
 * place. NaN for n == 0. */
double brisk_stats_quantile_sorted(const double *sorted, size_t n, double q);
double brisk_stats_quantile(double *x, size_t n, double q);
/* Standard normal quantile (inverse CDF), p in (0, 1): Abramowitz & Stegun 26.2.23 refined
 * by Halley steps on erfc to full double precision. */
double brisk_stats_normal_quantile(double p);
/* Two-sided p-value of a standard normal z: erfc(|z| / sqrt 2). */
double brisk_stats_normal_pvalue(double z);

/* ------------------------------------------------------------------ bootstrap */

typedef struct brisk_bootstrap_params {
    size_t n_resamples; /* B, default 1000 */
    uint64_t seed;      /* default 0 */
    double level;       /* confidence level of the percentile interval, default 0.95 */
} brisk_bootstrap_params;
void brisk_bootstrap_params_default(brisk_bootstrap_params *p);

typedef struct brisk_bootstrap_ci {
    double lo, hi; /* percentile interval: quantiles (1-level)/2 and (1+level)/2 */
    double se;     /* lm-eval's bootstrap_stderr: sd (ddof 1) of the B replicate means */
} brisk_bootstrap_ci;

/* Percentile bootstrap of each row's mean of x: (n_rows, n_cols) over columns (items).
 * Every resample draws n_cols column indices with replacement and the same columns serve
 * every row (paired). Identical columns are merged first, so 0/1 matrices with few
 * models cost O(n_cols) per resample. OpenMP-parallel over resamples; the result does
 * not depend on the thread count. `reps` (B x n_rows), if not NULL, receives the
 * replicate means. out: n_rows entries. */
int brisk_bootstrap_row_means(const double *x, size_t n_rows, size_t n_cols,
                              const brisk_bootstrap_params *p, brisk_bootstrap_ci *out,
                              double *reps);

/* ------------------------------------------------------------------ score matrices */

typedef enum brisk_layout {
    BRISK_LAYOUT_AUTO = 0,
    BRISK_LAYOUT_MODELS_BY_ITEMS, /* rows are models, columns are items */
    BRISK_LAYOUT_ITEMS_BY_MODELS, /* rows are items, columns are models */
    BRISK_LAYOUT_COUNT
} brisk_layout;
const char *brisk_layout_name(brisk_layout l); /* "auto", "models-by-items", ... */
/* Parses a layout name; BRISK_EINVAL (message names the value) if unknown. */
int brisk_layout_from_name(const char *s, brisk_layout *out);

typedef struct brisk_csv_options {
    brisk_layout layout; /* AUTO: the smaller dimension is the models */
    int header;          /* -1 autodetect, 0 no, 1 yes */
    int index_column;    /* -1 autodetect, 0 no, 1 yes */
} brisk_csv_options;
void brisk_csv_options_default(brisk_csv_options *o);

/* A (models x items) score matrix; every value finite. */
typedef struct brisk_matrix {
    size_t n_models, n_items;
    double *x;          /* (n_models, n_items) row-major, owned */
    char **model_names; /* n_models strings, owned ("0", "1", ... when the file has none) */
    char **item_names;  /* n_items strings, owned, or NULL when the file has none */
    int binary;         /* 1 when every value is 0 or 1 */
    /* what autodetection decided */
    brisk_layout layout;
    int header, index_column;
} brisk_matrix;

/* Reads a CSV score matrix (RFC 4180 quoting, CRLF or LF, optional UTF-8 BOM). Errors
 * name the file and line: "m.csv:17: row 17 has 40 fields, expected 41",
 * "m.csv:3: column 5: 'x' is not a number", "m.csv: empty file". */
int brisk_matrix_read_csv(const char *path, const brisk_csv_options *opt, brisk_matrix *out);
/* Copies x (n_models, n_items) into a new matrix with names "0".."n_models-1". */
int brisk_matrix_from_data(const double *x, size_t n_models, size_t n_items,
                           brisk_matrix *out);
void brisk_matrix_free(brisk_matrix *m);
/* Finds a model by exact name, else by 0-based index written as a decimal number.
 * BRISK_ENOTFOUND naming `key` otherwise. */
int brisk_matrix_find_model(const brisk_matrix *m, const char *key, size_t *out);

/* ------------------------------------------------------------------ item analysis */

typedef struct brisk_items_params {
    double low_discrimination; /* flag items whose discrimination is below this (0.2) */
    int bootstrap;             /* 1: bootstrap percentile CIs of model means (default 1) */
    brisk_bootstrap_params boot;
} brisk_items_params;
void brisk_items_params_default(brisk_items_params *p);

typedef struct brisk_model_summary {
    double mean;            /* mean score over items */
    double sd;              /* sd over items, ddof 1 */
    double se;              /* sd / sqrt(n_items) (lm-eval) */
    double ci95_half_width; /* 0/1 data: 1.96 sqrt(p(1-p)/N); otherwise 1.96 se */
    double boot_lo, boot_hi, boot_se; /* NaN when the bootstrap was not run */
    double mean_without_low; /* mean over items not flagged low-discrimination */
} brisk_model_summary;

typedef struct brisk_item_summary {
    double difficulty;     /* mean score of the item over models (fraction correct) */
    double discrimination; /* item-rest Pearson (point-biserial) correlation; NaN = null */
    int low_discrimination; /* 1 when discrimination is defined and below the threshold */
} brisk_item_summary;

typedef struct brisk_items_result {
    size_t n_models, n_items;
    brisk_model_summary *models; /* n_models, owned */
    brisk_item_summary *items;   /* n_items, owned */
    size_t n_null_discrimination; /* items (or rests) with zero variance */
    size_t n_low_discrimination;
    double mean_discrimination;   /* over defined values */
    double ranking_tau_without_low; /* tau-b of model means: all items vs flagged dropped */
    double seconds_items, seconds_bootstrap;
} brisk_items_result;

/* Per-model means, stderrs, CIs (and bootstrap CIs), per-item difficulty and item-rest
 * discrimination. Needs n_models >= 2 and n_items >= 1. Caller frees with
 * brisk_items_result_free. */
int brisk_items_analyze(const brisk_matrix *m, const brisk_items_params *p,
                        brisk_items_result *out);
void brisk_items_result_free(brisk_items_result *r);

/* ------------------------------------------------------------------ IRT */

typedef enum brisk_irt_model { BRISK_IRT_1PL = 0, BRISK_IRT_2PL, BRISK_IRT_MODEL_COUNT } brisk_irt_model;
const char *brisk_irt_model_name(brisk_irt_model m); /* "1pl", "2pl" */
int brisk_irt_model_from_name(const char *s, brisk_irt_model *out);

/* P(correct) = sigmoid(a_i theta_j - b_i), a_i = 1 for 1PL (tinyBenchmarks' form).
 * Weak Gaussian priors: theta ~ N(0, theta_sd^2), b ~ N(0, b_sd^2), a ~ N(a_mean, a_sd^2).
 * The fit is a joint MAP: three alternating block-Newton sweeps, then damped joint Newton
 * steps (Schur complement over the abilities); the log posterior never decreases. */
typedef struct brisk_irt_params {
    brisk_irt_model model;  /* default 2PL */
    double prior_theta_sd;  /* 1 */
    double prior_b_sd;      /* 3 */
    double prior_a_mean;    /* 1 */
    double prior_a_sd;      /* 1 */
    int max_iter;           /* 500 joint Newton iterations */
    double tol;             /* stop when the log posterior changes by < tol * cells (1e-10) */
} brisk_irt_params;
void brisk_irt_params_default(brisk_irt_params *p);

typedef struct brisk_irt_fit {
    brisk_irt_model model;
    size_t n_models, n_items;
    double *theta; /* n_models abilities, owned */
    double *a;     /* n_items discriminations (all 1 for 1PL), owned */
    double *b;     /* n_items difficulties, owned */
    double log_lik;  /* Bernoulli log-likelihood of the observed cells */
    double log_post; /* log_lik + log priors (up to a constant) */
    int iterations, converged;
} brisk_irt_fit;

/* Fits IRT to x: (n_models, n_items), values in [0, 1] (fractions act as soft labels).
 * mask: NULL (all observed) or (n_models, n_items) with 1 = observed. `init`, if not
 * NULL and of the same shape, warm-starts the fit. Caller frees with brisk_irt_fit_free. */
int brisk_irt_fit_matrix(const double *x, const uint8_t *mask, size_t n_models,
                         size_t n_items, const brisk_irt_params *p, const brisk_irt_fit *init,
                         brisk_irt_fit *out);
void brisk_irt_fit_free(brisk_irt_fit *f);
double brisk_irt_prob(const brisk_irt_fit *f, size_t model, size_t item);
/* MAP ability of a new respondent from its scores y on items idx[0..n-1] given fixed item
 * parameters (prior N(0, prior_theta_sd^2)). */
double brisk_irt_ability(const brisk_irt_fit *f, const double *y, const size_t *idx, size_t n,
                         double prior_theta_sd);

typedef struct brisk_irt_report_params {
    brisk_irt_params irt;
    double holdout;    /* fraction of cells held out for the prediction check (0.1) */
    size_t n_anchors;  /* p-IRT anchor items (100; 0 skips p-IRT) */
    size_t n_folds;    /* p-IRT cross-validation folds over models (5; model j in fold j % F) */
    uint64_t seed;     /* held-out cells and anchors (Philox) */
} brisk_irt_report_params;
void brisk_irt_report_params_default(brisk_irt_report_params *p);

typedef struct brisk_irt_model_row {
    double theta;           /* ability in the fit on all cells */
    double anchor_theta;    /* ability from the anchors, items fitted without this model */
    double observed_mean;   /* true full-benchmark mean */
    double anchor_mean;     /* mean over anchor items only */
    double pirt_estimate;   /* p-IRT: lambda anchor_mean + (1-lambda) mean predicted unseen */
} brisk_irt_model_row;

typedef struct brisk_irt_report {
    brisk_irt_fit fit;                /* on all cells */
    size_t n_heldout;
    double heldout_log_lik;           /* mean per held-out cell, model fitted without them */
    double heldout_log_lik_baseline;  /* same for P = the item's observed training mean */
    double heldout_accuracy;          /* fraction of held-out cells with (P > 0.5) == (y > 0.5) */
    size_t n_anchors, n_folds;
    brisk_irt_model_row *models;      /* n_models, owned */
    double pirt_mae, anchor_mae;      /* mean |estimate - observed mean| over models */
    double seconds_fit, seconds_heldout, seconds_pirt;
} brisk_irt_report;

/* Full fit, held-out prediction log-likelihood, and cross-validated p-IRT (for each fold
 * of models: item parameters fitted on the other models, each held-out model's ability
 * from its anchor items only, Polo et al. 2024, tinyBenchmarks). Needs n_models >= 2;
 * values must lie in [0, 1]. */
int brisk_irt_report_run(const brisk_matrix *m, const brisk_irt_report_params *p,
                         brisk_irt_report *out);
void brisk_irt_report_free(brisk_irt_report *r);

/* ------------------------------------------------------------------ paired comparison */

typedef struct brisk_compare_params {
    double seed_sd;   /* seed standard deviation of the metric (0: none known) */
    size_t n_seeds_a, n_seeds_b; /* seeds averaged per model (1) */
    double alpha;     /* two-sided test level for the MDD (0.05) */
    double power;     /* power for the MDD (0.8) */
    int bootstrap;    /* 1: bootstrap percentile CI of the mean difference */
    brisk_bootstrap_params boot;
} brisk_compare_params;
void brisk_compare_params_default(brisk_compare_params *p);

typedef struct brisk_compare_result {
    size_t n;
    double mean_a, mean_b;
    double mean_diff;         /* mean(a - b) */
    double se;                /* paired: sd(a - b, ddof 1) / sqrt(n) */
    double se_unpaired;       /* sqrt(se_a^2 + se_b^2) */
    double ci95_lo, ci95_hi;  /* mean_diff -+ 1.96 se */
    double z, p_value;        /* normal approximation */
    double boot_lo, boot_hi;  /* NaN unless bootstrapped */
    double mdd;               /* (z_{1-alpha/2} + z_power) sqrt(se^2 + seed_sd^2 (1/k_a + 1/k_b)) */
    double correlation;       /* Pearson r of a and b over items */
} brisk_compare_result;

/* Paired comparison of two models on the same n items. */
int brisk_compare_paired(const double *a, const double *b, size_t n,
                         const brisk_compare_params *p, brisk_compare_result *out);
/* Unpaired comparison from summary values (mean, se) only; mdd as above. */
void brisk_compare_summary(double mean_a, double se_a, double mean_b, double se_b,
                           const brisk_compare_params *p, brisk_compare_result *out);

/* ------------------------------------------------------------------ series over checkpoints */

/* Seed variance and monotonicity of one model over checkpoints (Madaan et al. sec. 3).
 * values: (n_seeds, n_steps) row-major, NaN where a seed lacks a step. */
typedef struct brisk_series_stats {
    double seed_sd;          /* mean over steps (with >= 2 seeds) of the sd across seeds */
    size_t n_steps_with_seeds;
    double final_mean;       /* mean over seeds at the last step */
    double final_sd;         /* sd over seeds at the last step */
    double snr;              /* final_mean / final_sd; NaN if < 2 seeds or sd == 0 */
    double monotonicity;     /* mean over seeds of tau-b(steps, values); sign flipped when
                                lower is better */
    double tau_b_mean;       /* mean over seeds of the raw tau-b */
} brisk_series_stats;
/* steps: n_steps checkpoint positions (any increasing order key). ddof for the seed sd
 * (default 1 in the CLI). tau_out (n_seeds, may be NULL) receives each seed's raw tau-b. */
int brisk_series_analyze(const double *steps, const double *values, size_t n_seeds,
                         size_t n_steps, int ddof, int higher_is_better,
                         brisk_series_stats *out, double *tau_out);
/* 1 for metric names where lower is better (perplexity, ppl, loss, bits_per_byte,
 * likelihood_difference, ...), else 0. */
int brisk_metric_lower_is_better(const char *metric);
/* 1 when a metric is continuous by name (prob, prob_norm, logprob, perplexities...). */
int brisk_metric_is_continuous(const char *metric);

/* ------------------------------------------------------------------ lm-evaluation-harness */

/* One metric of one task from a results JSON. */
typedef struct brisk_lm_metric {
    char *task, *metric; /* metric without the ",filter" suffix */
    char *filter;        /* "none" style filter, or NULL in the old format */
    double value, se;    /* se NaN when no <metric>_stderr */
    double n;            /* sample count ("n-samples"), NaN when unknown */
} brisk_lm_metric;

typedef struct brisk_lm_results {
    long step;                /* from "_step<N>" in the file name, -1 if none */
    size_t n;
    brisk_lm_metric *metrics; /* owned */
} brisk_lm_results;

/* Reads an lm-eval results JSON (old format: results -> task -> {acc, acc_stderr}; new
 * format: "acc,none", "acc_stderr,none", "n-samples"). */
int brisk_lmeval_read_results(const char *path, brisk_lm_results *out);
void brisk_lm_results_free(brisk_lm_results *r);
/* Looks up task + metric ("acc" or "acc,none"). BRISK_ENOTFOUND naming the file, task and
 * metric otherwise. */
int brisk_lm_results_find(const brisk_lm_results *r, const char *path, const char *task,
                          const char *metric, const brisk_lm_metric **out);
/* Number of items behind a binary metric when the file does not say: the inverse of
 * lm-eval's stderr, p (1 - p) / se^2 + 1, rounded; NaN when p or se is degenerate. */
double brisk_lm_infer_n(double p, double se);

/* Per-sample log (samples_<task>_<date>.jsonl from --log_samples). */
typedef struct brisk_lm_samples {
    char *task;          /* from the file name (or as given) */
    char *filter;        /* the filter whose rows were read */
    size_t n_docs;
    long *doc_id;        /* n_docs, in file order */
    size_t n_metrics;
    char **metric_names; /* logged metrics, then derived: prob, prob_norm, logprob */
    double *values;      /* (n_metrics, n_docs) */
    size_t n_other_filter_rows; /* rows of other filters that were skipped */
    size_t n_acc_mismatch;      /* docs whose logged acc differs from argmax of the lls */
} brisk_lm_samples;

/* Reads the rows of `filter` (NULL: the first row's filter). Log-likelihoods in resps /
 * filtered_resps may be strings "(-1.23, False)", ["-1.23", "False"] or numbers. Derived
 * continuous metrics, when every doc has >= 2 parseable choice log-likelihoods and a gold
 * index: prob = softmax(ll)[gold], prob_norm = softmax(ll / len)[gold] with len the
 * choice length in characters (as acc_norm), logprob = ll[gold]. Errors name file:line:
 * duplicate doc_id, missing metric field, malformed JSON, empty file. */
int brisk_lmeval_read_samples(const char *path, const char *filter, brisk_lm_samples *out);
void brisk_lm_samples_free(brisk_lm_samples *s);
/* Column of a metric ("acc" or "acc,<filter>"); BRISK_ENOTFOUND naming path and metric. */
int brisk_lm_samples_metric(const brisk_lm_samples *s, const char *path, const char *metric,
                            const double **out);
/* Task name from "samples_<task>_<timestamp>.jsonl"; newly allocated. */
char *brisk_lm_task_from_samples_path(const char *path);
/* Checkpoint step from "..._step<N>..." in the file name, else -1. */
long brisk_step_from_path(const char *path);

/* ------------------------------------------------------------------ run manifests */

typedef struct brisk_manifest_entry {
    char *file;  /* resolved against the manifest's directory */
    char *model;
    long seed;
    long step;   /* -1: take it from the file name */
    char *task;  /* optional (JSONL logs), NULL otherwise */
} brisk_manifest_entry;

typedef struct brisk_manifest {
    size_t n;
    brisk_manifest_entry *e; /* owned */
} brisk_manifest;

/* Reads a manifest: CSV with a header naming the columns file, model, seed, step
 * (optional: task), or JSON {"runs": [{"file", "model", "seed", "step"}]}. Relative paths
 * are resolved against the manifest's folder; a missing step is taken from the file name.
 * Errors name file:line and the column/key. */
int brisk_manifest_read(const char *path, brisk_manifest *out);
/* Appends an entry (strings copied). */
int brisk_manifest_add(brisk_manifest *m, const char *file, const char *model, long seed,
                       long step, const char *task);
void brisk_manifest_free(brisk_manifest *m);

/* ------------------------------------------------------------------ analyses of runs */

/* One (task, metric) analysed over the runs of a manifest: per model, its seeds' series
 * over checkpoints, seed variance, SNR, monotonicity; and pairwise comparisons at the
 * final checkpoint (paired over items when per-sample logs exist). */
typedef struct brisk_runs_params {
    const char *tasks;   /* comma-separated list or fnmatch patterns; NULL: all common */
    const char *metrics; /* comma-separated; NULL: every metric of each task */
    const char *filter;  /* JSONL filter; NULL: first */
    const char *group;   /* if set, also a task of this name aggregating the selected tasks
                            as lm-eval groups do: size-weighted mean, pooled stderr */
    int ddof;            /* seed sd ddof (1) */
    int lower_is_better; /* -1 by metric name, 0, 1 */
    int compare;         /* 1: pairwise model comparisons at the final step */
    brisk_compare_params cmp;
} brisk_runs_params;
void brisk_runs_params_default(brisk_runs_params *p);

/* Builds the analysis as a JSON document (the documented contract of `brisk variance
 * checkpoints` and `report`, docs/variance.md). `command` is stored in the document.
 * Caller frees with cJSON_Delete. */
int brisk_runs_analyze(const brisk_manifest *m, const brisk_runs_params *p,
                       const char *command, cJSON **out);

/* JSON documents of the other commands (the documented contract). */
cJSON *brisk_items_to_json(const brisk_matrix *m, const brisk_items_result *r,
                           const brisk_items_params *p);
cJSON *brisk_irt_report_to_json(const brisk_matrix *m, const brisk_irt_report *r,
                                const brisk_irt_report_params *p);
cJSON *brisk_compare_to_json(const char *name_a, const char *name_b,
                             const brisk_compare_result *r, const brisk_compare_params *p);

#ifdef __cplusplus
}
#endif
#endif
