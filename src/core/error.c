#include "brisk/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BRISK_MSG_MAX 1024
static _Thread_local char last_msg[BRISK_MSG_MAX];

const char *brisk_strerror(int status) {
    switch (status) {
    case BRISK_OK: return "success";
#define BRISK_X_(name, code, desc) \
    case code: return desc;
        BRISK_STATUS_MAP(BRISK_X_)
#undef BRISK_X_
    default: return "unknown error";
    }
}

const char *brisk_last_error(void) { return last_msg; }

void brisk_clear_error(void) { last_msg[0] = '\0'; }

int brisk_error(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    return status;
}

int brisk_error_prefix(int status, const char *fmt, ...) {
    char prefix[BRISK_MSG_MAX], old[BRISK_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_msg, sizeof old);
    size_t n = strlen(prefix);
    memcpy(last_msg, prefix, n + 1);
    size_t room = sizeof last_msg - 1 - n;
    size_t m = strlen(old);
    if (m > room) m = room;
    memcpy(last_msg + n, old, m);
    last_msg[n + m] = '\0';
    return status;
}

static void default_abort(const char *file, int line, const char *expr) {
    fprintf(stderr, "brisk: assertion failed at %s:%d: %s\n", file, line, expr);
    abort();
}

static brisk_abort_fn abort_hook = default_abort;

void brisk_set_abort_hook(brisk_abort_fn fn) { abort_hook = fn ? fn : default_abort; }

void brisk_assert_fail(const char *file, int line, const char *expr) {
    abort_hook(file, line, expr);
    abort(); /* a hook that returns still stops the program */
}
