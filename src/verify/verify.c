#include "brisk/verify.h"
#include "brisk/core.h"
#include "brisk/io.h"
#include "brisk/json.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void base_name(const char *path, char *out, size_t n) {
    const char *b = path + strlen(path);
    while (b > path && b[-1] == '/') b--;
    const char *end = b;
    while (b > path && b[-1] != '/') b--;
    size_t len = (size_t)(end - b);
    if (len >= 5 && !strncmp(end - 5, ".json", 5)) len -= 5;
    if (len >= n) len = n - 1;
    memcpy(out, b, len);
    out[len] = '\0';
}

int brisk_verify_path(const char *path, brisk_verify_result *r) {
    memset(r, 0, sizeof *r);
    base_name(path, r->name, sizeof r->name);
    struct stat st;
    if (stat(path, &st) != 0) {
        int rc = brisk_error(BRISK_EIO, "%s: no such file or directory", path);
        snprintf(r->detail, sizeof r->detail, "%s", brisk_last_error());
        return rc;
    }
    int rc;
    if (S_ISDIR(st.st_mode)) {
        snprintf(r->kind, sizeof r->kind, "unet");
        rc = brisk_verify_unet_case(path, r);
    } else {
        cJSON *doc;
        rc = brisk_json_read_file(path, &doc);
        if (!rc) {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(doc, "name");
            if (cJSON_IsString(nm)) snprintf(r->name, sizeof r->name, "%s", nm->valuestring);
            if (cJSON_GetObjectItemCaseSensitive(doc, "scheduler")) {
                snprintf(r->kind, sizeof r->kind, "sampler");
                rc = brisk_verify_sampler_case(path, doc, r);
            } else if (cJSON_GetObjectItemCaseSensitive(doc, "torch_scheduler") ||
                       cJSON_GetObjectItemCaseSensitive(doc, "rex") ||
                       cJSON_GetObjectItemCaseSensitive(doc, "schedule")) {
                snprintf(r->kind, sizeof r->kind, "lr");
                rc = brisk_verify_lr_case(path, doc, r);
            } else {
                rc = brisk_error(BRISK_EUNSUPPORTED,
                                 "%s: unknown case kind (no 'scheduler', 'torch_scheduler', "
                                 "'rex' or 'schedule' key)", path);
            }
            cJSON_Delete(doc);
        }
    }
    if (rc) {
        r->passed = 0;
        snprintf(r->detail, sizeof r->detail, "%s", brisk_last_error());
    }
    return rc;
}
