#include "brisk/io.h"
#include "brisk/core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int brisk_atomic_open(brisk_atomic_file *f, const char *path) {
    memset(f, 0, sizeof *f);
    size_t n = strlen(path);
    f->path = brisk_strdup(path);
    f->tmp_path = brisk_malloc(n + 16);
    if (!f->path || !f->tmp_path) {
        brisk_free(f->path);
        brisk_free(f->tmp_path);
        return BRISK_ENOMEM;
    }
    memcpy(f->tmp_path, path, n);
    memcpy(f->tmp_path + n, ".tmp.XXXXXX", 12);
    int fd = mkstemp(f->tmp_path);
    if (fd < 0) {
        int e = errno;
        brisk_free(f->path);
        brisk_free(f->tmp_path);
        f->path = f->tmp_path = NULL;
        return brisk_error(BRISK_EIO, "%s: cannot create temporary file: %s", path, strerror(e));
    }
    fchmod(fd, 0644);
    f->fp = fdopen(fd, "wb");
    if (!f->fp) {
        int e = errno;
        close(fd);
        unlink(f->tmp_path);
        brisk_free(f->path);
        brisk_free(f->tmp_path);
        f->path = f->tmp_path = NULL;
        return brisk_error(BRISK_EIO, "%s: %s", path, strerror(e));
    }
    return BRISK_OK;
}

static void atomic_release(brisk_atomic_file *f) {
    brisk_free(f->path);
    brisk_free(f->tmp_path);
    f->path = f->tmp_path = NULL;
    f->fp = NULL;
}

void brisk_atomic_abort(brisk_atomic_file *f) {
    if (f->fp) fclose(f->fp);
    if (f->tmp_path) unlink(f->tmp_path);
    atomic_release(f);
}

int brisk_atomic_commit(brisk_atomic_file *f) {
    int bad = ferror(f->fp) || fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0;
    int e = errno;
    if (fclose(f->fp) != 0) bad = 1;
    f->fp = NULL;
    if (bad) {
        unlink(f->tmp_path);
        int rc = brisk_error(BRISK_EIO, "%s: write failed: %s", f->path, strerror(e));
        atomic_release(f);
        return rc;
    }
    if (rename(f->tmp_path, f->path) != 0) {
        e = errno;
        unlink(f->tmp_path);
        int rc = brisk_error(BRISK_EIO, "%s: cannot rename into place: %s", f->path, strerror(e));
        atomic_release(f);
        return rc;
    }
    atomic_release(f);
    return BRISK_OK;
}

int brisk_write_file_atomic(const char *path, const void *data, size_t n) {
    brisk_atomic_file f;
    int rc = brisk_atomic_open(&f, path);
    if (rc) return rc;
    if (n && fwrite(data, 1, n, f.fp) != n) {
        brisk_atomic_abort(&f);
        return brisk_error(BRISK_EIO, "%s: write failed", path);
    }
    return brisk_atomic_commit(&f);
}

int brisk_read_file(const char *path, char **out, size_t *len) {
    *out = NULL;
    if (len) *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return brisk_error(BRISK_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = brisk_malloc(cap);
    if (!buf) {
        fclose(fp);
        return BRISK_ENOMEM;
    }
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            char *nb = brisk_realloc(buf, cap);
            if (!nb) {
                brisk_free(buf);
                fclose(fp);
                return BRISK_ENOMEM;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, fp);
        n += r;
        if (r == 0) break;
    }
    int err = ferror(fp);
    fclose(fp);
    if (err) {
        brisk_free(buf);
        return brisk_error(BRISK_EIO, "%s: read error", path);
    }
    buf[n] = '\0';
    *out = buf;
    if (len) *len = n;
    return BRISK_OK;
}

int brisk_mkdir_p(const char *path) {
    char *p = brisk_strdup(path);
    if (!p) return BRISK_ENOMEM;
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                int rc = brisk_error(BRISK_EIO, "%s: cannot create directory: %s", p, strerror(errno));
                brisk_free(p);
                return rc;
            }
            *s = '/';
        }
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        int rc = brisk_error(BRISK_EIO, "%s: cannot create directory: %s", p, strerror(errno));
        brisk_free(p);
        return rc;
    }
    brisk_free(p);
    return BRISK_OK;
}
