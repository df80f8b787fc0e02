/* cuda_eltwise.cu — elementwise kernels: activations (act_math.h's math, as on the CPU),
 * their gradient, softmax, add, scale, dropout (rng_math.h's hash, as on the CPU) and the
 * bias gradient (column sums). Grid-stride loops; sizes from the caller. */
#include "cuda.h"
#include "cuda_launch.cuh"

#include "ops/act_math.h"
#include "ops/opt_hyper.h"
#include "ops/rng_math.h"

#include <math.h>

static unsigned grid_for(size_t n)
{
    size_t blocks = (n + 255) / 256;
    return (unsigned)(blocks > 4096 ? 4096 : blocks ? blocks : 1);
}

#define GRID_STRIDE(i, n) for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

__global__ void act_kernel(const float *x, float *y, size_t n, int act, float p)
{
    ig_grid_enter();
    GRID_STRIDE(i, n) y[i] = ig_act_fwd(act, p, x[i]);
}

/* x is NULL for the kinds whose derivative comes from y */
__global__ void act_grad_kernel(const float *dy, const float *y, const float *x, float *dx, size_t n, int act, float p)
{
    ig_grid_enter();
    GRID_STRIDE(i, n) dx[i] = dy[i] * ig_act_deriv(act, p, x ? x[i] : 0.0f, y[i]);
}

/* the step is read here, at run time, so each replay of a captured step draws a new mask */
__global__ void dropout_kernel(const float *x, float *y, size_t n, float p, uint64_t seed, uint64_t salt,
                               const ig_opt_hyper *h)
{
    ig_grid_enter();
    uint64_t key = ig_dropout_key(seed, salt, h->step);
    float scale = 1.0f / (1.0f - p);
    GRID_STRIDE(i, n) y[i] = ig_dropout_elem(key, i, p, scale, x[i]);
}

/* Softmax rows: one warp per row, 8 rows per block; lanes stride the row, reductions by
 * shuffles. */
#define SOFTMAX_WARPS 8

static __device__ float warp_max(float v)
{
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

static __device__ float warp_sum(float v)
{
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__global__ void softmax_kernel(const float *x, float *y, int64_t rows, int64_t w)
{
    ig_grid_enter();
    int64_t r = blockIdx.x * (int64_t)SOFTMAX_WARPS + (threadIdx.x >> 5);
    int lane = threadIdx.x & 31;
    if (r >= rows) return; /* a whole warp leaves together: the shuffles stay full */
    const float *xr = x + r * w;
    float *yr = y + r * w, mx = -INFINITY, sum = 0.0f;
    for (int64_t j = lane; j < w; j += 32) mx = fmaxf(mx, xr[j]);
    mx = warp_max(mx);
    for (int64_t j = lane; j < w; j += 32) sum += yr[j] = expf(xr[j] - mx);
    float inv = 1.0f / warp_sum(sum);
    for (int64_t j = lane; j < w; j += 32) yr[j] *= inv;
}

__global__ void softmax_grad_kernel(const float *dy, const float *y, float *dx, int64_t rows, int64_t w)
{
    ig_grid_enter();
    int64_t r = blockIdx.x * (int64_t)SOFTMAX_WARPS + (threadIdx.x >> 5);
    int lane = threadIdx.x & 31;
    if (r >= rows) return;
    const float *dyr = dy + r * w, *yr = y + r * w;
    float *dxr = dx + r * w, dot = 0.0f;
    for (int64_t j = lane; j < w; j += 32) dot += dyr[j] * yr[j];
    dot = warp_sum(dot);
    for (int64_t j = lane; j < w; j += 32) dxr[j] = yr[j] * (dyr[j] - dot);
}

__global__ void add_kernel(const float *a, const float *b, float *y, size_t n)
{
    ig_grid_enter();
    GRID_STRIDE(i, n) y[i] = a[i] + b[i];
}

__global__ void scale_kernel(const float *x, const float *factor, float *y, size_t n)
{
    ig_grid_enter();
    float f = *factor;
    GRID_STRIDE(i, n) y[i] = x[i] * f;
}

/* Column sums: a block takes 32 columns; its 8 warps each sum a strided eighth of the rows
 * (lanes read consecutive addresses), then the 8 partial sums are added in a fixed order. */
__global__ void bias_grad_kernel(const float *dz, float *db, int64_t rows, int64_t cols)
{
    ig_grid_enter();
    __shared__ float part[8][33];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int64_t c = blockIdx.x * 32 + lane;
    float acc = 0.0f;
    if (c < cols)
        for (int64_t r = warp; r < rows; r += 8) acc += dz[r * cols + c];
    part[warp][lane] = acc;
    __syncthreads();
    if (warp == 0 && c < cols) {
        float sum = 0.0f;
        for (int w = 0; w < 8; w++) sum += part[w][lane];
        db[c] = sum;
    }
}

extern "C" void ig_cuda_act(const float *x, float *y, size_t n, int act, float p, ig_cuda_queue *q)
{
    ig_launch(q, act_kernel, grid_for(n), 256, 0, x, y, n, act, p);
}

extern "C" void ig_cuda_act_grad(const float *dy, const float *y, const float *x, float *dx, size_t n, int act,
                                 float p, ig_cuda_queue *q)
{
    ig_launch(q, act_grad_kernel, grid_for(n), 256, 0, dy, y, x, dx, n, act, p);
}

extern "C" void ig_cuda_dropout(const float *x, float *y, size_t n, float p, uint64_t seed, uint64_t salt,
                                const void *hyper, ig_cuda_queue *q)
{
    ig_launch(q, dropout_kernel, grid_for(n), 256, 0, x, y, n, p, seed, salt, (const ig_opt_hyper *)hyper);
}

extern "C" void ig_cuda_softmax(const float *x, float *y, int64_t rows, int64_t w, ig_cuda_queue *q)
{
    ig_launch(q, softmax_kernel, (unsigned)((rows + SOFTMAX_WARPS - 1) / SOFTMAX_WARPS), 32 * SOFTMAX_WARPS, 0, x, y, rows, w);
}

extern "C" void ig_cuda_softmax_grad(const float *dy, const float *y, float *dx, int64_t rows, int64_t w,
                                     ig_cuda_queue *q)
{
    ig_launch(q, softmax_grad_kernel, (unsigned)((rows + SOFTMAX_WARPS - 1) / SOFTMAX_WARPS), 32 * SOFTMAX_WARPS, 0, 
        dy, y, dx, rows, w);
}

extern "C" void ig_cuda_add(const float *a, const float *b, float *y, size_t n, ig_cuda_queue *q)
{
    ig_launch(q, add_kernel, grid_for(n), 256, 0, a, b, y, n);
}

extern "C" void ig_cuda_scale(const float *x, const float *factor, float *y, size_t n, ig_cuda_queue *q)
{
    ig_launch(q, scale_kernel, grid_for(n), 256, 0, x, factor, y, n);
}

extern "C" void ig_cuda_bias_grad(const float *dz, float *db, int64_t rows, int64_t cols, ig_cuda_queue *q)
{
    ig_launch(q, bias_grad_kernel, (unsigned)((cols + 31) / 32), 256, 0, dz, db, rows, cols);
}
