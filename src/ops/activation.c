/* activation.c — elementwise activations and their gradient.
 *   RELU, TANH (x) -> y, same shape
 *   ACT_GRAD (dy, y) -> dy·act'(x) computed from the output y; attrs.i[0] = ig_act */
#include "ops/ops.h"

static ig_status same_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    s[0] = ig_in(g, n, 0)->shape;
    t[0] = IG_F32;
    return IG_OK;
}

static ig_status relu_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    int dx;
    ig_attrs at = {.i = {IG_ACT_RELU}};
    IG_TRY(ig_emit(ig_ad_graph(ad), IG_OP_ACT_GRAD, (int[]){dout[0], n->out[0]}, 2, &at, "drelu", &dx));
    return ig_ad_accum(ad, n->in[0], dx);
}

static ig_status tanh_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    int dx;
    ig_attrs at = {.i = {IG_ACT_TANH}};
    IG_TRY(ig_emit(ig_ad_graph(ad), IG_OP_ACT_GRAD, (int[]){dout[0], n->out[0]}, 2, &at, "dtanh", &dx));
    return ig_ad_accum(ad, n->in[0], dx);
}

static double numel_flops(const ig_graph *g, const ig_node *n)
{
    return (double)ig_shape_numel(&ig_in(g, n, 0)->shape);
}

const ig_op_def ig_op_relu_def = {"relu", 1, 1, 1, same_infer, relu_vjp, numel_flops, true, false};
const ig_op_def ig_op_tanh_def = {"tanh", 1, 1, 1, same_infer, tanh_vjp, numel_flops, true, false};

static ig_status act_grad_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    if (!ig_shape_eq(&ig_in(g, n, 0)->shape, &ig_in(g, n, 1)->shape))
        return ig_fail(IG_ERR_INTERNAL, "act_grad '%s': gradient and output shapes differ", n->name);
    return same_infer(g, n, s, t);
}

const ig_op_def ig_op_act_grad_def = {"act_grad", 2, 2, 1, act_grad_infer, NULL, numel_flops, true, false};
