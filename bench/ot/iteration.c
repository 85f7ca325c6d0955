/* bench/ot/iteration.c: one Monte-Carlo iteration of the DPM-OT solver (brisk_ot_cells:
 * M source samples scored against N targets in D dimensions by blocked sgemm + argmax),
 * its achieved GFLOP/s against an sgemm peak measured in the same run, and the same
 * iteration in numpy (bench/ot/ot_numpy.py) side by side. A benchmark, not a test.
 *
 *   bench_ot_iteration [--quick] [--n 10000,60000] [--d 1024] [--m-factor 10]
 *                      [--m-cap M] [--full] [--reps R] [--threads T] [--python PY]
 *                      [--no-numpy]
 *
 * M = 10 N is capped at 20,000 samples (--m-cap): each N runs a slice of an iteration
 * (N = 10,000: 1/5, N = 60,000: 1/30) R = 3 times, alternating brisk and numpy, and keeps
 * the best time of each, so that other jobs on a shared machine disturb the comparison
 * less. The time per sample does not depend on M, so the full iteration time is
 * projected. --full runs whole iterations (N = 60,000 then takes about 10 to 20 minutes
 * per repetition on 2 cores); --quick runs N = 10,000 once.
 */
#include "brisk/core.h"
#include "brisk/ot.h"
#include "brisk/rng.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef BRISK_OPENMP
#include <omp.h>
#endif

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Best of `reps` square sgemm products of size n with `threads` BLAS threads. */
static double sgemm_peak(int n, int threads, int reps) {
    float *a = malloc((size_t)n * n * sizeof *a), *b = malloc((size_t)n * n * sizeof *b),
          *c = malloc((size_t)n * n * sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    for (size_t k = 0; k < (size_t)n * n; k++) {
        a[k] = (float)((k * 7) % 13) * 0.01f;
        b[k] = (float)((k * 5) % 11) * 0.01f;
    }
    openblas_set_num_threads(threads);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        double t = now() - t0;
        if (t < best) best = t;
    }
    free(a);
    free(b);
    free(c);
    return 2.0 * n * n * (double)n / best / 1e9;
}

/* Time to draw m source samples with the solver's RNG layout (blocks of 512 rows). */
static double rng_seconds(size_t m, size_t d) {
    int nt = brisk_get_num_threads();
    float *x = malloc((size_t)nt * 512 * d * sizeof *x);
    double t0 = now();
    long nblocks = (long)((m + 511) / 512);
#ifdef BRISK_OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
#endif
    for (long bl = 0; bl < nblocks; bl++) {
#ifdef BRISK_OPENMP
        int tid = omp_get_thread_num();
#else
        int tid = 0;
#endif
        size_t r0 = (size_t)bl * 512, nr = m - r0 < 512 ? m - r0 : 512;
        for (size_t r = 0; r < nr; r++)
            brisk_randn_f32(1, r0 + r, BRISK_OT_STREAM_FIT, d, x + ((size_t)tid * 512 + r) * d);
    }
    double t = now() - t0;
    free(x);
    return t;
}

static int run_numpy(const char *python, size_t n, size_t d, size_t m, int threads,
                     double *total, double *rng) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "OPENBLAS_NUM_THREADS=%d OMP_NUM_THREADS=%d %s bench/ot/ot_numpy.py --n %zu "
             "--d %zu --m %zu",
             threads, threads, python, n, d, m);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[512];
    int got = 0;
    while (fgets(line, sizeof line, p)) {
        fputs("    ", stdout);
        fputs(line, stdout);
        if (sscanf(line, "numpy: total %lf s rng %lf s", total, rng) == 2) got = 1;
    }
    int st = pclose(p);
    return got && st == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
    size_t ns[8] = {10000, 60000};
    int n_ns = 2;
    size_t d = 1024, m_factor = 10, m_cap = 20000;
    int reps = 3;
    int threads = brisk_get_num_threads(), do_numpy = 1, quick = 0;
    const char *python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--full")) m_cap = 0;
        else if (!strcmp(argv[i], "--no-numpy")) do_numpy = 0;
        else if (!strcmp(argv[i], "--n") && i + 1 < argc) {
            n_ns = 0;
            for (char *s = strtok(argv[++i], ","); s && n_ns < 8; s = strtok(NULL, ","))
                ns[n_ns++] = strtoull(s, NULL, 10);
        } else if (!strcmp(argv[i], "--d") && i + 1 < argc) d = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--m-factor") && i + 1 < argc) m_factor = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--m-cap") && i + 1 < argc) m_cap = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--python") && i + 1 < argc) python = argv[++i];
        else {
            fprintf(stderr,
                    "usage: %s [--quick] [--n N1,N2] [--d D] [--m-factor F] [--m-cap M] [--full] "
                    "[--reps R] [--threads T] [--python PY] [--no-numpy]\n",
                    argv[0]);
            return 2;
        }
    }
    if (quick) {
        ns[0] = 10000;
        n_ns = 1;
        m_cap = 20000;
        reps = 1;
    }
    if (threads < 1) threads = 1;
    if (reps < 1) reps = 1;
    brisk_set_num_threads(threads);

    printf("== DPM-OT iteration benchmark: D = %zu, M = %zu N%s, %d threads, best of %d, "
           "OpenBLAS %s\n",
           d, m_factor, m_cap ? " (capped, projected)" : "", threads, reps, openblas_get_config());
    double peak = sgemm_peak(quick ? 2048 : 4096, threads, 3);
    double peak1 = sgemm_peak(quick ? 2048 : 3072, 1, 2);
    printf("sgemm peak (square, measured now): %.1f GFLOP/s with %d threads, %.1f with 1\n", peak,
           threads, peak1);

    for (int k = 0; k < n_ns; k++) {
        size_t n = ns[k], m_full = m_factor * n, m = m_cap && m_full > m_cap ? m_cap : m_full;
        float *y = malloc(n * d * sizeof *y);
        double *h = malloc(n * sizeof *h);
        int64_t *counts = malloc(n * sizeof *counts);
        if (!y || !h || !counts) {
            fprintf(stderr, "bench: out of memory for N = %zu\n", n);
            return 1;
        }
#ifdef BRISK_OPENMP
#pragma omp parallel for schedule(static)
#endif
        for (long i = 0; i < (long)n; i++)
            brisk_randn_f32(7, (uint64_t)i, BRISK_STREAM(BRISK_RNG_USER, 9), d, y + (size_t)i * d);
        brisk_randn(8, 0, BRISK_STREAM(BRISK_RNG_USER, 10), n, h);
        brisk_ot *ot;
        if (brisk_ot_create(y, n, d, BRISK_OT_SOURCE_NORMAL, "bench", &ot)) {
            fprintf(stderr, "bench: %s\n", brisk_last_error());
            return 1;
        }
        double t_iter = 1e30, t_rng = 1e30, np_total = 1e30, np_rng = 0;
        int np_ok = do_numpy;
        for (int r = 0; r < reps; r++) {
            double energy, t0 = now();
            if (brisk_ot_cells(ot, h, 1, BRISK_OT_STREAM_FIT, 0, m, counts, &energy)) {
                fprintf(stderr, "bench: %s\n", brisk_last_error());
                return 1;
            }
            double t = now() - t0;
            if (t < t_iter) t_iter = t;
            t = rng_seconds(m, d);
            if (t < t_rng) t_rng = t;
            double nt, nr;
            if (np_ok && run_numpy(python, n, d, m, threads, &nt, &nr) == 0) {
                if (nt < np_total) {
                    np_total = nt;
                    np_rng = nr;
                }
            } else {
                np_ok = 0;
            }
        }
        double flops = 2.0 * (double)n * (double)m * (double)d;
        double gf = flops / t_iter / 1e9, gf_k = flops / (t_iter - t_rng) / 1e9;
        double scale = (double)m_full / (double)m;
        printf("\nN = %zu, D = %zu, M = %zu%s, best of %d\n", n, d, m,
               m < m_full ? " (a slice of the M = 10 N iteration)" : "", reps);
        printf("  brisk: iteration %.2f s (%.1f GFLOP/s = %.0f%% of the %d-thread peak); "
               "Philox normals %.2f s of it; sgemm+argmax %.1f GFLOP/s (%.0f%%)\n",
               t_iter, gf, 100 * gf / peak, threads, t_rng, gf_k, 100 * gf_k / peak);
        if (m < m_full)
            printf("  brisk: projected full iteration (M = %zu): %.1f s\n", m_full, t_iter * scale);
        if (np_ok)
            printf("  numpy: best %.2f s (%.1f GFLOP/s), noise %.2f s of it\n"
                   "  ratio numpy / brisk: %.2f (iteration), %.2f (without sampling the noise)\n",
                   np_total, flops / np_total / 1e9, np_rng, np_total / t_iter,
                   (np_total - np_rng) / (t_iter - t_rng));
        else if (do_numpy)
            printf("  numpy: not run (needs %s with numpy; --no-numpy skips it)\n", python);
        fflush(stdout);
        brisk_ot_free(ot);
        free(y);
        free(h);
        free(counts);
    }
    /* Other jobs on a shared machine depress the peak too: measure it again at the end. */
    printf("\nsgemm peak again at the end: %.1f GFLOP/s with %d threads\n",
           sgemm_peak(quick ? 2048 : 4096, threads, 3), threads);
    return 0;
}
