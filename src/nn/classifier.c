/* classifier.c: a small CNN for Fashion-MNIST built from the engine's kernels (used to
 * measure mode mixture and to provide features for evaluation):
 *   stage s: conv3x3 s1 -> GroupNorm -> SiLU -> conv3x3 s2 -> GroupNorm -> SiLU
 *   flatten -> fc -> SiLU (features) -> head (logits). */
#include "nn_impl.h"

#include "brisk/io.h"
#include "brisk/json.h"

#include <stdio.h>
#include <string.h>

struct brisk_classifier {
    brisk_classifier_config cfg;
    brisk_nn_params params;
    nn_registry reg;
    nn_graph g[2];
    int feat[2];  /* features tensor id per graph */
    int last;     /* graph of the last forward */
};

void brisk_classifier_config_default(brisk_classifier_config *c) {
    memset(c, 0, sizeof *c);
    c->in_channels = 1;
    c->height = c->width = 32;
    c->n_stages = 3;
    c->channels[0] = 32;
    c->channels[1] = 64;
    c->channels[2] = 128;
    c->norm_groups = 8;
    c->feature_dim = 256;
    c->n_classes = 10;
}

static int validate(const brisk_classifier_config *c) {
    if (!c->n_stages || c->n_stages > BRISK_CLASSIFIER_MAX_STAGES)
        return brisk_error(BRISK_EINVAL, "classifier: n_stages %zu (1..%d)", c->n_stages,
                           BRISK_CLASSIFIER_MAX_STAGES);
    if (!c->in_channels || !c->height || !c->width || !c->feature_dim || c->n_classes < 2 ||
        !c->norm_groups)
        return brisk_error(BRISK_EINVAL, "classifier: sizes must be positive (2+ classes)");
    for (size_t s = 0; s < c->n_stages; s++)
        if (!c->channels[s] || c->channels[s] % c->norm_groups)
            return brisk_error(BRISK_EINVAL, "classifier: channels[%zu] = %zu is not a positive "
                               "multiple of norm_groups %zu", s, c->channels[s], c->norm_groups);
    if (c->n_classes > 256)
        return brisk_error(BRISK_EINVAL, "classifier: at most 256 classes (u8 labels)");
    return BRISK_OK;
}

static int build(brisk_classifier *m, int which) {
    const brisk_classifier_config *c = &m->cfg;
    nn_graph *g = &m->g[which];
    nn_builder b;
    memset(&b, 0, sizeof b);
    b.reg = &m->reg;
    b.g = g;
    b.eps = 1e-5f;
    m->reg.cursor = 0;
    nn_graph_reset(g);
    g->input = nn_b_tensor(&b, c->in_channels, c->height, c->width);
    g->input_t = NN_NONE;
    int cur = g->input;
    char nm[64];
    for (size_t s = 0; s < c->n_stages; s++) {
        snprintf(nm, sizeof nm, "stages.%zu.conv1", s);
        cur = nn_b_conv(&b, cur, c->channels[s], 3, 1, 1, 1, 1, 1, nm, NN_NONE, NN_NONE, 1.0f);
        snprintf(nm, sizeof nm, "stages.%zu.norm1", s);
        cur = nn_b_gn(&b, cur, c->norm_groups, 1, NN_NONE, nm);
        snprintf(nm, sizeof nm, "stages.%zu.conv2", s);
        cur = nn_b_conv(&b, cur, c->channels[s], 3, 2, 1, 1, 1, 1, nm, NN_NONE, NN_NONE, 1.0f);
        snprintf(nm, sizeof nm, "stages.%zu.norm2", s);
        cur = nn_b_gn(&b, cur, c->norm_groups, 1, NN_NONE, nm);
    }
    int f = nn_b_silu(&b, nn_b_linear(&b, cur, c->feature_dim, "fc"));
    m->feat[which] = f;
    g->output = nn_b_linear(&b, f, c->n_classes, "head");
    if (!b.rc && m->reg.err) b.rc = m->reg.err;
    return b.rc;
}

void brisk_classifier_free(brisk_classifier *m) {
    if (!m) return;
    nn_graph_free(&m->g[0]);
    nn_graph_free(&m->g[1]);
    nn_params_free(&m->params);
    brisk_free(m);
}

static int cls_new(const brisk_classifier_config *c, brisk_classifier **out) {
    *out = NULL;
    int rc = validate(c);
    if (rc) return rc;
    brisk_classifier *m = brisk_calloc(1, sizeof *m);
    if (!m) return BRISK_ENOMEM;
    m->cfg = *c;
    m->reg.p = &m->params;
    m->last = -1;
    rc = build(m, 0);
    if (!rc) rc = nn_reg_finish(&m->reg);
    if (!rc) rc = build(m, 1);
    if (rc) {
        brisk_classifier_free(m);
        return rc;
    }
    *out = m;
    return BRISK_OK;
}

int brisk_classifier_create(const brisk_classifier_config *c, uint64_t seed,
                            brisk_classifier **out) {
    int rc = cls_new(c, out);
    if (rc) return rc;
    rc = nn_params_init_default(&(*out)->params, seed);
    if (rc) {
        brisk_classifier_free(*out);
        *out = NULL;
    }
    return rc;
}

static int cfg_read(const char *path, brisk_classifier_config *c) {
    cJSON *doc;
    int rc = brisk_json_read_file(path, &doc);
    if (rc) return rc;
    brisk_classifier_config_default(c);
    const char *cls = NULL;
    rc = brisk_json_get_string(doc, "_class_name", "", &cls, path);
    if (!rc && strcmp(cls, "BriskClassifier"))
        rc = brisk_error(BRISK_EUNSUPPORTED, "%s: _class_name '%s' is not BriskClassifier", path,
                         cls);
    long v;
#define GETI(key, field)                                                       \
    if (!rc) {                                                                 \
        rc = brisk_json_get_int(doc, key, (long)c->field, &v, path);           \
        if (!rc && v < 0) rc = brisk_error(BRISK_EPARSE, "%s: '%s' < 0", path, key); \
        if (!rc) c->field = (size_t)v;                                         \
    }
    GETI("in_channels", in_channels)
    GETI("height", height)
    GETI("width", width)
    GETI("norm_groups", norm_groups)
    GETI("feature_dim", feature_dim)
    GETI("n_classes", n_classes)
#undef GETI
    if (!rc) {
        double *ch = NULL;
        size_t n = 0;
        rc = brisk_json_get_doubles(doc, "channels", &ch, &n, path);
        if (!rc && (n < 1 || n > BRISK_CLASSIFIER_MAX_STAGES))
            rc = brisk_error(BRISK_EPARSE, "%s: 'channels' needs 1..%d entries", path,
                             BRISK_CLASSIFIER_MAX_STAGES);
        for (size_t i = 0; !rc && i < n; i++) c->channels[i] = (size_t)ch[i];
        if (!rc) c->n_stages = n;
        brisk_free(ch);
    }
    cJSON_Delete(doc);
    return rc;
}

static int cfg_write(const char *path, const brisk_classifier_config *c) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return BRISK_ENOMEM;
    cJSON_AddStringToObject(o, "_class_name", "BriskClassifier");
    cJSON_AddStringToObject(o, "_brisk_version", BRISK_VERSION_STRING);
    cJSON_AddNumberToObject(o, "in_channels", (double)c->in_channels);
    cJSON_AddNumberToObject(o, "height", (double)c->height);
    cJSON_AddNumberToObject(o, "width", (double)c->width);
    cJSON *ch = cJSON_AddArrayToObject(o, "channels");
    for (size_t i = 0; i < c->n_stages; i++)
        cJSON_AddItemToArray(ch, cJSON_CreateNumber((double)c->channels[i]));
    cJSON_AddNumberToObject(o, "norm_groups", (double)c->norm_groups);
    cJSON_AddNumberToObject(o, "feature_dim", (double)c->feature_dim);
    cJSON_AddNumberToObject(o, "n_classes", (double)c->n_classes);
    int rc = brisk_json_write_file(path, o);
    cJSON_Delete(o);
    return rc;
}

int brisk_classifier_load(const char *dir, brisk_classifier **out) {
    *out = NULL;
    char p[4096];
    snprintf(p, sizeof p, "%s/config.json", dir);
    brisk_classifier_config c;
    int rc = cfg_read(p, &c);
    if (rc) return rc;
    brisk_classifier *m;
    rc = cls_new(&c, &m);
    if (rc) return brisk_error_prefix(rc, "%s: ", p);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    rc = brisk_nn_params_load(&m->params, NULL, p, 0);
    if (rc) {
        brisk_classifier_free(m);
        return rc;
    }
    *out = m;
    return BRISK_OK;
}

int brisk_classifier_save(const brisk_classifier *m, const char *dir, const float *params) {
    int rc = brisk_mkdir_p(dir);
    if (rc) return rc;
    char p[4096];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    rc = brisk_nn_params_save(&m->params, params, p, NULL, 0);
    if (rc) return rc;
    snprintf(p, sizeof p, "%s/config.json", dir);
    return cfg_write(p, &m->cfg);
}

const brisk_classifier_config *brisk_classifier_get_config(const brisk_classifier *m) {
    return &m->cfg;
}

brisk_nn_params *brisk_classifier_params(brisk_classifier *m) { return &m->params; }

static int run(brisk_classifier *m, int train, const float *x, size_t batch, float *logits) {
    if (!batch) return brisk_error(BRISK_EINVAL, "classifier: batch must be positive");
    nn_graph *g = &m->g[train];
    if (!g->ready || batch > g->batch || g->nt < nn_threads()) {
        int rc = nn_graph_plan(g, &m->params, batch, train);
        if (rc) return rc;
    }
    int rc = nn_graph_forward(g, &m->params, batch, x, NULL, logits);
    g->cur_batch = batch;
    m->last = train;
    return rc;
}

int brisk_classifier_forward(brisk_classifier *m, const float *x, size_t batch, float *logits) {
    return run(m, 0, x, batch, logits);
}

int brisk_classifier_forward_train(brisk_classifier *m, const float *x, size_t batch,
                                   float *logits) {
    return run(m, 1, x, batch, logits);
}

int brisk_classifier_backward(brisk_classifier *m, const float *dlogits) {
    nn_graph *g = &m->g[1];
    return nn_graph_backward(g, &m->params, g->cur_batch, dlogits, NULL);
}

const float *brisk_classifier_features(const brisk_classifier *m) {
    if (m->last < 0) return NULL;
    nn_graph *g = (nn_graph *)&m->g[m->last];
    return nn_graph_ptr(g, m->feat[m->last]);
}
