/* Resume: a schedule saved at step k and loaded into a fresh schedule gives exactly the
 * values of an uninterrupted run (torch's pitfalls, docs/lr.md: the lr lives in the
 * optimizer's state, not the scheduler's; load_state_dict silently takes the saved
 * hyperparameters; constructing with last_epoch=k steps once more). */
#include "brisk/core.h"
#include "brisk/lr.h"
#include "brisk_test.h"

#include <math.h>
#include <string.h>

#define N 90

static double metric_at(long k) { /* a noisy plateauing loss */
    return 1.0 / (1.0 + 0.1 * (double)(k < 40 ? k : 40)) + 0.01 * sin(1.7 * (double)k);
}

static void resume_case(const char *spec, brisk_lr_optimizer opt, long spe) {
    brisk_lr_options o;
    brisk_lr_options_default(&o);
    o.optimizer = opt;
    o.steps_per_epoch = spe;
    brisk_lr_schedule *a, *b, *c;
    if (brisk_lr_create_spec(spec, &o, &a)) {
        TEST_FAIL_("%s: %s", spec, brisk_last_error());
        return;
    }
    double lr_a[N], m_a[N];
    for (long k = 0; k < N; k++) {
        lr_a[k] = brisk_lr_current(a);
        m_a[k] = brisk_lr_current_momentum(a);
        if (k + 1 < N) ASSERT_OK(brisk_lr_step(a, metric_at(k)));
    }
    int mismatches = 0;
    for (long cut = 0; cut < N; cut += 13) {
        ASSERT_OK(brisk_lr_create_spec(spec, &o, &b));
        for (long k = 0; k < cut; k++) ASSERT_OK(brisk_lr_step(b, metric_at(k)));
        char *state = NULL;
        ASSERT_OK(brisk_lr_state_save(b, &state));
        brisk_lr_free(b);
        ASSERT_OK(brisk_lr_create_spec(spec, &o, &c));
        ASSERT_OK(brisk_lr_state_load(c, state));
        ASSERT_EQ(brisk_lr_position(c), cut);
        for (long k = cut; k < N; k++) {
            if (brisk_lr_current(c) != lr_a[k] || brisk_lr_current_momentum(c) != m_a[k]) mismatches++;
            if (k + 1 < N) ASSERT_OK(brisk_lr_step(c, metric_at(k)));
        }
        /* loading rewinds a schedule that ran on */
        ASSERT_OK(brisk_lr_state_load(c, state));
        ASSERT_EQ(brisk_lr_position(c), cut);
        if (brisk_lr_current(c) != lr_a[cut]) mismatches++;
        brisk_lr_free(c);
        brisk_free(state);
    }
    if (mismatches) TEST_FAIL_("%s: %d values differ after resume", spec, mismatches);
    test_checks_++;
    brisk_lr_free(a);
}

static void resumes(void) {
    resume_case("ReduceLROnPlateau(factor=0.5, patience=3, cooldown=2, threshold=0.01)", BRISK_LR_OPT_SGD, 0);
    resume_case("OneCycleLR(max_lr=0.1, total_steps=100, three_phase=True)", BRISK_LR_OPT_ADAM, 0);
    resume_case("CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=7, mode=exp_range, gamma=0.99)",
                BRISK_LR_OPT_SGD, 0);
    resume_case("CosineAnnealingWarmRestarts(T_0=5, T_mult=2, eta_min=0.001)", BRISK_LR_OPT_SGD, 0);
    resume_case("CosineAnnealingLR(T_max=20)", BRISK_LR_OPT_SGD, 0);
    resume_case("SequentialLR(milestones=[10, 40], schedulers=[LinearLR(start_factor=0.1, total_iters=10), "
                "CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=5), ExponentialLR(gamma=0.97)])",
                BRISK_LR_OPT_SGD, 0);
    resume_case("ChainedScheduler(schedulers=[ConstantLR(factor=0.5, total_iters=8), StepLR(step_size=9)])",
                BRISK_LR_OPT_SGD, 0);
    resume_case("StepLR(step_size=10, warmup=15, sampling=3)", BRISK_LR_OPT_SGD, 0);
    resume_case("ReduceLROnPlateau(mode=max, patience=1, warmup=10)", BRISK_LR_OPT_SGD, 0);
    resume_case("rex(total_steps=90, warmup=5, sampling=epoch)", BRISK_LR_OPT_SGD, 9);
    resume_case("warmup_poly(total_steps=90, warmup_steps=9, power=1.5)", BRISK_LR_OPT_SGD, 0);
}

static void refusals(void) {
    brisk_lr_schedule *a, *b;
    char *state;
    ASSERT_OK(brisk_lr_create_spec("StepLR(step_size=10)", NULL, &a));
    ASSERT_OK(brisk_lr_step(a, 0));
    ASSERT_OK(brisk_lr_state_save(a, &state));
    /* a different hyperparameter: refused (torch would silently take the saved one) */
    ASSERT_OK(brisk_lr_create_spec("StepLR(step_size=20)", NULL, &b));
    ASSERT_STATUS(brisk_lr_state_load(b, state), BRISK_ESTATE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "different schedule");
    ASSERT_EQ(brisk_lr_position(b), 0);
    brisk_lr_free(b);
    /* different options (base_lr) */
    brisk_lr_options o;
    brisk_lr_options_default(&o);
    o.base_lr = 0.2;
    ASSERT_OK(brisk_lr_create_spec("StepLR(step_size=10)", &o, &b));
    ASSERT_STATUS(brisk_lr_state_load(b, state), BRISK_ESTATE);
    brisk_lr_free(b);
    /* malformed documents */
    ASSERT_STATUS(brisk_lr_state_load(a, "{"), BRISK_EPARSE);
    ASSERT_STATUS(brisk_lr_state_load(a, "{\"format\": \"other\"}"), BRISK_EPARSE);
    char *bad = strdup(state);
    char *p = strstr(bad, "\"position\"");
    ASSERT_TRUE(p != NULL);
    if (p) {
        p = strchr(p, ':');
        p = strchr(p, '"');
        p[1] = 'x'; /* "1" -> "x" */
        ASSERT_STATUS(brisk_lr_state_load(a, bad), BRISK_EPARSE);
    }
    free(bad);
    ASSERT_EQ(brisk_lr_position(a), 1);
    brisk_free(state);
    brisk_lr_free(a);
}

int main(void) {
    resumes();
    refusals();
    TEST_DONE();
}
