/* safetensors.c: reader and atomic writer for the safetensors format
 * (https://github.com/huggingface/safetensors, "Format" section): u64 little-endian header
 * size N, N bytes of UTF-8 JSON mapping tensor names to {dtype, shape, data_offsets} plus an
 * optional "__metadata__" string map, then the byte buffer; offsets are relative to the
 * start of the buffer. The writer pads the header with spaces to a multiple of 8 bytes. */
#include "nn_impl.h"

#include "brisk/io.h"
#include "brisk/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST_MAX_HEADER (100u * 1024u * 1024u)

static const char *dtype_names[BRISK_ST_DTYPE_COUNT] = {"F32", "F16", "BF16", "F64",
                                                        "I64", "I32", "U8"};
static const size_t dtype_sizes[BRISK_ST_DTYPE_COUNT] = {4, 2, 2, 8, 8, 4, 1};

const char *brisk_st_dtype_name(brisk_st_dtype t) {
    return (unsigned)t < BRISK_ST_DTYPE_COUNT ? dtype_names[t] : "unknown";
}

int brisk_st_dtype_from_name(const char *name, brisk_st_dtype *out) {
    for (int i = 0; i < BRISK_ST_DTYPE_COUNT; i++)
        if (!strcmp(name, dtype_names[i])) {
            *out = (brisk_st_dtype)i;
            return BRISK_OK;
        }
    return brisk_error(BRISK_EUNSUPPORTED, "safetensors dtype '%s' is not supported", name);
}

size_t brisk_st_dtype_size(brisk_st_dtype t) {
    return (unsigned)t < BRISK_ST_DTYPE_COUNT ? dtype_sizes[t] : 0;
}

struct brisk_safetensors {
    char *path;
    unsigned char *buf; /* the whole file */
    size_t size;
    brisk_st_entry *e;
    char **names;
    size_t n;
    char **meta; /* key, value pairs */
    size_t n_meta;
};

void brisk_safetensors_close(brisk_safetensors *st) {
    if (!st) return;
    for (size_t i = 0; i < st->n; i++) brisk_free(st->names[i]);
    for (size_t i = 0; i < 2 * st->n_meta; i++) brisk_free(st->meta[i]);
    brisk_free(st->names);
    brisk_free(st->meta);
    brisk_free(st->e);
    brisk_free(st->buf);
    brisk_free(st->path);
    brisk_free(st);
}

static int parse_header(brisk_safetensors *st, const char *hdr, size_t hlen,
                        const unsigned char *data, size_t dlen) {
    const char *path = st->path;
    char *txt = brisk_malloc(hlen + 1);
    if (!txt) return BRISK_ENOMEM;
    memcpy(txt, hdr, hlen);
    txt[hlen] = '\0';
    cJSON *doc = cJSON_ParseWithLength(txt, hlen);
    brisk_free(txt);
    if (!doc || !cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return brisk_error(BRISK_EPARSE, "%s: safetensors header is not a JSON object", path);
    }
    size_t count = 0;
    for (cJSON *it = doc->child; it; it = it->next) count++;
    st->e = brisk_calloc(count ? count : 1, sizeof *st->e);
    st->names = brisk_calloc(count ? count : 1, sizeof *st->names);
    st->meta = brisk_calloc(2 * (count ? count : 1), sizeof *st->meta);
    int rc = BRISK_OK;
    if (!st->e || !st->names || !st->meta) rc = BRISK_ENOMEM;
    for (cJSON *it = doc->child; it && !rc; it = it->next) {
        const char *name = it->string;
        if (!strcmp(name, "__metadata__")) {
            if (!cJSON_IsObject(it)) {
                rc = brisk_error(BRISK_EPARSE, "%s: __metadata__ is not an object", path);
                break;
            }
            size_t nm = 0;
            for (cJSON *m = it->child; m; m = m->next) nm++;
            brisk_free(st->meta);
            st->meta = brisk_calloc(2 * (nm ? nm : 1), sizeof *st->meta);
            if (!st->meta) {
                rc = BRISK_ENOMEM;
                break;
            }
            for (cJSON *m = it->child; m; m = m->next) {
                if (!cJSON_IsString(m)) {
                    rc = brisk_error(BRISK_EPARSE, "%s: __metadata__ value '%s' is not a string",
                                     path, m->string);
                    break;
                }
                st->meta[2 * st->n_meta] = brisk_strdup(m->string);
                st->meta[2 * st->n_meta + 1] = brisk_strdup(m->valuestring);
                st->n_meta++;
                if (!st->meta[2 * st->n_meta - 2] || !st->meta[2 * st->n_meta - 1]) {
                    rc = BRISK_ENOMEM;
                    break;
                }
            }
            continue;
        }
        brisk_st_entry *e = &st->e[st->n];
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
        const cJSON *of = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
        if (!cJSON_IsObject(it) || !cJSON_IsString(dt) || !cJSON_IsArray(sh) ||
            !cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2) {
            rc = brisk_error(BRISK_EPARSE,
                             "%s: tensor '%s': header entry needs dtype, shape and "
                             "data_offsets [begin, end]",
                             path, name);
            break;
        }
        if (brisk_st_dtype_from_name(dt->valuestring, &e->dtype)) {
            rc = brisk_error(BRISK_EUNSUPPORTED, "%s: tensor '%s': dtype '%s' is not supported",
                             path, name, dt->valuestring);
            break;
        }
        int nd = cJSON_GetArraySize(sh);
        if (nd > BRISK_ST_MAX_DIMS) {
            rc = brisk_error(BRISK_EUNSUPPORTED, "%s: tensor '%s' has %d dimensions (max %d)",
                             path, name, nd, BRISK_ST_MAX_DIMS);
            break;
        }
        e->ndim = nd;
        e->numel = 1;
        for (int d = 0; d < nd; d++) {
            const cJSON *v = cJSON_GetArrayItem(sh, d);
            if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e15) {
                rc = brisk_error(BRISK_EPARSE, "%s: tensor '%s': bad shape entry %d", path, name,
                                 d);
                break;
            }
            e->shape[d] = (size_t)v->valuedouble;
            e->numel *= e->shape[d];
        }
        if (rc) break;
        const cJSON *b0 = cJSON_GetArrayItem(of, 0), *b1 = cJSON_GetArrayItem(of, 1);
        if (!cJSON_IsNumber(b0) || !cJSON_IsNumber(b1) || b0->valuedouble < 0 ||
            b1->valuedouble < b0->valuedouble) {
            rc = brisk_error(BRISK_EPARSE, "%s: tensor '%s': bad data_offsets", path, name);
            break;
        }
        size_t begin = (size_t)b0->valuedouble, end = (size_t)b1->valuedouble;
        if (end > dlen) {
            rc = brisk_error(BRISK_EPARSE,
                             "%s: tensor '%s': data_offsets [%zu, %zu] run past the end of the "
                             "data (%zu bytes; file truncated?)",
                             path, name, begin, end, dlen);
            break;
        }
        if (end - begin != e->numel * brisk_st_dtype_size(e->dtype)) {
            rc = brisk_error(BRISK_EPARSE,
                             "%s: tensor '%s': %zu bytes of data for %zu elements of %s", path,
                             name, end - begin, e->numel, dtype_names[e->dtype]);
            break;
        }
        st->names[st->n] = brisk_strdup(name);
        if (!st->names[st->n]) {
            rc = BRISK_ENOMEM;
            break;
        }
        e->name = st->names[st->n];
        e->data = data + begin;
        st->n++;
    }
    cJSON_Delete(doc);
    return rc;
}

int brisk_safetensors_open(const char *path, brisk_safetensors **out) {
    *out = NULL;
    brisk_safetensors *st = brisk_calloc(1, sizeof *st);
    if (!st) return BRISK_ENOMEM;
    st->path = brisk_strdup(path);
    if (!st->path) {
        brisk_free(st);
        return BRISK_ENOMEM;
    }
    char *buf;
    size_t len;
    int rc = brisk_read_file(path, &buf, &len);
    if (rc) {
        brisk_safetensors_close(st);
        return rc;
    }
    st->buf = (unsigned char *)buf;
    st->size = len;
    if (len < 8) {
        brisk_safetensors_close(st);
        return brisk_error(BRISK_EPARSE, "%s: truncated safetensors file (%zu bytes, no header)",
                           path, len);
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | st->buf[i];
    if (hlen > ST_MAX_HEADER) {
        brisk_safetensors_close(st);
        return brisk_error(BRISK_EPARSE,
                           "%s: safetensors header size %llu is over the 100 MB limit", path,
                           (unsigned long long)hlen);
    }
    if (hlen > len - 8) {
        brisk_safetensors_close(st);
        return brisk_error(BRISK_EPARSE,
                           "%s: safetensors header size %llu runs past the end of the file "
                           "(%zu bytes; truncated?)",
                           path, (unsigned long long)hlen, len);
    }
    rc = parse_header(st, (const char *)st->buf + 8, (size_t)hlen, st->buf + 8 + hlen,
                      len - 8 - (size_t)hlen);
    if (rc) {
        brisk_safetensors_close(st);
        return rc;
    }
    *out = st;
    return BRISK_OK;
}

size_t brisk_safetensors_count(const brisk_safetensors *st) { return st->n; }

const brisk_st_entry *brisk_safetensors_entry(const brisk_safetensors *st, size_t i) {
    return i < st->n ? &st->e[i] : NULL;
}

const brisk_st_entry *brisk_safetensors_find(const brisk_safetensors *st, const char *name) {
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->e[i].name, name)) return &st->e[i];
    return NULL;
}

const char *brisk_safetensors_metadata(const brisk_safetensors *st, const char *key) {
    for (size_t i = 0; i < st->n_meta; i++)
        if (!strcmp(st->meta[2 * i], key)) return st->meta[2 * i + 1];
    return NULL;
}

const char *brisk_safetensors_path(const brisk_safetensors *st) { return st->path; }

static void shape_str(char *buf, size_t n, int ndim, const size_t *shape) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, n - o, "[");
    for (int d = 0; d < ndim && o < n; d++)
        o += (size_t)snprintf(buf + o, n - o, d ? ", %zu" : "%zu", shape[d]);
    if (o < n) snprintf(buf + o, n - o, "]");
}

int brisk_safetensors_read_f32(const brisk_safetensors *st, const char *name, int ndim,
                               const size_t *shape, float *dst) {
    const brisk_st_entry *e = brisk_safetensors_find(st, name);
    if (!e)
        return brisk_error(BRISK_ENOTFOUND, "%s: missing tensor '%s'", st->path, name);
    int same = e->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = e->shape[d] == shape[d];
    if (!same) {
        char a[128], b[128];
        shape_str(a, sizeof a, e->ndim, e->shape);
        shape_str(b, sizeof b, ndim, shape);
        return brisk_error(BRISK_ESHAPE, "%s: tensor '%s' has shape %s, expected %s", st->path,
                           name, a, b);
    }
    const unsigned char *p = e->data;
    switch (e->dtype) {
    case BRISK_ST_F32:
        memcpy(dst, p, e->numel * 4);
        break;
    case BRISK_ST_F16:
        for (size_t i = 0; i < e->numel; i++)
            dst[i] = nn_f16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
        break;
    case BRISK_ST_BF16:
        for (size_t i = 0; i < e->numel; i++)
            dst[i] = nn_bf16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
        break;
    case BRISK_ST_F64:
        for (size_t i = 0; i < e->numel; i++) {
            double v;
            memcpy(&v, p + 8 * i, 8);
            dst[i] = (float)v;
        }
        break;
    default:
        return brisk_error(BRISK_EUNSUPPORTED,
                           "%s: tensor '%s' has dtype %s; a float tensor (F32, F16, BF16, F64) "
                           "is needed",
                           st->path, name, dtype_names[e->dtype]);
    }
    return BRISK_OK;
}

/* JSON string with escapes for '"' and '\\' and control characters. */
static void put_json_str(FILE *fp, const char *s) {
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(fp, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(fp, "\\u%04x", ch);
        else
            fputc(ch, fp);
    }
    fputc('"', fp);
}

int brisk_safetensors_write(const char *path, const brisk_st_entry *entries, size_t n,
                            const brisk_kv *meta, size_t n_meta) {
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(entries[i].name, entries[j].name))
                return brisk_error(BRISK_EINVAL, "%s: duplicate tensor name '%s'", path,
                                   entries[i].name);
    /* header into a memory stream */
    char *hdr = NULL;
    size_t hlen = 0;
    FILE *mf = open_memstream(&hdr, &hlen);
    if (!mf) return brisk_error(BRISK_ENOMEM, "%s: cannot build the header", path);
    fputs("{\"__metadata__\":{\"format\":\"pt\"", mf);
    for (size_t i = 0; i < n_meta; i++) {
        if (!strcmp(meta[i].key, "format")) continue;
        fputc(',', mf);
        put_json_str(mf, meta[i].key);
        fputc(':', mf);
        put_json_str(mf, meta[i].value);
    }
    fputc('}', mf);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const brisk_st_entry *e = &entries[i];
        size_t numel = 1;
        for (int d = 0; d < e->ndim; d++) numel *= e->shape[d];
        size_t nb = numel * brisk_st_dtype_size(e->dtype);
        fputc(',', mf);
        put_json_str(mf, e->name);
        fprintf(mf, ":{\"dtype\":\"%s\",\"shape\":[", brisk_st_dtype_name(e->dtype));
        for (int d = 0; d < e->ndim; d++) fprintf(mf, d ? ",%zu" : "%zu", e->shape[d]);
        fprintf(mf, "],\"data_offsets\":[%zu,%zu]}", off, off + nb);
        off += nb;
    }
    fputc('}', mf);
    fclose(mf);
    if (!hdr) return brisk_error(BRISK_ENOMEM, "%s: cannot build the header", path);
    size_t padded = (hlen + 7) / 8 * 8;

    brisk_atomic_file f;
    int rc = brisk_atomic_open(&f, path);
    if (rc) {
        free(hdr);
        return rc;
    }
    unsigned char lenb[8];
    for (int i = 0; i < 8; i++) lenb[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    int ok = fwrite(lenb, 1, 8, f.fp) == 8 && fwrite(hdr, 1, hlen, f.fp) == hlen;
    for (size_t i = hlen; ok && i < padded; i++) ok = fputc(' ', f.fp) != EOF;
    free(hdr);
    for (size_t i = 0; ok && i < n; i++) {
        const brisk_st_entry *e = &entries[i];
        size_t numel = 1;
        for (int d = 0; d < e->ndim; d++) numel *= e->shape[d];
        size_t nb = numel * brisk_st_dtype_size(e->dtype);
        ok = fwrite(e->data, 1, nb, f.fp) == nb;
    }
    if (!ok) {
        brisk_atomic_abort(&f);
        return brisk_error(BRISK_EIO, "%s: write failed", path);
    }
    return brisk_atomic_commit(&f);
}
