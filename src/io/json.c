#include "brisk/json.h"
#include "brisk/core.h"
#include "brisk/io.h"

#include <math.h>
#include <string.h>

/* Python's json module writes Infinity, -Infinity and NaN, which JSON lacks (and cJSON
 * rejects). Returns a copy of text with those tokens, outside strings, rewritten as 1e999 /
 * -1e999 (which parse as +-inf) and null, or NULL when there are none. Line numbers are
 * preserved. */
static char *python_literals(const char *text) {
    size_t n = strlen(text);
    int found = 0, in_str = 0;
    for (const char *p = text; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1]) p++;
            else if (*p == '"') in_str = 0;
        } else if (*p == '"') {
            in_str = 1;
        } else if (!strncmp(p, "Infinity", 8) || !strncmp(p, "NaN", 3)) {
            found = 1;
            break;
        }
    }
    if (!found) return NULL;
    char *o = brisk_malloc(2 * n + 1), *q = o;
    if (!o) return NULL;
    in_str = 0;
    for (const char *p = text; *p;) {
        if (in_str) {
            if (*p == '\\' && p[1]) *q++ = *p++;
            else if (*p == '"') in_str = 0;
            *q++ = *p++;
        } else if (*p == '"') {
            in_str = 1;
            *q++ = *p++;
        } else if (!strncmp(p, "Infinity", 8)) {
            memcpy(q, "1e999", 5);
            q += 5;
            p += 8;
        } else if (!strncmp(p, "NaN", 3)) {
            memcpy(q, "null", 4);
            q += 4;
            p += 3;
        } else {
            *q++ = *p++;
        }
    }
    *q = '\0';
    return o;
}

int brisk_json_parse(const char *text, const char *what, cJSON **out) {
    const char *end = NULL;
    *out = cJSON_ParseWithOpts(text, &end, 0);
    char *fixed = *out ? NULL : python_literals(text);
    if (fixed) {
        text = fixed;
        end = NULL;
        *out = cJSON_ParseWithOpts(text, &end, 0);
    }
    if (!*out) {
        int line = 1, col = 1;
        const char *stop = end ? end : cJSON_GetErrorPtr();
        if (stop) {
            for (const char *p = text; p < stop && *p; p++) {
                if (*p == '\n') { line++; col = 1; } else col++;
            }
        }
        brisk_free(fixed);
        return brisk_error(BRISK_EPARSE, "%s: line %d, column %d: invalid JSON", what, line, col);
    }
    brisk_free(fixed);
    return BRISK_OK;
}

int brisk_json_read_file(const char *path, cJSON **out) {
    char *text;
    *out = NULL;
    int rc = brisk_read_file(path, &text, NULL);
    if (rc) return rc;
    rc = brisk_json_parse(text, path, out);
    brisk_free(text);
    return rc;
}

static const cJSON *item(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return (v && !cJSON_IsNull(v)) ? v : NULL;
}

int brisk_json_get_number(const cJSON *obj, const char *key, double def, double *out,
                          const char *what) {
    const cJSON *v = item(obj, key);
    if (!v) { *out = def; return BRISK_OK; }
    if (!cJSON_IsNumber(v))
        return brisk_error(BRISK_EPARSE, "%s: key '%s' must be a number", what, key);
    *out = v->valuedouble;
    return BRISK_OK;
}

int brisk_json_get_int(const cJSON *obj, const char *key, long def, long *out, const char *what) {
    const cJSON *v = item(obj, key);
    if (!v) { *out = def; return BRISK_OK; }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
        return brisk_error(BRISK_EPARSE, "%s: key '%s' must be an integer", what, key);
    *out = (long)v->valuedouble;
    return BRISK_OK;
}

int brisk_json_get_bool(const cJSON *obj, const char *key, int def, int *out, const char *what) {
    const cJSON *v = item(obj, key);
    if (!v) { *out = def; return BRISK_OK; }
    if (!cJSON_IsBool(v))
        return brisk_error(BRISK_EPARSE, "%s: key '%s' must be true or false", what, key);
    *out = cJSON_IsTrue(v);
    return BRISK_OK;
}

int brisk_json_get_string(const cJSON *obj, const char *key, const char *def, const char **out,
                          const char *what) {
    const cJSON *v = item(obj, key);
    if (!v) { *out = def; return BRISK_OK; }
    if (!cJSON_IsString(v))
        return brisk_error(BRISK_EPARSE, "%s: key '%s' must be a string", what, key);
    *out = v->valuestring;
    return BRISK_OK;
}

int brisk_json_get_doubles(const cJSON *obj, const char *key, double **out, size_t *n,
                           const char *what) {
    *out = NULL;
    *n = 0;
    const cJSON *v = item(obj, key);
    if (!v) return brisk_error(BRISK_ENOTFOUND, "%s: key '%s' is missing", what, key);
    if (!cJSON_IsArray(v))
        return brisk_error(BRISK_EPARSE, "%s: key '%s' must be an array of numbers", what, key);
    size_t len = (size_t)cJSON_GetArraySize(v);
    double *d = brisk_malloc((len ? len : 1) * sizeof *d);
    if (!d) return BRISK_ENOMEM;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (!cJSON_IsNumber(e)) {
            brisk_free(d);
            return brisk_error(BRISK_EPARSE, "%s: element %zu of '%s' is not a number", what, i, key);
        }
        d[i++] = e->valuedouble;
    }
    *out = d;
    *n = len;
    return BRISK_OK;
}

int brisk_json_write_file(const char *path, const cJSON *doc) {
    char *s = cJSON_Print(doc);
    if (!s) return brisk_error(BRISK_ENOMEM, "%s: cannot serialise JSON", path);
    brisk_atomic_file f;
    int rc = brisk_atomic_open(&f, path);
    if (!rc) {
        fputs(s, f.fp);
        fputc('\n', f.fp);
        rc = brisk_atomic_commit(&f);
    }
    cJSON_free(s);
    return rc;
}
