/* cpu_eltwise.c — elementwise kernels: activations, their gradient, add, scale, copy.
 * Each splits its elements over the team when there are enough of them, and runs a span
 * function vectorised for the CPU (CPU_CLONES). Outputs may be their first input (the
 * planner runs these ops in place), hence `omp simd` rather than restrict. */
#include "backend/cpu/cpu.h"

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

ig_status ig_cpu_act_grad(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = numel_in(g, n, 0);
    const float *dy = CPU_F32(0), *y = CPU_F32(1);
    float *dx = CPU_OUT(0);
    bool relu = n->attrs.i[0] == IG_ACT_RELU;
#pragma omp parallel if (len > CPU_PAR_MIN)
    {
        size_t lo, hi;
        cpu_share(len, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        if (relu) relu_grad_span(dy + lo, y + lo, dx + lo, hi - lo);
        else tanh_grad_span(dy + lo, y + lo, dx + lo, hi - lo);
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
