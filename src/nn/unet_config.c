/* unet_config.c: diffusers UNet2DModel config.json <-> brisk_unet_config.
 * Keys and defaults follow diffusers' UNet2DModel.__init__ signature (unet_2d.py). Every
 * key is either implemented, accepted because it cannot change the result (dropout at
 * inference, num_train_timesteps with positional embeddings), or rejected with an error
 * naming the key. */
#include "nn_impl.h"

#include "brisk/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *block_names[BRISK_BLOCK_COUNT] = {"DownBlock2D", "AttnDownBlock2D",
                                                      "UpBlock2D", "AttnUpBlock2D"};
static const char *time_norm_names[BRISK_TIME_NORM_COUNT] = {"default", "scale_shift"};

const char *brisk_unet_block_name(brisk_unet_block b) {
    return (unsigned)b < BRISK_BLOCK_COUNT ? block_names[b] : "unknown";
}

int brisk_unet_block_from_name(const char *name, brisk_unet_block *out) {
    const char *s = strncmp(name, "UNetRes", 7) ? name : name + 7;
    for (int i = 0; i < BRISK_BLOCK_COUNT; i++)
        if (!strcmp(s, block_names[i])) {
            *out = (brisk_unet_block)i;
            return BRISK_OK;
        }
    return brisk_error(BRISK_EUNSUPPORTED,
                       "block type '%s' is not supported (brisk implements DownBlock2D, "
                       "AttnDownBlock2D, UpBlock2D, AttnUpBlock2D)",
                       name);
}

const char *brisk_time_norm_name(brisk_time_norm t) {
    return (unsigned)t < BRISK_TIME_NORM_COUNT ? time_norm_names[t] : "unknown";
}

int brisk_time_norm_from_name(const char *name, brisk_time_norm *out) {
    for (int i = 0; i < BRISK_TIME_NORM_COUNT; i++)
        if (!strcmp(name, time_norm_names[i])) {
            *out = (brisk_time_norm)i;
            return BRISK_OK;
        }
    return brisk_error(BRISK_EUNSUPPORTED,
                       "resnet_time_scale_shift '%s' is not supported (default, scale_shift)",
                       name);
}

void brisk_unet_config_default(brisk_unet_config *c) {
    memset(c, 0, sizeof *c);
    c->sample_size = 0;
    c->in_channels = 3;
    c->out_channels = 3;
    c->n_blocks = 4;
    const size_t boc[4] = {224, 448, 672, 896};
    for (int i = 0; i < 4; i++) c->block_out_channels[i] = boc[i];
    c->down_block_types[0] = BRISK_BLOCK_DOWN;
    c->down_block_types[1] = c->down_block_types[2] = c->down_block_types[3] =
        BRISK_BLOCK_ATTN_DOWN;
    c->up_block_types[0] = c->up_block_types[1] = c->up_block_types[2] = BRISK_BLOCK_ATTN_UP;
    c->up_block_types[3] = BRISK_BLOCK_UP;
    c->layers_per_block = 2;
    c->norm_num_groups = 32;
    c->attn_norm_num_groups = 0;
    c->norm_eps = 1e-5;
    c->attention_head_dim = 8;
    c->downsample_padding = 1;
    c->flip_sin_to_cos = 1;
    c->freq_shift = 0;
    c->resnet_time_scale_shift = BRISK_TIME_NORM_DEFAULT;
    c->add_attention = 1;
    c->mid_block = 1;
    c->mid_block_scale_factor = 1;
    c->center_input_sample = 0;
    c->time_embedding_dim = 0;
    c->dropout = 0;
}

/* non-negative integer value (JSON number with no fraction) */
static int get_size(const cJSON *v, const char *what, const char *key, size_t *out) {
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble > 1e9)
        return brisk_error(BRISK_EPARSE, "%s: key '%s' must be a non-negative integer", what,
                           key);
    *out = (size_t)v->valuedouble;
    return BRISK_OK;
}

static int get_blocks(const cJSON *v, const char *what, const char *key, brisk_unet_block *out,
                      size_t *n) {
    if (!cJSON_IsArray(v))
        return brisk_error(BRISK_EPARSE, "%s: key '%s' must be a list of block names", what, key);
    int m = cJSON_GetArraySize(v);
    if (m < 1 || m > BRISK_UNET_MAX_BLOCKS)
        return brisk_error(BRISK_EUNSUPPORTED, "%s: key '%s' has %d entries (1..%d supported)",
                           what, key, m, BRISK_UNET_MAX_BLOCKS);
    for (int i = 0; i < m; i++) {
        const cJSON *s = cJSON_GetArrayItem(v, i);
        if (!cJSON_IsString(s))
            return brisk_error(BRISK_EPARSE, "%s: key '%s'[%d] is not a string", what, key, i);
        if (brisk_unet_block_from_name(s->valuestring, &out[i]))
            return brisk_error_prefix(BRISK_EUNSUPPORTED, "%s: key '%s'[%d]: ", what, key, i);
    }
    *n = (size_t)m;
    return BRISK_OK;
}

static int is_null(const cJSON *v) { return !v || cJSON_IsNull(v); }

int brisk_unet_config_parse(const cJSON *obj, const char *what, brisk_unet_config *c) {
    brisk_unet_config_default(c);
    if (!cJSON_IsObject(obj)) return brisk_error(BRISK_EPARSE, "%s: not a JSON object", what);
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(obj, "_class_name");
    if (cJSON_IsString(cls) && strcmp(cls->valuestring, "UNet2DModel"))
        return brisk_error(BRISK_EUNSUPPORTED, "%s: _class_name '%s' is not supported (brisk "
                           "loads UNet2DModel)", what, cls->valuestring);
    size_t n_down = 0, n_up = 0, n_boc = 0;
    int have_down = 0, have_up = 0, have_boc = 0;
    int rc = BRISK_OK;
    for (const cJSON *it = obj->child; it && !rc; it = it->next) {
        const char *k = it->string;
        if (k[0] == '_') continue;
        if (!strcmp(k, "sample_size")) {
            if (is_null(it)) continue;
            if (cJSON_IsArray(it)) {
                size_t a = 0, b = 0;
                if (cJSON_GetArraySize(it) != 2 ||
                    get_size(cJSON_GetArrayItem(it, 0), what, k, &a) ||
                    get_size(cJSON_GetArrayItem(it, 1), what, k, &b))
                    return brisk_error(BRISK_EPARSE, "%s: key 'sample_size' must be an integer "
                                       "or [h, w]", what);
                if (a != b)
                    return brisk_error(BRISK_EUNSUPPORTED, "%s: key 'sample_size' = [%zu, %zu]: "
                                       "only square samples are supported", what, a, b);
                c->sample_size = a;
            } else {
                rc = get_size(it, what, k, &c->sample_size);
            }
        } else if (!strcmp(k, "in_channels")) {
            rc = get_size(it, what, k, &c->in_channels);
        } else if (!strcmp(k, "out_channels")) {
            rc = get_size(it, what, k, &c->out_channels);
        } else if (!strcmp(k, "center_input_sample")) {
            if (!cJSON_IsBool(it)) return brisk_error(BRISK_EPARSE, "%s: key '%s' must be true or false", what, k);
            c->center_input_sample = cJSON_IsTrue(it);
        } else if (!strcmp(k, "time_embedding_type")) {
            if (!cJSON_IsString(it) || strcmp(it->valuestring, "positional"))
                return brisk_error(BRISK_EUNSUPPORTED, "%s: key 'time_embedding_type' = %s is "
                                   "not supported (only \"positional\")", what,
                                   cJSON_IsString(it) ? it->valuestring : "(not a string)");
        } else if (!strcmp(k, "time_embedding_dim")) {
            if (!is_null(it)) rc = get_size(it, what, k, &c->time_embedding_dim);
        } else if (!strcmp(k, "freq_shift")) {
            if (!cJSON_IsNumber(it)) return brisk_error(BRISK_EPARSE, "%s: key '%s' must be a number", what, k);
            c->freq_shift = it->valuedouble;
        } else if (!strcmp(k, "flip_sin_to_cos")) {
            if (!cJSON_IsBool(it)) return brisk_error(BRISK_EPARSE, "%s: key '%s' must be true or false", what, k);
            c->flip_sin_to_cos = cJSON_IsTrue(it);
        } else if (!strcmp(k, "down_block_types")) {
            rc = get_blocks(it, what, k, c->down_block_types, &n_down);
            have_down = 1;
        } else if (!strcmp(k, "up_block_types")) {
            rc = get_blocks(it, what, k, c->up_block_types, &n_up);
            have_up = 1;
        } else if (!strcmp(k, "mid_block_type")) {
            if (is_null(it)) {
                c->mid_block = 0;
            } else if (!cJSON_IsString(it) || strcmp(it->valuestring, "UNetMidBlock2D")) {
                return brisk_error(BRISK_EUNSUPPORTED, "%s: key 'mid_block_type' = %s is not "
                                   "supported (UNetMidBlock2D or null)", what,
                                   cJSON_IsString(it) ? it->valuestring : "(not a string)");
            }
        } else if (!strcmp(k, "block_out_channels")) {
            if (!cJSON_IsArray(it)) return brisk_error(BRISK_EPARSE, "%s: key '%s' must be a list", what, k);
            int m = cJSON_GetArraySize(it);
            if (m < 1 || m > BRISK_UNET_MAX_BLOCKS)
                return brisk_error(BRISK_EUNSUPPORTED, "%s: key 'block_out_channels' has %d "
                                   "entries (1..%d supported)", what, m, BRISK_UNET_MAX_BLOCKS);
            for (int i = 0; i < m && !rc; i++) {
                rc = get_size(cJSON_GetArrayItem(it, i), what, k, &c->block_out_channels[i]);
                if (!rc && !c->block_out_channels[i])
                    rc = brisk_error(BRISK_EPARSE, "%s: key 'block_out_channels'[%d] is 0", what, i);
            }
            n_boc = (size_t)m;
            have_boc = 1;
        } else if (!strcmp(k, "layers_per_block")) {
            rc = get_size(it, what, k, &c->layers_per_block);
            if (!rc && !c->layers_per_block)
                rc = brisk_error(BRISK_EUNSUPPORTED, "%s: key 'layers_per_block' = 0 is not supported", what);
        } else if (!strcmp(k, "mid_block_scale_factor")) {
            if (!cJSON_IsNumber(it) || it->valuedouble == 0) return brisk_error(BRISK_EPARSE, "%s: key '%s' must be a non-zero number", what, k);
            c->mid_block_scale_factor = it->valuedouble;
        } else if (!strcmp(k, "downsample_padding")) {
            rc = get_size(it, what, k, &c->downsample_padding);
            if (!rc && c->downsample_padding > 1)
                rc = brisk_error(BRISK_EUNSUPPORTED, "%s: key 'downsample_padding' = %zu is not "
                                 "supported (0 or 1)", what, c->downsample_padding);
        } else if (!strcmp(k, "downsample_type") || !strcmp(k, "upsample_type")) {
            if (is_null(it)) continue;
            if (!cJSON_IsString(it)) return brisk_error(BRISK_EPARSE, "%s: key '%s' must be a string", what, k);
            if (strcmp(it->valuestring, "conv") && strcmp(it->valuestring, "resnet"))
                return brisk_error(BRISK_EUNSUPPORTED, "%s: key '%s' = \"%s\" is not supported", what, k, it->valuestring);
            /* "resnet" samplers only exist in the Attn blocks; checked below */
        } else if (!strcmp(k, "dropout")) {
            if (!cJSON_IsNumber(it)) return brisk_error(BRISK_EPARSE, "%s: key '%s' must be a number", what, k);
            c->dropout = it->valuedouble;
        } else if (!strcmp(k, "act_fn")) {
            if (!cJSON_IsString(it) || (strcmp(it->valuestring, "silu") && strcmp(it->valuestring, "swish")))
                return brisk_error(BRISK_EUNSUPPORTED, "%s: key 'act_fn' = %s is not supported "
                                   "(silu)", what, cJSON_IsString(it) ? it->valuestring : "(not a string)");
        } else if (!strcmp(k, "attention_head_dim")) {
            if (is_null(it)) c->attention_head_dim = 0;
            else rc = get_size(it, what, k, &c->attention_head_dim);
        } else if (!strcmp(k, "norm_num_groups")) {
            if (is_null(it))
                return brisk_error(BRISK_EUNSUPPORTED, "%s: key 'norm_num_groups' = null is not "
                                   "supported", what);
            rc = get_size(it, what, k, &c->norm_num_groups);
            if (!rc && !c->norm_num_groups) rc = brisk_error(BRISK_EPARSE, "%s: key 'norm_num_groups' is 0", what);
        } else if (!strcmp(k, "attn_norm_num_groups")) {
            if (is_null(it)) c->attn_norm_num_groups = 0;
            else rc = get_size(it, what, k, &c->attn_norm_num_groups);
        } else if (!strcmp(k, "norm_eps")) {
            if (!cJSON_IsNumber(it) || it->valuedouble <= 0) return brisk_error(BRISK_EPARSE, "%s: key '%s' must be a positive number", what, k);
            c->norm_eps = it->valuedouble;
        } else if (!strcmp(k, "resnet_time_scale_shift")) {
            if (!cJSON_IsString(it)) return brisk_error(BRISK_EPARSE, "%s: key '%s' must be a string", what, k);
            if (brisk_time_norm_from_name(it->valuestring, &c->resnet_time_scale_shift))
                return brisk_error_prefix(BRISK_EUNSUPPORTED, "%s: key 'resnet_time_scale_shift': ", what);
        } else if (!strcmp(k, "add_attention")) {
            if (!cJSON_IsBool(it)) return brisk_error(BRISK_EPARSE, "%s: key '%s' must be true or false", what, k);
            c->add_attention = cJSON_IsTrue(it);
        } else if (!strcmp(k, "class_embed_type") || !strcmp(k, "num_class_embeds")) {
            if (!is_null(it))
                return brisk_error(BRISK_EUNSUPPORTED, "%s: key '%s' must be null (class "
                                   "conditioning is not supported)", what, k);
        } else if (!strcmp(k, "num_train_timesteps")) {
            /* only used by time_embedding_type "learned", which is rejected */
        } else if (!strcmp(k, "attention_legacy_order")) {
            if (cJSON_IsTrue(it))
                return brisk_error(BRISK_EUNSUPPORTED, "%s: key 'attention_legacy_order' = true "
                                   "is not supported", what);
        } else {
            return brisk_error(BRISK_EUNSUPPORTED, "%s: unsupported UNet2DModel config key '%s'",
                               what, k);
        }
    }
    if (rc) return rc;
    /* downsample_type / upsample_type "resnet" only matters for Attn blocks with a sampler */
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(obj, "downsample_type");
    const cJSON *ut = cJSON_GetObjectItemCaseSensitive(obj, "upsample_type");
    int down_resnet = cJSON_IsString(dt) && !strcmp(dt->valuestring, "resnet");
    int up_resnet = cJSON_IsString(ut) && !strcmp(ut->valuestring, "resnet");

    if (!have_boc) n_boc = 4;
    if (!have_down) n_down = 4;
    if (!have_up) n_up = 4;
    if (n_down != n_boc)
        return brisk_error(BRISK_EPARSE, "%s: key 'down_block_types' has %zu entries but "
                           "'block_out_channels' has %zu", what, n_down, n_boc);
    if (n_up != n_boc)
        return brisk_error(BRISK_EPARSE, "%s: key 'up_block_types' has %zu entries but "
                           "'block_out_channels' has %zu", what, n_up, n_boc);
    c->n_blocks = n_boc;
    for (size_t i = 0; i < n_boc; i++) {
        if (c->down_block_types[i] != BRISK_BLOCK_DOWN && c->down_block_types[i] != BRISK_BLOCK_ATTN_DOWN)
            return brisk_error(BRISK_EUNSUPPORTED, "%s: key 'down_block_types'[%zu] = %s is "
                               "not a down block", what, i, block_names[c->down_block_types[i]]);
        if (c->up_block_types[i] != BRISK_BLOCK_UP && c->up_block_types[i] != BRISK_BLOCK_ATTN_UP)
            return brisk_error(BRISK_EUNSUPPORTED, "%s: key 'up_block_types'[%zu] = %s is not "
                               "an up block", what, i, block_names[c->up_block_types[i]]);
        int last = i + 1 == n_boc;
        if (!last && down_resnet && c->down_block_types[i] == BRISK_BLOCK_ATTN_DOWN)
            return brisk_error(BRISK_EUNSUPPORTED, "%s: key 'downsample_type' = \"resnet\" (used "
                               "by AttnDownBlock2D %zu) is not supported", what, i);
        if (!last && up_resnet && c->up_block_types[i] == BRISK_BLOCK_ATTN_UP)
            return brisk_error(BRISK_EUNSUPPORTED, "%s: key 'upsample_type' = \"resnet\" (used "
                               "by AttnUpBlock2D %zu) is not supported", what, i);
    }
    if (!c->in_channels || !c->out_channels)
        return brisk_error(BRISK_EPARSE, "%s: in_channels and out_channels must be positive", what);
    return BRISK_OK;
}

int brisk_unet_config_read(const char *path, brisk_unet_config *c) {
    cJSON *doc;
    int rc = brisk_json_read_file(path, &doc);
    if (rc) return rc;
    rc = brisk_unet_config_parse(doc, path, c);
    cJSON_Delete(doc);
    return rc;
}

int brisk_unet_config_write(const char *path, const brisk_unet_config *c) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return BRISK_ENOMEM;
    cJSON_AddStringToObject(o, "_class_name", "UNet2DModel");
    cJSON_AddStringToObject(o, "_brisk_version", BRISK_VERSION_STRING);
    if (c->sample_size) cJSON_AddNumberToObject(o, "sample_size", (double)c->sample_size);
    else cJSON_AddNullToObject(o, "sample_size");
    cJSON_AddNumberToObject(o, "in_channels", (double)c->in_channels);
    cJSON_AddNumberToObject(o, "out_channels", (double)c->out_channels);
    cJSON_AddBoolToObject(o, "center_input_sample", c->center_input_sample);
    cJSON_AddStringToObject(o, "time_embedding_type", "positional");
    if (c->time_embedding_dim) cJSON_AddNumberToObject(o, "time_embedding_dim", (double)c->time_embedding_dim);
    cJSON_AddNumberToObject(o, "freq_shift", c->freq_shift);
    cJSON_AddBoolToObject(o, "flip_sin_to_cos", c->flip_sin_to_cos);
    cJSON *down = cJSON_AddArrayToObject(o, "down_block_types");
    cJSON *up = cJSON_AddArrayToObject(o, "up_block_types");
    cJSON *boc = cJSON_AddArrayToObject(o, "block_out_channels");
    for (size_t i = 0; i < c->n_blocks; i++) {
        cJSON_AddItemToArray(down, cJSON_CreateString(block_names[c->down_block_types[i]]));
        cJSON_AddItemToArray(up, cJSON_CreateString(block_names[c->up_block_types[i]]));
        cJSON_AddItemToArray(boc, cJSON_CreateNumber((double)c->block_out_channels[i]));
    }
    if (c->mid_block) cJSON_AddStringToObject(o, "mid_block_type", "UNetMidBlock2D");
    else cJSON_AddNullToObject(o, "mid_block_type");
    cJSON_AddNumberToObject(o, "layers_per_block", (double)c->layers_per_block);
    cJSON_AddNumberToObject(o, "mid_block_scale_factor", c->mid_block_scale_factor);
    cJSON_AddNumberToObject(o, "downsample_padding", (double)c->downsample_padding);
    cJSON_AddStringToObject(o, "downsample_type", "conv");
    cJSON_AddStringToObject(o, "upsample_type", "conv");
    cJSON_AddNumberToObject(o, "dropout", c->dropout);
    cJSON_AddStringToObject(o, "act_fn", "silu");
    if (c->attention_head_dim) cJSON_AddNumberToObject(o, "attention_head_dim", (double)c->attention_head_dim);
    else cJSON_AddNullToObject(o, "attention_head_dim");
    cJSON_AddNumberToObject(o, "norm_num_groups", (double)c->norm_num_groups);
    if (c->attn_norm_num_groups) cJSON_AddNumberToObject(o, "attn_norm_num_groups", (double)c->attn_norm_num_groups);
    else cJSON_AddNullToObject(o, "attn_norm_num_groups");
    cJSON_AddNumberToObject(o, "norm_eps", c->norm_eps);
    cJSON_AddStringToObject(o, "resnet_time_scale_shift", time_norm_names[c->resnet_time_scale_shift]);
    cJSON_AddBoolToObject(o, "add_attention", c->add_attention);
    cJSON_AddNullToObject(o, "class_embed_type");
    cJSON_AddNullToObject(o, "num_class_embeds");
    int rc = brisk_json_write_file(path, o);
    cJSON_Delete(o);
    return rc;
}
