/* cpu_dense.c — dense forward (one GEMM with bias and ReLU in its epilogue), the matmuls of
 * its gradients, and the bias gradient. */
#include "backend/cpu/cpu.h"

#include <math.h>
#include <string.h>

void ig_cpu_tanh_inplace(float *x, size_t n)
{
#pragma omp parallel for if (n > CPU_PAR_MIN / 8)
    for (size_t i = 0; i < n; i++) x[i] = tanhf(x[i]);
}

/* The GEMM of a DENSE or MATMUL node, pointers from `bases` (NULL bases: shapes only). */
static cpu_gemm gemm_of(const ig_graph *g, const ig_node *n, void *const *bases)
{
    const ig_shape *as = &g->vals[n->in[0]].shape, *bs = &g->vals[n->in[1]].shape;
    cpu_gemm p = {.lda = (int)as->d[1], .ldb = (int)bs->d[1]};
    if (n->op == IG_OP_DENSE) {
        /* y = x·wᵀ + b with x [rows, k], w [m, k] */
        p.m = (int)as->d[0];
        p.k = (int)as->d[1];
        p.n = (int)bs->d[0];
        p.tb = true;
        p.act = n->attrs.i[1] == IG_ACT_RELU ? IG_ACT_RELU : IG_ACT_NONE;
        if (bases && n->n_in == 3) p.bias = CPU_F32(2);
    } else {
        p.ta = n->attrs.i[0];
        p.tb = n->attrs.i[1];
        p.m = (int)(p.ta ? as->d[1] : as->d[0]);
        p.k = (int)(p.ta ? as->d[0] : as->d[1]);
        p.n = (int)(p.tb ? bs->d[0] : bs->d[1]);
    }
    p.ldc = p.n;
    if (bases) {
        p.a = CPU_F32(0);
        p.b = CPU_F32(1);
        p.c = CPU_OUT(0);
    }
    return p;
}

size_t ig_cpu_node_scratch(const ig_graph *g, const ig_node *n, int nthreads)
{
    if (n->op != IG_OP_DENSE && n->op != IG_OP_MATMUL) return 0;
    cpu_gemm p = gemm_of(g, n, NULL);
    return ig_cpu_gemm_scratch(p.m, p.k, nthreads);
}

ig_status ig_cpu_dense(const ig_graph *g, const ig_node *n, void *const *bases)
{
    cpu_gemm p = gemm_of(g, n, bases);
    ig_cpu_gemm(&p, bases[CPU_BUF_SCRATCH]);
    /* tanh is not fused into the GEMM's epilogue */
    if (n->attrs.i[1] == IG_ACT_TANH) ig_cpu_tanh_inplace(p.c, (size_t)p.m * p.n);
    return IG_OK;
}

ig_status ig_cpu_matmul(const ig_graph *g, const ig_node *n, void *const *bases)
{
    cpu_gemm p = gemm_of(g, n, bases);
    ig_cpu_gemm(&p, bases[CPU_BUF_SCRATCH]);
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
