#include "cli.h"

#include "brisk/core.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cli_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("brisk: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void cli_die_status(int status, const char *context) {
    const char *msg = brisk_last_error();
    if (context && *context)
        fprintf(stderr, "brisk: %s: %s\n", context, *msg ? msg : brisk_strerror(status));
    else
        fprintf(stderr, "brisk: %s\n", *msg ? msg : brisk_strerror(status));
    exit(1);
}

void cli_unknown_option(const char *cmd, const char *arg) {
    fprintf(stderr, "brisk %s: unknown option '%s' (see 'brisk %s --help')\n", cmd, arg, cmd);
    exit(2);
}

int cli_is_help(const char *arg) { return !strcmp(arg, "-h") || !strcmp(arg, "--help"); }

int cli_flag(char **argv, int i, const char *name) { return !strcmp(argv[i], name); }

int cli_opt(int argc, char **argv, int *i, const char *name, const char **value) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) cli_die("option %s needs a value", name);
    *value = argv[++*i];
    return 1;
}

long cli_long(const char *opt, const char *s) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) cli_die("%s: '%s' is not an integer", opt, s);
    return v;
}

unsigned long long cli_u64(const char *opt, const char *s) {
    char *end;
    errno = 0;
    if (*s == '-') cli_die("%s: '%s' must not be negative", opt, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end) cli_die("%s: '%s' is not a non-negative integer", opt, s);
    return v;
}

double cli_double(const char *opt, const char *s) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) cli_die("%s: '%s' is not a finite number", opt, s);
    return v;
}

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void cli_progress_start(cli_progress *p, const char *label, size_t total) {
    p->label = label;
    p->total = total ? total : 1;
    p->t0 = cli_now();
    p->last_decile = -1;
    p->tty = isatty(STDERR_FILENO);
}

void cli_progress_update(cli_progress *p, size_t done, const char *extra) {
    double el = cli_now() - p->t0;
    double frac = (double)done / (double)p->total;
    double rate = el > 0 ? done / el : 0;
    double eta = (rate > 0 && done < p->total) ? (p->total - done) / rate : 0;
    int decile = (int)(frac * 10);
    if (!p->tty && decile == p->last_decile && done < p->total) return;
    p->last_decile = decile;
    char bar[31];
    int fill = (int)(frac * 30);
    for (int k = 0; k < 30; k++) bar[k] = k < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "%s%s [%s] %zu/%zu %.2f it/s ETA %.0fs%s%s%s", p->tty ? "\r" : "", p->label,
            bar, done, p->total, rate, eta, extra ? " " : "", extra ? extra : "",
            p->tty ? (done >= p->total ? "\n" : "") : "\n");
    fflush(stderr);
}
