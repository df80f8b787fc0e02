/* cpu_loss.c — fused loss kernels (loss and its gradient in one pass) and accuracy.
 * Sums are accumulated in double so the loss of a large batch keeps its precision. */
#include "backend/cpu/cpu.h"

#include <math.h>

ig_status ig_cpu_sparse_ce(const ig_graph *g, const ig_node *n, void *const *bases)
{
    const ig_shape *s = &g->vals[n->in[0]].shape;
    int64_t rows = s->d[0], c = s->d[1];
    const float *x = CPU_F32(0);
    const int32_t *y = (const int32_t *)cpu_ptr(g, n->in[1], bases);
    float *loss = CPU_OUT(0), *dx = CPU_OUT(1);
    double total = 0;
    float inv = 1.0f / (float)rows;
#pragma omp parallel for reduction(+ : total) if (rows * c > CPU_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * c;
        float *dr = dx + r * c;
        float mx = xr[0];
        for (int64_t j = 1; j < c; j++) mx = xr[j] > mx ? xr[j] : mx;
        float sum = 0;
        for (int64_t j = 0; j < c; j++) {
            dr[j] = expf(xr[j] - mx);
            sum += dr[j];
        }
        int32_t label = y[r];
        /* labels are checked before a run; an out-of-range one contributes nothing */
        bool ok = label >= 0 && label < c;
        if (ok) total += (double)logf(sum) + mx - xr[label];
        float scale = inv / sum;
        for (int64_t j = 0; j < c; j++) dr[j] *= scale;
        if (ok) dr[label] -= inv;
    }
    loss[0] = (float)(total / (double)rows);
    return IG_OK;
}

ig_status ig_cpu_mse(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = ig_shape_numel(&g->vals[n->in[0]].shape);
    const float *p = CPU_F32(0), *t = CPU_F32(1);
    float *loss = CPU_OUT(0), *dp = CPU_OUT(1);
    double total = 0;
    float k = 2.0f / (float)len;
#pragma omp parallel for reduction(+ : total) if (len > CPU_PAR_MIN)
    for (size_t i = 0; i < len; i++) {
        float d = p[i] - t[i];
        total += (double)d * d;
        dp[i] = k * d;
    }
    loss[0] = (float)(total / (double)len);
    return IG_OK;
}

ig_status ig_cpu_accuracy(const ig_graph *g, const ig_node *n, void *const *bases)
{
    const ig_shape *s = &g->vals[n->in[0]].shape;
    int64_t rows = s->d[0], c = s->d[1];
    const float *x = CPU_F32(0);
    const int32_t *y = (const int32_t *)cpu_ptr(g, n->in[1], bases);
    int32_t hits = 0;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * c;
        int64_t best = 0;
        for (int64_t j = 1; j < c; j++)
            if (xr[j] > xr[best]) best = j;
        hits += best == y[r];
    }
    *(int32_t *)cpu_ptr(g, n->out[0], bases) = hits;
    return IG_OK;
}
