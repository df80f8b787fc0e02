/* permute.h — a keyed bijection of [0, n): a balanced Feistel network over the smallest
 * even number of bits that covers n, with cycle walking to stay below n. It shuffles a
 * dataset without storing or sorting a permutation, identically on every backend. */
#ifndef IG_PERMUTE_H
#define IG_PERMUTE_H

#include <stdint.h>

#include "ops/hd.h"

static IG_HD inline uint32_t ig_perm_round(uint32_t v, uint64_t key, int r)
{
    uint64_t z = ((uint64_t)v << 8 | (uint64_t)r) ^ key;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)(z ^ (z >> 31));
}

/* Position i (< n) of the permutation of [0, n) keyed by `key`; key 0 is the identity. */
static IG_HD inline int64_t ig_permute(int64_t i, int64_t n, uint64_t key)
{
    if (key == 0 || n < 2) return i;
    int half = 1;
    while (((int64_t)1 << (2 * half)) < n) half++;
    uint32_t mask = (uint32_t)((1ull << half) - 1);
    uint64_t v = (uint64_t)i;
    do {
        uint32_t l = (uint32_t)(v >> half), r = (uint32_t)v & mask;
        for (int round = 0; round < 4; round++) {
            uint32_t t = l ^ (ig_perm_round(r, key, round) & mask);
            l = r;
            r = t;
        }
        v = (uint64_t)l << half | r;
    } while ((int64_t)v >= n); /* cycle walking: the domain is at most 4n, so few repeats */
    return (int64_t)v;
}

#endif /* IG_PERMUTE_H */
