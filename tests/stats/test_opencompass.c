/* Optional: item analysis of the real 12 x 41,871 OpenCompass matrix (../shared, which may
 * not be copied into the project) against numpy/scipy aggregates written by
 * tests/data/stats/gen_expected.py. Prints SKIP when ../shared is absent. */
#include "brisk/stats.h"
#include "brisk_test.h"
#include "expected.h"

#include <time.h>
#include <unistd.h>

#define MATRIX "../shared/data/eval-matrices/opencompass_12x41871.csv"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(void) {
    if (access(MATRIX, R_OK) != 0) {
        printf("SKIP: %s not present\n", MATRIX);
        return 0;
    }
    cJSON *exp;
    if (brisk_json_read_file("tests/data/stats/expected_opencompass.json", &exp)) {
        printf("SKIP: tests/data/stats/expected_opencompass.json missing (run gen_expected.py)\n");
        return 0;
    }
    double t0 = now_s();
    brisk_matrix m;
    ASSERT_OK(brisk_matrix_read_csv(MATRIX, NULL, &m));
    double t1 = now_s();
    ASSERT_EQ(m.n_models, 12);
    ASSERT_EQ(m.n_items, 41871);
    ASSERT_EQ(m.layout, BRISK_LAYOUT_MODELS_BY_ITEMS);
    brisk_items_params p;
    brisk_items_params_default(&p);
    p.bootstrap = 0;
    brisk_items_result r;
    ASSERT_OK(brisk_items_analyze(&m, &p, &r));
    double t2 = now_s();
    for (int j = 0; j < 12; j++) {
        ASSERT_NEAR(r.models[j].mean, jnum_at_in(exp, "means", j), 1e-14);
        ASSERT_NEAR(r.models[j].se, jnum_at_in(exp, "stderr", j), 1e-14);
        ASSERT_NEAR(r.models[j].ci95_half_width, jnum_at_in(exp, "ci95_half_width", j), 1e-14);
    }
    ASSERT_EQ(r.n_null_discrimination, (long long)jpath_in(exp, "n_null")->valuedouble);
    ASSERT_EQ(r.n_low_discrimination, (long long)jpath_in(exp, "n_low")->valuedouble);
    ASSERT_NEAR(r.mean_discrimination, jpath_in(exp, "mean_discrimination")->valuedouble, 1e-12);
    const cJSON *at = jpath_in(exp, "discrimination_at"), *e;
    double worst = 0;
    cJSON_ArrayForEach(e, at) {
        double got = r.items[atoi(e->string)].discrimination;
        double want = cJSON_IsNumber(e) ? e->valuedouble : NAN;
        ASSERT_TRUE(near_or_both_nan(got, want, 1e-12));
        if (!isnan(want)) worst = fmax(worst, fabs(got - want));
    }
    brisk_compare_result c;
    ASSERT_OK(brisk_compare_paired(m.x, m.x + m.n_items, m.n_items, NULL, &c));
    ASSERT_NEAR(c.mean_diff, jpath_in(exp, "compare_0_1/mean_diff")->valuedouble, 1e-14);
    ASSERT_NEAR(c.se, jpath_in(exp, "compare_0_1/stderr")->valuedouble, 1e-14);
    printf("opencompass 12 x 41871: read %.3f s, items %.4f s; means/stderr/CI match numpy, "
           "discrimination max |diff| %.3g, %zu null, %zu low\n", t1 - t0, t2 - t1, worst,
           r.n_null_discrimination, r.n_low_discrimination);
    brisk_items_result_free(&r);
    brisk_matrix_free(&m);
    cJSON_Delete(exp);
    TEST_DONE();
}
