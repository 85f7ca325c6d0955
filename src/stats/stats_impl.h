/* Internal helpers of the stats module (not part of the public API). */
#ifndef BRISK_STATS_IMPL_H
#define BRISK_STATS_IMPL_H

#include "brisk/core.h"
#include "brisk/stats.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* A tokenised CSV file: fields are NUL-terminated strings inside `buf` (unquoted in
 * place). Row r has fields field[row_start[r] .. row_start[r] + row_len[r]) and came
 * from physical line row_line[r] (1-based). Blank lines are skipped. */
typedef struct csv_table {
    char *buf;
    char **field;
    size_t n_fields, cap_fields;
    size_t *row_start, *row_len;
    int *row_line;
    size_t n_rows, cap_rows;
} csv_table;

int csv_tokenize(const char *path, csv_table *t);
void csv_table_free(csv_table *t);
static inline const char *csv_cell(const csv_table *t, size_t r, size_t c) {
    return t->field[t->row_start[r] + c];
}

/* Parses a whole cell as a finite number (surrounding blanks allowed). 1 on success. */
int stats_parse_number(const char *s, double *out);

/* Merges identical columns of x: (n_rows, n_cols) row-major. Cells with mask == 0 (mask
 * may be NULL) count as the value -1. uid[c] (n_cols, caller-allocated) receives column
 * c's pattern; *U (n_patterns, n_rows) the pattern values, pattern-major; *first (may be
 * NULL) each pattern's first column; *count (may be NULL) how many columns share it. All
 * outputs are allocated here (brisk_free). */
int stats_unique_columns(const double *x, const uint8_t *mask, size_t n_rows, size_t n_cols,
                         uint32_t *uid, double **U, size_t **first, double **count,
                         size_t *n_patterns);

/* Basename of a path (pointer into it). */
const char *stats_basename(const char *path);

/* Number of OpenMP threads the module uses, and the current thread's index. */
int stats_max_threads(void);
int stats_thread_num(void);

/* log(1 + exp(z)) without overflow. */
static inline double stats_softplus(double z) {
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}
static inline double stats_sigmoid(double z) {
    if (z >= 0) return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

/* NaN-aware JSON number (cJSON prints NaN as null). */
cJSON *stats_json_num(double v);

#endif
