/* pool_math.h — one output of 2-D pooling and one input's gradient, shared by the CPU and
 * CUDA kernels so that both backends compute the same bits (see src/ops/pool.c). A plane is
 * one (sample, channel) of an NCHW tensor. */
#ifndef IG_POOL_MATH_H
#define IG_POOL_MATH_H

#include "ops/hd.h"

#include <math.h>
#include <stdint.h>

/* POOL2D's attrs.i[0]. */
enum { IG_POOL_MAX = 0, IG_POOL_AVG = 1, IG_POOL_GLOBAL_AVG = 2 };

typedef struct ig_pool_geom {
    int64_t h, w, oh, ow;
    int mode, k, s, p;
    int act;     /* the gradient's fused activation (POOL2D_GRAD's attrs.i[4]), or IG_ACT_NONE */
    float act_p; /* its parameter */
} ig_pool_geom;

/* Index in the plane of the window's first maximum (PyTorch's rule, scanning row by row: a
 * later value wins only if strictly greater, or if it is NaN). Padding never wins: windows
 * are clamped to the plane. */
static IG_HD inline int64_t ig_pool_argmax(const float *x, const ig_pool_geom *g, int64_t oy, int64_t ox)
{
    int64_t y0 = oy * g->s - g->p, x0 = ox * g->s - g->p;
    int64_t y1 = y0 + g->k < g->h ? y0 + g->k : g->h, x1 = x0 + g->k < g->w ? x0 + g->k : g->w;
    if (y0 < 0) y0 = 0;
    if (x0 < 0) x0 = 0;
    int64_t best = y0 * g->w + x0;
    float m = x[best];
    for (int64_t y = y0; y < y1; y++)
        for (int64_t xx = x0; xx < x1; xx++) {
            float v = x[y * g->w + xx];
            if (v > m || isnan(v)) {
                best = y * g->w + xx;
                m = v;
            }
        }
    return best;
}

/* Output (oy, ox) of a plane x. Average pools divide by the whole window, padding included
 * (count_include_pad=True): with floor output sizes and padding ≤ kernel/2, every window
 * lies inside the padded plane, so that is k·k (h·w for the global pool). */
static IG_HD inline float ig_pool_out(const float *x, const ig_pool_geom *g, int64_t oy, int64_t ox)
{
    if (g->mode == IG_POOL_MAX) return x[ig_pool_argmax(x, g, oy, ox)];
    if (g->mode == IG_POOL_GLOBAL_AVG) {
        float sum = 0;
        for (int64_t i = 0; i < g->h * g->w; i++) sum += x[i];
        return sum / (float)(g->h * g->w);
    }
    int64_t y0 = oy * g->s - g->p, x0 = ox * g->s - g->p;
    float sum = 0;
    for (int64_t y = y0 < 0 ? 0 : y0; y < y0 + g->k && y < g->h; y++)
        for (int64_t xx = x0 < 0 ? 0 : x0; xx < x0 + g->k && xx < g->w; xx++) sum += x[y * g->w + xx];
    return sum / (float)(g->k * g->k);
}

/* Gradient of input (iy, ix) of a plane: the sum over the windows that hold it, in the
 * order of their outputs, of what each routes to it. Gathered per input rather than
 * scattered per output, so a GPU needs no atomics and every backend adds in one order. */
static IG_HD inline float ig_pool_grad(const float *dy, const float *x, const ig_pool_geom *g, int64_t iy, int64_t ix)
{
    if (g->mode == IG_POOL_GLOBAL_AVG) return dy[0] / (float)(g->h * g->w);
    /* outputs whose window [o·s − p, o·s − p + k) holds i */
    int64_t ty = iy + g->p, tx = ix + g->p;
    int64_t oy0 = ty < g->k ? 0 : (ty - g->k) / g->s + 1, oy1 = ty / g->s;
    int64_t ox0 = tx < g->k ? 0 : (tx - g->k) / g->s + 1, ox1 = tx / g->s;
    if (oy1 >= g->oh) oy1 = g->oh - 1;
    if (ox1 >= g->ow) ox1 = g->ow - 1;
    float sum = 0, div = (float)(g->k * g->k);
    for (int64_t oy = oy0; oy <= oy1; oy++)
        for (int64_t ox = ox0; ox <= ox1; ox++) {
            float d = dy[oy * g->ow + ox];
            if (g->mode == IG_POOL_AVG) sum += d / div;
            else if (ig_pool_argmax(x, g, oy, ox) == iy * g->w + ix) sum += d;
        }
    return sum;
}

#endif /* IG_POOL_MATH_H */
