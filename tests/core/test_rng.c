#include "brisk/core.h"
#include "brisk/rng.h"
#include "brisk_test.h"

#ifdef BRISK_OPENMP
#include <omp.h>
#endif

/* Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors). */
static void test_kat(void) {
    struct { uint32_t ctr[4], key[2], out[4]; } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        uint32_t out[4];
        brisk_philox4x32(kat[i].ctr, kat[i].key, out);
        for (int k = 0; k < 4; k++) ASSERT_EQ(out[k], kat[i].out[k]);
    }
}

/* Standard normal moments over many draws. */
static void test_moments(void) {
    size_t n = 400000;
    double *z = malloc(n * sizeof *z);
    brisk_randn(42, 0, 0, n, z);
    double m = 0, v = 0, k4 = 0;
    for (size_t i = 0; i < n; i++) m += z[i];
    m /= n;
    for (size_t i = 0; i < n; i++) {
        double d = z[i] - m;
        v += d * d;
        k4 += d * d * d * d;
    }
    v /= n;
    k4 /= n;
    ASSERT_NEAR(m, 0.0, 5.0 / sqrt((double)n));
    ASSERT_NEAR(v, 1.0, 0.01);
    ASSERT_NEAR(k4 / (v * v), 3.0, 0.05);
    free(z);
}

/* Noise of sample i depends only on (seed, i): a batch drawn whole, drawn sample by
 * sample in any order, or drawn by several threads gives identical bits. */
static void test_batch_and_thread_invariance(void) {
    const size_t dim = 1027, batch = 37;
    double *a = malloc(batch * dim * sizeof *a), *b = malloc(batch * dim * sizeof *b);
    for (size_t i = 0; i < batch; i++) brisk_randn(7, i, BRISK_STREAM(BRISK_RNG_INIT, 0), dim, a + i * dim);
    for (int threads = 1; threads <= 4; threads++) {
        memset(b, 0, batch * dim * sizeof *b);
#ifdef BRISK_OPENMP
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
#endif
        for (long i = (long)batch - 1; i >= 0; i--)
            brisk_randn(7, (uint64_t)i, BRISK_STREAM(BRISK_RNG_INIT, 0), dim, b + i * dim);
        ASSERT_EQ(memcmp(a, b, batch * dim * sizeof *a), 0);
    }
    /* a batch of 5 starting at sample 30 equals samples 30..34 of the batch of 37 */
    for (size_t i = 30; i < 35; i++) brisk_randn(7, i, BRISK_STREAM(BRISK_RNG_INIT, 0), dim, b);
    brisk_randn(7, 34, BRISK_STREAM(BRISK_RNG_INIT, 0), dim, b);
    ASSERT_EQ(memcmp(a + 34 * dim, b, dim * sizeof *a), 0);
    /* a sub-range equals the same elements of the whole sequence */
    brisk_randn_range(7, 3, BRISK_STREAM(BRISK_RNG_INIT, 0), 101, 500, b);
    ASSERT_EQ(memcmp(a + 3 * dim + 101, b, 500 * sizeof *a), 0);
    /* streams and seeds differ */
    brisk_randn(7, 3, BRISK_STREAM(BRISK_RNG_SAMPLER, 0), dim, b);
    ASSERT_NE(memcmp(a + 3 * dim, b, dim * sizeof *a), 0);
    brisk_randn(8, 3, BRISK_STREAM(BRISK_RNG_INIT, 0), dim, b);
    ASSERT_NE(memcmp(a + 3 * dim, b, dim * sizeof *a), 0);
    free(a);
    free(b);
}

int main(void) {
    test_kat();
    test_moments();
    test_batch_and_thread_invariance();
    TEST_DONE();
}
