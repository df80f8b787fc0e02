/* cuda_batchnorm.cu — BATCHNORM and its gradients (src/ops/batchnorm.c), deterministic: every
 * reduction has a fixed order, so a run repeats to the bit.
 * A channel's sums are split over `parts` blocks (a fixed function of the shape, so that a
 * large channel is not left to one block), each writing a partial result into the scratch;
 * the channel's last block to do so (an atomic count per channel elects it, in one launch:
 * no second kernel to wait for) combines the partials in order with one warp. The statistics are combined as
 * (count, mean, M2) triples (Chan et al.), each thread's own from sums shifted by its first
 * value, which keeps the variance accurate when the mean is large against the spread.
 * Elementwise passes read float4s where a plane's length allows. The per-element math is
 * src/ops/bn_math.h's, as on the CPU. */
#include "cuda.h"
#include "cuda_launch.cuh"

#include <stdint.h>

#define THREADS 256
#define WARPS (THREADS / 32)
#define FULL 0xffffffffu

/* Blocks per channel: about 1024 blocks in all (several per SM), each with at least 4096
 * values (16 per thread), and no more than MAX_PARTS per channel. */
#define TARGET_BLOCKS 1024
#define MIN_BLOCK 4096
#define MAX_PARTS 256

static int64_t parts_of(const ig_bn_geom *g)
{
    int64_t by_blocks = (TARGET_BLOCKS + g->c - 1) / g->c, by_size = g->n * g->hw / MIN_BLOCK;
    int64_t p = by_blocks < by_size ? by_blocks : by_size;
    return p < 1 ? 1 : p > MAX_PARTS ? MAX_PARTS : p;
}

/* three floats per partial: the statistics' triple, or the gradient's two sums */
extern "C" size_t ig_cuda_bn_scratch(const ig_bn_geom *g) { return (size_t)(g->c * parts_of(g)) * 3 * sizeof(float); }

/* q = a / b and r = a % b; in 32 bits where a fits (b always does), much cheaper there. */
static __device__ inline void divmod(uint64_t a, uint64_t b, uint64_t *q, uint64_t *r)
{
    if ((a >> 32) == 0) {
        uint32_t q32 = (uint32_t)a / (uint32_t)b;
        *q = q32;
        *r = (uint32_t)a - q32 * (uint32_t)b;
    } else {
        *q = a / b;
        *r = a - *q * b;
    }
}

/* V consecutive floats, the V-th unit of p (V = 4: one 16-byte access). */
template <int V> struct vec {
    float v[V];
};

template <int V> static __device__ inline vec<V> load(const float *p, uint64_t unit)
{
    vec<V> r;
    if constexpr (V == 4) {
        float4 f = reinterpret_cast<const float4 *>(p)[unit];
        r.v[0] = f.x, r.v[1] = f.y, r.v[2] = f.z, r.v[3] = f.w;
    } else {
        r.v[0] = p[unit];
    }
    return r;
}

template <int V> static __device__ inline void store(float *p, uint64_t unit, const vec<V> &r)
{
    if constexpr (V == 4) reinterpret_cast<float4 *>(p)[unit] = make_float4(r.v[0], r.v[1], r.v[2], r.v[3]);
    else p[unit] = r.v[0];
}

/* Where unit u of a channel's units lies: sample u / per_plane, unit u % per_plane of it. */
static __device__ inline uint64_t channel_unit(uint64_t u, uint64_t per_plane, uint64_t c, uint64_t ch)
{
    uint64_t i, r;
    divmod(u, per_plane, &i, &r);
    return (i * c + ch) * per_plane + r;
}

/* The block's share [lo, hi) of a channel's `units`, split into `parts`. */
static __device__ inline void block_range(uint64_t units, uint64_t parts, uint64_t *lo, uint64_t *hi)
{
    uint64_t per = (units + parts - 1) / parts;
    *lo = blockIdx.y * per;
    *hi = *lo + per < units ? *lo + per : units;
}

/* ---------------------------------------------------------------- statistics */

struct moments {
    float n, mean, m2; /* count, mean, Σ (x − mean)² */
};

static __device__ inline moments merge(moments a, moments b)
{
    if (b.n == 0) return a;
    if (a.n == 0) return b;
    float n = a.n + b.n, d = b.mean - a.mean, wb = b.n / n;
    return {n, a.mean + d * wb, a.m2 + b.m2 + d * d * a.n * wb};
}

/* Lane 0 receives the warp's merge, in a fixed tree order. */
static __device__ inline moments warp_merge(moments m)
{
    for (int o = 16; o > 0; o >>= 1) {
        moments other = {__shfl_down_sync(FULL, m.n, o), __shfl_down_sync(FULL, m.mean, o),
                         __shfl_down_sync(FULL, m.m2, o)};
        m = merge(m, other);
    }
    return m;
}

/* One warp (lane = its lane) finishing channel ch: its parts in order, then the mean and
 * 1/std into saved and the running statistics moved towards the batch's. */
static __device__ void stats_finish(int64_t ch, int lane, const float *scratch, int64_t parts, int64_t c, int64_t count,
                                    float momentum, float eps, float *saved, float *rmean, float *rvar)
{
    moments m = {0, 0, 0};
    for (int64_t p = lane; p < parts; p += 32) {
        const float *in = scratch + (ch * parts + p) * 3;
        m = merge(m, moments{__ldcg(in), __ldcg(in + 1), __ldcg(in + 2)});
    }
    m = warp_merge(m);
    if (lane != 0) return;
    float var = fmaxf(m.m2 / m.n, 0.0f); /* biased; rounding may leave M2 a hair below 0 */
    saved[ch] = m.mean;
    saved[c + ch] = ig_bn_invstd(var, eps);
    rmean[ch] = ig_bn_running(rmean[ch], m.mean, momentum);
    rvar[ch] = ig_bn_running(rvar[ch], ig_bn_unbiased(var, count), momentum);
}

/* Block (ch, p): the moments of part p of channel ch into scratch[(ch·parts + p)·3 ..]; the
 * channel's last block finishes it (stats_finish). */
template <int V>
static __global__ void __launch_bounds__(THREADS) stats_kernel(const float *x, ig_bn_geom g, float *scratch, int *counters,
                                                               float momentum, float eps, float *saved, float *rmean,
                                                               float *rvar)
{
    ig_grid_enter();
    uint64_t ch = blockIdx.x, parts = gridDim.y, per_plane = g.hw / V, lo, hi;
    block_range(g.n * per_plane, parts, &lo, &hi);
    float shift = 0, s1 = 0, s2 = 0, count = 0;
    for (uint64_t u = lo + threadIdx.x; u < hi; u += THREADS) {
        vec<V> v = load<V>(x, channel_unit(u, per_plane, g.c, ch));
        if (count == 0) shift = v.v[0];
        for (int k = 0; k < V; k++) {
            float d = v.v[k] - shift;
            s1 += d;
            s2 += d * d;
        }
        count += V;
    }
    moments m = {count, count > 0 ? shift + s1 / count : 0.0f, count > 0 ? s2 - s1 * (s1 / count) : 0.0f};
    __shared__ moments warps[WARPS];
    m = warp_merge(m);
    if ((threadIdx.x & 31) == 0) warps[threadIdx.x >> 5] = m;
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < WARPS; w++) m = merge(m, warps[w]);
        float *out = scratch + (ch * parts + blockIdx.y) * 3;
        out[0] = m.n, out[1] = m.mean, out[2] = m.m2;
    }
    if (!ig_grid_last_block(&counters[ch], (int)parts, true) || threadIdx.x >= 32) return;
    stats_finish(ch, threadIdx.x, scratch, parts, g.c, g.n * g.hw, momentum, eps, saved, rmean, rvar);
}

/* Evaluation: the statistics are the running ones. */
static __global__ void eval_stats_kernel(const float *rmean, const float *rvar, int64_t c, float eps, float *saved)
{
    ig_grid_enter();
    int64_t ch = (int64_t)blockIdx.x * THREADS + threadIdx.x;
    if (ch >= c) return;
    saved[ch] = rmean[ch];
    saved[c + ch] = ig_bn_invstd(rvar[ch], eps);
}

template <int V>
static __global__ void __launch_bounds__(THREADS) apply_kernel(const float *x, const float *gamma, const float *beta,
                                                               const float *saved, float *y, ig_bn_geom g)
{
    ig_grid_enter();
    uint64_t per_plane = g.hw / V, units = g.n * g.c * per_plane;
    for (uint64_t u = blockIdx.x * (uint64_t)THREADS + threadIdx.x; u < units; u += (uint64_t)gridDim.x * THREADS) {
        uint64_t plane, r, i, ch;
        divmod(u, per_plane, &plane, &r);
        divmod(plane, g.c, &i, &ch);
        float mean = saved[ch], invstd = saved[g.c + ch], ga = gamma[ch], be = beta[ch];
        vec<V> v = load<V>(x, u);
        for (int k = 0; k < V; k++) v.v[k] = ig_bn_y(v.v[k], mean, invstd, ga, be);
        store<V>(y, u, v);
    }
}

/* ---------------------------------------------------------------- gradients */

/* One warp finishing channel ch: dβ = Σ dy, dγ = Σ dy·(x − mean)·invstd (unless NULL), the
 * parts in order. */
static __device__ void grad_finish(int64_t ch, int lane, const float *scratch, int64_t parts, int64_t c,
                                   const float *saved, float *dgamma, float *dbeta)
{
    float s_dy = 0, s_dyx = 0;
    for (int64_t p = lane; p < parts; p += 32) {
        s_dy += __ldcg(scratch + (ch * parts + p) * 3);
        s_dyx += __ldcg(scratch + (ch * parts + p) * 3 + 1);
    }
    for (int o = 16; o > 0; o >>= 1) {
        s_dy += __shfl_down_sync(FULL, s_dy, o);
        s_dyx += __shfl_down_sync(FULL, s_dyx, o);
    }
    if (lane != 0) return;
    dbeta[ch] = s_dy;
    if (dgamma) dgamma[ch] = s_dyx * saved[c + ch];
}

/* Block (ch, p): Σ dy and Σ dy·(x − mean) over part p of channel ch (only Σ dy where x is
 * NULL: CHANNEL_SUM); the channel's last block finishes it (grad_finish). */
template <int V>
static __global__ void __launch_bounds__(THREADS) grad_kernel(const float *dy, const float *x, const float *saved,
                                                              ig_bn_geom g, float *scratch, int *counters,
                                                              float *dgamma, float *dbeta)
{
    ig_grid_enter();
    uint64_t ch = blockIdx.x, parts = gridDim.y, per_plane = g.hw / V, lo, hi;
    block_range(g.n * per_plane, parts, &lo, &hi);
    float mean = x ? saved[ch] : 0.0f, s_dy = 0, s_dyx = 0;
    for (uint64_t u = lo + threadIdx.x; u < hi; u += THREADS) {
        uint64_t at = channel_unit(u, per_plane, g.c, ch);
        vec<V> d = load<V>(dy, at);
        for (int k = 0; k < V; k++) s_dy += d.v[k];
        if (!x) continue;
        vec<V> v = load<V>(x, at);
        for (int k = 0; k < V; k++) s_dyx += d.v[k] * (v.v[k] - mean);
    }
    for (int o = 16; o > 0; o >>= 1) {
        s_dy += __shfl_down_sync(FULL, s_dy, o);
        s_dyx += __shfl_down_sync(FULL, s_dyx, o);
    }
    __shared__ float warps[2][WARPS];
    if ((threadIdx.x & 31) == 0) warps[0][threadIdx.x >> 5] = s_dy, warps[1][threadIdx.x >> 5] = s_dyx;
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < WARPS; w++) s_dy += warps[0][w], s_dyx += warps[1][w];
        float *out = scratch + (ch * parts + blockIdx.y) * 3;
        out[0] = s_dy, out[1] = s_dyx;
    }
    if (!ig_grid_last_block(&counters[ch], (int)parts, true) || threadIdx.x >= 32) return;
    grad_finish(ch, threadIdx.x, scratch, parts, g.c, saved, dgamma, dbeta);
}

/* dgamma and dbeta NULL in evaluation */
template <int V>
static __global__ void __launch_bounds__(THREADS) dx_kernel(const float *dy, const float *x, const float *gamma,
                                                            const float *saved, const float *dgamma, const float *dbeta,
                                                            float *dx, ig_bn_geom g)
{
    ig_grid_enter();
    uint64_t per_plane = g.hw / V, units = g.n * g.c * per_plane;
    int64_t count = g.n * g.hw;
    int training = dgamma != NULL;
    for (uint64_t u = blockIdx.x * (uint64_t)THREADS + threadIdx.x; u < units; u += (uint64_t)gridDim.x * THREADS) {
        uint64_t plane, r, i, ch;
        divmod(u, per_plane, &plane, &r);
        divmod(plane, g.c, &i, &ch);
        float mean = saved[ch], invstd = saved[g.c + ch], ga = gamma[ch];
        float dg = training ? dgamma[ch] : 0.0f, db = training ? dbeta[ch] : 0.0f;
        vec<V> d = load<V>(dy, u), v = load<V>(x, u);
        for (int k = 0; k < V; k++) d.v[k] = ig_bn_dx(d.v[k], v.v[k], mean, invstd, ga, dg, db, count, training);
        store<V>(dx, u, d);
    }
}

/* ---------------------------------------------------------------- launchers */

/* float4s where every plane is a whole number of them (planes then start 16-byte aligned:
 * buffers are 256-byte aligned) */
static bool vec4(const ig_bn_geom *g) { return g->hw % 4 == 0; }

static unsigned grid_for(uint64_t units)
{
    uint64_t blocks = (units + THREADS - 1) / THREADS;
    return (unsigned)(blocks > 65536 ? 65536 : blocks ? blocks : 1);
}

extern "C" void ig_cuda_batchnorm(const float *x, const float *gamma, const float *beta, float *rmean, float *rvar,
                                  float *y, float *saved, const ig_bn_geom *g, int training, float momentum, float eps,
                                  float *scratch, int *counters, ig_cuda_queue *q)
{
    dim3 split((unsigned)g->c, (unsigned)parts_of(g));
    if (training) {
        if (vec4(g)) ig_launch(q, stats_kernel<4>, split, THREADS, 0, x, *g, scratch, counters, momentum, eps, saved, rmean, rvar);
        else ig_launch(q, stats_kernel<1>, split, THREADS, 0, x, *g, scratch, counters, momentum, eps, saved, rmean, rvar);
    } else {
        ig_launch(q, eval_stats_kernel, (unsigned)((g->c + THREADS - 1) / THREADS), THREADS, 0, rmean, rvar, g->c, eps, saved);
    }
    uint64_t elems = (uint64_t)(g->n * g->c * g->hw);
    if (vec4(g)) ig_launch(q, apply_kernel<4>, grid_for(elems / 4), THREADS, 0, x, gamma, beta, saved, y, *g);
    else ig_launch(q, apply_kernel<1>, grid_for(elems), THREADS, 0, x, gamma, beta, saved, y, *g);
}

extern "C" void ig_cuda_batchnorm_grad(const float *dy, const float *x, const float *saved, float *dgamma,
                                       float *dbeta, const ig_bn_geom *g, float *scratch, int *counters, ig_cuda_queue *q)
{
    dim3 split((unsigned)g->c, (unsigned)parts_of(g));
    if (vec4(g)) ig_launch(q, grad_kernel<4>, split, THREADS, 0, dy, x, saved, *g, scratch, counters, dgamma, dbeta);
    else ig_launch(q, grad_kernel<1>, split, THREADS, 0, dy, x, saved, *g, scratch, counters, dgamma, dbeta);
}

extern "C" void ig_cuda_channel_sum(const float *x, float *sum, const ig_bn_geom *g, float *scratch, int *counters,
                                    ig_cuda_queue *q)
{
    ig_cuda_batchnorm_grad(x, NULL, NULL, NULL, sum, g, scratch, counters, q);
}

extern "C" void ig_cuda_batchnorm_dx(const float *dy, const float *x, const float *gamma, const float *saved,
                                     const float *dgamma, const float *dbeta, float *dx, const ig_bn_geom *g,
                                     ig_cuda_queue *q)
{
    uint64_t elems = (uint64_t)(g->n * g->c * g->hw);
    if (vec4(g)) ig_launch(q, dx_kernel<4>, grid_for(elems / 4), THREADS, 0, dy, x, gamma, saved, dgamma, dbeta, dx, *g);
    else ig_launch(q, dx_kernel<1>, grid_for(elems), THREADS, 0, dy, x, gamma, saved, dgamma, dbeta, dx, *g);
}
