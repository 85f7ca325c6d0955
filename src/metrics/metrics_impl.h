/* Internal helpers shared by the metrics module (src/metrics/). */
#ifndef BRISK_METRICS_IMPL_H
#define BRISK_METRICS_IMPL_H

#include "brisk/core.h"
#include "brisk/metrics.h"

#include <cblas.h>
#include <stddef.h>
#include <stdint.h>

#ifdef BRISK_OPENMP
#include <omp.h>
#define METRICS_OMP(directive) _Pragma(directive)
#else
#define METRICS_OMP(directive)
#endif

/* Threading, as elsewhere in brisk (src/nn/ops.c, src/ot/semidiscrete.c): OpenMP threads
 * over independent blocks, each calling single-threaded BLAS; OpenBLAS's own threads are
 * switched off meanwhile, since both pools spinning on 2 cores costs a factor ~10. */
static inline int metrics_threads(void) {
    int n = brisk_get_num_threads();
    return n > 0 ? n : 1;
}
/* Threads worth using for `flops` of work split into `parts` independent pieces: below
 * ~1e7 flops a parallel region costs more than it saves (and much more on a loaded
 * machine, where a descheduled partner thread stalls the region). */
static inline int metrics_threads_for(double flops, size_t parts) {
    int nt = metrics_threads();
    if (flops < 1e7 || parts < 2) return 1;
    return (size_t)nt > parts ? (int)parts : nt;
}
static inline int metrics_thread_id(void) {
#ifdef BRISK_OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}
static inline int metrics_blas_enter(int nt) {
    int prev = openblas_get_num_threads();
    if (nt > 1 && prev != 1) openblas_set_num_threads(1);
    return prev;
}
static inline void metrics_blas_leave(int nt, int prev) {
    if (nt > 1 && prev != 1) openblas_set_num_threads(prev);
}

/* Streams of the metrics module (purpose BRISK_RNG_MC). */
#define METRICS_STREAM_KID 0x100 /* + set: 0 real, 1 generated */
#define METRICS_STREAM_BOOT 0x200

/* Rows per block in the blocked distance / kernel computations. */
#define METRICS_ROW_BLOCK 256
#define METRICS_COL_BLOCK 2048

static inline const char *feat_name(const brisk_features *f) {
    return f && f->name ? f->name : "features";
}

/* Element (i, j) of a feature matrix as a double. */
static inline double feat_at(const brisk_features *f, size_t i, size_t j) {
    return f->dtype == BRISK_F32 ? (double)((const float *)f->data)[i * f->dim + j]
                                 : ((const double *)f->data)[i * f->dim + j];
}

/* Checks a feature set: non-NULL data, float dtype, n >= min_n (message says `need`,
 * e.g. "the covariance"), dim >= 1, all values finite. */
int metrics_check_features(const brisk_features *f, size_t min_n, const char *need);

/* Checks that two feature sets have the same dimension (BRISK_ESHAPE naming both). */
int metrics_check_same_dim(const brisk_features *a, const brisk_features *b);

/* Copies rows[0..m-1] (or rows 0..m-1 when rows == NULL) of f into dst (m, dim) as
 * doubles, subtracting `center` (dim) when not NULL. */
void metrics_gather_f64(const brisk_features *f, const size_t *rows, size_t m,
                        const double *center, double *dst);
/* Same into float32. */
void metrics_gather_f32(const brisk_features *f, size_t r0, size_t m, const double *center,
                        float *dst);

/* Column means of f (dim doubles). */
void metrics_mean(const brisk_features *f, double *mu);

/* Eigenvalues (ascending) of the symmetric n x n matrix a (row- or column-major: it is
 * symmetric); with vectors != 0, a is overwritten with the eigenvectors, eigenvector j
 * in a[j*n .. j*n+n-1]. LAPACK dsyevd. `what` names the matrix in errors. */
int metrics_eigh(double *a, int n, double *w, int vectors, const char *what);

/* Indices of subset `subset` of size m drawn without replacement from 0..n-1 for set
 * `which` (partial Fisher-Yates on Philox words). idx: n scratch entries, the first m
 * hold the subset on return; words: m scratch entries. */
void metrics_subset_indices(uint64_t seed, uint64_t subset, unsigned which, size_t n, size_t m,
                            size_t *idx, uint32_t *words);

/* Regularized upper incomplete gamma Q(a, x) (chi-square tail: Q(dof/2, chi2/2)). */
double metrics_gamma_q(double a, double x);

#endif
