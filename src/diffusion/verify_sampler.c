#include "brisk/core.h"
#include "brisk/verify.h"

int brisk_verify_sampler_case(const char *path, const cJSON *doc, brisk_verify_result *r) {
    (void)doc; (void)r;
    return brisk_error(BRISK_EUNSUPPORTED, "%s: sampler cases are not implemented yet", path);
}
