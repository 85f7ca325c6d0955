/* CSV score matrices: tokenising (RFC 4180 quoting), header / index-column / layout
 * autodetection, and model lookup. */
#include "stats_impl.h"

#include "brisk/io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = brisk_realloc(*p, c * elem);
    if (!q) return BRISK_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

static int add_row(csv_table *t, size_t start, int line) {
    if (t->n_rows + 1 > t->cap_rows) {
        size_t c = t->cap_rows ? t->cap_rows * 2 : 64;
        size_t *rs = brisk_realloc(t->row_start, c * sizeof *rs);
        if (!rs) return BRISK_ENOMEM;
        t->row_start = rs;
        size_t *rl = brisk_realloc(t->row_len, c * sizeof *rl);
        if (!rl) return BRISK_ENOMEM;
        t->row_len = rl;
        int *li = brisk_realloc(t->row_line, c * sizeof *li);
        if (!li) return BRISK_ENOMEM;
        t->row_line = li;
        t->cap_rows = c;
    }
    t->row_start[t->n_rows] = start;
    t->row_len[t->n_rows] = t->n_fields - start;
    t->row_line[t->n_rows] = line;
    t->n_rows++;
    return 0;
}

void csv_table_free(csv_table *t) {
    brisk_free(t->buf);
    brisk_free(t->field);
    brisk_free(t->row_start);
    brisk_free(t->row_len);
    brisk_free(t->row_line);
    memset(t, 0, sizeof *t);
}

int csv_tokenize(const char *path, csv_table *t) {
    memset(t, 0, sizeof *t);
    size_t len;
    int rc = brisk_read_file(path, &t->buf, &len);
    if (rc) return rc;
    char *s = t->buf, *end = t->buf + len;
    if (len >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
        (unsigned char)s[2] == 0xBF)
        s += 3;
    int line = 1;
    while (s < end) {
        /* one record */
        int rec_line = line;
        size_t start = t->n_fields;
        if (*s == '\n' || (*s == '\r' && s + 1 < end && s[1] == '\n')) { /* blank line */
            s += *s == '\r' ? 2 : 1;
            line++;
            continue;
        }
        for (;;) {
            char *w = s, *f = s;
            if (*s == '"') {
                s++;
                for (;;) {
                    if (s >= end) {
                        csv_table_free(t);
                        return brisk_error(BRISK_EPARSE, "%s:%d: unterminated quoted field",
                                           path, rec_line);
                    }
                    if (*s == '"') {
                        if (s + 1 < end && s[1] == '"') {
                            *w++ = '"';
                            s += 2;
                            continue;
                        }
                        s++;
                        break;
                    }
                    if (*s == '\n') line++;
                    *w++ = *s++;
                }
                /* anything between the closing quote and the delimiter is kept */
                while (s < end && *s != ',' && *s != '\n' && *s != '\r') *w++ = *s++;
            } else {
                while (s < end && *s != ',' && *s != '\n' && *s != '\r') s++;
                w = s;
            }
            if (grow((void **)&t->field, &t->cap_fields, t->n_fields + 1, sizeof(char *))) {
                csv_table_free(t);
                return BRISK_ENOMEM;
            }
            t->field[t->n_fields++] = f;
            char delim = s < end ? *s : '\n';
            if (delim == ',') {
                *w = '\0';
                s++;
                continue;
            }
            /* end of record: \n, \r\n, \r or end of buffer (buffer is NUL-terminated) */
            if (s < end && *s == '\r') s++;
            if (s < end && *s == '\n') s++;
            *w = '\0';
            line++;
            break;
        }
        if (add_row(t, start, rec_line)) {
            csv_table_free(t);
            return BRISK_ENOMEM;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ layout names */

static const char *layout_names[BRISK_LAYOUT_COUNT] = {"auto", "models-by-items",
                                                       "items-by-models"};

const char *brisk_layout_name(brisk_layout l) {
    return (unsigned)l < BRISK_LAYOUT_COUNT ? layout_names[l] : "?";
}

int brisk_layout_from_name(const char *s, brisk_layout *out) {
    for (int i = 0; i < BRISK_LAYOUT_COUNT; i++)
        if (!strcmp(s, layout_names[i])) {
            *out = (brisk_layout)i;
            return 0;
        }
    return brisk_error(BRISK_EINVAL,
                       "unknown layout '%s' (expected auto, models-by-items or items-by-models)", s);
}

void brisk_csv_options_default(brisk_csv_options *o) {
    o->layout = BRISK_LAYOUT_AUTO;
    o->header = -1;
    o->index_column = -1;
}

void brisk_matrix_free(brisk_matrix *m) {
    if (!m) return;
    if (m->model_names)
        for (size_t i = 0; i < m->n_models; i++) brisk_free(m->model_names[i]);
    if (m->item_names)
        for (size_t i = 0; i < m->n_items; i++) brisk_free(m->item_names[i]);
    brisk_free(m->model_names);
    brisk_free(m->item_names);
    brisk_free(m->x);
    memset(m, 0, sizeof *m);
}

static char **index_names(size_t n) {
    char **v = brisk_calloc(n ? n : 1, sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < n; i++) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%zu", i);
        if (!(v[i] = brisk_strdup(tmp))) {
            for (size_t j = 0; j < i; j++) brisk_free(v[j]);
            brisk_free(v);
            return NULL;
        }
    }
    return v;
}

int brisk_matrix_from_data(const double *x, size_t n_models, size_t n_items,
                           brisk_matrix *out) {
    memset(out, 0, sizeof *out);
    if (!n_models || !n_items) return brisk_error(BRISK_EINVAL, "empty score matrix");
    out->n_models = n_models;
    out->n_items = n_items;
    out->x = brisk_malloc(n_models * n_items * sizeof(double));
    out->model_names = index_names(n_models);
    if (!out->x || !out->model_names) {
        brisk_matrix_free(out);
        return BRISK_ENOMEM;
    }
    memcpy(out->x, x, n_models * n_items * sizeof(double));
    out->binary = 1;
    for (size_t i = 0; i < n_models * n_items; i++)
        if (x[i] != 0 && x[i] != 1) out->binary = 0;
    out->layout = BRISK_LAYOUT_MODELS_BY_ITEMS;
    return 0;
}

int brisk_matrix_find_model(const brisk_matrix *m, const char *key, size_t *out) {
    for (size_t i = 0; i < m->n_models; i++)
        if (m->model_names && !strcmp(m->model_names[i], key)) {
            *out = i;
            return 0;
        }
    char *end;
    errno = 0;
    long v = strtol(key, &end, 10);
    if (!errno && end != key && !*end && v >= 0 && (size_t)v < m->n_models) {
        *out = (size_t)v;
        return 0;
    }
    return brisk_error(BRISK_ENOTFOUND, "no model named '%s' (and not an index below %zu)", key,
                       m->n_models);
}

/* ------------------------------------------------------------------ detection */

/* 1 when cells [c0, c1) of row r are the integers k0, k0+1, ... with k0 in {0, 1}. */
static int is_counting_row(const csv_table *t, size_t r, size_t c0, size_t c1) {
    if (c1 - c0 < 3) return 0;
    double v0;
    if (!stats_parse_number(csv_cell(t, r, c0), &v0) || (v0 != 0 && v0 != 1)) return 0;
    for (size_t c = c0; c < c1; c++) {
        double v;
        if (!stats_parse_number(csv_cell(t, r, c), &v) || v != v0 + (double)(c - c0)) return 0;
    }
    return 1;
}

static int is_counting_column(const csv_table *t, size_t r0, size_t r1) {
    if (r1 - r0 < 3) return 0;
    double v0;
    if (!stats_parse_number(csv_cell(t, r0, 0), &v0) || (v0 != 0 && v0 != 1)) return 0;
    for (size_t r = r0; r < r1; r++) {
        double v;
        if (!stats_parse_number(csv_cell(t, r, 0), &v) || v != v0 + (double)(r - r0)) return 0;
    }
    return 1;
}

int brisk_matrix_read_csv(const char *path, const brisk_csv_options *opt, brisk_matrix *out) {
    memset(out, 0, sizeof *out);
    brisk_csv_options o;
    if (opt)
        o = *opt;
    else
        brisk_csv_options_default(&o);
    csv_table t;
    int rc = csv_tokenize(path, &t);
    if (rc) return rc;
    if (t.n_rows == 0) {
        csv_table_free(&t);
        return brisk_error(BRISK_EPARSE, "%s: empty file", path);
    }
    size_t nf = t.row_len[0];
    for (size_t r = 1; r < t.n_rows; r++)
        if (t.row_len[r] != nf) {
            int line = t.row_line[r];
            size_t got = t.row_len[r];
            csv_table_free(&t);
            return brisk_error(BRISK_EPARSE, "%s:%d: row %d has %zu fields, expected %zu", path,
                               line, line, got, nf);
        }

    /* header: any non-numeric cell past column 0, or a counting row (item ids 0,1,2...) */
    int header = o.header;
    if (header < 0) {
        header = 0;
        for (size_t c = 1; c < nf && !header; c++) {
            double v;
            if (!stats_parse_number(csv_cell(&t, 0, c), &v)) header = 1;
        }
        if (!header && t.n_rows > 1) {
            double v;
            int c0_numeric = stats_parse_number(csv_cell(&t, 0, 0), &v);
            if ((c0_numeric && is_counting_row(&t, 0, 0, nf)) || is_counting_row(&t, 0, 1, nf))
                header = 1;
        }
    }
    size_t r0 = header ? 1 : 0;
    if (r0 >= t.n_rows) {
        csv_table_free(&t);
        return brisk_error(BRISK_EPARSE, "%s: no data rows after the header", path);
    }
    /* index column: non-numeric names, pandas' empty corner cell, or 0,1,2... */
    int index = o.index_column;
    if (index < 0) {
        index = 0;
        for (size_t r = r0; r < t.n_rows && !index; r++) {
            double v;
            if (!stats_parse_number(csv_cell(&t, r, 0), &v)) index = 1;
        }
        if (!index && header && nf > 1 && csv_cell(&t, 0, 0)[0] == '\0') index = 1;
        if (!index && nf > 1 && is_counting_column(&t, r0, t.n_rows)) index = 1;
    }
    size_t c0 = index ? 1 : 0;
    if (c0 >= nf) {
        csv_table_free(&t);
        return brisk_error(BRISK_EPARSE, "%s: no data columns besides the index column", path);
    }
    size_t nr = t.n_rows - r0, nc = nf - c0;
    brisk_layout layout = o.layout;
    if (layout == BRISK_LAYOUT_AUTO) {
        if (nr == nc) {
            csv_table_free(&t);
            return brisk_error(BRISK_EINVAL,
                               "%s: cannot tell models from items in a %zu x %zu matrix; pass "
                               "--layout models-by-items or items-by-models",
                               path, nr, nc);
        }
        layout = nr < nc ? BRISK_LAYOUT_MODELS_BY_ITEMS : BRISK_LAYOUT_ITEMS_BY_MODELS;
    }
    int mbi = layout == BRISK_LAYOUT_MODELS_BY_ITEMS;
    out->n_models = mbi ? nr : nc;
    out->n_items = mbi ? nc : nr;
    out->layout = layout;
    out->header = header;
    out->index_column = index;
    out->x = brisk_malloc(nr * nc * sizeof(double));
    if (!out->x) goto nomem;
    out->binary = 1;
    for (size_t r = 0; r < nr; r++) {
        for (size_t c = 0; c < nc; c++) {
            const char *cell = csv_cell(&t, r0 + r, c0 + c);
            double v;
            if (!stats_parse_number(cell, &v)) {
                int line = t.row_line[r0 + r];
                char shown[64];
                snprintf(shown, sizeof shown, "%s", cell);
                csv_table_free(&t);
                brisk_matrix_free(out);
                if (!*shown)
                    return brisk_error(BRISK_EPARSE, "%s:%d: column %zu: empty cell", path, line,
                                       c0 + c + 1);
                return brisk_error(BRISK_EPARSE, "%s:%d: column %zu: '%s' is not a finite number",
                                   path, line, c0 + c + 1, shown);
            }
            if (v != 0 && v != 1) out->binary = 0;
            if (mbi)
                out->x[r * nc + c] = v;
            else
                out->x[c * nr + r] = v;
        }
    }
    /* names */
    char **row_names = NULL, **col_names = NULL;
    if (index) {
        row_names = brisk_calloc(nr, sizeof *row_names);
        if (!row_names) goto nomem;
        for (size_t r = 0; r < nr; r++)
            if (!(row_names[r] = brisk_strdup(csv_cell(&t, r0 + r, 0)))) {
                for (size_t k = 0; k < r; k++) brisk_free(row_names[k]);
                brisk_free(row_names);
                goto nomem;
            }
    }
    if (header) {
        col_names = brisk_calloc(nc, sizeof *col_names);
        if (!col_names) {
            if (row_names)
                for (size_t k = 0; k < nr; k++) brisk_free(row_names[k]);
            brisk_free(row_names);
            goto nomem;
        }
        for (size_t c = 0; c < nc; c++)
            if (!(col_names[c] = brisk_strdup(csv_cell(&t, 0, c0 + c)))) {
                for (size_t k = 0; k < c; k++) brisk_free(col_names[k]);
                brisk_free(col_names);
                if (row_names)
                    for (size_t k = 0; k < nr; k++) brisk_free(row_names[k]);
                brisk_free(row_names);
                goto nomem;
            }
    }
    out->model_names = mbi ? row_names : col_names;
    out->item_names = mbi ? col_names : row_names;
    if (!out->model_names && !(out->model_names = index_names(out->n_models))) goto nomem;
    csv_table_free(&t);
    return 0;
nomem:
    csv_table_free(&t);
    brisk_matrix_free(out);
    return BRISK_ENOMEM;
}
