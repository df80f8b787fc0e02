/* cuda_eltwise.cu — elementwise kernels: activations, their gradient, add, scale, and the
 * bias gradient (column sums). Grid-stride loops; sizes from the caller. */
#include "cuda.h"

#include <math.h>

static unsigned grid_for(size_t n)
{
    size_t blocks = (n + 255) / 256;
    return (unsigned)(blocks > 4096 ? 4096 : blocks ? blocks : 1);
}

#define GRID_STRIDE(i, n) for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

__global__ void act_kernel(const float *x, float *y, size_t n, int act)
{
    GRID_STRIDE(i, n) y[i] = act == 1 ? fmaxf(x[i], 0.0f) : tanhf(x[i]);
}

__global__ void act_grad_kernel(const float *dy, const float *y, float *dx, size_t n, int act)
{
    GRID_STRIDE(i, n) dx[i] = act == 1 ? (y[i] > 0.0f ? dy[i] : 0.0f) : dy[i] * (1.0f - y[i] * y[i]);
}

__global__ void add_kernel(const float *a, const float *b, float *y, size_t n)
{
    GRID_STRIDE(i, n) y[i] = a[i] + b[i];
}

__global__ void scale_kernel(const float *x, const float *factor, float *y, size_t n)
{
    float f = *factor;
    GRID_STRIDE(i, n) y[i] = x[i] * f;
}

/* Column sums: a block takes 32 columns; its 8 warps each sum a strided eighth of the rows
 * (lanes read consecutive addresses), then the 8 partial sums are added in a fixed order. */
__global__ void bias_grad_kernel(const float *dz, float *db, int64_t rows, int64_t cols)
{
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

extern "C" void ig_cuda_act(const float *x, float *y, size_t n, int act, cudaStream_t s)
{
    act_kernel<<<grid_for(n), 256, 0, s>>>(x, y, n, act);
}

extern "C" void ig_cuda_act_grad(const float *dy, const float *y, float *dx, size_t n, int act, cudaStream_t s)
{
    act_grad_kernel<<<grid_for(n), 256, 0, s>>>(dy, y, dx, n, act);
}

extern "C" void ig_cuda_add(const float *a, const float *b, float *y, size_t n, cudaStream_t s)
{
    add_kernel<<<grid_for(n), 256, 0, s>>>(a, b, y, n);
}

extern "C" void ig_cuda_scale(const float *x, const float *factor, float *y, size_t n, cudaStream_t s)
{
    scale_kernel<<<grid_for(n), 256, 0, s>>>(x, factor, y, n);
}

extern "C" void ig_cuda_bias_grad(const float *dz, float *db, int64_t rows, int64_t cols, cudaStream_t s)
{
    bias_grad_kernel<<<(unsigned)((cols + 31) / 32), 256, 0, s>>>(dz, db, rows, cols);
}
