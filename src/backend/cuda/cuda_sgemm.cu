/* cuda_sgemm.cu — a GEMM of our own for the smallest products of a training step (a layer
 * with 10 outputs against a 128-sample batch), which cuBLASLt's heuristic serves badly: its
 * first choice splits a 10 × 128 × 128 weight gradient 264 ways (54 µs where 4 µs will do),
 * and its split-k kernels add a reduction kernel. Here: one launch, SIMT fp32 (TF32 off), tiles
 * of BM × BN with a TM × TN block of outputs per thread, k split over blockIdx.z, and the split
 * partial tiles summed by the last block of each tile to arrive, in split order (a counter per
 * tile, reset by that block), so results do not depend on timing. The epilogue adds the bias
 * and applies the activation (a dense layer's forward), or the kernel also sums op(A)'s rows
 * (a weight gradient's bias gradient: Σ over the batch of dz). On products of ~50 M
 * multiply-adds cuBLASLt's kernels are 15–40% faster than this one (cuda_gemm.c picks). */
#include "cuda.h"
#include "cuda_launch.cuh"

#include "ops/act_math.h"
#include "ops/loss_math.h"

#define RED 4 /* split partials loaded per round of the final sum */
#define PAD 4 /* keeps rows of the shared tiles 16-byte aligned and off one bank */

template <int BM, int BN, int TM, int TN, int BK> struct tile_cfg {
    static constexpr int THREADS = (BM / TM) * (BN / TN);
    static constexpr int A_LOADS = BM * BK / THREADS, B_LOADS = BN * BK / THREADS;
};

/* op(X)[r][kk] for a tile row r, k column kk of X stored with leading dimension ld; `kmajor`:
 * the k index is the contiguous one (row-major A not transposed, or B transposed). Loads are
 * laid out so that consecutive threads read consecutive addresses. */
template <int ROWS, int THREADS, int BK>
static __device__ inline void load_tile(const float *x, int ld, bool kmajor, int rows, int r0, int k0, int kend,
                                        float *reg)
{
#pragma unroll
    for (int j = 0; j < ROWS * BK / THREADS; j++) {
        int idx = (int)threadIdx.x + j * THREADS;
        int r = kmajor ? idx / BK : idx % ROWS, kk = kmajor ? idx % BK : idx / ROWS;
        int gr = r0 + r, gk = k0 + kk;
        reg[j] = gr < rows && gk < kend ? x[kmajor ? (size_t)gr * ld + gk : (size_t)gk * ld + gr] : 0.0f;
    }
}

template <int ROWS, int THREADS, int BK>
static __device__ inline void store_tile(const float *reg, bool kmajor, float (*s)[ROWS + PAD])
{
#pragma unroll
    for (int j = 0; j < ROWS * BK / THREADS; j++) {
        int idx = (int)threadIdx.x + j * THREADS;
        int r = kmajor ? idx / BK : idx % ROWS, kk = kmajor ? idx % BK : idx / ROWS;
        s[kk][r] = reg[j];
    }
}

/* SPARSE_CE's math (cuda_loss.cu) on rows of at most BN logits held by one tile: thread
 * (r, c) has logit (r, c), a row's BN threads are consecutive lanes of one warp, so the row's
 * max and sums are shuffles. Each row's loss parks in row_loss; the last of the tiles' last
 * blocks adds them in row order. Every thread of the block calls it. */
template <int BN>
static __device__ void loss_epilogue(const ig_sgemm_args &g, float logit, int r, int c, bool in)
{
    const unsigned all = 0xffffffffu;
    float mx = in ? logit : -INFINITY;
    for (int o = BN / 2; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(all, mx, o));
    float e = in ? expf(logit - mx) : 0.0f, sum = e;
    float t = in ? ig_ce_target(g.labels, NULL, r, c, g.n, g.eps) : 0.0f, tsum = t;
    for (int o = BN / 2; o > 0; o >>= 1) {
        sum += __shfl_xor_sync(all, sum, o);
        tsum += __shfl_xor_sync(all, tsum, o);
    }
    double lse = (double)logf(sum) + mx, part = in ? (double)t * (lse - logit) : 0.0;
    for (int o = BN / 2; o > 0; o >>= 1) part += __shfl_xor_sync(all, part, o);
    if (in) g.dlogits[(size_t)r * g.n + c] = (e * (tsum / sum) - t) * (1.0f / (float)g.m);
    if (in && c == 0) g.row_loss[r] = part;
    if (!ig_grid_last_block(g.counters + gridDim.x * gridDim.y, (int)(gridDim.x * gridDim.y), true) ||
        threadIdx.x >= 32)
        return;
    double total = ig_parts_sum(g.row_loss, g.m);
    if (threadIdx.x == 0) *g.loss = (float)(total / (double)g.m);
}

template <int BM, int BN, int TM, int TN, int BK>
__global__ void __launch_bounds__(tile_cfg<BM, BN, TM, TN, BK>::THREADS) sgemm_kernel(ig_sgemm_args g)
{
    ig_grid_enter();
    typedef tile_cfg<BM, BN, TM, TN, BK> cfg;
    __shared__ __align__(16) float as[2][BK][BM + PAD];
    __shared__ __align__(16) float bs[2][BK][BN + PAD];
    const int tid = threadIdx.x, tx = tid % (BN / TN), ty = tid / (BN / TN);
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN, split = blockIdx.z;
    const int k0 = split * g.kchunk, kend = min(g.k, k0 + g.kchunk);
    const bool a_kmajor = !g.ta, b_kmajor = g.tb, row_sums = g.bgrad && blockIdx.x == 0;

    float acc[TM][TN] = {};
    float rsum = 0.0f; /* row tid's sum of op(A) over this split's k, when row_sums */
    float ra[cfg::A_LOADS], rb[cfg::B_LOADS];
    load_tile<BM, cfg::THREADS, BK>(g.a, g.lda, a_kmajor, g.m, m0, k0, kend, ra);
    load_tile<BN, cfg::THREADS, BK>(g.b, g.ldb, b_kmajor, g.n, n0, k0, kend, rb);
    store_tile<BM, cfg::THREADS, BK>(ra, a_kmajor, as[0]);
    store_tile<BN, cfg::THREADS, BK>(rb, b_kmajor, bs[0]);
    __syncthreads();
    int buf = 0;
    for (int kt = k0; kt < kend; kt += BK) {
        const bool more = kt + BK < kend;
        if (more) { /* the next tile's loads are in flight while this one is used */
            load_tile<BM, cfg::THREADS, BK>(g.a, g.lda, a_kmajor, g.m, m0, kt + BK, kend, ra);
            load_tile<BN, cfg::THREADS, BK>(g.b, g.ldb, b_kmajor, g.n, n0, kt + BK, kend, rb);
        }
#pragma unroll
        for (int kk = 0; kk < BK; kk++) {
            float a[TM], b[TN];
#pragma unroll
            for (int i = 0; i < TM; i++) a[i] = as[buf][kk][ty * TM + i];
#pragma unroll
            for (int j = 0; j < TN; j++) b[j] = bs[buf][kk][tx * TN + j];
#pragma unroll
            for (int i = 0; i < TM; i++)
#pragma unroll
                for (int j = 0; j < TN; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        if (row_sums && tid < BM)
#pragma unroll
            for (int kk = 0; kk < BK; kk++) rsum += as[buf][kk][tid];
        if (more) {
            store_tile<BM, cfg::THREADS, BK>(ra, a_kmajor, as[buf ^ 1]);
            store_tile<BN, cfg::THREADS, BK>(rb, b_kmajor, bs[buf ^ 1]);
        }
        __syncthreads();
        buf ^= 1;
    }

    if (g.splits > 1) {
        /* park this split's tile, then let the tile's last block add all of them in order */
        const int tile = blockIdx.y * gridDim.x + blockIdx.x;
        float *part = g.partials + ((size_t)tile * g.splits + split) * (BM * BN);
#pragma unroll
        for (int i = 0; i < TM; i++)
#pragma unroll
            for (int j = 0; j < TN; j++) part[(ty * TM + i) * BN + tx * TN + j] = acc[i][j];
        if (row_sums && tid < BM) g.partials[g.row_part + ((size_t)blockIdx.y * g.splits + split) * BM + tid] = rsum;
        if (!ig_grid_last_block(&g.counters[tile], g.splits, true)) return;
        /* RED splits' values in flight at a time, added in split order */
        const float *first = g.partials + (size_t)tile * g.splits * (BM * BN);
        const float *rp = g.partials + g.row_part + (size_t)blockIdx.y * g.splits * BM + tid;
        const bool my_row = row_sums && tid < BM;
        float v[RED][TM][TN], rv[RED];
        for (int z0 = 0; z0 < g.splits; z0 += RED) {
#pragma unroll
            for (int u = 0; u < RED; u++) {
                if (z0 + u >= g.splits) break;
                const float *src = first + (size_t)(z0 + u) * (BM * BN);
#pragma unroll
                for (int i = 0; i < TM; i++)
#pragma unroll
                    for (int j = 0; j < TN; j++) v[u][i][j] = __ldcg(src + (ty * TM + i) * BN + tx * TN + j);
                if (my_row) rv[u] = __ldcg(rp + (size_t)(z0 + u) * BM);
            }
#pragma unroll
            for (int u = 0; u < RED; u++) {
                if (z0 + u >= g.splits) break;
#pragma unroll
                for (int i = 0; i < TM; i++)
#pragma unroll
                    for (int j = 0; j < TN; j++) acc[i][j] = z0 + u ? acc[i][j] + v[u][i][j] : v[u][i][j];
                if (my_row) rsum = z0 + u ? rsum + rv[u] : rv[u];
            }
        }
    }

    float out = 0.0f; /* the last output written: with one per thread, a fused loss's logit */
#pragma unroll
    for (int i = 0; i < TM; i++) {
        int r = m0 + ty * TM + i;
        if (r >= g.m) continue;
#pragma unroll
        for (int j = 0; j < TN; j++) {
            int c = n0 + tx * TN + j;
            if (c >= g.n) continue;
            size_t o = (size_t)r * g.ldc + c;
            float v = ig_act_fwd(g.act, g.act_p, g.bias ? acc[i][j] + g.bias[c] : acc[i][j]);
            out = g.dact ? v * ig_act_deriv(g.dact, g.act_p, 0.0f, g.dact_y[o]) : v;
            g.c[o] = out;
        }
    }
    if (row_sums && tid < BM && m0 + tid < g.m) g.bgrad[m0 + tid] = rsum;
    if constexpr (TM == 1 && TN == 1 && BN <= 32)
        if (g.labels) { /* a classifier's logits, all in this tile's columns (the host checks) */
            int r = m0 + ty, c = tx;
            loss_epilogue<BN>(g, out, r, c, r < g.m && c < g.n);
        }
}

/* One output per thread in 16 × 16 tiles: measured on an H200 against 32 × 32 and 64 × 64
 * tiles with 2 × 2 to 4 × 4 outputs per thread, the most threads (hence loads in flight) per
 * product won for every product this kernel is used for. */
#define TILE 16
#define TILE_BK 32
static_assert(TILE == IG_SGEMM_LOSS_CLASSES, "a fused loss's classes fill one tile's columns");

static int cdiv(int64_t a, int64_t b) { return (int)((a + b - 1) / b); }

extern "C" bool ig_cuda_sgemm_plan(int64_t m, int64_t n, int64_t k, int sms, ig_sgemm_plan *p)
{
    if (m < 1 || n < 1 || k < 1 || m > (1 << 24) || n > (1 << 24) || k > (1 << 24)) return false;
    /* split over k until the blocks about cover the SMs, each split one k-step or more */
    int tiles = cdiv(m, TILE) * cdiv(n, TILE);
    int splits = cdiv(sms, tiles), max_splits = cdiv(k, TILE_BK);
    if (splits > max_splits) splits = max_splits;
    int kchunk = cdiv(cdiv(k, splits), TILE_BK) * TILE_BK;
    splits = cdiv(k, kchunk);
    size_t parts = splits > 1 ? (size_t)splits * ((size_t)tiles * TILE * TILE + (size_t)cdiv(m, TILE) * TILE) : 0;
    *p = (ig_sgemm_plan){.splits = splits, .kchunk = kchunk, .tiles = tiles, .partial_floats = parts};
    return true;
}

extern "C" void ig_cuda_sgemm(const ig_sgemm_plan *p, ig_sgemm_args g, ig_cuda_queue *q)
{
    typedef tile_cfg<TILE, TILE, 1, 1, TILE_BK> cfg;
    g.splits = p->splits;
    g.kchunk = p->kchunk;
    g.row_part = (size_t)p->tiles * p->splits * TILE * TILE;
    dim3 grid((unsigned)cdiv(g.n, TILE), (unsigned)cdiv(g.m, TILE), (unsigned)p->splits);
    ig_launch(q, sgemm_kernel<TILE, TILE, 1, 1, TILE_BK>, grid, cfg::THREADS, 0, g);
}
