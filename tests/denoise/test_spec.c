/* Model specs: gaussian (scalars, @files, JSON, shape), gmm, empirical .npy, unet, and
 * the error messages for bad specs. */
#include "brisk/core.h"
#include "brisk/denoiser.h"
#include "brisk/io.h"
#include "brisk_test.h"

#include <unistd.h>

static char tmpdir[64] = "/tmp/brisk_spec_XXXXXX";
static char path_buf[4][256];

static const char *tmp_path(int slot, const char *name) {
    snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", tmpdir, name);
    return path_buf[slot];
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void check_gaussian(brisk_denoiser *d, size_t dim, const double *m, const double *s) {
    const double *gm, *gs;
    ASSERT_OK(brisk_denoiser_gaussian_params(d, &gm, &gs));
    ASSERT_EQ(d->dim, dim);
    for (size_t j = 0; j < dim; j++) {
        ASSERT_NEAR(gm[j], m[j], 0);
        ASSERT_NEAR(gs[j], s[j], 0);
    }
}

static void test_gaussian_specs(void) {
    brisk_denoiser *d;
    ASSERT_OK(brisk_denoiser_from_spec("gaussian:dim=3,mean=0.5,std=0.8", BRISK_PRED_V, &d));
    check_gaussian(d, 3, (double[]){0.5, 0.5, 0.5}, (double[]){0.8, 0.8, 0.8});
    ASSERT_EQ(d->prediction, BRISK_PRED_V);
    ASSERT_EQ(d->c, 0);
    brisk_denoiser_free(d);

    ASSERT_OK(brisk_denoiser_from_spec("gaussian:dim=2", BRISK_PRED_EPSILON, &d)); /* N(0, 1) */
    check_gaussian(d, 2, (double[]){0, 0}, (double[]){1, 1});
    brisk_denoiser_free(d);

    ASSERT_OK(brisk_denoiser_from_spec("gaussian:shape=1x4x2,mean=-0.25", BRISK_PRED_EPSILON, &d));
    ASSERT_EQ(d->dim, 8);
    ASSERT_EQ(d->c, 1);
    ASSERT_EQ(d->h, 4);
    ASSERT_EQ(d->w, 2);
    brisk_denoiser_free(d);

    /* mean from .npy, std from a JSON array, dim inferred */
    double m[4] = {1, 2, 3, 4};
    size_t sh = 4;
    ASSERT_OK(brisk_npy_write_f64(tmp_path(0, "m.npy"), m, 1, &sh));
    write_text(tmp_path(1, "s.json"), "[0.1, 0.2, 0.3, 0.4]");
    char spec[600];
    snprintf(spec, sizeof spec, "gaussian:mean=@%s,std=@%s", path_buf[0], path_buf[1]);
    ASSERT_OK(brisk_denoiser_from_spec(spec, BRISK_PRED_EPSILON, &d));
    check_gaussian(d, 4, m, (double[]){0.1, 0.2, 0.3, 0.4});
    brisk_denoiser_free(d);

    snprintf(spec, sizeof spec, "gaussian:dim=5,mean=@%s", path_buf[0]);
    ASSERT_STATUS(brisk_denoiser_from_spec(spec, BRISK_PRED_EPSILON, &d), BRISK_ESHAPE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "mean has 4 values, expected dim 5");

    write_text(tmp_path(2, "g.json"), "{\"mean\": [0, 1], \"std\": 0.5}");
    snprintf(spec, sizeof spec, "gaussian:%s", path_buf[2]);
    ASSERT_OK(brisk_denoiser_from_spec(spec, BRISK_PRED_SAMPLE, &d));
    check_gaussian(d, 2, (double[]){0, 1}, (double[]){0.5, 0.5});
    brisk_denoiser_free(d);

    ASSERT_STATUS(brisk_denoiser_from_spec("gaussian:dim=3,mu=1", BRISK_PRED_EPSILON, &d), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "unknown key 'mu'");
    ASSERT_STATUS(brisk_denoiser_from_spec("gaussian:dim=3,std=abc", BRISK_PRED_EPSILON, &d), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "std='abc'");
    ASSERT_STATUS(brisk_denoiser_from_spec("gaussian:dim=3,std=-1", BRISK_PRED_EPSILON, &d), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "std[0]");
    ASSERT_STATUS(brisk_denoiser_from_spec("gaussian:dim=0", BRISK_PRED_EPSILON, &d), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "dim='0'");
    ASSERT_STATUS(brisk_denoiser_from_spec("gaussian:mean=1", BRISK_PRED_EPSILON, &d), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "needs dim");
    ASSERT_STATUS(brisk_denoiser_from_spec("gaussian:dim=4,shape=1x3x3", BRISK_PRED_EPSILON, &d), BRISK_ESHAPE);
    ASSERT_STATUS(brisk_denoiser_from_spec("gaussian:dim", BRISK_PRED_EPSILON, &d), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "KEY=VALUE");
    ASSERT_STATUS(brisk_denoiser_from_spec("gaussian:mean=@/nonexistent.npy,dim=2", BRISK_PRED_EPSILON, &d),
                  BRISK_EIO);
    ASSERT_STR_CONTAINS(brisk_last_error(), "/nonexistent.npy");
    ASSERT_TRUE(d == NULL);
    unlink(path_buf[0]);
    unlink(path_buf[1]);
    unlink(path_buf[2]);
}

static void test_other_kinds(void) {
    brisk_denoiser *d;
    write_text(tmp_path(0, "gmm.json"), "{\"weights\": [1, 1], \"means\": [[0, 0, 0], [1, 1, 1]], \"stds\": [1, 0.5]}");
    char spec[600];
    snprintf(spec, sizeof spec, "gmm:%s", path_buf[0]);
    ASSERT_OK(brisk_denoiser_from_spec(spec, BRISK_PRED_EPSILON, &d));
    ASSERT_EQ(d->dim, 3);
    const double *m, *s;
    ASSERT_STATUS(brisk_denoiser_gaussian_params(d, &m, &s), BRISK_EINVAL);
    brisk_denoiser_free(d);
    unlink(path_buf[0]);

    /* empirical from a (n, c, h, w) .npy, with a subset */
    float pts[5 * 2 * 2 * 3];
    for (int i = 0; i < 60; i++) pts[i] = (float)(i % 7) * 0.1f;
    size_t shape[4] = {5, 2, 2, 3};
    ASSERT_OK(brisk_npy_write_f32(tmp_path(1, "pts.npy"), pts, 4, shape));
    snprintf(spec, sizeof spec, "empirical:%s,n=3,precision=f32", path_buf[1]);
    ASSERT_OK(brisk_denoiser_from_spec(spec, BRISK_PRED_SAMPLE, &d));
    ASSERT_EQ(d->dim, 12);
    ASSERT_EQ(d->c, 2);
    ASSERT_EQ(d->h, 2);
    ASSERT_EQ(d->w, 3);
    double x[12] = {0}, x0[12];
    ASSERT_OK(brisk_denoiser_predict(d, x, 1, 0, 0.0, x0)); /* a = 0: mean of the 3 kept points */
    for (int j = 0; j < 12; j++) {
        double mean = 0;
        for (int i = 0; i < 3; i++) mean += pts[i * 12 + j];
        ASSERT_NEAR(x0[j], mean / 3, 1e-6);
    }
    brisk_denoiser_free(d);
    snprintf(spec, sizeof spec, "empirical:%s,split=test", path_buf[1]);
    ASSERT_STATUS(brisk_denoiser_from_spec(spec, BRISK_PRED_SAMPLE, &d), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "unknown key 'split'");
    snprintf(spec, sizeof spec, "empirical:%s,precision=f16", path_buf[1]);
    ASSERT_STATUS(brisk_denoiser_from_spec(spec, BRISK_PRED_SAMPLE, &d), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "valid: f32, f64");
    unlink(path_buf[1]);

    ASSERT_STATUS(brisk_denoiser_from_spec("empirical:mnist", BRISK_PRED_SAMPLE, &d), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "fashion-mnist");
    ASSERT_STATUS(brisk_denoiser_from_spec("empirical:fashion-mnist,n=-3", BRISK_PRED_SAMPLE, &d), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "n='-3'");
    ASSERT_STATUS(brisk_denoiser_from_spec("empirical:fashion-mnist,dir=/nonexistent,n=5", BRISK_PRED_SAMPLE, &d),
                  BRISK_EIO);
    ASSERT_STR_CONTAINS(brisk_last_error(), "/nonexistent");

    ASSERT_TRUE(brisk_denoiser_from_spec("unet:models/x", BRISK_PRED_EPSILON, &d) != 0);
    ASSERT_STR_CONTAINS(brisk_last_error(), "models/x");
    ASSERT_OK(brisk_denoiser_from_spec("unet:tests/data/unet/unet_tiny_attn", BRISK_PRED_EPSILON, &d));
    ASSERT_EQ(d->c * d->h * d->w, d->dim);
    brisk_denoiser_free(d);
    ASSERT_STATUS(brisk_denoiser_from_spec("vae:foo", BRISK_PRED_EPSILON, &d), BRISK_EUNSUPPORTED);
    ASSERT_STR_CONTAINS(brisk_last_error(), "gaussian, gmm, empirical, unet");
    ASSERT_STATUS(brisk_denoiser_from_spec("gaussian", BRISK_PRED_EPSILON, &d), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "KIND:ARGS");
    ASSERT_STATUS(brisk_denoiser_from_spec("gmm:", BRISK_PRED_EPSILON, &d), BRISK_EINVAL);
    ASSERT_TRUE(d == NULL);
}

int main(void) {
    if (!mkdtemp(tmpdir)) return 1;
    test_gaussian_specs();
    test_other_kinds();
    rmdir(tmpdir);
    TEST_DONE();
}
