/* Improved precision and recall (Kynkäänniemi et al., "Improved Precision and Recall
 * Metric for Assessing Generative Models", NeurIPS 2019). Each set's manifold is the
 * union of balls around its samples with radius = distance to the k-th nearest neighbour
 * within the set (k = 3 in the paper; the sample itself excluded). precision = fraction
 * of generated samples inside the real manifold, recall = fraction of real samples inside
 * the generated manifold; "inside" is distance <= radius, as in the authors' code.
 *
 * Squared distances come from ||a||^2 + ||b||^2 - 2 a.b with the dot products from
 * cblas_sgemm on float32 copies, in blocks of METRICS_ROW_BLOCK x METRICS_COL_BLOCK.
 * Both sets are first centred on the mean of the reference set (distances do not change),
 * which keeps the cancellation in that formula small when features share a large offset.
 */
#include "metrics/metrics_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Float32 centred copy of f and its squared row norms (in double). */
static int prep(const brisk_features *f, const double *center, float **xf, double **norms) {
    size_t n = f->n, d = f->dim;
    *xf = brisk_malloc(n * d * sizeof **xf);
    *norms = brisk_malloc(n * sizeof **norms);
    if (!*xf || !*norms) return BRISK_ENOMEM;
    metrics_gather_f32(f, 0, n, center, *xf);
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t j = 0; j < d; j++) s += (double)(*xf)[i * d + j] * (*xf)[i * d + j];
        (*norms)[i] = s;
    }
    return 0;
}

/* buf (rm, cm) = q[r0 .. r0+rm) . r[c0 .. c0+cm)^T */
static void dots(const float *q, size_t r0, size_t rm, const float *r, size_t c0, size_t cm,
                 size_t d, float *buf) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rm, (int)cm, (int)d, 1.0f,
                q + r0 * d, (int)d, r + c0 * d, (int)d, 0.0f, buf, (int)cm);
}

int brisk_knn_radii(const brisk_features *x, size_t k, double *radii) {
    BRISK_ASSERT(x && radii);
    if (k < 1) return brisk_error(BRISK_EINVAL, "%s: k-NN radii need k >= 1", feat_name(x));
    char need[64];
    snprintf(need, sizeof need, "the k-NN radius with k = %zu", k);
    int rc = metrics_check_features(x, k + 1, need);
    if (rc) return rc;
    if (x->n > (size_t)1 << 31) return brisk_error(BRISK_EINVAL, "%s: too many samples", feat_name(x));
    size_t n = x->n, d = x->dim;
    float *xf = NULL, *buf = NULL;
    double *norms = NULL, *best = NULL, *mu = brisk_malloc(d * sizeof *mu);
    if (!mu) return BRISK_ENOMEM;
    metrics_mean(x, mu);
    if ((rc = prep(x, mu, &xf, &norms))) goto done;
    size_t nrb = (n + METRICS_ROW_BLOCK - 1) / METRICS_ROW_BLOCK;
    int nt = metrics_threads_for(2.0 * (double)n * (double)n * (double)d, nrb);
    buf = brisk_malloc((size_t)nt * METRICS_ROW_BLOCK * METRICS_COL_BLOCK * sizeof *buf);
    best = brisk_malloc((size_t)nt * METRICS_ROW_BLOCK * k * sizeof *best);
    if (!buf || !best) {
        rc = BRISK_ENOMEM;
        goto done;
    }
    int prev = metrics_blas_enter(nt);
    /* Row blocks are independent: each thread owns a Gram tile and its rows' k best. */
    METRICS_OMP("omp parallel for num_threads(nt) schedule(dynamic, 1)")
    for (size_t rb = 0; rb < nrb; rb++) {
        int tid = metrics_thread_id();
        float *g = buf + (size_t)tid * METRICS_ROW_BLOCK * METRICS_COL_BLOCK;
        double *bb = best + (size_t)tid * METRICS_ROW_BLOCK * k;
        size_t r0 = rb * METRICS_ROW_BLOCK;
        size_t rm = n - r0 < METRICS_ROW_BLOCK ? n - r0 : METRICS_ROW_BLOCK;
        for (size_t i = 0; i < rm * k; i++) bb[i] = INFINITY;
        for (size_t c0 = 0; c0 < n; c0 += METRICS_COL_BLOCK) {
            size_t cm = n - c0 < METRICS_COL_BLOCK ? n - c0 : METRICS_COL_BLOCK;
            dots(xf, r0, rm, xf, c0, cm, d, g);
            for (size_t i = 0; i < rm; i++) {
                double *b = bb + i * k; /* k smallest so far, ascending */
                double ni = norms[r0 + i];
                for (size_t j = 0; j < cm; j++) {
                    if (c0 + j == r0 + i) continue; /* self */
                    double d2 = ni + norms[c0 + j] - 2.0 * (double)g[i * cm + j];
                    if (d2 < 0) d2 = 0;
                    if (d2 >= b[k - 1]) continue;
                    size_t q = k - 1;
                    while (q > 0 && b[q - 1] > d2) {
                        b[q] = b[q - 1];
                        q--;
                    }
                    b[q] = d2;
                }
            }
        }
        for (size_t i = 0; i < rm; i++) radii[r0 + i] = sqrt(bb[i * k + k - 1]);
    }
    metrics_blas_leave(nt, prev);
done:
    brisk_free(mu);
    brisk_free(xf);
    brisk_free(norms);
    brisk_free(buf);
    brisk_free(best);
    return rc;
}

int brisk_manifold_count(const brisk_features *query, const brisk_features *ref,
                         const double *ref_radii, size_t *count, unsigned char *inside) {
    BRISK_ASSERT(query && ref && ref_radii && count);
    int rc;
    if ((rc = metrics_check_features(query, 1, "a manifold test")) ||
        (rc = metrics_check_features(ref, 1, "a manifold")) || (rc = metrics_check_same_dim(query, ref)))
        return rc;
    size_t nq = query->n, nr = ref->n, d = ref->dim;
    for (size_t j = 0; j < nr; j++)
        if (!(ref_radii[j] >= 0) || !isfinite(ref_radii[j]))
            return brisk_error(BRISK_EINVAL, "%s: k-NN radius %zu is %g (must be finite and >= 0)",
                               feat_name(ref), j, ref_radii[j]);
    float *qf = NULL, *rf = NULL, *buf = NULL;
    double *qn = NULL, *rn = NULL, *r2 = NULL, *mu = brisk_malloc(d * sizeof *mu);
    unsigned char *in = inside ? inside : brisk_malloc(nq);
    if (!mu || !in) {
        rc = BRISK_ENOMEM;
        goto done;
    }
    metrics_mean(ref, mu);
    if ((rc = prep(query, mu, &qf, &qn)) || (rc = prep(ref, mu, &rf, &rn))) goto done;
    size_t nrb = (nq + METRICS_ROW_BLOCK - 1) / METRICS_ROW_BLOCK;
    int nt = metrics_threads_for(2.0 * (double)nq * (double)nr * (double)d, nrb);
    buf = brisk_malloc((size_t)nt * METRICS_ROW_BLOCK * METRICS_COL_BLOCK * sizeof *buf);
    r2 = brisk_malloc(nr * sizeof *r2);
    if (!buf || !r2) {
        rc = BRISK_ENOMEM;
        goto done;
    }
    for (size_t j = 0; j < nr; j++) r2[j] = ref_radii[j] * ref_radii[j];
    memset(in, 0, nq);
    size_t total = 0;
    int prev = metrics_blas_enter(nt);
    METRICS_OMP("omp parallel for num_threads(nt) schedule(dynamic, 1) reduction(+ : total)")
    for (size_t rb = 0; rb < nrb; rb++) {
        float *g = buf + (size_t)metrics_thread_id() * METRICS_ROW_BLOCK * METRICS_COL_BLOCK;
        size_t r0 = rb * METRICS_ROW_BLOCK;
        size_t rm = nq - r0 < METRICS_ROW_BLOCK ? nq - r0 : METRICS_ROW_BLOCK, found = 0;
        /* later column blocks are skipped once every row of the block is inside */
        for (size_t c0 = 0; c0 < nr && found < rm; c0 += METRICS_COL_BLOCK) {
            size_t cm = nr - c0 < METRICS_COL_BLOCK ? nr - c0 : METRICS_COL_BLOCK;
            dots(qf, r0, rm, rf, c0, cm, d, g);
            for (size_t i = 0; i < rm; i++) {
                if (in[r0 + i]) continue;
                double ni = qn[r0 + i];
                for (size_t j = 0; j < cm; j++) {
                    double d2 = ni + rn[c0 + j] - 2.0 * (double)g[i * cm + j];
                    if (d2 <= r2[c0 + j]) {
                        in[r0 + i] = 1;
                        found++;
                        break;
                    }
                }
            }
        }
        total += found;
    }
    metrics_blas_leave(nt, prev);
    *count = total;
done:
    brisk_free(mu);
    brisk_free(qf);
    brisk_free(rf);
    brisk_free(qn);
    brisk_free(rn);
    brisk_free(r2);
    brisk_free(buf);
    if (in != inside) brisk_free(in);
    return rc;
}

int brisk_precision_recall(const brisk_features *real, const brisk_features *gen, size_t k,
                           brisk_pr_result *out) {
    BRISK_ASSERT(real && gen && out);
    memset(out, 0, sizeof *out);
    int rc = metrics_check_same_dim(real, gen);
    if (rc) return rc;
    double *rr = brisk_malloc(real->n * sizeof *rr), *rg = brisk_malloc(gen->n * sizeof *rg);
    if (!rr || !rg) {
        rc = BRISK_ENOMEM;
    } else if (!(rc = brisk_knn_radii(real, k, rr)) && !(rc = brisk_knn_radii(gen, k, rg)) &&
               !(rc = brisk_manifold_count(gen, real, rr, &out->n_gen_in_real, NULL)) &&
               !(rc = brisk_manifold_count(real, gen, rg, &out->n_real_in_gen, NULL))) {
        out->k = k;
        out->n_real = real->n;
        out->n_gen = gen->n;
        out->precision = (double)out->n_gen_in_real / (double)gen->n;
        out->recall = (double)out->n_real_in_gen / (double)real->n;
    }
    brisk_free(rr);
    brisk_free(rg);
    return rc;
}
