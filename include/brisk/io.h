/* brisk/io.h: files brisk reads and writes: .npy arrays, PNG grids, IDX (MNIST-style)
 * gzip files, Fashion-MNIST, JSON documents, and atomic (temp + rename) writes.
 *
 *     brisk_array a;
 *     if (brisk_npy_read("targets.npy", &a)) die(brisk_last_error());
 *     // a.dtype == BRISK_F32 or BRISK_F64, a.shape[0..ndim-1], a.data
 *     brisk_array_free(&a);
 *
 * Every writer writes to a temporary file in the destination folder and renames it
 * into place, so a reader never sees a half-written file.
 */
#ifndef BRISK_IO_H
#define BRISK_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum brisk_dtype {
    BRISK_F32 = 0,
    BRISK_F64,
    BRISK_I64,
    BRISK_I32,
    BRISK_U8,
    BRISK_DTYPE_COUNT
} brisk_dtype;

const char *brisk_dtype_name(brisk_dtype t); /* "float32", ... */
size_t brisk_dtype_size(brisk_dtype t);

#define BRISK_MAX_DIMS 8

/* An owned n-dimensional array (C order). */
typedef struct brisk_array {
    brisk_dtype dtype;
    int ndim;
    size_t shape[BRISK_MAX_DIMS];
    void *data; /* owned; brisk_array_free releases it */
} brisk_array;

size_t brisk_array_numel(const brisk_array *a);
/* Allocates a zeroed array; returns BRISK_ENOMEM on failure. */
int brisk_array_alloc(brisk_array *a, brisk_dtype t, int ndim, const size_t *shape);
void brisk_array_free(brisk_array *a);
/* Converts in place to float32 or float64 (no-op if already that type). */
int brisk_array_convert(brisk_array *a, brisk_dtype to);

/* .npy (format versions 1.0, 2.0, 3.0; little-endian; C order). Reads <f4, <f8,
 * <i4, <i8, |u1. Errors name the file and what was wrong. */
int brisk_npy_read(const char *path, brisk_array *out);
/* Writes atomically. */
int brisk_npy_write(const char *path, const brisk_array *a);
int brisk_npy_write_f32(const char *path, const float *data, int ndim, const size_t *shape);
int brisk_npy_write_f64(const char *path, const double *data, int ndim, const size_t *shape);

/* PNG grid of images. x: (n, c, h, w) float with values in [lo, hi] mapped to 0..255
 * (clamped); c = 1 (gray) or 3 (RGB). `cols` images per row (0: ceil(sqrt(n))).
 * A 2-pixel border separates the tiles. Writes atomically. */
int brisk_png_write_grid(const char *path, const float *x, size_t n, size_t c, size_t h,
                         size_t w, size_t cols, float lo, float hi);
/* Plain 8-bit RGB image, rows top to bottom. Writes atomically. */
int brisk_png_write_rgb(const char *path, const uint8_t *rgb, size_t width, size_t height);

/* IDX file (gzip or plain), as used by MNIST and Fashion-MNIST. u8 data only.
 * out->dtype == BRISK_U8, shape from the header. */
int brisk_idx_read(const char *path, brisk_array *out);

/* Fashion-MNIST from Debian's dataset-fashion-mnist (default directory
 * BRISK_FMNIST_DIR, overridden by the BRISK_FASHION_MNIST environment variable or
 * `dir`). Images are padded from 28x28 to 32x32 with the background value and scaled
 * to [-1, 1]: images (n, 1, 32, 32) float32, labels (n) u8 in 0..9. */
#define BRISK_FMNIST_DIR "/usr/share/datasets/fashion-mnist"
typedef enum { BRISK_SPLIT_TRAIN = 0, BRISK_SPLIT_TEST = 1 } brisk_split;
typedef struct brisk_dataset {
    size_t n, c, h, w;
    float *images; /* owned */
    uint8_t *labels; /* owned */
    size_t n_classes;
} brisk_dataset;
/* Loads the split; `pad` = 1 pads to 32x32, 0 keeps 28x28. `limit` > 0 keeps the first
 * `limit` images. */
int brisk_fmnist_load(const char *dir, brisk_split split, int pad, size_t limit,
                      brisk_dataset *out);
void brisk_dataset_free(brisk_dataset *d);

/* Atomic writer: writes go to a temporary file next to `path`; commit renames it into
 * place, abort (or a failed commit) removes it. */
typedef struct brisk_atomic_file {
    FILE *fp;
    char *path;
    char *tmp_path;
} brisk_atomic_file;
int brisk_atomic_open(brisk_atomic_file *f, const char *path);
int brisk_atomic_commit(brisk_atomic_file *f); /* fflush + fsync + rename */
void brisk_atomic_abort(brisk_atomic_file *f);
/* Writes a whole buffer atomically. */
int brisk_write_file_atomic(const char *path, const void *data, size_t n);

/* Reads a whole file into a NUL-terminated buffer (caller frees with brisk_free). */
int brisk_read_file(const char *path, char **out, size_t *len);

/* Recursively creates a directory (like mkdir -p). */
int brisk_mkdir_p(const char *path);

#ifdef __cplusplus
}
#endif
#endif
