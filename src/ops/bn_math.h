/* bn_math.h — batch normalisation's per-channel and per-element math, shared by the CPU and
 * CUDA kernels (see src/ops/batchnorm.c). x is NCHW [n, c, h, w] or [n, c]: channel ch holds
 * count = n·hw values, sample i's at (i·c + ch)·hw + j. */
#ifndef IG_BN_MATH_H
#define IG_BN_MATH_H

#include "ops/hd.h"

#include <math.h>
#include <stdint.h>

typedef struct ig_bn_geom {
    int64_t n, c, hw; /* hw = 1 for [n, c] */
} ig_bn_geom;

static IG_HD inline float ig_bn_invstd(float var, float eps) { return 1.0f / sqrtf(var + eps); }

/* The running statistic after one training step (PyTorch's momentum convention). */
static IG_HD inline float ig_bn_running(float running, float batch, float momentum)
{
    return (1.0f - momentum) * running + momentum * batch;
}

/* The running variance moves towards the unbiased batch variance; count > 1 (the op's shape
 * inference refuses one value per channel in training). */
static IG_HD inline float ig_bn_unbiased(float var, int64_t count)
{
    return var * ((float)count / (float)(count - 1));
}

static IG_HD inline float ig_bn_y(float x, float mean, float invstd, float gamma, float beta)
{
    return gamma * ((x - mean) * invstd) + beta;
}

/* dx of one element, with dβ = Σ dy and dγ = Σ dy·x̂ over its channel's `count` values.
 * Training: the batch statistics depend on x, so dx = γ·invstd·(dy − dβ/count − x̂·dγ/count);
 * evaluation: the statistics are constants, dx = γ·invstd·dy. */
static IG_HD inline float ig_bn_dx(float dy, float x, float mean, float invstd, float gamma, float dgamma,
                                   float dbeta, int64_t count, int training)
{
    if (!training) return gamma * invstd * dy;
    float inv_n = 1.0f / (float)count;
    return gamma * invstd * (dy - dbeta * inv_n - (x - mean) * invstd * (dgamma * inv_n));
}

#endif /* IG_BN_MATH_H */
