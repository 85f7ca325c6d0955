/* Small file-system helpers of the train module. */
#include "train_impl.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int train_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

char *train_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *s = brisk_malloc(a + b + 2);
    if (!s) return NULL;
    memcpy(s, dir, a);
    s[a] = '/';
    memcpy(s + a + 1, name, b + 1);
    return s;
}

int train_rmtree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT) return BRISK_OK;
        return brisk_error(BRISK_EIO, "%s: %s", path, strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) return brisk_error(BRISK_EIO, "%s: %s", path, strerror(errno));
        struct dirent *e;
        int rc = BRISK_OK;
        while (!rc && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *sub = train_join(path, e->d_name);
            if (!sub) {
                rc = BRISK_ENOMEM;
                break;
            }
            rc = train_rmtree(sub);
            brisk_free(sub);
        }
        closedir(d);
        if (rc) return rc;
        if (rmdir(path) != 0) return brisk_error(BRISK_EIO, "%s: %s", path, strerror(errno));
        return BRISK_OK;
    }
    if (unlink(path) != 0) return brisk_error(BRISK_EIO, "%s: %s", path, strerror(errno));
    return BRISK_OK;
}
