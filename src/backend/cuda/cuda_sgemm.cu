/* cuda_sgemm.cu — fp32 GEMM for problems with few rows (a batch of 128), where the tiles of
 * cuBLASLt's fp32 kernels leave most of the GPU idle. 32×64 output tiles, so a 128×512 result
 * is 32 tiles, and K split into slices so that there are about two blocks per SM. Each slice
 * writes its partial tile to the workspace; the block that finishes a tile last (a ticket per
 * tile) sums the partials in slice order, so the result does not depend on which block came
 * last, then applies bias, ReLU and beta, and resets the ticket for the next launch (and the
 * next replay of a captured graph). */
#include "backend/cuda/cuda.h"

#include <cuda_runtime.h>

namespace {

constexpr int BM = 32, BN = 64, BK = 16, THREADS = 128;
constexpr int A_LOADS = BM * BK / THREADS, B_LOADS = BK * BN / THREADS;

struct gemm_args {
    bool ta, tb, relu;
    int m, n, k, lda, ldb, splits, kslice;
    const float *a, *b, *bias;
    float *c, *ws;
    float beta;
    int *tickets;
};

/* op(A)[i][kk] and op(B)[kk][j] for the element this thread loads in round r; e enumerates a
 * tile so that consecutive threads read consecutive addresses in either storage order. */
__device__ __forceinline__ float load_a(const gemm_args &p, int row0, int k0, int e, int *mi, int *ki)
{
    int i, kk;
    if (p.ta) kk = e / BM, i = e % BM; /* A stored k × m */
    else i = e / BK, kk = e % BK;      /* A stored m × k */
    *mi = i, *ki = kk;
    int gi = row0 + i, gk = k0 + kk;
    if (gi >= p.m || gk >= p.k) return 0.0f;
    return p.ta ? p.a[(size_t)gk * p.lda + gi] : p.a[(size_t)gi * p.lda + gk];
}

__device__ __forceinline__ float load_b(const gemm_args &p, int col0, int k0, int e, int *ki, int *nj)
{
    int j, kk;
    if (p.tb) j = e / BK, kk = e % BK; /* B stored n × k */
    else kk = e / BN, j = e % BN;      /* B stored k × n */
    *ki = kk, *nj = j;
    int gj = col0 + j, gk = k0 + kk;
    if (gj >= p.n || gk >= p.k) return 0.0f;
    return p.tb ? p.b[(size_t)gj * p.ldb + gk] : p.b[(size_t)gk * p.ldb + gj];
}

__global__ void __launch_bounds__(THREADS) sgemm_small(gemm_args p)
{
    __shared__ __align__(16) float as[2][BK][BM];
    __shared__ __align__(16) float bs[2][BK][BN];
    __shared__ int last;
    const int tid = threadIdx.x, tm = tid / 16, tn = tid % 16;
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN, slice = blockIdx.z;
    const int kb = slice * p.kslice, ke = min(p.k, kb + p.kslice);

    float acc[4][4] = {};
    float ra[A_LOADS], rb[B_LOADS];
    int ai[A_LOADS], ak[A_LOADS], bk[B_LOADS], bj[B_LOADS];
    auto fetch = [&](int k0) {
        for (int r = 0; r < A_LOADS; r++) ra[r] = k0 < ke ? load_a(p, row0, k0, tid + r * THREADS, &ai[r], &ak[r]) : 0.0f;
        for (int r = 0; r < B_LOADS; r++) rb[r] = k0 < ke ? load_b(p, col0, k0, tid + r * THREADS, &bk[r], &bj[r]) : 0.0f;
    };
    auto stash = [&](int buf, int k0) {
        /* elements past this slice's end are zero: the next slice owns them */
        for (int r = 0; r < A_LOADS; r++) as[buf][ak[r]][ai[r]] = k0 + ak[r] < ke ? ra[r] : 0.0f;
        for (int r = 0; r < B_LOADS; r++) bs[buf][bk[r]][bj[r]] = k0 + bk[r] < ke ? rb[r] : 0.0f;
    };

    fetch(kb);
    stash(0, kb);
    __syncthreads();
    int buf = 0;
    for (int k0 = kb; k0 < ke; k0 += BK) {
        const bool more = k0 + BK < ke;
        if (more) fetch(k0 + BK); /* global loads in flight while this tile is multiplied */
#pragma unroll
        for (int kk = 0; kk < BK; kk++) {
            float4 a4 = *reinterpret_cast<const float4 *>(&as[buf][kk][tm * 4]);
            float4 b4 = *reinterpret_cast<const float4 *>(&bs[buf][kk][tn * 4]);
            float av[4] = {a4.x, a4.y, a4.z, a4.w}, bv[4] = {b4.x, b4.y, b4.z, b4.w};
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
        }
        if (more) {
            stash(buf ^ 1, k0 + BK);
            __syncthreads();
            buf ^= 1;
        }
    }

    const size_t plane = (size_t)p.m * p.n;
    if (p.splits > 1) {
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                int gi = row0 + tm * 4 + i, gj = col0 + tn * 4 + j;
                if (gi < p.m && gj < p.n) p.ws[slice * plane + (size_t)gi * p.n + gj] = acc[i][j];
            }
        __threadfence();
        __syncthreads();
        int *ticket = &p.tickets[blockIdx.y * gridDim.x + blockIdx.x];
        if (tid == 0) last = atomicAdd(ticket, 1) == p.splits - 1;
        __syncthreads();
        if (!last) return;
        __threadfence();
        if (tid == 0) *ticket = 0;
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            int gi = row0 + tm * 4 + i, gj = col0 + tn * 4 + j;
            if (gi >= p.m || gj >= p.n) continue;
            size_t at = (size_t)gi * p.n + gj;
            float v = acc[i][j];
            if (p.splits > 1) {
                v = 0.0f;
                for (int s = 0; s < p.splits; s++) v += s == slice ? acc[i][j] : __ldcg(&p.ws[s * plane + at]);
            }
            if (p.bias) v += p.bias[gj];
            if (p.beta != 0.0f) v += p.beta * p.c[at];
            if (p.relu) v = fmaxf(v, 0.0f);
            p.c[at] = v;
        }
}

} // namespace

extern "C" bool ig_cuda_sgemm_small(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                                    const float *b, int64_t ldb, float *c, const float *bias, bool relu, float beta,
                                    int sms, float *ws, size_t ws_bytes, int *tickets, int n_tickets, cudaStream_t s)
{
    if (m < 1 || n < 1 || k < 1 || m > 256 || k > (1 << 24) || n > (1 << 24)) return false;
    const int tiles_m = (int)((m + BM - 1) / BM), tiles_n = (int)((n + BN - 1) / BN), tiles = tiles_m * tiles_n;
    if (tiles > n_tickets || tiles >= 2 * sms) return false; /* cuBLASLt's tiles fill the GPU */
    /* about two blocks per SM, each slice at least 64 deep; the partial tiles must fit the workspace */
    int splits = (2 * sms + tiles - 1) / tiles;
    int max_splits = (int)((k + 63) / 64);
    if (splits > max_splits) splits = max_splits;
    while (splits > 1 && (size_t)splits * (size_t)(m * n) * sizeof(float) > ws_bytes) splits--;
    int kslice = (int)((k + splits - 1) / splits);
    kslice = (kslice + BK - 1) / BK * BK;
    splits = (int)((k + kslice - 1) / kslice);
    gemm_args p = {ta, tb, relu, (int)m, (int)n, (int)k, (int)lda, (int)ldb, splits, kslice, a, b, bias, c, ws, beta,
                   tickets};
    sgemm_small<<<dim3(tiles_n, tiles_m, splits), THREADS, 0, s>>>(p);
    return true;
}
