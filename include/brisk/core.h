/* brisk/core.h: status codes, the last-error message, allocation hooks, asserts.
 *
 * Every library function that can fail returns an int status: 0 (BRISK_OK) on
 * success or a negative BRISK_E* code. The function also records a one-line message
 * naming the file, key or step involved, readable with brisk_last_error():
 *
 *     int rc = brisk_npy_read("x.npy", &arr);
 *     if (rc) fprintf(stderr, "brisk: %s\n", brisk_last_error());
 *
 * The message is thread-local. The library never prints and never exits.
 */
#ifndef BRISK_CORE_H
#define BRISK_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BRISK_VERSION_STRING "0.1.0"

/* X(name, code, description) */
#define BRISK_STATUS_MAP(X)                                         \
    X(INVAL, -1, "invalid argument")                                \
    X(IO, -2, "I/O error")                                          \
    X(PARSE, -3, "malformed input")                                 \
    X(UNSUPPORTED, -4, "unsupported value")                         \
    X(NOMEM, -5, "out of memory")                                   \
    X(NUMERIC, -6, "non-finite value")                              \
    X(SHAPE, -7, "shape mismatch")                                  \
    X(STATE, -8, "invalid state")                                   \
    X(NOTFOUND, -9, "not found")                                    \
    X(MISMATCH, -10, "result does not match the reference")

enum brisk_status {
    BRISK_OK = 0,
#define BRISK_X_(name, code, desc) BRISK_E##name = code,
    BRISK_STATUS_MAP(BRISK_X_)
#undef BRISK_X_
    BRISK_STATUS_MIN = -10
};

/* Static description of a status code ("invalid argument"); never NULL. */
const char *brisk_strerror(int status);

/* The message of the last error recorded on this thread ("" if none). */
const char *brisk_last_error(void);

/* Records a printf-style message for this thread and returns `status`, so callers can
 * write `return brisk_error(BRISK_EPARSE, "%s: line %d: ...", path, line);`. */
int brisk_error(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefixes the current last-error message with more context ("step 12: " + old). */
int brisk_error_prefix(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

void brisk_clear_error(void);

/* Allocation. All library allocations go through these, so tests can make the
 * n-th allocation fail (every out-of-memory path runs) and benchmarks can count
 * allocations. brisk_malloc returns NULL on failure and records BRISK_ENOMEM. */
void *brisk_malloc(size_t size);
void *brisk_calloc(size_t n, size_t size);
void *brisk_realloc(void *p, size_t size);
void brisk_free(void *p);
char *brisk_strdup(const char *s);
/* After `n` more successful allocations, every allocation fails; n < 0 disables. */
void brisk_alloc_fail_after(long n);
/* Number of allocations made since the process started (all threads). */
uint64_t brisk_alloc_count(void);

/* Programmer errors (NULL handles, impossible shapes): prints file:line and aborts
 * through the abort hook. Always enabled. */
typedef void (*brisk_abort_fn)(const char *file, int line, const char *expr);
void brisk_set_abort_hook(brisk_abort_fn fn);
void brisk_assert_fail(const char *file, int line, const char *expr);
#define BRISK_ASSERT(x)                                          \
    do {                                                         \
        if (!(x)) brisk_assert_fail(__FILE__, __LINE__, #x);     \
    } while (0)

/* Number of threads the library uses (OpenMP); 0 = library default. */
void brisk_set_num_threads(int n);
int brisk_get_num_threads(void);

#ifdef __cplusplus
}
#endif
#endif
