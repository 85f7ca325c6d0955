/* CSV score matrices (autodetection, errors), item analysis against numpy/scipy on the
 * ChemBench subset, and the bootstrap against a naive reference and across thread counts. */
#include "brisk/rng.h"
#include "brisk/stats.h"
#include "brisk_test.h"
#include "expected.h"

#include <unistd.h>

static char tmpdir[256];

static const char *write_tmp(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_csv_layouts(void) {
    brisk_csv_options o;
    brisk_csv_options_default(&o);
    brisk_matrix m;
    /* rows = models, no header, no index (OpenCompass style) */
    ASSERT_OK(brisk_matrix_read_csv(write_tmp("a.csv", "1.0,0.0,1.0,1.0\n0,0,1,0\n"), &o, &m));
    ASSERT_EQ(m.n_models, 2);
    ASSERT_EQ(m.n_items, 4);
    ASSERT_EQ(m.layout, BRISK_LAYOUT_MODELS_BY_ITEMS);
    ASSERT_EQ(m.header, 0);
    ASSERT_EQ(m.index_column, 0);
    ASSERT_EQ(m.binary, 1);
    ASSERT_TRUE(!strcmp(m.model_names[1], "1"));
    ASSERT_TRUE(m.item_names == NULL);
    ASSERT_NEAR(m.x[6], 1.0, 0);
    brisk_matrix_free(&m);
    /* pandas: header with empty corner, index column, rows = items (ChemBench style) */
    ASSERT_OK(brisk_matrix_read_csv(write_tmp("b.csv", ",m1,m2\n0,1.0,0.0\n1,0.0,0.0\n2,1.0,1.0\n"), &o, &m));
    ASSERT_EQ(m.n_models, 2);
    ASSERT_EQ(m.n_items, 3);
    ASSERT_EQ(m.layout, BRISK_LAYOUT_ITEMS_BY_MODELS);
    ASSERT_EQ(m.header, 1);
    ASSERT_EQ(m.index_column, 1);
    ASSERT_TRUE(!strcmp(m.model_names[1], "m2"));
    ASSERT_TRUE(!strcmp(m.item_names[2], "2"));
    ASSERT_NEAR(m.x[0 * 3 + 2], 1.0, 0); /* model m1, item 2 */
    ASSERT_NEAR(m.x[1 * 3 + 0], 0.0, 0);
    brisk_matrix_free(&m);
    /* names in the first column, no header, continuous values, CRLF, BOM, quotes */
    ASSERT_OK(brisk_matrix_read_csv(
        write_tmp("c.csv", "\xEF\xBB\xBF\"gpt, large\",0.25,0.5,1e-1\r\nllama,0.75, 1 ,0\r\n\r\n"), &o, &m));
    ASSERT_EQ(m.n_models, 2);
    ASSERT_EQ(m.n_items, 3);
    ASSERT_EQ(m.index_column, 1);
    ASSERT_EQ(m.binary, 0);
    ASSERT_TRUE(!strcmp(m.model_names[0], "gpt, large"));
    ASSERT_NEAR(m.x[2], 0.1, 1e-17);
    ASSERT_NEAR(m.x[4], 1.0, 0);
    size_t idx;
    ASSERT_OK(brisk_matrix_find_model(&m, "llama", &idx));
    ASSERT_EQ(idx, 1);
    ASSERT_OK(brisk_matrix_find_model(&m, "0", &idx));
    ASSERT_EQ(idx, 0);
    ASSERT_STATUS(brisk_matrix_find_model(&m, "7", &idx), BRISK_ENOTFOUND);
    brisk_matrix_free(&m);
    /* header of item ids 0,1,2,... is a header */
    ASSERT_OK(brisk_matrix_read_csv(write_tmp("d.csv", "0,1,2,3\n1,0,1,1\n0,0,1,0\n"), &o, &m));
    ASSERT_EQ(m.header, 1);
    ASSERT_EQ(m.n_models, 2);
    brisk_matrix_free(&m);
    /* index column 0,1,2,... without a header */
    ASSERT_OK(brisk_matrix_read_csv(write_tmp("e.csv", "0,1,0\n1,0,0\n2,1,1\n3,0,1\n"), &o, &m));
    ASSERT_EQ(m.index_column, 1);
    ASSERT_EQ(m.n_models, 2); /* 4 items x 2 models */
    brisk_matrix_free(&m);
    /* square: ambiguous unless --layout is given */
    const char *sq = write_tmp("sq.csv", "1,0\n0,1\n");
    ASSERT_STATUS(brisk_matrix_read_csv(sq, &o, &m), BRISK_EINVAL);
    ASSERT_STR_CONTAINS(brisk_last_error(), "--layout");
    o.layout = BRISK_LAYOUT_ITEMS_BY_MODELS;
    ASSERT_OK(brisk_matrix_read_csv(sq, &o, &m));
    brisk_matrix_free(&m);
    /* overrides: a first row read as data when --header no */
    brisk_csv_options_default(&o);
    o.header = 0;
    o.index_column = 0;
    ASSERT_STATUS(brisk_matrix_read_csv(write_tmp("f.csv", "a,b,c\n1,0,1\n"), &o, &m), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "f.csv:1: column 1: 'a' is not a finite number");
    brisk_layout l;
    ASSERT_STATUS(brisk_layout_from_name("sideways", &l), BRISK_EINVAL);
    ASSERT_OK(brisk_layout_from_name("items-by-models", &l));
    ASSERT_EQ(l, BRISK_LAYOUT_ITEMS_BY_MODELS);
    ASSERT_TRUE(!strcmp(brisk_layout_name(BRISK_LAYOUT_MODELS_BY_ITEMS), "models-by-items"));
}

static void test_csv_errors(void) {
    brisk_csv_options o;
    brisk_csv_options_default(&o);
    brisk_matrix m;
    ASSERT_STATUS(brisk_matrix_read_csv(write_tmp("r.csv", "1,0,1,1\n0,1,1,0\n1,1,0\n"), &o, &m), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "r.csv:3: row 3 has 3 fields, expected 4");
    ASSERT_STATUS(brisk_matrix_read_csv(write_tmp("n.csv", "1,0,1,1\n0,x1,1,0\n"), &o, &m), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "n.csv:2: column 2: 'x1' is not a finite number");
    ASSERT_STATUS(brisk_matrix_read_csv(write_tmp("nan.csv", "1,0,1,1\n0,nan,1,0\n"), &o, &m), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "'nan' is not a finite number");
    ASSERT_STATUS(brisk_matrix_read_csv(write_tmp("ec.csv", "1,0,1,1\n0,,1,0\n"), &o, &m), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "ec.csv:2: column 2: empty cell");
    ASSERT_STATUS(brisk_matrix_read_csv(write_tmp("empty.csv", ""), &o, &m), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "empty.csv: empty file");
    ASSERT_STATUS(brisk_matrix_read_csv(write_tmp("blank.csv", "\n\r\n\n"), &o, &m), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "empty file");
    ASSERT_STATUS(brisk_matrix_read_csv(write_tmp("h.csv", "m1,m2,m3\n"), &o, &m), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "no data rows");
    ASSERT_STATUS(brisk_matrix_read_csv(write_tmp("q.csv", "\"abc,1\n"), &o, &m), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "unterminated quoted field");
    ASSERT_STATUS(brisk_matrix_read_csv("/nonexistent/m.csv", &o, &m), BRISK_EIO);
    ASSERT_STR_CONTAINS(brisk_last_error(), "/nonexistent/m.csv");
}

static void test_items_chembench(void) {
    brisk_matrix m;
    ASSERT_OK(brisk_matrix_read_csv("tests/data/stats/chembench_subset.csv", NULL, &m));
    ASSERT_EQ(m.n_models, (long long)jnum("chembench_subset/n_models"));
    ASSERT_EQ(m.n_items, (long long)jnum("chembench_subset/n_items"));
    ASSERT_EQ(m.layout, BRISK_LAYOUT_ITEMS_BY_MODELS);
    ASSERT_TRUE(!strcmp(m.model_names[7], "GPT-4o"));
    brisk_items_params p;
    brisk_items_params_default(&p);
    p.boot.n_resamples = 500;
    brisk_items_result r;
    ASSERT_OK(brisk_items_analyze(&m, &p, &r));
    double worst = 0;
    for (size_t j = 0; j < m.n_models; j++) {
        ASSERT_TRUE(!strcmp(m.model_names[j], jpath("chembench_subset/names")->child ?
                                               cJSON_GetArrayItem(jpath("chembench_subset/names"), (int)j)->valuestring : ""));
        ASSERT_NEAR(r.models[j].mean, jnum_at("chembench_subset/means", (int)j), 1e-14);
        ASSERT_NEAR(r.models[j].se, jnum_at("chembench_subset/stderr", (int)j), 1e-14);
        ASSERT_NEAR(r.models[j].ci95_half_width, jnum_at("chembench_subset/ci95_half_width", (int)j), 1e-14);
        ASSERT_NEAR(r.models[j].sd, jnum_at("chembench_subset/sd", (int)j), 1e-14);
        /* the percentile interval brackets the mean and its width tracks the analytic CI */
        ASSERT_TRUE(r.models[j].boot_lo <= r.models[j].mean && r.models[j].mean <= r.models[j].boot_hi);
        ASSERT_NEAR(r.models[j].boot_se, r.models[j].se, 0.25 * r.models[j].se + 1e-12);
    }
    size_t mism = 0;
    for (size_t i = 0; i < m.n_items; i++) {
        ASSERT_NEAR(r.items[i].difficulty, jnum_at("chembench_subset/difficulty", (int)i), 1e-15);
        double want = jnum_at("chembench_subset/discrimination", (int)i);
        double got = r.items[i].discrimination;
        if (!near_or_both_nan(got, want, 1e-12)) mism++;
        if (!isnan(want) && fabs(got - want) > worst) worst = fabs(got - want);
    }
    ASSERT_EQ(mism, 0);
    printf("chembench subset: item-rest discrimination vs scipy.stats.pearsonr: max |diff| %.3g, "
           "%zu null\n", worst, r.n_null_discrimination);
    ASSERT_EQ(r.n_null_discrimination, (long long)jnum("chembench_subset/n_null"));
    ASSERT_EQ(r.n_low_discrimination, (long long)jnum("chembench_subset/n_low"));
    ASSERT_NEAR(r.mean_discrimination, jnum("chembench_subset/mean_discrimination"), 1e-12);
    /* JSON contract keys */
    cJSON *d = brisk_items_to_json(&m, &r, &p);
    ASSERT_EQ((long long)cJSON_GetObjectItem(d, "n_models")->valuedouble, m.n_models);
    ASSERT_EQ((long long)cJSON_GetObjectItem(d, "n_items")->valuedouble, m.n_items);
    const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "models"), 0);
    ASSERT_TRUE(cJSON_IsString(cJSON_GetObjectItem(m0, "name")));
    ASSERT_TRUE(cJSON_IsNumber(cJSON_GetObjectItem(m0, "mean")));
    ASSERT_TRUE(cJSON_IsNumber(cJSON_GetObjectItem(m0, "stderr")));
    ASSERT_TRUE(cJSON_IsNumber(cJSON_GetObjectItem(m0, "ci95_half_width")));
    const cJSON *i0 = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "items"), 0);
    ASSERT_TRUE(cJSON_IsNumber(cJSON_GetObjectItem(i0, "difficulty")));
    ASSERT_TRUE(cJSON_GetObjectItem(i0, "discrimination") != NULL);
    char *txt = cJSON_PrintUnformatted(d);
    ASSERT_TRUE(strstr(txt, "\"discrimination\":null") != NULL); /* NaN prints as null */
    cJSON_free(txt);
    cJSON_Delete(d);
    /* paired comparison of two rows */
    size_t ia, ib;
    ASSERT_OK(brisk_matrix_find_model(&m, "GPT-4o", &ia));
    ASSERT_OK(brisk_matrix_find_model(&m, "Claude-3.5 (Sonnet)", &ib));
    brisk_compare_result c;
    ASSERT_OK(brisk_compare_paired(m.x + ia * m.n_items, m.x + ib * m.n_items, m.n_items, NULL, &c));
    ASSERT_NEAR(c.mean_diff, jnum("chembench_compare/mean_diff"), 1e-15);
    ASSERT_NEAR(c.se, jnum("chembench_compare/stderr"), 1e-15);
    ASSERT_NEAR(c.ci95_lo, jnum_at("chembench_compare/ci95", 0), 1e-15);
    ASSERT_NEAR(c.ci95_hi, jnum_at("chembench_compare/ci95", 1), 1e-15);
    ASSERT_NEAR(c.correlation, jnum("chembench_compare/correlation"), 1e-13);
    brisk_items_result_free(&r);
    brisk_matrix_free(&m);
}

/* Naive bootstrap with the documented draws: resample b, item j = floor(word_j * n / 2^32) of
 * Philox (seed, b, BRISK_STREAM(BRISK_RNG_MC, 1)). */
static void naive_bootstrap(const double *x, size_t R, size_t C, size_t B, uint64_t seed, double *reps) {
    uint32_t *w = malloc(C * sizeof *w);
    for (size_t b = 0; b < B; b++) {
        brisk_rand_u32(seed, b, BRISK_STREAM(BRISK_RNG_MC, 1), C, w);
        for (size_t r = 0; r < R; r++) {
            double s = 0;
            for (size_t j = 0; j < C; j++) s += x[r * C + brisk_rand_below(w[j], (uint32_t)C)];
            reps[b * R + r] = s / (double)C;
        }
    }
    free(w);
}

static void test_bootstrap(void) {
    const size_t R = 3, C = test_sanitized() ? 200 : 1000, B = test_sanitized() ? 200 : 1000;
    double *x = malloc(R * C * sizeof *x), *r1 = malloc(B * R * sizeof *r1);
    double *r2 = malloc(B * R * sizeof *r2), *rn = malloc(B * R * sizeof *rn);
    double u[1];
    for (size_t k = 0; k < R * C; k++) {
        brisk_randu(99, k, 0, 1, u);
        x[k] = k < C ? (u[0] < 0.7) : k < 2 * C ? (u[0] < 0.3) : u[0]; /* two 0/1 rows, one continuous */
    }
    brisk_bootstrap_params p;
    brisk_bootstrap_params_default(&p);
    p.n_resamples = B;
    p.seed = 5;
    brisk_bootstrap_ci ci[3], ci2[3];
    brisk_set_num_threads(1);
    ASSERT_OK(brisk_bootstrap_row_means(x, R, C, &p, ci, r1));
    brisk_set_num_threads(2);
    ASSERT_OK(brisk_bootstrap_row_means(x, R, C, &p, ci2, r2));
    brisk_set_num_threads(0);
    ASSERT_EQ(memcmp(r1, r2, B * R * sizeof *r1), 0); /* bitwise equal across thread counts */
    ASSERT_EQ(memcmp(ci, ci2, sizeof ci), 0);
    naive_bootstrap(x, R, C, B, 5, rn);
    double worst = 0;
    for (size_t k = 0; k < B * R; k++) worst = fmax(worst, fabs(r1[k] - rn[k]));
    ASSERT_DOUBLE_LE(worst, 1e-12);
    printf("bootstrap vs naive reference: max |diff| %.3g over %zu replicates\n", worst, B * R);
    for (size_t r = 0; r < R; r++) {
        double mean = brisk_stats_mean(x + r * C, C), se = brisk_stats_stderr(x + r * C, C);
        /* the bootstrap se converges to the analytic stderr (B = 1000: within ~10%) */
        ASSERT_NEAR(ci[r].se, se, 0.15 * se);
        ASSERT_TRUE(ci[r].lo < mean && mean < ci[r].hi);
        ASSERT_NEAR(ci[r].hi - ci[r].lo, 2 * 1.96 * se, 0.25 * 2 * 1.96 * se);
        /* percentile interval = numpy quantiles of the replicates */
        double *col = malloc(B * sizeof *col);
        for (size_t b = 0; b < B; b++) col[b] = r1[b * R + r];
        ASSERT_NEAR(brisk_stats_quantile(col, B, 0.025), ci[r].lo, 1e-15);
        ASSERT_NEAR(brisk_stats_quantile_sorted(col, B, 0.975), ci[r].hi, 1e-15);
        free(col);
    }
    /* another seed gives other replicates */
    p.seed = 6;
    ASSERT_OK(brisk_bootstrap_row_means(x, R, C, &p, ci2, r2));
    ASSERT_NE(memcmp(r1, r2, B * R * sizeof *r1), 0);
    p.n_resamples = 1;
    ASSERT_STATUS(brisk_bootstrap_row_means(x, R, C, &p, ci2, NULL), BRISK_EINVAL);
    /* every allocation failure is reported, nothing leaks (ASan) */
    p.n_resamples = 20;
    int failures = 0;
    for (long k = 0; k < 40; k++) {
        brisk_alloc_fail_after(k);
        int rc = brisk_bootstrap_row_means(x, R, C, &p, ci2, NULL);
        brisk_alloc_fail_after(-1);
        if (rc) {
            ASSERT_EQ(rc, BRISK_ENOMEM);
            failures++;
        } else
            break;
    }
    ASSERT_TRUE(failures > 0);
    free(x); free(r1); free(r2); free(rn);
}

static void test_items_oom(void) {
    brisk_matrix m;
    ASSERT_OK(brisk_matrix_read_csv("tests/data/stats/chembench_subset.csv", NULL, &m));
    brisk_items_params p;
    brisk_items_params_default(&p);
    p.boot.n_resamples = 10;
    int done = 0;
    for (long k = 0; k < 200 && !done; k++) {
        brisk_items_result r;
        brisk_alloc_fail_after(k);
        int rc = brisk_items_analyze(&m, &p, &r);
        brisk_alloc_fail_after(-1);
        if (!rc) {
            done = 1;
            brisk_items_result_free(&r);
        } else
            ASSERT_EQ(rc, BRISK_ENOMEM);
    }
    ASSERT_TRUE(done);
    brisk_matrix_free(&m);
    /* the reader's out-of-memory paths */
    done = 0;
    for (long k = 0; k < 400 && !done; k++) {
        brisk_alloc_fail_after(k);
        int rc = brisk_matrix_read_csv("tests/data/stats/chembench_subset.csv", NULL, &m);
        brisk_alloc_fail_after(-1);
        if (!rc) {
            done = 1;
            brisk_matrix_free(&m);
        } else
            ASSERT_EQ(rc, BRISK_ENOMEM);
    }
    ASSERT_TRUE(done);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/brisk_stats_test_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    test_csv_layouts();
    test_csv_errors();
    test_items_chembench();
    test_bootstrap();
    test_items_oom();
    cJSON_Delete(expected_doc);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd)) return 1;
    TEST_DONE();
}
