/* cpu_eltwise.c — elementwise kernels: activations, their gradient, add, scale, copy. */
#include "backend/cpu/cpu.h"

#include <string.h>

static size_t numel_in(const ig_graph *g, const ig_node *n, int k)
{
    return ig_shape_numel(&g->vals[n->in[k]].shape);
}

ig_status ig_cpu_relu(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = numel_in(g, n, 0);
    const float *x = CPU_F32(0);
    float *y = CPU_OUT(0);
#pragma omp parallel for simd if (len > CPU_PAR_MIN)
    for (size_t i = 0; i < len; i++) y[i] = x[i] > 0 ? x[i] : 0;
    return IG_OK;
}

ig_status ig_cpu_tanh(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = numel_in(g, n, 0);
    float *y = CPU_OUT(0);
    if (y != CPU_F32(0)) memcpy(y, CPU_F32(0), len * sizeof *y);
    ig_cpu_act_apply(y, len, IG_ACT_TANH);
    return IG_OK;
}

ig_status ig_cpu_act_grad(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = numel_in(g, n, 0);
    const float *dy = CPU_F32(0), *y = CPU_F32(1);
    float *dx = CPU_OUT(0);
    if (n->attrs.i[0] == IG_ACT_RELU) {
#pragma omp parallel for simd if (len > CPU_PAR_MIN)
        for (size_t i = 0; i < len; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
    } else {
#pragma omp parallel for simd if (len > CPU_PAR_MIN)
        for (size_t i = 0; i < len; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
    }
    return IG_OK;
}

ig_status ig_cpu_add(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = numel_in(g, n, 0);
    const float *a = CPU_F32(0), *b = CPU_F32(1);
    float *y = CPU_OUT(0);
#pragma omp parallel for simd if (len > CPU_PAR_MIN)
    for (size_t i = 0; i < len; i++) y[i] = a[i] + b[i];
    return IG_OK;
}

ig_status ig_cpu_scale(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = numel_in(g, n, 0);
    const float *x = CPU_F32(0);
    float s = CPU_F32(1)[0], *y = CPU_OUT(0);
#pragma omp parallel for simd if (len > CPU_PAR_MIN)
    for (size_t i = 0; i < len; i++) y[i] = x[i] * s;
    return IG_OK;
}

ig_status ig_cpu_copy(const ig_graph *g, const ig_node *n, void *const *bases)
{
    memcpy(CPU_OUT(0), cpu_ptr(g, n->in[0], bases), ig_val_bytes(&g->vals[n->in[0]]));
    return IG_OK;
}
