/* cpu_conv.c — CONV2D and its gradients as im2col + the backend's GEMM, and CHANNEL_SUM.
 *
 * The team splits the batch: each thread takes whole images and runs one single-threaded
 * GEMM per image on its own slice of the program's scratch, so no run allocates and no two
 * threads write the same output. (Splitting each image's GEMM over the team instead was
 * measured slower: an image's GEMM has too few column panels to share evenly, and every
 * K block costs a barrier.) Per image, with the column matrix col [K × oh·ow], K = c·kh·kw:
 *   CONV2D  y = W·col      (f × K · K × oh·ow), the bias per row and ReLU in the epilogue
 *   DGRAD   dcol = Wᵀ·dy   (K × f · f × oh·ow), then col2im adds dcol back into dx
 *   WGRAD   dWᵀ += col·dyᵀ (K × oh·ow · oh·ow × f) into the thread's partial sum; the
 *           partials are added in thread order afterwards, so a run's result does not
 *           depend on timing. dWᵀ rather than dW puts K, the larger side, where the
 *           micro-kernel's tiles fit it with the least padding.
 * im2col copies from the image padded with zeros, so its inner loops have no bounds to
 * check; a 1×1 kernel with stride 1 and no padding uses the image itself as col. */
#include "backend/cpu/cpu.h"
#include "ops/conv.h"

#include <omp.h>
#include <string.h>

/* One image's GEMM (pointers set per image) and the per-thread scratch it needs, in floats,
 * each part a multiple of 16 so that every part stays 64-byte aligned: the GEMM's packing,
 * the padded image and the column matrix (both with 16 floats of slack for im2col's block
 * copies), and WGRAD's partial sum. */
typedef struct conv_plan {
    ig_conv_geom q;
    cpu_gemm p;
    bool direct; /* the image is its own column matrix */
    size_t gemm, padded, col, part, per_thread;
} conv_plan;

static size_t floats16(size_t n) { return (n + 15) / 16 * 16; }

static conv_plan plan_of(const ig_graph *g, const ig_node *n)
{
    conv_plan pl = {.q = ig_conv_geom_of(g, n)};
    const ig_conv_geom *q = &pl.q;
    const int K = (int)(q->c * q->kh * q->kw), hw = (int)(q->oh * q->ow), f = (int)q->f;
    pl.direct = q->kh == 1 && q->kw == 1 && q->stride == 1 && q->pad == 0;
    switch (n->op) {
    case IG_OP_CONV2D: pl.p = (cpu_gemm){.m = f, .n = hw, .k = K, .lda = K, .ldb = hw, .ldc = hw}; break;
    case IG_OP_CONV2D_DGRAD:
        pl.p = (cpu_gemm){.m = K, .n = hw, .k = f, .lda = K, .ldb = hw, .ldc = hw, .ta = true};
        break;
    default: /* WGRAD */
        pl.p = (cpu_gemm){.m = K, .n = f, .k = hw, .lda = hw, .ldb = hw, .ldc = f, .tb = true};
        pl.part = floats16((size_t)K * f);
        break;
    }
    pl.gemm = floats16(ig_cpu_gemm_scratch(pl.p.m, pl.p.k, 1) / sizeof(float));
    if (!pl.direct) {
        pl.col = floats16((size_t)K * hw + 16);
        if (n->op != IG_OP_CONV2D_DGRAD)
            pl.padded = floats16((size_t)(q->c * (q->h + 2 * q->pad) * (q->w + 2 * q->pad)) + 16);
    }
    pl.per_thread = pl.gemm + pl.padded + pl.col + pl.part;
    return pl;
}

size_t ig_cpu_conv_scratch(const ig_graph *g, const ig_node *n, int nthreads)
{
    return plan_of(g, n).per_thread * (size_t)nthreads * sizeof(float);
}

/* [lo, hi) of the output positions o < n_out whose input o·stride + k − pad lies in [0, n_in). */
static void valid_range(int64_t n_in, int64_t n_out, int64_t k, const ig_conv_geom *q, int64_t *lo, int64_t *hi)
{
    int64_t off = k - q->pad, last = n_in - 1 - off;
    *lo = off >= 0 ? 0 : (-off + q->stride - 1) / q->stride;
    *hi = last < 0 ? 0 : last / q->stride + 1;
    if (*hi > n_out) *hi = n_out;
    if (*lo > *hi) *lo = *hi;
}

/* Copies n floats in whole blocks of 16: up to 15 floats past n of dst are written and of
 * src read, which the callers leave room for. */
static inline void copy_blocks(float *dst, const float *src, int64_t n)
{
    for (int64_t i = 0; i < n; i += 16) memcpy(dst + i, src + i, 16 * sizeof *dst);
}

/* The image with `pad` zeros on every side, P[ch][y + pad][x + pad] = x[ch][y][x]; the
 * borders stay as they were zeroed for the run, only the interior is copied. */
static void pad_image(const ig_conv_geom *q, const float *x, float *P)
{
    const int64_t W = q->w + 2 * q->pad, H = q->h + 2 * q->pad;
    for (int64_t ch = 0; ch < q->c; ch++)
        for (int64_t y = 0; y < q->h; y++)
            memcpy(P + (ch * H + y + q->pad) * W + q->pad, x + (ch * q->h + y) * q->w, (size_t)q->w * sizeof *x);
}

/* The column matrix of one padded image: col[(ch·kh + ky)·kw + kx][oy·ow + ox] =
 * P[ch][oy·s + ky][ox·s + kx]. Its segments are written in address order, so a block copy's
 * excess lands where a later segment (or the slack) is written; its reads stay within P's
 * slack. */
static void im2col(const ig_conv_geom *q, const float *P, float *col)
{
    const int64_t W = q->w + 2 * q->pad, HW = (q->h + 2 * q->pad) * W, ow = q->ow, s = q->stride;
    float *d = col;
    for (int64_t ch = 0; ch < q->c; ch++)
        for (int64_t ky = 0; ky < q->kh; ky++)
            for (int64_t kx = 0; kx < q->kw; kx++)
                for (int64_t oy = 0; oy < q->oh; oy++, d += ow) {
                    const float *src = P + ch * HW + (oy * s + ky) * W + kx;
                    if (s == 1) copy_blocks(d, src, ow);
                    else
                        for (int64_t ox = 0; ox < ow; ox++) d[ox] = src[ox * s];
                }
}

static CPU_CLONES void add_run(float *restrict dst, const float *restrict src, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] += src[i];
}

/* The adjoint of im2col: dx (zeroed first) receives every column entry at the input it came
 * from, in one fixed order. */
static void col2im(const ig_conv_geom *q, const float *col, float *dx)
{
    const int64_t ow = q->ow, hw = q->oh * q->ow, s = q->stride;
    memset(dx, 0, (size_t)(q->c * q->h * q->w) * sizeof *dx);
    for (int64_t ch = 0; ch < q->c; ch++)
        for (int64_t ky = 0; ky < q->kh; ky++) {
            int64_t ylo, yhi;
            valid_range(q->h, q->oh, ky, q, &ylo, &yhi);
            for (int64_t kx = 0; kx < q->kw; kx++) {
                const float *row = col + ((ch * q->kh + ky) * q->kw + kx) * hw;
                int64_t xlo, xhi, dxo = kx - q->pad;
                valid_range(q->w, q->ow, kx, q, &xlo, &xhi);
                for (int64_t oy = ylo; oy < yhi; oy++) {
                    const float *d = row + oy * ow;
                    float *dst = dx + (ch * q->h + oy * s + ky - q->pad) * q->w;
                    if (s == 1) add_run(dst + xlo + dxo, d + xlo, xhi - xlo);
                    else
                        for (int64_t ox = xlo; ox < xhi; ox++) dst[ox * s + dxo] += d[ox];
                }
            }
        }
}

/* An image's column matrix: the image itself, or im2col's of it padded (into P, whose
 * borders the caller zeroed for the run) into col. */
static const float *cols_of(const conv_plan *pl, const float *x, float *P, float *col)
{
    if (pl->direct) return x;
    pad_image(&pl->q, x, P);
    im2col(&pl->q, P, col);
    return col;
}

/* Thread t's slices of the scratch. */
typedef struct conv_work {
    float *gemm, *padded, *col, *part;
} conv_work;

static conv_work work_of(const conv_plan *pl, const cpu_scratch *s, int t)
{
    float *b = s->buf + (size_t)t * pl->per_thread;
    return (conv_work){b, b + pl->gemm, b + pl->gemm + pl->padded, b + pl->gemm + pl->padded + pl->col};
}

ig_status ig_cpu_conv2d(const ig_graph *g, const ig_node *n, void *const *bases)
{
    const conv_plan pl = plan_of(g, n);
    const ig_conv_geom *q = &pl.q;
    const float *x = CPU_F32(0), *w = CPU_F32(1), *b = n->n_in == 3 ? CPU_F32(2) : NULL;
    float *y = CPU_OUT(0);
    const cpu_scratch *s = bases[CPU_BUF_SCRATCH];
    const int act = (int)n->attrs.i[2];
    const float act_p = n->attrs.f[0];
    const int64_t in = q->c * q->h * q->w, out = q->f * q->oh * q->ow;
#pragma omp parallel num_threads(s->nthreads)
    {
        const conv_work ws = work_of(&pl, s, omp_get_thread_num());
        memset(ws.padded, 0, pl.padded * sizeof *ws.padded); /* the borders; pad_image fills the rest */
        cpu_gemm p = pl.p;
        p.a = w;
        p.row_bias = b;
        p.act = act == IG_ACT_RELU ? IG_ACT_RELU : IG_ACT_NONE;
#pragma omp for schedule(static)
        for (int64_t i = 0; i < q->n; i++) {
            p.b = cols_of(&pl, x + i * in, ws.padded, ws.col);
            p.c = y + i * out;
            ig_cpu_gemm_serial(&p, ws.gemm);
            /* activations other than ReLU run over the image's output while it is in cache */
            if (act != IG_ACT_NONE && act != IG_ACT_RELU)
                for (int64_t j = 0; j < out; j++) p.c[j] = ig_act_fwd(act, act_p, p.c[j]);
        }
    }
    return IG_OK;
}

ig_status ig_cpu_conv2d_dgrad(const ig_graph *g, const ig_node *n, void *const *bases)
{
    const conv_plan pl = plan_of(g, n);
    const ig_conv_geom *q = &pl.q;
    const float *dy = CPU_F32(0), *w = CPU_F32(1);
    float *dx = CPU_OUT(0);
    const cpu_scratch *s = bases[CPU_BUF_SCRATCH];
    const int64_t in = q->c * q->h * q->w, out = q->f * q->oh * q->ow;
#pragma omp parallel num_threads(s->nthreads)
    {
        const conv_work ws = work_of(&pl, s, omp_get_thread_num());
        cpu_gemm p = pl.p;
        p.a = w;
#pragma omp for schedule(static)
        for (int64_t i = 0; i < q->n; i++) {
            p.b = dy + i * out;
            p.c = pl.direct ? dx + i * in : ws.col;
            ig_cpu_gemm_serial(&p, ws.gemm);
            if (!pl.direct) col2im(q, ws.col, dx + i * in);
        }
    }
    return IG_OK;
}

/* Sum of n floats in 64 independent lanes (vectorisable without reassociating), then the lanes. */
static CPU_CLONES float sum_f32(const float *x, int64_t n)
{
    float acc[64] = {0}, s = 0.0f;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int j = 0; j < 64; j++) acc[j] += x[i + j];
    for (; i < n; i++) s += x[i];
    for (int j = 0; j < 64; j++) s += acc[j];
    return s;
}

/* Each channel is summed by one thread, image by image in order (the images' sums in double):
 * the same bits for any team size. */
static void channel_sums(const ig_shape *xs, const float *x, float *y)
{
    const int64_t outer = xs->d[0], ch = xs->d[1], numel = (int64_t)ig_shape_numel(xs);
    const int64_t inner = outer > 0 && ch > 0 ? numel / (outer * ch) : 0;
#pragma omp parallel for if (numel > CPU_PAR_MIN)
    for (int64_t c = 0; c < ch; c++) {
        double sum = 0;
        for (int64_t i = 0; i < outer; i++) sum += sum_f32(x + (i * ch + c) * inner, inner);
        y[c] = (float)sum;
    }
}

ig_status ig_cpu_conv2d_wgrad(const ig_graph *g, const ig_node *n, void *const *bases)
{
    const conv_plan pl = plan_of(g, n);
    const ig_conv_geom *q = &pl.q;
    const float *dy = CPU_F32(0), *x = CPU_F32(1);
    float *dw = CPU_OUT(0);
    const cpu_scratch *s = bases[CPU_BUF_SCRATCH];
    const int64_t in = q->c * q->h * q->w, out = q->f * q->oh * q->ow, K = q->c * q->kh * q->kw;
#pragma omp parallel num_threads(s->nthreads)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const conv_work ws = work_of(&pl, s, t);
        memset(ws.padded, 0, pl.padded * sizeof *ws.padded);
        int64_t lo, hi;
        cpu_split(q->n, t, nt, &lo, &hi);
        cpu_gemm p = pl.p;
        p.c = ws.part;
        for (int64_t i = lo; i < hi; i++) {
            p.a = cols_of(&pl, x + i * in, ws.padded, ws.col);
            p.b = dy + i * out;
            p.accumulate = i > lo;
            ig_cpu_gemm_serial(&p, ws.gemm);
        }
#pragma omp barrier
        /* dw[fo][k] = Σ over the threads that had images, in thread order, of partial[k][fo] */
        size_t e_lo, e_hi;
        cpu_share((size_t)(q->f * K), t, nt, &e_lo, &e_hi);
        for (size_t e = e_lo; e < e_hi; e++) {
            size_t fo = e / (size_t)K, k = e % (size_t)K;
            float sum = 0.0f;
            for (int u = 0; u < nt; u++) {
                int64_t ulo, uhi;
                cpu_split(q->n, u, nt, &ulo, &uhi);
                if (uhi > ulo) sum += work_of(&pl, s, u).part[k * (size_t)q->f + fo];
            }
            dw[e] = sum;
        }
    }
    if (n->n_out == 2) channel_sums(&g->vals[n->in[0]].shape, dy, CPU_OUT(1)); /* a folded bias gradient */
    return IG_OK;
}

ig_status ig_cpu_channel_sum(const ig_graph *g, const ig_node *n, void *const *bases)
{
    channel_sums(&g->vals[n->in[0]].shape, CPU_F32(0), CPU_OUT(0));
    return IG_OK;
}
