/* cpu_eltwise.c — elementwise kernels: activations, their gradient, softmax, add, scale, copy,
 * dropout.
 * Each splits its elements over the team when there are enough of them, and runs a span
 * function vectorised for the CPU (CPU_CLONES). Outputs may be their first input (the
 * planner runs these ops in place), hence `omp simd` rather than restrict. */
#include "backend/cpu/cpu.h"
#include "ops/act_math.h"
#include "ops/rng_math.h"

#include <omp.h>
#include <string.h>

static size_t numel_in(const ig_graph *g, const ig_node *n, int k)
{
    return ig_shape_numel(&g->vals[n->in[k]].shape);
}

CPU_CLONES static void relu_span(const float *x, float *y, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = v > 0 ? v : 0.0f;
    }
}

CPU_CLONES static void relu_grad_span(const float *dy, const float *y, float *dx, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float d = dy[i];
        dx[i] = y[i] > 0 ? d : 0.0f;
    }
}

CPU_CLONES static void tanh_grad_span(const float *dy, const float *y, float *dx, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
}

/* The ACT kinds; loops where the kind is fixed, so the compiler can unswitch them. */
CPU_CLONES static void act_span(int act, float p, const float *x, float *y, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) y[i] = ig_act_fwd(act, p, x[i]);
}

/* xy is the input x, or the output y for the kinds of ig_act_grad_from_y */
CPU_CLONES static void act_grad_span(int act, float p, const float *dy, const float *xy, float *dx, size_t n)
{
    bool from_y = ig_act_grad_from_y(act);
#pragma omp simd
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * ig_act_deriv(act, p, from_y ? 0.0f : xy[i], from_y ? xy[i] : 0.0f);
}

CPU_CLONES static void add_span(const float *a, const float *b, float *y, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

CPU_CLONES static void scale_span(const float *x, float s, float *y, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) y[i] = x[i] * s;
}

ig_status ig_cpu_relu(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = numel_in(g, n, 0);
    const float *x = CPU_F32(0);
    float *y = CPU_OUT(0);
#pragma omp parallel if (len > CPU_PAR_MIN)
    {
        size_t lo, hi;
        cpu_share(len, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        relu_span(x + lo, y + lo, hi - lo);
    }
    return IG_OK;
}

ig_status ig_cpu_tanh(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = numel_in(g, n, 0);
    float *y = CPU_OUT(0);
    if (y != CPU_F32(0)) memcpy(y, CPU_F32(0), len * sizeof *y);
    ig_cpu_tanh_inplace(y, len);
    return IG_OK;
}

ig_status ig_cpu_act(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = numel_in(g, n, 0);
    const float *x = CPU_F32(0);
    float *y = CPU_OUT(0);
    int act = (int)n->attrs.i[0];
    float p = n->attrs.f[0];
#pragma omp parallel if (len > CPU_PAR_MIN)
    {
        size_t lo, hi;
        cpu_share(len, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        act_span(act, p, x + lo, y + lo, hi - lo);
    }
    return IG_OK;
}

void ig_cpu_act_grad_span(int act, float p, const float *dy, const float *xy, float *dx, size_t len)
{
    if (act == IG_ACT_RELU) relu_grad_span(dy, xy, dx, len);
    else if (act == IG_ACT_TANH) tanh_grad_span(dy, xy, dx, len);
    else act_grad_span(act, p, dy, xy, dx, len);
}

void ig_cpu_act_grad_apply(int act, float p, const float *dy, const float *xy, float *dx, size_t len)
{
#pragma omp parallel if (len > CPU_PAR_MIN)
    {
        size_t lo, hi;
        cpu_share(len, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        ig_cpu_act_grad_span(act, p, dy + lo, xy + lo, dx + lo, hi - lo);
    }
}

ig_status ig_cpu_act_grad(const ig_graph *g, const ig_node *n, void *const *bases)
{
    /* inputs (dy, y) or (dy, y, x): the derivative's argument is the last */
    ig_cpu_act_grad_apply((int)n->attrs.i[0], n->attrs.f[0], CPU_F32(0), CPU_F32(n->n_in - 1), CPU_OUT(0),
                          numel_in(g, n, 0));
    return IG_OK;
}

/* Softmax over the last axis, row by row: rows over the team. */
static void softmax_rows(const ig_graph *g, const ig_node *n, int64_t *rows, int64_t *w)
{
    const ig_shape *s = &g->vals[n->in[0]].shape;
    *w = s->d[s->ndim - 1];
    *rows = (int64_t)ig_shape_numel(s) / *w;
}

ig_status ig_cpu_softmax(const ig_graph *g, const ig_node *n, void *const *bases)
{
    int64_t rows, w;
    softmax_rows(g, n, &rows, &w);
    const float *x = CPU_F32(0);
    float *y = CPU_OUT(0);
#pragma omp parallel for if ((size_t)(rows * w) > CPU_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * w;
        float *yr = y + r * w, mx = xr[0], sum = 0.0f;
        for (int64_t j = 1; j < w; j++) mx = fmaxf(mx, xr[j]);
        for (int64_t j = 0; j < w; j++) sum += yr[j] = expf(xr[j] - mx);
        float inv = 1.0f / sum;
        for (int64_t j = 0; j < w; j++) yr[j] *= inv;
    }
    return IG_OK;
}

ig_status ig_cpu_softmax_grad(const ig_graph *g, const ig_node *n, void *const *bases)
{
    int64_t rows, w;
    softmax_rows(g, n, &rows, &w);
    const float *dy = CPU_F32(0), *y = CPU_F32(1);
    float *dx = CPU_OUT(0);
#pragma omp parallel for if ((size_t)(rows * w) > CPU_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *dyr = dy + r * w, *yr = y + r * w;
        float *dxr = dx + r * w, dot = 0.0f;
        for (int64_t j = 0; j < w; j++) dot += dyr[j] * yr[j];
        for (int64_t j = 0; j < w; j++) dxr[j] = yr[j] * (dyr[j] - dot);
    }
    return IG_OK;
}

ig_status ig_cpu_add(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = numel_in(g, n, 0);
    const float *a = CPU_F32(0), *b = CPU_F32(1);
    float *y = CPU_OUT(0);
#pragma omp parallel if (len > CPU_PAR_MIN)
    {
        size_t lo, hi;
        cpu_share(len, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        add_span(a + lo, b + lo, y + lo, hi - lo);
    }
    return IG_OK;
}

ig_status ig_cpu_scale(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = numel_in(g, n, 0);
    const float *x = CPU_F32(0);
    float s = CPU_F32(1)[0], *y = CPU_OUT(0);
#pragma omp parallel if (len > CPU_PAR_MIN)
    {
        size_t lo, hi;
        cpu_share(len, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        scale_span(x + lo, s, y + lo, hi - lo);
    }
    return IG_OK;
}

ig_status ig_cpu_copy(const ig_graph *g, const ig_node *n, void *const *bases)
{
    memcpy(CPU_OUT(0), cpu_ptr(g, n->in[0], bases), ig_val_bytes(&g->vals[n->in[0]]));
    return IG_OK;
}

/* (x, hyper): the mask's key takes the step counter as it is in memory when the node runs */
ig_status ig_cpu_dropout(const ig_graph *g, const ig_node *n, void *const *bases)
{
    if (n->n_in < 2) return ig_fail(IG_ERR_INTERNAL, "dropout '%s': run without its step bound", n->name);
    size_t len = numel_in(g, n, 0);
    const float *x = CPU_F32(0);
    float *y = CPU_OUT(0);
    const ig_opt_hyper *h = cpu_ptr(g, n->in[1], bases);
    float p = n->attrs.f[0], scale = 1.0f / (1.0f - p);
    uint64_t key = ig_dropout_key((uint64_t)n->attrs.i[0], (uint64_t)n->attrs.i[1], h->step);
#pragma omp parallel for if (len > CPU_PAR_MIN)
    for (size_t i = 0; i < len; i++) y[i] = ig_dropout_elem(key, i, p, scale, x[i]);
    return IG_OK;
}
