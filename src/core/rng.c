/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11)
 * with the published multipliers and Weyl key increments. */
#include "brisk/rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static inline void mulhilo(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo) {
    uint64_t p = (uint64_t)a * b;
    *hi = (uint32_t)(p >> 32);
    *lo = (uint32_t)p;
}

void brisk_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        uint32_t hi0, lo0, hi1, lo1;
        mulhilo(PHILOX_M0, c0, &hi0, &lo0);
        mulhilo(PHILOX_M1, c2, &hi1, &lo1);
        uint32_t n0 = hi1 ^ c1 ^ k0;
        uint32_t n1 = lo1;
        uint32_t n2 = hi0 ^ c3 ^ k1;
        uint32_t n3 = lo0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* Counter layout: (block index, stream, sample lo, sample hi); key = seed. */
static inline void block(uint64_t seed, uint64_t sample, uint32_t stream, uint32_t blk,
                         uint32_t out[4]) {
    uint32_t ctr[4] = {blk, stream, (uint32_t)sample, (uint32_t)(sample >> 32)};
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    brisk_philox4x32(ctr, key, out);
}

static inline double u01(uint32_t w) { return ((double)w + 0.5) * (1.0 / 4294967296.0); }

/* Each block of 4 words gives 4 normals: two Box-Muller pairs. */
static inline void normals4(const uint32_t w[4], double z[4]) {
    const double two_pi = 6.283185307179586476925286766559;
    double r0 = sqrt(-2.0 * log(u01(w[0]))), t0 = two_pi * u01(w[1]);
    double r1 = sqrt(-2.0 * log(u01(w[2]))), t1 = two_pi * u01(w[3]);
    z[0] = r0 * cos(t0);
    z[1] = r0 * sin(t0);
    z[2] = r1 * cos(t1);
    z[3] = r1 * sin(t1);
}

void brisk_randn_range(uint64_t seed, uint64_t sample, uint32_t stream, size_t offset,
                       size_t n, double *out) {
    size_t j = 0;
    while (j < n) {
        size_t e = offset + j;
        uint32_t w[4];
        double z[4];
        block(seed, sample, stream, (uint32_t)(e / 4), w);
        normals4(w, z);
        for (size_t k = e % 4; k < 4 && j < n; k++) out[j++] = z[k];
    }
}

void brisk_randn(uint64_t seed, uint64_t sample, uint32_t stream, size_t n, double *out) {
    brisk_randn_range(seed, sample, stream, 0, n, out);
}

void brisk_randn_f32(uint64_t seed, uint64_t sample, uint32_t stream, size_t n, float *out) {
    for (size_t j = 0; j < n; j += 4) {
        uint32_t w[4];
        double z[4];
        block(seed, sample, stream, (uint32_t)(j / 4), w);
        normals4(w, z);
        for (size_t k = 0; k < 4 && j + k < n; k++) out[j + k] = (float)z[k];
    }
}

void brisk_rand_u32(uint64_t seed, uint64_t sample, uint32_t stream, size_t n, uint32_t *out) {
    for (size_t j = 0; j < n; j += 4) {
        uint32_t w[4];
        block(seed, sample, stream, (uint32_t)(j / 4), w);
        for (size_t k = 0; k < 4 && j + k < n; k++) out[j + k] = w[k];
    }
}

void brisk_randu(uint64_t seed, uint64_t sample, uint32_t stream, size_t n, double *out) {
    for (size_t j = 0; j < n; j += 4) {
        uint32_t w[4];
        block(seed, sample, stream, (uint32_t)(j / 4), w);
        for (size_t k = 0; k < 4 && j + k < n; k++) out[j + k] = u01(w[k]);
    }
}
