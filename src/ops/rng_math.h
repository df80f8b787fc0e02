/* rng_math.h — the counter-based hash behind ig_rng_u64 and the dropout mask, shared by the
 * CPU and CUDA kernels so that both backends draw the same numbers. */
#ifndef IG_RNG_MATH_H
#define IG_RNG_MATH_H

#include <stdint.h>

#include "ops/hd.h"

/* splitmix64's finaliser over a seed-keyed counter */
static IG_HD inline uint64_t ig_rng_hash(uint64_t seed, uint64_t counter)
{
    uint64_t z = seed * 0x9E3779B97F4A7C15ull + counter * 0xD1B54A32D192ED03ull + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) from the top 24 bits: exact in f32. */
static IG_HD inline float ig_rng_hash_uniform(uint64_t seed, uint64_t counter)
{
    return (float)(ig_rng_hash(seed, counter) >> 40) * (1.0f / 16777216.0f);
}

/* The key of one dropout mask: the model's seed, the layer's salt and the step counter, so
 * each step draws a new mask and the gradient can redraw the forward's. */
static IG_HD inline uint64_t ig_dropout_key(uint64_t seed, uint64_t salt, int64_t step)
{
    return ig_rng_hash(ig_rng_hash(seed, salt), (uint64_t)step);
}

/* Element i under the mask of `key`: zero with probability p, else scaled by 1/(1−p). */
static IG_HD inline float ig_dropout_elem(uint64_t key, uint64_t i, float p, float scale, float x)
{
    return ig_rng_hash_uniform(key, i) < p ? 0.0f : x * scale;
}

#endif /* IG_RNG_MATH_H */
