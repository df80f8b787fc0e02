/* rng.c — a counter-based generator: the draw is a hash of (seed, counter), so any draw
 * can be recomputed without replaying the stream (the same on every backend). */
#include "core.h"

uint64_t ig_rng_u64(uint64_t seed, uint64_t counter)
{
    /* splitmix64 finaliser over a seed-keyed counter */
    uint64_t z = seed * 0x9E3779B97F4A7C15ull + counter * 0xD1B54A32D192ED03ull + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float ig_rng_uniform(uint64_t seed, uint64_t counter)
{
    return (float)(ig_rng_u64(seed, counter) >> 40) * (1.0f / 16777216.0f);
}
