/* torch.optim.lr_scheduler parity: every case in tests/data/lr (shared vectors from
 * PyTorch 1.13 plus gen_torch.py's), torch's argument validation as error codes, the
 * recursive forms' semantics checked against naive closed forms, random access. */
#include "brisk/core.h"
#include "brisk/lr.h"
#include "brisk/verify.h"
#include "brisk_test.h"

#include <dirent.h>
#include <math.h>
#include <string.h>

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void run_all_cases(void) {
    DIR *d = opendir("tests/data/lr");
    ASSERT_TRUE(d != NULL);
    if (!d) return;
    char *names[512];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 512) {
        size_t L = strlen(e->d_name);
        if (L > 5 && !strcmp(e->d_name + L - 5, ".json")) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    int torch_cases = 0, passed = 0;
    double worst = 0;
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "tests/data/lr/%s", names[i]);
        brisk_verify_result r;
        int rc = brisk_verify_path(path, &r);
        if (rc || !r.passed) TEST_FAIL_("%s: rc %d: %s", names[i], rc, r.detail);
        test_checks_++;
        if (!rc && r.passed) passed++;
        if (strstr(r.detail, "steps") && strncmp(r.detail, "rex", 3)) torch_cases++;
        if (r.max_err > worst) worst = r.max_err;
        free(names[i]);
    }
    printf("lr cases: %d files, %d passed, %d torch, max_err %.3g (tolerance 1e-12 + 1e-9|ref|)\n",
           n, passed, torch_cases, worst);
    ASSERT_TRUE(n >= 50);
    ASSERT_TRUE(torch_cases >= 45);
}

static void expect_error(const char *spec, brisk_lr_optimizer opt, int want, const char *needle) {
    brisk_lr_options o;
    brisk_lr_options_default(&o);
    o.optimizer = opt;
    brisk_lr_schedule *s = (brisk_lr_schedule *)1;
    int rc = brisk_lr_create_spec(spec, &o, &s);
    test_checks_++;
    if (rc != want) TEST_FAIL_("%s: status %d, expected %d (%s)", spec, rc, want, brisk_last_error());
    ASSERT_TRUE(s == NULL);
    if (needle) ASSERT_STR_CONTAINS(brisk_last_error(), needle);
    if (!rc) brisk_lr_free(s);
}

static void validation(void) {
    const brisk_lr_optimizer SGD = BRISK_LR_OPT_SGD;
    expect_error("LinearLR(start_factor=0)", SGD, BRISK_EINVAL, "start_factor");
    expect_error("LinearLR(start_factor=1.5)", SGD, BRISK_EINVAL, "start_factor");
    expect_error("LinearLR(end_factor=-0.1)", SGD, BRISK_EINVAL, "end_factor");
    expect_error("ConstantLR(factor=1.5)", SGD, BRISK_EINVAL, "factor");
    expect_error("CosineAnnealingWarmRestarts(T_0=10, T_mult=1.5)", SGD, BRISK_EINVAL, "T_mult");
    expect_error("CosineAnnealingWarmRestarts(T_0=10, T_mult=0)", SGD, BRISK_EINVAL, "T_mult");
    expect_error("CosineAnnealingWarmRestarts(T_0=0)", SGD, BRISK_EINVAL, "T_0");
    expect_error("CosineAnnealingWarmRestarts(T_mult=2)", SGD, BRISK_EINVAL, "T_0");
    expect_error("StepLR(gamma=0.1)", SGD, BRISK_EINVAL, "step_size");
    expect_error("StepLR(step_size=0)", SGD, BRISK_EINVAL, "step_size");
    expect_error("StepLR(step_size=3, foo=1)", SGD, BRISK_EUNSUPPORTED, "'foo'");
    expect_error("StepLR(step_size=3, last_epoch=4)", SGD, BRISK_EUNSUPPORTED, "last_epoch");
    expect_error("ExponentialLR()", SGD, BRISK_EINVAL, "gamma");
    expect_error("CosineAnnealingLR(T_max=0)", SGD, BRISK_EINVAL, "T_max");
    expect_error("MultiStepLR(milestones='a')", SGD, BRISK_EINVAL, "milestones");
    expect_error("LambdaLR(lr_lambda=1)", SGD, BRISK_EUNSUPPORTED, "callable");
    expect_error("OneCycleLR(max_lr=0.1)", SGD, BRISK_EINVAL, "total_steps");
    expect_error("OneCycleLR(total_steps=10)", SGD, BRISK_EINVAL, "max_lr");
    expect_error("OneCycleLR(max_lr=0.1, total_steps=0)", SGD, BRISK_EINVAL, "total_steps");
    expect_error("OneCycleLR(max_lr=0.1, total_steps=10.5)", SGD, BRISK_EINVAL, "integer");
    expect_error("OneCycleLR(max_lr=0.1, epochs=3)", SGD, BRISK_EINVAL, "steps_per_epoch");
    expect_error("OneCycleLR(max_lr=0.1, total_steps=10, pct_start=1.5)", SGD, BRISK_EINVAL, "pct_start");
    expect_error("OneCycleLR(max_lr=0.1, total_steps=10, anneal_strategy=cosine)", SGD, BRISK_EINVAL,
                 "anneal_strategy");
    expect_error("OneCycleLR(max_lr=[0.1, 0.2], total_steps=10)", SGD, BRISK_EINVAL, "max_lr");
    expect_error("CyclicLR(base_lr=0.01, max_lr=0.1, mode=foo)", SGD, BRISK_EINVAL, "mode");
    expect_error("CyclicLR(base_lr=0.01, max_lr=0.1)", BRISK_LR_OPT_ADAM, BRISK_EUNSUPPORTED,
                 "cycle_momentum");
    expect_error("CyclicLR(base_lr=0.01, max_lr=0.1, scale_fn=f)", SGD, BRISK_EUNSUPPORTED, "scale_fn");
    expect_error("CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=0, step_size_down=0)", SGD,
                 BRISK_EINVAL, "step_size");
    expect_error("ReduceLROnPlateau(factor=1.0)", SGD, BRISK_EINVAL, "factor");
    expect_error("ReduceLROnPlateau(mode=avg)", SGD, BRISK_EINVAL, "mode");
    expect_error("ReduceLROnPlateau(threshold_mode=x)", SGD, BRISK_EINVAL, "threshold");
    expect_error("SequentialLR(milestones=[5, 6], schedulers=[LinearLR(), StepLR(step_size=2)])", SGD,
                 BRISK_EINVAL, "milestones");
    expect_error("SequentialLR(milestones=[5], schedulers=[ReduceLROnPlateau(), StepLR(step_size=2)])",
                 SGD, BRISK_EUNSUPPORTED, "ReduceLROnPlateau");
    expect_error("SequentialLR(milestones=[5], schedulers=[rex(total_steps=10), StepLR(step_size=2)])",
                 SGD, BRISK_EUNSUPPORTED, "rex");
    expect_error("SequentialLR(milestones=[5], schedulers=[LinearLR(warmup=3), StepLR(step_size=2)])",
                 SGD, BRISK_EUNSUPPORTED, "warmup");
    expect_error("SequentialLR(milestones=[2], schedulers=[LinearLR(), ChainedScheduler(schedulers=[StepLR(step_size=2)])])",
                 SGD, BRISK_EUNSUPPORTED, "ChainedScheduler");
    expect_error("ChainedScheduler(schedulers=[])", SGD, BRISK_EINVAL, "schedulers");
    expect_error("ChainedScheduler(schedulers=[StepLR(step_size=2)], verbose=True)", SGD,
                 BRISK_EUNSUPPORTED, "'verbose'");
    expect_error("ReduceLROnPlateau(last_epoch=-1)", SGD, BRISK_EUNSUPPORTED, "'last_epoch'");
    expect_error("Foo()", SGD, BRISK_ENOTFOUND, "Foo");
    expect_error("StepLR(step_size=", SGD, BRISK_EPARSE, "column");
    expect_error("StepLR(step_size=3) x", SGD, BRISK_EPARSE, "after");
    expect_error("StepLR(3)", SGD, BRISK_EPARSE, "keyword");
    expect_error("StepLR(step_size=3, step_size=4)", SGD, BRISK_EPARSE, "twice");
    expect_error("rex(total_steps=0)", SGD, BRISK_EINVAL, "total_steps");
    expect_error("rex(total_steps=10, beta=0)", SGD, BRISK_EINVAL, "beta");
    expect_error("rex(total_steps=10, warmup=-1)", SGD, BRISK_EINVAL, "warmup");
    expect_error("rex(total_steps=10, sampling=0)", SGD, BRISK_EINVAL, "sampling");
    expect_error("rex(total_steps=10, sampling=epoch)", SGD, BRISK_EINVAL, "steps_per_epoch");
    expect_error("rex(total_steps=10, sampling=weekly)", SGD, BRISK_EINVAL, "sampling");
    expect_error("warmup_poly(total_steps=10, warmup_steps=10)", SGD, BRISK_EINVAL, "warmup_steps");
    expect_error("ReduceLROnPlateau(sampling=5)", SGD, BRISK_EINVAL, "sampling");
    /* accepted: verbose is ignored, last_epoch=-1 is the default, None means default */
    brisk_lr_schedule *s;
    ASSERT_OK(brisk_lr_create_spec("StepLR(step_size=3, verbose=True, last_epoch=-1)", NULL, &s));
    brisk_lr_free(s);
    ASSERT_OK(brisk_lr_create_spec("CyclicLR(base_lr=0.01, max_lr=0.1, step_size_down=None)", NULL, &s));
    brisk_lr_free(s);
}

static void onecycle_past_total(void) {
    brisk_lr_schedule *s;
    ASSERT_OK(brisk_lr_create_spec("OneCycleLR(max_lr=0.1, total_steps=5)", NULL, &s));
    for (int k = 0; k < 5; k++) ASSERT_OK(brisk_lr_step(s, 0));
    double lr5 = brisk_lr_current(s);
    ASSERT_STATUS(brisk_lr_step(s, 0), BRISK_ESTATE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "total steps is 5");
    ASSERT_STR_CONTAINS(brisk_last_error(), "step 6");
    ASSERT_EQ(brisk_lr_position(s), 5);
    ASSERT_TRUE(brisk_lr_current(s) == lr5);
    double v;
    ASSERT_STATUS(brisk_lr_value(s, 6, &v, NULL), BRISK_ESTATE);
    ASSERT_OK(brisk_lr_value(s, 2, &v, NULL));
    brisk_lr_free(s);
}

/* The recursive forms agree with the closed forms where torch says they should. */
static void recursion_semantics(void) {
    brisk_lr_schedule *s;
    brisk_lr_options o;
    brisk_lr_options_default(&o);
    o.base_lr = 0.5;
    ASSERT_OK(brisk_lr_create_spec("CosineAnnealingLR(T_max=12, eta_min=0.05)", &o, &s));
    double worst = 0;
    for (long t = 0; t < 100; t++) { /* periodic past T_max, not clamped */
        double lr, ref = 0.05 + (0.5 - 0.05) * (1 + cos(3.141592653589793 * (double)t / 12)) / 2;
        ASSERT_OK(brisk_lr_value(s, t, &lr, NULL));
        if (fabs(lr - ref) > worst) worst = fabs(lr - ref);
    }
    ASSERT_DOUBLE_LE(worst, 1e-13);
    /* random access equals sequential values exactly */
    double seq[60];
    ASSERT_OK(brisk_lr_values(s, 60, NULL, seq, NULL));
    for (long t = 59; t >= 0; t -= 7) {
        double lr;
        ASSERT_OK(brisk_lr_value(s, t, &lr, NULL));
        ASSERT_TRUE(lr == seq[t]);
    }
    brisk_lr_free(s);

    ASSERT_OK(brisk_lr_create_spec("MultiStepLR(milestones=[3, 3, 5], gamma=0.5)", &o, &s));
    double v[7];
    ASSERT_OK(brisk_lr_values(s, 7, NULL, v, NULL));
    ASSERT_NEAR(v[2], 0.5, 0);
    ASSERT_NEAR(v[3], 0.125, 1e-17); /* a repeated milestone decays twice */
    ASSERT_NEAR(v[5], 0.0625, 1e-17);
    brisk_lr_free(s);

    /* ConstantLR(total_iters=0): torch's recursion never restores the lr */
    ASSERT_OK(brisk_lr_create_spec("ConstantLR(factor=0.5, total_iters=0)", &o, &s));
    ASSERT_OK(brisk_lr_values(s, 7, NULL, v, NULL));
    ASSERT_NEAR(v[6], 0.25, 0);
    brisk_lr_free(s);

    /* OneCycleLR with Adam cycles beta1 */
    o.optimizer = BRISK_LR_OPT_ADAM;
    ASSERT_OK(brisk_lr_create_spec("onecycle(max_lr=0.01, total_steps=60, pct_start=0.25)", &o, &s));
    ASSERT_TRUE(brisk_lr_schedule_cycles_momentum(s));
    ASSERT_NEAR(brisk_lr_current_momentum(s), 0.95, 0);
    ASSERT_NEAR(brisk_lr_current(s), 0.01 / 25, 1e-18);
    double m15;
    ASSERT_OK(brisk_lr_value(s, 14, NULL, &m15)); /* end of the warm-up phase: base_momentum */
    ASSERT_NEAR(m15, 0.85, 1e-15);
    brisk_lr_free(s);

    /* Python-call spec and the vector's JSON give the same schedule */
    o.optimizer = BRISK_LR_OPT_SGD;
    o.base_lr = 0.1;
    ASSERT_OK(brisk_lr_create_spec("SequentialLR(milestones=[5], schedulers=[LinearLR(start_factor=0.01, "
                                   "total_iters=5), CosineAnnealingLR(T_max=45)])", &o, &s));
    ASSERT_OK(brisk_lr_values(s, 7, NULL, v, NULL));
    ASSERT_NEAR(v[0], 0.001, 1e-18);
    ASSERT_NEAR(v[5], 0.1, 0); /* the child restarts at its own step 0 */
    brisk_lr_free(s);
    /* children given by bare class name use their defaults */
    ASSERT_OK(brisk_lr_create_spec("SequentialLR(milestones=[5], schedulers=[LinearLR, ExponentialLR(gamma=0.5)])",
                                   &o, &s));
    ASSERT_OK(brisk_lr_values(s, 7, NULL, v, NULL));
    ASSERT_NEAR(v[0], 0.1 / 3, 1e-17);
    ASSERT_NEAR(v[5], 0.1, 0);
    ASSERT_NEAR(v[6], 0.05, 0);
    brisk_lr_free(s);
}

static void plateau(void) {
    brisk_lr_schedule *s;
    ASSERT_OK(brisk_lr_create_spec("ReduceLROnPlateau(patience=0, factor=0.5, min_lr=0.02)", NULL, &s));
    ASSERT_TRUE(brisk_lr_schedule_stateful(s));
    double v;
    ASSERT_STATUS(brisk_lr_value(s, 3, &v, NULL), BRISK_ESTATE);
    ASSERT_OK(brisk_lr_step(s, 1.0)); /* better than inf */
    ASSERT_NEAR(brisk_lr_current(s), 0.1, 0);
    ASSERT_OK(brisk_lr_step(s, 1.0)); /* not better, patience 0: reduce */
    ASSERT_NEAR(brisk_lr_current(s), 0.05, 0);
    ASSERT_OK(brisk_lr_step(s, 1.0));
    ASSERT_NEAR(brisk_lr_current(s), 0.025, 0);
    ASSERT_OK(brisk_lr_step(s, 1.0)); /* max(0.0125, min_lr) */
    ASSERT_NEAR(brisk_lr_current(s), 0.02, 0);
    ASSERT_OK(brisk_lr_step(s, 0.5)); /* better */
    ASSERT_NEAR(brisk_lr_current(s), 0.02, 0);
    ASSERT_OK(brisk_lr_value(s, 5, &v, NULL));
    ASSERT_NEAR(v, 0.02, 0);
    double lr[4];
    ASSERT_STATUS(brisk_lr_values(s, 4, NULL, lr, NULL), BRISK_EINVAL);
    brisk_lr_free(s);
}

static void names(void) {
    for (int k = 0; k < BRISK_LR_KIND_COUNT; k++) {
        brisk_lr_kind back;
        ASSERT_OK(brisk_lr_kind_from_name(brisk_lr_kind_name((brisk_lr_kind)k), &back));
        ASSERT_EQ(back, k);
        ASSERT_TRUE(strlen(brisk_lr_kind_summary((brisk_lr_kind)k)) > 0);
    }
    brisk_lr_kind k;
    ASSERT_OK(brisk_lr_kind_from_name("onecycle", &k));
    ASSERT_EQ(k, BRISK_LR_ONE_CYCLE_LR);
    ASSERT_OK(brisk_lr_kind_from_name("COSINE", &k));
    ASSERT_EQ(k, BRISK_LR_COSINE_ANNEALING_LR);
    ASSERT_STATUS(brisk_lr_kind_from_name("nope", &k), BRISK_ENOTFOUND);
    ASSERT_STR_CONTAINS(brisk_lr_kind_name(BRISK_LR_KIND_COUNT), "?");
    for (int o = 0; o < BRISK_LR_OPT_COUNT; o++) {
        brisk_lr_optimizer back;
        ASSERT_OK(brisk_lr_optimizer_from_name(brisk_lr_optimizer_name((brisk_lr_optimizer)o), &back));
        ASSERT_EQ(back, o);
    }
    const brisk_lr_param_info *p;
    ASSERT_EQ(brisk_lr_kind_params(BRISK_LR_ONE_CYCLE_LR, &p), 12);
    ASSERT_STR_CONTAINS(p[0].name, "max_lr");
}

/* Every allocation failure inside creation returns an error and leaks nothing (ASan). */
static void out_of_memory(void) {
    const char *spec = "SequentialLR(milestones=[4], schedulers=[LinearLR(), MultiStepLR(milestones=[2, 6])])";
    int ok = 0;
    for (long n = 0; n < 200 && !ok; n++) {
        brisk_lr_schedule *s = NULL;
        brisk_alloc_fail_after(n);
        int rc = brisk_lr_create_spec(spec, NULL, &s);
        brisk_alloc_fail_after(-1);
        if (rc == 0) {
            ok = 1;
            double v[10];
            ASSERT_OK(brisk_lr_values(s, 10, NULL, v, NULL));
            brisk_lr_free(s);
        } else {
            ASSERT_TRUE(s == NULL);
        }
    }
    ASSERT_TRUE(ok);
}

int main(void) {
    run_all_cases();
    validation();
    onecycle_past_total();
    recursion_semantics();
    plateau();
    names();
    out_of_memory();
    TEST_DONE();
}
