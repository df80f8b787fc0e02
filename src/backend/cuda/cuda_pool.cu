/* cuda_pool.cu — POOL2D and its gradient, one thread per output (forward) or per input
 * (backward: gathered, so no atomics); the math is src/ops/pool_math.h's, as on the CPU.
 * Index arithmetic is 32-bit where the tensor allows (64-bit division is a long instruction
 * sequence on a GPU, and these kernels do little else). */
#include "cuda.h"
#include "cuda_launch.cuh"
#include "ops/act_math.h"
#include "ops/pool_math.h"

/* the gradient d of an input whose value is x, times a fused activation's f'(x) (x being that
 * activation's output), as ACT_GRAD would */
static __device__ inline float fused_act(const ig_pool_geom &g, float d, float x)
{
    return g.act == IG_ACT_NONE ? d : d * ig_act_deriv(g.act, g.act_p, 0.0f, x);
}

#include <limits.h>

template <typename I> __global__ void pool2d_kernel(const float *x, float *y, I planes, ig_pool_geom g)
{
    ig_grid_enter();
    I i = (I)blockIdx.x * blockDim.x + threadIdx.x, out = (I)(g.oh * g.ow);
    if (i >= planes * out) return;
    I c = i / out, o = i % out;
    y[i] = ig_pool_out(x + (int64_t)c * g.h * g.w, &g, o / (I)g.ow, o % (I)g.ow);
}

template <typename I> __global__ void pool2d_grad_kernel(const float *dy, const float *x, float *dx, I planes, ig_pool_geom g)
{
    ig_grid_enter();
    I i = (I)blockIdx.x * blockDim.x + threadIdx.x, in = (I)(g.h * g.w);
    if (i >= planes * in) return;
    I c = i / in, p = i % in;
    dx[i] = fused_act(g, ig_pool_grad(dy + (int64_t)c * g.oh * g.ow, x + (int64_t)c * in, &g, p / (I)g.w, p % (I)g.w),
                      x[i]);
}

/* Windows that tile the plane exactly (kernel = stride, no padding, sides multiples of it):
 * every input lies in one window, so one thread per output writes its whole window with what
 * ig_pool_grad gathers for each of those inputs — the same bits, x read once. */
template <typename I>
__global__ void pool2d_grad_tiled_kernel(const float *dy, const float *x, float *dx, I planes, ig_pool_geom g)
{
    ig_grid_enter();
    I i = (I)blockIdx.x * blockDim.x + threadIdx.x, out = (I)(g.oh * g.ow);
    if (i >= planes * out) return;
    I c = i / out, o = i % out, oy = o / (I)g.ow, ox = o % (I)g.ow;
    const float *xp = x + (int64_t)c * g.h * g.w;
    float *dp = dx + (int64_t)c * g.h * g.w, d = dy[i];
    int64_t best = g.mode == IG_POOL_MAX ? ig_pool_argmax(xp, &g, oy, ox) : -1;
    float avg = d / (float)(g.k * g.k);
    for (int ky = 0; ky < g.k; ky++)
        for (int kx = 0; kx < g.k; kx++) {
            int64_t at = (int64_t)(oy * g.k + ky) * g.w + ox * g.k + kx;
            dp[at] = fused_act(g, g.mode == IG_POOL_MAX ? (at == best ? d : 0.0f) : avg, xp[at]);
        }
}

/* Windows of K × K that tile the plane (the usual 2 × 2 pool), 32-bit indices: the window's
 * K·K loads unrolled and in flight together (the general kernels, taking windows in loops of
 * 64-bit arithmetic, ran at about a third of the memory's speed on an H200). The scan order is
 * ig_pool_argmax's and ig_pool_out's, hence the same bits. Thread i: output i, (oy, ox) of
 * plane i / out, out = oh · ow, the input K·ow wide. */
template <int K> struct window {
    float v[K][K];
    int at;   /* the window's first input, from x */
    int best; /* the first maximum, r·K + c: later values win only if greater, or NaN */

    __device__ window(const float *x, int i, int out, int ow)
    {
        int plane = i / out, o = i - plane * out, oy = o / ow, ox = o - oy * ow, w = ow * K;
        at = plane * out * K * K + oy * K * w + ox * K;
#pragma unroll
        for (int r = 0; r < K; r++)
#pragma unroll
            for (int c = 0; c < K; c++) v[r][c] = x[at + r * w + c];
        best = 0;
        float m = v[0][0];
#pragma unroll
        for (int j = 1; j < K * K; j++)
            if (v[j / K][j % K] > m || isnan(v[j / K][j % K])) best = j, m = v[j / K][j % K];
    }
};

template <int K> __global__ void pool2d_window_kernel(const float *x, float *y, int total, int out, int ow, int mode)
{
    ig_grid_enter();
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    window<K> win(x, i, out, ow);
    float sum = 0.0f;
#pragma unroll
    for (int j = 0; j < K * K; j++) sum += win.v[j / K][j % K];
    y[i] = mode == IG_POOL_MAX ? win.v[win.best / K][win.best % K] : sum / (float)(K * K);
}

template <int K>
__global__ void pool2d_grad_window_kernel(const float *dy, const float *x, float *dx, int total, int out, int ow,
                                          ig_pool_geom g)
{
    ig_grid_enter();
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    window<K> win(x, i, out, ow);
    float d = dy[i], avg = d / (float)(K * K);
#pragma unroll
    for (int j = 0; j < K * K; j++)
        dx[win.at + j / K * ow * K + j % K] =
            fused_act(g, g.mode == IG_POOL_MAX ? (j == win.best ? d : 0.0f) : avg, win.v[j / K][j % K]);
}

static unsigned blocks(int64_t n) { return (unsigned)((n + 255) / 256); }

/* 2 × 2 windows tiling a plane small enough for 32-bit indices */
static bool window2(int64_t planes, const ig_pool_geom *g)
{
    return g->mode != IG_POOL_GLOBAL_AVG && g->k == 2 && g->s == 2 && g->p == 0 && g->h % 2 == 0 && g->w % 2 == 0 &&
           planes * g->h * g->w < INT_MAX;
}

static bool fits_int(int64_t planes, const ig_pool_geom *g) { return planes * g->h * g->w < INT_MAX; }

extern "C" void ig_cuda_pool2d(const float *x, float *y, int64_t planes, const ig_pool_geom *g, ig_cuda_queue *q)
{
    unsigned nb = blocks(planes * g->oh * g->ow);
    if (window2(planes, g))
        ig_launch(q, pool2d_window_kernel<2>, nb, 256, 0, x, y, (int)(planes * g->oh * g->ow), (int)(g->oh * g->ow),
                  (int)g->ow, g->mode);
    else if (fits_int(planes, g)) ig_launch(q, pool2d_kernel<int>, nb, 256, 0, x, y, (int)planes, *g);
    else ig_launch(q, pool2d_kernel<int64_t>, nb, 256, 0, x, y, planes, *g);
}

extern "C" void ig_cuda_pool2d_grad(const float *dy, const float *x, float *dx, int64_t planes, const ig_pool_geom *g,
                                    ig_cuda_queue *q)
{
    bool tiled = g->mode != IG_POOL_GLOBAL_AVG && g->k == g->s && g->p == 0 && g->h % g->k == 0 && g->w % g->k == 0;
    bool small = fits_int(planes, g);
    if (tiled) {
        unsigned nb = blocks(planes * g->oh * g->ow);
        if (window2(planes, g))
            ig_launch(q, pool2d_grad_window_kernel<2>, nb, 256, 0, dy, x, dx, (int)(planes * g->oh * g->ow),
                      (int)(g->oh * g->ow), (int)g->ow, *g);
        else if (small) ig_launch(q, pool2d_grad_tiled_kernel<int>, nb, 256, 0, dy, x, dx, (int)planes, *g);
        else ig_launch(q, pool2d_grad_tiled_kernel<int64_t>, nb, 256, 0, dy, x, dx, planes, *g);
        return;
    }
    unsigned nb = blocks(planes * g->h * g->w);
    if (small) ig_launch(q, pool2d_grad_kernel<int>, nb, 256, 0, dy, x, dx, (int)planes, *g);
    else ig_launch(q, pool2d_grad_kernel<int64_t>, nb, 256, 0, dy, x, dx, planes, *g);
}
