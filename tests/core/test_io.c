#include "brisk/core.h"
#include "brisk/io.h"
#include "brisk/json.h"
#include "brisk_test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static void path_in_tmp(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", tmpdir, name); }

static void write_raw(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

static void test_npy_roundtrip(void) {
    char p[512];
    path_in_tmp(p, sizeof p, "a.npy");
    float x[6] = {1, 2, 3, 4, 5, -6.5f};
    size_t shape[2] = {2, 3};
    ASSERT_OK(brisk_npy_write_f32(p, x, 2, shape));
    brisk_array a;
    ASSERT_OK(brisk_npy_read(p, &a));
    ASSERT_EQ(a.dtype, BRISK_F32);
    ASSERT_EQ(a.ndim, 2);
    ASSERT_EQ(a.shape[0], 2);
    ASSERT_EQ(a.shape[1], 3);
    ASSERT_EQ(memcmp(a.data, x, sizeof x), 0);
    ASSERT_OK(brisk_array_convert(&a, BRISK_F64));
    ASSERT_NEAR(((double *)a.data)[5], -6.5, 0);
    brisk_array_free(&a);

    /* 1-D f64 and header alignment to 64 bytes */
    double y[5] = {0.1, 0.2, 0.3, 0.4, 0.5};
    size_t s1 = 5;
    ASSERT_OK(brisk_npy_write_f64(p, y, 1, &s1));
    struct stat st;
    stat(p, &st);
    ASSERT_EQ((st.st_size - 40) % 64, 0);
    ASSERT_OK(brisk_npy_read(p, &a));
    ASSERT_EQ(a.ndim, 1);
    ASSERT_EQ(a.shape[0], 5);
    ASSERT_NEAR(((double *)a.data)[4], 0.5, 0);
    brisk_array_free(&a);
}

static void test_npy_bad_input(void) {
    char p[512];
    path_in_tmp(p, sizeof p, "bad.npy");
    write_raw(p, "hello world", 11);
    ASSERT_STATUS(brisk_npy_read(p, &(brisk_array){0}), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "bad.npy");
    /* unsupported dtype */
    const char hdr[] = "\x93NUMPY\x01\x00\x36\x00{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n";
    write_raw(p, hdr, sizeof hdr - 1);
    ASSERT_STATUS(brisk_npy_read(p, &(brisk_array){0}), BRISK_EUNSUPPORTED);
    ASSERT_STR_CONTAINS(brisk_last_error(), "<c8");
    /* truncated data */
    float x[4] = {1, 2, 3, 4};
    size_t s = 4;
    ASSERT_OK(brisk_npy_write_f32(p, x, 1, &s));
    truncate(p, 64 + 8);
    ASSERT_STATUS(brisk_npy_read(p, &(brisk_array){0}), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "truncated");
    ASSERT_STATUS(brisk_npy_read("/nonexistent/x.npy", &(brisk_array){0}), BRISK_EIO);
}

static void test_atomic(void) {
    char p[512];
    path_in_tmp(p, sizeof p, "atomic.txt");
    ASSERT_OK(brisk_write_file_atomic(p, "old", 3));
    brisk_atomic_file f;
    ASSERT_OK(brisk_atomic_open(&f, p));
    fputs("new content", f.fp);
    brisk_atomic_abort(&f);
    char *s;
    ASSERT_OK(brisk_read_file(p, &s, NULL));
    ASSERT_TRUE(!strcmp(s, "old")); /* an aborted write leaves the old file */
    brisk_free(s);
    ASSERT_STATUS(brisk_write_file_atomic("/nonexistent-dir/x", "a", 1), BRISK_EIO);
}

static void test_png(void) {
    char p[512];
    path_in_tmp(p, sizeof p, "grid.png");
    float x[4 * 8 * 8];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)(i % 17) / 8.0f - 1.0f;
    ASSERT_OK(brisk_png_write_grid(p, x, 4, 1, 8, 8, 2, -1, 1));
    char *s;
    size_t n;
    ASSERT_OK(brisk_read_file(p, &s, &n));
    ASSERT_TRUE(n > 8 && !memcmp(s, "\x89PNG", 4));
    brisk_free(s);
    ASSERT_STATUS(brisk_png_write_grid(p, x, 2, 2, 8, 8, 0, -1, 1), BRISK_EINVAL);
}

static void test_json(void) {
    cJSON *doc;
    ASSERT_STATUS(brisk_json_parse("{\n \"a\": 1,\n \"b\": }", "cfg.json", &doc), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "cfg.json: line 3");
    ASSERT_OK(brisk_json_parse("{\"a\": 1.5, \"s\": \"x\", \"v\": [1, 2]}", "t", &doc));
    double a;
    ASSERT_OK(brisk_json_get_number(doc, "a", 0, &a, "t"));
    ASSERT_NEAR(a, 1.5, 0);
    long li;
    ASSERT_STATUS(brisk_json_get_int(doc, "a", 0, &li, "t"), BRISK_EPARSE);
    ASSERT_STATUS(brisk_json_get_number(doc, "s", 0, &a, "t"), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "'s'");
    double *v;
    size_t n;
    ASSERT_OK(brisk_json_get_doubles(doc, "v", &v, &n, "t"));
    ASSERT_EQ(n, 2);
    brisk_free(v);
    cJSON_Delete(doc);
}

static void test_idx(void) {
    char p[512];
    path_in_tmp(p, sizeof p, "t.idx");
    unsigned char raw[] = {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6};
    write_raw(p, raw, sizeof raw);
    brisk_array a;
    ASSERT_OK(brisk_idx_read(p, &a));
    ASSERT_EQ(a.ndim, 2);
    ASSERT_EQ(a.shape[1], 3);
    ASSERT_EQ(((unsigned char *)a.data)[5], 6);
    brisk_array_free(&a);
    write_raw(p, raw, 14);
    ASSERT_STATUS(brisk_idx_read(p, &a), BRISK_EPARSE);
}

static void test_fmnist(void) {
    brisk_dataset d;
    int rc = brisk_fmnist_load(NULL, BRISK_SPLIT_TEST, 1, 100, &d);
    if (rc) {
        printf("SKIP fashion-mnist not installed: %s\n", brisk_last_error());
        return;
    }
    ASSERT_EQ(d.n, 100);
    ASSERT_EQ(d.h, 32);
    ASSERT_EQ(d.w, 32);
    float lo = 1, hi = -1;
    for (size_t i = 0; i < d.n * 32 * 32; i++) {
        if (d.images[i] < lo) lo = d.images[i];
        if (d.images[i] > hi) hi = d.images[i];
    }
    ASSERT_NEAR(lo, -1, 0);
    ASSERT_TRUE(hi > 0.9f && hi <= 1.0f);
    ASSERT_EQ(d.labels[0], 9); /* the first Fashion-MNIST test image is an ankle boot */
    ASSERT_NEAR(d.images[0], -1, 0); /* padding */
    brisk_dataset_free(&d);
}

static void test_alloc_failure(void) {
    brisk_alloc_fail_after(0);
    void *p = brisk_malloc(16);
    ASSERT_TRUE(p == NULL);
    brisk_alloc_fail_after(-1);
    p = brisk_malloc(16);
    ASSERT_TRUE(p != NULL);
    brisk_free(p);
    ASSERT_TRUE(!strcmp(brisk_strerror(BRISK_EPARSE), "malformed input"));
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/brisk-test-io-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    test_npy_roundtrip();
    test_npy_bad_input();
    test_atomic();
    test_png();
    test_json();
    test_idx();
    test_fmnist();
    test_alloc_failure();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd)) return 1;
    TEST_DONE();
}
