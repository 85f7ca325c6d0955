/* The text form of a schedule spec, written like the Python call that builds it:
 *     SequentialLR(milestones=[5], schedulers=[LinearLR(start_factor=0.01), StepLR(step_size=3)])
 * parsed into {"class": ..., "kwargs": {...}, "schedulers": [...]}. */
#include "lr_impl.h"

#include "brisk/core.h"
#include "brisk/json.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const char *s;
    size_t i;
} parser;

static void skip_ws(parser *p) {
    while (p->s[p->i] && isspace((unsigned char)p->s[p->i])) p->i++;
}

static int perr(parser *p, const char *what) {
    return brisk_error(BRISK_EPARSE, "schedule spec '%s': column %zu: %s", p->s, p->i + 1, what);
}

static int is_ident_start(int c) { return isalpha(c) || c == '_'; }
static int is_ident(int c) { return isalnum(c) || c == '_'; }

static size_t ident_len(parser *p) {
    size_t j = p->i;
    if (!is_ident_start((unsigned char)p->s[j])) return 0;
    while (is_ident((unsigned char)p->s[j])) j++;
    return j - p->i;
}

static int parse_spec(parser *p, cJSON **out, int depth);

static int parse_value(parser *p, cJSON **out, int depth) {
    skip_ws(p);
    char c = p->s[p->i];
    if (depth > 16) return perr(p, "nested too deeply");
    if (c == '[' || c == '(') {
        char close = c == '[' ? ']' : ')';
        p->i++;
        cJSON *arr = cJSON_CreateArray();
        if (!arr) return BRISK_ENOMEM;
        skip_ws(p);
        if (p->s[p->i] == close) {
            p->i++;
            *out = arr;
            return 0;
        }
        for (;;) {
            cJSON *v;
            int rc = parse_value(p, &v, depth + 1);
            if (rc) {
                cJSON_Delete(arr);
                return rc;
            }
            cJSON_AddItemToArray(arr, v);
            skip_ws(p);
            if (p->s[p->i] == ',') {
                p->i++;
                skip_ws(p);
                if (p->s[p->i] == close) {
                    p->i++;
                    break;
                }
                continue;
            }
            if (p->s[p->i] == close) {
                p->i++;
                break;
            }
            cJSON_Delete(arr);
            return perr(p, close == ']' ? "expected ',' or ']'" : "expected ',' or ')'");
        }
        *out = arr;
        return 0;
    }
    if (c == '\'' || c == '"') {
        size_t j = p->i + 1;
        while (p->s[j] && p->s[j] != c) j++;
        if (!p->s[j]) return perr(p, "unterminated string");
        size_t n = j - p->i - 1;
        char *buf = brisk_malloc(n + 1);
        if (!buf) return BRISK_ENOMEM;
        memcpy(buf, p->s + p->i + 1, n);
        buf[n] = '\0';
        *out = cJSON_CreateString(buf);
        brisk_free(buf);
        p->i = j + 1;
        return *out ? 0 : BRISK_ENOMEM;
    }
    if (c == '-' || c == '+' || c == '.' || isdigit((unsigned char)c)) {
        char *end;
        errno = 0;
        double v = strtod(p->s + p->i, &end);
        if (end == p->s + p->i || errno == ERANGE || !isfinite(v)) return perr(p, "bad number");
        p->i = (size_t)(end - p->s);
        *out = cJSON_CreateNumber(v);
        return *out ? 0 : BRISK_ENOMEM;
    }
    size_t n = ident_len(p);
    if (!n) return perr(p, "expected a value");
    const char *w = p->s + p->i;
    size_t after = p->i + n;
    while (p->s[after] && isspace((unsigned char)p->s[after])) after++;
    if (p->s[after] == '(') return parse_spec(p, out, depth + 1);
#define WORD(lit) (n == strlen(lit) && !strncmp(w, lit, n))
    if (WORD("True") || WORD("true")) *out = cJSON_CreateTrue();
    else if (WORD("False") || WORD("false")) *out = cJSON_CreateFalse();
    else if (WORD("None") || WORD("null")) *out = cJSON_CreateNull();
    else {
        char buf[256];
        if (n >= sizeof buf) return perr(p, "word too long");
        memcpy(buf, w, n);
        buf[n] = '\0';
        *out = cJSON_CreateString(buf);
    }
#undef WORD
    p->i += n;
    return *out ? 0 : BRISK_ENOMEM;
}

static int parse_spec(parser *p, cJSON **out, int depth) {
    skip_ws(p);
    size_t n = ident_len(p);
    if (!n) return perr(p, "expected a schedule name");
    char name[128];
    if (n >= sizeof name) return perr(p, "name too long");
    memcpy(name, p->s + p->i, n);
    name[n] = '\0';
    p->i += n;
    cJSON *spec = cJSON_CreateObject();
    cJSON *kw = cJSON_CreateObject();
    if (!spec || !kw) {
        cJSON_Delete(spec);
        cJSON_Delete(kw);
        return BRISK_ENOMEM;
    }
    cJSON_AddStringToObject(spec, "class", name);
    skip_ws(p);
    int rc = 0;
    if (p->s[p->i] == '(') {
        p->i++;
        skip_ws(p);
        while (p->s[p->i] != ')') {
            size_t kn = ident_len(p);
            if (!kn) {
                rc = perr(p, "expected keyword=value");
                break;
            }
            char key[128];
            if (kn >= sizeof key) {
                rc = perr(p, "keyword too long");
                break;
            }
            memcpy(key, p->s + p->i, kn);
            key[kn] = '\0';
            p->i += kn;
            skip_ws(p);
            if (p->s[p->i] != '=') {
                rc = perr(p, "expected '=' (arguments are keyword=value)");
                break;
            }
            p->i++;
            cJSON *v;
            rc = parse_value(p, &v, depth + 1);
            if (rc) break;
            if (cJSON_GetObjectItemCaseSensitive(kw, key) ||
                (!strcmp(key, "schedulers") && cJSON_GetObjectItemCaseSensitive(spec, "schedulers"))) {
                cJSON_Delete(v);
                rc = brisk_error(BRISK_EPARSE, "schedule spec '%s': keyword '%s' given twice", p->s, key);
                break;
            }
            if (!strcmp(key, "schedulers")) {
                if (cJSON_IsObject(v)) { /* a single spec: make it a list */
                    cJSON *arr = cJSON_CreateArray();
                    cJSON_AddItemToArray(arr, v);
                    v = arr;
                }
                cJSON_AddItemToObject(spec, "schedulers", v);
            } else {
                cJSON_AddItemToObject(kw, key, v);
            }
            skip_ws(p);
            if (p->s[p->i] == ',') {
                p->i++;
                skip_ws(p);
                continue;
            }
            if (p->s[p->i] != ')') {
                rc = perr(p, "expected ',' or ')'");
                break;
            }
        }
        if (!rc) p->i++; /* ')' */
    }
    if (rc) {
        cJSON_Delete(spec);
        cJSON_Delete(kw);
        return rc;
    }
    cJSON_AddItemToObject(spec, "kwargs", kw);
    *out = spec;
    return 0;
}

int brisk_lr_spec_parse(const char *text, cJSON **out) {
    *out = NULL;
    if (!text) return brisk_error(BRISK_EINVAL, "schedule spec is NULL");
    parser p = {text, 0};
    skip_ws(&p);
    if (text[p.i] == '{') { /* JSON spec */
        cJSON *doc;
        int rc = brisk_json_parse(text, "schedule spec", &doc);
        if (rc) return rc;
        *out = doc;
        return 0;
    }
    cJSON *spec;
    int rc = parse_spec(&p, &spec, 0);
    if (rc) return rc;
    skip_ws(&p);
    if (text[p.i]) {
        cJSON_Delete(spec);
        return perr(&p, "unexpected text after the spec");
    }
    *out = spec;
    return 0;
}
