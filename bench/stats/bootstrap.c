/* Benchmark (never a test): 10,000 bootstrap resamples of every model's mean over the
 * 12 x 41,871 OpenCompass matrix (../shared/data/eval-matrices, or a synthetic 0/1 matrix
 * of the same shape when it is absent), at 1 thread and the default thread count, and
 * the same bootstrap in numpy (bench/stats/bootstrap_numpy.py) for a side-by-side ratio.
 *
 *     build/bench_stats_bootstrap [MATRIX.csv] [B]
 */
#include "brisk/core.h"
#include "brisk/rng.h"
#include "brisk/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "../shared/data/eval-matrices/opencompass_12x41871.csv";
    size_t B = argc > 2 ? (size_t)atol(argv[2]) : 10000;
    brisk_matrix m;
    char tmp_csv[64] = "";
    if (access(path, R_OK) == 0) {
        if (brisk_matrix_read_csv(path, NULL, &m)) {
            fprintf(stderr, "bench: %s\n", brisk_last_error());
            return 1;
        }
    } else {
        /* synthetic: model j answers item i correctly with probability sigmoid(t_j - d_i) */
        const size_t M = 12, N = 41871;
        double *x = malloc(M * N * sizeof *x), *d = malloc(N * sizeof *d), t[12], u;
        brisk_randn(1, 0, 0, M, t);
        brisk_randn(2, 0, 0, N, d);
        for (size_t j = 0; j < M; j++)
            for (size_t i = 0; i < N; i++) {
                brisk_randu(3, j * N + i, 0, 1, &u);
                x[j * N + i] = u < 1 / (1 + __builtin_exp(-(1.5 * t[j] - 2 * d[i])));
            }
        brisk_matrix_from_data(x, M, N, &m);
        free(x);
        free(d);
        snprintf(tmp_csv, sizeof tmp_csv, "/tmp/brisk_bench_boot_%d.csv", (int)getpid());
        FILE *f = fopen(tmp_csv, "w");
        for (size_t j = 0; j < M; j++)
            for (size_t i = 0; i < N; i++) fprintf(f, "%.1f%c", m.x[j * N + i], i + 1 < N ? ',' : '\n');
        fclose(f);
        path = tmp_csv;
        printf("(../shared absent: synthetic 12 x 41871 0/1 matrix)\n");
    }
    brisk_bootstrap_params p;
    brisk_bootstrap_params_default(&p);
    p.n_resamples = B;
    brisk_bootstrap_ci *ci = malloc(m.n_models * sizeof *ci);
    int threads[2] = {1, brisk_get_num_threads()};
    double t_default = 0;
    for (int k = 0; k < 2; k++) {
        brisk_set_num_threads(threads[k]);
        double t0 = now_s(), c0 = cpu_s();
        if (brisk_bootstrap_row_means(m.x, m.n_models, m.n_items, &p, ci, NULL)) {
            fprintf(stderr, "bench: %s\n", brisk_last_error());
            return 1;
        }
        double dt = now_s() - t0, dc = cpu_s() - c0;
        if (k == 1) t_default = dt;
        printf("brisk bootstrap: %zu resamples x %zu models x %zu items, %d thread(s): %.3f s wall, "
               "%.3f s CPU (model 0: 95%% CI [%.4f, %.4f], bootstrap se %.5f)\n", B, m.n_models,
               m.n_items, threads[k], dt, dc, ci[0].lo, ci[0].hi, ci[0].se);
    }
    /* numpy side by side, when python3 with numpy is there */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "for py in python3 /usr/bin/python3; do $py -c \"import numpy\" 2>/dev/null && exec $py bench/stats/bootstrap_numpy.py '%s' %zu; done", path, B);
    FILE *pp = popen(cmd, "r");
    double t_np = 0;
    char line[512];
    while (pp && fgets(line, sizeof line, pp)) {
        fputs(line, stdout);
        sscanf(line, "numpy bootstrap: %*s resamples in %lf s", &t_np);
    }
    if (pp) pclose(pp);
    if (t_np > 0)
        printf("ratio numpy / brisk (%d threads): %.1fx\n", threads[1], t_np / t_default);
    else
        printf("numpy side-by-side skipped (python3 with numpy not found)\n");
    if (*tmp_csv) unlink(tmp_csv);
    free(ci);
    brisk_matrix_free(&m);
    return 0;
}
