/* Gaussian statistics of feature sets and the Fréchet distance between two Gaussians.
 *
 * FD (Dowson & Landau 1982, used as FID by Heusel et al. 2017):
 *     d^2 = ||mu1 - mu2||^2 + tr S1 + tr S2 - 2 tr sqrt(S1 S2).
 * pytorch-fid (calculate_frechet_distance) takes scipy.linalg.sqrtm of the non-symmetric
 * product S1 S2. brisk uses symmetric eigendecompositions instead: with S1 = V L V^T and
 * B = L^{1/2} V^T, the symmetric PSD matrix M = B S2 B^T is orthogonally similar to
 * sqrt(S1) S2 sqrt(S1) = V M V^T, whose eigenvalues are those of S1 S2, so
 *     tr sqrt(S1 S2) = sum_i sqrt(eig_i(M)).
 * Eigenvalues of S1 and M below zero can only come from rounding or from rank-deficient
 * covariances (N <= D); their exact value is zero, so they are clipped to zero and
 * counted in brisk_fd_terms. One below -1e-6 of the largest cannot come from rounding:
 * the matrix is not a covariance, and that is an error.
 */
#include "metrics/metrics_impl.h"

#include "brisk/json.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* LAPACK (OpenBLAS ships it): symmetric eigendecomposition, divide and conquer. The two
 * trailing arguments are the hidden lengths of the Fortran character arguments. */
/* Relative size of a negative eigenvalue that rounding cannot explain. */
#define NOT_PSD 1e-6

extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
                    double *w, double *work, const int *lwork, int *iwork, const int *liwork,
                    int *info, size_t jobz_len, size_t uplo_len);

int metrics_eigh(double *a, int n, double *w, int vectors, const char *what) {
    const char jobz = vectors ? 'V' : 'N', uplo = 'U';
    int lwork = -1, liwork = -1, info = 0, iwq = 0;
    double wq = 0;
    dsyevd_(&jobz, &uplo, &n, a, &n, w, &wq, &lwork, &iwq, &liwork, &info, 1, 1);
    if (info) return brisk_error(BRISK_ENUMERIC, "%s: LAPACK dsyevd workspace query failed (info %d)", what, info);
    lwork = (int)wq + 1;
    liwork = iwq > 0 ? iwq : 1;
    double *work = brisk_malloc((size_t)lwork * sizeof *work);
    int *iwork = brisk_malloc((size_t)liwork * sizeof *iwork);
    int rc = 0;
    if (!work || !iwork) {
        rc = BRISK_ENOMEM;
    } else {
        dsyevd_(&jobz, &uplo, &n, a, &n, w, work, &lwork, iwork, &liwork, &info, 1, 1);
        if (info)
            rc = brisk_error(BRISK_ENUMERIC, "%s: eigendecomposition did not converge (LAPACK dsyevd info %d)",
                             what, info);
    }
    brisk_free(work);
    brisk_free(iwork);
    return rc;
}

static void stats_set_name(brisk_gauss_stats *s, const char *name) {
    snprintf(s->name, sizeof s->name, "%s", name ? name : "statistics");
}

static int stats_alloc(brisk_gauss_stats *s, size_t d) {
    s->dim = d;
    s->mu = brisk_calloc(d, sizeof(double));
    s->sigma = brisk_calloc(d * d, sizeof(double));
    if (!s->mu || !s->sigma) {
        brisk_gauss_stats_free(s);
        return BRISK_ENOMEM;
    }
    return 0;
}

void brisk_gauss_stats_free(brisk_gauss_stats *s) {
    if (!s) return;
    brisk_free(s->mu);
    brisk_free(s->sigma);
    s->mu = s->sigma = NULL;
    s->dim = s->n = 0;
}

int brisk_gauss_stats_compute(const brisk_features *x, brisk_gauss_stats *out) {
    BRISK_ASSERT(x && out);
    memset(out, 0, sizeof *out);
    int rc = metrics_check_features(x, 2, "the covariance");
    if (rc) return rc;
    size_t d = x->dim, n = x->n;
    if ((rc = stats_alloc(out, d))) return rc;
    out->n = n;
    stats_set_name(out, feat_name(x));
    size_t bs = METRICS_ROW_BLOCK;
    double *blk = brisk_malloc(bs * d * sizeof *blk);
    if (!blk) {
        brisk_gauss_stats_free(out);
        return BRISK_ENOMEM;
    }
    metrics_mean(x, out->mu);
    /* Centred second moment, accumulated block by block in the upper triangle. */
    for (size_t r0 = 0; r0 < n; r0 += bs) {
        size_t m = n - r0 < bs ? n - r0 : bs;
        size_t rows[METRICS_ROW_BLOCK];
        for (size_t r = 0; r < m; r++) rows[r] = r0 + r;
        metrics_gather_f64(x, rows, m, out->mu, blk);
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)m, 1.0, blk, (int)d,
                    r0 ? 1.0 : 0.0, out->sigma, (int)d);
    }
    brisk_free(blk);
    double inv = 1.0 / (double)(n - 1); /* ddof = 1, as np.cov */
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++) {
            double v = out->sigma[i * d + j] * inv;
            out->sigma[i * d + j] = out->sigma[j * d + i] = v;
        }
    return 0;
}

int brisk_gauss_stats_save(const char *dir, const brisk_gauss_stats *s, const char *source) {
    BRISK_ASSERT(dir && s && s->mu && s->sigma);
    int rc = brisk_mkdir_p(dir);
    if (rc) return rc;
    size_t plen = strlen(dir) + 32;
    char *path = brisk_malloc(plen);
    if (!path) return BRISK_ENOMEM;
    size_t shp[2] = {s->dim, s->dim};
    snprintf(path, plen, "%s/mu.npy", dir);
    rc = brisk_npy_write_f64(path, s->mu, 1, shp);
    if (!rc) {
        snprintf(path, plen, "%s/sigma.npy", dir);
        rc = brisk_npy_write_f64(path, s->sigma, 2, shp);
    }
    if (!rc) {
        cJSON *doc = cJSON_CreateObject();
        if (!doc || !cJSON_AddStringToObject(doc, "format", "brisk-gauss-stats") ||
            !cJSON_AddNumberToObject(doc, "version", 1) ||
            !cJSON_AddNumberToObject(doc, "n", (double)s->n) ||
            !cJSON_AddNumberToObject(doc, "dim", (double)s->dim) ||
            !cJSON_AddNumberToObject(doc, "ddof", 1) ||
            !cJSON_AddStringToObject(doc, "source", source ? source : "")) {
            rc = brisk_error(BRISK_ENOMEM, "%s: out of memory building stats.json", dir);
        } else {
            snprintf(path, plen, "%s/stats.json", dir);
            rc = brisk_json_write_file(path, doc);
        }
        cJSON_Delete(doc);
    }
    brisk_free(path);
    return rc;
}

/* Reads dir/name into a float64 array. */
static int load_f64(const char *dir, const char *name, brisk_array *a, char *path, size_t plen) {
    snprintf(path, plen, "%s/%s", dir, name);
    int rc = brisk_npy_read(path, a);
    if (rc) return rc;
    if (a->dtype != BRISK_F32 && a->dtype != BRISK_F64) {
        brisk_array_free(a);
        return brisk_error(BRISK_EUNSUPPORTED, "%s: expected float32 or float64, got %s", path,
                           brisk_dtype_name(a->dtype));
    }
    return brisk_array_convert(a, BRISK_F64);
}

int brisk_gauss_stats_load(const char *dir, brisk_gauss_stats *out) {
    BRISK_ASSERT(dir && out);
    memset(out, 0, sizeof *out);
    size_t plen = strlen(dir) + 32;
    char *path = brisk_malloc(plen);
    if (!path) return BRISK_ENOMEM;
    brisk_array mu = {0}, sg = {0};
    cJSON *doc = NULL;
    int rc = load_f64(dir, "mu.npy", &mu, path, plen);
    if (!rc) rc = load_f64(dir, "sigma.npy", &sg, path, plen);
    if (rc) goto done;
    size_t d = mu.shape[0];
    if (mu.ndim != 1 || d == 0) {
        rc = brisk_error(BRISK_ESHAPE, "%s/mu.npy: expected a non-empty 1-D array", dir);
        goto done;
    }
    if (sg.ndim != 2 || sg.shape[0] != d || sg.shape[1] != d) {
        rc = brisk_error(BRISK_ESHAPE, "%s/sigma.npy: expected shape (%zu, %zu) to match mu.npy", dir, d, d);
        goto done;
    }
    const double *m = mu.data, *s = sg.data;
    double smax = 0;
    for (size_t i = 0; i < d * d; i++) {
        if (!isfinite(s[i]) || (i < d && !isfinite(m[i]))) {
            rc = brisk_error(BRISK_ENUMERIC, "%s: non-finite value in %s", dir,
                             isfinite(s[i]) ? "mu.npy" : "sigma.npy");
            goto done;
        }
        if (fabs(s[i]) > smax) smax = fabs(s[i]);
    }
    for (size_t i = 0; i < d; i++)
        for (size_t j = i + 1; j < d; j++)
            if (fabs(s[i * d + j] - s[j * d + i]) > 1e-6 * smax) {
                rc = brisk_error(BRISK_EINVAL, "%s/sigma.npy: not symmetric (entries (%zu,%zu) and (%zu,%zu) differ)",
                                 dir, i, j, j, i);
                goto done;
            }
    snprintf(path, plen, "%s/stats.json", dir);
    struct stat st;
    long n = 0;
    if (stat(path, &st) == 0) {
        long dim = 0;
        const char *fmt = NULL;
        if ((rc = brisk_json_read_file(path, &doc))) goto done;
        if ((rc = brisk_json_get_string(doc, "format", "brisk-gauss-stats", &fmt, path))) goto done;
        if (strcmp(fmt, "brisk-gauss-stats")) {
            rc = brisk_error(BRISK_EPARSE, "%s: format '%s' is not brisk-gauss-stats", path, fmt);
            goto done;
        }
        if ((rc = brisk_json_get_int(doc, "n", 0, &n, path)) ||
            (rc = brisk_json_get_int(doc, "dim", (long)d, &dim, path)))
            goto done;
        if (dim != (long)d || n < 0) {
            rc = brisk_error(BRISK_ESHAPE, "%s: dim %ld (n %ld) does not match mu.npy (%zu)", path, dim, n, d);
            goto done;
        }
    }
    if ((rc = stats_alloc(out, d))) goto done;
    out->n = (size_t)n;
    memcpy(out->mu, m, d * sizeof(double));
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) out->sigma[i * d + j] = 0.5 * (s[i * d + j] + s[j * d + i]);
    stats_set_name(out, dir);
done:
    cJSON_Delete(doc);
    brisk_array_free(&mu);
    brisk_array_free(&sg);
    brisk_free(path);
    return rc;
}

int brisk_frechet_distance(const brisk_gauss_stats *a, const brisk_gauss_stats *b, double *fd,
                           brisk_fd_terms *terms) {
    BRISK_ASSERT(a && b && fd);
    if (!a->mu || !a->sigma || !b->mu || !b->sigma || a->dim == 0 || b->dim == 0)
        return brisk_error(BRISK_EINVAL, "Fréchet distance: statistics of %s or %s are empty",
                           a->name[0] ? a->name : "first input", b->name[0] ? b->name : "second input");
    if (a->dim != b->dim)
        return brisk_error(BRISK_ESHAPE, "Fréchet distance: dimensions differ: %s has %zu, %s has %zu",
                           a->name, a->dim, b->name, b->dim);
    if (a->dim > 46340) return brisk_error(BRISK_EINVAL, "Fréchet distance: dimension %zu too large", a->dim);
    size_t d = a->dim;
    brisk_fd_terms t = {0};
    for (size_t i = 0; i < d; i++) {
        double diff = a->mu[i] - b->mu[i];
        t.mean_term += diff * diff;
        t.trace1 += a->sigma[i * d + i];
        t.trace2 += b->sigma[i * d + i];
    }
    double *e = brisk_malloc(d * d * sizeof *e), *tmp = brisk_malloc(d * d * sizeof *tmp);
    double *mm = brisk_malloc(d * d * sizeof *mm), *w = brisk_malloc(d * sizeof *w);
    int rc = 0;
    if (!e || !tmp || !mm || !w) {
        rc = BRISK_ENOMEM;
        goto done;
    }
    memcpy(e, a->sigma, d * d * sizeof *e);
    if ((rc = metrics_eigh(e, (int)d, w, 1, a->name))) goto done;
    double lmax = fabs(w[d - 1]) > fabs(w[0]) ? fabs(w[d - 1]) : fabs(w[0]);
    if (w[0] < -NOT_PSD * lmax) {
        rc = brisk_error(BRISK_EINVAL, "%s: covariance is not positive semi-definite (eigenvalue %g, largest %g)",
                         a->name, w[0], lmax);
        goto done;
    }
    /* B = L^{1/2} V^T: row j of e is eigenvector j; scale it by sqrt(lambda_j). */
    for (size_t j = 0; j < d; j++) {
        double l = w[j];
        if (l < 0) {
            t.n_clipped++;
            if (lmax > 0 && l / lmax < t.min_eig) t.min_eig = l / lmax;
            l = 0;
        }
        double s = sqrt(l);
        for (size_t i = 0; i < d; i++) e[j * d + i] *= s;
    }
    /* M = B S2 B^T, symmetrised against rounding. */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)d, (int)d, 1.0, e, (int)d,
                b->sigma, (int)d, 0.0, tmp, (int)d);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)d, (int)d, (int)d, 1.0, tmp, (int)d,
                e, (int)d, 0.0, mm, (int)d);
    for (size_t i = 0; i < d; i++)
        for (size_t j = i + 1; j < d; j++) {
            double v = 0.5 * (mm[i * d + j] + mm[j * d + i]);
            mm[i * d + j] = mm[j * d + i] = v;
        }
    if ((rc = metrics_eigh(mm, (int)d, w, 0, "Fréchet distance: sqrt(S1) S2 sqrt(S1)"))) goto done;
    lmax = fabs(w[d - 1]) > fabs(w[0]) ? fabs(w[d - 1]) : fabs(w[0]);
    if (w[0] < -NOT_PSD * lmax) {
        rc = brisk_error(BRISK_EINVAL, "%s: covariance is not positive semi-definite (sqrt(S1) S2 sqrt(S1) has eigenvalue %g, largest %g)",
                         b->name, w[0], lmax);
        goto done;
    }
    for (size_t j = 0; j < d; j++) {
        if (w[j] < 0) {
            t.n_clipped++;
            if (lmax > 0 && w[j] / lmax < t.min_eig) t.min_eig = w[j] / lmax;
            continue;
        }
        t.trace_sqrt += sqrt(w[j]);
    }
    *fd = t.mean_term + t.trace1 + t.trace2 - 2.0 * t.trace_sqrt;
    if (!isfinite(*fd))
        rc = brisk_error(BRISK_ENUMERIC, "Fréchet distance between %s and %s is not finite", a->name, b->name);
    if (terms) *terms = t;
done:
    brisk_free(e);
    brisk_free(tmp);
    brisk_free(mm);
    brisk_free(w);
    return rc;
}

int brisk_frechet_distance_features(const brisk_features *x, const brisk_features *y, double *fd) {
    BRISK_ASSERT(x && y && fd);
    int rc = metrics_check_same_dim(x, y);
    if (rc) return rc;
    brisk_gauss_stats sx, sy;
    if ((rc = brisk_gauss_stats_compute(x, &sx))) return rc;
    if ((rc = brisk_gauss_stats_compute(y, &sy))) {
        brisk_gauss_stats_free(&sx);
        return rc;
    }
    rc = brisk_frechet_distance(&sx, &sy, fd, NULL);
    brisk_gauss_stats_free(&sx);
    brisk_gauss_stats_free(&sy);
    return rc;
}
