/* brisk bench: benchmarks that print tables. `samplers` measures every sampler's true
 * discretisation error against an exact probability-flow solution (docs/bench-samplers.md);
 * `quality` runs the PNDM study on a trained model (tools/bench_quality.c). */
#include "cli.h"
#include "quality.h"

#include "brisk/core.h"
#include "brisk/denoiser.h"
#include "brisk/diffusion.h"
#include "brisk/io.h"
#include "brisk/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the sampler variants ------------------------------------------------------------ */

typedef struct variant {
    const char *label;
    brisk_sampler_kind kind;
    int time_mode;   /* -1: the kind's default */
    int spacing;     /* -1: the kind's default */
    int stochastic;  /* no PF endpoint: only the Gaussian's distribution error */
    int adaptive;    /* steps do not apply: run once */
} variant;

static const variant VARIANTS[] = {
    {"ddim", BRISK_SAMPLER_DDIM, -1, -1, 0, 0},
    /* the PNDM authors' methods run in their own "reference" mode by default */
    {"pseudo-euler", BRISK_SAMPLER_PSEUDO_EULER, -1, -1, 0, 0},
    {"spndm", BRISK_SAMPLER_SPNDM, -1, -1, 0, 0},
    {"fpndm", BRISK_SAMPLER_FPNDM, -1, -1, 0, 0},
    {"fon", BRISK_SAMPLER_FON, -1, -1, 0, 0},
    {"plms", BRISK_SAMPLER_PLMS, -1, -1, 0, 0},
    {"pndm (PRK)", BRISK_SAMPLER_PNDM, -1, -1, 0, 0},
    {"euler", BRISK_SAMPLER_EULER, -1, -1, 0, 0},
    {"heun", BRISK_SAMPLER_HEUN, -1, -1, 0, 0},
    {"dpmpp-2m", BRISK_SAMPLER_DPMPP_2M, -1, -1, 0, 0},
    {"unipc", BRISK_SAMPLER_UNIPC, -1, -1, 0, 0},
    {"ipndm", BRISK_SAMPLER_IPNDM, -1, -1, 0, 0},
    /* grid mode: alpha-bar indexed consistently, prev_t follows the grid, exact
     * variable-step Adams-Bashforth weights */
    {"pseudo-euler grid/leading", BRISK_SAMPLER_PSEUDO_EULER, BRISK_TIME_GRID, BRISK_SPACING_LEADING, 0, 0},
    {"fpndm grid/leading", BRISK_SAMPLER_FPNDM, BRISK_TIME_GRID, BRISK_SPACING_LEADING, 0, 0},
    {"plms grid/trailing", BRISK_SAMPLER_PLMS, BRISK_TIME_GRID, BRISK_SPACING_TRAILING, 0, 0},
    {"plms grid/linspace", BRISK_SAMPLER_PLMS, BRISK_TIME_GRID, BRISK_SPACING_LINSPACE, 0, 0},
    {"fpndm grid/trailing", BRISK_SAMPLER_FPNDM, BRISK_TIME_GRID, BRISK_SPACING_TRAILING, 0, 0},
    {"fpndm grid/linspace", BRISK_SAMPLER_FPNDM, BRISK_TIME_GRID, BRISK_SPACING_LINSPACE, 0, 0},
    {"pf (RK45 1e-5)", BRISK_SAMPLER_PF, -1, -1, 0, 1},
    {"ddpm", BRISK_SAMPLER_DDPM, -1, -1, 1, 0},
};
#define N_VARIANTS (sizeof VARIANTS / sizeof VARIANTS[0])

static void variant_config(const variant *v, brisk_scheduler_config *c) {
    brisk_scheduler_config_default(c, v->kind);
    if (v->time_mode >= 0) c->time_mode = (brisk_time_mode)v->time_mode;
    if (v->spacing >= 0) c->timestep_spacing = (brisk_timestep_spacing)v->spacing;
    /* the ODE itself, not a clipped variant of it */
    c->clip_sample = 0;
    c->thresholding = 0;
}

/* ---- one measured run ------------------------------------------------------------------ */

typedef struct result {
    int ok;             /* 0: the configuration cannot run (reason in why) */
    char why[160];
    size_t nfe;
    double a_start, xs_scale, a_end, xe_scale;
    double rms, maxerr; /* vs the exact PF endpoint (deterministic samplers) */
    double w2;          /* Gaussian only: exact W2 / sqrt(dim) of the output law vs the exact law */
    int same;           /* empirical only: samples ending nearest the reference's training image */
    double w2_floor;    /* Gaussian only: W2 / sqrt(dim) of the exact PF map applied to x_T ~ N(0, I) */
    double seconds;
    double *x;          /* (batch, dim) final states mapped to VP (xe_scale * x) */
} result;

typedef struct testbed {
    const char *name;
    brisk_denoiser *d;
    size_t batch, dim;
    double *z;          /* (batch, dim) x_T */
    const double *mean, *std; /* Gaussian only */
    const float *points;      /* empirical only: (n_points, dim) */
    size_t n_points;
} testbed;

/* Runs the sampler once from x_T = tb->z; fills nfe, span, x. */
static int run_sampler(const variant *v, int steps, const testbed *tb, result *r) {
    memset(r, 0, sizeof *r);
    brisk_scheduler_config cfg;
    variant_config(v, &cfg);
    brisk_scheduler *s = NULL;
    int rc = brisk_scheduler_create(&cfg, &s);
    if (!rc) rc = brisk_scheduler_set_timesteps(s, steps, tb->batch, tb->dim);
    if (rc) {
        snprintf(r->why, sizeof r->why, "%s", brisk_last_error());
        brisk_scheduler_free(s);
        brisk_scheduler_config_clear(&cfg);
        return 0;
    }
    brisk_scheduler_ode_span(s, &r->a_start, &r->xs_scale, &r->a_end, &r->xe_scale);
    size_t n = tb->batch * tb->dim;
    r->x = brisk_malloc(n * sizeof(double));
    if (!r->x) cli_die_status(BRISK_ENOMEM, "bench");
    memcpy(r->x, tb->z, n * sizeof(double));
    brisk_run_options o;
    brisk_run_options_default(&o);
    brisk_run_stats st;
    double t0 = cli_now();
    rc = brisk_sample_run(s, tb->d, steps, r->x, tb->batch, &o, &st);
    r->seconds = cli_now() - t0;
    if (rc) {
        snprintf(r->why, sizeof r->why, "%s", brisk_last_error());
        brisk_free(r->x);
        r->x = NULL;
    } else {
        r->ok = 1;
        r->nfe = st.nfe;
        for (size_t i = 0; i < n; i++) r->x[i] *= r->xe_scale;
    }
    brisk_scheduler_free(s);
    brisk_scheduler_config_clear(&cfg);
    return r->ok;
}

/* The output of any of these samplers on Gaussian data is affine in (x_T, step noises) per
 * coordinate (the Gaussian denoiser is affine and diagonal), so its law is exactly Gaussian.
 * Probing with unit inputs through the step API gives the mean b and the variance
 * A^2 + sum_k B_k^2; W2 to N(mu, s^2) per coordinate is sqrt((b - mu)^2 + (sd - s)^2)
 * (Dowson & Landau 1982 for Gaussians). Returns the RMS over coordinates. */
static double gaussian_w2(const variant *v, int steps, const testbed *tb) {
    if (v->adaptive) return NAN; /* step sizes depend on the batch: not affine */
    brisk_scheduler_config cfg;
    variant_config(v, &cfg);
    brisk_scheduler *s;
    if (brisk_scheduler_create(&cfg, &s)) {
        brisk_scheduler_config_clear(&cfg);
        return NAN;
    }
    size_t D = tb->dim;
    size_t draws = v->stochastic ? (size_t)steps : 0, P = 2 + draws;
    double *noise = NULL, *x = NULL, *xin = NULL, *eps = NULL;
    double w2 = NAN;
    if (brisk_scheduler_set_timesteps(s, steps, P, D)) goto done;
    x = brisk_calloc(P * D, sizeof *x);
    xin = brisk_malloc(P * D * sizeof *xin);
    eps = brisk_malloc(P * D * sizeof *eps);
    if (draws) noise = brisk_calloc(draws * P * D, sizeof *noise);
    if (!x || !xin || !eps || (draws && !noise)) cli_die_status(BRISK_ENOMEM, "bench");
    /* probe 0: all zeros; probe 1: x_T = 1; probe 2 + k: draw k = 1 */
    double sigma0 = brisk_scheduler_init_noise_sigma(s);
    for (size_t j = 0; j < D; j++) x[D + j] = sigma0;
    for (size_t k = 0; k < draws; k++)
        for (size_t j = 0; j < D; j++) noise[(k * P + 2 + k) * D + j] = 1.0;
    if (draws) brisk_scheduler_set_noise(s, noise, draws * P * D);
    while (!brisk_scheduler_done(s)) {
        double t, ab;
        if (brisk_scheduler_next(s, &t, &ab)) goto done;
        brisk_scheduler_scale_model_input(s, x, xin, P);
        if (brisk_denoiser_predict(tb->d, xin, P, t, ab, eps)) goto done;
        if (brisk_scheduler_step(s, eps, t, x, x, P)) goto done;
    }
    /* the PF ODE keeps the marginals: at alpha-bar a_end the exact law is
     * N(sqrt(a) m, a s^2 + 1 - a) per coordinate (the data law when a_end = 1) */
    double xe, ae;
    brisk_scheduler_ode_span(s, NULL, NULL, &ae, &xe);
    double acc = 0;
    for (size_t j = 0; j < D; j++) {
        double b = xe * x[j], var = 0;
        for (size_t p = 1; p < P; p++) {
            double c = xe * x[p * D + j] - b;
            var += c * c;
        }
        double s2 = tb->std[j] * tb->std[j];
        double dm = b - sqrt(ae) * tb->mean[j], ds = sqrt(var) - sqrt(ae * s2 + 1.0 - ae);
        acc += dm * dm + ds * ds;
    }
    w2 = sqrt(acc / (double)D);
done:
    brisk_free(noise);
    brisk_free(x);
    brisk_free(xin);
    brisk_free(eps);
    brisk_scheduler_free(s);
    brisk_scheduler_config_clear(&cfg);
    return w2;
}

/* Index of the point nearest to x / sqrt(a) (plain O(n dim) scan). */
static size_t nearest_point(const testbed *tb, const double *x, double a) {
    size_t best = 0;
    double bd = INFINITY, sa = sqrt(a);
    for (size_t i = 0; i < tb->n_points; i++) {
        const float *y = tb->points + i * tb->dim;
        double d = 0;
        for (size_t j = 0; j < tb->dim && d < bd; j++) {
            double e = x[j] / sa - y[j];
            d += e * e;
        }
        if (d < bd) bd = d, best = i;
    }
    return best;
}

/* The part of W2 that is not the sampler's: x_T ~ N(0, I) is only approximately the law
 * N(sqrt(a) m, a s^2 + 1 - a) at the start alpha-bar, and the exact PF map carries that
 * mismatch to the end unchanged in standardised units. Per coordinate the pushforward is
 * N(mu_e - sd_e sqrt(a_s) m / sd_s, (sd_e xs / sd_s)^2) against N(mu_e, sd_e^2). */
static double gaussian_w2_floor(const testbed *tb, double a_s, double xs, double a_e) {
    double acc = 0;
    for (size_t j = 0; j < tb->dim; j++) {
        double s2 = tb->std[j] * tb->std[j], m = tb->mean[j];
        double sd_s = sqrt(a_s * s2 + 1 - a_s), sd_e = sqrt(a_e * s2 + 1 - a_e);
        double dm = sd_e * sqrt(a_s) * m / sd_s, ds = sd_e * (xs / sd_s - 1);
        acc += dm * dm + ds * ds;
    }
    return sqrt(acc / (double)tb->dim);
}

static void errors_vs(result *r, const double *ref, size_t n) {
    double s = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(r->x[i] - ref[i]);
        s += e * e;
        if (e > m) m = e;
    }
    r->rms = sqrt(s / (double)n);
    r->maxerr = m;
}

/* ---- references for the empirical testbed --------------------------------------------- */

typedef struct ref_entry {
    double a_start, xs_scale, a_end;
    double *x; /* (batch, dim) */
} ref_entry;

typedef struct ref_cache {
    ref_entry *e;
    size_t n, cap;
    size_t nfe;
    double seconds;
} ref_cache;

/* Spans equal to rounding (e.g. Euler's start scale sqrt(sigma^2 + 1) sqrt(a) = 1 + 2e-16)
 * share one reference solve. */
static int same_value(double a, double b) { return fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b)); }

static ref_entry *ref_find(ref_cache *c, double a_start, double xs, double a_end) {
    for (size_t i = 0; i < c->n; i++)
        if (same_value(c->e[i].a_start, a_start) && same_value(c->e[i].xs_scale, xs) &&
            same_value(c->e[i].a_end, a_end))
            return &c->e[i];
    return NULL;
}

static void ref_add(ref_cache *c, double a_start, double xs, double a_end) {
    if (ref_find(c, a_start, xs, a_end)) return;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->e = realloc(c->e, c->cap * sizeof *c->e);
        if (!c->e) cli_die("bench: out of memory");
    }
    c->e[c->n++] = (ref_entry){a_start, xs, a_end, NULL};
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Solves every pending span: one ODE solve per start (a_start, xs_scale) with all its ends. */
static void ref_solve_all(ref_cache *c, const testbed *tb, const brisk_pf_solve_options *po, int quiet) {
    size_t n = tb->batch * tb->dim;
    double *x0 = brisk_malloc(n * sizeof *x0);
    if (!x0) cli_die("bench: out of memory");
    for (size_t i = 0; i < c->n; i++) {
        if (c->e[i].x) continue;
        double ends[64];
        size_t ne = 0;
        for (size_t j = i; j < c->n && ne < 64; j++)
            if (!c->e[j].x && same_value(c->e[j].a_start, c->e[i].a_start) &&
                same_value(c->e[j].xs_scale, c->e[i].xs_scale))
                ends[ne++] = c->e[j].a_end;
        qsort(ends, ne, sizeof *ends, cmp_double);
        double *out = brisk_malloc(ne * n * sizeof *out);
        if (!out) cli_die("bench: out of memory");
        for (size_t k = 0; k < n; k++) x0[k] = c->e[i].xs_scale * tb->z[k];
        brisk_pf_solve_stats st;
        double t0 = cli_now();
        int rc = brisk_pf_solve(tb->d, x0, tb->batch, c->e[i].a_start, ends, ne, po, out, &st);
        if (rc) cli_die_status(rc, "bench: reference solve");
        double dt = cli_now() - t0;
        c->nfe += st.nfe;
        c->seconds += dt;
        if (!quiet)
            fprintf(stderr, "  reference from alpha_bar %.6g to %zu end(s): %zu calls, %.1f s\n",
                    c->e[i].a_start, ne, st.nfe, dt);
        for (size_t k = 0; k < ne; k++) {
            ref_entry *e = ref_find(c, c->e[i].a_start, c->e[i].xs_scale, ends[k]);
            if (e && !e->x) {
                e->x = brisk_malloc(n * sizeof *e->x);
                if (!e->x) cli_die("bench: out of memory");
                memcpy(e->x, out + k * n, n * sizeof *e->x);
            }
        }
        brisk_free(out);
    }
    brisk_free(x0);
}

static void ref_free(ref_cache *c) {
    for (size_t i = 0; i < c->n; i++) brisk_free(c->e[i].x);
    free(c->e);
    memset(c, 0, sizeof *c);
}

/* ---- the table ---------------------------------------------------------------------------- */

typedef struct bench_opts {
    int steps[32];
    size_t n_steps;
    size_t subset, samples, gsamples;
    uint64_t seed;
    double ref_tol;
    int do_gauss, do_smooth, do_emp, quiet;
    const char *csv;
    int selected[N_VARIANTS];
} bench_opts;

static void fmt_err(char *buf, size_t n, double e) {
    if (!isfinite(e)) snprintf(buf, n, "nan");
    else if (e == 0) snprintf(buf, n, "0");
    else snprintf(buf, n, "%.2e", e);
}

/* Prints the markdown table: rows variants, columns steps, cells "error (NFE)". */
enum { SHOW_RMS = 0, SHOW_W2, SHOW_SAME };
static void print_table(const bench_opts *bo, result *res, const char *what, int show) {
    int use_w2 = show == SHOW_W2;
    printf("\n%s\n\n| sampler |", what);
    for (size_t k = 0; k < bo->n_steps; k++) printf(" %d |", bo->steps[k]);
    printf("\n|---|");
    for (size_t k = 0; k < bo->n_steps; k++) printf("---|");
    printf("\n");
    for (size_t v = 0; v < N_VARIANTS; v++) {
        if (!bo->selected[v]) continue;
        if (!use_w2 && VARIANTS[v].stochastic) continue;
        if (use_w2 && VARIANTS[v].adaptive) continue;
        printf("| %s |", VARIANTS[v].label);
        for (size_t k = 0; k < bo->n_steps; k++) {
            result *r = &res[v * bo->n_steps + k];
            if (VARIANTS[v].adaptive && k > 0) {
                printf(" |");
                continue;
            }
            if (!r->ok) {
                printf(" - |");
                continue;
            }
            char e[32];
            if (show == SHOW_SAME) snprintf(e, sizeof e, "%d", r->same);
            else fmt_err(e, sizeof e, use_w2 ? r->w2 : r->rms);
            printf(" %s (%zu) |", e, r->nfe);
        }
        printf("\n");
    }
    if (use_w2) {
        /* the prior-mismatch floor on ddim's spans */
        size_t vd = 0;
        while (vd < N_VARIANTS && strcmp(VARIANTS[vd].label, "ddim")) vd++;
        if (vd < N_VARIANTS && bo->selected[vd]) {
            printf("| floor: exact PF map from x_T ~ N(0, I) (ddim's spans) |");
            for (size_t k = 0; k < bo->n_steps; k++) {
                char e[32];
                fmt_err(e, sizeof e, res[vd * bo->n_steps + k].w2_floor);
                printf(" %s |", res[vd * bo->n_steps + k].ok ? e : "-");
            }
            printf("\n");
        }
    }
}

static void csv_rows(FILE *f, const bench_opts *bo, const testbed *tb, result *res) {
    for (size_t v = 0; v < N_VARIANTS; v++) {
        if (!bo->selected[v]) continue;
        for (size_t k = 0; k < bo->n_steps; k++) {
            result *r = &res[v * bo->n_steps + k];
            if (VARIANTS[v].adaptive && k > 0) continue;
            if (!r->ok) {
                if (r->why[0])
                    fprintf(f, "%s,%s,%d,,,,,,,,,,\"%s\"\n", tb->name, VARIANTS[v].label, bo->steps[k], r->why);
                continue;
            }
            fprintf(f, "%s,%s,%d,%zu,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%d,%.4f,\n", tb->name,
                    VARIANTS[v].label, VARIANTS[v].adaptive ? 0 : bo->steps[k], r->nfe, r->a_start,
                    r->a_end, VARIANTS[v].stochastic ? NAN : r->rms, VARIANTS[v].stochastic ? NAN : r->maxerr,
                    r->w2, tb->points ? NAN : r->w2_floor, tb->points ? r->same : -1, r->seconds);
        }
    }
}

/* The PNDM paper's claim (Liu et al. 2022, sec. 5): 50-step PNDM beats 1000-step DDIM. */
static size_t variant_index(const char *label) {
    for (size_t v = 0; v < N_VARIANTS; v++)
        if (!strcmp(VARIANTS[v].label, label)) return v;
    BRISK_ASSERT(0 && "unknown variant label");
    return 0;
}

static void verdicts(const bench_opts *bo, result *res, const char *tb, int same_kind, size_t batch) {
    /* the last pair shares grid and end point: the cleanest comparison */
    static const char *pairs[][2] = {{"fpndm", "pseudo-euler"},
                                     {"fpndm", "ddim"},
                                     {"fpndm grid/leading", "ddim"},
                                     {"fpndm grid/leading", "pseudo-euler grid/leading"}};
    size_t k50 = (size_t)-1, k1000 = (size_t)-1;
    for (size_t k = 0; k < bo->n_steps; k++) {
        if (bo->steps[k] == 50) k50 = k;
        if (bo->steps[k] == 1000) k1000 = k;
    }
    if (k50 == (size_t)-1 || k1000 == (size_t)-1) return;
    int header = 0;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        size_t vf = variant_index(pairs[i][0]), vd = variant_index(pairs[i][1]);
        if (!bo->selected[vf] || !bo->selected[vd]) continue;
        result *f = &res[vf * bo->n_steps + k50], *d = &res[vd * bo->n_steps + k1000];
        if (!f->ok || !d->ok) continue;
        if (!header) printf("\n%s: does 50-step F-PNDM beat 1000-step DDIM?\n", tb);
        header = 1;
        printf("- %s @ 50 steps (NFE %zu, ends at alpha-bar %.6g): RMS error %.3g vs %s @ 1000 steps "
               "(NFE %zu, ends at %.6g): %.3g -> %s (ratio %.3g)",
               pairs[i][0], f->nfe, f->a_end, f->rms, pairs[i][1], d->nfe, d->a_end, d->rms,
               f->rms < d->rms ? "yes, F-PNDM is more accurate" : "no, F-PNDM is less accurate",
               f->rms / d->rms);
        if (same_kind) printf("; same training image: %d vs %d of %zu", f->same, d->same, batch);
        printf("\n");
    }
}

static void run_testbed(const bench_opts *bo, testbed *tb, FILE *csv, int gaussian) {
    size_t nr = N_VARIANTS * bo->n_steps, n = tb->batch * tb->dim;
    result *res = calloc(nr, sizeof *res);
    if (!res) cli_die("bench: out of memory");
    ref_cache rc = {0};
    double t0 = cli_now();
    size_t total_nfe = 0;
    for (size_t v = 0; v < N_VARIANTS; v++) {
        if (!bo->selected[v]) continue;
        if (!gaussian && VARIANTS[v].stochastic) continue;
        double tv = cli_now();
        size_t nfe_v = 0;
        for (size_t k = 0; k < bo->n_steps; k++) {
            if (VARIANTS[v].adaptive && k > 0) continue;
            result *r = &res[v * bo->n_steps + k];
            int steps = VARIANTS[v].adaptive ? 50 : bo->steps[k];
            if (VARIANTS[v].stochastic) {
                /* DDPM: the exact output law only (there is no PF endpoint to compare with) */
                brisk_scheduler_config cfg;
                variant_config(&VARIANTS[v], &cfg);
                brisk_scheduler *s = NULL;
                int ok = !brisk_scheduler_create(&cfg, &s) && !brisk_scheduler_set_timesteps(s, steps, 1, tb->dim);
                if (ok) {
                    r->ok = 1;
                    r->nfe = brisk_scheduler_num_model_calls(s);
                    nfe_v += r->nfe;
                    r->w2 = gaussian_w2(&VARIANTS[v], steps, tb);
                } else {
                    snprintf(r->why, sizeof r->why, "%s", brisk_last_error());
                }
                brisk_scheduler_free(s);
                brisk_scheduler_config_clear(&cfg);
                continue;
            }
            if (!run_sampler(&VARIANTS[v], steps, tb, r)) continue;
            nfe_v += r->nfe;
            if (gaussian) {
                double *ref = brisk_malloc(n * sizeof *ref), *x0 = brisk_malloc(n * sizeof *x0);
                if (!ref || !x0) cli_die("bench: out of memory");
                for (size_t i = 0; i < n; i++) x0[i] = r->xs_scale * tb->z[i];
                brisk_gaussian_pf_map(tb->mean, tb->std, tb->dim, x0, tb->batch, r->a_start, r->a_end, ref);
                errors_vs(r, ref, n);
                r->w2 = gaussian_w2(&VARIANTS[v], steps, tb);
                r->w2_floor = gaussian_w2_floor(tb, r->a_start, r->xs_scale, r->a_end);
                brisk_free(ref);
                brisk_free(x0);
            } else {
                ref_add(&rc, r->a_start, r->xs_scale, r->a_end);
            }
        }
        if (!bo->quiet)
            fprintf(stderr, "  %-20s %7zu model calls, %6.1f s\n", VARIANTS[v].label, nfe_v, cli_now() - tv);
        total_nfe += nfe_v;
    }
    double t_runs = cli_now() - t0;
    if (!gaussian) {
        brisk_pf_solve_options po;
        brisk_pf_solve_options_default(&po);
        po.rtol = po.atol = bo->ref_tol;
        ref_solve_all(&rc, tb, &po, bo->quiet);
        for (size_t i = 0; i < nr; i++) {
            if (!res[i].ok || !res[i].x) continue;
            const double *ref = ref_find(&rc, res[i].a_start, res[i].xs_scale, res[i].a_end)->x;
            errors_vs(&res[i], ref, n);
            res[i].same = 0;
            for (size_t b = 0; b < tb->batch; b++)
                res[i].same += nearest_point(tb, res[i].x + b * tb->dim, res[i].a_end) ==
                               nearest_point(tb, ref + b * tb->dim, res[i].a_end);
        }
        /* how accurate is the reference? re-solve the first span 100x looser */
        if (rc.n) {
            /* at alpha-bar 1 every solve lands exactly on a training image: check a
             * span that ends short of it when there is one */
            size_t ic = 0;
            for (size_t i = 0; i < rc.n; i++)
                if (rc.e[i].a_end < 1.0) {
                    ic = i;
                    break;
                }
            double *chk = brisk_malloc(n * sizeof *chk), *x0 = brisk_malloc(n * sizeof *x0);
            if (!chk || !x0) cli_die("bench: out of memory");
            for (size_t i = 0; i < n; i++) x0[i] = rc.e[ic].xs_scale * tb->z[i];
            po.rtol = po.atol = bo->ref_tol * 100;
            brisk_pf_solve_stats st;
            int err = brisk_pf_solve(tb->d, x0, tb->batch, rc.e[ic].a_start, &rc.e[ic].a_end, 1, &po, chk, &st);
            if (err) cli_die_status(err, "bench: reference check");
            double m = 0;
            for (size_t i = 0; i < n; i++) m = fmax(m, fabs(chk[i] - rc.e[ic].x[i]));
            printf("\nreference: PF ODE by adaptive Dormand-Prince RK45, rtol = atol = %.0e, %zu spans, "
                   "%zu model calls, %.1f s; re-solved at %.0e (alpha-bar %.6g -> %.6g) it differs by "
                   "at most %.2e\n",
                   bo->ref_tol, rc.n, rc.nfe, rc.seconds, bo->ref_tol * 100, rc.e[ic].a_start,
                   rc.e[ic].a_end, m);
            brisk_free(chk);
            brisk_free(x0);
        }
    }
    printf("\n%s: sampler runs %zu model calls in %.1f s; total %.1f s\n", tb->name, total_nfe, t_runs,
           cli_now() - t0);
    print_table(bo, res, gaussian ? "RMS error vs the exact PF endpoint (Gaussian), cells: error (NFE)"
                                  : "RMS error vs the PF-RK45 reference (empirical Fashion-MNIST), cells: error (NFE)",
                SHOW_RMS);
    if (gaussian)
        print_table(bo, res, "Exact W2 / sqrt(dim) between the output law and the exact law at the end "
                             "alpha-bar (Gaussian), cells: W2 (NFE)", SHOW_W2);
    else {
        char what[160];
        snprintf(what, sizeof what, "Samples (of %zu) ending nearest the same training image as the "
                                    "reference, cells: count (NFE)", tb->batch);
        print_table(bo, res, what, SHOW_SAME);
    }
    verdicts(bo, res, tb->name, tb->points != NULL, tb->batch);
    if (csv) csv_rows(csv, bo, tb, res);
    for (size_t i = 0; i < nr; i++) brisk_free(res[i].x);
    free(res);
    ref_free(&rc);
    fflush(stdout);
}

static void parse_steps(const char *s, bench_opts *bo) {
    bo->n_steps = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 100000 || (*end && *end != ','))
            cli_die("--steps: '%s' must be a comma-separated list of integers in 1..100000", s);
        if (bo->n_steps == 32) cli_die("--steps: at most 32 values");
        bo->steps[bo->n_steps++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (!bo->n_steps) cli_die("--steps: empty list");
}

static void parse_samplers(const char *s, bench_opts *bo) {
    for (size_t v = 0; v < N_VARIANTS; v++) bo->selected[v] = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int found = 0;
        for (size_t v = 0; v < N_VARIANTS; v++) {
            const char *l = VARIANTS[v].label;
            size_t n = strlen(tok);
            /* a kind name selects all its variants; a full label selects one */
            if (!strcmp(l, tok) || (!strncmp(l, tok, n) && l[n] == ' ')) {
                bo->selected[v] = 1;
                found = 1;
            }
        }
        if (!found) {
            fprintf(stderr, "brisk: --samplers: unknown sampler '%s'; valid:", tok);
            for (size_t v = 0; v < N_VARIANTS; v++) fprintf(stderr, "%s '%s'", v ? "," : "", VARIANTS[v].label);
            fputc('\n', stderr);
            exit(1);
        }
    }
}

static void usage_samplers(FILE *fp) {
    fprintf(fp,
            "usage: brisk bench samplers [--steps 5,10,20,50,100,250,1000] [--csv FILE]\n"
            "                            [--subset N] [--samples K] [--testbed NAME]\n"
            "                            [--samplers LIST] [--ref-tol T] [--seed S] [--quiet]\n\n"
            "Measures each sampler's true error against an exact probability-flow solution from\n"
            "the same x_T, and prints markdown tables of RMS error (NFE) per step count:\n"
            "  gaussian   32-dim N(mean, diag std^2), std log-spaced 0.02..1, 64 samples;\n"
            "             exact endpoint in closed form; plus the exact W2 of the output law\n"
            "             (the only error defined for the stochastic DDPM)\n"
            "  gaussian-smooth  the same with std 0.3..1 (no stiff directions)\n"
            "  empirical  the exact posterior-mean denoiser of the first N Fashion-MNIST\n"
            "             training images (32x32); reference: adaptive RK45 at tight tolerance\n"
            "All samplers run with clip_sample and thresholding off (the plain PF ODE).\n\n"
            "  --steps LIST    step counts (default 5,10,20,50,100,250,1000)\n"
            "  --subset N      training images in the empirical denoiser (default 2000; 60000 = all)\n"
            "  --samples K     samples on the empirical testbed (default 16)\n"
            "  --testbed T     gaussian, gaussian-smooth, empirical or all (default all)\n"
            "  --samplers LIST comma-separated sampler labels or kinds (default: all)\n"
            "  --ref-tol T     reference rtol = atol (default 1e-9)\n"
            "  --seed S        noise seed (default 0)\n"
            "  --csv FILE      also write every number as CSV\n"
            "  --quiet         no progress on stderr\n");
}

static int bench_samplers(int argc, char **argv) {
    bench_opts bo = {.steps = {5, 10, 20, 50, 100, 250, 1000}, .n_steps = 7, .subset = 2000,
                     .samples = 16, .gsamples = 64, .ref_tol = 1e-9, .do_gauss = 1, .do_smooth = 1, .do_emp = 1};
    for (size_t v = 0; v < N_VARIANTS; v++) bo.selected[v] = 1;
    const char *v;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage_samplers(stdout);
            return 0;
        } else if (cli_opt(argc, argv, &i, "--steps", &v)) {
            parse_steps(v, &bo);
        } else if (cli_opt(argc, argv, &i, "--csv", &v)) {
            bo.csv = v;
        } else if (cli_opt(argc, argv, &i, "--subset", &v)) {
            long n = cli_long("--subset", v);
            if (n < 1 || n > 60000) cli_die("--subset: %ld is outside 1..60000", n);
            bo.subset = (size_t)n;
        } else if (cli_opt(argc, argv, &i, "--samples", &v)) {
            long n = cli_long("--samples", v);
            if (n < 1 || n > 4096) cli_die("--samples: %ld is outside 1..4096", n);
            bo.samples = (size_t)n;
        } else if (cli_opt(argc, argv, &i, "--testbed", &v)) {
            bo.do_gauss = !strcmp(v, "gaussian") || !strcmp(v, "all");
            bo.do_smooth = !strcmp(v, "gaussian-smooth") || !strcmp(v, "all");
            bo.do_emp = !strcmp(v, "empirical") || !strcmp(v, "all");
            if (!bo.do_gauss && !bo.do_smooth && !bo.do_emp)
                cli_die("--testbed: '%s' (valid: gaussian, gaussian-smooth, empirical, all)", v);
        } else if (cli_opt(argc, argv, &i, "--samplers", &v)) {
            parse_samplers(v, &bo);
        } else if (cli_opt(argc, argv, &i, "--ref-tol", &v)) {
            bo.ref_tol = cli_double("--ref-tol", v);
            if (!(bo.ref_tol > 0 && bo.ref_tol < 1)) cli_die("--ref-tol: %g is outside (0, 1)", bo.ref_tol);
        } else if (cli_opt(argc, argv, &i, "--seed", &v)) {
            bo.seed = cli_u64("--seed", v);
        } else if (cli_flag(argv, i, "--quiet")) {
            bo.quiet = 1;
        } else {
            cli_unknown_option("bench samplers", argv[i]);
        }
    }
    brisk_atomic_file af;
    FILE *csv = NULL;
    if (bo.csv) {
        int rc = brisk_atomic_open(&af, bo.csv);
        if (rc) cli_die_status(rc, "--csv");
        csv = af.fp;
        fprintf(csv, "testbed,sampler,steps,nfe,a_start,a_end,rms_err,max_err,w2,w2_floor,same_image,seconds,note\n");
    }
    printf("brisk bench samplers: steps");
    for (size_t k = 0; k < bo.n_steps; k++) printf("%s%d", k ? "," : " ", bo.steps[k]);
    printf("; seed %llu; clip_sample and thresholding off\n", (unsigned long long)bo.seed);

    for (int smooth = 0; smooth < 2; smooth++) {
        if (!(smooth ? bo.do_smooth : bo.do_gauss)) continue;
        /* std log-spaced from lo to 1: "gaussian" has directions as narrow as the noise at
         * t = 0 (sigma 0.01), where the PF ODE is stiff; "gaussian-smooth" has none */
        enum { GD = 32 };
        double mean[GD], std[GD], lo = smooth ? 0.3 : 0.02;
        for (int j = 0; j < GD; j++) {
            mean[j] = 0.5 * cos(0.7 * j);
            std[j] = lo * pow(1.0 / lo, j / (double)(GD - 1));
        }
        testbed tb = {smooth ? "gaussian-smooth" : "gaussian", NULL, bo.gsamples, GD, NULL, mean, std, NULL, 0};
        int rc = brisk_denoiser_create_gaussian(mean, std, GD, BRISK_PRED_EPSILON, &tb.d);
        if (rc) cli_die_status(rc, "bench");
        tb.z = brisk_malloc(tb.batch * GD * sizeof *tb.z);
        if (!tb.z) cli_die("bench: out of memory");
        brisk_sample_init_noise(bo.seed, 0, tb.batch, GD, tb.z);
        printf("\n## %s: dim %d, mean 0.5 cos(0.7 j), std %g..1 log-spaced, %zu samples\n", tb.name, GD, lo,
               tb.batch);
        if (!bo.quiet) fprintf(stderr, "%s testbed\n", tb.name);
        run_testbed(&bo, &tb, csv, 1);
        brisk_free(tb.z);
        brisk_denoiser_free(tb.d);
    }
    if (bo.do_emp) {
        brisk_dataset ds;
        int rc = brisk_fmnist_load(NULL, BRISK_SPLIT_TRAIN, 1, bo.subset, &ds);
        if (rc) cli_die_status(rc, "bench");
        testbed tb = {"empirical", NULL, bo.samples, ds.c * ds.h * ds.w, NULL, NULL, NULL, ds.images, ds.n};
        brisk_empirical_options eo;
        brisk_empirical_options_default(&eo); /* float64: the reference needs a smooth model */
        rc = brisk_denoiser_create_empirical(ds.images, ds.n, tb.dim, ds.c, ds.h, ds.w, BRISK_PRED_EPSILON,
                                             &eo, &tb.d);
        if (rc) cli_die_status(rc, "bench");
        char spec[128];
        snprintf(spec, sizeof spec, "empirical:fashion-mnist,n=%zu (float64)", ds.n);
        tb.z = brisk_malloc(tb.batch * tb.dim * sizeof *tb.z);
        if (!tb.z) cli_die("bench: out of memory");
        brisk_sample_init_noise(bo.seed, 0, tb.batch, tb.dim, tb.z);
        printf("\n## empirical: %s (dim %zu), %zu samples\n", spec, tb.dim, tb.batch);
        if (!bo.quiet) fprintf(stderr, "empirical testbed (%s)\n", spec);
        run_testbed(&bo, &tb, csv, 0);
        brisk_free(tb.z);
        brisk_denoiser_free(tb.d);
        brisk_dataset_free(&ds);
    }
    if (csv) {
        int rc = brisk_atomic_commit(&af);
        if (rc) cli_die_status(rc, "--csv");
        printf("\nwrote %s\n", bo.csv);
    }
    return 0;
}

int cmd_bench(int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        FILE *fp = argc < 2 ? stderr : stdout;
        fprintf(fp, "usage: brisk bench SUITE [options]   (brisk bench SUITE --help)\n\n"
                    "suites:\n"
                    "  samplers  sampler error vs NFE against exact probability-flow solutions\n"
                    "  quality   FD / KID of samplers on a trained model (the PNDM study)\n");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "samplers")) return bench_samplers(argc - 1, argv + 1);
    if (!strcmp(argv[1], "quality")) return bench_quality(argc - 1, argv + 1);
    fprintf(stderr, "brisk bench: unknown suite '%s' (valid: samplers, quality)\n", argv[1]);
    return 2;
}
