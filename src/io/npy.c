/* NumPy .npy format, versions 1.0-3.0 (numpy.lib.format): magic "\x93NUMPY", version
 * bytes, little-endian header length (2 bytes for 1.0, 4 for 2.0/3.0), then a Python
 * dict literal with 'descr', 'fortran_order' and 'shape', padded to 64 bytes. */
#include "brisk/core.h"
#include "brisk/io.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *find_key(const char *hdr, const char *key) {
    const char *p = strstr(hdr, key);
    if (!p) return NULL;
    p += strlen(key);
    while (*p && (isspace((unsigned char)*p) || *p == ':')) p++;
    return p;
}

int brisk_npy_read(const char *path, brisk_array *out) {
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp) return brisk_error(BRISK_EIO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char pre[10];
    int rc = BRISK_OK;
    char *hdr = NULL;
    if (fread(pre, 1, 8, fp) != 8 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        rc = brisk_error(BRISK_EPARSE, "%s: not a .npy file (bad magic)", path);
        goto done;
    }
    size_t hlen;
    if (pre[6] == 1) {
        if (fread(pre + 8, 1, 2, fp) != 2) goto truncated;
        hlen = pre[8] | (size_t)pre[9] << 8;
    } else if (pre[6] == 2 || pre[6] == 3) {
        unsigned char b[4];
        if (fread(b, 1, 4, fp) != 4) goto truncated;
        hlen = b[0] | (size_t)b[1] << 8 | (size_t)b[2] << 16 | (size_t)b[3] << 24;
    } else {
        rc = brisk_error(BRISK_EUNSUPPORTED, "%s: .npy format version %d.%d is not supported",
                         path, pre[6], pre[7]);
        goto done;
    }
    if (hlen > (1u << 24)) {
        rc = brisk_error(BRISK_EPARSE, "%s: .npy header length %zu is implausible", path, hlen);
        goto done;
    }
    hdr = brisk_malloc(hlen + 1);
    if (!hdr) { rc = BRISK_ENOMEM; goto done; }
    if (fread(hdr, 1, hlen, fp) != hlen) goto truncated;
    hdr[hlen] = '\0';

    const char *d = find_key(hdr, "'descr'");
    if (!d || (*d != '\'' && *d != '"')) {
        rc = brisk_error(BRISK_EPARSE, "%s: .npy header has no 'descr'", path);
        goto done;
    }
    char descr[16] = {0};
    {
        char q = *d++;
        size_t i = 0;
        while (*d && *d != q && i < sizeof descr - 1) descr[i++] = *d++;
    }
    brisk_dtype t;
    if (!strcmp(descr, "<f4")) t = BRISK_F32;
    else if (!strcmp(descr, "<f8")) t = BRISK_F64;
    else if (!strcmp(descr, "<i8")) t = BRISK_I64;
    else if (!strcmp(descr, "<i4")) t = BRISK_I32;
    else if (!strcmp(descr, "|u1") || !strcmp(descr, "<u1")) t = BRISK_U8;
    else {
        rc = brisk_error(BRISK_EUNSUPPORTED,
                         "%s: dtype '%s' is not supported (expected <f4, <f8, <i4, <i8 or |u1)",
                         path, descr);
        goto done;
    }
    const char *fo = find_key(hdr, "'fortran_order'");
    if (fo && !strncmp(fo, "True", 4)) {
        rc = brisk_error(BRISK_EUNSUPPORTED, "%s: fortran_order=True arrays are not supported", path);
        goto done;
    }
    const char *s = find_key(hdr, "'shape'");
    if (!s || *s != '(') {
        rc = brisk_error(BRISK_EPARSE, "%s: .npy header has no 'shape'", path);
        goto done;
    }
    s++;
    out->ndim = 0;
    while (*s && *s != ')') {
        while (*s == ' ' || *s == ',') s++;
        if (*s == ')') break;
        if (!isdigit((unsigned char)*s)) {
            rc = brisk_error(BRISK_EPARSE, "%s: malformed shape in .npy header", path);
            goto done;
        }
        if (out->ndim >= BRISK_MAX_DIMS) {
            rc = brisk_error(BRISK_EUNSUPPORTED, "%s: rank above %d", path, BRISK_MAX_DIMS);
            goto done;
        }
        char *end;
        out->shape[out->ndim++] = strtoull(s, &end, 10);
        s = end;
    }
    out->dtype = t;
    size_t numel = brisk_array_numel(out), es = brisk_dtype_size(t);
    if (numel && numel > SIZE_MAX / es) {
        rc = brisk_error(BRISK_EPARSE, "%s: shape too large", path);
        goto done;
    }
    out->data = brisk_malloc(numel * es);
    if (!out->data) { rc = BRISK_ENOMEM; goto done; }
    if (fread(out->data, es, numel, fp) != numel) goto truncated;
    goto done;
truncated:
    rc = brisk_error(BRISK_EPARSE, "%s: file is truncated", path);
done:
    brisk_free(hdr);
    fclose(fp);
    if (rc) {
        brisk_free(out->data);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

int brisk_npy_write(const char *path, const brisk_array *a) {
    static const char *descr[] = {"<f4", "<f8", "<i8", "<i4", "|u1"};
    if ((unsigned)a->dtype >= BRISK_DTYPE_COUNT) return brisk_error(BRISK_EINVAL, "bad dtype");
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     descr[a->dtype]);
    for (int i = 0; i < a->ndim; i++)
        n += snprintf(dict + n, sizeof dict - n, "%zu%s", a->shape[i],
                      (a->ndim == 1 || i + 1 < a->ndim) ? ", " : "");
    if (a->ndim == 1) n -= 1; /* "(5,)" */
    n += snprintf(dict + n, sizeof dict - n, "), }");
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    brisk_atomic_file f;
    int rc = brisk_atomic_open(&f, path);
    if (rc) return rc;
    fwrite(pre, 1, 10, f.fp);
    fwrite(dict, 1, (size_t)n, f.fp);
    for (size_t i = 0; i < pad; i++) fputc(' ', f.fp);
    fputc('\n', f.fp);
    size_t numel = brisk_array_numel(a);
    if (numel && fwrite(a->data, brisk_dtype_size(a->dtype), numel, f.fp) != numel) {
        brisk_atomic_abort(&f);
        return brisk_error(BRISK_EIO, "%s: write failed", path);
    }
    return brisk_atomic_commit(&f);
}

int brisk_npy_write_f32(const char *path, const float *data, int ndim, const size_t *shape) {
    brisk_array a = {.dtype = BRISK_F32, .ndim = ndim, .data = (void *)data};
    for (int i = 0; i < ndim; i++) a.shape[i] = shape[i];
    return brisk_npy_write(path, &a);
}

int brisk_npy_write_f64(const char *path, const double *data, int ndim, const size_t *shape) {
    brisk_array a = {.dtype = BRISK_F64, .ndim = ndim, .data = (void *)data};
    for (int i = 0; i < ndim; i++) a.shape[i] = shape[i];
    return brisk_npy_write(path, &a);
}
