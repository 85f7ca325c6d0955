/* Item response theory: 1PL (Rasch) and 2PL fitted by joint maximum a posteriori with
 * weak Gaussian priors, P(correct) = sigmoid(a_i theta_j - b_i) (the form tinyBenchmarks,
 * Polo et al. 2024, uses; Madaan et al. 2024 sec. 5 study it). Items with identical
 * response columns share their (unique) parameters, so the fit runs on distinct columns.
 * Three alternating block-Newton sweeps (items | abilities, each block strictly concave)
 * start a damped joint Newton iteration (Schur complement over the abilities, below); the
 * log posterior never decreases and every sum runs in a fixed order, so results do not
 * depend on the thread count.
 * Held-out check and p-IRT (Polo et al. 2024, the p-IRT estimator):
 *   p-IRT = lambda * mean(anchor scores) + (1 - lambda) * mean(predicted P on the rest),
 *   lambda = |anchors| / N. */
#include "stats_impl.h"

#include "brisk/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *irt_names[BRISK_IRT_MODEL_COUNT] = {"1pl", "2pl"};

const char *brisk_irt_model_name(brisk_irt_model m) {
    return (unsigned)m < BRISK_IRT_MODEL_COUNT ? irt_names[m] : "?";
}

int brisk_irt_model_from_name(const char *s, brisk_irt_model *out) {
    for (int i = 0; i < BRISK_IRT_MODEL_COUNT; i++)
        if (!strcmp(s, irt_names[i])) {
            *out = (brisk_irt_model)i;
            return 0;
        }
    return brisk_error(BRISK_EINVAL, "unknown IRT model '%s' (expected 1pl or 2pl)", s);
}

void brisk_irt_params_default(brisk_irt_params *p) {
    p->model = BRISK_IRT_2PL;
    p->prior_theta_sd = 1.0;
    p->prior_b_sd = 3.0;
    p->prior_a_mean = 1.0;
    p->prior_a_sd = 1.0;
    p->max_iter = 500;
    p->tol = 1e-10;
}

void brisk_irt_report_params_default(brisk_irt_report_params *p) {
    brisk_irt_params_default(&p->irt);
    p->holdout = 0.1;
    p->n_anchors = 100;
    p->n_folds = 5;
    p->seed = 0;
}

void brisk_irt_fit_free(brisk_irt_fit *f) {
    if (!f) return;
    brisk_free(f->theta);
    brisk_free(f->a);
    brisk_free(f->b);
    memset(f, 0, sizeof *f);
}

double brisk_irt_prob(const brisk_irt_fit *f, size_t model, size_t item) {
    return stats_sigmoid(f->a[item] * f->theta[model] - f->b[item]);
}

/* Bernoulli log-likelihood of soft label y at logit z: y z - log(1 + e^z). */
static inline double bern_ll(double y, double z) { return y * z - stats_softplus(z); }

/* sigmoid(z) and softplus(z) from one exp. */
static inline void sig_sp(double z, double *p, double *sp) {
    double e = exp(-fabs(z));
    double inv = 1.0 / (1.0 + e);
    *p = z >= 0 ? inv : e * inv;
    *sp = (z > 0 ? z : 0) + log1p(e);
}

/* The fitting problem on distinct item columns ("patterns"): U (P, M) pattern-major with
 * -1 for unobserved cells, w[q] = number of items sharing pattern q. Items with the same
 * column have the same (unique, the block problem being strictly concave) parameters. */
typedef struct irt_problem {
    size_t M, P;
    const double *U, *w;
    const brisk_irt_params *p;
} irt_problem;

static double item_prior(const irt_problem *pr, double a, double b) {
    double s = -0.5 * b * b / (pr->p->prior_b_sd * pr->p->prior_b_sd);
    if (pr->p->model == BRISK_IRT_2PL) {
        double d = a - pr->p->prior_a_mean;
        s -= 0.5 * d * d / (pr->p->prior_a_sd * pr->p->prior_a_sd);
    }
    return s;
}

/* Log posterior of one item of pattern q at (a, b) (its cells and its priors). */
static double item_obj(const irt_problem *pr, size_t q, const double *theta, double a, double b) {
    const double *u = pr->U + q * pr->M;
    double s = 0;
    for (size_t j = 0; j < pr->M; j++)
        if (u[j] >= 0) s += bern_ll(u[j], a * theta[j] - b);
    return s + item_prior(pr, a, b);
}

/* One Newton step on pattern q's (a, b), halved until the objective does not decrease. */
static void item_step(const irt_problem *pr, size_t q, const double *theta, double *a_io,
                      double *b_io) {
    const brisk_irt_params *p = pr->p;
    const double *u = pr->U + q * pr->M;
    double a = *a_io, b = *b_io;
    double ga = 0, gb = 0, haa = 0, hbb = 0, hab = 0, f0 = 0;
    for (size_t j = 0; j < pr->M; j++) {
        if (u[j] < 0) continue;
        double t = theta[j], z = a * t - b, pz, sp;
        sig_sp(z, &pz, &sp);
        double r = u[j] - pz, w = pz * (1 - pz);
        f0 += u[j] * z - sp;
        ga += r * t;
        gb -= r;
        haa += w * t * t;
        hbb += w;
        hab += w * t;
    }
    f0 += item_prior(pr, a, b);
    double vb = 1.0 / (p->prior_b_sd * p->prior_b_sd);
    gb -= b * vb;
    hbb += vb;
    double da = 0, db;
    if (p->model == BRISK_IRT_2PL) {
        double va = 1.0 / (p->prior_a_sd * p->prior_a_sd);
        ga -= (a - p->prior_a_mean) * va;
        haa += va;
        /* minus the Hessian is [[haa, -hab], [-hab, hbb]] (dz/db = -1) */
        double det = haa * hbb - hab * hab;
        if (!(det > 0)) return;
        da = (hbb * ga + hab * gb) / det;
        db = (hab * ga + haa * gb) / det;
    } else {
        db = gb / hbb;
    }
    for (int h = 0; h < 40; h++) {
        /* accept within rounding of f0: near the optimum the step is exact but tiny */
        if (item_obj(pr, q, theta, a + da, b + db) >= f0 - 1e-12 * (1 + fabs(f0))) {
            *a_io = a + da;
            *b_io = b + db;
            return;
        }
        da *= 0.5;
        db *= 0.5;
    }
}

/* Ability objective of model j: sum_q w_q loglik + prior. */
static double theta_obj(const irt_problem *pr, size_t j, const double *a, const double *b,
                        double t) {
    double s = 0;
    for (size_t q = 0; q < pr->P; q++) {
        double y = pr->U[q * pr->M + j];
        if (y >= 0) s += pr->w[q] * bern_ll(y, a[q] * t - b[q]);
    }
    return s - 0.5 * t * t / (pr->p->prior_theta_sd * pr->p->prior_theta_sd);
}

/* One safeguarded Newton step on theta_j; returns the ability objective after it. */
static double theta_step(const irt_problem *pr, size_t j, const double *a, const double *b,
                         double *t_io) {
    double t = *t_io, sd2 = pr->p->prior_theta_sd * pr->p->prior_theta_sd;
    double g = -t / sd2, h = 1.0 / sd2, f0 = -0.5 * t * t / sd2;
    for (size_t q = 0; q < pr->P; q++) {
        double y = pr->U[q * pr->M + j];
        if (y < 0) continue;
        double z = a[q] * t - b[q], pz, sp;
        sig_sp(z, &pz, &sp);
        f0 += pr->w[q] * (y * z - sp);
        g += pr->w[q] * (y - pz) * a[q];
        h += pr->w[q] * pz * (1 - pz) * a[q] * a[q];
    }
    double d = g / h;
    for (int k = 0; k < 40; k++) {
        double f1 = theta_obj(pr, j, a, b, t + d);
        if (f1 >= f0 - 1e-12 * (1 + fabs(f0))) {
            *t_io = t + d;
            return f1;
        }
        d *= 0.5;
    }
    return f0;
}

/* Newton iterations on one ability with fixed items (y over idx[0..n-1] or all items). */
static double ability_newton(const double *y, const double *a, const double *b, const size_t *idx,
                             size_t n, double t, double sd, int steps) {
    for (int s = 0; s < steps; s++) {
        double g = -t / (sd * sd), h = 1.0 / (sd * sd), f0 = -0.5 * t * t / (sd * sd);
        for (size_t k = 0; k < n; k++) {
            size_t i = idx ? idx[k] : k;
            double z = a[i] * t - b[i], pz, sp;
            sig_sp(z, &pz, &sp);
            f0 += y[k] * z - sp;
            g += (y[k] - pz) * a[i];
            h += pz * (1 - pz) * a[i] * a[i];
        }
        double d = g / h;
        if (fabs(d) < 1e-12) break;
        int moved = 0;
        for (int hh = 0; hh < 40 && !moved; hh++) {
            double f1 = -0.5 * (t + d) * (t + d) / (sd * sd);
            for (size_t k = 0; k < n; k++) {
                size_t i = idx ? idx[k] : k;
                f1 += bern_ll(y[k], a[i] * (t + d) - b[i]);
            }
            if (f1 >= f0 - 1e-12 * (1 + fabs(f0))) {
                t += d;
                moved = 1;
            } else
                d *= 0.5;
        }
        if (!moved) break;
    }
    return t;
}

double brisk_irt_ability(const brisk_irt_fit *f, const double *y, const size_t *idx, size_t n,
                         double prior_theta_sd) {
    return ability_newton(y, f->a, f->b, idx, n, 0.0, prior_theta_sd, 100);
}

/* ---- joint Newton on all parameters (items and abilities) ----
 * The negative Hessian has a block-arrow structure: a 2x2 (1x1 for 1PL) block per item
 * pattern, a diagonal over abilities, and item-ability cross terms. Eliminating the item
 * blocks leaves an M x M Schur complement for the abilities (Cholesky), then every item
 * block is solved on its own: O(P M^2) per iteration. Cross terms use the exact Hessian
 * (d2/da dtheta of the log-likelihood is r - v a theta, r = y - p, v = p (1 - p)); when
 * that system is not positive definite the Gauss-Newton (Fisher) cross terms v a theta
 * are used instead, which always give an ascent direction. Each step is halved until
 * the log posterior does not decrease. Patterns are processed in fixed chunks summed in
 * a fixed order, so the result does not depend on the thread count. */
#define IRT_CHUNKS 32

typedef struct joint_ws {
    double *S;     /* (IRT_CHUNKS, M, M) partial Schur complements */
    double *rhs;   /* (IRT_CHUNKS, M) */
    double *gq;    /* (P, 2) item gradients */
    double *Ai;    /* (P, 3) inverse item blocks: [aa, ab, bb] */
    double *da, *db, *dt;
    double *na, *nb, *nt; /* candidate parameters */
    double *obj;   /* (IRT_CHUNKS) */
    double *Sfull, *r;
} joint_ws;

static double total_obj(const irt_problem *pr, const double *a, const double *b,
                        const double *theta, double *chunk_obj) {
    size_t P = pr->P, M = pr->M;
#pragma omp parallel for schedule(static, 1)
    for (int c = 0; c < IRT_CHUNKS; c++) {
        size_t q0 = P * (size_t)c / IRT_CHUNKS, q1 = P * (size_t)(c + 1) / IRT_CHUNKS;
        double s = 0;
        for (size_t q = q0; q < q1; q++) s += pr->w[q] * item_obj(pr, q, theta, a[q], b[q]);
        chunk_obj[c] = s;
    }
    double s = 0;
    for (int c = 0; c < IRT_CHUNKS; c++) s += chunk_obj[c];
    for (size_t j = 0; j < M; j++)
        s -= 0.5 * theta[j] * theta[j] / (pr->p->prior_theta_sd * pr->p->prior_theta_sd);
    return s;
}

/* In-place Cholesky of the n x n SPD matrix A (lower triangle); 0 if not PD. */
static int cholesky(double *A, size_t n) {
    for (size_t j = 0; j < n; j++) {
        double d = A[j * n + j];
        for (size_t k = 0; k < j; k++) d -= A[j * n + k] * A[j * n + k];
        if (!(d > 1e-300)) return 0;
        d = sqrt(d);
        A[j * n + j] = d;
        for (size_t i = j + 1; i < n; i++) {
            double s = A[i * n + j];
            for (size_t k = 0; k < j; k++) s -= A[i * n + k] * A[j * n + k];
            A[i * n + j] = s / d;
        }
    }
    return 1;
}

static void chol_solve(const double *L, size_t n, double *x) {
    for (size_t i = 0; i < n; i++) {
        double s = x[i];
        for (size_t k = 0; k < i; k++) s -= L[i * n + k] * x[k];
        x[i] = s / L[i * n + i];
    }
    for (size_t i = n; i-- > 0;) {
        double s = x[i];
        for (size_t k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
        x[i] = s / L[i * n + i];
    }
}

/* Builds the Newton system and solves it into ws->da, db, dt. exact = 0: Gauss-Newton
 * cross terms. Returns 0 on success, 1 if the Schur complement is not PD. */
static int joint_direction(const irt_problem *pr, const double *a, const double *b,
                           const double *theta, joint_ws *ws, int exact) {
    const brisk_irt_params *p = pr->p;
    size_t P = pr->P, M = pr->M;
    int twopl = p->model == BRISK_IRT_2PL;
    double va = 1.0 / (p->prior_a_sd * p->prior_a_sd), vb = 1.0 / (p->prior_b_sd * p->prior_b_sd);
    double vt = 1.0 / (p->prior_theta_sd * p->prior_theta_sd);
#pragma omp parallel for schedule(static, 1)
    for (int c = 0; c < IRT_CHUNKS; c++) {
        size_t q0 = P * (size_t)c / IRT_CHUNKS, q1 = P * (size_t)(c + 1) / IRT_CHUNKS;
        double *S = ws->S + (size_t)c * M * M, *rhs = ws->rhs + (size_t)c * M;
        memset(S, 0, M * M * sizeof *S);
        memset(rhs, 0, M * sizeof *rhs);
        double ua[4096], ub[4096]; /* cross terms of this pattern, per ability (M <= 4096) */
        for (size_t q = q0; q < q1; q++) {
            const double *u = pr->U + q * M;
            double wq = pr->w[q], A = a[q], B = b[q];
            double ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
            for (size_t j = 0; j < M; j++) {
                ua[j] = ub[j] = 0;
                if (u[j] < 0) continue;
                double t = theta[j], z = A * t - B, pz, sp;
                sig_sp(z, &pz, &sp);
                double r = u[j] - pz, v = pz * (1 - pz);
                ga += r * t;
                gb -= r;
                haa += v * t * t;
                hab -= v * t;
                hbb += v;
                /* negative Hessian, item-ability cross terms (times wq) */
                ua[j] = wq * (v * A * t - (exact ? r : 0));
                ub[j] = -wq * v * A;
                /* ability diagonal and gradient */
                S[j * M + j] += wq * v * A * A;
                rhs[j] += wq * r * A;
            }
            gb -= B * vb;
            hbb += vb;
            if (twopl) {
                ga -= (A - p->prior_a_mean) * va;
                haa += va;
            }
            ga *= wq; gb *= wq; haa *= wq; hab *= wq; hbb *= wq;
            double iaa, iab, ibb;
            if (twopl) {
                double det = haa * hbb - hab * hab;
                iaa = hbb / det;
                iab = -hab / det;
                ibb = haa / det;
            } else {
                iaa = iab = 0;
                ibb = 1.0 / hbb;
                ga = 0;
            }
            ws->gq[2 * q] = ga;
            ws->gq[2 * q + 1] = gb;
            ws->Ai[3 * q] = iaa;
            ws->Ai[3 * q + 1] = iab;
            ws->Ai[3 * q + 2] = ibb;
            /* Schur: S -= C^T A^-1 C ; rhs -= C^T A^-1 g */
            double kg_a = iaa * ga + iab * gb, kg_b = iab * ga + ibb * gb;
            for (size_t j = 0; j < M; j++) {
                if (u[j] < 0) continue;
                double xa = iaa * ua[j] + iab * ub[j], xb = iab * ua[j] + ibb * ub[j];
                rhs[j] -= ua[j] * kg_a + ub[j] * kg_b;
                for (size_t k = 0; k <= j; k++) {
                    if (u[k] < 0) continue;
                    S[j * M + k] -= xa * ua[k] + xb * ub[k];
                }
            }
        }
    }
    double *Sf = ws->Sfull, *r = ws->r;
    memset(Sf, 0, M * M * sizeof *Sf);
    memset(r, 0, M * sizeof *r);
    for (int c = 0; c < IRT_CHUNKS; c++) {
        const double *S = ws->S + (size_t)c * M * M, *rhs = ws->rhs + (size_t)c * M;
        for (size_t k = 0; k < M * M; k++) Sf[k] += S[k];
        for (size_t j = 0; j < M; j++) r[j] += rhs[j];
    }
    for (size_t j = 0; j < M; j++) {
        Sf[j * M + j] += vt;
        r[j] -= theta[j] * vt;
        for (size_t k = j + 1; k < M; k++) Sf[j * M + k] = Sf[k * M + j];
    }
    if (!cholesky(Sf, M)) return 1;
    chol_solve(Sf, M, r);
    memcpy(ws->dt, r, M * sizeof *r);
    /* item steps: A_q^-1 (g_q - C_q dtheta) */
#pragma omp parallel for schedule(static)
    for (long q = 0; q < (long)P; q++) {
        const double *u = pr->U + (size_t)q * M;
        double wq = pr->w[q], A = a[q], B = b[q];
        double ca = 0, cb = 0;
        for (size_t j = 0; j < M; j++) {
            if (u[j] < 0) continue;
            double t = theta[j], pz = stats_sigmoid(A * t - B), v = pz * (1 - pz);
            double rr = u[j] - pz;
            ca += wq * (v * A * t - (exact ? rr : 0)) * r[j];
            cb += -wq * v * A * r[j];
        }
        double ga = ws->gq[2 * q] - ca, gb = ws->gq[2 * q + 1] - cb;
        const double *I = ws->Ai + 3 * q;
        ws->da[q] = twopl ? I[0] * ga + I[1] * gb : 0;
        ws->db[q] = I[1] * ga + I[2] * gb;
        if (!twopl) ws->db[q] = I[2] * gb;
    }
    return 0;
}

/* One damped joint Newton iteration; updates the parameters and *post. Returns 1 if no
 * step improved the objective. */
static int joint_newton(const irt_problem *pr, double *a, double *b, double *theta,
                        joint_ws *ws, double *post) {
    size_t P = pr->P, M = pr->M;
    for (int exact = 1; exact >= 0; exact--) {
        if (joint_direction(pr, a, b, theta, ws, exact)) continue;
        double s = 1;
        for (int h = 0; h < 30; h++, s *= 0.5) {
            for (size_t q = 0; q < P; q++) {
                ws->na[q] = a[q] + s * ws->da[q];
                ws->nb[q] = b[q] + s * ws->db[q];
            }
            for (size_t j = 0; j < M; j++) ws->nt[j] = theta[j] + s * ws->dt[j];
            double f = total_obj(pr, ws->na, ws->nb, ws->nt, ws->obj);
            if (f >= *post - 1e-12 * (1 + fabs(*post))) {
                memcpy(a, ws->na, P * sizeof *a);
                memcpy(b, ws->nb, P * sizeof *b);
                memcpy(theta, ws->nt, M * sizeof *theta);
                *post = f;
                return 0;
            }
        }
    }
    return 1;
}

static double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

int brisk_irt_fit_matrix(const double *x, const uint8_t *mask, size_t M, size_t N,
                         const brisk_irt_params *p, const brisk_irt_fit *init,
                         brisk_irt_fit *out) {
    memset(out, 0, sizeof *out);
    brisk_irt_params def;
    if (!p) {
        brisk_irt_params_default(&def);
        p = &def;
    }
    if (M < 2 || N < 1) return brisk_error(BRISK_EINVAL, "IRT needs at least 2 models and 1 item");
    if (M > 4096) return brisk_error(BRISK_EINVAL, "IRT supports at most 4096 models, got %zu", M);
    if (!(p->prior_theta_sd > 0 && p->prior_b_sd > 0 && p->prior_a_sd > 0))
        return brisk_error(BRISK_EINVAL, "IRT prior standard deviations must be positive");
    for (size_t k = 0; k < M * N; k++)
        if (!(x[k] >= 0 && x[k] <= 1))
            return brisk_error(BRISK_EINVAL,
                               "IRT needs scores in [0, 1]: model %zu, item %zu has %g", k / N,
                               k % N, x[k]);
    out->model = p->model;
    out->n_models = M;
    out->n_items = N;
    out->theta = brisk_malloc(M * sizeof(double));
    out->a = brisk_malloc(N * sizeof(double));
    out->b = brisk_malloc(N * sizeof(double));
    uint32_t *uid = brisk_malloc(N * sizeof *uid);
    if (!out->theta || !out->a || !out->b || !uid) {
        brisk_free(uid);
        brisk_irt_fit_free(out);
        return BRISK_ENOMEM;
    }
    double *U = NULL, *w = NULL;
    size_t *first = NULL, P = 0;
    int rc = stats_unique_columns(x, mask, M, N, uid, &U, &first, &w, &P);
    double *ap = rc ? NULL : brisk_malloc(P * sizeof *ap);
    double *bp = rc ? NULL : brisk_malloc(P * sizeof *bp);
    double *ft = rc ? NULL : brisk_malloc(M * sizeof *ft);
    if (rc || !ap || !bp || !ft) {
        brisk_free(uid); brisk_free(U); brisk_free(w); brisk_free(first);
        brisk_free(ap); brisk_free(bp); brisk_free(ft);
        brisk_irt_fit_free(out);
        return rc ? rc : BRISK_ENOMEM;
    }
    irt_problem pr = {M, P, U, w, p};
    size_t n_obs = 0;
    for (size_t q = 0; q < P; q++)
        for (size_t j = 0; j < M; j++) n_obs += (U[q * M + j] >= 0) ? (size_t)w[q] : 0;
    if (init && init->n_models == M && init->n_items == N) {
        memcpy(out->theta, init->theta, M * sizeof(double));
        for (size_t q = 0; q < P; q++) {
            ap[q] = p->model == BRISK_IRT_1PL ? 1 : init->a[first[q]];
            bp[q] = init->b[first[q]];
        }
    } else {
        /* start: theta = centred logit of model means, b = -logit of item means, a = 1 */
        double tm = 0;
        for (size_t j = 0; j < M; j++) {
            double s = 0, c = 0;
            for (size_t q = 0; q < P; q++) {
                double y = U[q * M + j];
                if (y >= 0) { s += w[q] * y; c += w[q]; }
            }
            double pm = clamp(c ? s / c : 0.5, 0.01, 0.99);
            out->theta[j] = log(pm / (1 - pm));
            tm += out->theta[j];
        }
        for (size_t j = 0; j < M; j++) out->theta[j] -= tm / (double)M;
        for (size_t q = 0; q < P; q++) {
            double s = 0, c = 0;
            for (size_t j = 0; j < M; j++)
                if (U[q * M + j] >= 0) { s += U[q * M + j]; c++; }
            double pi = clamp((s + 0.5) / (c + 1), 0.01, 0.99);
            ap[q] = 1;
            bp[q] = -log(pi / (1 - pi));
        }
    }
    joint_ws ws = {0};
    ws.S = brisk_malloc((size_t)IRT_CHUNKS * M * M * sizeof(double));
    ws.rhs = brisk_malloc((size_t)IRT_CHUNKS * M * sizeof(double));
    ws.gq = brisk_malloc(2 * P * sizeof(double));
    ws.Ai = brisk_malloc(3 * P * sizeof(double));
    ws.da = brisk_malloc(P * sizeof(double));
    ws.db = brisk_malloc(P * sizeof(double));
    ws.na = brisk_malloc(P * sizeof(double));
    ws.nb = brisk_malloc(P * sizeof(double));
    ws.dt = brisk_malloc(M * sizeof(double));
    ws.nt = brisk_malloc(M * sizeof(double));
    ws.r = brisk_malloc(M * sizeof(double));
    ws.Sfull = brisk_malloc(M * M * sizeof(double));
    ws.obj = brisk_malloc(IRT_CHUNKS * sizeof(double));
    double post = -INFINITY;
    int it = 0;
    if (!ws.S || !ws.rhs || !ws.gq || !ws.Ai || !ws.da || !ws.db || !ws.na || !ws.nb || !ws.dt ||
        !ws.nt || !ws.r || !ws.Sfull || !ws.obj) {
        rc = BRISK_ENOMEM;
        goto cleanup;
    }
    /* a few alternating sweeps (each block concave, so they never go downhill) ... */
    for (int sw = 0; sw < 3; sw++) {
#pragma omp parallel for schedule(static)
        for (long q = 0; q < (long)P; q++) item_step(&pr, (size_t)q, out->theta, &ap[q], &bp[q]);
#pragma omp parallel for schedule(static, 1)
        for (long j = 0; j < (long)M; j++) ft[j] = theta_step(&pr, (size_t)j, ap, bp, &out->theta[j]);
    }
    /* ... then damped joint Newton steps until the log posterior stops moving */
    post = total_obj(&pr, ap, bp, out->theta, ws.obj);
    for (it = 0; it < p->max_iter; it++) {
        double prev = post;
        if (joint_newton(&pr, ap, bp, out->theta, &ws, &post) ||
            fabs(post - prev) < p->tol * (double)(n_obs ? n_obs : 1)) {
            it++;
            out->converged = 1;
            break;
        }
    }
    out->iterations = it;
    out->log_post = post;
    double ll = 0;
    for (size_t q = 0; q < P; q++)
        for (size_t j = 0; j < M; j++) {
            double y = U[q * M + j];
            if (y >= 0) ll += w[q] * bern_ll(y, ap[q] * out->theta[j] - bp[q]);
        }
    out->log_lik = ll;
    for (size_t i = 0; i < N; i++) {
        out->a[i] = ap[uid[i]];
        out->b[i] = bp[uid[i]];
    }
cleanup:
    brisk_free(ws.S); brisk_free(ws.rhs); brisk_free(ws.gq); brisk_free(ws.Ai);
    brisk_free(ws.da); brisk_free(ws.db); brisk_free(ws.na); brisk_free(ws.nb);
    brisk_free(ws.dt); brisk_free(ws.nt); brisk_free(ws.r); brisk_free(ws.Sfull); brisk_free(ws.obj);
    brisk_free(uid); brisk_free(U); brisk_free(w); brisk_free(first);
    brisk_free(ap); brisk_free(bp); brisk_free(ft);
    if (rc) brisk_irt_fit_free(out);
    return rc;
}

void brisk_irt_report_free(brisk_irt_report *r) {
    if (!r) return;
    brisk_irt_fit_free(&r->fit);
    brisk_free(r->models);
    memset(r, 0, sizeof *r);
}

int brisk_irt_report_run(const brisk_matrix *m, const brisk_irt_report_params *p,
                         brisk_irt_report *out) {
    memset(out, 0, sizeof *out);
    brisk_irt_report_params def;
    if (!p) {
        brisk_irt_report_params_default(&def);
        p = &def;
    }
    const size_t M = m->n_models, N = m->n_items;
    if (!(p->holdout >= 0 && p->holdout < 1))
        return brisk_error(BRISK_EINVAL, "holdout fraction %g is not in [0, 1)", p->holdout);
    double t0 = now_s();
    int rc = brisk_irt_fit_matrix(m->x, NULL, M, N, &p->irt, NULL, &out->fit);
    if (rc) return rc;
    out->seconds_fit = now_s() - t0;
    out->models = brisk_calloc(M, sizeof *out->models);
    uint8_t *mask = brisk_malloc(M * N);
    double *u = brisk_malloc(N * sizeof *u);
    double *ya = brisk_malloc((p->n_anchors ? p->n_anchors : 1) * sizeof *ya);
    size_t *anchors = brisk_malloc((N ? N : 1) * sizeof *anchors);
    uint8_t *is_anchor = brisk_calloc(N ? N : 1, 1);
    if (!out->models || !mask || !u || !ya || !anchors || !is_anchor) {
        rc = BRISK_ENOMEM;
        goto done;
    }
    for (size_t j = 0; j < M; j++) {
        out->models[j].theta = out->fit.theta[j];
        out->models[j].observed_mean = brisk_stats_mean(m->x + j * N, N);
        out->models[j].anchor_mean = out->models[j].pirt_estimate = NAN;
        out->models[j].anchor_theta = NAN;
    }
    /* held-out cells: cell (j, i) is held out when its Philox uniform < holdout */
    out->heldout_log_lik = out->heldout_log_lik_baseline = out->heldout_accuracy = NAN;
    if (p->holdout > 0) {
        double t1 = now_s();
        size_t nh = 0;
        for (size_t j = 0; j < M; j++) {
            brisk_randu(p->seed, j, BRISK_STREAM(BRISK_RNG_MC, 2), N, u);
            for (size_t i = 0; i < N; i++) {
                mask[j * N + i] = u[i] >= p->holdout;
                nh += !mask[j * N + i];
            }
        }
        out->n_heldout = nh;
        if (nh) {
            brisk_irt_fit f;
            rc = brisk_irt_fit_matrix(m->x, mask, M, N, &p->irt, &out->fit, &f);
            if (rc) goto done;
            double ll = 0, llb = 0, acc = 0;
            for (size_t i = 0; i < N; i++) {
                /* baseline: the item's training mean, smoothed (k + 1/2) / (n + 1) */
                double s = 0, c = 0;
                for (size_t j = 0; j < M; j++)
                    if (mask[j * N + i]) { s += m->x[j * N + i]; c++; }
                double pb = (s + 0.5) / (c + 1);
                for (size_t j = 0; j < M; j++) {
                    if (mask[j * N + i]) continue;
                    double y = m->x[j * N + i];
                    double z = f.a[i] * f.theta[j] - f.b[i];
                    ll += bern_ll(y, z);
                    llb += y * log(pb) + (1 - y) * log(1 - pb);
                    acc += ((z > 0) == (y > 0.5));
                }
            }
            out->heldout_log_lik = ll / (double)nh;
            out->heldout_log_lik_baseline = llb / (double)nh;
            out->heldout_accuracy = acc / (double)nh;
            brisk_irt_fit_free(&f);
        }
        out->seconds_heldout = now_s() - t1;
    }
    /* p-IRT, leaving each model out in turn */
    out->pirt_mae = out->anchor_mae = NAN;
    size_t K = p->n_anchors < N ? p->n_anchors : N;
    out->n_anchors = K;
    if (K > 0) {
        double t2 = now_s();
        /* K anchors: a partial Fisher-Yates shuffle driven by Philox words */
        uint32_t w[4];
        for (size_t i = 0; i < N; i++) anchors[i] = i;
        for (size_t k = 0; k < K; k++) {
            brisk_rand_u32(p->seed, k, BRISK_STREAM(BRISK_RNG_MC, 3), 1, w);
            size_t r = k + brisk_rand_below(w[0], (uint32_t)(N - k));
            size_t tmp = anchors[k];
            anchors[k] = anchors[r];
            anchors[r] = tmp;
        }
        for (size_t k = 0; k < K; k++) is_anchor[anchors[k]] = 1;
        double e_p = 0, e_a = 0;
        size_t F = p->n_folds < 2 ? 2 : p->n_folds;
        if (F > M) F = M;
        out->n_folds = F;
        for (size_t fold = 0; fold < F; fold++) {
            /* item parameters from the models outside this fold (model j is in fold j % F) */
            memset(mask, 1, M * N);
            for (size_t j = fold; j < M; j += F) memset(mask + j * N, 0, N);
            brisk_irt_fit f;
            rc = brisk_irt_fit_matrix(m->x, mask, M, N, &p->irt, &out->fit, &f);
            if (rc) goto done;
            for (size_t j = fold; j < M; j += F) {
                double sa = 0;
                for (size_t k = 0; k < K; k++) {
                    ya[k] = m->x[j * N + anchors[k]];
                    sa += ya[k];
                }
                double th = brisk_irt_ability(&f, ya, anchors, K, p->irt.prior_theta_sd);
                double pu = 0;
                for (size_t i = 0; i < N; i++)
                    if (!is_anchor[i]) pu += stats_sigmoid(f.a[i] * th - f.b[i]);
                double lambda = (double)K / (double)N;
                double am = sa / (double)K;
                double est = K < N ? lambda * am + (1 - lambda) * pu / (double)(N - K) : am;
                out->models[j].anchor_theta = th;
                out->models[j].anchor_mean = am;
                out->models[j].pirt_estimate = est;
                e_p += fabs(est - out->models[j].observed_mean);
                e_a += fabs(am - out->models[j].observed_mean);
            }
            brisk_irt_fit_free(&f);
        }
        out->pirt_mae = e_p / (double)M;
        out->anchor_mae = e_a / (double)M;
        out->seconds_pirt = now_s() - t2;
    }
done:
    brisk_free(mask);
    brisk_free(u);
    brisk_free(ya);
    brisk_free(anchors);
    brisk_free(is_anchor);
    if (rc) brisk_irt_report_free(out);
    return rc;
}
