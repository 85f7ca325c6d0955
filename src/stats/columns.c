/* Merging identical columns of a (rows, cols) matrix: 0/1 correctness matrices with few
 * models have few distinct item columns (2,099 of 41,871 in a 12-model OpenCompass
 * matrix), and every per-item computation that depends only on the column (bootstrap
 * counts, IRT item parameters) can run once per distinct column. */
#include "stats_impl.h"

#include <string.h>

static inline double cell_value(const double *x, const uint8_t *mask, size_t n_cols, size_t r,
                                size_t c) {
    size_t k = r * n_cols + c;
    if (mask && !mask[k]) return -1.0; /* unobserved: a value no score matrix holds here */
    double v = x[k];
    return v == 0 ? 0.0 : v; /* -0 == 0 */
}

int stats_unique_columns(const double *x, const uint8_t *mask, size_t n_rows, size_t n_cols,
                         uint32_t *uid, double **U_out, size_t **first_out, double **count_out,
                         size_t *n_patterns) {
    size_t cap = 16;
    while (cap < 2 * n_cols) cap *= 2;
    uint32_t *table = brisk_calloc(cap, sizeof *table); /* pattern index + 1, 0 = empty */
    size_t *first = brisk_malloc((n_cols ? n_cols : 1) * sizeof *first);
    double *count = brisk_calloc(n_cols ? n_cols : 1, sizeof *count);
    if (!table || !first || !count) {
        brisk_free(table);
        brisk_free(first);
        brisk_free(count);
        return BRISK_ENOMEM;
    }
    size_t P = 0;
    for (size_t c = 0; c < n_cols; c++) {
        uint64_t h = 1469598103934665603ull;
        for (size_t r = 0; r < n_rows; r++) {
            double v = cell_value(x, mask, n_cols, r, c);
            uint64_t bits;
            memcpy(&bits, &v, sizeof bits);
            h ^= bits + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
            h *= 1099511628211ull;
        }
        size_t slot = (size_t)(h ^ (h >> 29)) & (cap - 1);
        for (;;) {
            uint32_t e = table[slot];
            if (!e) {
                table[slot] = (uint32_t)(P + 1);
                first[P] = c;
                count[P] = 1;
                uid[c] = (uint32_t)P++;
                break;
            }
            size_t f = first[e - 1], r;
            for (r = 0; r < n_rows; r++)
                if (cell_value(x, mask, n_cols, r, f) != cell_value(x, mask, n_cols, r, c)) break;
            if (r == n_rows) {
                uid[c] = e - 1;
                count[e - 1] += 1;
                break;
            }
            slot = (slot + 1) & (cap - 1);
        }
    }
    brisk_free(table);
    double *U = brisk_malloc((P ? P : 1) * n_rows * sizeof *U);
    if (!U) {
        brisk_free(first);
        brisk_free(count);
        return BRISK_ENOMEM;
    }
    for (size_t p = 0; p < P; p++)
        for (size_t r = 0; r < n_rows; r++) U[p * n_rows + r] = cell_value(x, mask, n_cols, r, first[p]);
    *U_out = U;
    if (first_out) *first_out = first; else brisk_free(first);
    if (count_out) *count_out = count; else brisk_free(count);
    *n_patterns = P;
    return 0;
}
