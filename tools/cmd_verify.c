#include "cli.h"

#include "brisk/core.h"
#include "brisk/verify.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_one(const char *path, int *n_pass, int *n_fail) {
    brisk_verify_result r;
    int rc = brisk_verify_path(path, &r);
    int ok = !rc && r.passed;
    printf("%-36s %-8s %-44s max_err=%-10.3g %s\n", r.name, r.kind[0] ? r.kind : "?", r.detail,
           r.max_err, ok ? "PASS" : (rc ? "ERROR" : "FAIL"));
    fflush(stdout);
    if (ok) (*n_pass)++;
    else (*n_fail)++;
}

/* A directory is either a UNet case (has io.json) or a folder of cases. */
static void run_dir(const char *dir, int *n_pass, int *n_fail) {
    char probe[4096];
    struct stat st;
    snprintf(probe, sizeof probe, "%s/io.json", dir);
    if (stat(probe, &st) == 0) {
        run_one(dir, n_pass, n_fail);
        return;
    }
    DIR *d = opendir(dir);
    if (!d) cli_die("%s: cannot open directory", dir);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t L = strlen(names[i]);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) run_dir(path, n_pass, n_fail);
        else if (L > 5 && !strcmp(names[i] + L - 5, ".json")) run_one(path, n_pass, n_fail);
        free(names[i]);
    }
    free(names);
}

int cmd_verify(int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        printf("usage: brisk verify PATH...\n\n"
               "Runs every reference case under each PATH (a case file, a UNet case folder,\n"
               "or a folder of cases) and prints one line per case: name, kind, what was\n"
               "compared, the max error, and PASS/FAIL/ERROR. Exits 1 if any case fails or\n"
               "cannot run (unsupported configuration). Case formats: docs/verify.md.\n");
        return argc < 2 ? 2 : 0;
    }
    int n_pass = 0, n_fail = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') cli_unknown_option("verify", argv[i]);
        struct stat st;
        if (stat(argv[i], &st) != 0) cli_die("%s: no such file or directory", argv[i]);
        if (S_ISDIR(st.st_mode)) run_dir(argv[i], &n_pass, &n_fail);
        else run_one(argv[i], &n_pass, &n_fail);
    }
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
