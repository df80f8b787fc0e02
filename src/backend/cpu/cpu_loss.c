/* cpu_loss.c — fused loss kernels (loss and its gradient in one pass) and accuracy; the
 * per-element math is loss_math.h's. Sums are accumulated in double so the loss of a large
 * batch keeps its precision. */
#include "backend/cpu/cpu.h"
#include "ops/loss_math.h"

#include <math.h>

/* SPARSE_CE (labels) and CROSS_ENTROPY (probabilities). With t the smoothed target row,
 * row r adds Σ_j t_j·(lse − x_j) and gets the gradient (softmax·Σt − t) / rows: Σt is 1 for
 * labels and for probability rows that sum to 1, and is kept for rows that do not. */
void ig_cpu_ce(const float *x, const int32_t *labels, const float *probs, float eps, int64_t rows, int64_t c,
               float *loss, float *dx)
{
    float inv = 1.0f / (float)rows;
    double total = 0;
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
        double lse = (double)logf(sum) + mx;
        float tsum = 0;
        for (int64_t j = 0; j < c; j++) {
            float t = ig_ce_target(labels, probs, r, j, c, eps);
            tsum += t;
            total += (double)t * (lse - xr[j]);
        }
        float scale = tsum / sum;
        for (int64_t j = 0; j < c; j++) dr[j] = (dr[j] * scale - ig_ce_target(labels, probs, r, j, c, eps)) * inv;
    }
    loss[0] = (float)(total / (double)rows);
}

ig_status ig_cpu_cross_entropy(const ig_graph *g, const ig_node *n, void *const *bases)
{
    const ig_shape *s = &g->vals[n->in[0]].shape;
    bool sparse = n->op == IG_OP_SPARSE_CE;
    ig_cpu_ce(CPU_F32(0), sparse ? (const int32_t *)cpu_ptr(g, n->in[1], bases) : NULL, sparse ? NULL : CPU_F32(1),
              n->attrs.f[0], s->d[0], s->d[1], CPU_OUT(0), CPU_OUT(1));
    return IG_OK;
}

ig_status ig_cpu_elem_loss(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = ig_shape_numel(&g->vals[n->in[0]].shape);
    const float *p = CPU_F32(0), *t = CPU_F32(1);
    float *loss = CPU_OUT(0), *dp = CPU_OUT(1);
    int kind = (int)n->attrs.i[0];
    float delta = n->attrs.f[0], inv = 1.0f / (float)len;
    double total = 0;
#pragma omp parallel for reduction(+ : total) if (len > CPU_PAR_MIN)
    for (size_t i = 0; i < len; i++) {
        float d;
        total += ig_elem_loss(kind, delta, p[i], t[i], &d);
        dp[i] = d * inv;
    }
    loss[0] = (float)(total / (double)len);
    return IG_OK;
}

ig_status ig_cpu_accuracy(const ig_graph *g, const ig_node *n, void *const *bases)
{
    const ig_shape *s = &g->vals[n->in[0]].shape;
    int64_t rows = s->d[0], w = (int64_t)(ig_shape_numel(s) / (size_t)rows);
    const float *x = CPU_F32(0);
    const void *target = cpu_ptr(g, n->in[1], bases);
    int32_t hits = 0;
    for (int64_t r = 0; r < rows; r++) hits += ig_accuracy_hit((int)n->attrs.i[0], n->attrs.f[0], x, target, r, w);
    *(int32_t *)cpu_ptr(g, n->out[0], bases) = hits;
    return IG_OK;
}
