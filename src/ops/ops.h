/* ops.h — the op table. Everything the graph layer knows about an op sits in its entry:
 * arity, shape inference, the VJP rule (backward as new nodes), whether its output may
 * reuse its first input's memory, and a FLOP estimate. Kernels live in the backends. */
#ifndef IG_OPS_H
#define IG_OPS_H

#include "graph/graph.h"
#include "ops/act_math.h"

/* State handed to VJP rules while the backward graph is built. */
typedef struct ig_ad ig_ad;

/* The unit gradient seed (d loss / d loss = 1) where a value id is expected. */
#define IG_GRAD_UNIT (-2)

/* Whether value v needs a gradient (it lies on a path from a wrt value to a root). */
bool ig_ad_needs(const ig_ad *ad, int v);
/* Adds gradient g to the gradient accumulated for value v (emits an ADD when v already
 * has one). */
ig_status ig_ad_accum(ig_ad *ad, int v, int g);
ig_graph *ig_ad_graph(ig_ad *ad);

typedef struct ig_op_def {
    const char *name;
    int n_in_min, n_in_max, n_out;
    /* Fills the output shapes/dtypes from the inputs and attributes, or fails with a message. */
    ig_status (*infer)(const ig_graph *g, const ig_node *n, ig_shape *shapes, ig_dtype *dtypes);
    /* Emits the gradients of the inputs given dout[k] (the gradient of output k, -1 if none,
     * IG_GRAD_UNIT for a scalar loss). NULL for ops that are not differentiable. */
    ig_status (*vjp)(ig_ad *ad, const ig_node *n, const int *dout);
    /* Floating-point operations of one run (for summaries and benchmarks). */
    double (*flops)(const ig_graph *g, const ig_node *n);
    bool inplace; /* output 0 may take input 0's memory when input 0 dies here */
    bool view;    /* output 0 is input 0's memory with another shape */
    bool updates; /* writes bound inputs in place (state, counters, running statistics) */
} ig_op_def;

const ig_op_def *ig_op_get(ig_op op);

/* Per-family definitions, gathered by op_table.c. */
extern const ig_op_def ig_op_dense_def, ig_op_matmul_def, ig_op_dense_wgrad_def;
extern const ig_op_def ig_op_relu_def, ig_op_tanh_def, ig_op_act_grad_def;
extern const ig_op_def ig_op_act_def, ig_op_softmax_def, ig_op_softmax_grad_def;
extern const ig_op_def ig_op_reshape_def, ig_op_add_def, ig_op_scale_def, ig_op_copy_def;
extern const ig_op_def ig_op_sparse_ce_def, ig_op_cross_entropy_def, ig_op_elem_loss_def, ig_op_accuracy_def;
extern const ig_op_def ig_op_sgd_def, ig_op_adam_def, ig_op_record_loss_def;
extern const ig_op_def ig_op_nadam_def, ig_op_rmsprop_def, ig_op_adagrad_def, ig_op_adadelta_def;
extern const ig_op_def ig_op_gather_def, ig_op_eval_accum_def, ig_op_clip_grad_norm_def;
extern const ig_op_def ig_op_pool2d_def, ig_op_pool2d_grad_def, ig_op_dropout_def;
extern const ig_op_def ig_op_conv2d_def, ig_op_conv2d_dgrad_def, ig_op_conv2d_wgrad_def, ig_op_channel_sum_def;
extern const ig_op_def ig_op_batchnorm_def, ig_op_batchnorm_grad_def, ig_op_batchnorm_dx_def;

/* An optimizer node's share of the update (optim.c): attrs.i[0] nodes split it (0 or 1: one
 * node), this one is number attrs.i[1] of them. The step counter advances once, after every
 * node of the update has read it: on the CPU, which runs them in order, in the last. */
static inline bool ig_opt_advances(const ig_node *n) { return n->attrs.i[1] >= n->attrs.i[0] - 1; }

/* DENSE's attrs.i[2] when a SPARSE_CE on its result is folded in (dense.c, fuse.c). */
#define IG_DENSE_LOSS 1

/* Appends the AHEAD gather of a training step whose TRAIN gather is node `lead` (gather.c),
 * and marks that one a lead node. */
ig_status ig_gather_append_ahead(ig_graph *g, int lead);

/* Partial sums of squares the CLIP_GRAD_NORM node writes before combining them. */
#define IG_NORM_PARTIALS 256

/* Helpers for op definitions. */
ig_status ig_emit(ig_graph *g, ig_op op, const int *in, int n_in, const ig_attrs *attrs,
                  const char *name, int *out);
static inline const ig_val *ig_in(const ig_graph *g, const ig_node *n, int k)
{
    return &g->vals[n->in[k]];
}

#include "ops/opt_hyper.h"

#endif /* IG_OPS_H */
