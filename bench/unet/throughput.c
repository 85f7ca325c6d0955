/* bench/unet: UNet2DModel throughput of brisk's engine against the OpenBLAS sgemm peak and
 * against PyTorch eager (bench/unet/bench_torch.py: same architecture and weights).
 *
 *   bench_unet_throughput [CONFIG.json] [--threads N] [--batches 1,16,64] [--train-batch B]
 *                         [--seconds S] [--no-torch] [--python PATH]
 *
 * Reports forward images/s per batch size, training steps/s (forward + MSE + backward +
 * Adam), achieved GFLOP/s and their fraction of the sgemm peak measured in the same run,
 * where the time goes (per op), and the PyTorch ratios. A benchmark: it never fails on time.
 */
#include "brisk/core.h"
#include "brisk/io.h"
#include "brisk/nn.h"
#include "brisk/rng.h"
#include "nn/nn_impl.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* sgemm peak: (a) nt concurrent single-threaded sgemms (the engine's mode), (b) one
 * nt-threaded OpenBLAS sgemm. GFLOP/s. */
static double sgemm_peak(int nt, double *conc, double *mt) {
    const int n = 512;
    float *a = malloc((size_t)nt * n * n * 4), *b = malloc((size_t)nt * n * n * 4),
          *c = malloc((size_t)nt * n * n * 4);
    for (size_t i = 0; i < (size_t)nt * n * n; i++) a[i] = b[i] = 0.001f * (float)(i % 1000);
    int prev = nn_blas_enter();
    int reps = 0;
    double t0 = now_s(), dt;
    do {
#pragma omp parallel for num_threads(nt)
        for (int k = 0; k < nt; k++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f,
                        a + (size_t)k * n * n, n, b + (size_t)k * n * n, n, 0.0f,
                        c + (size_t)k * n * n, n);
        reps++;
    } while ((dt = now_s() - t0) < 1.0);
    *conc = 2.0 * n * n * n * nt * reps / dt / 1e9;
    nn_blas_leave(prev);
    openblas_set_num_threads(nt);
    const int m = 1024;
    float *A = malloc((size_t)m * m * 4), *Bm = malloc((size_t)m * m * 4), *C = malloc((size_t)m * m * 4);
    for (size_t i = 0; i < (size_t)m * m; i++) A[i] = Bm[i] = 0.001f * (float)(i % 1000);
    reps = 0;
    t0 = now_s();
    do {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0f, A, m, Bm, m, 0.0f, C, m);
        reps++;
    } while ((dt = now_s() - t0) < 1.0);
    *mt = 2.0 * m * m * m * reps / dt / 1e9;
    free(a), free(b), free(c), free(A), free(Bm), free(C);
    return *conc > *mt ? *conc : *mt;
}

static void profile_print(const char *what, double total) {
    double sum = 0;
    for (int op = 0; op < NN_OP_COUNT; op++) sum += nn_profile_s[op][0] + nn_profile_s[op][1];
    printf("  where the time goes (%s, %.1f ms per call, %.0f%% inside graph nodes):\n", what,
           1e3 * total, 100 * sum / total);
    for (int op = 0; op < NN_OP_COUNT; op++) {
        double f = nn_profile_s[op][0], b = nn_profile_s[op][1];
        if (f + b < 1e-4 * total) continue;
        printf("    %-20s fwd %5.1f%%  bwd %5.1f%%\n", nn_op_name((nn_op)op), 100 * f / total,
               100 * b / total);
    }
}

int main(int argc, char **argv) {
    const char *cfgpath = "bench/unet/fmnist_small.json", *python = NULL;
    int nt = 2, torch = 1;
    size_t batches[8] = {1, 16, 64}, nb = 3, tb = 64;
    double secs = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) nt = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--train-batch") && i + 1 < argc) tb = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) secs = atof(argv[++i]);
        else if (!strcmp(argv[i], "--no-torch")) torch = 0;
        else if (!strcmp(argv[i], "--python") && i + 1 < argc) python = argv[++i];
        else if (!strcmp(argv[i], "--batches") && i + 1 < argc) {
            nb = 0;
            for (char *s = strtok(argv[++i], ","); s && nb < 8; s = strtok(NULL, ",")) batches[nb++] = (size_t)atol(s);
        } else if (!strcmp(argv[i], "--help")) {
            printf("usage: %s [CONFIG.json] [--threads N] [--batches 1,16,64] [--train-batch B] "
                   "[--seconds S] [--no-torch] [--python PATH]\n", argv[0]);
            return 0;
        } else if (argv[i][0] != '-') cfgpath = argv[i];
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    brisk_set_num_threads(nt);
    brisk_unet_config cfg;
    if (brisk_unet_config_read(cfgpath, &cfg)) {
        fprintf(stderr, "bench: %s\n", brisk_last_error());
        return 1;
    }
    brisk_unet *m;
    if (brisk_unet_create(&cfg, 1, &m)) {
        fprintf(stderr, "bench: %s\n", brisk_last_error());
        return 1;
    }
    const size_t hw = cfg.sample_size ? cfg.sample_size : 32, cin = cfg.in_channels, cout = cfg.out_channels;
    brisk_nn_params *p = brisk_unet_params(m);
    const double fl = brisk_unet_flops(m, hw, hw);
    double conc, mt, peak = sgemm_peak(nt, &conc, &mt);
    printf("UNet %s: %zu parameters (%.1f MB float32), %zux%zux%zu, forward %.3f GFLOP/image\n",
           cfgpath, p->n, p->n * 4.0 / 1e6, cin, hw, hw, fl / 1e9);
    printf("threads %d; OpenBLAS sgemm peak %.1f GFLOP/s (%d x 1-thread 512^3: %.1f, %d-thread 1024^3: %.1f)\n",
           nt, peak, nt, conc, nt, mt);

    size_t maxb = tb;
    for (size_t i = 0; i < nb; i++) if (batches[i] > maxb) maxb = batches[i];
    float *x = malloc(maxb * cin * hw * hw * 4), *y = malloc(maxb * cout * hw * hw * 4);
    float *tgt = malloc(maxb * cout * hw * hw * 4), *dy = malloc(maxb * cout * hw * hw * 4);
    float *t = malloc(maxb * 4);
    brisk_randn_f32(3, 0, 0, maxb * cin * hw * hw, x);
    brisk_randn_f32(3, 1, 0, maxb * cout * hw * hw, tgt);
    for (size_t i = 0; i < maxb; i++) t[i] = (float)((i * 397) % 1000);

    double fwd_ips[8], fwd_ms64 = 0, cpu1_fwd = 0, cpu1_train = 0;
    size_t cpu1_batch = 1;
    for (size_t k = 0; k < nb; k++) {
        size_t B = batches[k];
        brisk_unet_forward(m, x, t, B, hw, hw, y); /* plan + warm-up */
        int reps = 0;
        double t0 = now_s(), dt;
        do {
            brisk_unet_forward(m, x, t, B, hw, hw, y);
            reps++;
        } while ((dt = now_s() - t0) < secs || reps < 2);
        fwd_ips[k] = B * reps / dt;
        if (k + 1 == nb) fwd_ms64 = dt / reps;
        printf("forward  batch %3zu: %8.1f images/s  %6.1f GFLOP/s  (%.0f%% of sgemm peak)\n", B,
               fwd_ips[k], fwd_ips[k] * fl / 1e9, 100 * fwd_ips[k] * fl / 1e9 / peak);
    }
    /* training: forward_train + MSE + backward + Adam (lr 1e-4) */
    float *am = calloc(p->n, 4), *av = calloc(p->n, 4);
    int step = 0;
    brisk_unet_reserve(m, tb, hw, hw, 1);
    double train_loss = 0;
#define TRAIN_STEP()                                                                      \
    do {                                                                                  \
        brisk_unet_forward_train(m, x, t, tb, hw, hw, y);                                 \
        train_loss = brisk_mse_loss(y, tgt, tb * cout * hw * hw, dy);                     \
        brisk_unet_backward(m, dy, NULL);                                                 \
        step++;                                                                           \
        float b1c = 1 - powf(0.9f, (float)step), b2c = 1 - powf(0.999f, (float)step);     \
        _Pragma("omp parallel for num_threads(nt) schedule(static)")                      \
        for (long i = 0; i < (long)p->n; i++) {                                           \
            float g = p->grad[i];                                                         \
            am[i] = 0.9f * am[i] + 0.1f * g;                                              \
            av[i] = 0.999f * av[i] + 0.001f * g * g;                                      \
            p->data[i] -= 1e-4f * (am[i] / b1c) / (sqrtf(av[i] / b2c) + 1e-8f);           \
        }                                                                                 \
    } while (0)
    TRAIN_STEP();
    int reps = 0;
    double t0 = now_s(), dt;
    do {
        TRAIN_STEP();
        reps++;
    } while ((dt = now_s() - t0) < secs || reps < 2);
    double sps = reps / dt;
    printf("training batch %3zu: %8.2f steps/s (%.1f images/s)  %6.1f GFLOP/s (3x forward)  "
           "(%.0f%% of sgemm peak), loss %.3f\n",
           tb, sps, sps * tb, sps * tb * 3 * fl / 1e9, 100 * sps * tb * 3 * fl / 1e9 / peak, train_loss);

    /* where the time goes */
    memset(nn_profile_s, 0, sizeof nn_profile_s);
    nn_profile_on = 1;
    t0 = now_s();
    brisk_unet_forward(m, x, t, batches[nb - 1], hw, hw, y);
    profile_print("forward, largest batch", now_s() - t0);
    memset(nn_profile_s, 0, sizeof nn_profile_s);
    t0 = now_s();
    TRAIN_STEP();
    profile_print("training step", now_s() - t0);
    nn_profile_on = 0;
    (void)fwd_ms64;

    /* CPU time on one thread: what an image costs a core, independent of other load on the
     * machine (wall-clock figures above are not, when the machine is shared). */
    {
        brisk_set_num_threads(1);
        size_t B = batches[nb - 1] < 16 ? batches[nb - 1] : 16;
        brisk_unet_forward(m, x, t, B, hw, hw, y);
        double c0 = cpu_s();
        int r = 0;
        do {
            brisk_unet_forward(m, x, t, B, hw, hw, y);
            r++;
        } while (cpu_s() - c0 < secs || r < 2);
        double fcpu = (cpu_s() - c0) / (r * (double)B);
        c0 = cpu_s();
        r = 0;
        TRAIN_STEP();
        c0 = cpu_s();
        do {
            TRAIN_STEP();
            r++;
        } while (cpu_s() - c0 < secs || r < 2);
        double tcpu = (cpu_s() - c0) / r;
        printf("1-thread CPU time: forward %.2f ms/image (batch %zu, %.1f GFLOP/s per core); "
               "training step %.3f s (batch %zu, %.1f GFLOP/s per core)\n",
               1e3 * fcpu, B, fl / fcpu / 1e9, tcpu, tb, 3 * fl * tb / tcpu / 1e9);
        printf("  -> on 2 idle cores with perfect scaling: %.1f images/s forward, %.2f training "
               "steps/s\n", 2 / fcpu, 2 / tcpu);
        brisk_set_num_threads(nt);
        cpu1_fwd = fcpu;
        cpu1_train = tcpu;
        cpu1_batch = B;
    }

    if (torch) {
        char dir[] = "/tmp/brisk_bench_unet_XXXXXX";
        if (!mkdtemp(dir)) return 1;
        brisk_unet_save(m, dir, NULL);
        size_t sh[4] = {2, cin, hw, hw}, sho[4] = {2, cout, hw, hw}, sht[1] = {2};
        brisk_unet_forward(m, x, t, 2, hw, hw, y);
        char pth[600];
        snprintf(pth, sizeof pth, "%s/x.npy", dir);
        brisk_npy_write_f32(pth, x, 4, sh);
        snprintf(pth, sizeof pth, "%s/t.npy", dir);
        brisk_npy_write_f32(pth, t, 1, sht);
        snprintf(pth, sizeof pth, "%s/out.npy", dir);
        brisk_npy_write_f32(pth, y, 4, sho);
        if (!python) python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
        char bl[128] = "";
        for (size_t k = 0; k < nb; k++)
            snprintf(bl + strlen(bl), sizeof bl - strlen(bl), k ? ",%zu" : "%zu", batches[k]);
        char cmd[2048];
        snprintf(cmd, sizeof cmd,
                 "OMP_NUM_THREADS=%d %s bench/unet/bench_torch.py %s --threads %d --batches %s "
                 "--train-batch %zu --seconds %g --check %s --cpu1-batch %zu",
                 nt, python, dir, nt, bl, tb, secs, dir, cpu1_batch);
        printf("PyTorch eager (%s):\n", cmd);
        fflush(stdout);
        FILE *f = popen(cmd, "r");
        char line[4096] = "", last[4096] = "";
        while (f && fgets(line, sizeof line, f)) strcpy(last, line);
        int st = f ? pclose(f) : -1;
        if (st != 0 || last[0] != '{') {
            printf("  not available (exit %d). Install with: apt-get install python3-torch\n", st);
        } else {
            double v;
            char key[64], *s;
            if ((s = strstr(last, "\"max_abs_diff_vs_brisk\": ")) && sscanf(s + 25, "%lf", &v) == 1)
                printf("  same weights, same input: max |torch - brisk| = %.2g\n", v);
            for (size_t k = 0; k < nb; k++) {
                snprintf(key, sizeof key, "\"forward_ips_%zu\": ", batches[k]);
                if ((s = strstr(last, key)) && sscanf(s + strlen(key), "%lf", &v) == 1)
                    printf("  forward  batch %3zu: torch %8.1f images/s, brisk %8.1f -> brisk/torch %.2fx\n",
                           batches[k], v, fwd_ips[k], fwd_ips[k] / v);
            }
            snprintf(key, sizeof key, "\"train_sps_%zu\": ", tb);
            if ((s = strstr(last, key)) && sscanf(s + strlen(key), "%lf", &v) == 1)
                printf("  training batch %3zu: torch %8.2f steps/s, brisk %8.2f -> brisk/torch %.2fx\n",
                       tb, v, sps, sps / v);
            if ((s = strstr(last, "\"cpu1_forward_s_per_image\": ")) && sscanf(s + 28, "%lf", &v) == 1)
                printf("  1-thread CPU time, forward batch %zu: torch %.2f ms/image, brisk %.2f -> "
                       "brisk/torch speed %.2fx\n", cpu1_batch, 1e3 * v, 1e3 * cpu1_fwd, v / cpu1_fwd);
            snprintf(key, sizeof key, "\"cpu1_train_s_per_step_%zu\": ", tb);
            if ((s = strstr(last, key)) && sscanf(s + strlen(key), "%lf", &v) == 1)
                printf("  1-thread CPU time, training step batch %zu: torch %.3f s, brisk %.3f -> "
                       "brisk/torch speed %.2fx\n", tb, v, cpu1_train, v / cpu1_train);
        }
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
    }
    free(x), free(y), free(tgt), free(dy), free(t), free(am), free(av);
    brisk_unet_free(m);
    return 0;
}
