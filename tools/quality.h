/* Shared by `brisk eval` and `brisk bench quality`: the classifier, the reference side
 * (precomputed test-set statistics, real test-set features), per-seed metrics and their
 * summary over seeds. */
#ifndef BRISK_TOOLS_QUALITY_H
#define BRISK_TOOLS_QUALITY_H

#include "brisk/eval.h"
#include "brisk/metrics.h"

#include <cjson/cJSON.h>

#define QUALITY_DEFAULT_CLASSIFIER "models/fmnist-classifier"
#define QUALITY_STATS_SUBDIR "fmnist-test-stats"

typedef struct quality_ctx {
    brisk_classifier *clf;
    size_t feature_dim, n_classes, image_dim;
    brisk_gauss_stats stats; /* reference statistics (FD) */
    int have_stats;
    float *real;             /* (n_real, feature_dim) test-set features (KID, PR) */
    size_t n_real;
    double *radii;           /* k-NN radii of `real` for pr_k */
    brisk_features realf;
    brisk_quality_params qp;
    char stats_dir[1024];
    char clf_dir[1024];
} quality_ctx;

/* Loads the classifier from clf_dir, the statistics from stats_dir (NULL: clf_dir/
 * fmnist-test-stats), and, if KID or PR are selected, embeds the first real_num
 * Fashion-MNIST test images. Exits with a clear error on failure. */
void quality_ctx_init(quality_ctx *q, const char *clf_dir, const char *stats_dir, size_t real_num,
                      unsigned metrics, int quiet);
void quality_ctx_free(quality_ctx *q);

/* Embeds n images and computes the selected metrics into a new JSON object (caller owns).
 * Exits on error, naming `what`. */
cJSON *quality_measure(quality_ctx *q, const float *images, size_t n, const char *what);

/* Adds "summary" to `obj`: for each scalar metric present in every entry of per_seed
 * (fd, kid, precision, recall, class tv, mmr at each tau, seconds): mean, sd (ddof 1),
 * and a 95% percentile bootstrap CI of the mean over seeds (n_boot resamples; null with
 * fewer than 2 seeds). */
void quality_summarize(cJSON *obj, const cJSON *per_seed, size_t n_boot);

/* Parses "0,1,2" or a count "3" (= 0,1,2) into seeds (at most max); returns the count. */
size_t quality_parse_seeds(const char *opt, const char *s, unsigned long long *seeds, size_t max);

#endif

/* `brisk bench quality` (tools/bench_quality.c). */
int bench_quality(int argc, char **argv);
