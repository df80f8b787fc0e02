/* cuda_conv.cu — what convolutions need besides cuDNN: CONV2D's bias and activation, one pass
 * over its output with act_math.h's math, as on the CPU. (CHANNEL_SUM, a conv's bias gradient,
 * is batch normalisation's per-channel reduction: cuda_batchnorm.cu.) */
#include "cuda.h"

#include "ops/act_math.h"

__global__ void bias_act_kernel(float *y, const float *b, int64_t total, int64_t c, int64_t hw, int act, float p)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x)
        y[i] = ig_act_fwd(act, p, b ? y[i] + b[i / hw % c] : y[i]);
}

extern "C" void ig_cuda_bias_act(float *y, const float *b, int64_t n, int64_t c, int64_t hw, int act, float p,
                                 cudaStream_t s)
{
    int64_t total = n * c * hw, blocks = (total + 255) / 256;
    bias_act_kernel<<<(unsigned)(blocks > 4096 ? 4096 : blocks > 0 ? blocks : 1), 256, 0, s>>>(y, b, total, c, hw, act,
                                                                                               p);
}
