/* REX (profile and sampling rate), warm-up in front of any schedule, and the other brisk
 * schedules against naive reimplementations of their formulas. */
#include "brisk/core.h"
#include "brisk/lr.h"
#include "brisk/verify.h"
#include "brisk_test.h"

#include <math.h>
#include <string.h>

#define PI_ 3.141592653589793

static brisk_lr_schedule *make(const char *spec, long spe) {
    brisk_lr_options o;
    brisk_lr_options_default(&o);
    o.steps_per_epoch = spe;
    brisk_lr_schedule *s = NULL;
    int rc = brisk_lr_create_spec(spec, &o, &s);
    if (rc) TEST_FAIL_("%s: %s", spec, brisk_last_error());
    return s;
}

static double naive_rex(double lr0, double t, double T) { /* REX paper, section 3 */
    double z = t / T;
    return lr0 * (1 - z) / (0.5 + 0.5 * (1 - z));
}

static void rex_profile(void) {
    brisk_verify_result r;
    ASSERT_OK(brisk_verify_path("tests/data/lr/rex_100.json", &r));
    ASSERT_TRUE(r.passed);
    ASSERT_TRUE(r.max_err == 0);
    printf("rex_100: %s max_err=%g (exact required)\n", r.detail, r.max_err);

    brisk_lr_schedule *s = make("rex(total_steps=100)", 0);
    double v[120];
    ASSERT_OK(brisk_lr_values(s, 120, NULL, v, NULL));
    for (int t = 0; t < 100; t++) ASSERT_TRUE(v[t] == naive_rex(0.1, t, 100));
    ASSERT_TRUE(v[100] == 0 && v[119] == 0); /* past the budget: 0 */
    brisk_lr_free(s);

    /* generalised form: beta = 1 is linear decay, beta -> 0.5 the REX profile */
    s = make("rex(total_steps=50, beta=1.0, max_lr=2.0)", 0);
    ASSERT_OK(brisk_lr_values(s, 50, NULL, v, NULL));
    for (int t = 0; t < 50; t++) ASSERT_NEAR(v[t], 2.0 * (1 - t / 50.0), 1e-15);
    brisk_lr_free(s);
    s = make("rex(total_steps=50, beta=0.5000000001)", 0);
    ASSERT_OK(brisk_lr_values(s, 50, NULL, v, NULL));
    for (int t = 0; t < 50; t++) ASSERT_NEAR(v[t], naive_rex(0.1, t, 50), 1e-10);
    brisk_lr_free(s);
    s = make("rex(total_steps=40, beta=0.2)", 0);
    ASSERT_OK(brisk_lr_values(s, 40, NULL, v, NULL));
    for (int t = 0; t < 40; t++) {
        double z = t / 40.0;
        ASSERT_NEAR(v[t], 0.1 * (1 - z) / (1 - z * 0.8), 1e-16);
    }
    brisk_lr_free(s);
}

/* Sampling rate: the profile is read every K steps (or once per epoch) and held. */
static void sampling(void) {
    brisk_lr_schedule *s = make("rex(total_steps=100, sampling=10)", 0);
    double v[100];
    ASSERT_OK(brisk_lr_values(s, 100, NULL, v, NULL));
    for (int t = 0; t < 100; t++) ASSERT_TRUE(v[t] == naive_rex(0.1, (t / 10) * 10, 100));
    brisk_lr_free(s);
    s = make("rex(total_steps=100, sampling=epoch)", 7);
    ASSERT_OK(brisk_lr_values(s, 100, NULL, v, NULL));
    for (int t = 0; t < 100; t++) ASSERT_TRUE(v[t] == naive_rex(0.1, (t / 7) * 7, 100));
    brisk_lr_free(s);
    /* a step schedule is a profile sampled rarely: linear decay read every 25 steps */
    s = make("linear_decay(total_steps=100, sampling='25')", 0);
    ASSERT_OK(brisk_lr_values(s, 100, NULL, v, NULL));
    ASSERT_NEAR(v[0], 0.1, 0);
    ASSERT_NEAR(v[24], 0.1, 0);
    ASSERT_NEAR(v[25], 0.075, 1e-16);
    ASSERT_NEAR(v[99], 0.025, 1e-16);
    brisk_lr_free(s);
    /* torch schedules can be sampled too (values come from the torch recursion) */
    s = make("CosineAnnealingLR(T_max=30, sampling=4)", 0);
    brisk_lr_schedule *ref = make("CosineAnnealingLR(T_max=30)", 0);
    for (long t = 0; t < 60; t++) {
        double a, b;
        ASSERT_OK(brisk_lr_value(s, t, &a, NULL));
        ASSERT_OK(brisk_lr_value(ref, (t / 4) * 4, &b, NULL));
        ASSERT_TRUE(a == b);
        ASSERT_TRUE(brisk_lr_current(s) == a); /* position t */
        ASSERT_OK(brisk_lr_step(s, 0));
    }
    brisk_lr_free(s);
    brisk_lr_free(ref);
}

static void warmup(void) {
    /* warm-up in front of any schedule: v0 (t+1)/W, then the schedule from its step 0 */
    brisk_lr_schedule *s = make("rex(total_steps=100, warmup=10)", 0);
    double v[120];
    ASSERT_OK(brisk_lr_values(s, 120, NULL, v, NULL));
    for (int t = 0; t < 10; t++) ASSERT_NEAR(v[t], 0.1 * (t + 1) / 10.0, 1e-16);
    for (int t = 10; t < 110; t++) ASSERT_TRUE(v[t] == naive_rex(0.1, t - 10, 100));
    brisk_lr_free(s);
    s = make("OneCycleLR(max_lr=1.0, total_steps=50, warmup=5)", 0);
    brisk_lr_schedule *ref = make("OneCycleLR(max_lr=1.0, total_steps=50)", 0);
    for (long t = 0; t < 55; t++) {
        double a, am, b, bm;
        ASSERT_OK(brisk_lr_value(s, t, &a, &am));
        ASSERT_OK(brisk_lr_value(ref, t < 5 ? 0 : t - 5, &b, &bm));
        if (t < 5) ASSERT_NEAR(a, b * (t + 1) / 5.0, 1e-17);
        else ASSERT_TRUE(a == b);
        ASSERT_TRUE(am == bm);
    }
    brisk_lr_free(s);
    brisk_lr_free(ref);

    /* the refinement paper's comparison shape (visual.py): (j+1)/W, then (1-(j-W)/(T-W))^p */
    s = make("warmup_poly(total_steps=200, warmup_steps=14.0, power=1.5)", 0);
    double w[200];
    ASSERT_OK(brisk_lr_values(s, 200, NULL, w, NULL));
    double worst = 0;
    for (int j = 0; j < 200; j++) {
        double W = 14.0, ref_v = j < W ? (j + 1) / W : pow(1 - (j - W) / (200 - W), 1.5);
        double e = fabs(w[j] - 0.1 * ref_v);
        if (e > worst) worst = e;
    }
    ASSERT_DOUBLE_LE(worst, 1e-16);
    brisk_lr_free(s);
}

static void other_profiles(void) {
    double v[150];
    brisk_lr_schedule *s = make("cosine_clamped(T_max=100, eta_min=0.01)", 0);
    ASSERT_OK(brisk_lr_values(s, 150, NULL, v, NULL));
    for (int t = 0; t < 150; t++) {
        double tt = t < 100 ? t : 100;
        ASSERT_NEAR(v[t], 0.01 + 0.09 * (1 + cos(PI_ * tt / 100)) / 2, 1e-16);
    }
    ASSERT_NEAR(v[149], 0.01, 1e-17); /* held at eta_min, unlike torch's periodic cosine */
    brisk_lr_free(s);
    s = make("exp_decay(total_steps=100)", 0);
    ASSERT_OK(brisk_lr_values(s, 100, NULL, v, NULL));
    for (int t = 0; t < 100; t++) ASSERT_NEAR(v[t], 0.1 * exp(-3.0 * t / 100), 1e-16);
    brisk_lr_free(s);
    s = make("step_decay(total_steps=100)", 0);
    ASSERT_OK(brisk_lr_values(s, 100, NULL, v, NULL));
    ASSERT_NEAR(v[49], 0.1, 0);
    ASSERT_NEAR(v[50], 0.01, 1e-17);
    ASSERT_NEAR(v[74], 0.01, 1e-17);
    ASSERT_NEAR(v[75], 0.001, 1e-17);
    brisk_lr_free(s);
    s = make("linear_decay(total_steps=80)", 0);
    ASSERT_OK(brisk_lr_values(s, 90, NULL, v, NULL));
    for (int t = 0; t < 90; t++) ASSERT_NEAR(v[t], t < 80 ? 0.1 * (1 - t / 80.0) : 0, 1e-17);
    brisk_lr_free(s);
    s = make("constant", 0);
    ASSERT_OK(brisk_lr_values(s, 10, NULL, v, NULL));
    ASSERT_TRUE(v[9] == 0.1);
    ASSERT_TRUE(brisk_lr_current_momentum(s) == 0.9);
    ASSERT_TRUE(!brisk_lr_schedule_cycles_momentum(s));
    brisk_lr_free(s);
}

int main(void) {
    rex_profile();
    sampling();
    warmup();
    other_profiles();
    TEST_DONE();
}
