/* op_table.c — the table of every op, indexed by ig_op. */
#include "ops/ops.h"

static const ig_op_def *const table[IG_OP_COUNT] = {
    [IG_OP_DENSE] = &ig_op_dense_def,
    [IG_OP_MATMUL] = &ig_op_matmul_def,
    [IG_OP_DENSE_WGRAD] = &ig_op_dense_wgrad_def,
    [IG_OP_RELU] = &ig_op_relu_def,
    [IG_OP_TANH] = &ig_op_tanh_def,
    [IG_OP_ACT_GRAD] = &ig_op_act_grad_def,
    [IG_OP_ACT] = &ig_op_act_def,
    [IG_OP_SOFTMAX] = &ig_op_softmax_def,
    [IG_OP_SOFTMAX_GRAD] = &ig_op_softmax_grad_def,
    [IG_OP_RESHAPE] = &ig_op_reshape_def,
    [IG_OP_ADD] = &ig_op_add_def,
    [IG_OP_SCALE] = &ig_op_scale_def,
    [IG_OP_COPY] = &ig_op_copy_def,
    [IG_OP_SPARSE_CE] = &ig_op_sparse_ce_def,
    [IG_OP_CROSS_ENTROPY] = &ig_op_cross_entropy_def,
    [IG_OP_ELEM_LOSS] = &ig_op_elem_loss_def,
    [IG_OP_ACCURACY] = &ig_op_accuracy_def,
    [IG_OP_SGD] = &ig_op_sgd_def,
    [IG_OP_ADAM] = &ig_op_adam_def,
    [IG_OP_NADAM] = &ig_op_nadam_def,
    [IG_OP_RMSPROP] = &ig_op_rmsprop_def,
    [IG_OP_ADAGRAD] = &ig_op_adagrad_def,
    [IG_OP_ADADELTA] = &ig_op_adadelta_def,
    [IG_OP_RECORD_LOSS] = &ig_op_record_loss_def,
    [IG_OP_GATHER] = &ig_op_gather_def,
    [IG_OP_EVAL_ACCUM] = &ig_op_eval_accum_def,
    [IG_OP_CLIP_GRAD_NORM] = &ig_op_clip_grad_norm_def,
    [IG_OP_POOL2D] = &ig_op_pool2d_def,
    [IG_OP_POOL2D_GRAD] = &ig_op_pool2d_grad_def,
    [IG_OP_DROPOUT] = &ig_op_dropout_def,
    [IG_OP_CONV2D] = &ig_op_conv2d_def,
    [IG_OP_CONV2D_DGRAD] = &ig_op_conv2d_dgrad_def,
    [IG_OP_CONV2D_WGRAD] = &ig_op_conv2d_wgrad_def,
    [IG_OP_CHANNEL_SUM] = &ig_op_channel_sum_def,
    [IG_OP_BATCHNORM] = &ig_op_batchnorm_def,
    [IG_OP_BATCHNORM_GRAD] = &ig_op_batchnorm_grad_def,
    [IG_OP_BATCHNORM_DX] = &ig_op_batchnorm_dx_def,
};

const ig_op_def *ig_op_get(ig_op op)
{
    return (op > IG_OP_NOP && op < IG_OP_COUNT) ? table[op] : NULL;
}

ig_status ig_emit(ig_graph *g, ig_op op, const int *in, int n_in, const ig_attrs *attrs,
                  const char *name, int *out)
{
    return ig_graph_node(g, op, in, n_in, attrs, name, out);
}
