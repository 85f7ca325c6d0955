/* bench/unet/kernels: single-thread CPU time of the engine's hot kernels on the shapes of the
 * Fashion-MNIST UNet (batch 64): 3x3 convolution forward / weight gradient / data gradient
 * and fused GroupNorm+SiLU forward / backward. CPU time, so other load on the machine
 * matters less than for wall-clock figures. A benchmark: it never fails on time. */
#include "nn/nn_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void conv(size_t cin, size_t cout, size_t hw) {
    const size_t B = 64;
    brisk_conv2d_desc d = {cin, cout, hw, hw, 3, 1, 1, 1, 1, 1};
    size_t nx = B * cin * hw * hw, ny = B * cout * hw * hw, nw = cout * cin * 9;
    float *x = calloc(nx, 4), *y = calloc(ny, 4), *w = calloc(nw, 4), *b = calloc(cout, 4);
    float *dx = calloc(nx, 4), *dw = calloc(nw, 4), *db = calloc(cout, 4);
    float *ws = malloc(nn_conv_ws(&d, B, 1) * 4);
    for (size_t i = 0; i < nx; i++) x[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < nw; i++) w[i] = (float)(i % 5) * 0.01f;
    double fl = 2.0 * B * cout * cin * 9 * hw * hw, t[3];
    for (int k = 0; k < 3; k++) {
        int r = 0;
        double t0 = cpu_s();
        do {
            if (k == 0) nn_conv_fwd(&d, B, x, w, b, NULL, NULL, 1, y, ws, 1);
            if (k == 1) nn_conv_bwd(&d, B, x, w, 1, y, NULL, 0, dw, db, NULL, 0, NULL, 0, ws, 1);
            if (k == 2) nn_conv_bwd(&d, B, x, w, 1, y, dx, 0, NULL, NULL, NULL, 0, NULL, 0, ws, 1);
            r++;
        } while (cpu_s() - t0 < 1.0);
        t[k] = (cpu_s() - t0) / r;
    }
    printf("conv3x3 %3zu->%3zu %2zux%-2zu batch 64: forward %6.1f GFLOP/s, weight grad %6.1f, "
           "data grad %6.1f\n", cin, cout, hw, hw, fl / t[0] / 1e9, fl / t[1] / 1e9, fl / t[2] / 1e9);
    free(x), free(y), free(w), free(b), free(dx), free(dw), free(db), free(ws);
}

int main(void) {
    int prev = nn_blas_enter();
    printf("1 thread, CPU time\n");
    conv(32, 32, 32);
    conv(96, 32, 32);
    conv(64, 64, 16);
    conv(128, 64, 16);
    conv(64, 64, 8);
    size_t B = 64, C = 32, HW = 1024, G = 8, n = B * C * HW;
    float *x = malloc(n * 4), *y = malloc(n * 4), *dx = malloc(n * 4), ga[32], be[32], dg[32],
          dbb[32], st[2 * 64 * 8];
    for (size_t i = 0; i < n; i++) x[i] = (float)((i * 7919) % 1000) / 500.f - 1;
    for (int i = 0; i < 32; i++) ga[i] = 1, be[i] = 0.1f;
    float *ws = malloc(nn_gn_ws(B, C, HW, G, 1) * 4);
    double t0 = cpu_s();
    int r = 0;
    do {
        nn_gn_fwd(B, C, HW, G, 1e-5f, 1, x, ga, be, NULL, y, st, 1);
        r++;
    } while (cpu_s() - t0 < 1);
    double tf = (cpu_s() - t0) / r;
    t0 = cpu_s();
    r = 0;
    do {
        nn_gn_bwd(B, C, HW, G, 1, x, ga, be, NULL, st, y, dx, 0, dg, dbb, NULL, 0, ws, 1);
        r++;
    } while (cpu_s() - t0 < 1);
    double tb = (cpu_s() - t0) / r;
    printf("GroupNorm+SiLU 64x32x32x32: forward %.2f ns/element, backward %.2f ns/element\n",
           tf / n * 1e9, tb / n * 1e9);
    free(x), free(y), free(dx), free(ws);
    nn_blas_leave(prev);
    return 0;
}
