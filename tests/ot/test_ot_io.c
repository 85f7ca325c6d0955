/* OT files and inputs (src/ot/ot_io.c, src/ot/latents.c): bad targets (dtype, rank, N = 0,
 * NaN) and bad potentials give one-line errors naming the file; h round-trips; the
 * linear-schedule alpha-bar; the fixed-noise diffusion of targets; Fashion-MNIST latents. */
#include "brisk/core.h"
#include "brisk/io.h"
#include "brisk/ot.h"
#include "brisk/rng.h"
#include "brisk_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static const char *path_of(const char *name) {
    static char buf[8][256];
    static int k = 0;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void write_array(const char *name, brisk_dtype t, int ndim, const size_t *shape,
                        const void *data) {
    brisk_array a = {.dtype = t, .ndim = ndim, .data = (void *)data};
    for (int i = 0; i < ndim; i++) a.shape[i] = shape[i];
    ASSERT_OK(brisk_npy_write(path_of(name), &a));
}

/* The message is one line and names the file. */
static void expect_error(const char *name, int want, const char *needle) {
    brisk_array a;
    const char *p = path_of(name);
    ASSERT_STATUS(brisk_ot_targets_load(p, &a), want);
    ASSERT_STR_CONTAINS(brisk_last_error(), p);
    ASSERT_STR_CONTAINS(brisk_last_error(), needle);
    ASSERT_TRUE(strchr(brisk_last_error(), '\n') == NULL);
    ASSERT_TRUE(a.data == NULL);
}

static void test_bad_targets(void) {
    float f[12];
    for (int i = 0; i < 12; i++) f[i] = (float)i;
    int32_t ints[12] = {0};
    size_t s2[2] = {3, 4}, s1[1] = {12}, s3[3] = {3, 2, 2}, s0[2] = {0, 4}, sd0[2] = {3, 0};
    write_array("int.npy", BRISK_I32, 2, s2, ints);
    expect_error("int.npy", BRISK_EUNSUPPORTED, "int32");
    write_array("rank1.npy", BRISK_F32, 1, s1, f);
    expect_error("rank1.npy", BRISK_ESHAPE, "rank 1");
    write_array("rank3.npy", BRISK_F32, 3, s3, f);
    expect_error("rank3.npy", BRISK_ESHAPE, "(3, 2, 2)");
    write_array("empty.npy", BRISK_F32, 2, s0, f);
    expect_error("empty.npy", BRISK_ESHAPE, "N = 0");
    write_array("dim0.npy", BRISK_F32, 2, sd0, f);
    expect_error("dim0.npy", BRISK_ESHAPE, "D = 0");
    f[6] = NAN;
    write_array("nan.npy", BRISK_F32, 2, s2, f);
    expect_error("nan.npy", BRISK_ENUMERIC, "target 1, element 2 is NaN");
    f[6] = INFINITY;
    write_array("inf.npy", BRISK_F32, 2, s2, f);
    expect_error("inf.npy", BRISK_ENUMERIC, "infinite");
    double dd[12];
    for (int i = 0; i < 12; i++) dd[i] = i * 0.5;
    dd[11] = NAN;
    write_array("nan64.npy", BRISK_F64, 2, s2, dd);
    expect_error("nan64.npy", BRISK_ENUMERIC, "target 2, element 3 is NaN");
    dd[11] = 1e300;
    write_array("big64.npy", BRISK_F64, 2, s2, dd);
    expect_error("big64.npy", BRISK_ENUMERIC, "too large for float32");
    ASSERT_STATUS(brisk_ot_targets_load(path_of("missing.npy"), &(brisk_array){0}), BRISK_EIO);
    ASSERT_STR_CONTAINS(brisk_last_error(), "missing.npy");
    ASSERT_OK(brisk_write_file_atomic(path_of("junk.npy"), "hello", 5));
    expect_error("junk.npy", BRISK_EPARSE, "not a .npy");

    /* float64 targets are accepted and rounded to float32. */
    dd[11] = 5.5;
    write_array("f64.npy", BRISK_F64, 2, s2, dd);
    brisk_array a;
    ASSERT_OK(brisk_ot_targets_load(path_of("f64.npy"), &a));
    ASSERT_EQ(a.dtype, BRISK_F32);
    ASSERT_EQ(a.shape[0], 3);
    ASSERT_EQ(a.shape[1], 4);
    ASSERT_NEAR(((float *)a.data)[11], 5.5, 0);
    brisk_array_free(&a);

    /* The library entry point checks too (N = 0, NaN). */
    brisk_ot *ot;
    ASSERT_STATUS(brisk_ot_create(f, 0, 4, BRISK_OT_SOURCE_NORMAL, "mine", &ot), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "mine: no targets");
    f[6] = NAN;
    ASSERT_STATUS(brisk_ot_create(f, 3, 4, BRISK_OT_SOURCE_NORMAL, "mine", &ot), BRISK_ENUMERIC);
    ASSERT_TRUE(ot == NULL);
}

static void test_h_files(void) {
    double h[5] = {0.5, -1.25, 3e-7, 1e10, -0.0};
    ASSERT_OK(brisk_ot_h_save(path_of("h.npy"), h, 5));
    double *back;
    ASSERT_OK(brisk_ot_h_load(path_of("h.npy"), 5, &back));
    ASSERT_TRUE(memcmp(back, h, sizeof h) == 0);
    brisk_free(back);
    /* It is a plain rank-1 float64 .npy. */
    brisk_array a;
    ASSERT_OK(brisk_npy_read(path_of("h.npy"), &a));
    ASSERT_EQ(a.dtype, BRISK_F64);
    ASSERT_EQ(a.ndim, 1);
    ASSERT_EQ(a.shape[0], 5);
    brisk_array_free(&a);

    ASSERT_STATUS(brisk_ot_h_load(path_of("h.npy"), 6, &back), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "h.npy: h has 5 entries but there are 6 targets");
    ASSERT_TRUE(back == NULL);
    size_t s2[2] = {5, 1};
    write_array("h2d.npy", BRISK_F64, 2, s2, h);
    ASSERT_STATUS(brisk_ot_h_load(path_of("h2d.npy"), 5, &back), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "h2d.npy");
    int64_t ints[5] = {0};
    size_t s1[1] = {5};
    write_array("hint.npy", BRISK_I64, 1, s1, ints);
    ASSERT_STATUS(brisk_ot_h_load(path_of("hint.npy"), 5, &back), BRISK_EUNSUPPORTED);
    ASSERT_STR_CONTAINS(brisk_last_error(), "hint.npy");
    h[3] = NAN;
    write_array("hnan.npy", BRISK_F64, 1, s1, h);
    ASSERT_STATUS(brisk_ot_h_load(path_of("hnan.npy"), 5, &back), BRISK_ENUMERIC);
    ASSERT_STR_CONTAINS(brisk_last_error(), "h[3]");
    float hf[5] = {1, 2, 3, 4, 5};
    write_array("hf.npy", BRISK_F32, 1, s1, hf);
    ASSERT_OK(brisk_ot_h_load(path_of("hf.npy"), 5, &back));
    ASSERT_NEAR(back[4], 5.0, 0);
    brisk_free(back);
}

static void test_alpha_bar(void) {
    double ab, prev = 1.0;
    ASSERT_OK(brisk_ot_alpha_bar_linear(0, 1000, 1e-4, 0.02, &ab));
    ASSERT_NEAR(ab, 1.0 - 1e-4, 1e-15);
        for (int t = 0; t < 1000; t += 37) {
        ASSERT_OK(brisk_ot_alpha_bar_linear(t, 1000, 1e-4, 0.02, &ab));
        ASSERT_TRUE(ab < prev);
        prev = ab;
    }
    /* numpy's cumprod(1 - linspace(1e-4, 0.02, 1000)) (tests/data/ot/gen_alpha_bar.py). */
    FILE *fp = fopen("tests/data/ot/alpha_bar_linear.txt", "r");
    ASSERT_TRUE(fp != NULL);
    int t, rows = 0;
    double want, maxrel = 0;
    while (fp && fscanf(fp, "%d %lf", &t, &want) == 2) {
        ASSERT_OK(brisk_ot_alpha_bar_linear(t, 1000, 1e-4, 0.02, &ab));
        if (fabs(ab - want) / want > maxrel) maxrel = fabs(ab - want) / want;
        rows++;
    }
    if (fp) fclose(fp);
    ASSERT_EQ(rows, 9);
    printf("alpha-bar vs numpy: max relative error %.3g\n", maxrel);
    ASSERT_DOUBLE_LE(maxrel, 1e-12);
    ASSERT_STATUS(brisk_ot_alpha_bar_linear(1000, 1000, 1e-4, 0.02, &ab), BRISK_EINVAL);
    ASSERT_STATUS(brisk_ot_alpha_bar_linear(-1, 1000, 1e-4, 0.02, &ab), BRISK_EINVAL);
    ASSERT_STATUS(brisk_ot_alpha_bar_linear(5, 1000, 0.02, 1e-4, &ab), BRISK_EINVAL);
}

/* y_t = sqrt(a) y0 + sqrt(1-a) eps_i with eps_i = Philox(seed, first_index + i): the noise of
 * image i does not depend on how many images are diffused together. */
static void test_diffuse(void) {
    const size_t n = 10, d = 7;
    float y[70], part[35];
    for (size_t k = 0; k < n * d; k++) y[k] = (float)k / 70.0f - 0.5f;
    memcpy(part, y + 5 * d, sizeof part);
    float y0[70];
    memcpy(y0, y, sizeof y);
    const double a = 0.3;
    ASSERT_OK(brisk_ot_diffuse(y, n, d, a, 42, 0));
    ASSERT_OK(brisk_ot_diffuse(part, 5, d, a, 42, 5));
    ASSERT_TRUE(memcmp(part, y + 5 * d, sizeof part) == 0);
    double eps[7];
    brisk_randn(42, 3, BRISK_OT_STREAM_LATENT, d, eps);
    for (size_t j = 0; j < d; j++)
        ASSERT_NEAR(y[3 * d + j], sqrt(a) * y0[3 * d + j] + sqrt(1 - a) * eps[j], 1e-6);
    float z[7] = {1, 2, 3, 4, 5, 6, 7};
    ASSERT_OK(brisk_ot_diffuse(z, 1, 7, 1.0, 1, 0)); /* alpha-bar 1: unchanged */
    ASSERT_NEAR(z[6], 7.0, 0);
    ASSERT_STATUS(brisk_ot_diffuse(z, 1, 7, 0.0, 1, 0), BRISK_EINVAL);
}

static void test_fmnist_latents(void) {
    const char *env = getenv("BRISK_FASHION_MNIST");
    char probe[512];
    snprintf(probe, sizeof probe, "%s/train-images-idx3-ubyte.gz",
             env && *env ? env : BRISK_FMNIST_DIR);
    if (access(probe, R_OK) != 0) {
        printf("SKIP Fashion-MNIST latents: %s not found\n", probe);
        return;
    }
    brisk_array y;
    uint8_t *labels;
    double ab;
    ASSERT_OK(brisk_ot_alpha_bar_linear(100, 1000, 1e-4, 0.02, &ab));
    ASSERT_OK(brisk_ot_fmnist_latents(NULL, 4, ab, 9, &y, &labels));
    ASSERT_EQ(y.ndim, 2);
    ASSERT_EQ(y.shape[0], 4);
    ASSERT_EQ(y.shape[1], 1024);
    ASSERT_TRUE(labels[0] <= 9 && labels[3] <= 9);
    /* Undo the diffusion of image 2 and compare with the clean image. */
    brisk_dataset ds;
    ASSERT_OK(brisk_fmnist_load(NULL, BRISK_SPLIT_TRAIN, 1, 4, &ds));
    double eps[1024];
    brisk_randn(9, 2, BRISK_OT_STREAM_LATENT, 1024, eps);
    double maxerr = 0;
    const float *v = y.data;
    for (size_t j = 0; j < 1024; j++) {
        double want = sqrt(ab) * ds.images[2 * 1024 + j] + sqrt(1 - ab) * eps[j];
        if (fabs(v[2 * 1024 + j] - want) > maxerr) maxerr = fabs(v[2 * 1024 + j] - want);
    }
    ASSERT_DOUBLE_LE(maxerr, 1e-6);
    ASSERT_EQ(labels[2], ds.labels[2]);
    brisk_dataset_free(&ds);
    brisk_free(labels);
    brisk_array_free(&y);
    ASSERT_STATUS(brisk_ot_fmnist_latents(NULL, 0, ab, 9, &y, NULL), BRISK_EINVAL);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/brisk_ot_io_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_bad_targets();
    test_h_files();
    test_alpha_bar();
    test_diffuse();
    test_fmnist_latents();
    const char *names[] = {"int.npy", "rank1.npy", "rank3.npy", "empty.npy", "dim0.npy",
                           "nan.npy", "inf.npy", "nan64.npy", "big64.npy", "junk.npy",
                           "f64.npy", "h.npy", "h2d.npy", "hint.npy", "hnan.npy", "hf.npy"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unlink(path_of(names[i]));
    rmdir(dir);
    TEST_DONE();
}
