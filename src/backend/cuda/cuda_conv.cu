/* cuda_conv.cu — what convolutions need besides cuDNN: CONV2D's bias and activation (one pass
 * over its output, act_math.h's math as on the CPU) and CHANNEL_SUM (a conv's bias gradient),
 * summed in a fixed order so that every run gives the same bits. */
#include "cuda.h"

#include "ops/act_math.h"

#define CHANNEL_SUM_THREADS 256

__global__ void bias_act_kernel(float *y, const float *b, int64_t total, int64_t c, int64_t hw, int act, float p)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x)
        y[i] = ig_act_fwd(act, p, b ? y[i] + b[i / hw % c] : y[i]);
}

/* Block k sums channel k: each thread a strided share of the channel's n·hw values, then a
 * tree over the block's threads, in the same order every time (no atomics). */
__global__ void channel_sum_kernel(const float *x, float *sum, int64_t n, int64_t c, int64_t hw)
{
    __shared__ float part[CHANNEL_SUM_THREADS];
    int64_t k = blockIdx.x, count = n * hw;
    float acc = 0.0f;
    for (int64_t j = threadIdx.x; j < count; j += CHANNEL_SUM_THREADS) acc += x[(j / hw * c + k) * hw + j % hw];
    part[threadIdx.x] = acc;
    __syncthreads();
    for (int half = CHANNEL_SUM_THREADS / 2; half > 0; half >>= 1) {
        if (threadIdx.x < half) part[threadIdx.x] += part[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) sum[k] = part[0];
}

extern "C" void ig_cuda_bias_act(float *y, const float *b, int64_t n, int64_t c, int64_t hw, int act, float p,
                                 cudaStream_t s)
{
    int64_t total = n * c * hw, blocks = (total + 255) / 256;
    bias_act_kernel<<<(unsigned)(blocks > 4096 ? 4096 : blocks > 0 ? blocks : 1), 256, 0, s>>>(y, b, total, c, hw, act,
                                                                                               p);
}

extern "C" void ig_cuda_channel_sum(const float *x, float *sum, int64_t n, int64_t c, int64_t hw, cudaStream_t s)
{
    channel_sum_kernel<<<(unsigned)c, CHANNEL_SUM_THREADS, 0, s>>>(x, sum, n, c, hw);
}
