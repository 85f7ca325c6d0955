/* IDX files (LeCun's MNIST format): 2 zero bytes, a type byte (0x08 = u8), the rank,
 * then big-endian u32 dimensions and the data. Read through zlib, so .gz and plain
 * files both work. */
#include "brisk/core.h"
#include "brisk/io.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int brisk_idx_read(const char *path, brisk_array *out) {
    memset(out, 0, sizeof *out);
    gzFile gz = gzopen(path, "rb");
    if (!gz) return brisk_error(BRISK_EIO, "%s: cannot open", path);
    int rc = BRISK_OK;
    unsigned char magic[4];
    if (gzread(gz, magic, 4) != 4) goto truncated;
    if (magic[0] || magic[1]) {
        rc = brisk_error(BRISK_EPARSE, "%s: not an IDX file (bad magic)", path);
        goto done;
    }
    if (magic[2] != 0x08) {
        rc = brisk_error(BRISK_EUNSUPPORTED, "%s: IDX type 0x%02x is not supported (u8 only)", path,
                         magic[2]);
        goto done;
    }
    int nd = magic[3];
    if (nd < 1 || nd > BRISK_MAX_DIMS) {
        rc = brisk_error(BRISK_EPARSE, "%s: IDX rank %d is invalid", path, nd);
        goto done;
    }
    out->ndim = nd;
    out->dtype = BRISK_U8;
    for (int i = 0; i < nd; i++) {
        unsigned char b[4];
        if (gzread(gz, b, 4) != 4) goto truncated;
        out->shape[i] = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
    }
    size_t n = brisk_array_numel(out);
    out->data = brisk_malloc(n);
    if (!out->data) { rc = BRISK_ENOMEM; goto done; }
    size_t got = 0;
    while (got < n) {
        unsigned chunk = (unsigned)((n - got) > (1u << 30) ? (1u << 30) : (n - got));
        int r = gzread(gz, (unsigned char *)out->data + got, chunk);
        if (r <= 0) goto truncated;
        got += (size_t)r;
    }
    goto done;
truncated:
    rc = brisk_error(BRISK_EPARSE, "%s: file is truncated or corrupt", path);
done:
    gzclose(gz);
    if (rc) brisk_array_free(out);
    return rc;
}

void brisk_dataset_free(brisk_dataset *d) {
    if (!d) return;
    brisk_free(d->images);
    brisk_free(d->labels);
    memset(d, 0, sizeof *d);
}

int brisk_fmnist_load(const char *dir, brisk_split split, int pad, size_t limit,
                      brisk_dataset *out) {
    memset(out, 0, sizeof *out);
    if (!dir) dir = getenv("BRISK_FASHION_MNIST");
    if (!dir || !*dir) dir = BRISK_FMNIST_DIR;
    const char *stem = split == BRISK_SPLIT_TRAIN ? "train" : "t10k";
    char ipath[4096], lpath[4096];
    snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", dir, stem);
    snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", dir, stem);
    brisk_array im, lb;
    int rc = brisk_idx_read(ipath, &im);
    if (rc) {
        return brisk_error_prefix(rc, "Fashion-MNIST (install dataset-fashion-mnist or set "
                                      "BRISK_FASHION_MNIST): ");
    }
    rc = brisk_idx_read(lpath, &lb);
    if (rc) {
        brisk_array_free(&im);
        return rc;
    }
    if (im.ndim != 3 || lb.ndim != 1 || im.shape[0] != lb.shape[0]) {
        brisk_array_free(&im);
        brisk_array_free(&lb);
        return brisk_error(BRISK_ESHAPE, "%s: images and labels disagree in shape", ipath);
    }
    size_t n = im.shape[0], h0 = im.shape[1], w0 = im.shape[2];
    if (limit && limit < n) n = limit;
    size_t p = pad ? (32 > h0 ? (32 - h0) / 2 : 0) : 0;
    size_t h = h0 + 2 * p, w = w0 + 2 * p;
    out->images = brisk_malloc(n * h * w * sizeof(float));
    out->labels = brisk_malloc(n);
    if (!out->images || !out->labels) {
        brisk_array_free(&im);
        brisk_array_free(&lb);
        brisk_dataset_free(out);
        return BRISK_ENOMEM;
    }
    const uint8_t *src = im.data;
    for (size_t k = 0; k < n; k++) {
        float *dst = out->images + k * h * w;
        for (size_t i = 0; i < h * w; i++) dst[i] = -1.0f; /* background (pixel 0) */
        for (size_t y = 0; y < h0; y++)
            for (size_t x = 0; x < w0; x++)
                dst[(y + p) * w + x + p] = src[(k * h0 + y) * w0 + x] * (2.0f / 255.0f) - 1.0f;
        out->labels[k] = ((const uint8_t *)lb.data)[k];
    }
    out->n = n;
    out->c = 1;
    out->h = h;
    out->w = w;
    out->n_classes = 10;
    brisk_array_free(&im);
    brisk_array_free(&lb);
    return BRISK_OK;
}
