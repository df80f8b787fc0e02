/* augment.h — random crop with padding and horizontal flip of one sample, drawn from the
 * counter-based hash of src/ops/rng_math.h: the draws of sample j of batch `step` are a pure
 * function of (seed, step, j), so the CPU and CUDA gathers and the host loader compute the
 * same batch from the same seed.
 *
 * Output pixel (y, x) of each plane of a sample h × w is input pixel
 *   (y + dy, (flip ? w − 1 − x : x) + dx),  dy, dx uniform in [−pad, pad],
 * or 0 where that lies outside the input: torchvision's RandomCrop(padding=pad) followed by
 * RandomHorizontalFlip(p). */
#ifndef IG_AUGMENT_H
#define IG_AUGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "ops/hd.h"
#include "ops/rng_math.h"

/* "aug" in ASCII: keeps augmentation draws apart from dropout masks of the same seed */
#define IG_AUGMENT_SALT 0x617567ull

typedef struct ig_augment_draw {
    int64_t dy, dx; /* the crop window's offset from the centred one */
    bool flip;
} ig_augment_draw;

static IG_HD inline ig_augment_draw ig_augment_draw_of(uint64_t seed, int64_t step, int64_t j, int64_t pad,
                                                       float flip_p)
{
    uint64_t key = ig_rng_hash(ig_rng_hash(seed, IG_AUGMENT_SALT), (uint64_t)step);
    uint64_t r = ig_rng_hash(key, 2 * (uint64_t)j), span = 2 * (uint64_t)pad + 1;
    ig_augment_draw d;
    d.dy = (int64_t)((r & 0xFFFFFFFFull) % span) - pad;
    d.dx = (int64_t)((r >> 32) % span) - pad;
    d.flip = ig_rng_hash_uniform(key, 2 * (uint64_t)j + 1) < flip_p;
    return d;
}

/* The input coordinate that output coordinate o (of n) reads, or −1 for padding. */
static IG_HD inline int64_t ig_augment_src(int64_t o, int64_t n, int64_t shift, bool mirror)
{
    int64_t s = (mirror ? n - 1 - o : o) + shift;
    return s >= 0 && s < n ? s : -1;
}

/* Samples of sample_ndim dimensions as `planes` planes of h × w: the last two dimensions are
 * height and width (samples of one dimension are one plane of 1 × w). */
void ig_augment_planes(int sample_ndim, const int64_t *sample_shape, int64_t *planes, int64_t *h, int64_t *w);
/* The host's crop and flip: `planes` planes of h × w from src into dst (no overlap). */
void ig_augment_sample(const float *src, float *dst, int64_t planes, int64_t h, int64_t w, const ig_augment_draw *d);

#endif /* IG_AUGMENT_H */
