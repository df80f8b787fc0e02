/* activation.c — elementwise activations, softmax, and their gradients.
 *   RELU, TANH (x) -> y, same shape
 *   ACT      (x) -> f(x); attrs.i[0] = ig_act kind (LEAKY_RELU..GELU_TANH), attrs.f[0] = its
 *            parameter (LeakyReLU's slope, ELU's alpha); the math is src/ops/act_math.h
 *   ACT_GRAD (dy, y[, x]) -> dy·f'(x); attrs as ACT's. x is given for the kinds whose
 *            derivative needs the input (!ig_act_grad_from_y)
 *   SOFTMAX  (x) -> softmax over the last axis, rows shifted by their maximum
 *   SOFTMAX_GRAD (dy, y) -> y·(dy − Σ dy·y) per row */
#include "ops/act_math.h"
#include "ops/ops.h"

static ig_status same_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    s[0] = ig_in(g, n, 0)->shape;
    t[0] = IG_F32;
    return IG_OK;
}

/* dx = dy·f'(x) for the activation of node n (kind act, parameter attrs.f[0]). */
static ig_status act_grad_emit(ig_ad *ad, const ig_node *n, const int *dout, int act, const char *name)
{
    int dx;
    ig_attrs at = {.i = {act}, .f = {n->attrs.f[0]}};
    int in[3] = {dout[0], n->out[0], n->in[0]};
    IG_TRY(ig_emit(ig_ad_graph(ad), IG_OP_ACT_GRAD, in, ig_act_grad_from_y(act) ? 2 : 3, &at, name, &dx));
    return ig_ad_accum(ad, n->in[0], dx);
}

static ig_status relu_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    return act_grad_emit(ad, n, dout, IG_ACT_RELU, "drelu");
}

static ig_status tanh_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    return act_grad_emit(ad, n, dout, IG_ACT_TANH, "dtanh");
}

static ig_status act_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    return act_grad_emit(ad, n, dout, (int)n->attrs.i[0], "dact");
}

static double numel_flops(const ig_graph *g, const ig_node *n)
{
    return (double)ig_shape_numel(&ig_in(g, n, 0)->shape);
}

const ig_op_def ig_op_relu_def = {"relu", 1, 1, 1, same_infer, relu_vjp, numel_flops, true, false, false};
const ig_op_def ig_op_tanh_def = {"tanh", 1, 1, 1, same_infer, tanh_vjp, numel_flops, true, false, false};

static ig_status act_kind_check(const ig_node *n, bool relu_tanh)
{
    int64_t act = n->attrs.i[0];
    bool ok = act > IG_ACT_NONE && act < IG_ACT_KINDS && (relu_tanh || act > IG_ACT_TANH);
    if (!ok) return ig_fail(IG_ERR_INTERNAL, "%s '%s': bad activation kind %lld", relu_tanh ? "act_grad" : "act",
                            n->name, (long long)act);
    if (!isfinite(n->attrs.f[0]))
        return ig_fail(IG_ERR_INTERNAL, "act '%s': parameter %g is not finite", n->name, n->attrs.f[0]);
    return IG_OK;
}

static ig_status act_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    IG_TRY(act_kind_check(n, false));
    return same_infer(g, n, s, t);
}

const ig_op_def ig_op_act_def = {"act", 1, 1, 1, act_infer, act_vjp, numel_flops, true, false, false};

static ig_status act_grad_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    IG_TRY(act_kind_check(n, true));
    int want = ig_act_grad_from_y((int)n->attrs.i[0]) ? 2 : 3;
    if (n->n_in != want)
        return ig_fail(IG_ERR_INTERNAL, "act_grad '%s': %d inputs, this kind needs %d", n->name, n->n_in, want);
    for (int k = 1; k < n->n_in; k++)
        if (!ig_shape_eq(&ig_in(g, n, 0)->shape, &ig_in(g, n, k)->shape))
            return ig_fail(IG_ERR_INTERNAL, "act_grad '%s': gradient and input %d shapes differ", n->name, k);
    return same_infer(g, n, s, t);
}

const ig_op_def ig_op_act_grad_def = {"act_grad", 2, 3, 1, act_grad_infer, NULL, numel_flops, true, false, false};

static ig_status softmax_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_shape *xs = &ig_in(g, n, 0)->shape;
    if (xs->ndim < 1 || xs->d[xs->ndim - 1] < 1) {
        char b[64];
        return ig_fail(IG_ERR_SHAPE, "softmax '%s': input has shape %s; softmax needs a last axis", n->name,
                       ig_shape_str(xs, b, sizeof b));
    }
    return same_infer(g, n, s, t);
}

static ig_status softmax_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    int dx;
    IG_TRY(ig_emit(ig_ad_graph(ad), IG_OP_SOFTMAX_GRAD, (int[]){dout[0], n->out[0]}, 2, NULL, "dsoftmax", &dx));
    return ig_ad_accum(ad, n->in[0], dx);
}

/* max, exp and sum, divide: about 4 per element */
static double softmax_flops(const ig_graph *g, const ig_node *n) { return 4.0 * numel_flops(g, n); }

const ig_op_def ig_op_softmax_def = {"softmax", 1, 1, 1, softmax_infer, softmax_vjp, softmax_flops, true, false, false};

static ig_status softmax_grad_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    if (!ig_shape_eq(&ig_in(g, n, 0)->shape, &ig_in(g, n, 1)->shape))
        return ig_fail(IG_ERR_INTERNAL, "softmax_grad '%s': gradient and output shapes differ", n->name);
    return same_infer(g, n, s, t);
}

const ig_op_def ig_op_softmax_grad_def = {"softmax_grad", 2, 2, 1, softmax_grad_infer, NULL, softmax_flops, true, false, false};
