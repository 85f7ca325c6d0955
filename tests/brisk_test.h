/* Minimal typed asserts for brisk's tests: each prints both values and the location on
 * failure, counts checks, and main() ends with TEST_DONE() which prints a summary line
 * and returns non-zero if any check failed. */
#ifndef BRISK_TEST_H
#define BRISK_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_checks_ = 0, test_failures_ = 0;

#define TEST_FAIL_(...)                                              \
    do {                                                             \
        test_failures_++;                                            \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);         \
        fprintf(stderr, __VA_ARGS__);                                \
        fputc('\n', stderr);                                         \
    } while (0)

#define ASSERT_TRUE(c)                                               \
    do {                                                             \
        test_checks_++;                                              \
        if (!(c)) TEST_FAIL_("expected true: %s", #c);               \
    } while (0)

#define ASSERT_EQ(a, b)                                                                   \
    do {                                                                                  \
        long long a_ = (long long)(a), b_ = (long long)(b);                               \
        test_checks_++;                                                                   \
        if (a_ != b_) TEST_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);               \
    } while (0)

#define ASSERT_NE(a, b)                                                                   \
    do {                                                                                  \
        long long a_ = (long long)(a), b_ = (long long)(b);                               \
        test_checks_++;                                                                   \
        if (a_ == b_) TEST_FAIL_("%s != %s: both %lld", #a, #b, a_);                      \
    } while (0)

/* Status 0 expected; prints the library's last error otherwise. */
#define ASSERT_OK(expr)                                                                   \
    do {                                                                                  \
        int rc_ = (expr);                                                                 \
        test_checks_++;                                                                   \
        if (rc_ != 0) TEST_FAIL_("%s returned %d: %s", #expr, rc_, brisk_last_error());   \
    } while (0)

#define ASSERT_STATUS(expr, want)                                                         \
    do {                                                                                  \
        int rc_ = (expr);                                                                 \
        test_checks_++;                                                                   \
        if (rc_ != (want)) TEST_FAIL_("%s returned %d, expected %d (%s)", #expr, rc_,     \
                                      (int)(want), brisk_last_error());                   \
    } while (0)

/* |a - b| <= tol */
#define ASSERT_NEAR(a, b, tol)                                                            \
    do {                                                                                  \
        double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);                    \
        test_checks_++;                                                                   \
        if (!(fabs(a_ - b_) <= t_))                                                       \
            TEST_FAIL_("%s ~ %s: %.17g vs %.17g (diff %.3g > tol %.3g)", #a, #b, a_, b_,  \
                       fabs(a_ - b_), t_);                                                \
    } while (0)

#define ASSERT_DOUBLE_LE(a, b)                                                            \
    do {                                                                                  \
        double a_ = (double)(a), b_ = (double)(b);                                        \
        test_checks_++;                                                                   \
        if (!(a_ <= b_)) TEST_FAIL_("%s <= %s: %.17g > %.17g", #a, #b, a_, b_);           \
    } while (0)

#define ASSERT_STR_CONTAINS(hay, needle)                                                  \
    do {                                                                                  \
        const char *h_ = (hay), *n_ = (needle);                                           \
        test_checks_++;                                                                   \
        if (!h_ || !strstr(h_, n_)) TEST_FAIL_("'%s' does not contain '%s'", h_ ? h_ : "(null)", n_); \
    } while (0)

#define TEST_DONE()                                                                       \
    do {                                                                                  \
        printf("%s: %d checks, %d failed\n", __FILE__, test_checks_, test_failures_);     \
        return test_failures_ ? 1 : 0;                                                    \
    } while (0)

/* 1 when running under AddressSanitizer (tests may shrink their problem sizes). */
static inline int test_sanitized(void) {
    const char *s = getenv("BRISK_SANITIZED");
    return s && *s && strcmp(s, "0");
}

#endif
