/* The training loop on tiny models and a few Fashion-MNIST images: bit-identical resume
 * (UNet and classifier, including a run killed after its checkpoint, a changed thread
 * count, and a run extended with more steps), NaN/Inf stops that keep the last good
 * checkpoint, the output folders (diffusers loadable, EMA weights, scheduler config,
 * summary), the gradient-norm log as `brisk lr refine` reads it, and the options JSON. */
#include "brisk/core.h"
#include "brisk/diffusion.h"
#include "brisk/io.h"
#include "brisk/json.h"
#include "brisk/lr.h"
#include "brisk/nn.h"
#include "brisk/train.h"
#include "brisk_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char root[64];
static char data_dir[128];

/* Writes the first n images and labels of a Fashion-MNIST split as gzip IDX files, so that
 * each training run loads a few KB instead of the 60,000 images. */
static int write_idx(const char *file, const brisk_array *a, size_t n) {
    gzFile f = gzopen(file, "wb");
    if (!f) return -1;
    unsigned char hdr[16];
    int nd = a->ndim;
    hdr[0] = hdr[1] = 0;
    hdr[2] = 0x08;
    hdr[3] = (unsigned char)nd;
    size_t per = 1;
    for (int d = 0; d < nd; d++) {
        uint32_t v = d == 0 ? (uint32_t)n : (uint32_t)a->shape[d];
        if (d) per *= a->shape[d];
        hdr[4 + 4 * d] = (unsigned char)(v >> 24);
        hdr[5 + 4 * d] = (unsigned char)(v >> 16);
        hdr[6 + 4 * d] = (unsigned char)(v >> 8);
        hdr[7 + 4 * d] = (unsigned char)v;
    }
    int ok = gzwrite(f, hdr, 4 + 4 * nd) == 4 + 4 * nd &&
             gzwrite(f, a->data, (unsigned)(n * per)) == (int)(n * per);
    return gzclose(f) == Z_OK && ok ? 0 : -1;
}

static int make_mini_fmnist(size_t n) {
    snprintf(data_dir, sizeof data_dir, "%s/fmnist", root);
    if (brisk_mkdir_p(data_dir)) return -1;
    const char *dir = getenv("BRISK_FASHION_MNIST");
    if (!dir || !*dir) dir = BRISK_FMNIST_DIR;
    static const char *const names[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    for (int i = 0; i < 4; i++) {
        char src[512], dst[512];
        snprintf(src, sizeof src, "%s/%s", dir, names[i]);
        snprintf(dst, sizeof dst, "%s/%s", data_dir, names[i]);
        brisk_array a;
        if (brisk_idx_read(src, &a)) return -1;
        int rc = write_idx(dst, &a, n < a.shape[0] ? n : a.shape[0]);
        brisk_array_free(&a);
        if (rc) return -1;
    }
    return 0;
}

static const char *path(const char *a, const char *b) {
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s%s%s", root, a, b ? "/" : "", b ? b : "");
    return buf[k];
}

/* 1 when two files have identical bytes. */
static int same_file(const char *a, const char *b) {
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    if (brisk_read_file(a, &x, &nx) || brisk_read_file(b, &y, &ny)) {
        fprintf(stderr, "cannot read %s or %s: %s\n", a, b, brisk_last_error());
        brisk_free(x);
        brisk_free(y);
        return 0;
    }
    int same = nx == ny && !memcmp(x, y, nx);
    if (!same) fprintf(stderr, "%s and %s differ\n", a, b);
    brisk_free(x);
    brisk_free(y);
    return same;
}

static void unet_opts(brisk_train_options *o, const char *out) {
    brisk_train_options_default(o, BRISK_TRAIN_UNET);
    o->data_dir = data_dir;
    o->config_path = "tests/data/train/unet_tiny.json";
    o->steps = 6;
    o->batch = 4;
    o->limit = 16;
    o->hflip = 1;
    o->seed = 5;
    o->optim.lr = 2e-3;
    o->lr_schedule = "OneCycleLR"; /* cycles beta1; max_lr and total_steps filled in */
    o->ema = 0.99;
    o->clip = 0.5;
    o->out = out;
    o->command = "test_train unet";
}

static void clf_opts(brisk_train_options *o, const char *out) {
    brisk_train_options_default(o, BRISK_TRAIN_CLASSIFIER);
    o->data_dir = data_dir;
    o->config_path = "tests/data/train/classifier_tiny.json";
    o->steps = 6;
    o->batch = 8;
    o->limit = 24; /* an epoch is 3 steps: evaluations after steps 3 and 6 */
    o->test_limit = 40;
    o->eval_batch = 16;
    brisk_optim_params_default(&o->optim, BRISK_OPTIM_SGD);
    o->optim.lr = 0.05;
    o->optim.momentum = 0.9;
    o->optim.nesterov = 1;
    o->optim.weight_decay = 1e-3;
    o->lr_schedule = "StepLR(step_size=2, gamma=0.5)";
    o->ema = 0.9;
    o->out = out;
}

static int n_events[BRISK_TRAIN_EV_COUNT];
static void count_events(void *ctx, const brisk_train_event *ev) {
    (void)ctx;
    n_events[ev->kind]++;
}

static void test_unet_resume(void) {
    brisk_train_options o;
    brisk_train_result ra, rb;
    /* A: 6 steps straight, 2 threads */
    unet_opts(&o, path("ua", NULL));
    o.grad_norm_log = path("ua.csv", NULL);
    brisk_set_num_threads(2);
    memset(n_events, 0, sizeof n_events);
    ASSERT_OK(brisk_train_run(&o, count_events, NULL, &ra));
    ASSERT_EQ(n_events[BRISK_TRAIN_EV_STEP], 6);
    ASSERT_EQ(n_events[BRISK_TRAIN_EV_DONE], 1);
    ASSERT_EQ(ra.steps, 6);
    ASSERT_TRUE(isnan(ra.test_accuracy));
    /* B: checkpoints every 3 steps, "killed" after step 4 (past its checkpoint), then
     * resumed with 1 thread: the log rows of step 3 are dropped and redone. */
    unet_opts(&o, path("ub", NULL));
    o.grad_norm_log = path("ub.csv", NULL);
    o.checkpoint_every = 3;
    o.debug_stop_step = 4;
    ASSERT_STATUS(brisk_train_run(&o, NULL, NULL, &rb), BRISK_ESTATE);
    ASSERT_TRUE(access(path("ub", "checkpoint/state.json"), F_OK) == 0);
    ASSERT_TRUE(access(path("ub", "config.json"), F_OK) != 0); /* no final output yet */
    o.debug_stop_step = -1;
    /* a fresh run must not overwrite the checkpoint */
    ASSERT_STATUS(brisk_train_run(&o, NULL, NULL, &rb), BRISK_ESTATE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "--resume");
    /* a resume with different settings is refused, naming the option */
    o.resume = 1;
    o.batch = 8;
    ASSERT_STATUS(brisk_train_run(&o, NULL, NULL, &rb), BRISK_EMISMATCH);
    ASSERT_STR_CONTAINS(brisk_last_error(), "'batch'");
    o.batch = 4;
    brisk_set_num_threads(1);
    ASSERT_OK(brisk_train_run(&o, NULL, NULL, &rb));
    brisk_set_num_threads(0);
    ASSERT_EQ(rb.steps, 6);
    ASSERT_TRUE(ra.final_loss == rb.final_loss);
    static const char *files[] = {
        "checkpoint/model/diffusion_pytorch_model.safetensors",
        "checkpoint/ema/diffusion_pytorch_model.safetensors",
        "checkpoint/optimizer-exp_avg.npy",
        "checkpoint/optimizer-exp_avg_sq.npy",
        "checkpoint/losses.npy",
        "diffusion_pytorch_model.safetensors",
        "config.json",
        "scheduler_config.json",
        NULL};
    for (int i = 0; files[i]; i++) ASSERT_TRUE(same_file(path("ua", files[i]), path("ub", files[i])));
    ASSERT_TRUE(same_file(path("ua.csv", NULL), path("ub.csv", NULL)));
    /* the lr schedule state matches too */
    cJSON *sa, *sb;
    ASSERT_OK(brisk_json_read_file(path("ua", "checkpoint/state.json"), &sa));
    ASSERT_OK(brisk_json_read_file(path("ub", "checkpoint/state.json"), &sb));
    if (sa && sb) {
        ASSERT_TRUE(cJSON_Compare(cJSON_GetObjectItem(sa, "lr_state"),
                                  cJSON_GetObjectItem(sb, "lr_state"), 1));
        ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(sb, "commands")), 2);
        ASSERT_EQ((long)cJSON_GetObjectItem(sb, "step")->valuedouble, 6);
    }
    cJSON_Delete(sa);
    cJSON_Delete(sb);

    /* The output folder: a UNet2DModel whose weights are the EMA weights. */
    brisk_unet *m;
    ASSERT_OK(brisk_unet_load(path("ua", NULL), &m));
    if (m) {
        brisk_nn_params *p = brisk_unet_params(m);
        float *ema = malloc(p->n * sizeof(float));
        ASSERT_OK(brisk_nn_params_load(p, ema, path("ua", "checkpoint/ema/diffusion_pytorch_model.safetensors"), 0));
        ASSERT_TRUE(!memcmp(ema, p->data, p->n * sizeof(float)));
        float *raw = malloc(p->n * sizeof(float));
        ASSERT_OK(brisk_nn_params_load(p, raw, path("ua", "checkpoint/model/diffusion_pytorch_model.safetensors"), 0));
        ASSERT_TRUE(memcmp(raw, p->data, p->n * sizeof(float)) != 0);
        free(ema);
        free(raw);
        ASSERT_EQ(brisk_unet_get_config(m)->sample_size, 32);
        brisk_unet_free(m);
    }
    brisk_scheduler_config sc;
    ASSERT_OK(brisk_scheduler_config_load(path("ua", "scheduler_config.json"), &sc, NULL, NULL));
    ASSERT_EQ(sc.num_train_timesteps, 1000);
    ASSERT_EQ(sc.prediction_type, BRISK_PRED_EPSILON);
    ASSERT_EQ(sc.beta_schedule, BRISK_BETA_LINEAR);
    ASSERT_NEAR(sc.beta_end, 0.02, 0);
    brisk_scheduler_config_clear(&sc);
    /* training.json: 6 loss buckets (fewer steps than 20), the resolved schedule */
    cJSON *tj;
    ASSERT_OK(brisk_json_read_file(path("ua", "training.json"), &tj));
    if (tj) {
        ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(tj, "loss_curve")), 6);
        const char *res = cJSON_GetObjectItem(tj, "lr_schedule_resolved")->valuestring;
        ASSERT_STR_CONTAINS(res, "\"total_steps\":6");
        ASSERT_STR_CONTAINS(res, "\"max_lr\":0.002");
        ASSERT_STR_CONTAINS(cJSON_GetObjectItem(tj, "weights")->valuestring, "ema");
        cJSON_Delete(tj);
    }
    ASSERT_TRUE(access(path("ua", "TRAINING.md"), F_OK) == 0);
    /* the gradient-norm log reads back as `brisk lr refine` reads it */
    double *g = NULL;
    size_t ng = 0;
    ASSERT_OK(brisk_lr_grad_norms_read(path("ua.csv", NULL), 0, &g, &ng));
    ASSERT_EQ(ng, 6);
    for (size_t i = 0; i < ng; i++) ASSERT_TRUE(g[i] > 0 && isfinite(g[i]));
    brisk_free(g);
    ASSERT_OK(brisk_lr_grad_norms_read(path("ua.csv", NULL), 1, &g, &ng));
    ASSERT_EQ(ng, 6);
    brisk_free(g);
}

static void test_classifier_resume(void) {
    brisk_train_options o;
    brisk_train_result ra, rb;
    clf_opts(&o, path("ca", NULL));
    memset(n_events, 0, sizeof n_events);
    ASSERT_OK(brisk_train_run(&o, count_events, NULL, &ra));
    ASSERT_EQ(n_events[BRISK_TRAIN_EV_EVAL], 2);
    ASSERT_TRUE(ra.test_accuracy >= 0 && ra.test_accuracy <= 1);
    /* B: 3 steps to completion, then resumed and extended to 6 */
    clf_opts(&o, path("cb", NULL));
    o.steps = 3;
    ASSERT_OK(brisk_train_run(&o, NULL, NULL, &rb));
    ASSERT_EQ(rb.steps, 3);
    o.steps = 6;
    o.resume = 1;
    ASSERT_OK(brisk_train_run(&o, NULL, NULL, &rb));
    ASSERT_EQ(rb.steps, 6);
    ASSERT_TRUE(ra.test_accuracy == rb.test_accuracy);
    ASSERT_TRUE(same_file(path("ca", "model.safetensors"), path("cb", "model.safetensors")));
    ASSERT_TRUE(same_file(path("ca", "checkpoint/model/model.safetensors"),
                          path("cb", "checkpoint/model/model.safetensors")));
    ASSERT_TRUE(same_file(path("ca", "checkpoint/optimizer-momentum_buffer.npy"),
                          path("cb", "checkpoint/optimizer-momentum_buffer.npy")));
    cJSON *ta, *tb;
    ASSERT_OK(brisk_json_read_file(path("ca", "training.json"), &ta));
    ASSERT_OK(brisk_json_read_file(path("cb", "training.json"), &tb));
    if (ta && tb)
        ASSERT_TRUE(cJSON_Compare(cJSON_GetObjectItem(ta, "epoch_accuracy"),
                                  cJSON_GetObjectItem(tb, "epoch_accuracy"), 1));
    cJSON_Delete(ta);
    cJSON_Delete(tb);
    brisk_classifier *m;
    ASSERT_OK(brisk_classifier_load(path("ca", NULL), &m));
    if (m) {
        ASSERT_EQ(brisk_classifier_get_config(m)->channels[1], 16);
        brisk_classifier_free(m);
    }
}

static void test_nan(void) {
    brisk_train_options o;
    brisk_train_result r;
    /* injected NaN at step 4: checkpoints after 2 and 4 steps; the one of 4 steps stays */
    clf_opts(&o, path("na", NULL));
    o.checkpoint_every = 2;
    o.debug_nan_step = 4;
    ASSERT_STATUS(brisk_train_run(&o, NULL, NULL, &r), BRISK_ENUMERIC);
    ASSERT_STR_CONTAINS(brisk_last_error(), "step 4: the loss is nan");
    ASSERT_STR_CONTAINS(brisk_last_error(), "last good checkpoint (4 steps)");
    cJSON *st;
    ASSERT_OK(brisk_json_read_file(path("na", "checkpoint/state.json"), &st));
    if (st) ASSERT_EQ((long)cJSON_GetObjectItem(st, "step")->valuedouble, 4);
    cJSON_Delete(st);
    ASSERT_TRUE(access(path("na", "model.safetensors"), F_OK) != 0);
    /* an absurd learning rate: the weights blow up and training stops at a named step */
    clf_opts(&o, path("nb", NULL));
    o.optim.lr = 1e30;
    o.optim.nesterov = 0;
    o.optim.momentum = 0;
    o.lr_schedule = NULL;
    ASSERT_STATUS(brisk_train_run(&o, NULL, NULL, &r), BRISK_ENUMERIC);
    printf("absurd lr: %s\n", brisk_last_error());
    ASSERT_STR_CONTAINS(brisk_last_error(), "step ");
    ASSERT_STR_CONTAINS(brisk_last_error(), "before the first checkpoint");
}

static void test_options(void) {
    brisk_train_options o, p;
    unet_opts(&o, "x");
    o.seed = (1ull << 60) + 3; /* beyond a double's integers: stored as a string */
    o.grad_norm_log = "g.csv";
    cJSON *j = brisk_train_options_to_json(&o), *strings = NULL;
    ASSERT_OK(brisk_train_options_from_json(j, "opts", &p, &strings));
    ASSERT_TRUE(p.seed == o.seed);
    ASSERT_TRUE(!strcmp(p.lr_schedule, "OneCycleLR") && !strcmp(p.grad_norm_log, "g.csv"));
    ASSERT_NEAR(p.optim.lr, 2e-3, 0);
    cJSON *k = brisk_train_options_to_json(&p);
    ASSERT_TRUE(cJSON_Compare(j, k, 1));
    cJSON_Delete(k);
    cJSON_Delete(strings);
    cJSON_AddNumberToObject(j, "learning_rate", 1);
    ASSERT_STATUS(brisk_train_options_from_json(j, "opts", &p, &strings), BRISK_EPARSE);
    ASSERT_STR_CONTAINS(brisk_last_error(), "learning_rate");
    cJSON_Delete(j);
    /* bad options are refused before anything runs */
    brisk_train_result r;
    unet_opts(&o, path("bad", NULL));
    o.data = "cifar10";
    ASSERT_STATUS(brisk_train_run(&o, NULL, NULL, &r), BRISK_EUNSUPPORTED);
    unet_opts(&o, path("bad", NULL));
    o.ema = 1.5;
    ASSERT_STATUS(brisk_train_run(&o, NULL, NULL, &r), BRISK_EINVAL);
    unet_opts(&o, path("bad", NULL));
    o.lr_schedule = "NoSuchLR()";
    ASSERT_STATUS(brisk_train_run(&o, NULL, NULL, &r), BRISK_ENOTFOUND);
    unet_opts(&o, path("bad", NULL));
    o.config_path = "tests/data/train/classifier_tiny.json";
    ASSERT_TRUE(brisk_train_run(&o, NULL, NULL, &r) != 0);
    ASSERT_STR_CONTAINS(brisk_last_error(), "classifier_tiny.json");
    unet_opts(&o, path("bad", NULL));
    o.resume = 1;
    ASSERT_STATUS(brisk_train_run(&o, NULL, NULL, &r), BRISK_ENOTFOUND);
    cJSON *saved;
    ASSERT_STATUS(brisk_train_checkpoint_options(path("bad", NULL), &saved, NULL), BRISK_ENOTFOUND);
}

int main(void) {
    snprintf(root, sizeof root, "/tmp/brisk-test-train-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    if (make_mini_fmnist(64)) {
        fprintf(stderr, "cannot prepare the Fashion-MNIST subset: %s\n", brisk_last_error());
        return 1;
    }
    test_options();
    test_unet_resume();
    test_classifier_resume();
    test_nan();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (!test_failures_ && system(cmd)) fprintf(stderr, "could not remove %s\n", root);
    TEST_DONE();
}
