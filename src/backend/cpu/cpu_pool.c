/* cpu_pool.c — POOL2D and its gradient: the team splits the n·c planes. The results are
 * bit for bit those of src/ops/pool_math.h (the GPU's per-element math): the forward pass
 * picks each window's first maximum with its rule, and the gradient, which pool_math.h
 * gathers per input, is scattered here per window in output order — each input receives
 * the same terms in the same order, added to 0 — so the CPU searches each window once
 * instead of once per input it holds. Max pooling over 2×2 windows with stride 2 and no
 * padding, the usual one, has row kernels of its own: branch-free (which element wins
 * depends on the data, so branches would be mispredicted half the time), and with AVX-512
 * a row of up to 16 outputs is one masked step, however short the row. */
#include "backend/cpu/cpu.h"
#include "ops/act_math.h"
#include "ops/pool.h"

#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* pool_math.h's rule for a later value of a window: it wins if greater, or if it is NaN
 * (both sides evaluated: no branch). */
#define WINS(v, m) (((v) > (m)) | ((v) != (v)))

static bool is_max2(const ig_pool_geom *geo)
{
    return geo->mode == IG_POOL_MAX && geo->k == 2 && geo->s == 2 && geo->p == 0;
}

/* Row kernels of 2×2 max pooling: output row y[ow] from input rows r0 and r1, scanned as
 * ig_pool_argmax does; the gradient sends 0 + dy to each window's maximum in rows d0 and d1
 * (of width 2·ow) and 0 to the other three. */
typedef struct max2_isa {
    void (*row)(const float *r0, const float *r1, float *y, int64_t ow);
    void (*grad_row)(const float *r0, const float *r1, const float *dy, float *d0, float *d1, int64_t ow);
} max2_isa;

static void max2_row_gen(const float *r0, const float *r1, float *y, int64_t ow)
{
    for (int64_t ox = 0; ox < ow; ox++) {
        float m = r0[2 * ox], v = r0[2 * ox + 1];
        m = WINS(v, m) ? v : m;
        v = r1[2 * ox];
        m = WINS(v, m) ? v : m;
        v = r1[2 * ox + 1];
        y[ox] = WINS(v, m) ? v : m;
    }
}

static void max2_grad_row_gen(const float *r0, const float *r1, const float *dy, float *d0, float *d1, int64_t ow)
{
    for (int64_t ox = 0; ox < ow; ox++) {
        float m = r0[2 * ox], v = r0[2 * ox + 1];
        int w = WINS(v, m), at = w;
        m = w ? v : m;
        v = r1[2 * ox];
        w = WINS(v, m);
        at = w ? 2 : at;
        m = w ? v : m;
        v = r1[2 * ox + 1];
        at = WINS(v, m) ? 3 : at;
        float g = 0.0f + dy[ox];
        d0[2 * ox] = at == 0 ? g : 0.0f;
        d0[2 * ox + 1] = at == 1 ? g : 0.0f;
        d1[2 * ox] = at == 2 ? g : 0.0f;
        d1[2 * ox + 1] = at == 3 ? g : 0.0f;
    }
}

static const max2_isa max2_gen = {max2_row_gen, max2_grad_row_gen};

#if defined(__x86_64__)
static inline __mmask16 lanes16(int64_t n)
{
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1);
}

__attribute__((target("avx512f"))) static inline __mmask16 wins_x(__m512 v, __m512 m)
{
    return _mm512_cmp_ps_mask(v, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
}

/* The even and odd elements of the 2·n floats at r (n ≤ 16). */
__attribute__((target("avx512f"))) static inline void split_x(const float *r, int64_t n, __m512 *even, __m512 *odd)
{
    const __m512i ie = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i io = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    __m512 lo = _mm512_maskz_loadu_ps(lanes16(2 * n), r), hi = _mm512_maskz_loadu_ps(lanes16(2 * n - 16), r + 16);
    *even = _mm512_permutex2var_ps(lo, ie, hi);
    *odd = _mm512_permutex2var_ps(lo, io, hi);
}

/* Stores 2·n floats at r, alternating even[i] and odd[i] (n ≤ 16). */
__attribute__((target("avx512f"))) static inline void merge_x(float *r, int64_t n, __m512 even, __m512 odd)
{
    const __m512i il = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i ih = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    _mm512_mask_storeu_ps(r, lanes16(2 * n), _mm512_permutex2var_ps(even, il, odd));
    _mm512_mask_storeu_ps(r + 16, lanes16(2 * n - 16), _mm512_permutex2var_ps(even, ih, odd));
}

__attribute__((target("avx512f"))) static void max2_row_x(const float *r0, const float *r1, float *y, int64_t ow)
{
    for (int64_t o = 0; o < ow; o += 16) {
        int64_t n = ow - o < 16 ? ow - o : 16;
        __m512 a, b, c, d;
        split_x(r0 + 2 * o, n, &a, &b);
        split_x(r1 + 2 * o, n, &c, &d);
        __m512 m = _mm512_mask_mov_ps(a, wins_x(b, a), b);
        m = _mm512_mask_mov_ps(m, wins_x(c, m), c);
        _mm512_mask_storeu_ps(y + o, lanes16(n), _mm512_mask_mov_ps(m, wins_x(d, m), d));
    }
}

__attribute__((target("avx512f"))) static void max2_grad_row_x(const float *r0, const float *r1, const float *dy,
                                                               float *d0, float *d1, int64_t ow)
{
    for (int64_t o = 0; o < ow; o += 16) {
        int64_t n = ow - o < 16 ? ow - o : 16;
        __m512 a, b, c, d;
        split_x(r0 + 2 * o, n, &a, &b);
        split_x(r1 + 2 * o, n, &c, &d);
        __mmask16 kb = wins_x(b, a);
        __m512 m = _mm512_mask_mov_ps(a, kb, b);
        __mmask16 kc = wins_x(c, m);
        m = _mm512_mask_mov_ps(m, kc, c);
        __mmask16 kd = wins_x(d, m);
        __m512 g = _mm512_add_ps(_mm512_setzero_ps(), _mm512_maskz_loadu_ps(lanes16(n), dy + o));
        merge_x(d0 + 2 * o, n, _mm512_maskz_mov_ps((__mmask16)~(kb | kc | kd), g),
                _mm512_maskz_mov_ps(kb & (__mmask16)~(kc | kd), g));
        merge_x(d1 + 2 * o, n, _mm512_maskz_mov_ps(kc & (__mmask16)~kd, g), _mm512_maskz_mov_ps(kd, g));
    }
}

static const max2_isa max2_avx512 = {max2_row_x, max2_grad_row_x};
#endif

static const max2_isa *max2_pick(void)
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) return &max2_avx512;
#endif
    return &max2_gen;
}

ig_status ig_cpu_pool2d(const ig_graph *g, const ig_node *n, void *const *bases)
{
    int64_t planes;
    ig_pool_geom geo = ig_pool_geom_of(g, n, &planes);
    const float *x = CPU_F32(0);
    float *y = CPU_OUT(0);
    int64_t in = geo.h * geo.w, out = geo.oh * geo.ow;
    const max2_isa *max2 = is_max2(&geo) ? max2_pick() : NULL;
#pragma omp parallel for if (planes * in > CPU_PAR_MIN)
    for (int64_t c = 0; c < planes; c++)
        for (int64_t oy = 0; oy < geo.oh; oy++) {
            const float *r0 = x + c * in + 2 * oy * geo.w;
            float *yr = y + c * out + oy * geo.ow;
            if (max2) max2->row(r0, r0 + geo.w, yr, geo.ow);
            else
                for (int64_t ox = 0; ox < geo.ow; ox++) yr[ox] = ig_pool_out(x + c * in, &geo, oy, ox);
        }
    return IG_OK;
}

/* One plane's gradient, window by window in output order. */
static void pool_grad_plane(const float *dy, const float *x, float *dx, const ig_pool_geom *geo)
{
    if (geo->mode == IG_POOL_GLOBAL_AVG) {
        for (int64_t i = 0; i < geo->h * geo->w; i++) dx[i] = dy[0] / (float)(geo->h * geo->w);
        return;
    }
    memset(dx, 0, (size_t)(geo->h * geo->w) * sizeof *dx);
    const float div = (float)(geo->k * geo->k);
    for (int64_t oy = 0; oy < geo->oh; oy++)
        for (int64_t ox = 0; ox < geo->ow; ox++) {
            float d = dy[oy * geo->ow + ox];
            if (geo->mode == IG_POOL_MAX) {
                dx[ig_pool_argmax(x, geo, oy, ox)] += d;
                continue;
            }
            int64_t y0 = oy * geo->s - geo->p, x0 = ox * geo->s - geo->p;
            for (int64_t yy = y0 < 0 ? 0 : y0; yy < y0 + geo->k && yy < geo->h; yy++)
                for (int64_t xx = x0 < 0 ? 0 : x0; xx < x0 + geo->k && xx < geo->w; xx++)
                    dx[yy * geo->w + xx] += d / div;
        }
}

/* One plane's gradient through the 2 × 2 max-pool rows of `max2`. */
static void max2_grad_plane(const max2_isa *max2, const float *xc, const float *dyc, float *dxc, const ig_pool_geom *geo)
{
    /* rows and a column beyond the last window (odd sizes) belong to none */
    for (int64_t oy = 0; oy < geo->oh; oy++) {
        float *d0 = dxc + 2 * oy * geo->w;
        max2->grad_row(xc + 2 * oy * geo->w, xc + (2 * oy + 1) * geo->w, dyc + oy * geo->ow, d0, d0 + geo->w, geo->ow);
        if (geo->w & 1) d0[geo->w - 1] = d0[2 * geo->w - 1] = 0.0f;
    }
    if (geo->h & 1) memset(dxc + (geo->h - 1) * geo->w, 0, (size_t)geo->w * sizeof *dxc);
}

ig_status ig_cpu_pool2d_grad(const ig_graph *g, const ig_node *n, void *const *bases)
{
    int64_t planes;
    ig_pool_geom geo = ig_pool_geom_of(g, n, &planes);
    const float *dy = CPU_F32(0), *x = CPU_F32(1);
    float *dx = CPU_OUT(0);
    int64_t in = geo.h * geo.w, out = geo.oh * geo.ow;
    const max2_isa *max2 = is_max2(&geo) ? max2_pick() : NULL;
#pragma omp parallel for if (planes * in > CPU_PAR_MIN)
    for (int64_t c = 0; c < planes; c++) {
        const float *xc = x + c * in;
        float *dxc = dx + c * in;
        if (max2) max2_grad_plane(max2, xc, dy + c * out, dxc, &geo);
        else pool_grad_plane(dy + c * out, xc, dxc, &geo);
        /* a fused activation gradient; x is the activation's output */
        if (geo.act != IG_ACT_NONE) ig_cpu_act_grad_span(geo.act, geo.act_p, dxc, xc, dxc, (size_t)in);
    }
    return IG_OK;
}

