/* loss_math.h — the per-element math of the losses and of accuracy, shared by the kernels
 * of every backend (C and CUDA) so that they compute the same thing. PyTorch's definitions. */
#ifndef IG_LOSS_MATH_H
#define IG_LOSS_MATH_H

#include <math.h>
#include <stdint.h>

#include "ops/hd.h"

/* ELEM_LOSS kinds (attrs.i[0]); attrs.f[0] is Huber's delta. */
enum { IG_ELEM_MSE = 0, IG_ELEM_MAE, IG_ELEM_HUBER, IG_ELEM_BCE, IG_ELEM_BCE_LOGITS, IG_ELEM_KINDS };

/* ACCURACY modes (attrs.i[0]); attrs.f[0] is the binary mode's decision threshold. */
enum { IG_ACC_LABELS = 0, IG_ACC_PROBS, IG_ACC_BINARY, IG_ACC_MODES };

/* The loss of one element p against target y, and its derivative with respect to p in *dp
 * (before the mean's 1/N). */
static IG_HD inline float ig_elem_loss(int kind, float delta, float p, float y, float *dp)
{
    float d = p - y;
    switch (kind) {
    case IG_ELEM_MAE: *dp = (float)((d > 0) - (d < 0)); return fabsf(d);
    case IG_ELEM_HUBER:
        if (fabsf(d) < delta) {
            *dp = d;
            return 0.5f * d * d;
        }
        *dp = d > 0 ? delta : -delta;
        return delta * (fabsf(d) - 0.5f * delta);
    case IG_ELEM_BCE: {
        /* BCELoss clamps each log at -100 and the gradient's denominator at 1e-12; written so
         * that a p outside [0, 1] gives NaN (as log does) instead of a clamped number */
        float lp = logf(p), lq = log1pf(-p);
        lp = lp < -100.0f ? -100.0f : lp;
        lq = lq < -100.0f ? -100.0f : lq;
        float pq = (1.0f - p) * p;
        *dp = d / (pq < 1e-12f ? 1e-12f : pq);
        return -(y * lp + (1.0f - y) * lq);
    }
    case IG_ELEM_BCE_LOGITS:
        /* max(p, 0) − p·y + log(1 + e^−|p|) never overflows */
        *dp = 1.0f / (1.0f + expf(-p)) - y;
        return fmaxf(p, 0.0f) - p * y + log1pf(expf(-fabsf(p)));
    default: *dp = 2.0f * d; return d * d;
    }
}

/* Target of class j in row r of a cross-entropy, smoothed to (1 − eps)·t + eps/c: t is the
 * one-hot of labels[r] when labels is given, else probs[r·c + j]. An out-of-range label
 * (labels are checked before a run) has an all-zero one-hot. */
static IG_HD inline float ig_ce_target(const int32_t *labels, const float *probs, int64_t r, int64_t j, int64_t c,
                                       float eps)
{
    float t = labels ? (float)(labels[r] == j) : probs[r * c + j];
    return (1.0f - eps) * t + eps / (float)c;
}

static IG_HD inline int64_t ig_argmax(const float *x, int64_t n)
{
    int64_t best = 0;
    for (int64_t j = 1; j < n; j++)
        if (x[j] > x[best]) best = j;
    return best;
}

/* Whether row r (w values of x) is classified right. LABELS: arg-max equals the i32 label;
 * PROBS: arg-max equals the target row's arg-max; BINARY: every value is on the target's
 * side of the decision (x > threshold against t > 0.5). */
static IG_HD inline int ig_accuracy_hit(int mode, float threshold, const float *x, const void *target, int64_t r,
                                        int64_t w)
{
    const float *xr = x + r * w;
    if (mode == IG_ACC_LABELS) return ig_argmax(xr, w) == ((const int32_t *)target)[r];
    const float *tr = (const float *)target + r * w;
    if (mode == IG_ACC_PROBS) return ig_argmax(xr, w) == ig_argmax(tr, w);
    for (int64_t j = 0; j < w; j++)
        if ((xr[j] > threshold) != (tr[j] > 0.5f)) return 0;
    return 1;
}

#endif /* IG_LOSS_MATH_H */
