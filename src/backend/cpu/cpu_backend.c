/* cpu_backend.c — the CPU backend: memory is host memory, a run walks the nodes in order. */
#include "backend/cpu/cpu.h"

#include <stdlib.h>
#include <string.h>

static const ig_cpu_kernel kernels[IG_OP_COUNT] = {
    [IG_OP_DENSE] = ig_cpu_dense,
    [IG_OP_MATMUL] = ig_cpu_matmul,
    [IG_OP_BIAS_GRAD] = ig_cpu_bias_grad,
    [IG_OP_RELU] = ig_cpu_relu,
    [IG_OP_TANH] = ig_cpu_tanh,
    [IG_OP_ACT_GRAD] = ig_cpu_act_grad,
    [IG_OP_RESHAPE] = NULL, /* a view: nothing to run */
    [IG_OP_ADD] = ig_cpu_add,
    [IG_OP_SCALE] = ig_cpu_scale,
    [IG_OP_COPY] = ig_cpu_copy,
    [IG_OP_SPARSE_CE] = ig_cpu_sparse_ce,
    [IG_OP_MSE] = ig_cpu_mse,
    [IG_OP_ACCURACY] = ig_cpu_accuracy,
    [IG_OP_SGD] = ig_cpu_sgd,
    [IG_OP_ADAM] = ig_cpu_adam,
    [IG_OP_RECORD_LOSS] = ig_cpu_record_loss,
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

static ig_status cpu_run(ig_backend *be, ig_program *p, void *const *bases)
{
    const ig_graph *g = &p->g;
    for (int i = 0; i < g->n_nodes; i++) {
        const ig_node *n = &g->nodes[i];
        if (!kernels[n->op]) continue;
        IG_TRY(kernels[n->op](g, n, bases));
    }
    return IG_OK;
}

static void cpu_destroy(ig_backend *be) { free(be); }

ig_status ig_backend_cpu_create(ig_ctx *ctx, ig_backend **out)
{
    ig_backend *be = calloc(1, sizeof *be);
    if (!be) return ig_fail(IG_ERR_OUT_OF_MEMORY, "cpu backend: out of memory");
    *be = (ig_backend){
        .name = "cpu",
        .device = IG_DEVICE_CPU,
        .ctx = ctx,
        .alloc = cpu_alloc,
        .free = cpu_free,
        .upload = cpu_copy_bytes,
        .download = cpu_copy_bytes,
        .supports = cpu_supports,
        .run = cpu_run,
        .destroy = cpu_destroy,
    };
    *out = be;
    return IG_OK;
}
