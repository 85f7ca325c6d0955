/* Every peer vector in tests/data/samplers (diffusers schedulers and the PNDM authors'
 * code), run twice: through brisk_verify_path (the run API) and through an independent
 * step-API loop written here, which must agree with the run API bit for bit and allocate
 * nothing while stepping. Tolerance: |x - ref| <= 1e-4 max(1, |ref|). */
#include "brisk/core.h"
#include "brisk/diffusion.h"
#include "brisk/json.h"
#include "brisk/verify.h"
#include "brisk_test.h"

#include <dirent.h>
#include <string.h>

/* The case's Gaussian model (vectors README), evaluated at alpha-bar a. */
static void gauss_pred(const double *mean, const double *sd, size_t dim, brisk_prediction p,
                       const double *x, size_t batch, double a, double *out) {
    double sa = sqrt(a), sb = sqrt(1 - a);
    for (size_t b = 0; b < batch; b++)
        for (size_t j = 0; j < dim; j++) {
            size_t i = b * dim + j;
            double eps = sb * (x[i] - sa * mean[j]) / (a * sd[j] * sd[j] + 1 - a);
            double x0 = (x[i] - sb * eps) / sa;
            out[i] = p == BRISK_PRED_EPSILON ? eps : p == BRISK_PRED_SAMPLE ? x0 : sa * eps - sb * x0;
        }
}

static double *flat(const cJSON *v, size_t *n) {
    size_t total = 0, i = 0;
    const cJSON *e, *f;
    cJSON_ArrayForEach(e, v) total += cJSON_IsArray(e) ? (size_t)cJSON_GetArraySize(e) : 1;
    double *d = malloc((total + 1) * sizeof *d);
    cJSON_ArrayForEach(e, v) {
        if (cJSON_IsArray(e)) cJSON_ArrayForEach(f, e) d[i++] = f->valuedouble;
        else d[i++] = e->valuedouble;
    }
    *n = total;
    return d;
}

/* Runs a case through the step API; returns the final x (malloc) or NULL. */
static double *run_step_api(const char *path, size_t *n_out, size_t *calls, uint64_t *allocs) {
    cJSON *doc;
    if (brisk_json_read_file(path, &doc)) return NULL;
    const char *cls = cJSON_GetObjectItem(doc, "scheduler")->valuestring;
    int original = !strncmp(cls, "pndm-original:", 14);
    brisk_scheduler_config cfg;
    memset(&cfg, 0, sizeof cfg);
    ASSERT_OK(brisk_scheduler_config_from_json(cJSON_GetObjectItem(doc, "config"), cls, &cfg, path,
                                               NULL, NULL));
    const cJSON *kw = cJSON_GetObjectItem(doc, "step_kwargs");
    const cJSON *eta = kw ? cJSON_GetObjectItem(kw, "eta") : NULL;
    if (eta) cfg.eta = eta->valuedouble;
    const cJSON *shape = cJSON_GetObjectItem(doc, "shape");
    size_t batch = (size_t)cJSON_GetArrayItem(shape, 0)->valuedouble;
    size_t dim = (size_t)cJSON_GetArrayItem(shape, 1)->valuedouble;
    const cJSON *model = cJSON_GetObjectItem(doc, "model");
    brisk_prediction pred;
    ASSERT_OK(brisk_prediction_from_name(cJSON_GetObjectItem(model, "prediction_type")->valuestring, &pred));
    size_t nm, ns, nx, nz;
    double *mean = flat(cJSON_GetObjectItem(model, "mean"), &nm);
    double *sd = flat(cJSON_GetObjectItem(model, "std"), &ns);
    double *x = flat(cJSON_GetObjectItem(doc, "x_init"), &nx);
    const cJSON *jn = cJSON_GetObjectItem(doc, "noise");
    double *noise = jn ? flat(jn, &nz) : NULL;
    int steps = cJSON_GetObjectItem(doc, "num_inference_steps")->valueint;
    brisk_scheduler *s;
    ASSERT_OK(brisk_scheduler_create(&cfg, &s));
    ASSERT_OK(brisk_scheduler_set_timesteps(s, steps, batch, dim));
    if (noise) brisk_scheduler_set_noise(s, noise, nz);
    const brisk_noise_schedule *sch = brisk_scheduler_noise_schedule(s);
    double sig = brisk_scheduler_init_noise_sigma(s);
    for (size_t i = 0; i < nx; i++) x[i] *= sig;
    double *xin = malloc(nx * sizeof *xin), *mo = malloc(nx * sizeof *mo);
    uint64_t a0 = brisk_alloc_count();
    while (!brisk_scheduler_done(s)) {
        double t, ab;
        if (brisk_scheduler_next(s, &t, &ab)) break;
        brisk_scheduler_scale_model_input(s, x, xin, batch);
        double a = original ? brisk_alpha_bar_at(sch, t) : sch->alphas_cumprod[(long)t];
        gauss_pred(mean, sd, dim, pred, xin, batch, a, mo);
        int rc = brisk_scheduler_step(s, mo, t, x, x, batch);
        ASSERT_OK(rc);
        if (rc) break;
    }
    *allocs = brisk_alloc_count() - a0;
    *calls = brisk_scheduler_nfe(s);
    *n_out = nx;
    brisk_scheduler_free(s);
    brisk_scheduler_config_clear(&cfg);
    free(mean), free(sd), free(noise), free(xin), free(mo);
    cJSON_Delete(doc);
    return x;
}

int main(void) {
    const char *dir = "tests/data/samplers";
    DIR *d = opendir(dir);
    ASSERT_TRUE(d != NULL);
    if (!d) TEST_DONE();
    int cases = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t L = strlen(e->d_name);
        if (L < 6 || strcmp(e->d_name + L - 5, ".json")) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        brisk_verify_result r;
        int rc = brisk_verify_path(path, &r);
        ASSERT_OK(rc);
        ASSERT_TRUE(r.passed);
        ASSERT_STR_CONTAINS(r.detail, "timesteps match");
        printf("%-28s %-40s max_err %.3g %s\n", r.name, r.detail, r.max_err, r.passed ? "PASS" : "FAIL");

        /* the step API gives the same result as the run API, and steps allocate nothing */
        cJSON *doc;
        ASSERT_OK(brisk_json_read_file(path, &doc));
        size_t nf, n, calls;
        uint64_t allocs;
        double *ref = flat(cJSON_GetObjectItem(doc, "x_final"), &nf);
        long nfe = cJSON_GetObjectItem(doc, "nfe")->valueint;
        double *x = run_step_api(path, &n, &calls, &allocs);
        ASSERT_TRUE(x != NULL);
        if (x) {
            ASSERT_EQ(n, nf);
            ASSERT_EQ(calls, nfe);
            ASSERT_EQ(allocs, 0);
            double worst = 0;
            for (size_t i = 0; i < n; i++) {
                double err = fabs(x[i] - ref[i]) / (fabs(ref[i]) > 1 ? fabs(ref[i]) : 1);
                if (err > worst) worst = err;
            }
            ASSERT_DOUBLE_LE(worst, 1e-4);
            free(x);
        }
        free(ref);
        cJSON_Delete(doc);
        cases++;
    }
    closedir(d);
    ASSERT_TRUE(cases >= 17);
    TEST_DONE();
}
