/* cuda_ops.c — maps each node onto its kernels: cuBLASLt for the matrix ops, cuDNN for the
 * convolutions (cuda_conv.c), the .cu launchers for the rest. The same code runs eagerly and
 * under stream capture. */
#include "backend/cuda/cuda_impl.h"
#include "ops/augment.h"
#include "ops/batchnorm.h"
#include "ops/pool.h"

static void *ptr(const ig_graph *g, int v, void *const *bases)
{
    return (char *)bases[g->vals[v].buf] + g->vals[v].offset;
}

static size_t numel(const ig_graph *g, int v) { return ig_shape_numel(&g->vals[v].shape); }

/* A cross-entropy kernel (SPARSE_CE, CROSS_ENTROPY, or a DENSE's loss its GEMM could not take);
 * the rows' losses go to the stream's workspace. */
static ig_status cross_entropy(ig_cuda *cu, const ig_node *n, const float *logits, const int32_t *labels,
                               const float *probs, float eps, float *loss, float *dlogits, int64_t rows, int64_t cols)
{
    if ((size_t)rows * sizeof(double) > IG_CUDA_WORKSPACE)
        return ig_fail(IG_ERR_UNSUPPORTED, "%s '%s': %lld rows are more than the CUDA backend's workspace holds",
                       ig_op_get(n->op)->name, n->name, (long long)rows);
    ig_cuda_cross_entropy(logits, labels, probs, eps, loss, dlogits, rows, cols, cu->workspace[cu->cur],
                          cu->counters[cu->cur], &cu->queue[cu->cur]);
    return IG_OK;
}

/* An optimizer node's counters: its blocks', and the one both parts of a split update share. */
static ig_cuda_opt_sync opt_sync(ig_cuda *cu, const ig_node *n)
{
    return (ig_cuda_opt_sync){cu->counters[cu->cur], cu->counters[0] + IG_CUDA_COUNTERS, (int)n->attrs.i[0]};
}

ig_status ig_cuda_launch_node(ig_cuda *cu, ig_cuda_prog *cp, const ig_graph *g, int i, void *const *bases)
{
    const ig_node *n = &g->nodes[i];
    ig_cuda_queue *q = &cu->queue[cu->cur];
    int *counter = cu->counters[cu->cur]; /* for the kernels whose last block finishes them */
#define IN(k) ((float *)ptr(g, n->in[k], bases))
#define OUT(k) ((float *)ptr(g, n->out[k], bases))
    switch (n->op) {
    case IG_OP_NOP:
    case IG_OP_RESHAPE: /* a view: nothing to run */
        return IG_OK;
    case IG_OP_DENSE: {
        const ig_shape *xs = &g->vals[n->in[0]].shape, *ws = &g->vals[n->in[1]].shape;
        ig_cuda_epilogue epi = {.bias = n->attrs.i[0] ? IN(2) : NULL, .act = (int)n->attrs.i[1]};
        bool loss = n->attrs.i[2] == IG_DENSE_LOSS;
        if (loss)
            epi.labels = (const int32_t *)IN(n->n_in - 1), epi.eps = n->attrs.f[1], epi.loss = OUT(1),
            epi.dlogits = OUT(2);
        IG_TRY(ig_cuda_gemm_run(cu, &cp->gemm[i], false, true, xs->d[0], ws->d[0], xs->d[1], IN(0), xs->d[1], IN(1),
                                ws->d[1], OUT(0), &epi));
        if (loss && !cp->gemm[i].fused_loss)
            IG_TRY(cross_entropy(cu, n, OUT(0), epi.labels, NULL, epi.eps, OUT(1), OUT(2), xs->d[0], ws->d[0]));
        break;
    }
    case IG_OP_MATMUL: {
        const ig_shape *as = &g->vals[n->in[0]].shape, *bs = &g->vals[n->in[1]].shape;
        bool ta = n->attrs.i[0], tb = n->attrs.i[1];
        ig_cuda_epilogue epi = {0};
        if (n->n_in == 3) epi = (ig_cuda_epilogue){.dact = (int)n->attrs.i[2], .act_p = n->attrs.f[0], .dact_y = IN(2)};
        IG_TRY(ig_cuda_gemm_run(cu, &cp->gemm[i], ta, tb, ta ? as->d[1] : as->d[0], tb ? bs->d[0] : bs->d[1],
                                ta ? as->d[0] : as->d[1], IN(0), as->d[1], IN(1), bs->d[1], OUT(0), &epi));
        break;
    }
    case IG_OP_DENSE_WGRAD: {
        const ig_shape *zs = &g->vals[n->in[0]].shape, *xs = &g->vals[n->in[1]].shape;
        IG_TRY(ig_cuda_gemm_run(cu, &cp->gemm[i], true, false, zs->d[1], xs->d[1], zs->d[0], IN(0), zs->d[1], IN(1),
                                xs->d[1], OUT(0), &(ig_cuda_epilogue){.bgrad = OUT(1)}));
        if (!cp->gemm[i].fused_bgrad) ig_cuda_bias_grad(IN(0), OUT(1), zs->d[0], zs->d[1], q);
        break;
    }
    case IG_OP_RELU: ig_cuda_act(IN(0), OUT(0), numel(g, n->in[0]), IG_ACT_RELU, 0.0f, q); break;
    case IG_OP_TANH: ig_cuda_act(IN(0), OUT(0), numel(g, n->in[0]), IG_ACT_TANH, 0.0f, q); break;
    case IG_OP_ACT: ig_cuda_act(IN(0), OUT(0), numel(g, n->in[0]), (int)n->attrs.i[0], n->attrs.f[0], q); break;
    case IG_OP_ACT_GRAD:
        ig_cuda_act_grad(IN(0), IN(1), n->n_in == 3 ? IN(2) : NULL, OUT(0), numel(g, n->in[0]), (int)n->attrs.i[0],
                         n->attrs.f[0], q);
        break;
    case IG_OP_SOFTMAX:
    case IG_OP_SOFTMAX_GRAD: {
        const ig_shape *xs = &g->vals[n->in[0]].shape;
        int64_t w = xs->d[xs->ndim - 1], rows = (int64_t)numel(g, n->in[0]) / w;
        if (n->op == IG_OP_SOFTMAX) ig_cuda_softmax(IN(0), OUT(0), rows, w, q);
        else ig_cuda_softmax_grad(IN(0), IN(1), OUT(0), rows, w, q);
        break;
    }
    case IG_OP_ADD: ig_cuda_add(IN(0), IN(1), OUT(0), numel(g, n->in[0]), q); break;
    case IG_OP_SCALE: ig_cuda_scale(IN(0), IN(1), OUT(0), numel(g, n->in[0]), q); break;
    case IG_OP_COPY:
        CU_TRY(cudaMemcpyAsync(OUT(0), IN(0), ig_val_bytes(&g->vals[n->in[0]]), cudaMemcpyDeviceToDevice, q->s));
        q->after_own = false;
        break;
    case IG_OP_SPARSE_CE:
    case IG_OP_CROSS_ENTROPY: {
        const ig_shape *xs = &g->vals[n->in[0]].shape;
        bool sparse = n->op == IG_OP_SPARSE_CE;
        IG_TRY(cross_entropy(cu, n, IN(0), sparse ? (const int32_t *)IN(1) : NULL, sparse ? NULL : IN(1), n->attrs.f[0],
                             OUT(0), OUT(1), xs->d[0], xs->d[1]));
        break;
    }
    case IG_OP_ELEM_LOSS:
        ig_cuda_elem_loss(IN(0), IN(1), OUT(0), OUT(1), numel(g, n->in[0]), (int)n->attrs.i[0], n->attrs.f[0],
                          cu->workspace[cu->cur], counter, q);
        break;
    case IG_OP_ACCURACY: {
        int64_t rows = g->vals[n->in[0]].shape.d[0];
        ig_cuda_accuracy(IN(0), IN(1), (int32_t *)OUT(0), rows, (int64_t)numel(g, n->in[0]) / rows,
                         (int)n->attrs.i[0], n->attrs.f[0], cu->workspace[cu->cur], counter, q);
        break;
    }
    /* inputs: params, grads, moments..., decay scales, hyper */
    case IG_OP_SGD: ig_cuda_sgd(IN(0), IN(1), IN(2), IN(3), IN(4), numel(g, n->in[0]), opt_sync(cu, n), q); break;
    case IG_OP_ADAM: ig_cuda_adam(IN(0), IN(1), IN(2), IN(3), IN(4), IN(5), numel(g, n->in[0]), opt_sync(cu, n), q); break;
    case IG_OP_NADAM: ig_cuda_nadam(IN(0), IN(1), IN(2), IN(3), IN(4), IN(5), numel(g, n->in[0]), opt_sync(cu, n), q); break;
    case IG_OP_RMSPROP: ig_cuda_rmsprop(IN(0), IN(1), IN(2), IN(3), IN(4), IN(5), IN(6), numel(g, n->in[0]), opt_sync(cu, n), q); break;
    case IG_OP_ADAGRAD: ig_cuda_adagrad(IN(0), IN(1), IN(2), IN(3), IN(4), numel(g, n->in[0]), opt_sync(cu, n), q); break;
    case IG_OP_ADADELTA: ig_cuda_adadelta(IN(0), IN(1), IN(2), IN(3), IN(4), IN(5), numel(g, n->in[0]), opt_sync(cu, n), q); break;
    case IG_OP_RECORD_LOSS: ig_cuda_record_loss(IN(0), IN(1), IN(2), q); break;
    case IG_OP_GATHER: {
        const ig_val *xa = &g->vals[n->in[0]];
        int64_t count = xa->shape.d[0], planes, h, w;
        ig_augment_planes(xa->shape.ndim - 1, xa->shape.d + 1, &planes, &h, &w);
        ig_cuda_gather(IN(0), IN(1), OUT(0), OUT(1), count, ig_val_bytes(xa) / (size_t)count,
                       ig_dtype_size(g->vals[n->in[1]].dtype), n->attrs.i[0], n->attrs.i[1],
                       (int)n->attrs.i[2], h, w, n->n_in > 3 ? IN(3) : NULL, IN(2), counter, q);
        break;
    }
    case IG_OP_EVAL_ACCUM:
        ig_cuda_eval_accum(IN(0), n->attrs.i[1] ? (const int32_t *)IN(1) : NULL, IN(2), n->attrs.i[0], q);
        break;
    case IG_OP_CLIP_GRAD_NORM:
        ig_cuda_clip_grad_norm(IN(0), numel(g, n->in[0]), OUT(0), IG_NORM_PARTIALS, n->attrs.f[0], IN(1), q);
        break;
    case IG_OP_POOL2D:
    case IG_OP_POOL2D_GRAD: {
        int64_t planes;
        ig_pool_geom geo = ig_pool_geom_of(g, n, &planes);
        if (n->op == IG_OP_POOL2D) ig_cuda_pool2d(IN(0), OUT(0), planes, &geo, q);
        else ig_cuda_pool2d_grad(IN(0), IN(1), OUT(0), planes, &geo, q);
        break;
    }
    case IG_OP_DROPOUT:
        if (n->n_in < 2) return ig_fail(IG_ERR_INTERNAL, "dropout '%s': run without its step bound", n->name);
        ig_cuda_dropout(IN(0), OUT(0), numel(g, n->in[0]), n->attrs.f[0], (uint64_t)n->attrs.i[0],
                        (uint64_t)n->attrs.i[1], IN(1), q);
        break;
    case IG_OP_CONV2D:
    case IG_OP_CONV2D_DGRAD:
    case IG_OP_CONV2D_WGRAD:
        IG_TRY(ig_cuda_conv_run(cu, &cp->conv[i], g, n, IN(0), IN(1), OUT(0),
                                n->op == IG_OP_CONV2D && n->n_in == 3 ? IN(2) : NULL, n->n_out == 2 ? OUT(1) : NULL));
        break;
    case IG_OP_CHANNEL_SUM:
    case IG_OP_BATCHNORM:
    case IG_OP_BATCHNORM_GRAD: {
        const ig_shape *xs = &g->vals[n->in[0]].shape;
        ig_bn_geom geo = n->op == IG_OP_CHANNEL_SUM
                             ? (ig_bn_geom){xs->d[0], xs->d[1], (int64_t)numel(g, n->in[0]) / (xs->d[0] * xs->d[1])}
                             : ig_bn_geom_of(g, n);
        /* the partial sums go to the stream's workspace, idle between the library calls that
         * use it on the same stream */
        if (ig_cuda_bn_scratch(&geo) > IG_CUDA_WORKSPACE || geo.c > IG_CUDA_COUNTERS)
            return ig_fail(IG_ERR_UNSUPPORTED, "%s '%s': %lld channels are more than the CUDA backend's workspace holds",
                           ig_op_get(n->op)->name, n->name, (long long)geo.c);
        float *scratch = cu->workspace[cu->cur];
        if (n->op == IG_OP_CHANNEL_SUM) ig_cuda_channel_sum(IN(0), OUT(0), &geo, scratch, counter, q);
        else if (n->op == IG_OP_BATCHNORM)
            ig_cuda_batchnorm(IN(0), IN(1), IN(2), IN(3), IN(4), OUT(0), OUT(1), &geo, (int)n->attrs.i[0],
                              n->attrs.f[0], n->attrs.f[1], scratch, counter, q);
        else ig_cuda_batchnorm_grad(IN(0), IN(1), IN(2), OUT(0), OUT(1), &geo, scratch, counter, q);
        break;
    }
    case IG_OP_BATCHNORM_DX: {
        ig_bn_geom geo = ig_bn_geom_of(g, n);
        bool training = n->attrs.i[0];
        ig_cuda_batchnorm_dx(IN(0), IN(1), IN(2), IN(3), training ? IN(4) : NULL, training ? IN(5) : NULL, OUT(0), &geo,
                             q);
        break;
    }
    case IG_OP_COUNT:
        return ig_fail(IG_ERR_INTERNAL, "cuda: bad op");
    }
#undef IN
#undef OUT
    return ig_cuda_check(cudaGetLastError(), n->name, __FILE__, __LINE__);
}
