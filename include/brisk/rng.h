/* brisk/rng.h: counter-based random numbers (Philox4x32-10).
 *
 * Every draw is a pure function of (seed, sample, stream, index): the noise of
 * sample i never depends on the batch size, the thread count or what was drawn
 * before, so results are reproducible across machines and parallel layouts.
 *
 *     double z[784];
 *     // noise for image 5 of a batch, used at sampler step 12:
 *     brisk_randn(seed, 5, BRISK_STREAM(BRISK_RNG_SAMPLER, 12), 784, z);
 *
 * `stream` separates independent uses of the same (seed, sample): the initial
 * noise, each stochastic step, data shuffling, dropout... Streams are 32-bit;
 * BRISK_STREAM(purpose, k) packs an 8-bit purpose and a 24-bit counter.
 */
#ifndef BRISK_RNG_H
#define BRISK_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum brisk_rng_purpose {
    BRISK_RNG_INIT = 0,      /* initial noise x_T */
    BRISK_RNG_SAMPLER = 1,   /* per-step sampler noise (DDPM, DDIM eta > 0, DDCM) */
    BRISK_RNG_DATA = 2,      /* data shuffling / augmentation */
    BRISK_RNG_TRAIN = 3,     /* training noise and timesteps */
    BRISK_RNG_MC = 4,        /* Monte Carlo (OT, bootstrap) */
    BRISK_RNG_USER = 5
};
#define BRISK_STREAM(purpose, k) (((uint32_t)(purpose) << 24) | ((uint32_t)(k) & 0xffffffu))

/* One Philox4x32-10 block: 4 random 32-bit words for a 128-bit counter and 64-bit key. */
void brisk_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* n standard normals (Box-Muller on Philox words) for (seed, sample, stream),
 * elements 0..n-1. Element j depends only on (seed, sample, stream, j). */
void brisk_randn(uint64_t seed, uint64_t sample, uint32_t stream, size_t n, double *out);
void brisk_randn_f32(uint64_t seed, uint64_t sample, uint32_t stream, size_t n, float *out);
/* Elements offset..offset+n-1 of the same sequence. */
void brisk_randn_range(uint64_t seed, uint64_t sample, uint32_t stream, size_t offset,
                       size_t n, double *out);

/* n uniforms in (0, 1) with 32-bit resolution, same addressing as brisk_randn. */
void brisk_randu(uint64_t seed, uint64_t sample, uint32_t stream, size_t n, double *out);

/* n raw 32-bit words (for integer draws: shuffles, timesteps). */
void brisk_rand_u32(uint64_t seed, uint64_t sample, uint32_t stream, size_t n, uint32_t *out);

/* Uniform integer in [0, bound) from a 64-bit word via Lemire's multiply (bias < 2^-32). */
static inline uint32_t brisk_rand_below(uint32_t word, uint32_t bound) {
    return (uint32_t)(((uint64_t)word * bound) >> 32);
}

#ifdef __cplusplus
}
#endif
#endif
