/* loss.c — losses (means over the batch), each fused: one kernel writes the loss and the
 * gradient of the loss with respect to its prediction (for an upstream gradient of 1).
 *   SPARSE_CE     (logits [n,c], labels i32 [n])        -> loss [1], dlogits [n,c]
 *   CROSS_ENTROPY (logits [n,c], probabilities f32 [n,c]) -> loss [1], dlogits [n,c]
 *       both softmax + cross-entropy, attrs.f[0] = label smoothing ε in [0, 1): the target
 *       becomes (1 − ε)·t + ε/c (PyTorch's F.cross_entropy(label_smoothing=ε))
 *   ELEM_LOSS     (pred, target f32 of pred's shape)    -> loss [1], dpred
 *       mean over every element of a per-element loss: attrs.i[0] the kind (IG_ELEM_*:
 *       MSE, MAE, Huber with delta attrs.f[0] > 0, BCE on probabilities, BCE with logits)
 *   ACCURACY      (pred, target)                        -> i32 [1] count of samples right
 *       attrs.i[0] the mode (IG_ACC_*): labels as SPARSE_CE's, probabilities as
 *       CROSS_ENTROPY's, or binary (f32 of pred's shape, threshold attrs.f[0]); no gradient
 * The math of each element is in loss_math.h. */
#include "ops/loss_math.h"
#include "ops/ops.h"

static const char *const elem_names[IG_ELEM_KINDS] = {"mse", "mae", "huber", "binary cross-entropy",
                                                      "bce with logits"};

static ig_status need_logits(const ig_graph *g, const ig_node *n, const char *what)
{
    const ig_val *x = ig_in(g, n, 0);
    char a[64];
    if (x->shape.ndim != 2)
        return ig_fail(IG_ERR_SHAPE, "%s: logits have shape %s; expected [batch, classes]", what,
                       ig_shape_str(&x->shape, a, sizeof a));
    return IG_OK;
}

static ig_status need_labels(const ig_graph *g, const ig_node *n, const char *what)
{
    IG_TRY(need_logits(g, n, what));
    const ig_val *x = ig_in(g, n, 0), *y = ig_in(g, n, 1);
    char b[64];
    if (y->dtype != IG_I32 || y->shape.ndim != 1 || y->shape.d[0] != x->shape.d[0])
        return ig_fail(IG_ERR_SHAPE, "%s: labels must be i32 [%lld], got %s %s", what, (long long)x->shape.d[0],
                       ig_dtype_name(y->dtype), ig_shape_str(&y->shape, b, sizeof b));
    return IG_OK;
}

/* A target of f32 values in the prediction's shape (probability rows, regression values). */
static ig_status need_like_pred(const ig_graph *g, const ig_node *n, const char *what, const char *target)
{
    const ig_val *x = ig_in(g, n, 0), *y = ig_in(g, n, 1);
    if (y->dtype != IG_F32 || !ig_shape_eq(&x->shape, &y->shape)) {
        char a[64], b[64];
        return ig_fail(IG_ERR_SHAPE, "%s: %s must be f32 %s like the prediction, got %s %s", what, target,
                       ig_shape_str(&x->shape, a, sizeof a), ig_dtype_name(y->dtype),
                       ig_shape_str(&y->shape, b, sizeof b));
    }
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

/* Outputs of a fused loss: the scalar and a gradient of the prediction's shape. */
static ig_status loss_outputs(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    s[0] = ig_shape_make(1, (int64_t[]){1});
    s[1] = ig_in(g, n, 0)->shape;
    t[0] = t[1] = IG_F32;
    return IG_OK;
}

static ig_status smoothing_check(const ig_node *n, const char *what)
{
    float eps = n->attrs.f[0];
    if (!(eps >= 0 && eps < 1))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: label smoothing %g must be in [0, 1)", what, eps);
    return IG_OK;
}

static ig_status sparse_ce_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    IG_TRY(smoothing_check(n, "sparse cross-entropy"));
    IG_TRY(need_labels(g, n, "sparse cross-entropy"));
    return loss_outputs(g, n, s, t);
}

const ig_op_def ig_op_sparse_ce_def = {"sparse_cross_entropy", 2, 2, 2, sparse_ce_infer, fused_loss_vjp,
                                       numel_flops, false, false, false};

static ig_status cross_entropy_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    IG_TRY(smoothing_check(n, "cross-entropy"));
    IG_TRY(need_logits(g, n, "cross-entropy"));
    IG_TRY(need_like_pred(g, n, "cross-entropy", "target probabilities"));
    return loss_outputs(g, n, s, t);
}

const ig_op_def ig_op_cross_entropy_def = {"cross_entropy", 2, 2, 2, cross_entropy_infer, fused_loss_vjp,
                                           numel_flops, false, false, false};

static ig_status elem_loss_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    int64_t kind = n->attrs.i[0];
    if (kind < 0 || kind >= IG_ELEM_KINDS)
        return ig_fail(IG_ERR_INTERNAL, "elementwise loss '%s': unknown kind %lld", n->name, (long long)kind);
    if (kind == IG_ELEM_HUBER && !(n->attrs.f[0] > 0))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "huber: delta %g must be > 0", n->attrs.f[0]);
    IG_TRY(need_like_pred(g, n, elem_names[kind], "target"));
    return loss_outputs(g, n, s, t);
}

const ig_op_def ig_op_elem_loss_def = {"elementwise_loss", 2, 2, 2, elem_loss_infer, fused_loss_vjp, numel_flops,
                                       false, false, false};

static ig_status accuracy_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    switch (n->attrs.i[0]) {
    case IG_ACC_LABELS: IG_TRY(need_labels(g, n, "accuracy")); break;
    case IG_ACC_PROBS:
        IG_TRY(need_logits(g, n, "accuracy"));
        IG_TRY(need_like_pred(g, n, "accuracy", "target probabilities"));
        break;
    case IG_ACC_BINARY: IG_TRY(need_like_pred(g, n, "binary accuracy", "target")); break;
    default:
        return ig_fail(IG_ERR_INTERNAL, "accuracy '%s': unknown mode %lld", n->name, (long long)n->attrs.i[0]);
    }
    s[0] = ig_shape_make(1, (int64_t[]){1});
    t[0] = IG_I32;
    return IG_OK;
}

const ig_op_def ig_op_accuracy_def = {"accuracy", 2, 2, 1, accuracy_infer, NULL, numel_flops, false, false, false};
