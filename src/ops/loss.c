/* loss.c — losses (means over the batch), each fused: one kernel writes the loss and the
 * gradient of the loss with respect to its prediction (for an upstream gradient of 1).
 *   SPARSE_CE (logits [n,c], labels i32 [n]) -> loss [1], dlogits [n,c]
 *   MSE       (pred, target of pred's shape) -> loss [1], dpred
 *   ACCURACY  (logits [n,c], labels i32 [n]) -> i32 [1] count of arg-max hits (no gradient) */
#include "ops/ops.h"

static ig_status labels_check(const ig_graph *g, const ig_node *n, const char *what)
{
    const ig_val *x = ig_in(g, n, 0), *y = ig_in(g, n, 1);
    char a[64], b[64];
    if (x->shape.ndim != 2)
        return ig_fail(IG_ERR_SHAPE, "%s: logits have shape %s; expected [batch, classes]", what,
                       ig_shape_str(&x->shape, a, sizeof a));
    if (y->dtype != IG_I32 || y->shape.ndim != 1 || y->shape.d[0] != x->shape.d[0])
        return ig_fail(IG_ERR_SHAPE, "%s: labels must be i32 [%lld], got %s %s", what, (long long)x->shape.d[0],
                       ig_dtype_name(y->dtype), ig_shape_str(&y->shape, b, sizeof b));
    return IG_OK;
}

static ig_status fused_loss_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    if (dout[0] == -1) return IG_OK;
    /* the loss depends on its target too: leaving it without a gradient would be silently wrong */
    if (ig_ad_needs(ad, n->in[1]))
        return ig_fail(IG_ERR_UNSUPPORTED, "%s '%s': no gradient for the target", ig_op_get(n->op)->name, n->name);
    if (dout[0] == IG_GRAD_UNIT) return ig_ad_accum(ad, n->in[0], n->out[1]);
    int d;
    IG_TRY(ig_emit(ig_ad_graph(ad), IG_OP_SCALE, (int[]){n->out[1], dout[0]}, 2, NULL, "dloss", &d));
    return ig_ad_accum(ad, n->in[0], d);
}

static double numel_flops(const ig_graph *g, const ig_node *n)
{
    return 4.0 * (double)ig_shape_numel(&ig_in(g, n, 0)->shape);
}

static ig_status sparse_ce_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    IG_TRY(labels_check(g, n, "sparse cross-entropy"));
    s[0] = ig_shape_make(1, (int64_t[]){1});
    s[1] = ig_in(g, n, 0)->shape;
    t[0] = t[1] = IG_F32;
    return IG_OK;
}

const ig_op_def ig_op_sparse_ce_def = {"sparse_cross_entropy", 2, 2, 2, sparse_ce_infer, fused_loss_vjp,
                                       numel_flops, false, false};

static ig_status mse_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_val *x = ig_in(g, n, 0), *y = ig_in(g, n, 1);
    if (y->dtype != IG_F32 || !ig_shape_eq(&x->shape, &y->shape)) {
        char a[64], b[64];
        return ig_fail(IG_ERR_SHAPE, "mse: target must be f32 %s like the prediction, got %s %s",
                       ig_shape_str(&x->shape, a, sizeof a), ig_dtype_name(y->dtype),
                       ig_shape_str(&y->shape, b, sizeof b));
    }
    s[0] = ig_shape_make(1, (int64_t[]){1});
    s[1] = x->shape;
    t[0] = t[1] = IG_F32;
    return IG_OK;
}

const ig_op_def ig_op_mse_def = {"mse", 2, 2, 2, mse_infer, fused_loss_vjp, numel_flops, false, false};

static ig_status accuracy_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    IG_TRY(labels_check(g, n, "accuracy"));
    s[0] = ig_shape_make(1, (int64_t[]){1});
    t[0] = IG_I32;
    return IG_OK;
}

const ig_op_def ig_op_accuracy_def = {"accuracy", 2, 2, 1, accuracy_infer, NULL, numel_flops, false, false};
