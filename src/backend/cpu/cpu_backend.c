/* cpu_backend.c — the CPU backend: memory is host memory, a run walks the nodes in order. */
#include "backend/cpu/cpu.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

static const ig_cpu_kernel kernels[IG_OP_COUNT] = {
    [IG_OP_DENSE] = ig_cpu_dense,
    [IG_OP_MATMUL] = ig_cpu_matmul,
    [IG_OP_DENSE_WGRAD] = ig_cpu_matmul, /* dw = dzᵀ·x, and db from its packing */
    [IG_OP_RELU] = ig_cpu_relu,
    [IG_OP_TANH] = ig_cpu_tanh,
    [IG_OP_ACT_GRAD] = ig_cpu_act_grad,
    [IG_OP_ACT] = ig_cpu_act,
    [IG_OP_SOFTMAX] = ig_cpu_softmax,
    [IG_OP_SOFTMAX_GRAD] = ig_cpu_softmax_grad,
    [IG_OP_RESHAPE] = NULL, /* a view: nothing to run */
    [IG_OP_ADD] = ig_cpu_add,
    [IG_OP_SCALE] = ig_cpu_scale,
    [IG_OP_COPY] = ig_cpu_copy,
    [IG_OP_SPARSE_CE] = ig_cpu_cross_entropy,
    [IG_OP_CROSS_ENTROPY] = ig_cpu_cross_entropy,
    [IG_OP_ELEM_LOSS] = ig_cpu_elem_loss,
    [IG_OP_ACCURACY] = ig_cpu_accuracy,
    [IG_OP_SGD] = ig_cpu_sgd,
    [IG_OP_ADAM] = ig_cpu_adam,
    [IG_OP_NADAM] = ig_cpu_nadam,
    [IG_OP_RMSPROP] = ig_cpu_rmsprop,
    [IG_OP_ADAGRAD] = ig_cpu_adagrad,
    [IG_OP_ADADELTA] = ig_cpu_adadelta,
    [IG_OP_RECORD_LOSS] = ig_cpu_record_loss,
    [IG_OP_GATHER] = ig_cpu_gather,
    [IG_OP_EVAL_ACCUM] = ig_cpu_eval_accum,
    [IG_OP_CLIP_GRAD_NORM] = ig_cpu_clip_grad_norm,
    [IG_OP_POOL2D] = ig_cpu_pool2d,
    [IG_OP_POOL2D_GRAD] = ig_cpu_pool2d_grad,
    [IG_OP_DROPOUT] = ig_cpu_dropout,
    [IG_OP_CONV2D] = ig_cpu_conv2d,
    [IG_OP_CONV2D_DGRAD] = ig_cpu_conv2d_dgrad,
    [IG_OP_CONV2D_WGRAD] = ig_cpu_conv2d_wgrad,
    [IG_OP_CHANNEL_SUM] = ig_cpu_channel_sum,
    [IG_OP_BATCHNORM] = ig_cpu_batchnorm,
    [IG_OP_BATCHNORM_GRAD] = ig_cpu_batchnorm_grad,
    [IG_OP_BATCHNORM_DX] = ig_cpu_batchnorm_dx,
};

static void *cpu_alloc(ig_backend *be, size_t bytes)
{
    size_t n = ig_align(bytes ? bytes : 1);
    void *p = aligned_alloc(IG_ALIGN, n);
    if (!p) return NULL;
    memset(p, 0, n);
    ig_stats_device(be->ctx, (ptrdiff_t)n);
    return p;
}

static void cpu_free(ig_backend *be, void *p, size_t bytes)
{
    if (!p) return;
    free(p);
    ig_stats_device(be->ctx, -(ptrdiff_t)ig_align(bytes ? bytes : 1));
}

static ig_status cpu_copy_bytes(ig_backend *be, void *dst, const void *src, size_t bytes)
{
    memcpy(dst, src, bytes);
    return IG_OK;
}

static bool cpu_supports(ig_backend *be, const ig_node *n)
{
    return n->op == IG_OP_RESHAPE || (n->op > IG_OP_NOP && n->op < IG_OP_COUNT && kernels[n->op]);
}

/* A program's GEMM scratch, sized for its largest GEMM and made on its first run. */
static ig_status scratch_of(ig_backend *be, ig_program *p, cpu_scratch **out)
{
    if (!p->be_state) {
        cpu_scratch *s = calloc(1, sizeof *s);
        if (!s) return ig_fail(IG_ERR_OUT_OF_MEMORY, "cpu backend: out of memory");
        s->nthreads = omp_get_max_threads();
        size_t bytes = 0;
        for (int i = 0; i < p->g.n_nodes; i++) {
            size_t b = ig_cpu_node_scratch(&p->g, &p->g.nodes[i], s->nthreads);
            if (b > bytes) bytes = b;
        }
        s->bytes = bytes;
        if (bytes && !(s->buf = cpu_alloc(be, bytes))) {
            free(s);
            return ig_fail(IG_ERR_OUT_OF_MEMORY, "cpu backend: cannot allocate %zu bytes of GEMM scratch", bytes);
        }
        p->be_state = s;
    }
    *out = p->be_state;
    return IG_OK;
}

static ig_status cpu_run(ig_backend *be, ig_program *p, void *const *bases, bool continues)
{
    const ig_graph *g = &p->g;
    cpu_scratch *s = NULL;
    IG_TRY(scratch_of(be, p, &s));
    void *b[IG_BUF_COUNT + 1];
    memcpy(b, bases, IG_BUF_COUNT * sizeof *b);
    b[CPU_BUF_SCRATCH] = s;
    for (int i = 0; i < g->n_nodes; i++) {
        const ig_node *n = &g->nodes[i];
        if (!kernels[n->op] || (continues && n->lead)) continue;
        IG_TRY(kernels[n->op](g, n, b));
    }
    return IG_OK;
}

static void cpu_program_release(ig_backend *be, ig_program *p)
{
    cpu_scratch *s = p->be_state;
    if (!s) return;
    cpu_free(be, s->buf, s->bytes);
    free(s);
    p->be_state = NULL;
}

static void cpu_destroy(ig_backend *be) { free(be); }

ig_status ig_backend_cpu_create(ig_ctx *ctx, ig_backend **out)
{
    ig_backend *be = calloc(1, sizeof *be);
    if (!be) return ig_fail(IG_ERR_OUT_OF_MEMORY, "cpu backend: out of memory");
    *be = (ig_backend){
        .name = "cpu",
        .device = IG_DEVICE_CPU,
        .streams = 1,
        .ctx = ctx,
        .alloc = cpu_alloc,
        .free = cpu_free,
        .upload = cpu_copy_bytes,
        .download = cpu_copy_bytes,
        .supports = cpu_supports,
        .run = cpu_run,
        .program_release = cpu_program_release,
        .destroy = cpu_destroy,
    };
    *out = be;
    return IG_OK;
}
