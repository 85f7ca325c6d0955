/* Naive reference checks of the samplers: the two algebraic forms of the PNDM transfer,
 * DDIM(eta=0) = pseudo-Euler, variable-step Adams-Bashforth weights, grid mode = diffusers
 * mode on even grids, the order of convergence against the exact Gaussian probability-flow
 * endpoint, allocation-free steps, RNG reproducibility and the bad-input rules. */
#include "brisk/core.h"
#include "brisk/diffusion.h"
#include "brisk/rng.h"
#include "brisk_test.h"
#include "diffusion/diffusion_impl.h"

#include <string.h>

/* ---- an exact Gaussian model, written here (not the library's) ------------------------- */

typedef struct gauss {
    double m[4], s[4];
    brisk_prediction pred;
    int nan_at; /* call index returning NaN, or -1 */
    int calls;
} gauss;

static int gauss_predict(void *ctx, const double *x, size_t batch, size_t dim, double t, double a,
                         double *out) {
    (void)t;
    gauss *g = ctx;
    double sa = sqrt(a), sb = sqrt(1 - a);
    for (size_t b = 0; b < batch; b++)
        for (size_t j = 0; j < dim; j++) {
            size_t i = b * dim + j;
            /* x = sqrt(a) x0 + sqrt(1-a) eps with x0 ~ N(m, s^2): E[eps | x] */
            double eps = sb * (x[i] - sa * g->m[j]) / (a * g->s[j] * g->s[j] + 1 - a);
            double x0 = (x[i] - sb * eps) / sa;
            out[i] = g->pred == BRISK_PRED_EPSILON ? eps
                     : g->pred == BRISK_PRED_SAMPLE ? x0
                                                    : sa * eps - sb * x0;
        }
    if (g->calls++ == g->nan_at) out[1] = NAN;
    return 0;
}

static gauss G0 = {{0.5, -1, 0.2, 1.5}, {0.6, 0.8, 1.2, 0.9}, BRISK_PRED_EPSILON, -1, 0};

/* The probability-flow ODE keeps (x - sqrt(a) m) / sqrt(a s^2 + 1 - a) constant per
 * coordinate for N(m, s^2) data, so the exact endpoint is closed-form. Returns the max
 * error of a run against it, or -1 when the run failed. */
static double run_error(brisk_scheduler_config *c, int n, gauss g, double *nfe) {
    brisk_denoiser d = {gauss_predict, NULL, &g, 4, 0, 0, 0, g.pred};
    brisk_scheduler *s;
    if (brisk_scheduler_create(c, &s)) return -1;
    enum { B = 3 };
    double x[B * 4], xt[B * 4];
    for (int i = 0; i < B * 4; i++) x[i] = xt[i] = 1.3 * sin(1.7 * i + 0.3);
    brisk_run_stats st;
    int rc = brisk_sample_run(s, &d, n, x, B, NULL, &st);
    if (rc) {
        fprintf(stderr, "run failed: %s\n", brisk_last_error());
        brisk_scheduler_free(s);
        return -1;
    }
    double a0, xs, a1, xe, e = 0;
    brisk_scheduler_ode_span(s, &a0, &xs, &a1, &xe);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < 4; j++) {
            int i = b * 4 + j;
            double z = (xs * xt[i] - sqrt(a0) * g.m[j]) / sqrt(a0 * g.s[j] * g.s[j] + 1 - a0);
            double exact = sqrt(a1) * g.m[j] + sqrt(a1 * g.s[j] * g.s[j] + 1 - a1) * z;
            e = fmax(e, fabs(xe * x[i] - exact));
        }
    if (nfe) *nfe = (double)st.nfe;
    brisk_scheduler_free(s);
    return e;
}

static void test_phi_forms(void) {
    uint64_t seed = 7;
    double u[3];
    for (int k = 0; k < 200; k++) {
        brisk_randu(seed, (uint64_t)k, 0, 3, u);
        double a = 0.001 + 0.998 * u[0], an = 0.001 + 0.998 * u[1];
        double x = 4 * u[2] - 2, e = 1.5 - 3 * u[0] * u[1];
        double p1 = brisk__phi(x, e, a, an);
        /* DDIM form: sqrt(a') x0 + sqrt(1 - a') eps */
        double p2 = sqrt(an) * (x - sqrt(1 - a) * e) / sqrt(a) + sqrt(1 - an) * e;
        /* diffusers PNDMScheduler._get_prev_sample form */
        double den = a * sqrt(1 - an) + sqrt(a * (1 - a) * an);
        double p3 = sqrt(an / a) * x - (an - a) * e / den;
        ASSERT_NEAR(p1, p2, 1e-12 * (1 + fabs(p2)));
        ASSERT_NEAR(p1, p3, 1e-12 * (1 + fabs(p3)));
    }
}

static void test_ab_weights(void) {
    static const double fixed[5][4] = {{0},
                                       {1},
                                       {3.0 / 2, -1.0 / 2},
                                       {23.0 / 12, -16.0 / 12, 5.0 / 12},
                                       {55.0 / 24, -59.0 / 24, 37.0 / 24, -9.0 / 24}};
    double hs[] = {-20, -1, 0.5, 33.3};
    for (int m = 1; m <= 4; m++)
        for (size_t k = 0; k < 4; k++) {
            double h = hs[k], tau[4], w[4];
            for (int j = 0; j < m; j++) tau[j] = 500 - j * h; /* history before the step */
            brisk__ab_weights(tau, m, 500 + h, w);
            for (int j = 0; j < m; j++) ASSERT_NEAR(w[j], fixed[m][j], 1e-12);
        }
    /* uneven nodes: exact for polynomials of degree < m */
    double u[8];
    for (int trial = 0; trial < 50; trial++) {
        brisk_randu(11, (uint64_t)trial, 0, 8, u);
        int m = 1 + trial % 4;
        double tau[4] = {100, 100 + 5 + 20 * u[0], 0, 0}, w[4];
        tau[2] = tau[1] + 1 + 30 * u[1];
        tau[3] = tau[2] + 2 + 10 * u[2];
        double t1 = 100 - (3 + 40 * u[3]);
        brisk__ab_weights(tau, m, t1, w);
        double c[4] = {u[4] - 0.5, u[5] - 0.5, u[6] - 0.5, u[7] - 0.5};
        for (int deg = 0; deg < m; deg++) {
            /* p(s) = c_deg (s - 100)^deg: integral over [100, t1] */
            double h = t1 - 100, sum = 0;
            for (int j = 0; j < m; j++) sum += w[j] * c[deg] * pow(tau[j] - 100, deg);
            double exact = c[deg] * pow(h, deg + 1) / (deg + 1);
            ASSERT_NEAR(sum * h, exact, 1e-9 * (1 + fabs(exact)));
        }
    }
    double tau[2] = {0, 1}, w[2];
    brisk__ab_weights(tau, 2, 0, w); /* zero-length step */
    ASSERT_NEAR(w[0], 1, 0);
    ASSERT_NEAR(w[1], 0, 0);
}

/* Runs the step API over a fixed x; returns the final x in out (batch 2, dim 4). */
static int run_steps(brisk_scheduler_config *c, int n, double *out, uint64_t *allocs, gauss g) {
    brisk_scheduler *s;
    int rc = brisk_scheduler_create(c, &s);
    if (rc) return rc;
    rc = brisk_scheduler_set_timesteps(s, n, 2, 4);
    if (rc) {
        brisk_scheduler_free(s);
        return rc;
    }
    double x[8], xin[8], mo[8];
    for (int i = 0; i < 8; i++) x[i] = cos(2.1 * i) * brisk_scheduler_init_noise_sigma(s);
    uint64_t a0 = brisk_alloc_count();
    while (!rc && !brisk_scheduler_done(s)) {
        double t, a;
        rc = brisk_scheduler_next(s, &t, &a);
        if (rc) break;
        brisk_scheduler_scale_model_input(s, x, xin, 2);
        gauss_predict(&g, xin, 2, 4, t, a, mo);
        rc = brisk_scheduler_step(s, mo, t, x, x, 2);
    }
    if (allocs) *allocs = brisk_alloc_count() - a0;
    memcpy(out, x, sizeof x);
    brisk_scheduler_free(s);
    return rc;
}

static double maxdiff(const double *a, const double *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

static void test_ddim_is_pseudo_euler(void) {
    brisk_prediction preds[] = {BRISK_PRED_EPSILON, BRISK_PRED_V, BRISK_PRED_SAMPLE};
    for (int sp = 0; sp < BRISK_SPACING_COUNT; sp++)
        for (int p = 0; p < 3; p++) {
            brisk_scheduler_config a, b;
            brisk_scheduler_config_default(&a, BRISK_SAMPLER_DDIM);
            brisk_scheduler_config_default(&b, BRISK_SAMPLER_PSEUDO_EULER);
            a.clip_sample = 0;
            b.time_mode = BRISK_TIME_DIFFUSERS;
            a.timestep_spacing = b.timestep_spacing = (brisk_timestep_spacing)sp;
            a.prediction_type = b.prediction_type = preds[p];
            a.set_alpha_to_one = b.set_alpha_to_one = sp == 1;
            gauss g = G0;
            g.pred = preds[p];
            double xa[8], xb[8];
            ASSERT_OK(run_steps(&a, 37, xa, NULL, g));
            ASSERT_OK(run_steps(&b, 37, xb, NULL, g));
            ASSERT_DOUBLE_LE(maxdiff(xa, xb, 8), 1e-12);
        }
}

/* On an even grid (leading, T // N even) grid mode reproduces diffusers mode exactly:
 * prev_t = t - T // N is then the next grid point and the weights are the fixed ones. */
static void test_grid_even(void) {
    brisk_sampler_kind kinds[] = {BRISK_SAMPLER_PLMS, BRISK_SAMPLER_PNDM, BRISK_SAMPLER_DDIM,
                                  BRISK_SAMPLER_SPNDM, BRISK_SAMPLER_FPNDM};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        brisk_scheduler_config a, b;
        brisk_scheduler_config_default(&a, kinds[k]);
        a.time_mode = BRISK_TIME_DIFFUSERS;
        a.clip_sample = 0;
        b = a;
        b.time_mode = BRISK_TIME_GRID;
        double xa[8], xb[8];
        ASSERT_OK(run_steps(&a, 50, xa, NULL, G0));
        ASSERT_OK(run_steps(&b, 50, xb, NULL, G0));
        double d = maxdiff(xa, xb, 8);
        if (!(d <= 1e-10)) fprintf(stderr, "%s: grid vs diffusers %g\n", brisk_sampler_kind_name(kinds[k]), d);
        ASSERT_DOUBLE_LE(d, 1e-10);
    }
}

static double order(brisk_scheduler_config *c, int n1, int n2, double *e1, double *e2) {
    *e1 = run_error(c, n1, G0, NULL);
    *e2 = run_error(c, n2, G0, NULL);
    return log(*e1 / *e2) / log((double)n2 / n1);
}

/* Discretisation error against the exact endpoint falls at roughly each method's order.
 * Measured orders (docs/samplers.md); the bounds leave room for pre-asymptotic wiggle. */
static void test_orders(void) {
    struct {
        brisk_sampler_kind k;
        brisk_time_mode mode;
        int spacing, final_min, sigma_var, n1, n2;
        double lo, hi;
    } cases[] = {
        {BRISK_SAMPLER_DDIM, BRISK_TIME_GRID, 1, 0, 0, 25, 100, 0.85, 1.2},
        {BRISK_SAMPLER_PSEUDO_EULER, BRISK_TIME_GRID, 1, 0, 0, 25, 100, 0.85, 1.2},
        {BRISK_SAMPLER_EULER, BRISK_TIME_DIFFUSERS, 1, 0, 0, 25, 100, 0.85, 1.2},
        {BRISK_SAMPLER_HEUN, BRISK_TIME_DIFFUSERS, 1, 0, 0, 25, 100, 1.8, 2.5},
        {BRISK_SAMPLER_DPMPP_2M, BRISK_TIME_DIFFUSERS, 1, 1, 0, 50, 200, 1.8, 2.5},
        {BRISK_SAMPLER_UNIPC, BRISK_TIME_DIFFUSERS, 1, 1, 0, 25, 100, 2.5, 4.0},
        {BRISK_SAMPLER_SPNDM, BRISK_TIME_GRID, 1, 0, 1, 25, 100, 1.7, 2.4},
        {BRISK_SAMPLER_PLMS, BRISK_TIME_GRID, 1, 0, 0, 25, 100, 1.8, 2.8},  /* t weights: ~2 */
        {BRISK_SAMPLER_PLMS, BRISK_TIME_GRID, 1, 0, 1, 25, 100, 3.2, 4.5},  /* sigma: ~4 */
        {BRISK_SAMPLER_FPNDM, BRISK_TIME_GRID, 2, 0, 1, 25, 100, 3.2, 4.5},
        {BRISK_SAMPLER_PNDM, BRISK_TIME_GRID, 1, 0, 1, 25, 100, 3.2, 4.5},
        {BRISK_SAMPLER_IPNDM, BRISK_TIME_GRID, 1, 0, 0, 25, 100, 3.2, 4.5},
        {BRISK_SAMPLER_FON, BRISK_TIME_DIFFUSERS, 0, 0, 0, 25, 50, 1.2, 4.5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        brisk_scheduler_config c;
        brisk_scheduler_config_default(&c, cases[i].k);
        c.time_mode = cases[i].mode;
        c.timestep_spacing = (brisk_timestep_spacing)cases[i].spacing;
        c.clip_sample = 0;
        if (cases[i].final_min) c.final_sigmas_type = BRISK_FINAL_SIGMA_MIN;
        if (cases[i].sigma_var) c.grid_variable = BRISK_GRID_SIGMA;
        double e1, e2, p = order(&c, cases[i].n1, cases[i].n2, &e1, &e2);
        printf("order %-12s %-9s N %d -> %d: error %.3g -> %.3g, order %.2f\n",
               brisk_sampler_kind_name(cases[i].k), brisk_time_mode_name(cases[i].mode), cases[i].n1,
               cases[i].n2, e1, e2, p);
        ASSERT_TRUE(e1 > 0 && e2 > 0);
        ASSERT_DOUBLE_LE(cases[i].lo, p);
        ASSERT_DOUBLE_LE(p, cases[i].hi);
    }
}

/* diffusers hard-codes prev_t = t - T // N; on a linspace grid with 400 steps that is 2
 * while the grid moves by about 2.5, so the model sees states at the wrong noise level and
 * the error stays large. Grid mode follows the grid and converges. */
static void test_grid_fixes_prev_t(void) {
    brisk_scheduler_config c;
    brisk_scheduler_config_default(&c, BRISK_SAMPLER_PLMS);
    c.timestep_spacing = BRISK_SPACING_LINSPACE;
    double bad = run_error(&c, 400, G0, NULL);
    c.time_mode = BRISK_TIME_GRID;
    double good = run_error(&c, 400, G0, NULL);
    printf("PLMS linspace 400 steps: diffusers error %.3g, grid error %.3g\n", bad, good);
    ASSERT_DOUBLE_LE(0.05, bad);
    ASSERT_DOUBLE_LE(good, 1e-3);
}

static void test_pf(void) {
    brisk_scheduler_config c;
    brisk_scheduler_config_default(&c, BRISK_SAMPLER_PF);
    double n1, n2;
    c.pf_rtol = c.pf_atol = 1e-3;
    double e1 = run_error(&c, 1, G0, &n1);
    c.pf_rtol = c.pf_atol = 1e-8;
    double e2 = run_error(&c, 1, G0, &n2);
    printf("PF RK45: rtol 1e-3 error %.3g (nfe %.0f), rtol 1e-8 error %.3g (nfe %.0f)\n", e1, n1, e2, n2);
    ASSERT_TRUE(e1 > 0);
    ASSERT_DOUBLE_LE(e2, 1e-6);
    ASSERT_DOUBLE_LE(e2, e1 / 10);
    ASSERT_TRUE(n2 > n1);
    brisk_scheduler *s;
    ASSERT_OK(brisk_scheduler_create(&c, &s));
    ASSERT_OK(brisk_scheduler_set_timesteps(s, 10, 1, 4));
    double mo[4] = {0}, x[4] = {0};
    ASSERT_STATUS(brisk_scheduler_step(s, mo, 0, x, x, 1), BRISK_EUNSUPPORTED);
    ASSERT_STATUS(brisk_scheduler_next(s, NULL, NULL), BRISK_EUNSUPPORTED);
    brisk_scheduler_free(s);
}

/* Every sampler's step allocates nothing (set_timesteps allocates all workspace). */
static void test_no_alloc(void) {
    for (int k = 0; k < BRISK_SAMPLER_COUNT; k++) {
        if (k == BRISK_SAMPLER_PF) continue;
        for (int variant = 0; variant < 2; variant++) {
            brisk_scheduler_config c;
            brisk_scheduler_config_default(&c, (brisk_sampler_kind)k);
            if (variant) { /* the costlier options */
                c.thresholding = k == BRISK_SAMPLER_DDIM || k == BRISK_SAMPLER_DDPM ||
                                 k == BRISK_SAMPLER_DPMPP_2M || k == BRISK_SAMPLER_UNIPC;
                c.eta = 1;
                c.solver_order = 3;
                c.time_mode = c.time_mode == BRISK_TIME_REFERENCE ? BRISK_TIME_GRID : c.time_mode;
            }
            double x[8];
            uint64_t allocs = 99;
            int rc = run_steps(&c, 12, x, &allocs, G0);
            ASSERT_OK(rc);
            ASSERT_EQ(allocs, 0);
        }
    }
}

static void naive_threshold(double *x, size_t dim, double ratio, double maxv) {
    double *v = malloc(dim * sizeof *v);
    for (size_t i = 0; i < dim; i++) v[i] = fabs(x[i]);
    for (size_t i = 1; i < dim; i++) /* insertion sort */
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    double pos = ratio * (dim - 1);
    size_t lo = (size_t)pos;
    double q = lo + 1 < dim ? v[lo] + (pos - lo) * (v[lo + 1] - v[lo]) : v[lo];
    double s = q < 1 ? 1 : q > maxv ? maxv : q;
    for (size_t i = 0; i < dim; i++) x[i] = (x[i] < -s ? -s : x[i] > s ? s : x[i]) / s;
    free(v);
}

static void test_threshold(void) {
    size_t dims[] = {1, 2, 7, 100, 1001};
    for (size_t d = 0; d < 5; d++) {
        size_t dim = dims[d], batch = 3;
        double *x = malloc(batch * dim * sizeof *x), *y = malloc(batch * dim * sizeof *y);
        double *work = malloc(dim * sizeof *work);
        brisk_randn(5, d, 0, batch * dim, x);
        for (size_t i = 0; i < batch * dim; i++) x[i] *= 2.5;
        for (size_t i = dim; i < 2 * dim; i++) x[i] = round(x[i] * 2) / 2; /* many ties */
        for (size_t i = 2 * dim; i < 3 * dim; i++) x[i] = 1.25;          /* all equal */
        memcpy(y, x, batch * dim * sizeof *x);
        brisk__threshold(x, batch, dim, 0.995, 1.7, work);
        for (size_t b = 0; b < batch; b++) naive_threshold(y + b * dim, dim, 0.995, 1.7);
        ASSERT_DOUBLE_LE(maxdiff(x, y, batch * dim), 1e-15);
        free(x), free(y), free(work);
    }
}

/* The noise of sample i depends only on (seed, i): batch 3 and batch 1 at offset 2 give
 * the same bits for that sample. */
static void test_rng_batches(void) {
    brisk_sampler_kind kinds[] = {BRISK_SAMPLER_DDPM, BRISK_SAMPLER_DDIM};
    for (int k = 0; k < 2; k++) {
        brisk_scheduler_config c;
        brisk_scheduler_config_default(&c, kinds[k]);
        c.eta = 1;
        brisk_scheduler *s;
        ASSERT_OK(brisk_scheduler_create(&c, &s));
        gauss g = G0;
        brisk_denoiser d = {gauss_predict, NULL, &g, 4, 0, 0, 0, BRISK_PRED_EPSILON};
        brisk_run_options o;
        brisk_run_options_default(&o);
        o.seed = 1234;
        double x3[12], x1[4];
        brisk_sample_init_noise(o.seed, 0, 3, 4, x3);
        brisk_sample_init_noise(o.seed, 2, 1, 4, x1);
        ASSERT_TRUE(!memcmp(x3 + 8, x1, sizeof x1));
        ASSERT_OK(brisk_sample_run(s, &d, 20, x3, 3, &o, NULL));
        o.sample_offset = 2;
        ASSERT_OK(brisk_sample_run(s, &d, 20, x1, 1, &o, NULL));
        ASSERT_TRUE(!memcmp(x3 + 8, x1, sizeof x1));
        /* a different seed changes the result */
        o.seed = 99;
        brisk_sample_init_noise(1234, 2, 1, 4, x1);
        ASSERT_OK(brisk_sample_run(s, &d, 20, x1, 1, &o, NULL));
        ASSERT_TRUE(memcmp(x3 + 8, x1, sizeof x1) != 0);
        /* supplied noise that runs out */
        double few[4] = {0};
        brisk_scheduler_set_noise(s, few, 4);
        brisk_sample_init_noise(1234, 2, 1, 4, x1);
        ASSERT_STATUS(brisk_sample_run(s, &d, 20, x1, 1, &o, NULL), BRISK_ESTATE);
        ASSERT_STR_CONTAINS(brisk_last_error(), "ran out");
        brisk_scheduler_free(s);
    }
}

static int stop_after_3(void *ctx, size_t done, size_t planned) {
    (void)ctx, (void)planned;
    return done >= 3;
}

static void test_bad_model(void) {
    for (int k = 0; k < BRISK_SAMPLER_COUNT; k++) {
        brisk_scheduler_config c;
        brisk_scheduler_config_default(&c, (brisk_sampler_kind)k);
        brisk_scheduler *s;
        ASSERT_OK(brisk_scheduler_create(&c, &s));
        gauss g = G0;
        g.nan_at = 3;
        brisk_denoiser d = {gauss_predict, NULL, &g, 4, 0, 0, 0, BRISK_PRED_EPSILON};
        double x[8];
        brisk_sample_init_noise(1, 0, 2, 4, x);
        ASSERT_STATUS(brisk_sample_run(s, &d, 10, x, 2, NULL, NULL), BRISK_ENUMERIC);
        if (k != BRISK_SAMPLER_PF) ASSERT_STR_CONTAINS(brisk_last_error(), "step 3 ");
        else ASSERT_STR_CONTAINS(brisk_last_error(), "model call 3 ");
        ASSERT_STR_CONTAINS(brisk_last_error(), "not finite");
        brisk_scheduler_free(s);
    }
    /* wrong timestep, batch change and stepping past the end are errors, not UB */
    brisk_scheduler_config c;
    brisk_scheduler_config_default(&c, BRISK_SAMPLER_DDIM);
    brisk_scheduler *s;
    ASSERT_OK(brisk_scheduler_create(&c, &s));
    ASSERT_OK(brisk_scheduler_set_timesteps(s, 2, 2, 4));
    double x[8] = {0}, mo[8] = {0};
    ASSERT_STATUS(brisk_scheduler_step(s, mo, 3, x, x, 2), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "expected timestep 500");
    ASSERT_STATUS(brisk_scheduler_step(s, mo, 500, x, x, 3), BRISK_EINVAL);
    ASSERT_OK(brisk_scheduler_step(s, mo, 500, x, x, 2));
    ASSERT_STATUS(brisk_scheduler_step(s, mo, 0, x, x, 1), BRISK_EINVAL);
    ASSERT_OK(brisk_scheduler_step(s, mo, 0, x, x, 2));
    ASSERT_TRUE(brisk_scheduler_done(s));
    ASSERT_STATUS(brisk_scheduler_step(s, mo, 0, x, x, 2), BRISK_ESTATE);
    /* the progress callback can stop a run */
    gauss g = G0;
    brisk_denoiser d = {gauss_predict, NULL, &g, 4, 0, 0, 0, BRISK_PRED_EPSILON};
    brisk_run_options o;
    brisk_run_options_default(&o);
    o.progress = stop_after_3;
    brisk_run_stats st;
    ASSERT_STATUS(brisk_sample_run(s, &d, 10, x, 2, &o, &st), BRISK_ESTATE);
    ASSERT_EQ(st.nfe, 3);
    brisk_scheduler_free(s);
}

/* A denoiser that predicts x0 (or v) drives an epsilon scheduler to the same result. */
static void test_prediction_conversion(void) {
    brisk_prediction preds[] = {BRISK_PRED_SAMPLE, BRISK_PRED_V};
    brisk_sampler_kind kinds[] = {BRISK_SAMPLER_EULER, BRISK_SAMPLER_PLMS, BRISK_SAMPLER_UNIPC};
    for (int k = 0; k < 3; k++)
        for (int p = 0; p < 2; p++) {
            brisk_scheduler_config c;
            brisk_scheduler_config_default(&c, kinds[k]);
            gauss ge = G0, gp = G0;
            gp.pred = preds[p];
            double e1 = run_error(&c, 20, ge, NULL), e2 = run_error(&c, 20, gp, NULL);
            ASSERT_NEAR(e1, e2, 1e-9);
        }
}

int main(void) {
    test_phi_forms();
    test_ab_weights();
    test_ddim_is_pseudo_euler();
    test_grid_even();
    test_orders();
    test_grid_fixes_prev_t();
    test_pf();
    test_no_alloc();
    test_threshold();
    test_rng_batches();
    test_bad_model();
    test_prediction_conversion();
    TEST_DONE();
}
