/* cpu.h — the CPU backend's kernel table: one function per op, C11 + OpenMP, GEMM
 * through CBLAS (OpenBLAS). */
#ifndef IG_CPU_H
#define IG_CPU_H

#include "backend/backend.h"
#include "ops/ops.h"

typedef ig_status (*ig_cpu_kernel)(const ig_graph *g, const ig_node *n, void *const *bases);

static inline void *cpu_ptr(const ig_graph *g, int v, void *const *bases)
{
    return (char *)bases[g->vals[v].buf] + g->vals[v].offset;
}
#define CPU_F32(k) ((float *)cpu_ptr(g, n->in[k], bases))
#define CPU_OUT(k) ((float *)cpu_ptr(g, n->out[k], bases))

/* OpenMP pays only above this many elements. */
#define CPU_PAR_MIN 32768

ig_status ig_cpu_dense(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_matmul(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_bias_grad(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_relu(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_tanh(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_act_grad(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_add(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_scale(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_copy(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_sparse_ce(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_mse(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_accuracy(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_sgd(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_adam(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_record_loss(const ig_graph *g, const ig_node *n, void *const *bases);

/* Applies an activation to a row-major block in place (shared by dense's epilogue and the
 * standalone activation ops). */
void ig_cpu_act_apply(float *x, size_t n, int act);

#endif /* IG_CPU_H */
