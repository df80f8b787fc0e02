/* cuda_clip.cu — clipping by global norm (see src/ops/clip.c): a fixed grid writes one
 * partial sum of squares per block, then one block adds them in order and writes the factor
 * into the hyperparameter block. Fixed order: the same norm on every run. */
#include "cuda.h"
#include "cuda_launch.cuh"
#include "ops/opt_hyper.h"

#define THREADS 256

__global__ void __launch_bounds__(THREADS) sumsq_kernel(const float *g, size_t n, float *partials)
{
    ig_grid_enter();
    __shared__ double warp_sums[THREADS / 32];
    double acc = 0;
    for (size_t i = blockIdx.x * (size_t)THREADS + threadIdx.x; i < n; i += (size_t)gridDim.x * THREADS)
        acc += (double)g[i] * g[i];
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
    if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = acc;
    __syncthreads();
    if (threadIdx.x == 0) {
        double total = 0;
        for (int w = 0; w < THREADS / 32; w++) total += warp_sums[w];
        partials[blockIdx.x] = (float)total;
    }
}

__global__ void clip_scale_kernel(const float *partials, int count, float max_norm, ig_opt_hyper *h)
{
    ig_grid_enter();
    double total = 0;
    for (int i = 0; i < count; i++) total += partials[i];
    double scale = max_norm / (sqrt(total) + 1e-6);
    h->sched.grad_scale = scale < 1.0 ? (float)scale : 1.0f;
}

extern "C" void ig_cuda_clip_grad_norm(const float *g, size_t n, float *partials, int n_partials, float max_norm,
                                       void *hyper, ig_cuda_queue *q)
{
    ig_launch(q, sumsq_kernel, n_partials, THREADS, 0, g, n, partials);
    ig_launch(q, clip_scale_kernel, 1, 1, 0, partials, n_partials, max_norm, (ig_opt_hyper *)hyper);
}
