/* cpu_gemm.c — the CPU backend's SGEMM: C = act(op(A)·op(B) + bias), row-major, with packed
 * panels and a register-tiled micro-kernel (AVX-512, AVX2+FMA, or portable C, by what the CPU
 * has), split over the threads of one OpenMP team.
 *
 * Why not a BLAS: a threaded BLAS brings a thread pool of its own, and on a small machine
 * its threads and OpenMP's busy-wait for each other between calls (OpenBLAS's pthreads and
 * libgomp fighting over 2 cores cost more than the matmuls did). Here the matmuls run in
 * the same OpenMP team as every other kernel, and bias and activation are applied while
 * the tile is still in registers.
 *
 * Blocking (BLIS-style): K is cut into blocks of at most KC; for each, a block of at most
 * MC rows of op(A) is packed into MR-row micro-panels shared by the team, and each thread
 * packs the NR-column micro-panels of op(B) it owns (KC·NR floats, kept in L1) and runs the
 * micro-kernel over every micro-panel of A against it. */
#include "backend/cpu/cpu.h"

#include <omp.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define KC 256
#define MC 512

/* What a micro-kernel call does with the C tile besides adding the product. */
typedef struct tile_epi {
    bool load;         /* add to what C holds (K blocks after the first) */
    bool finish;       /* the last K block: add the bias, apply the activation */
    const float *bias; /* at the tile's first column, or NULL */
    const float *row_bias; /* at the tile's first row, or NULL */
    int act;
} tile_epi;

typedef struct gemm_isa {
    int mr, nr;
    /* c[mr' × nr'] (+)= a-panel · b-panel over kc, with the epilogue; mr' ≤ mr, nr' ≤ nr */
    void (*kernel)(int kc, const float *a, const float *b, float *c, int ldc, int mr, int nr, const tile_epi *e);
    /* rows [i0, i0+rows) of op(A), K range [k0, k0+kc), into dst[k·mr + i], zero-padded to mr rows */
    void (*pack_a)(const cpu_gemm *p, int i0, int rows, int k0, int kc, float *dst);
    /* columns [j0, j0+cols) of op(B), K range [k0, k0+kc), into dst[k·nr + j], zero-padded */
    void (*pack_b)(const cpu_gemm *p, int j0, int cols, int k0, int kc, float *dst);
} gemm_isa;

static int min_i(int a, int b) { return a < b ? a : b; }

/* ---------------------------------------------------------------- portable C */

#define GEN_MR 4
#define GEN_NR 8

/* The row sums of op(A) over a packed panel, into p->a_rowsum (added to it after the first
 * K block): each row is packed by one thread once per K block, so this needs no reduction. */
static void rowsum_gen(const cpu_gemm *p, int i0, int rows, int k0, int kc, const float *dst, int mr)
{
    for (int i = 0; i < rows; i++) {
        float s = k0 ? p->a_rowsum[i0 + i] : 0.0f;
        for (int k = 0; k < kc; k++) s += dst[(size_t)k * mr + i];
        p->a_rowsum[i0 + i] = s;
    }
}

static void pack_a_gen(const cpu_gemm *p, int i0, int rows, int k0, int kc, float *dst, int mr)
{
    for (int k = 0; k < kc; k++) {
        float *d = dst + (size_t)k * mr;
        for (int i = 0; i < mr; i++) {
            size_t at = p->ta ? (size_t)(k0 + k) * p->lda + (i0 + i) : (size_t)(i0 + i) * p->lda + (k0 + k);
            d[i] = i < rows ? p->a[at] : 0.0f;
        }
    }
    if (p->a_rowsum) rowsum_gen(p, i0, rows, k0, kc, dst, mr);
}

static void pack_b_gen(const cpu_gemm *p, int j0, int cols, int k0, int kc, float *dst, int nr)
{
    for (int k = 0; k < kc; k++) {
        float *d = dst + (size_t)k * nr;
        for (int j = 0; j < nr; j++) {
            size_t at = p->tb ? (size_t)(j0 + j) * p->ldb + (k0 + k) : (size_t)(k0 + k) * p->ldb + (j0 + j);
            d[j] = j < cols ? p->b[at] : 0.0f;
        }
    }
}

/* Stores a finished tile held in acc[mr_max × nr_max] (row-major) into C. */
static void store_tile_gen(const float *acc, int nr_max, float *c, int ldc, int mr, int nr, const tile_epi *e)
{
    for (int i = 0; i < mr; i++) {
        float *ci = c + (size_t)i * ldc;
        for (int j = 0; j < nr; j++) {
            float v = acc[i * nr_max + j] + (e->load ? ci[j] : 0.0f);
            if (e->finish) {
                if (e->bias) v += e->bias[j];
                if (e->row_bias) v += e->row_bias[i];
                if (e->act == IG_ACT_RELU) v = v > 0 ? v : 0;
            }
            ci[j] = v;
        }
    }
}

static void kernel_gen(int kc, const float *a, const float *b, float *c, int ldc, int mr, int nr, const tile_epi *e)
{
    float acc[GEN_MR * GEN_NR] = {0};
    for (int k = 0; k < kc; k++, a += GEN_MR, b += GEN_NR)
        for (int i = 0; i < GEN_MR; i++)
            for (int j = 0; j < GEN_NR; j++) acc[i * GEN_NR + j] += a[i] * b[j];
    store_tile_gen(acc, GEN_NR, c, ldc, mr, nr, e);
}

static void pack_a_gen4(const cpu_gemm *p, int i0, int rows, int k0, int kc, float *dst)
{
    pack_a_gen(p, i0, rows, k0, kc, dst, GEN_MR);
}

static void pack_b_gen8(const cpu_gemm *p, int j0, int cols, int k0, int kc, float *dst)
{
    pack_b_gen(p, j0, cols, k0, kc, dst, GEN_NR);
}

static const gemm_isa isa_gen = {GEN_MR, GEN_NR, kernel_gen, pack_a_gen4, pack_b_gen8};

#if defined(__x86_64__)
/* ---------------------------------------------------------------- AVX2 + FMA: 6 × 16 */

#define AVX2_MR 6
#define AVX2_NR 16

__attribute__((target("avx2,fma"))) static void kernel_avx2(int kc, const float *a, const float *b, float *c,
                                                            int ldc, int mr, int nr, const tile_epi *e)
{
    __m256 acc[AVX2_MR][2];
    for (int i = 0; i < AVX2_MR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (int k = 0; k < kc; k++, a += AVX2_MR, b += AVX2_NR) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
        for (int i = 0; i < AVX2_MR; i++) {
            __m256 ai = _mm256_broadcast_ss(a + i);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    float tile[AVX2_MR * AVX2_NR];
    for (int i = 0; i < AVX2_MR; i++) {
        _mm256_storeu_ps(tile + i * AVX2_NR, acc[i][0]);
        _mm256_storeu_ps(tile + i * AVX2_NR + 8, acc[i][1]);
    }
    store_tile_gen(tile, AVX2_NR, c, ldc, mr, nr, e);
}

static void pack_a_gen6(const cpu_gemm *p, int i0, int rows, int k0, int kc, float *dst)
{
    pack_a_gen(p, i0, rows, k0, kc, dst, AVX2_MR);
}

static void pack_b_gen16(const cpu_gemm *p, int j0, int cols, int k0, int kc, float *dst)
{
    pack_b_gen(p, j0, cols, k0, kc, dst, AVX2_NR);
}

static const gemm_isa isa_avx2 = {AVX2_MR, AVX2_NR, kernel_avx2, pack_a_gen6, pack_b_gen16};

/* ---------------------------------------------------------------- AVX-512: 12 × 32 */

#define X_MR 12
#define X_NR 32

static inline __mmask16 lanes(int n) { return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

/* Transposes a 16 × 16 block held as 16 rows. */
__attribute__((target("avx512f"))) static inline void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int q = 0; q < 4; q++) {
        t[q] = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x88);
        t[4 + q] = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xDD);
        t[8 + q] = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x88);
        t[12 + q] = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xDD);
    }
    for (int q = 0; q < 4; q++) {
        r[q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0x88);
        r[4 + q] = _mm512_shuffle_f32x4(t[4 + q], t[12 + q], 0x88);
        r[8 + q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0xDD);
        r[12 + q] = _mm512_shuffle_f32x4(t[4 + q], t[12 + q], 0xDD);
    }
}

/* dst[k·ld + j] = src[j·lds + k] for j < rows (zero beyond, up to `width` ≤ 16), k < kc:
 * 16 × 16 blocks read along the source rows and written transposed. */
__attribute__((target("avx512f"))) static void pack_transposed(const float *src, size_t lds, int rows, int kc,
                                                               float *dst, int ld, int width)
{
    __mmask16 wm = lanes(width);
    for (int k0 = 0; k0 < kc; k0 += 16) {
        int kn = kc - k0 < 16 ? kc - k0 : 16;
        __mmask16 km = lanes(kn);
        __m512 r[16];
        for (int j = 0; j < 16; j++)
            r[j] = j < rows ? _mm512_maskz_loadu_ps(km, src + (size_t)j * lds + k0) : _mm512_setzero_ps();
        transpose16(r);
        for (int k = 0; k < kn; k++) _mm512_mask_storeu_ps(dst + (size_t)(k0 + k) * ld, wm, r[k]);
    }
}

__attribute__((target("avx512f"))) static void pack_a_x(const cpu_gemm *p, int i0, int rows, int k0, int kc,
                                                        float *dst)
{
    if (p->ta) {
        __mmask16 m = lanes(rows);
        __m512 sum = p->a_rowsum && k0 ? _mm512_maskz_loadu_ps(m, p->a_rowsum + i0) : _mm512_setzero_ps();
        for (int k = 0; k < kc; k++) {
            __m512 v = _mm512_maskz_loadu_ps(m, p->a + (size_t)(k0 + k) * p->lda + i0);
            sum = _mm512_add_ps(sum, v);
            _mm512_mask_storeu_ps(dst + (size_t)k * X_MR, lanes(X_MR), v);
        }
        if (p->a_rowsum) _mm512_mask_storeu_ps(p->a_rowsum + i0, m, sum);
    } else {
        pack_transposed(p->a + (size_t)i0 * p->lda + k0, (size_t)p->lda, rows, kc, dst, X_MR, X_MR);
        if (p->a_rowsum) rowsum_gen(p, i0, rows, k0, kc, dst, X_MR);
    }
}

__attribute__((target("avx512f"))) static void pack_b_x(const cpu_gemm *p, int j0, int cols, int k0, int kc,
                                                        float *dst)
{
    if (p->tb) {
        const float *src = p->b + (size_t)j0 * p->ldb + k0;
        pack_transposed(src, (size_t)p->ldb, min_i(cols, 16), kc, dst, X_NR, 16);
        if (cols > 16) pack_transposed(src + (size_t)16 * p->ldb, (size_t)p->ldb, cols - 16, kc, dst + 16, X_NR, 16);
        else
            for (int k = 0; k < kc; k++) _mm512_store_ps(dst + (size_t)k * X_NR + 16, _mm512_setzero_ps());
    } else {
        __mmask16 m0 = lanes(cols), m1 = lanes(cols - 16);
        for (int k = 0; k < kc; k++) {
            const float *s = p->b + (size_t)(k0 + k) * p->ldb + j0;
            _mm512_store_ps(dst + (size_t)k * X_NR, _mm512_maskz_loadu_ps(m0, s));
            __m512 hi = cols > 16 ? _mm512_maskz_loadu_ps(m1, s + 16) : _mm512_setzero_ps();
            _mm512_store_ps(dst + (size_t)k * X_NR + 16, hi);
        }
    }
}

__attribute__((target("avx512f"))) static void kernel_x(int kc, const float *a, const float *b, float *c, int ldc,
                                                        int mr, int nr, const tile_epi *e)
{
    __m512 acc[X_MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < X_MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int k = 0; k < kc; k++, a += X_MR, b += X_NR) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 12
        for (int i = 0; i < X_MR; i++) {
            __m512 ai = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    __mmask16 m[2] = {lanes(nr), lanes(nr - 16)};
    __m512 bias[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    if (e->finish && e->bias)
        for (int h = 0; h < 2; h++) bias[h] = _mm512_maskz_loadu_ps(m[h], e->bias + 16 * h);
    const bool relu = e->finish && e->act == IG_ACT_RELU;
#pragma GCC unroll 12
    for (int i = 0; i < X_MR; i++) {
        if (i >= mr) break;
        float *ci = c + (size_t)i * ldc;
        for (int h = 0; h < 2; h++) {
            __m512 v = _mm512_add_ps(acc[i][h], e->finish && e->row_bias ? _mm512_set1_ps(e->row_bias[i]) : bias[h]);
            if (e->load) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m[h], ci + 16 * h));
            if (relu) v = _mm512_max_ps(v, _mm512_setzero_ps());
            _mm512_mask_storeu_ps(ci + 16 * h, m[h], v);
        }
    }
}

static const gemm_isa isa_avx512 = {X_MR, X_NR, kernel_x, pack_a_x, pack_b_x};
#endif

static const gemm_isa *pick_isa(void)
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) return &isa_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &isa_avx2;
#endif
    return &isa_gen;
}

/* ---------------------------------------------------------------- driver */

/* Floats of the shared A block; a multiple of 16 so that the B panels after it stay
 * 64-byte aligned. */
static size_t apack_floats(const gemm_isa *isa, int m, int k)
{
    size_t mc = (size_t)(min_i(m, MC) + isa->mr - 1) / isa->mr * isa->mr;
    return (mc * (size_t)min_i(k, KC) + 15) / 16 * 16;
}

size_t ig_cpu_gemm_scratch(int m, int k, int nthreads)
{
    const gemm_isa *isa = pick_isa();
    return (apack_floats(isa, m, k) + (size_t)nthreads * (size_t)min_i(k, KC) * isa->nr) * sizeof(float);
}

/* [lo, hi) of n items for thread t of nt. */
static void share(int n, int t, int nt, int *lo, int *hi)
{
    int64_t l, h;
    cpu_split(n, t, nt, &l, &h);
    *lo = (int)l;
    *hi = (int)h;
}

/* Thread t's part of the GEMM on a team of nt that all call it (nt = 1: a thread alone, no
 * synchronisation). Every C element is computed by one thread in one K order, so the result
 * does not depend on nt. */
static void gemm_team(const cpu_gemm *p, float *buf, int t, int nt)
{
    const gemm_isa *isa = pick_isa();
    const int mr = isa->mr, nr = isa->nr;
    const int n_kb = (p->k + KC - 1) / KC, n_np = (p->n + nr - 1) / nr;
    const size_t kc_max = (size_t)min_i(p->k, KC), a_floats = apack_floats(isa, p->m, p->k);
    float *apack = buf, *bpack = buf + a_floats + (size_t)t * kc_max * nr;
    for (int kb = 0; kb < n_kb; kb++) {
        /* K blocks of near-equal size, so no block is a short tail */
        int k0 = (int)((int64_t)p->k * kb / n_kb), kc = (int)((int64_t)p->k * (kb + 1) / n_kb) - k0;
        tile_epi e = {.load = kb > 0 || p->accumulate, .finish = kb == n_kb - 1, .act = p->act};
        for (int i0 = 0; i0 < p->m; i0 += MC) {
            int mc = min_i(MC, p->m - i0), n_mp = (mc + mr - 1) / mr, lo, hi;
            share(n_mp, t, nt, &lo, &hi);
            for (int ip = lo; ip < hi; ip++)
                isa->pack_a(p, i0 + ip * mr, min_i(mr, mc - ip * mr), k0, kc, apack + (size_t)ip * mr * kc);
            if (nt > 1) {
#pragma omp barrier
            }
            /* threads own column panels; with fewer panels than threads they share rows */
            int j_lo = 0, j_hi = n_np, i_lo = 0, i_hi = n_mp;
            if (n_np >= nt) share(n_np, t, nt, &j_lo, &j_hi);
            else share(n_mp, t, nt, &i_lo, &i_hi);
            for (int jp = j_lo; jp < j_hi && i_lo < i_hi; jp++) {
                int j0 = jp * nr, cols = min_i(nr, p->n - j0);
                isa->pack_b(p, j0, cols, k0, kc, bpack);
                e.bias = p->bias ? p->bias + j0 : NULL;
                for (int ip = i_lo; ip < i_hi; ip++) {
                    float *c = p->c + (size_t)(i0 + ip * mr) * p->ldc + j0;
                    const float *a = apack + (size_t)ip * mr * kc;
                    e.row_bias = p->row_bias ? p->row_bias + i0 + ip * mr : NULL;
                    isa->kernel(kc, a, bpack, c, p->ldc, min_i(mr, mc - ip * mr), cols, &e);
                }
            }
            if (nt > 1) {
#pragma omp barrier
            }
        }
    }
}

void ig_cpu_gemm(const cpu_gemm *p, const cpu_scratch *s)
{
#pragma omp parallel num_threads(s->nthreads)
    gemm_team(p, s->buf, omp_get_thread_num(), omp_get_num_threads());
}

void ig_cpu_gemm_serial(const cpu_gemm *p, float *buf) { gemm_team(p, buf, 0, 1); }
