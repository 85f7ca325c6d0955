/* Sampler overhead: time spent inside the scheduler (brisk_scheduler_step plus next and
 * scale_model_input) per model call per element, and brisk allocations per step, for
 * every sampler. The model is a cheap closed-form Gaussian evaluated outside the timed
 * region. A benchmark: it prints figures and never fails on time.
 *
 *     bench_samplers_overhead [--batch B] [--dim D] [--steps N] [--repeat R] */
#include "brisk/core.h"
#include "brisk/diffusion.h"
#include "brisk/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* eps of N(0.3, 0.8^2) data at alpha-bar a */
static void model(const double *x, size_t n, double a, double *out) {
    double sa = sqrt(a), sb = sqrt(1 - a), den = a * 0.64 + 1 - a;
    for (size_t i = 0; i < n; i++) out[i] = sb * (x[i] - sa * 0.3) / den;
}

typedef struct pf_ctx {
    double model_seconds;
} pf_ctx;

static int pf_predict(void *ctx, const double *x, size_t batch, size_t dim, double t, double a,
                      double *out) {
    (void)t;
    pf_ctx *c = ctx;
    double t0 = now();
    model(x, batch * dim, a, out);
    c->model_seconds += now() - t0;
    return 0;
}

typedef struct variant {
    const char *label;
    brisk_sampler_kind kind;
    brisk_time_mode mode;
    int thresholding;
    double eta;
} variant;

int main(int argc, char **argv) {
    size_t batch = 16, dim = 4096;
    int steps = 50, repeat = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--dim") && i + 1 < argc) dim = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--batch B] [--dim D] [--steps N] [--repeat R]\n", argv[0]);
            return 2;
        }
    }
    size_t n = batch * dim;
    double *x = malloc(n * sizeof *x), *xin = malloc(n * sizeof *xin), *mo = malloc(n * sizeof *mo);
    if (!x || !xin || !mo) return 1;
    variant vs[] = {
        {"ddpm (RNG noise)", BRISK_SAMPLER_DDPM, BRISK_TIME_DIFFUSERS, 0, 0},
        {"ddim", BRISK_SAMPLER_DDIM, BRISK_TIME_DIFFUSERS, 0, 0},
        {"ddim eta=1 (RNG)", BRISK_SAMPLER_DDIM, BRISK_TIME_DIFFUSERS, 0, 1},
        {"ddim thresholding", BRISK_SAMPLER_DDIM, BRISK_TIME_DIFFUSERS, 1, 0},
        {"pndm (PRK+PLMS)", BRISK_SAMPLER_PNDM, BRISK_TIME_DIFFUSERS, 0, 0},
        {"plms", BRISK_SAMPLER_PLMS, BRISK_TIME_DIFFUSERS, 0, 0},
        {"plms grid", BRISK_SAMPLER_PLMS, BRISK_TIME_GRID, 0, 0},
        {"euler", BRISK_SAMPLER_EULER, BRISK_TIME_DIFFUSERS, 0, 0},
        {"heun", BRISK_SAMPLER_HEUN, BRISK_TIME_DIFFUSERS, 0, 0},
        {"dpmpp-2m", BRISK_SAMPLER_DPMPP_2M, BRISK_TIME_DIFFUSERS, 0, 0},
        {"unipc", BRISK_SAMPLER_UNIPC, BRISK_TIME_DIFFUSERS, 0, 0},
        {"ipndm", BRISK_SAMPLER_IPNDM, BRISK_TIME_DIFFUSERS, 0, 0},
        {"pseudo-euler", BRISK_SAMPLER_PSEUDO_EULER, BRISK_TIME_REFERENCE, 0, 0},
        {"spndm", BRISK_SAMPLER_SPNDM, BRISK_TIME_REFERENCE, 0, 0},
        {"fpndm", BRISK_SAMPLER_FPNDM, BRISK_TIME_REFERENCE, 0, 0},
        {"fon", BRISK_SAMPLER_FON, BRISK_TIME_REFERENCE, 0, 0},
        {"pf (RK45, run API)", BRISK_SAMPLER_PF, BRISK_TIME_REFERENCE, 0, 0},
    };
    printf("sampler overhead: batch %zu x dim %zu = %zu elements, %d steps, best of %d\n", batch, dim,
           n, steps, repeat);
    printf("%-22s %6s %14s %16s %14s\n", "sampler", "calls", "ns/call/elem", "allocs/step", "set_timesteps");
    for (size_t v = 0; v < sizeof vs / sizeof vs[0]; v++) {
        brisk_scheduler_config c;
        brisk_scheduler_config_default(&c, vs[v].kind);
        c.time_mode = vs[v].mode;
        c.thresholding = vs[v].thresholding;
        c.eta = vs[v].eta;
        c.clip_sample = 0;
        brisk_scheduler *s;
        if (brisk_scheduler_create(&c, &s)) {
            printf("%-22s error: %s\n", vs[v].label, brisk_last_error());
            continue;
        }
        double best = INFINITY, setup = 0;
        size_t calls = 0;
        uint64_t allocs = 0;
        for (int r = 0; r < repeat; r++) {
            brisk_sample_init_noise(1, 0, batch, dim, x);
            if (vs[v].kind == BRISK_SAMPLER_PF) {
                pf_ctx pc = {0};
                brisk_denoiser d = {pf_predict, NULL, &pc, dim, 0, 0, 0, BRISK_PRED_EPSILON};
                brisk_run_stats st;
                uint64_t a0 = brisk_alloc_count();
                double t0 = now();
                if (brisk_sample_run(s, &d, steps, x, batch, NULL, &st)) break;
                double el = now() - t0 - pc.model_seconds;
                allocs = brisk_alloc_count() - a0; /* includes set_timesteps */
                calls = st.nfe;
                if (el < best) best = el;
                continue;
            }
            double t0 = now();
            uint64_t a_setup = brisk_alloc_count();
            if (brisk_scheduler_set_timesteps(s, steps, batch, dim)) break;
            setup = now() - t0;
            (void)a_setup;
            double sig = brisk_scheduler_init_noise_sigma(s);
            for (size_t i = 0; i < n; i++) x[i] *= sig;
            double inside = 0;
            uint64_t a0 = brisk_alloc_count();
            while (!brisk_scheduler_done(s)) {
                double t, a;
                double t1 = now();
                brisk_scheduler_next(s, &t, &a);
                brisk_scheduler_scale_model_input(s, x, xin, batch);
                inside += now() - t1;
                model(xin, n, a, mo);
                t1 = now();
                if (brisk_scheduler_step(s, mo, t, x, x, batch)) {
                    printf("%s: %s\n", vs[v].label, brisk_last_error());
                    break;
                }
                inside += now() - t1;
            }
            allocs = brisk_alloc_count() - a0;
            calls = brisk_scheduler_nfe(s);
            if (inside < best) best = inside;
        }
        if (calls == 0) {
            printf("%-22s error: %s\n", vs[v].label, brisk_last_error());
        } else if (vs[v].kind == BRISK_SAMPLER_PF) {
            printf("%-22s %6zu %14.2f %16s %14s\n", vs[v].label, calls, best * 1e9 / ((double)calls * n),
                   "(run API)", "-");
            (void)allocs;
        } else {
            printf("%-22s %6zu %14.2f %16.3f %12.2f ms\n", vs[v].label, calls,
                   best * 1e9 / ((double)calls * n), (double)allocs / calls, setup * 1e3);
        }
        brisk_scheduler_free(s);
    }
    free(x), free(xin), free(mo);
    return 0;
}
