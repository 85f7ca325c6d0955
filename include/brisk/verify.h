/* brisk/verify.h: runs reference cases produced by peers' own code (diffusers, the PNDM
 * authors' code, torch.optim.lr_scheduler, the refinement authors' pipeline, diffusers
 * UNet2DModel) and compares brisk's output with them.
 *
 *     brisk_verify_result r;
 *     int rc = brisk_verify_path("tests/data/samplers/ddim_linear_50.json", &r);
 *     printf("%s %s max_err=%.3g\n", r.name, r.passed ? "PASS" : "FAIL", r.max_err);
 *
 * Case kinds are recognised from the content: a JSON file with "scheduler" is a sampler
 * case, one with "torch_scheduler", "rex" or "schedule" an LR case, and a directory with
 * io.json and config.json a UNet case. Formats: docs/verify.md.
 */
#ifndef BRISK_VERIFY_H
#define BRISK_VERIFY_H

#include <cjson/cJSON.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct brisk_verify_result {
    char name[128];    /* case name */
    char kind[32];     /* "sampler", "lr", "unet" */
    char detail[512];  /* e.g. "timesteps match, nfe 59/59"; or why it failed */
    double max_err;    /* max |x - ref| (absolute) */
    double max_rel;    /* max error divided by the case's tolerance scale */
    int passed;        /* 1 if every check passed */
} brisk_verify_result;

/* Runs one case (file or directory). Returns 0 when the case ran (r->passed says whether
 * it matched), or a BRISK_E* code when it could not run (unsupported configuration,
 * malformed file); r->detail then holds the message. */
int brisk_verify_path(const char *path, brisk_verify_result *r);

/* Case runners, one per module. `doc` is the parsed case file at `path`. */
int brisk_verify_sampler_case(const char *path, const cJSON *doc, brisk_verify_result *r);
int brisk_verify_lr_case(const char *path, const cJSON *doc, brisk_verify_result *r);
int brisk_verify_unet_case(const char *dir, brisk_verify_result *r);

#ifdef __cplusplus
}
#endif
#endif
