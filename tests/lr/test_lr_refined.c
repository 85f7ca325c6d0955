/* Refined schedules: the smoothing pipeline and closed form against numpy/scipy
 * (tests/data/lr/gen_refined.py output), constant norms -> linear decay, a naive median
 * filter, CSV formats and bad input. The real-data case of the shared vectors runs only
 * when ../shared is present (SKIP otherwise). */
#include "brisk/core.h"
#include "brisk/lr.h"
#include "brisk/verify.h"
#include "brisk_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void generated_cases(void) {
    const char *cases[] = {"refined_synthetic_l2", "refined_synthetic_l1", "refined_tiny_reflect"};
    for (size_t i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof path, "tests/data/lr/%s.json", cases[i]);
        brisk_verify_result r;
        ASSERT_OK(brisk_verify_path(path, &r));
        ASSERT_TRUE(r.passed);
        printf("%s: %s max_err=%.3g (tolerance 1e-6 + 1e-4|ref|)\n", cases[i], r.detail, r.max_err);
    }
}

static void resampled_run(void) {
    double *g, *sched;
    size_t n;
    ASSERT_OK(brisk_lr_grad_norms_read("tests/data/lr/synthetic_gnorm_wandb.csv", 0, &g, &n));
    ASSERT_EQ(n, 3000);
    ASSERT_TRUE(isinf(g[100]));
    brisk_lr_refine_params p;
    brisk_lr_refine_params_default(&p);
    ASSERT_EQ(p.filter_width, 1001);
    ASSERT_OK(brisk_lr_refine(g, n, &p, 777, &sched));
    FILE *fp = fopen("tests/data/lr/refined_l2_777.txt", "r");
    ASSERT_TRUE(fp != NULL);
    double worst = 0;
    size_t k = 0;
    double ref;
    while (fp && k < 777 && fscanf(fp, "%lf", &ref) == 1) {
        double e = fabs(sched[k] - ref) / (1e-6 + 1e-4 * fabs(ref));
        if (e > worst) worst = e;
        k++;
    }
    if (fp) fclose(fp);
    ASSERT_EQ(k, 777);
    ASSERT_DOUBLE_LE(worst, 1.0);
    ASSERT_TRUE(sched[776] == 0);
    printf("refine to 777 steps vs numpy: max err / tolerance = %.3g\n", worst);
    brisk_free(sched);

    /* the same through a schedule object: lr = base_lr * multiplier */
    brisk_lr_schedule *s;
    brisk_lr_options o;
    brisk_lr_options_default(&o);
    o.base_lr = 0.4;
    ASSERT_OK(brisk_lr_create_spec("refined(grad_norms='tests/data/lr/synthetic_gnorm_wandb.csv', "
                                   "total_steps=777)", &o, &s));
    double v[777];
    ASSERT_OK(brisk_lr_values(s, 777, NULL, v, NULL));
    double mx = 0;
    for (int t = 0; t < 777; t++)
        if (v[t] > mx) mx = v[t];
    ASSERT_NEAR(mx, 0.4, 1e-15);
    brisk_lr_free(s);
    brisk_free(g);
}

/* The theory's worst case: constant norms give linear decay to 0. */
static void constant_norms(void) {
    double g[500];
    for (int i = 0; i < 500; i++) g[i] = 3.0;
    brisk_lr_refine_params p;
    brisk_lr_refine_params_default(&p);
    for (int l1 = 0; l1 <= 1; l1++) {
        p.weight_power = l1 ? 1.0 : 2.0;
        double *sched;
        ASSERT_OK(brisk_lr_refine(g, 500, &p, 200, &sched));
        double worst = 0;
        for (int t = 0; t < 200; t++) {
            double e = fabs(sched[t] - (199.0 - t) / 199.0);
            if (e > worst) worst = e;
        }
        ASSERT_DOUBLE_LE(worst, 1e-12);
        brisk_free(sched);
    }
    double c[50], s[50];
    for (int i = 0; i < 50; i++) c[i] = 0.7;
    ASSERT_OK(brisk_lr_refine_closed_form(c, 50, 2.0, s));
    for (int t = 0; t < 50; t++) ASSERT_NEAR(s[t], (49.0 - t) / 49.0, 1e-14);
    /* bigger norms late in training give smaller steps there (w = g^-2) */
    for (int i = 0; i < 50; i++) c[i] = i < 25 ? 1.0 : 2.0;
    ASSERT_OK(brisk_lr_refine_closed_form(c, 50, 2.0, s));
    ASSERT_TRUE(s[30] < (49.0 - 30) / 49.0 * s[0]);
    c[7] = 0;
    ASSERT_STATUS(brisk_lr_refine_closed_form(c, 50, 2.0, s), BRISK_ENUMERIC);
    ASSERT_STR_CONTAINS(brisk_last_error(), "position 7");
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Naive scipy median_filter(mode='nearest') on numpy.pad(x, (0, pad), 'reflect'). */
static void naive_smooth(const double *x, size_t n, size_t w, size_t pad, double *out) {
    size_t L = n + pad, h = w / 2;
    double *ext = malloc(L * sizeof *ext), *win = malloc(w * sizeof *win);
    for (size_t j = 0; j < L; j++) {
        size_t k = j; /* reflect without repeating the edge, repeatedly */
        while (k >= n) k = k >= 2 * (n - 1) ? k - 2 * (n - 1) : 2 * (n - 1) - k;
        ext[j] = x[k];
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t q = 0; q < w; q++) {
            long idx = (long)i - (long)h + (long)q;
            if (idx < 0) idx = 0;
            if ((size_t)idx >= L) idx = (long)L - 1;
            win[q] = ext[idx];
        }
        qsort(win, w, sizeof *win, cmp_d);
        out[i] = win[h];
    }
    free(ext);
    free(win);
}

static void median_filter_vs_naive(void) {
    size_t n = 300;
    double x[300], ref[300];
    unsigned s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        x[i] = 1.0 + (double)((s >> 8) % 1000) / 250.0;
        if (i % 37 == 0) x[i] = x[i - (i ? 1 : 0)]; /* ties */
    }
    brisk_lr_refine_params p;
    brisk_lr_refine_params_default(&p);
    p.trim_each_end = 0;
    p.min_len = 0;
    p.resample_to = n; /* identity resampling */
    size_t widths[] = {1, 3, 31, 101, 251};
    for (size_t wi = 0; wi < 5; wi++) {
        p.filter_width = widths[wi];
        for (size_t pw = 0; pw <= 3; pw++) {
            p.pad_widths = pw;
            double *out;
            size_t m;
            ASSERT_OK(brisk_lr_refine_smooth(x, n, &p, &out, &m));
            ASSERT_EQ(m, n);
            if (widths[wi] > 1) naive_smooth(x, n, widths[wi], pw * widths[wi], ref);
            else memcpy(ref, x, sizeof ref);
            int bad = 0;
            for (size_t i = 0; i < n; i++) bad += out[i] != ref[i];
            if (bad) TEST_FAIL_("width %zu pad %zu: %d values differ", widths[wi], pw, bad);
            test_checks_++;
            brisk_free(out);
        }
    }
    p.filter_width = 4;
    double *out;
    size_t m;
    ASSERT_STATUS(brisk_lr_refine_smooth(x, n, &p, &out, &m), BRISK_EINVAL);
}

static char tmpdir[64];

static const char *write_tmp(const char *name, const char *text) {
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    return path;
}

static void csv_formats(void) {
    double *g;
    size_t n;
    const char *p = write_tmp("ok.csv", "step,grad_norm_l2,grad_norm_l1\n0,1.5,30\n1,2.5,40\r\n\n2,inf,50\n");
    ASSERT_OK(brisk_lr_grad_norms_read(p, 0, &g, &n));
    ASSERT_EQ(n, 3);
    ASSERT_NEAR(g[1], 2.5, 0);
    ASSERT_TRUE(isinf(g[2]));
    brisk_free(g);
    ASSERT_OK(brisk_lr_grad_norms_read(p, 1, &g, &n));
    ASSERT_NEAR(g[2], 50, 0);
    brisk_free(g);
    /* brisk train's log has extra columns (loss, lr) after the three */
    p = write_tmp("train.csv", "step,grad_norm_l2,grad_norm_l1,loss,lr\n0,2.5,140.25,1.08,0.001\n1,2.25,130,1.0,0.001\n");
    ASSERT_OK(brisk_lr_grad_norms_read(p, 1, &g, &n));
    ASSERT_EQ(n, 2);
    ASSERT_NEAR(g[0], 140.25, 0);
    brisk_free(g);
    p = write_tmp("wandb.csv", "\"Step\",\"run - gnorm\",\"run - gnorm__MIN\",\"run - gnorm__MAX\"\n"
                               "\"0\",\"1.25\",\"1.25\",\"1.25\"\n\"1\",\"2\",\"2\",\"2\"\n");
    ASSERT_OK(brisk_lr_grad_norms_read(p, 1, &g, &n));
    ASSERT_EQ(n, 2);
    ASSERT_NEAR(g[0], 1.25, 0);
    brisk_free(g);

    struct {
        const char *name, *text, *needle;
        int status;
    } bad[] = {
        {"empty.csv", "", "empty file", BRISK_EPARSE},
        {"header.csv", "step,grad_norm_l2,grad_norm_l1\n", "no gradient norms", BRISK_EPARSE},
        {"word.csv", "step,grad_norm_l2,grad_norm_l1\n0,1.0,2\n1,abc,3\n", "line 3, column 2: 'abc'", BRISK_EPARSE},
        {"neg.csv", "step,grad_norm_l2,grad_norm_l1\n0,-1.0,2\n", "negative gradient norm", BRISK_EINVAL},
        {"nan.csv", "Step,v\n0,nan\n", "NaN", BRISK_EPARSE},
        {"short.csv", "step,grad_norm_l2,grad_norm_l1\n0,1.0\n", "2 fields, expected 3", BRISK_EPARSE},
        {"cell.csv", "Step,v\n0,\n", "empty cell", BRISK_EPARSE},
        {"hdr.csv", "time,loss\n0,1\n", "unrecognised header", BRISK_EPARSE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = write_tmp(bad[i].name, bad[i].text);
        g = NULL;
        ASSERT_STATUS(brisk_lr_grad_norms_read(p, 0, &g, &n), bad[i].status);
        ASSERT_STR_CONTAINS(brisk_last_error(), bad[i].needle);
        ASSERT_STR_CONTAINS(brisk_last_error(), bad[i].name);
        ASSERT_TRUE(g == NULL);
    }
    ASSERT_STATUS(brisk_lr_grad_norms_read("tests/data/lr/missing.csv", 0, &g, &n), BRISK_EIO);
    /* too few values for the trimming */
    double few[4] = {1, 2, 3, 4};
    brisk_lr_refine_params prm;
    brisk_lr_refine_params_default(&prm);
    double *out;
    ASSERT_STATUS(brisk_lr_refine(few, 4, &prm, 10, &out), BRISK_EINVAL);
}

static void table_schedule(void) {
    double t[4] = {1.0, 0.5, 0.25, 0.0};
    brisk_lr_schedule *s;
    ASSERT_OK(brisk_lr_create_table(t, 4, NULL, &s));
    double v[6];
    ASSERT_OK(brisk_lr_values(s, 6, NULL, v, NULL));
    ASSERT_NEAR(v[1], 0.05, 0);
    ASSERT_NEAR(v[5], 0.0, 0);
    ASSERT_EQ(brisk_lr_schedule_kind(s), BRISK_LR_REFINED);
    brisk_lr_free(s);
    t[2] = NAN;
    ASSERT_STATUS(brisk_lr_create_table(t, 4, NULL, &s), BRISK_ENUMERIC);
    ASSERT_STATUS(brisk_lr_create_table(t, 0, NULL, &s), BRISK_EINVAL);
}

/* Optional: the shared vector on real data (CC-BY-NC data stays outside the project). */
static void shared_real_data(void) {
    const char *path = "../shared/vectors/lr/refined_rcnn_l2.json";
    struct stat st;
    if (stat(path, &st) != 0 || stat("../shared/data/grad-norms/rcnn_gnorm.csv", &st) != 0) {
        printf("SKIP refined_rcnn_l2: ../shared is absent\n");
        return;
    }
    brisk_verify_result r;
    ASSERT_OK(brisk_verify_path(path, &r));
    ASSERT_TRUE(r.passed);
    printf("refined_rcnn_l2 (shared, real data): %s max_err=%.3g\n", r.detail, r.max_err);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/brisk_lr_test_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    generated_cases();
    resampled_run();
    constant_norms();
    median_filter_vs_naive();
    csv_formats();
    table_schedule();
    shared_real_data();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    TEST_DONE();
}
