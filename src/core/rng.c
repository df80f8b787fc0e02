/* rng.c — a counter-based generator: the draw is a hash of (seed, counter), so any draw
 * can be recomputed without replaying the stream (the same on every backend: the hash is
 * src/ops/rng_math.h, which the kernels share). */
#include "core.h"
#include "ops/rng_math.h"

uint64_t ig_rng_u64(uint64_t seed, uint64_t counter) { return ig_rng_hash(seed, counter); }

float ig_rng_uniform(uint64_t seed, uint64_t counter) { return ig_rng_hash_uniform(seed, counter); }
