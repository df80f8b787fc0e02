/* cuda_pool.cu — POOL2D and its gradient, one thread per output (forward) or per input
 * (backward: gathered, so no atomics); the math is src/ops/pool_math.h's, as on the CPU. */
#include "cuda.h"
#include "ops/pool_math.h"

__global__ void pool2d_kernel(const float *x, float *y, int64_t planes, ig_pool_geom g)
{
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, out = g.oh * g.ow;
    if (i >= planes * out) return;
    int64_t c = i / out, o = i % out;
    y[i] = ig_pool_out(x + c * g.h * g.w, &g, o / g.ow, o % g.ow);
}

__global__ void pool2d_grad_kernel(const float *dy, const float *x, float *dx, int64_t planes, ig_pool_geom g)
{
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, in = g.h * g.w;
    if (i >= planes * in) return;
    int64_t c = i / in, p = i % in;
    dx[i] = ig_pool_grad(dy + c * g.oh * g.ow, x + c * in, &g, p / g.w, p % g.w);
}

static unsigned blocks(int64_t n) { return (unsigned)((n + 255) / 256); }

extern "C" void ig_cuda_pool2d(const float *x, float *y, int64_t planes, const ig_pool_geom *g, cudaStream_t s)
{
    pool2d_kernel<<<blocks(planes * g->oh * g->ow), 256, 0, s>>>(x, y, planes, *g);
}

extern "C" void ig_cuda_pool2d_grad(const float *dy, const float *x, float *dx, int64_t planes, const ig_pool_geom *g,
                                    cudaStream_t s)
{
    pool2d_grad_kernel<<<blocks(planes * g->h * g->w), 256, 0, s>>>(dy, x, dx, planes, *g);
}
