#include "brisk/core.h"
#include "brisk/verify.h"

int brisk_verify_unet_case(const char *dir, brisk_verify_result *r) {
    (void)r;
    return brisk_error(BRISK_EUNSUPPORTED, "%s: UNet cases are not implemented yet", dir);
}
