/* cuda_conv.cu — what convolutions need besides cuDNN: CONV2D's bias and activation, one pass
 * over its output with act_math.h's math, as on the CPU. (CHANNEL_SUM, a conv's bias gradient,
 * is batch normalisation's per-channel reduction: cuda_batchnorm.cu.) */
#include "cuda.h"
#include "cuda_launch.cuh"

#include "ops/act_math.h"

#include <limits.h>

/* Blocks (x, plane): blockIdx.y is the plane (sample · c + channel), so the channel needs no
 * division per element (a 64-bit one cost more than the pass's memory traffic). */
__global__ void bias_act_kernel(float *y, const float *b, int64_t plane0, int64_t c, int64_t hw, int act, float p)
{
    ig_grid_enter();
    int64_t plane = plane0 + blockIdx.y;
    float *yp = y + plane * hw, bias = b ? b[plane % c] : 0.0f;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < hw; i += (int64_t)gridDim.x * blockDim.x)
        yp[i] = ig_act_fwd(act, p, b ? yp[i] + bias : yp[i]);
}

/* Planes whose size is a multiple of 4, the usual case: four values per thread with 16-byte
 * accesses, a 32-bit division per four for the channel; a block per plane left most threads of
 * cnn_small's 14 × 14 planes idle (10.5 µs for its 32 → 64 layer's output on an H200). */
__global__ void bias_act4_kernel(float4 *y, const float *b, int n4, int hw4, int c, int act, float p)
{
    ig_grid_enter();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += gridDim.x * blockDim.x) {
        float bias = b ? b[(i / hw4) % c] : 0.0f;
        float4 v = y[i];
        v.x = ig_act_fwd(act, p, b ? v.x + bias : v.x);
        v.y = ig_act_fwd(act, p, b ? v.y + bias : v.y);
        v.z = ig_act_fwd(act, p, b ? v.z + bias : v.z);
        v.w = ig_act_fwd(act, p, b ? v.w + bias : v.w);
        y[i] = v;
    }
}

extern "C" void ig_cuda_bias_act(float *y, const float *b, int64_t n, int64_t c, int64_t hw, int act, float p,
                                 ig_cuda_queue *q)
{
    int64_t planes = n * c;
    if (hw % 4 == 0 && planes * hw < INT_MAX && (uintptr_t)y % 16 == 0) {
        int64_t n4 = planes * hw / 4, nb = (n4 + 255) / 256;
        ig_launch(q, bias_act4_kernel, (unsigned)(nb > 8192 ? 8192 : nb), 256, 0, (float4 *)y, b, (int)n4,
                  (int)(hw / 4), (int)c, act, p);
        return;
    }
    int64_t per_plane = (hw + 255) / 256;
    if (per_plane > 64) per_plane = 64;
    for (int64_t p0 = 0; p0 < planes; p0 += 65535) { /* the grid's y extent */
        int64_t count = planes - p0 < 65535 ? planes - p0 : 65535;
        dim3 grid((unsigned)(per_plane > 0 ? per_plane : 1), (unsigned)count);
        ig_launch(q, bias_act_kernel, grid, 256, 0, y, b, p0, c, hw, act, p);
    }
}

/* 32-bit indices: a filter bank is far smaller than 2^31 floats (checked by the caller) */
__global__ void conv_turn_kernel(const float *w, float *wt, int f, int c, int k)
{
    ig_grid_enter();
    int total = f * c * k;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        int tap = i % k, fc = i / k, fi = fc / c, ci = fc % c; /* i indexes w [f, c, k] */
        wt[(ci * f + fi) * k + (k - 1 - tap)] = w[i];
    }
}

extern "C" void ig_cuda_conv_turn(const float *w, float *wt, int64_t f, int64_t c, int64_t k, ig_cuda_queue *q)
{
    int64_t blocks = (f * c * k + 255) / 256;
    ig_launch(q, conv_turn_kernel, (unsigned)(blocks > 4096 ? 4096 : blocks > 0 ? blocks : 1), 256, 0, w, wt, (int)f,
              (int)c, (int)k);
}

/* ---------------------------------------------------------------- few input channels
 * A first layer's 3×3 convolution over 1 or 3 input channels gives cuDNN's GEMM-shaped
 * engines a reduction of only 9 or 27 terms per output; direct kernels, with the channel
 * count and kernel size compile-time constants, do better there. Blocks work inside one
 * sample's planes (blockIdx.y picks samples), so positions are 32-bit arithmetic. Forward:
 * one thread per output pixel loads its C·9 inputs into registers once and produces every
 * filter's output, the weights in shared memory. Weight gradient: block (j, g) sums
 * dy · input for each of the C·9 weights of a chunk j of filters over samples g, g + G, ...
 * (each input loaded once serves the chunk's filters), and Σ dy per filter (the bias
 * gradient, which this kernel reads all of dy for anyway), reduced in a fixed order; the
 * chunk's last block to finish (an atomic count elects it) adds the G partial sums in order:
 * the same bits every run, in one launch. */

#define DIRECT_THREADS 256
#define DIRECT_K 3

/* Input (c, ky, kx) of output pixel (oy, ox) of one sample's planes xs; zero in the padding. */
template <int C>
static __device__ inline void direct_inputs(const float *xs, int h, int w, int oy, int ox, int stride, int pad,
                                            float *in)
{
#pragma unroll
    for (int c = 0; c < C; c++)
#pragma unroll
        for (int ky = 0; ky < DIRECT_K; ky++)
#pragma unroll
            for (int kx = 0; kx < DIRECT_K; kx++) {
                int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                in[(c * DIRECT_K + ky) * DIRECT_K + kx] =
                    (unsigned)iy < (unsigned)h && (unsigned)ix < (unsigned)w ? xs[(c * h + iy) * w + ix] : 0.0f;
            }
}

template <int C>
__global__ void __launch_bounds__(DIRECT_THREADS)
    conv_direct_fwd_kernel(const float *x, const float *w, const float *b, float *y, ig_conv_geom q, int act, float p)
{
    ig_grid_enter();
    constexpr int CKK = C * DIRECT_K * DIRECT_K;
    extern __shared__ float sw[];
    const int f_count = (int)q.f, plane = (int)(q.oh * q.ow);
    for (int i = threadIdx.x; i < f_count * CKK; i += DIRECT_THREADS) sw[i] = w[i];
    __syncthreads();
    int o = blockIdx.x * DIRECT_THREADS + threadIdx.x;
    if (o >= plane) return;
    float in[CKK];
    direct_inputs<C>(x + (int64_t)blockIdx.y * C * q.h * q.w, (int)q.h, (int)q.w, o / (int)q.ow, o % (int)q.ow,
                     (int)q.stride, (int)q.pad, in);
    float *out = y + (int64_t)blockIdx.y * f_count * plane + o;
    for (int f = 0; f < f_count; f++) {
        float acc = 0.0f;
#pragma unroll
        for (int k = 0; k < CKK; k++) acc = fmaf(in[k], sw[f * CKK + k], acc);
        out[(int64_t)f * plane] = ig_act_fwd(act, p, b ? acc + b[f] : acc);
    }
}

/* FC filters per block, so that each input a thread loads serves FC filters' sums. */
template <int C> struct wgrad_chunk {
    static constexpr int FC = C == 1 ? 8 : 4; /* 72 or 108 running sums per thread */
};

/* Per filter: its C·9 weights' sums, then Σ dy (the bias gradient, when asked for). */
template <int C>
__global__ void __launch_bounds__(DIRECT_THREADS)
    conv_direct_wgrad_kernel(const float *dy, const float *x, ig_conv_geom q, float *partial, int *counters, float *dw,
                             float *db)
{
    ig_grid_enter();
    constexpr int CKK = C * DIRECT_K * DIRECT_K, CK1 = CKK + 1, FC = wgrad_chunk<C>::FC;
    const int f0 = blockIdx.x * FC, groups = gridDim.y, plane = (int)(q.oh * q.ow), h = (int)q.h, w = (int)q.w;
    float acc[FC][CK1] = {};
    for (int64_t n = blockIdx.y; n < q.n; n += groups) {
        const float *xs = x + n * C * h * w, *g = dy + (n * q.f + f0) * plane;
        for (int o = threadIdx.x; o < plane; o += DIRECT_THREADS) {
            float in[CKK];
            direct_inputs<C>(xs, h, w, o / (int)q.ow, o % (int)q.ow, (int)q.stride, (int)q.pad, in);
#pragma unroll
            for (int j = 0; j < FC; j++) {
                float d = f0 + j < q.f ? g[(int64_t)j * plane + o] : 0.0f;
#pragma unroll
                for (int k = 0; k < CKK; k++) acc[j][k] = fmaf(d, in[k], acc[j][k]);
                acc[j][CKK] += d;
            }
        }
    }
    __shared__ float warps[DIRECT_THREADS / 32][FC * CK1];
#pragma unroll
    for (int j = 0; j < FC; j++)
#pragma unroll
        for (int k = 0; k < CK1; k++) {
            float v = acc[j][k];
            for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
            if ((threadIdx.x & 31) == 0) warps[threadIdx.x >> 5][j * CK1 + k] = v;
        }
    __syncthreads();
    for (int i = threadIdx.x; i < FC * CK1; i += DIRECT_THREADS) {
        int f = f0 + i / CK1;
        if (f >= q.f) break;
        float sum = 0.0f;
        for (int wi = 0; wi < DIRECT_THREADS / 32; wi++) sum += warps[wi][i];
        partial[((int64_t)f * groups + blockIdx.y) * CK1 + i % CK1] = sum;
    }
    /* the chunk's last block to get here adds its groups' partial sums in group order */
    if (!ig_grid_last_block(&counters[blockIdx.x], groups, true)) return;
    for (int i = threadIdx.x; i < FC * CK1; i += DIRECT_THREADS) {
        int f = f0 + i / CK1, k = i % CK1;
        if (f >= q.f) break;
        float sum = 0.0f;
        for (int gi = 0; gi < groups; gi++) sum += __ldcg(partial + ((int64_t)f * groups + gi) * CK1 + k);
        if (k < CKK) dw[(int64_t)f * CKK + k] = sum;
        else if (db) db[f] = sum;
    }
}

extern "C" bool ig_cuda_conv_direct_fits(const ig_conv_geom *q)
{
    return (q->c == 1 || q->c == 3) && q->kh == DIRECT_K && q->kw == DIRECT_K &&
           q->f * q->c * DIRECT_K * DIRECT_K <= IG_CONV_DIRECT_WEIGHTS && q->c * q->h * q->w < INT_MAX &&
           q->oh * q->ow < INT_MAX && q->n <= 65535;
}

extern "C" void ig_cuda_conv_direct_fwd(const float *x, const float *w, const float *b, float *y, const ig_conv_geom *geo,
                                        int act, float p, ig_cuda_queue *q)
{
    int64_t plane = geo->oh * geo->ow;
    size_t smem = (size_t)(geo->f * geo->c * DIRECT_K * DIRECT_K) * sizeof(float);
    dim3 grid((unsigned)((plane + DIRECT_THREADS - 1) / DIRECT_THREADS), (unsigned)geo->n);
    if (geo->c == 1) ig_launch(q, conv_direct_fwd_kernel<1>, grid, DIRECT_THREADS, smem, x, w, b, y, *geo, act, p);
    else ig_launch(q, conv_direct_fwd_kernel<3>, grid, DIRECT_THREADS, smem, x, w, b, y, *geo, act, p);
}

extern "C" void ig_cuda_conv_direct_wgrad(const float *dy, const float *x, float *dw, float *db, const ig_conv_geom *geo,
                                          float *scratch, int *counters, ig_cuda_queue *q)
{
    /* about two blocks per SM of an H100 in all, each at least one sample */
    int fc = geo->c == 1 ? wgrad_chunk<1>::FC : wgrad_chunk<3>::FC;
    int64_t chunks = (geo->f + fc - 1) / fc, groups = (256 + chunks - 1) / chunks;
    if (groups > geo->n) groups = geo->n;
    if (groups > IG_CONV_DIRECT_PARTS) groups = IG_CONV_DIRECT_PARTS;
    dim3 grid((unsigned)chunks, (unsigned)groups);
    if (geo->c == 1) ig_launch(q, conv_direct_wgrad_kernel<1>, grid, DIRECT_THREADS, 0, dy, x, *geo, scratch, counters, dw, db);
    else ig_launch(q, conv_direct_wgrad_kernel<3>, grid, DIRECT_THREADS, 0, dy, x, *geo, scratch, counters, dw, db);
}
