/* Noise schedules and time grids against values diffusers / numpy / the PNDM authors'
 * code produce (the numbers below were read off the peer vectors or follow from the
 * peers' formulas), config parsing, and the bad-input rules. */
#include "brisk/core.h"
#include "brisk/diffusion.h"
#include "brisk/io.h"
#include "brisk/json.h"
#include "brisk_test.h"

#include <string.h>
#include <unistd.h>

static brisk_scheduler *make(brisk_sampler_kind k, brisk_timestep_spacing sp, int offset) {
    brisk_scheduler_config c;
    brisk_scheduler_config_default(&c, k);
    c.timestep_spacing = sp;
    c.steps_offset = offset;
    brisk_scheduler *s = NULL;
    ASSERT_OK(brisk_scheduler_create(&c, &s));
    return s;
}

static void expect_calls(brisk_scheduler *s, int n, const double *want, size_t nwant, size_t total) {
    ASSERT_OK(brisk_scheduler_set_timesteps(s, n, 1, 1));
    size_t nc = brisk_scheduler_num_model_calls(s);
    ASSERT_EQ(nc, total);
    const double *t = brisk_scheduler_model_timesteps(s);
    for (size_t i = 0; i < nwant && i < nc; i++) ASSERT_NEAR(t[i], want[i], 1e-4);
}

static void test_betas(void) {
    brisk_scheduler_config c;
    brisk_noise_schedule ns;
    brisk_scheduler_config_default(&c, BRISK_SAMPLER_DDIM);
    ASSERT_OK(brisk_noise_schedule_init(&ns, &c));
    ASSERT_EQ(ns.T, 1000);
    ASSERT_NEAR(ns.betas[0], 1e-4, 1e-11);
    ASSERT_NEAR(ns.betas[999], 0.02, 1e-9);
    ASSERT_NEAR(ns.betas[500], 1e-4 + 500 * (0.02 - 1e-4) / 999, 1e-9);
    /* float64 cumulative product of the float32 alphas: close to the exact float64 product */
    double p = 1;
    for (int i = 0; i < 1000; i++) p *= 1 - (1e-4 + i * (0.02 - 1e-4) / 999);
    ASSERT_NEAR(ns.alphas_cumprod[999] / p, 1, 1e-5);
    ASSERT_NEAR(ns.final_alpha_cumprod, 1.0, 0); /* DDIM: set_alpha_to_one defaults to true */
    ASSERT_NEAR(brisk_alpha_bar_at(&ns, 10.25), 0.75 * ns.alphas_cumprod[10] + 0.25 * ns.alphas_cumprod[11], 1e-15);
    ASSERT_NEAR(brisk_alpha_bar_at(&ns, -3), ns.alphas_cumprod[0], 0);
    ASSERT_NEAR(brisk_alpha_bar_at(&ns, 2000), ns.alphas_cumprod[999], 0);
    brisk_noise_schedule_free(&ns);

    c.beta_schedule = BRISK_BETA_SCALED_LINEAR;
    c.beta_start = 0.00085, c.beta_end = 0.012;
    c.set_alpha_to_one = 0;
    ASSERT_OK(brisk_noise_schedule_init(&ns, &c));
    ASSERT_NEAR(ns.betas[0], 0.00085, 1e-9);
    ASSERT_NEAR(ns.betas[999], 0.012, 1e-8);
    double r = sqrt(0.00085) + 300 * (sqrt(0.012) - sqrt(0.00085)) / 999;
    ASSERT_NEAR(ns.betas[300], r * r, 1e-8);
    ASSERT_NEAR(ns.final_alpha_cumprod, ns.alphas_cumprod[0], 0);
    brisk_noise_schedule_free(&ns);

    c.beta_schedule = BRISK_BETA_SQUAREDCOS_CAP_V2;
    c.schedule_float32 = 0;
    ASSERT_OK(brisk_noise_schedule_init(&ns, &c));
    for (int i = 0; i < 1000; i += 111) {
        double f1 = cos((i / 1000.0 + 0.008) / 1.008 * 3.14159265358979323846 / 2);
        double f2 = cos(((i + 1) / 1000.0 + 0.008) / 1.008 * 3.14159265358979323846 / 2);
        double b = 1 - (f2 * f2) / (f1 * f1);
        ASSERT_NEAR(ns.betas[i], b > 0.999 ? 0.999 : b, 1e-15);
    }
    ASSERT_NEAR(ns.betas[999], 0.999, 0);
    brisk_noise_schedule_free(&ns);

    /* rescale_betas_zero_snr: last alpha-bar 0, first unchanged (Lin et al. 2024) */
    brisk_scheduler_config_default(&c, BRISK_SAMPLER_DDIM);
    brisk_noise_schedule ref;
    ASSERT_OK(brisk_noise_schedule_init(&ref, &c));
    c.rescale_betas_zero_snr = 1;
    ASSERT_OK(brisk_noise_schedule_init(&ns, &c));
    ASSERT_NEAR(ns.alphas_cumprod[999], 0, 1e-12);
    ASSERT_NEAR(ns.alphas_cumprod[0], ref.alphas_cumprod[0], 1e-7);
    ASSERT_TRUE(ns.alphas_cumprod[500] < ref.alphas_cumprod[500]);
    brisk_noise_schedule_free(&ns);
    c.kind = BRISK_SAMPLER_EULER; /* Euler / DPM / UniPC set the last alpha-bar to 2^-24 */
    ASSERT_OK(brisk_noise_schedule_init(&ns, &c));
    ASSERT_NEAR(ns.alphas_cumprod[999], 0x1p-24, 0);
    brisk_noise_schedule_free(&ns);
    brisk_noise_schedule_free(&ref);
}

static void test_trained_betas(void) {
    const char *jpath = "build-trained-betas.json", *tpath = "build-trained-betas.txt";
    char json[64 * 1024], text[64 * 1024];
    size_t lj = 0, lt = 0;
    lj += (size_t)snprintf(json + lj, sizeof json - lj, "[");
    for (int i = 0; i < 1000; i++) {
        double b = 1e-4 + i * (0.02 - 1e-4) / 999;
        lj += (size_t)snprintf(json + lj, sizeof json - lj, "%s%.17g", i ? ", " : "", b);
        lt += (size_t)snprintf(text + lt, sizeof text - lt, "%.17g%s", b, i % 7 == 6 ? "\n" : " ");
    }
    snprintf(json + lj, sizeof json - lj, "]");
    char tmpdir[] = "/tmp/brisk-betas-XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpdir) != NULL);
    char jp[256], tp[256], cp[256];
    snprintf(jp, sizeof jp, "%s/%s", tmpdir, jpath);
    snprintf(tp, sizeof tp, "%s/%s", tmpdir, tpath);
    ASSERT_OK(brisk_write_file_atomic(jp, json, strlen(json)));
    ASSERT_OK(brisk_write_file_atomic(tp, text, strlen(text)));
    double *b;
    size_t n;
    ASSERT_OK(brisk_trained_betas_load(jp, &b, &n));
    ASSERT_EQ(n, 1000);
    ASSERT_NEAR(b[999], 0.02, 1e-17);
    brisk_free(b);
    ASSERT_OK(brisk_trained_betas_load(tp, &b, &n));
    ASSERT_EQ(n, 1000);
    ASSERT_NEAR(b[1], 1e-4 + (0.02 - 1e-4) / 999, 1e-17);
    brisk_free(b);

    /* a config naming the file (relative to the config) gives the linear schedule */
    snprintf(cp, sizeof cp, "%s/scheduler_config.json", tmpdir);
    const char *cfg = "{\"_class_name\": \"DDIMScheduler\", \"trained_betas\": \"build-trained-betas.txt\","
                      " \"beta_schedule\": \"linear\", \"clip_sample\": false}";
    ASSERT_OK(brisk_write_file_atomic(cp, cfg, strlen(cfg)));
    brisk_scheduler_config c, lin;
    memset(&c, 0, sizeof c);
    ASSERT_OK(brisk_scheduler_config_load(cp, &c, NULL, NULL));
    ASSERT_EQ(c.beta_schedule, BRISK_BETA_TRAINED);
    ASSERT_EQ(c.n_trained_betas, 1000);
    brisk_scheduler_config_default(&lin, BRISK_SAMPLER_DDIM);
    brisk_noise_schedule a, l;
    ASSERT_OK(brisk_noise_schedule_init(&a, &c));
    ASSERT_OK(brisk_noise_schedule_init(&l, &lin));
    double worst = 0;
    for (int i = 0; i < 1000; i++) worst = fmax(worst, fabs(a.alphas_cumprod[i] - l.alphas_cumprod[i]));
    ASSERT_DOUBLE_LE(worst, 1e-7);
    brisk_noise_schedule_free(&a);
    brisk_noise_schedule_free(&l);
    /* copy is deep */
    brisk_scheduler_config d;
    ASSERT_OK(brisk_scheduler_config_copy(&d, &c));
    ASSERT_TRUE(d.trained_betas != c.trained_betas);
    ASSERT_NEAR(d.trained_betas[5], c.trained_betas[5], 0);
    brisk_scheduler_config_clear(&d);
    brisk_scheduler_config_clear(&c);
    /* inline array */
    cJSON *doc;
    ASSERT_OK(brisk_json_parse("{\"trained_betas\": [0.1, 0.2, 0.3], \"clip_sample\": false}", "inline", &doc));
    memset(&c, 0, sizeof c);
    ASSERT_OK(brisk_scheduler_config_from_json(doc, "DDIMScheduler", &c, "inline", NULL, NULL));
    ASSERT_EQ(c.n_trained_betas, 3);
    brisk_scheduler *s;
    ASSERT_OK(brisk_scheduler_create(&c, &s));
    ASSERT_EQ(brisk_scheduler_noise_schedule(s)->T, 3);
    ASSERT_NEAR(brisk_scheduler_noise_schedule(s)->alphas_cumprod[2], 0.9f * 0.8f * 0.7f, 1e-7);
    brisk_scheduler_free(s);
    brisk_scheduler_config_clear(&c);
    cJSON_Delete(doc);
    ASSERT_STATUS(brisk_trained_betas_load("/nonexistent/betas.txt", &b, &n), BRISK_EIO);
    unlink(jp), unlink(tp), unlink(cp), rmdir(tmpdir);
}

static void test_timesteps(void) {
    brisk_scheduler *s = make(BRISK_SAMPLER_DDIM, BRISK_SPACING_LEADING, 0);
    double lead[] = {980, 960, 940};
    expect_calls(s, 50, lead, 3, 50);
    ASSERT_NEAR(brisk_scheduler_model_timesteps(s)[49], 0, 0);
    brisk_scheduler_free(s);
    s = make(BRISK_SAMPLER_DDIM, BRISK_SPACING_LEADING, 1);
    double lead1[] = {981, 961};
    expect_calls(s, 50, lead1, 2, 50);
    brisk_scheduler_free(s);
    s = make(BRISK_SAMPLER_DDIM, BRISK_SPACING_TRAILING, 0);
    double trail[] = {999, 949, 899};
    expect_calls(s, 20, trail, 3, 20);
    ASSERT_NEAR(brisk_scheduler_model_timesteps(s)[19], 49, 0);
    brisk_scheduler_free(s);
    s = make(BRISK_SAMPLER_DDIM, BRISK_SPACING_LINSPACE, 0);
    double lin[] = {999, 888, 777, 666, 555, 444, 333, 222, 111, 0};
    expect_calls(s, 10, lin, 10, 10);
    brisk_scheduler_free(s);

    /* EulerDiscrete: float32 linspace, sigma interpolated; init_noise_sigma from the vector */
    s = make(BRISK_SAMPLER_EULER, BRISK_SPACING_LINSPACE, 0);
    double eul[] = {999, (float)(999 - 999.0 / 29), (float)(999 - 2 * 999.0 / 29)};
    expect_calls(s, 30, eul, 3, 30);
    ASSERT_NEAR(brisk_scheduler_init_noise_sigma(s), 157.40725708007812, 1e-6);
    brisk_scheduler_free(s);
    s = make(BRISK_SAMPLER_HEUN, BRISK_SPACING_LINSPACE, 0);
    expect_calls(s, 20, (double[]){999, (float)(999 - 999.0 / 19), (float)(999 - 999.0 / 19)}, 3, 39);
    brisk_scheduler_free(s);

    /* DPM-Solver / UniPC: linspace over N + 1 points, last dropped; np.round half to even */
    s = make(BRISK_SAMPLER_UNIPC, BRISK_SPACING_LINSPACE, 0);
    double uni[] = {999, 899, 799, 699, 599, 500, 400, 300, 200, 100};
    expect_calls(s, 10, uni, 10, 10);
    brisk_scheduler_free(s);
    s = make(BRISK_SAMPLER_DPMPP_2M, BRISK_SPACING_LINSPACE, 0);
    double dpm[] = {999, 949, 899, 849, 799, 749, 699, 649, 599, 549, 500, 450};
    expect_calls(s, 20, dpm, 12, 20);
    brisk_scheduler_free(s);

    /* diffusers PNDM (PRK): 12 Runge-Kutta calls on the top 4 timesteps, then PLMS */
    s = make(BRISK_SAMPLER_PNDM, BRISK_SPACING_LEADING, 0);
    double prk[] = {980, 970, 970, 960, 960, 950, 950, 940, 940, 930, 930, 920, 920, 900};
    expect_calls(s, 50, prk, 14, 59);
    brisk_scheduler_free(s);
    s = make(BRISK_SAMPLER_PLMS, BRISK_SPACING_LEADING, 1);
    double plms[] = {981, 961, 961, 941, 921};
    expect_calls(s, 50, plms, 5, 51);
    brisk_scheduler_free(s);

    /* the PNDM authors' grid: range(0, T, T // N) reversed; T // N = 33 gives 31 steps */
    s = make(BRISK_SAMPLER_FPNDM, BRISK_SPACING_LEADING, 0);
    double fp[] = {980, 970, 970, 960};
    expect_calls(s, 50, fp, 4, 59);
    ASSERT_OK(brisk_scheduler_set_timesteps(s, 30, 1, 1));
    size_t ng;
    const double *g = brisk_scheduler_grid(s, &ng);
    ASSERT_EQ(ng, 32);
    ASSERT_NEAR(g[0], 990, 0);
    ASSERT_NEAR(g[31], -1, 0);
    ASSERT_EQ(brisk_scheduler_num_model_calls(s), 31 + 9);
    /* N = T: the authors read alphas_cumprod[999 + 1] -> error, not a read past the end */
    ASSERT_STATUS(brisk_scheduler_set_timesteps(s, 1000, 1, 1), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "past the");
    brisk_scheduler_free(s);

    /* numpy's float arange gives N + 1 trailing points for N = 61 (the last is -1 after
     * the shift); brisk reports it instead of indexing alphas_cumprod[-1] */
    s = make(BRISK_SAMPLER_DDIM, BRISK_SPACING_TRAILING, 0);
    ASSERT_STATUS(brisk_scheduler_set_timesteps(s, 61, 1, 1), BRISK_EINVAL);
    ASSERT_OK(brisk_scheduler_set_timesteps(s, 60, 1, 1));
    brisk_scheduler_free(s);
}

/* 1000 steps with steps_offset 1 would read alphas_cumprod[1000]: diffusers raises
 * IndexError; brisk refuses at set_timesteps with a message (documented choice). Euler's
 * np.interp clamps, so Euler runs. */
static void test_offset_past_end(void) {
    brisk_sampler_kind kinds[] = {BRISK_SAMPLER_DDIM, BRISK_SAMPLER_DDPM, BRISK_SAMPLER_PNDM,
                                  BRISK_SAMPLER_PLMS, BRISK_SAMPLER_DPMPP_2M};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        brisk_scheduler *s = make(kinds[i], BRISK_SPACING_LEADING, 1);
        int n = kinds[i] == BRISK_SAMPLER_DPMPP_2M ? 999 : 1000;
        ASSERT_STATUS(brisk_scheduler_set_timesteps(s, n, 1, 1), BRISK_EINVAL);
        ASSERT_STR_CONTAINS(brisk_last_error(), "IndexError");
        ASSERT_STR_CONTAINS(brisk_last_error(), "1000");
        ASSERT_OK(brisk_scheduler_set_timesteps(s, 500, 1, 1));
        brisk_scheduler_free(s);
    }
    brisk_scheduler *s = make(BRISK_SAMPLER_EULER, BRISK_SPACING_LEADING, 1);
    ASSERT_OK(brisk_scheduler_set_timesteps(s, 1000, 1, 1));
    ASSERT_NEAR(brisk_scheduler_model_timesteps(s)[0], 1000, 0);
    brisk_scheduler_free(s);
}

static int n_warn;
static char last_warn[64];
static void warn_cb(void *ctx, const char *what, const char *key) {
    (void)ctx, (void)what;
    n_warn++;
    snprintf(last_warn, sizeof last_warn, "%s", key);
}

static int parse(const char *json, const char *cls, brisk_scheduler_config *c) {
    cJSON *doc;
    int rc = brisk_json_parse(json, "test", &doc);
    if (rc) return rc;
    memset(c, 0, sizeof *c);
    rc = brisk_scheduler_config_from_json(doc, cls, c, "test.json", warn_cb, NULL);
    cJSON_Delete(doc);
    return rc;
}

static void test_config(void) {
    brisk_scheduler_config c;
    n_warn = 0;
    ASSERT_OK(parse("{\"_class_name\": \"EulerDiscreteScheduler\", \"_diffusers_version\": \"0.30\","
                    " \"timestep_spacing\": \"trailing\", \"prediction_type\": \"v_prediction\", \"my_key\": 3}",
                    NULL, &c));
    ASSERT_EQ(c.kind, BRISK_SAMPLER_EULER);
    ASSERT_EQ(c.timestep_spacing, BRISK_SPACING_TRAILING);
    ASSERT_EQ(c.prediction_type, BRISK_PRED_V);
    ASSERT_EQ(n_warn, 1);
    ASSERT_STR_CONTAINS(last_warn, "my_key");
    /* a key of another class is reported too (diffusers ignores it) */
    ASSERT_OK(parse("{\"skip_prk_steps\": true}", "DDIMScheduler", &c));
    ASSERT_EQ(n_warn, 2);
    ASSERT_OK(parse("{\"skip_prk_steps\": true}", "PNDMScheduler", &c));
    ASSERT_EQ(c.kind, BRISK_SAMPLER_PLMS);
    ASSERT_OK(parse("{}", "pndm-original:F-PNDM", &c));
    ASSERT_EQ(c.kind, BRISK_SAMPLER_FPNDM);
    ASSERT_EQ(c.time_mode, BRISK_TIME_REFERENCE);
    ASSERT_OK(parse("{\"lambda_min_clipped\": -Infinity, \"solver_type\": \"bh2\"}",
                    "DPMSolverMultistepScheduler", &c));
    ASSERT_TRUE(isinf(c.lambda_min_clipped) && c.lambda_min_clipped < 0);
    ASSERT_EQ(c.solver_type, BRISK_SOLVER_MIDPOINT); /* diffusers maps bh2 to midpoint */
    ASSERT_OK(parse("{\"solver_type\": \"midpoint\"}", "UniPCMultistepScheduler", &c));
    ASSERT_EQ(c.solver_type, BRISK_SOLVER_BH2); /* ... and midpoint to bh2 for UniPC */

    /* known keys with values brisk does not implement: errors naming key, value, valid */
    struct { const char *json, *cls, *key; } bad[] = {
        {"{\"use_karras_sigmas\": true}", "EulerDiscreteScheduler", "'use_karras_sigmas'=true"},
        {"{\"algorithm_type\": \"sde-dpmsolver++\"}", "DPMSolverMultistepScheduler", "'algorithm_type'"},
        {"{\"solver_type\": \"bh3\"}", "UniPCMultistepScheduler", "valid: bh1, bh2"},
        {"{\"timestep_spacing\": \"quadratic\"}", "DDIMScheduler", "valid: leading, linspace, trailing"},
        {"{\"beta_schedule\": \"sigmoid\"}", "DDPMScheduler", "'beta_schedule'=\"sigmoid\""},
        {"{\"variance_type\": \"learned_range\"}", "DDPMScheduler", "'variance_type'"},
        {"{\"interpolation_type\": \"log_linear\"}", "EulerDiscreteScheduler", "'interpolation_type'"},
        {"{\"use_lu_lambdas\": true}", "DPMSolverMultistepScheduler", "'use_lu_lambdas'"},
        {"{\"solver_p\": {}}", "UniPCMultistepScheduler", "'solver_p'"},
        {"{\"prediction_type\": \"score\"}", "DDIMScheduler", "'prediction_type'"},
        {"{\"timestep_type\": \"continuous\", \"prediction_type\": \"v_prediction\"}",
         "EulerDiscreteScheduler", "'timestep_type'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ASSERT_STATUS(parse(bad[i].json, bad[i].cls, &c), BRISK_EUNSUPPORTED);
        ASSERT_STR_CONTAINS(brisk_last_error(), bad[i].key);
        ASSERT_STR_CONTAINS(brisk_last_error(), "not supported");
    }
    ASSERT_STATUS(parse("{}", "KarrasVeScheduler", &c), BRISK_EUNSUPPORTED);
    ASSERT_STR_CONTAINS(brisk_last_error(), "DDIMScheduler");
    ASSERT_STR_CONTAINS(brisk_last_error(), "pndm-original:F-PNDM");
    ASSERT_STATUS(parse("{\"num_train_timesteps\": \"many\"}", "DDIMScheduler", &c), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "num_train_timesteps");

    /* unknown sampler names list the valid ones */
    brisk_sampler_kind k;
    ASSERT_STATUS(brisk_sampler_kind_from_name("dpm-fast", &k), BRISK_EUNSUPPORTED);
    ASSERT_STR_CONTAINS(brisk_last_error(), "fpndm");
    ASSERT_STR_CONTAINS(brisk_last_error(), "unipc");
    for (int i = 0; i < BRISK_SAMPLER_COUNT; i++) {
        ASSERT_OK(brisk_sampler_kind_from_name(brisk_sampler_kind_name((brisk_sampler_kind)i), &k));
        ASSERT_EQ(k, i);
    }
    brisk_time_mode m;
    ASSERT_OK(brisk_time_mode_from_name("grid", &m));
    ASSERT_EQ(m, BRISK_TIME_GRID);
}

static void test_bad_combinations(void) {
    brisk_scheduler_config c;
    brisk_scheduler *s;
    brisk_scheduler_config_default(&c, BRISK_SAMPLER_PNDM);
    ASSERT_OK(brisk_scheduler_create(&c, &s));
    ASSERT_STATUS(brisk_scheduler_set_timesteps(s, 3, 1, 1), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "at least 4");
    ASSERT_OK(brisk_scheduler_set_timesteps(s, 4, 1, 1));
    ASSERT_EQ(brisk_scheduler_num_model_calls(s), 13);
    brisk_scheduler_free(s);
    brisk_scheduler_config_default(&c, BRISK_SAMPLER_DDIM);
    c.time_mode = BRISK_TIME_REFERENCE;
    ASSERT_STATUS(brisk_scheduler_create(&c, &s), BRISK_EUNSUPPORTED);
    brisk_scheduler_config_default(&c, BRISK_SAMPLER_PLMS);
    c.prediction_type = BRISK_PRED_SAMPLE;
    ASSERT_STATUS(brisk_scheduler_create(&c, &s), BRISK_EUNSUPPORTED);
    ASSERT_STR_CONTAINS(brisk_last_error(), "prediction_type");
    brisk_scheduler_config_default(&c, BRISK_SAMPLER_DDPM);
    c.variance_type = BRISK_VARIANCE_FIXED_LARGE_LOG;
    ASSERT_STATUS(brisk_scheduler_create(&c, &s), BRISK_EUNSUPPORTED);
    brisk_scheduler_config_default(&c, BRISK_SAMPLER_DDIM);
    ASSERT_OK(brisk_scheduler_create(&c, &s));
    ASSERT_STATUS(brisk_scheduler_set_timesteps(s, 0, 1, 1), BRISK_EINVAL);
    ASSERT_STATUS(brisk_scheduler_set_timesteps(s, 1001, 1, 1), BRISK_EINVAL);
    double t;
    ASSERT_STATUS(brisk_scheduler_next(s, &t, NULL), BRISK_ESTATE);
    brisk_scheduler_free(s);
}

int main(void) {
    test_betas();
    test_trained_betas();
    test_timesteps();
    test_offset_past_end();
    test_config();
    test_bad_combinations();
    TEST_DONE();
}
