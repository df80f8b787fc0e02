/* cpu_dense.c — dense forward (one GEMM with bias and ReLU in its epilogue) and the GEMMs of
 * its gradients, the bias gradient summed while the weight gradient's GEMM packs dz. */
#include "backend/cpu/cpu.h"

#include <math.h>

void ig_cpu_tanh_inplace(float *x, size_t n)
{
#pragma omp parallel for if (n > CPU_PAR_MIN / 8)
    for (size_t i = 0; i < n; i++) x[i] = tanhf(x[i]);
}

/* The GEMM of a DENSE, MATMUL or DENSE_WGRAD node, pointers from `bases` (NULL bases:
 * shapes only). */
static cpu_gemm gemm_of(const ig_graph *g, const ig_node *n, void *const *bases)
{
    const ig_shape *as = &g->vals[n->in[0]].shape, *bs = &g->vals[n->in[1]].shape;
    cpu_gemm p = {.lda = (int)as->d[1], .ldb = (int)bs->d[1]};
    if (n->op == IG_OP_DENSE_WGRAD) {
        /* dw = dzᵀ·x with dz [rows, m], x [rows, k]; db = the row sums of dzᵀ */
        p.m = (int)as->d[1];
        p.k = (int)as->d[0];
        p.n = (int)bs->d[1];
        p.ta = true;
        if (bases) p.a_rowsum = CPU_OUT(1);
    } else if (n->op == IG_OP_DENSE) {
        /* y = x·wᵀ + b with x [rows, k], w [m, k] */
        p.m = (int)as->d[0];
        p.k = (int)as->d[1];
        p.n = (int)bs->d[0];
        p.tb = true;
        p.act = n->attrs.i[1] == IG_ACT_RELU ? IG_ACT_RELU : IG_ACT_NONE;
        if (bases && n->attrs.i[0]) p.bias = CPU_F32(2);
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
    if (n->op == IG_OP_CONV2D || n->op == IG_OP_CONV2D_DGRAD || n->op == IG_OP_CONV2D_WGRAD)
        return ig_cpu_conv_scratch(g, n, nthreads);
    if (n->op != IG_OP_DENSE && n->op != IG_OP_MATMUL && n->op != IG_OP_DENSE_WGRAD) return 0;
    cpu_gemm p = gemm_of(g, n, NULL);
    return ig_cpu_gemm_scratch(p.m, p.k, nthreads);
}

ig_status ig_cpu_dense(const ig_graph *g, const ig_node *n, void *const *bases)
{
    cpu_gemm p = gemm_of(g, n, bases);
    ig_cpu_gemm(&p, bases[CPU_BUF_SCRATCH]);
    /* tanh is not fused into the GEMM's epilogue */
    if (n->attrs.i[1] == IG_ACT_TANH) ig_cpu_tanh_inplace(p.c, (size_t)p.m * p.n);
    if (n->attrs.i[2] == IG_DENSE_LOSS)
        ig_cpu_ce(p.c, (const int32_t *)cpu_ptr(g, n->in[n->n_in - 1], bases), NULL, n->attrs.f[1], p.m, p.n,
                  CPU_OUT(1), CPU_OUT(2));
    return IG_OK;
}

/* MATMUL, and DENSE_WGRAD (the bias gradient comes out of the GEMM's packing of dz). */
ig_status ig_cpu_matmul(const ig_graph *g, const ig_node *n, void *const *bases)
{
    cpu_gemm p = gemm_of(g, n, bases);
    ig_cpu_gemm(&p, bases[CPU_BUF_SCRATCH]);
    if (n->op == IG_OP_MATMUL && n->n_in == 3) /* a fused activation gradient */
        ig_cpu_act_grad_apply((int)n->attrs.i[2], n->attrs.f[0], p.c, CPU_F32(2), p.c, (size_t)p.m * p.n);
    return IG_OK;
}
