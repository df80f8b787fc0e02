/* cpu_dense.c — dense forward (SGEMM + a fused bias/activation pass), the matmuls of its
 * gradients, and the bias gradient. */
#include "backend/cpu/cpu.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

void ig_cpu_act_apply(float *x, size_t n, int act)
{
    if (act == IG_ACT_RELU) {
#pragma omp parallel for simd if (n > CPU_PAR_MIN)
        for (size_t i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0;
    } else if (act == IG_ACT_TANH) {
#pragma omp parallel for if (n > CPU_PAR_MIN / 8)
        for (size_t i = 0; i < n; i++) x[i] = tanhf(x[i]);
    }
}

ig_status ig_cpu_dense(const ig_graph *g, const ig_node *n, void *const *bases)
{
    const ig_shape *xs = &g->vals[n->in[0]].shape, *ws = &g->vals[n->in[1]].shape;
    int rows = (int)xs->d[0], k = (int)xs->d[1], m = (int)ws->d[0];
    const float *x = CPU_F32(0), *w = CPU_F32(1);
    float *y = CPU_OUT(0);
    int act = (int)n->attrs.i[1];
    if (n->n_in == 3) {
        /* y starts as the broadcast bias, so the GEMM's beta = 1 adds it for free */
        const float *b = CPU_F32(2);
        for (int r = 0; r < rows; r++) memcpy(y + (size_t)r * m, b, (size_t)m * sizeof *b);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, m, k, 1.0f, x, k, w, k,
                n->n_in == 3 ? 1.0f : 0.0f, y, m);
    ig_cpu_act_apply(y, (size_t)rows * m, act);
    return IG_OK;
}

ig_status ig_cpu_matmul(const ig_graph *g, const ig_node *n, void *const *bases)
{
    const ig_shape *as = &g->vals[n->in[0]].shape, *bs = &g->vals[n->in[1]].shape;
    bool ta = n->attrs.i[0], tb = n->attrs.i[1];
    int m = (int)(ta ? as->d[1] : as->d[0]);
    int k = (int)(ta ? as->d[0] : as->d[1]);
    int nn = (int)(tb ? bs->d[0] : bs->d[1]);
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, nn, k, 1.0f,
                CPU_F32(0), (int)as->d[1], CPU_F32(1), (int)bs->d[1], 0.0f, CPU_OUT(0), nn);
    return IG_OK;
}

ig_status ig_cpu_bias_grad(const ig_graph *g, const ig_node *n, void *const *bases)
{
    const ig_shape *s = &g->vals[n->in[0]].shape;
    int64_t rows = s->d[0], cols = s->d[1];
    const float *dz = CPU_F32(0);
    float *db = CPU_OUT(0);
    memset(db, 0, (size_t)cols * sizeof *db);
    for (int64_t r = 0; r < rows; r++) {
        const float *row = dz + r * cols;
#pragma omp simd
        for (int64_t c = 0; c < cols; c++) db[c] += row[c];
    }
    return IG_OK;
}
