/* Internal header of the OT module: the solver handle and the blocked scoring kernel. */
#ifndef BRISK_OT_IMPL_H
#define BRISK_OT_IMPL_H

#include "brisk/ot.h"

#define OT_DEFAULT_BLOCK_SAMPLES 512
#define OT_DEFAULT_BLOCK_TARGETS 1024

struct brisk_ot {
    const float *y; /* (n, d), borrowed */
    size_t n, d;
    brisk_ot_source src;
    size_t bm, bn;  /* source samples and targets per GEMM block */
    char what[256]; /* names the targets in messages */
};

/* Per-thread scratch: one source block, one score block, the running argmax of each row,
 * this thread's cell counts. */
typedef struct ot_thread_ws {
    float *x;       /* (bm, d) source block */
    float *s;       /* (bm, bn) scores */
    float *bval;    /* (bm) best score so far */
    int64_t *bidx;  /* (bm) its target */
    int64_t *counts; /* (n) */
    double *tmp;    /* (d) uniform draws / float64 input rows */
} ot_thread_ws;

typedef struct ot_ws {
    int nt;
    ot_thread_ws *t;
    float *hf;      /* (n) centred h in float32 */
    double *part;   /* per-block partial sums of the best scores */
    size_t nblocks_cap;
} ot_ws;

/* Where the rows scored by ot_run come from. */
typedef enum { OT_ROWS_DRAW = 0, OT_ROWS_F32, OT_ROWS_F64 } ot_rows_kind;
typedef struct ot_rows {
    ot_rows_kind kind;
    const float *xf;  /* OT_ROWS_F32: (m, d) */
    const double *xd; /* OT_ROWS_F64: (m, d) */
    uint64_t seed;    /* OT_ROWS_DRAW */
    uint32_t stream;
    uint64_t first;
} ot_rows;

/* Allocates scratch for up to max_m rows per call. */
int ot_ws_init(ot_ws *w, const brisk_ot *ot, size_t max_m);
void ot_ws_free(ot_ws *w);

/* Scores m rows against every target at potential h and takes the row-wise argmax of
 * <x, y_i> + h_i (lowest index on ties). Outputs (each may be NULL): counts (n) per cell,
 * idx (m) per row, energy = mean best score (h centred). Deterministic whatever the
 * thread count. */
int ot_run(const brisk_ot *ot, ot_ws *w, const double *h, const ot_rows *rows, size_t m,
           int64_t *counts, int64_t *idx, double *energy);

double ot_now(void);

#endif
