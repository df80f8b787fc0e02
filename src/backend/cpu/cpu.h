/* cpu.h — the CPU backend's kernel table: one function per op, C11 + OpenMP, GEMM of its
 * own (cpu_gemm.c). */
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

/* Elementwise loops are compiled once per vector width (AVX-512, AVX2, baseline) and the
 * widest the CPU has is picked at load time: the library is built for baseline x86-64. */
#if defined(__x86_64__)
#define CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CPU_CLONES
#endif

/* This thread's share [lo, hi) of n elements inside a parallel region (the whole outside
 * one); shares start on 64-byte boundaries so threads never write the same cache line. */
static inline void cpu_share(size_t n, int t, int nt, size_t *lo, size_t *hi)
{
    size_t blocks = (n + 15) / 16;
    *lo = blocks * (size_t)t / (size_t)nt * 16;
    *hi = blocks * (size_t)(t + 1) / (size_t)nt * 16;
    if (*lo > n) *lo = n;
    if (*hi > n) *hi = n;
}

/* Thread t's share [lo, hi) of n whole items (images, micro-panels), sizes differing by one at most. */
static inline void cpu_split(int64_t n, int t, int nt, int64_t *lo, int64_t *hi)
{
    *lo = n * t / nt;
    *hi = n * (t + 1) / nt;
}

/* GEMM (cpu_gemm.c): C[m × n] = act(op(A)·op(B) + bias), row-major, op(A) m × k, op(B) k × n;
 * act is IG_ACT_NONE or IG_ACT_RELU. */
typedef struct cpu_gemm {
    int m, n, k;
    const float *a, *b;
    float *c;
    int lda, ldb, ldc;
    bool ta, tb;       /* op(A) = Aᵀ, op(B) = Bᵀ */
    const float *bias; /* [n] added to every row, or NULL */
    const float *row_bias; /* [m]: row i gets row_bias[i] (a convolution's bias over NCHW), or NULL */
    bool accumulate;   /* C += the product (a sum over several GEMMs) rather than C = */
    int act;
    float *a_rowsum;   /* [m] receives the row sums of op(A) (a bias gradient), or NULL */
} cpu_gemm;

/* The packing memory of a program's GEMMs, allocated with the program's first run so that
 * no run allocates. bases[CPU_BUF_SCRATCH] points at it while a program runs. */
typedef struct cpu_scratch {
    float *buf;
    size_t bytes;
    int nthreads; /* the size of the team GEMMs run in */
} cpu_scratch;
#define CPU_BUF_SCRATCH IG_BUF_COUNT

/* Bytes of scratch a GEMM with op(A) m × k needs on a team of `nthreads`. */
size_t ig_cpu_gemm_scratch(int m, int k, int nthreads);
void ig_cpu_gemm(const cpu_gemm *p, const cpu_scratch *s);
/* The same GEMM on the calling thread alone, e.g. one per thread inside a parallel region;
 * buf holds ig_cpu_gemm_scratch(m, k, 1) bytes. */
void ig_cpu_gemm_serial(const cpu_gemm *p, float *buf);
/* Scratch bytes a node needs (0 for nodes without a GEMM). */
size_t ig_cpu_node_scratch(const ig_graph *g, const ig_node *n, int nthreads);

ig_status ig_cpu_dense(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_matmul(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_relu(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_tanh(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_act(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_act_grad(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_softmax(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_softmax_grad(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_add(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_scale(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_copy(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_dropout(const ig_graph *g, const ig_node *n, void *const *bases);
/* SPARSE_CE and CROSS_ENTROPY share one kernel (labels or probability rows) */
ig_status ig_cpu_cross_entropy(const ig_graph *g, const ig_node *n, void *const *bases);
/* The cross-entropy of logits x [rows, c] (SPARSE_CE's with labels, CROSS_ENTROPY's with probs)
 * into loss [1] and dx; also a DENSE's fused loss. */
void ig_cpu_ce(const float *x, const int32_t *labels, const float *probs, float eps, int64_t rows, int64_t c,
               float *loss, float *dx);
ig_status ig_cpu_elem_loss(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_accuracy(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_sgd(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_adam(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_nadam(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_rmsprop(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_adagrad(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_adadelta(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_record_loss(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_gather(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_eval_accum(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_clip_grad_norm(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_pool2d(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_pool2d_grad(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_conv2d(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_conv2d_dgrad(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_conv2d_wgrad(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_channel_sum(const ig_graph *g, const ig_node *n, void *const *bases);
/* Scratch bytes of a CONV2D, CONV2D_DGRAD or CONV2D_WGRAD node (cpu_conv.c). */
size_t ig_cpu_conv_scratch(const ig_graph *g, const ig_node *n, int nthreads);
ig_status ig_cpu_batchnorm(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_batchnorm_grad(const ig_graph *g, const ig_node *n, void *const *bases);
ig_status ig_cpu_batchnorm_dx(const ig_graph *g, const ig_node *n, void *const *bases);

/* tanh in place (dense with tanh, and the standalone op). */
void ig_cpu_tanh_inplace(float *x, size_t n);
/* dx = dy·f'(xy), ACT_GRAD's arithmetic (xy: x, or y for the kinds of ig_act_grad_from_y); dx
 * may be dy. _span on the calling thread, _apply across the OpenMP team. */
void ig_cpu_act_grad_span(int act, float p, const float *dy, const float *xy, float *dx, size_t len);
void ig_cpu_act_grad_apply(int act, float p, const float *dy, const float *xy, float *dx, size_t len);

#endif /* IG_CPU_H */
