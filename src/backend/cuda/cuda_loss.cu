/* cuda_loss.cu — fused losses (loss and its gradient in one kernel) and accuracy; the
 * per-element math is loss_math.h's, as on the CPU. Each block's partial sums (the
 * cross-entropy's: one per row) park in the stream's workspace, and the grid's last block adds
 * them in a fixed order, so the loss is bit-reproducible run to run. */
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

/* Sums lane 0's double of each warp in warp order; valid in thread 0. */
__device__ static double block_sum(double v, double *part)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) part[warp] = v;
    __syncthreads();
    double total = 0;
    if (threadIdx.x == 0)
        for (int w = 0; w < (int)(blockDim.x >> 5); w++) total += part[w];
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
    if (!ig_grid_last_block(counter, (int)gridDim.x, true) || threadIdx.x >= 32) return;
    double total = ig_parts_sum(row_loss, rows);
    if (lane == 0) *loss = (float)(total / (double)rows);
}

/* Elementwise losses: ELEMS values per thread; at most MAX_PARTS blocks (accuracy too). */
#define ELEMS 4
#define MAX_PARTS 1024

static unsigned blocks_for(size_t n)
{
    size_t b = (n + (size_t)THREADS * ELEMS - 1) / ((size_t)THREADS * ELEMS);
    return (unsigned)(b < 1 ? 1 : b > MAX_PARTS ? MAX_PARTS : b);
}

/* The sum over the grid of every thread's `acc`, in a fixed order: warps by shuffles, then the
 * block's warps in order; with several blocks each block's sum parks in parts[block] and the
 * grid's last block adds them (one block skips that: 3.0 against 4.5 µs for an MSE over 128 × 10).
 * Returns true in the one thread that holds the total. */
__device__ static bool grid_sum(double acc, double *part, double *parts, int *counter, double *total)
{
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
    double block = block_sum(acc, part);
    if (gridDim.x == 1) {
        *total = block;
        return threadIdx.x == 0;
    }
    if (threadIdx.x == 0) parts[blockIdx.x] = block;
    if (!ig_grid_last_block(counter, (int)gridDim.x, true) || threadIdx.x >= 32) return false;
    *total = ig_parts_sum(parts, gridDim.x);
    return threadIdx.x == 0;
}

__global__ void __launch_bounds__(THREADS) elem_loss_kernel(const float *p, const float *t, float *loss, float *dp,
                                                            size_t n, int kind, float delta, double *parts,
                                                            int *counter)
{
    ig_grid_enter();
    __shared__ double part[WARPS];
    float inv = 1.0f / (float)n;
    double acc = 0, total;
    for (size_t i = blockIdx.x * (size_t)THREADS + threadIdx.x; i < n; i += (size_t)gridDim.x * THREADS) {
        float d;
        acc += ig_elem_loss(kind, delta, p[i], t[i], &d);
        dp[i] = d * inv;
    }
    if (grid_sum(acc, part, parts, counter, &total)) *loss = (float)(total / (double)n);
}

/* ig_argmax by a warp (every lane gets it): the first index of the largest value, NaNs never
 * being larger, so that they count only at index 0, where ig_argmax's scan starts. Each lane
 * scans a stride; the lanes' (value, index) pairs meet by shuffles, the larger value or, at
 * equal values, the lower index winning. */
__device__ static int64_t warp_argmax(const float *x, int64_t n)
{
    if (isnan(x[0])) return 0;
    float bv = 0.0f;
    int64_t bi = -1;
    for (int64_t j = threadIdx.x & 31; j < n; j += 32) {
        float v = x[j];
        if (!isnan(v) && (bi < 0 || v > bv)) bv = v, bi = j;
    }
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, bv, o);
        int64_t oi = __shfl_xor_sync(0xffffffffu, bi, o);
        if (oi >= 0 && (bi < 0 || ov > bv || (ov == bv && oi < bi))) bv = ov, bi = oi;
    }
    return bi;
}

/* ig_accuracy_hit over the grid: rows of fewer than 32 values a thread each (ig_accuracy_hit
 * itself), wider rows a warp each (a thread per row scanned rows of 1000 classes one value at
 * a time: 1.3 ms for 1024 of them on an H200; dealing 128 rows of 10 to warps instead cost the
 * step's loss and accuracy 1.5 µs). Lane 0 counts its warp's hits. */
#define ACC_WARPS 8
#define ACC_NARROW 32

__global__ void __launch_bounds__(32 * ACC_WARPS) accuracy_kernel(const float *x, const void *target, int32_t *hits,
                                                                  int64_t rows, int64_t w, int mode, float threshold,
                                                                  double *parts, int *counter)
{
    ig_grid_enter();
    __shared__ double part[ACC_WARPS];
    double acc = 0, total;
    int lane = threadIdx.x & 31;
    if (w < ACC_NARROW) {
        for (int64_t r = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += (int64_t)gridDim.x * blockDim.x)
            acc += ig_accuracy_hit(mode, threshold, x, target, r, w);
    } else {
        for (int64_t r = (int64_t)blockIdx.x * ACC_WARPS + (threadIdx.x >> 5); r < rows;
             r += (int64_t)gridDim.x * ACC_WARPS) {
            const float *xr = x + r * w, *tr = (const float *)target + r * w;
            bool hit;
            if (mode == IG_ACC_LABELS) {
                hit = warp_argmax(xr, w) == ((const int32_t *)target)[r];
            } else if (mode == IG_ACC_PROBS) {
                hit = warp_argmax(xr, w) == warp_argmax(tr, w);
            } else {
                bool agree = true;
                for (int64_t j = lane; j < w; j += 32) agree &= (xr[j] > threshold) == (tr[j] > 0.5f);
                hit = __all_sync(0xffffffffu, agree);
            }
            if (lane == 0) acc += hit;
        }
    }
    if (grid_sum(acc, part, parts, counter, &total)) *hits = (int32_t)total;
}

extern "C" void ig_cuda_cross_entropy(const float *logits, const int32_t *labels, const float *probs, float eps,
                                      float *loss, float *dlogits, int64_t rows, int64_t cols, double *row_loss,
                                      int *counter, ig_cuda_queue *q)
{
    ig_launch(q, cross_entropy_kernel, (unsigned)((rows + CE_ROWS - 1) / CE_ROWS), 32 * CE_ROWS, 0, logits, labels,
              probs, eps, loss, dlogits, rows, cols, row_loss, counter);
}

extern "C" void ig_cuda_elem_loss(const float *pred, const float *target, float *loss, float *dpred, size_t n,
                                  int kind, float delta, double *parts, int *counter, ig_cuda_queue *q)
{
    ig_launch(q, elem_loss_kernel, blocks_for(n), THREADS, 0, pred, target, loss, dpred, n, kind, delta, parts, counter);
}

extern "C" void ig_cuda_accuracy(const float *pred, const void *target, int32_t *hits, int64_t rows, int64_t width,
                                 int mode, float threshold, double *parts, int *counter, ig_cuda_queue *q)
{
    int64_t per_block = width < ACC_NARROW ? 32 * ACC_WARPS : ACC_WARPS, blocks = (rows + per_block - 1) / per_block;
    ig_launch(q, accuracy_kernel, (unsigned)(blocks < MAX_PARTS ? blocks : MAX_PARTS), 32 * ACC_WARPS, 0, pred, target,
              hits, rows, width, mode, threshold, parts, counter);
}
