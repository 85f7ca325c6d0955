/* Kernel tests: every op against a naive double-precision reference, and every backward
 * pass against central finite differences of that reference (step 1e-6 in double).
 * Tolerances: forward |fast - ref| <= 2e-5 * (1 + |ref|) (float32 accumulation over at most
 * a few hundred terms); gradients |fast - fd| <= 2e-4 * (1 + |fd|) (float32 backward against
 * an exact-to-1e-9 double finite difference). The loss is L = sum(r * y) with a fixed
 * random r, so dL/dy = r. */
#include "brisk/core.h"
#include "brisk/nn.h"
#include "brisk/rng.h"
#include "brisk_test.h"
#include "nn/nn_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FWD_TOL 2e-5
#define GRAD_TOL 2e-4
#define FD_H 1e-6

static uint64_t seed_ctr = 1;

static void randf(float *x, size_t n, double scale) {
    double *d = malloc(n * sizeof *d);
    brisk_randn(42, seed_ctr++, 0, n, d);
    for (size_t i = 0; i < n; i++) x[i] = (float)(d[i] * scale);
    free(d);
}

static double *to_d(const float *x, size_t n) {
    double *d = malloc((n ? n : 1) * sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

static double max_fwd_err(const float *y, const double *ref, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(y[i] - ref[i]) / (1 + fabs(ref[i]));
        if (!(e <= m)) m = e;
    }
    return m;
}

/* ---------------- a generic FD checker over a double reference ---------------- */

typedef void (*ref_fn)(void *ctx, double *const *in, double *y);

typedef struct fd_case {
    ref_fn f;
    void *ctx;
    int n_in;
    double *in[12];
    size_t in_n[12];
    size_t ny;
    const double *r;
} fd_case;

static double loss(fd_case *c) {
    double *y = calloc(c->ny, sizeof *y);
    c->f(c->ctx, c->in, y);
    double s = 0;
    for (size_t i = 0; i < c->ny; i++) s += c->r[i] * y[i];
    free(y);
    return s;
}

/* Checks grad (float, analytic) of input k at up to `samples` coordinates (all if 0). */
static double fd_check(fd_case *c, int k, const float *grad, size_t samples, const char *what) {
    size_t n = c->in_n[k];
    size_t step = samples && n > samples ? n / samples : 1;
    double worst = 0;
    for (size_t i = 0; i < n; i += step) {
        double keep = c->in[k][i];
        c->in[k][i] = keep + FD_H;
        double lp = loss(c);
        c->in[k][i] = keep - FD_H;
        double lm = loss(c);
        c->in[k][i] = keep;
        double fd = (lp - lm) / (2 * FD_H);
        double e = fabs(grad[i] - fd) / (1 + fabs(fd));
        if (!(e <= worst)) worst = e;
    }
    if (!(worst <= GRAD_TOL)) fprintf(stderr, "  %s: worst grad err %.3g\n", what, worst);
    ASSERT_DOUBLE_LE(worst, GRAD_TOL);
    return worst;
}

/* ---------------- conv2d ---------------- */

static void conv_ref(void *ctx, double *const *in, double *y) {
    const brisk_conv2d_desc *d = ((void **)ctx)[0];
    size_t B = *(size_t *)((void **)ctx)[1];
    const double *x = in[0], *w = in[1], *b = in[2];
    size_t oh, ow;
    brisk_conv2d_out_size(d, &oh, &ow);
    for (size_t n = 0; n < B; n++)
        for (size_t co = 0; co < d->cout; co++)
            for (size_t oy = 0; oy < oh; oy++)
                for (size_t ox = 0; ox < ow; ox++) {
                    double s = b[co];
                    for (size_t ci = 0; ci < d->cin; ci++)
                        for (size_t ky = 0; ky < d->k; ky++)
                            for (size_t kx = 0; kx < d->k; kx++) {
                                long iy = (long)(oy * d->stride + ky) - (long)d->pad_top;
                                long ix = (long)(ox * d->stride + kx) - (long)d->pad_left;
                                if (iy < 0 || ix < 0 || iy >= (long)d->h || ix >= (long)d->w) continue;
                                s += w[((co * d->cin + ci) * d->k + ky) * d->k + kx] *
                                     x[((n * d->cin + ci) * d->h + (size_t)iy) * d->w + (size_t)ix];
                            }
                    y[((n * d->cout + co) * oh + oy) * ow + ox] = s;
                }
}

static void test_conv(size_t B, brisk_conv2d_desc d, int full_fd) {
    size_t oh, ow;
    brisk_conv2d_out_size(&d, &oh, &ow);
    size_t nx = B * d.cin * d.h * d.w, nw = d.cout * d.cin * d.k * d.k, ny = B * d.cout * oh * ow;
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc(d.cout * 4), *y = malloc(ny * 4);
    float *r = malloc(ny * 4), *dx = malloc(nx * 4), *dw = malloc(nw * 4), *db = malloc(d.cout * 4);
    randf(x, nx, 1);
    randf(w, nw, 0.3);
    randf(b, d.cout, 0.5);
    randf(r, ny, 1);
    float *ws = malloc(brisk_conv2d_workspace(&d, B) * 4 + 4);
    brisk_conv2d_forward(&d, B, x, w, b, y, ws);
    void *ctx[2] = {&d, &B};
    fd_case c = {conv_ref, ctx, 3, {to_d(x, nx), to_d(w, nw), to_d(b, d.cout)}, {nx, nw, d.cout}, ny, to_d(r, ny)};
    double *yr = malloc(ny * sizeof *yr);
    conv_ref(ctx, c.in, yr);
    double fe = max_fwd_err(y, yr, ny);
    ASSERT_DOUBLE_LE(fe, FWD_TOL);
    brisk_conv2d_backward(&d, B, x, w, r, dx, dw, db, ws);
    size_t s = full_fd ? 0 : 60;
    double gx = fd_check(&c, 0, dx, s, "conv dx");
    double gw = fd_check(&c, 1, dw, s, "conv dw");
    double gb = fd_check(&c, 2, db, 0, "conv db");
    printf("conv B%zu %zu->%zu %zux%zu k%zu s%zu pad(%zu,%zu,%zu,%zu): fwd %.2g, dx %.2g dw %.2g db %.2g\n",
           B, d.cin, d.cout, d.h, d.w, d.k, d.stride, d.pad_top, d.pad_left, d.pad_bottom,
           d.pad_right, fe, gx, gw, gb);
    for (int i = 0; i < 3; i++) free(c.in[i]);
    free((void *)c.r);
    free(yr), free(x), free(w), free(b), free(y), free(r), free(dx), free(dw), free(db), free(ws);
}

/* ---------------- group norm (+mod, +silu) ---------------- */

typedef struct gn_ctx {
    size_t B, C, HW, G;
    double eps;
    int silu, mod;
} gn_ctx;

static void gn_ref(void *ctx, double *const *in, double *y) {
    gn_ctx *g = ctx;
    const double *x = in[0], *ga = in[1], *be = in[2], *mod = in[3];
    size_t cpg = g->C / g->G;
    for (size_t b = 0; b < g->B; b++)
        for (size_t gi = 0; gi < g->G; gi++) {
            const double *xg = x + (b * g->C + gi * cpg) * g->HW;
            double m = 0, v = 0;
            size_t n = cpg * g->HW;
            for (size_t i = 0; i < n; i++) m += xg[i];
            m /= n;
            for (size_t i = 0; i < n; i++) v += (xg[i] - m) * (xg[i] - m);
            v /= n;
            for (size_t cc = 0; cc < cpg; cc++) {
                size_t ch = gi * cpg + cc;
                for (size_t j = 0; j < g->HW; j++) {
                    double z = (xg[cc * g->HW + j] - m) / sqrt(v + g->eps) * ga[ch] + be[ch];
                    if (g->mod) z = z * (1 + mod[b * 2 * g->C + ch]) + mod[b * 2 * g->C + g->C + ch];
                    if (g->silu) z = z / (1 + exp(-z));
                    y[(b * g->C + ch) * g->HW + j] = z;
                }
            }
        }
}

static void test_gn(size_t B, size_t C, size_t HW, size_t G, int silu, int mod) {
    gn_ctx g = {B, C, HW, G, 1e-5, silu, mod};
    size_t n = B * C * HW;
    float *x = malloc(n * 4), *y = malloc(n * 4), *r = malloc(n * 4), *dx = malloc(n * 4);
    float ga[64], be[64], dga[64], dbe[64], md[2 * 64 * 4], dmd[2 * 64 * 4], st[2 * 64 * 4];
    randf(x, n, 2);
    for (size_t i = 0; i < n; i++) x[i] += 0.5f;
    randf(ga, C, 0.5);
    for (size_t i = 0; i < C; i++) ga[i] += 1;
    randf(be, C, 0.5);
    randf(md, 2 * B * C, 0.3);
    randf(r, n, 1);
    int nt = nn_threads();
    float *ws = malloc(nn_gn_ws(B, C, HW, G, nt) * 4);
    nn_gn_fwd(B, C, HW, G, 1e-5f, silu, x, ga, be, mod ? md : NULL, y, st, nt);
    nn_gn_bwd(B, C, HW, G, silu, x, ga, be, mod ? md : NULL, st, r, dx, 0, dga, dbe,
              mod ? dmd : NULL, 0, ws, nt);
    fd_case c = {gn_ref, &g, 4, {to_d(x, n), to_d(ga, C), to_d(be, C), to_d(md, 2 * B * C)},
                 {n, C, C, 2 * B * C}, n, to_d(r, n)};
    double *yr = malloc(n * sizeof *yr);
    gn_ref(&g, c.in, yr);
    double fe = max_fwd_err(y, yr, n);
    ASSERT_DOUBLE_LE(fe, FWD_TOL);
    double e0 = fd_check(&c, 0, dx, 80, "gn dx");
    double e1 = fd_check(&c, 1, dga, 0, "gn dgamma");
    double e2 = fd_check(&c, 2, dbe, 0, "gn dbeta");
    double e3 = mod ? fd_check(&c, 3, dmd, 0, "gn dmod") : 0;
    printf("groupnorm B%zu C%zu HW%zu G%zu silu%d mod%d: fwd %.2g, dx %.2g dg %.2g db %.2g dmod %.2g\n",
           B, C, HW, G, silu, mod, fe, e0, e1, e2, e3);
    /* the public plain GroupNorm agrees with the fused kernel */
    float *y2 = malloc(n * 4), st2[2 * 64 * 4];
    brisk_groupnorm_forward(B, C, HW, G, 1e-5f, x, ga, be, y2, st2);
    if (!silu && !mod) ASSERT_TRUE(memcmp(y, y2, n * 4) == 0);
    for (int i = 0; i < 4; i++) free(c.in[i]);
    free((void *)c.r);
    free(yr), free(x), free(y), free(y2), free(r), free(dx), free(ws);
}

/* ---------------- linear, silu, upsample ---------------- */

typedef struct lin_ctx {
    size_t B, in, out;
} lin_ctx;

static void lin_ref(void *ctx, double *const *in, double *y) {
    lin_ctx *l = ctx;
    for (size_t b = 0; b < l->B; b++)
        for (size_t o = 0; o < l->out; o++) {
            double s = in[2][o];
            for (size_t i = 0; i < l->in; i++) s += in[1][o * l->in + i] * in[0][b * l->in + i];
            y[b * l->out + o] = s;
        }
}

static void test_linear(size_t B, size_t in, size_t out) {
    lin_ctx l = {B, in, out};
    size_t nx = B * in, nw = in * out, ny = B * out;
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc(out * 4), *y = malloc(ny * 4);
    float *r = malloc(ny * 4), *dx = malloc(nx * 4), *dw = malloc(nw * 4), *db = malloc(out * 4);
    randf(x, nx, 1), randf(w, nw, 0.2), randf(b, out, 1), randf(r, ny, 1);
    brisk_linear_forward(B, in, out, x, w, b, y);
    brisk_linear_backward(B, in, out, x, w, r, dx, dw, db);
    fd_case c = {lin_ref, &l, 3, {to_d(x, nx), to_d(w, nw), to_d(b, out)}, {nx, nw, out}, ny, to_d(r, ny)};
    double *yr = malloc(ny * sizeof *yr);
    lin_ref(&l, c.in, yr);
    double fe = max_fwd_err(y, yr, ny);
    ASSERT_DOUBLE_LE(fe, FWD_TOL);
    double e0 = fd_check(&c, 0, dx, 50, "lin dx"), e1 = fd_check(&c, 1, dw, 50, "lin dw"),
           e2 = fd_check(&c, 2, db, 0, "lin db");
    printf("linear B%zu %zu->%zu: fwd %.2g, dx %.2g dw %.2g db %.2g\n", B, in, out, fe, e0, e1, e2);
    for (int i = 0; i < 3; i++) free(c.in[i]);
    free((void *)c.r);
    free(yr), free(x), free(w), free(b), free(y), free(r), free(dx), free(dw), free(db);
}

static size_t g_n;
static void silu_ref(void *ctx, double *const *in, double *y) {
    (void)ctx;
    for (size_t i = 0; i < g_n; i++) y[i] = in[0][i] / (1 + exp(-in[0][i]));
}

typedef struct up_ctx {
    size_t B, C, H, W;
} up_ctx;
static void up_ref(void *ctx, double *const *in, double *y) {
    up_ctx *u = ctx;
    for (size_t p = 0; p < u->B * u->C; p++)
        for (size_t i = 0; i < 2 * u->H; i++)
            for (size_t j = 0; j < 2 * u->W; j++)
                y[(p * 2 * u->H + i) * 2 * u->W + j] = in[0][(p * u->H + i / 2) * u->W + j / 2];
}

static void test_small_ops(void) {
    size_t n = 300;
    g_n = n;
    float x[300], y[300], r[300], dx[300];
    randf(x, n, 4), randf(r, n, 1);
    brisk_silu_forward(n, x, y);
    brisk_silu_backward(n, x, r, dx);
    fd_case c = {silu_ref, NULL, 1, {to_d(x, n)}, {n}, n, to_d(r, n)};
    double yr[300];
    silu_ref(NULL, c.in, yr);
    ASSERT_DOUBLE_LE(max_fwd_err(y, yr, n), FWD_TOL);
    double e = fd_check(&c, 0, dx, 0, "silu dx");
    printf("silu: dx %.2g\n", e);
    free(c.in[0]);
    free((void *)c.r);

    up_ctx u = {2, 3, 3, 4};
    size_t nx = 2 * 3 * 3 * 4, ny = 4 * nx;
    float ux[72], uy[288], ur[288], udx[72];
    randf(ux, nx, 1), randf(ur, ny, 1);
    brisk_upsample2x_forward(2, 3, 3, 4, ux, uy);
    brisk_upsample2x_backward(2, 3, 3, 4, ur, udx);
    fd_case cu = {up_ref, &u, 1, {to_d(ux, nx)}, {nx}, ny, to_d(ur, ny)};
    double uyr[288];
    up_ref(&u, cu.in, uyr);
    ASSERT_DOUBLE_LE(max_fwd_err(uy, uyr, ny), 0);
    e = fd_check(&cu, 0, udx, 0, "upsample dx");
    printf("upsample: dx %.2g\n", e);
    free(cu.in[0]);
    free((void *)cu.r);
}

/* ---------------- attention ---------------- */

typedef struct at_ctx {
    brisk_attention_desc d;
    size_t B;
} at_ctx;

/* inputs: x, gamma, beta, wq, bq, wk, bk, wv, bv, wo, bo */
static void attn_ref(void *ctx, double *const *in, double *y) {
    at_ctx *a = ctx;
    const brisk_attention_desc *d = &a->d;
    size_t C = d->c, n = d->n, H = d->heads, dh = d->dim_head, inner = H * dh;
    double *g = malloc(C * n * sizeof *g), *q = malloc(inner * n * sizeof *q);
    double *k = malloc(inner * n * sizeof *k), *v = malloc(inner * n * sizeof *v);
    double *o = malloc(inner * n * sizeof *o), *s = malloc(n * sizeof *s);
    for (size_t b = 0; b < a->B; b++) {
        const double *x = in[0] + b * C * n;
        if (d->groups) {
            gn_ctx gc = {1, C, n, d->groups, d->eps, 0, 0};
            double *gin[4] = {(double *)x, in[1], in[2], NULL};
            gn_ref(&gc, gin, g);
        } else {
            memcpy(g, x, C * n * sizeof *g);
        }
        double *W[3] = {in[3], in[5], in[7]}, *Bs[3] = {in[4], in[6], in[8]}, *D[3] = {q, k, v};
        for (int m = 0; m < 3; m++)
            for (size_t r = 0; r < inner; r++)
                for (size_t j = 0; j < n; j++) {
                    double acc = Bs[m][r];
                    for (size_t cc = 0; cc < C; cc++) acc += W[m][r * C + cc] * g[cc * n + j];
                    D[m][r * n + j] = acc;
                }
        for (size_t h = 0; h < H; h++)
            for (size_t i = 0; i < n; i++) {
                double mx = -1e300;
                for (size_t j = 0; j < n; j++) {
                    double acc = 0;
                    for (size_t t = 0; t < dh; t++) acc += q[(h * dh + t) * n + i] * k[(h * dh + t) * n + j];
                    s[j] = acc / sqrt((double)dh);
                    if (s[j] > mx) mx = s[j];
                }
                double z = 0;
                for (size_t j = 0; j < n; j++) z += (s[j] = exp(s[j] - mx));
                for (size_t t = 0; t < dh; t++) {
                    double acc = 0;
                    for (size_t j = 0; j < n; j++) acc += s[j] / z * v[(h * dh + t) * n + j];
                    o[(h * dh + t) * n + i] = acc;
                }
            }
        for (size_t r = 0; r < C; r++)
            for (size_t j = 0; j < n; j++) {
                double acc = in[10][r];
                for (size_t t = 0; t < inner; t++) acc += in[9][r * inner + t] * o[t * n + j];
                y[b * C * n + r * n + j] = (acc + x[r * n + j]) / d->rescale;
            }
    }
    free(g), free(q), free(k), free(v), free(o), free(s);
}

static void test_attention(size_t B, size_t C, size_t n, size_t heads, size_t dh, size_t groups,
                           float rescale) {
    at_ctx a = {{C, n, heads, dh, groups, 1e-6f, rescale}, B};
    size_t inner = heads * dh, nx = B * C * n;
    size_t sz[11] = {nx, C, C, inner * C, inner, inner * C, inner, inner * C, inner, C * inner, C};
    float *p[11], *gp[11];
    for (int i = 0; i < 11; i++) {
        p[i] = malloc(sz[i] * 4);
        gp[i] = malloc(sz[i] * 4);
        randf(p[i], sz[i], i == 0 ? 1.0 : 0.4);
    }
    for (size_t i = 0; i < C; i++) p[1][i] += 1;
    float *y = malloc(nx * 4), *r = malloc(nx * 4);
    randf(r, nx, 1);
    brisk_attention_params ap = {p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10]};
    brisk_attention_grads ag = {gp[1], gp[2], gp[3], gp[4], gp[5], gp[6], gp[7], gp[8], gp[9], gp[10]};
    float *saved = malloc(brisk_attention_saved_size(&a.d, B) * 4);
    float *ws = malloc(brisk_attention_workspace(&a.d, B) * 4);
    /* inference path (no saved state) must equal the training path */
    float *y0 = malloc(nx * 4);
    brisk_attention_forward(&a.d, B, p[0], &ap, y0, NULL, ws);
    brisk_attention_forward(&a.d, B, p[0], &ap, y, saved, ws);
    ASSERT_TRUE(memcmp(y0, y, nx * 4) == 0);
    brisk_attention_backward(&a.d, B, p[0], &ap, saved, r, gp[0], &ag, ws);
    fd_case c = {attn_ref, &a, 11, {0}, {0}, nx, to_d(r, nx)};
    for (int i = 0; i < 11; i++) {
        c.in[i] = to_d(p[i], sz[i]);
        c.in_n[i] = sz[i];
    }
    double *yr = malloc(nx * sizeof *yr);
    attn_ref(&a, c.in, yr);
    double fe = max_fwd_err(y, yr, nx);
    ASSERT_DOUBLE_LE(fe, FWD_TOL);
    double worst = 0;
    static const char *nm[11] = {"x", "gamma", "beta", "wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo"};
    for (int i = 0; i < 11; i++) {
        if (!groups && (i == 1 || i == 2)) continue;
        double e = fd_check(&c, i, gp[i], 40, nm[i]);
        if (e > worst) worst = e;
    }
    printf("attention B%zu C%zu n%zu heads%zu dh%zu groups%zu rescale %.1f: fwd %.2g, worst grad %.2g\n",
           B, C, n, heads, dh, groups, rescale, fe, worst);
    for (int i = 0; i < 11; i++) free(p[i]), free(gp[i]), free(c.in[i]);
    free((void *)c.r);
    free(yr), free(y), free(y0), free(r), free(saved), free(ws);
}

/* ---------------- timestep embedding, losses ---------------- */

static void test_temb(void) {
    float t[3] = {0, 17, 999};
    float e[3 * 33];
    for (int flip = 0; flip < 2; flip++)
        for (int shift = 0; shift < 2; shift++) {
            brisk_timestep_embedding(3, t, 33, flip, (float)shift, e);
            double worst = 0;
            size_t half = 16;
            for (int b = 0; b < 3; b++)
                for (size_t i = 0; i < half; i++) {
                    double f = exp(-log(10000.0) * (double)i / ((double)half - shift));
                    double s = sin(t[b] * f), c = cos(t[b] * f);
                    double s_got = e[b * 33 + (flip ? half + i : i)], c_got = e[b * 33 + (flip ? i : half + i)];
                    worst = fmax(worst, fmax(fabs(s - s_got), fabs(c - c_got)));
                }
            /* float32 argument rounding at t = 999: |d arg| <= 999 * 2^-24 * few */
            ASSERT_DOUBLE_LE(worst, 5e-4);
            ASSERT_NEAR(e[32], 0.0, 0.0);  /* odd dim: zero pad */
            ASSERT_NEAR(e[flip ? 16 : 0], 0.0, 0.0); /* t = 0: sin 0 */
            ASSERT_NEAR(e[flip ? 0 : 16], 1.0, 0.0); /* t = 0: cos 0 */
            printf("timestep embedding flip %d shift %d: max err vs double %.2g\n", flip, shift, worst);
        }
}

static void test_losses(void) {
    float p[6] = {1, 2, 3, -1, 0.5f, 4}, t[6] = {0, 2, 1, 1, 0, 0}, d[6];
    double l = brisk_mse_loss(p, t, 6, d);
    ASSERT_NEAR(l, (1 + 0 + 4 + 4 + 0.25 + 16) / 6.0, 1e-12);
    ASSERT_NEAR(d[2], 2.0 * 2 / 6, 1e-7);
    /* cross-entropy: against a direct formula and finite differences */
    float lg[6] = {1, 2, 0.5f, -1, 3, 0}, dl[6];
    uint8_t y[2] = {1, 0};
    double ce = brisk_cross_entropy_loss(lg, y, 2, 3, dl);
    double want = (log(exp(1) + exp(2) + exp(0.5)) - 2 + log(exp(-1) + exp(3) + exp(0)) + 1) / 2;
    ASSERT_NEAR(ce, want, 1e-6);
    for (int i = 0; i < 6; i++) {
        float keep = lg[i];
        lg[i] = keep + 1e-2f;
        double a = brisk_cross_entropy_loss(lg, y, 2, 3, NULL);
        lg[i] = keep - 1e-2f;
        double b = brisk_cross_entropy_loss(lg, y, 2, 3, NULL);
        lg[i] = keep;
        ASSERT_NEAR(dl[i], (a - b) / 2e-2, 1e-4);
    }
    printf("losses: mse %.4f ce %.4f\n", l, ce);
}

static void test_half(void) {
    ASSERT_NEAR(nn_f16_to_f32(0x3c00), 1.0, 0);
    ASSERT_NEAR(nn_f16_to_f32(0xc000), -2.0, 0);
    ASSERT_NEAR(nn_f16_to_f32(0x3555), 0.333251953125, 0);
    ASSERT_NEAR(nn_f16_to_f32(0x0001), 5.960464477539063e-08, 0); /* smallest subnormal */
    ASSERT_NEAR(nn_f16_to_f32(0x7bff), 65504.0, 0);
    ASSERT_TRUE(isinf(nn_f16_to_f32(0x7c00)));
    ASSERT_NEAR(nn_bf16_to_f32(0x3f80), 1.0, 0);
    ASSERT_NEAR(nn_bf16_to_f32(0x4049), 3.140625, 0);
}

int main(void) {
    int small = test_sanitized();
    brisk_conv2d_desc d1 = {3, 5, 7, 6, 3, 1, 1, 1, 1, 1};
    test_conv(2, d1, 1);
    brisk_conv2d_desc d2 = {4, 3, 8, 8, 3, 2, 1, 1, 1, 1}; /* stride 2, padding 1 */
    test_conv(2, d2, 1);
    brisk_conv2d_desc d3 = {4, 3, 8, 8, 3, 2, 0, 0, 1, 1}; /* Downsample2D padding 0 */
    test_conv(2, d3, 1);
    brisk_conv2d_desc d4 = {6, 4, 5, 5, 1, 1, 0, 0, 0, 0}; /* 1x1 shortcut */
    test_conv(3, d4, 1);
    if (!small) {
        /* several row tiles (oh*ow > 256) and channel blocks (cin > 32) */
        brisk_conv2d_desc d5 = {40, 6, 20, 20, 3, 1, 1, 1, 1, 1};
        test_conv(2, d5, 0);
        brisk_conv2d_desc d6 = {34, 5, 36, 36, 3, 2, 1, 1, 1, 1};
        test_conv(1, d6, 0);
    }
    test_gn(2, 8, 10, 4, 0, 0);
    test_gn(2, 8, 10, 2, 1, 0);
    test_gn(2, 6, 9, 3, 1, 1);
    test_linear(3, 7, 5);
    test_linear(2, 70, 130); /* several 64-wide blocks */
    test_small_ops();
    test_attention(2, 8, 6, 1, 8, 4, 1.0f);
    test_attention(2, 8, 5, 2, 4, 2, 2.0f);
    test_attention(1, 6, 4, 2, 2, 0, 1.0f);  /* no group norm (mid block, scale_shift) */
    test_attention(1, 6, 4, 2, 2, 3, 1.0f);  /* inner = 4 < channels: 6 // 2 heads... */
    test_temb();
    test_losses();
    test_half();
    TEST_DONE();
}
