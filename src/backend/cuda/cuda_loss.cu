/* cuda_loss.cu — fused losses (loss and its gradient in one kernel) and accuracy. Each runs
 * as one block whose warps take rows in a fixed pattern and whose partial sums are combined
 * in a fixed order: the loss is bit-reproducible run to run. */
#include "cuda.h"

#include <math.h>

#define THREADS 1024
#define WARPS (THREADS / 32)

__device__ static float warp_sum(float v)
{
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ static float warp_max(float v)
{
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* Sums one double per warp in warp order; valid in thread 0. */
__device__ static double block_sum(double v, double *part)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) part[warp] = v;
    __syncthreads();
    double total = 0;
    if (threadIdx.x == 0)
        for (int w = 0; w < WARPS; w++) total += part[w];
    return total;
}

__global__ void __launch_bounds__(THREADS) sparse_ce_kernel(const float *x, const int32_t *y, float *loss,
                                                            float *dx, int64_t rows, int64_t cols)
{
    __shared__ double part[WARPS];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    double acc = 0;
    float inv = 1.0f / (float)rows;
    for (int64_t r = warp; r < rows; r += WARPS) {
        const float *xr = x + r * cols;
        float *dr = dx + r * cols;
        float mx = -INFINITY;
        for (int64_t j = lane; j < cols; j += 32) mx = fmaxf(mx, xr[j]);
        mx = warp_max(mx);
        float sum = 0.0f;
        for (int64_t j = lane; j < cols; j += 32) sum += expf(xr[j] - mx);
        sum = warp_sum(sum);
        int32_t label = y[r];
        bool ok = label >= 0 && label < cols; /* checked before a run; a bad one adds nothing */
        float scale = inv / sum;
        for (int64_t j = lane; j < cols; j += 32) dr[j] = expf(xr[j] - mx) * scale - (ok && j == label ? inv : 0.0f);
        if (lane == 0 && ok) acc += (double)logf(sum) + mx - xr[label];
    }
    double total = block_sum(acc, part);
    if (threadIdx.x == 0) *loss = (float)(total / (double)rows);
}

__global__ void __launch_bounds__(THREADS) mse_kernel(const float *p, const float *t, float *loss, float *dp, size_t n)
{
    __shared__ double part[WARPS];
    float k = 2.0f / (float)n;
    double acc = 0;
    for (size_t i = threadIdx.x; i < n; i += THREADS) {
        float d = p[i] - t[i];
        acc += (double)d * d;
        dp[i] = k * d;
    }
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
    double total = block_sum(acc, part);
    if (threadIdx.x == 0) *loss = (float)(total / (double)n);
}

__global__ void __launch_bounds__(THREADS) accuracy_kernel(const float *x, const int32_t *y, int32_t *hits,
                                                           int64_t rows, int64_t cols)
{
    __shared__ double part[WARPS];
    double acc = 0;
    for (int64_t r = threadIdx.x; r < rows; r += THREADS) {
        const float *xr = x + r * cols;
        int64_t best = 0;
        for (int64_t j = 1; j < cols; j++)
            if (xr[j] > xr[best]) best = j;
        acc += best == y[r];
    }
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
    double total = block_sum(acc, part);
    if (threadIdx.x == 0) *hits = (int32_t)total;
}

extern "C" void ig_cuda_sparse_ce(const float *logits, const int32_t *labels, float *loss, float *dlogits,
                                  int64_t rows, int64_t cols, cudaStream_t s)
{
    sparse_ce_kernel<<<1, THREADS, 0, s>>>(logits, labels, loss, dlogits, rows, cols);
}

extern "C" void ig_cuda_mse(const float *pred, const float *target, float *loss, float *dpred, size_t n,
                            cudaStream_t s)
{
    mse_kernel<<<1, THREADS, 0, s>>>(pred, target, loss, dpred, n);
}

extern "C" void ig_cuda_accuracy(const float *logits, const int32_t *labels, int32_t *hits, int64_t rows,
                                 int64_t cols, cudaStream_t s)
{
    accuracy_kernel<<<1, THREADS, 0, s>>>(logits, labels, hits, rows, cols);
}
