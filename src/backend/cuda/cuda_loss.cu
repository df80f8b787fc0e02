/* cuda_loss.cu — fused losses (loss and its gradient in one kernel) and accuracy; the
 * per-element math is loss_math.h's, as on the CPU. Partial sums are combined in a fixed
 * order, so the loss is bit-reproducible run to run: the cross-entropy's rows by the last
 * block, the others in one block. */
#include "cuda.h"
#include "cuda_launch.cuh"

#include "ops/loss_math.h"

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

/* SPARSE_CE (labels) and CROSS_ENTROPY (probs), as the CPU kernel: with t the smoothed
 * target row, row r adds Σ_j t_j·(lse − x_j) and gets the gradient (softmax·Σt − t) / rows.
 * One warp per row and CE_ROWS rows per block, so that every row's loads are in flight at
 * once (one block taking 128 rows of 10 in turns waited on each row's loads: 7 µs on an H200).
 * A row's loss (its lanes' partial sums, added in a fixed shuffle order) parks in row_loss;
 * the last block to finish adds them in row order. */
#define CE_ROWS 8

__global__ void __launch_bounds__(32 * CE_ROWS) cross_entropy_kernel(const float *x, const int32_t *labels,
                                                                     const float *probs, float eps, float *loss,
                                                                     float *dx, int64_t rows, int64_t cols,
                                                                     double *row_loss, int *counter)
{
    ig_grid_enter();
    int lane = threadIdx.x & 31;
    int64_t r = (int64_t)blockIdx.x * CE_ROWS + (threadIdx.x >> 5);
    if (r < rows) {
        const float *xr = x + r * cols;
        float *dr = dx + r * cols;
        float mx = -INFINITY;
        for (int64_t j = lane; j < cols; j += 32) mx = fmaxf(mx, xr[j]);
        mx = warp_max(mx);
        float sum = 0.0f;
        for (int64_t j = lane; j < cols; j += 32) sum += expf(xr[j] - mx);
        sum = warp_sum(sum);
        double lse = (double)logf(sum) + mx, acc = 0;
        float tsum = 0.0f;
        for (int64_t j = lane; j < cols; j += 32) {
            float t = ig_ce_target(labels, probs, r, j, cols, eps);
            tsum += t;
            acc += (double)t * (lse - xr[j]);
        }
        float scale = warp_sum(tsum) / sum, inv = 1.0f / (float)rows;
        for (int64_t j = lane; j < cols; j += 32)
            dr[j] = (expf(xr[j] - mx) * scale - ig_ce_target(labels, probs, r, j, cols, eps)) * inv;
        for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
        if (lane == 0) row_loss[r] = acc;
    }
    if (ig_grid_last_block(counter, (int)gridDim.x, true) && threadIdx.x < 32) ig_rows_mean(row_loss, rows, loss);
}

__global__ void __launch_bounds__(THREADS) elem_loss_kernel(const float *p, const float *t, float *loss, float *dp,
                                                            size_t n, int kind, float delta)
{
    ig_grid_enter();
    __shared__ double part[WARPS];
    float inv = 1.0f / (float)n;
    double acc = 0;
    for (size_t i = threadIdx.x; i < n; i += THREADS) {
        float d;
        acc += ig_elem_loss(kind, delta, p[i], t[i], &d);
        dp[i] = d * inv;
    }
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
    double total = block_sum(acc, part);
    if (threadIdx.x == 0) *loss = (float)(total / (double)n);
}

__global__ void __launch_bounds__(THREADS) accuracy_kernel(const float *x, const void *target, int32_t *hits,
                                                           int64_t rows, int64_t width, int mode, float threshold)
{
    ig_grid_enter();
    __shared__ double part[WARPS];
    double acc = 0;
    for (int64_t r = threadIdx.x; r < rows; r += THREADS) acc += ig_accuracy_hit(mode, threshold, x, target, r, width);
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
    double total = block_sum(acc, part);
    if (threadIdx.x == 0) *hits = (int32_t)total;
}

extern "C" void ig_cuda_cross_entropy(const float *logits, const int32_t *labels, const float *probs, float eps,
                                      float *loss, float *dlogits, int64_t rows, int64_t cols, double *row_loss,
                                      int *counter, ig_cuda_queue *q)
{
    ig_launch(q, cross_entropy_kernel, (unsigned)((rows + CE_ROWS - 1) / CE_ROWS), 32 * CE_ROWS, 0, logits, labels,
              probs, eps, loss, dlogits, rows, cols, row_loss, counter);
}

extern "C" void ig_cuda_elem_loss(const float *pred, const float *target, float *loss, float *dpred, size_t n,
                                  int kind, float delta, ig_cuda_queue *q)
{
    ig_launch(q, elem_loss_kernel, 1, THREADS, 0, pred, target, loss, dpred, n, kind, delta);
}

extern "C" void ig_cuda_accuracy(const float *pred, const void *target, int32_t *hits, int64_t rows, int64_t width,
                                 int mode, float threshold, ig_cuda_queue *q)
{
    ig_launch(q, accuracy_kernel, 1, THREADS, 0, pred, target, hits, rows, width, mode, threshold);
}
