/* reshape.c — RESHAPE (x [n, ...]) -> [n, attrs.shape...]: the same bytes seen with another
 * shape (a view: no copy, no memory of its own). The batch dimension is kept, so the op
 * stays valid for any batch size. */
#include "ops/ops.h"

static ig_status reshape_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_val *x = ig_in(g, n, 0);
    ig_shape out = {.ndim = n->attrs.shape.ndim + 1};
    if (out.ndim > IG_MAX_DIMS) return ig_fail(IG_ERR_SHAPE, "reshape '%s': too many dimensions", n->name);
    out.d[0] = x->shape.d[0];
    for (int i = 0; i < n->attrs.shape.ndim; i++) out.d[i + 1] = n->attrs.shape.d[i];
    if (ig_shape_numel(&out) != ig_shape_numel(&x->shape)) {
        char a[64], b[64];
        return ig_fail(IG_ERR_SHAPE, "reshape '%s': %s cannot be viewed as %s", n->name,
                       ig_shape_str(&x->shape, a, sizeof a), ig_shape_str(&out, b, sizeof b));
    }
    s[0] = out;
    t[0] = x->dtype;
    return IG_OK;
}

static ig_status reshape_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    ig_graph *g = ig_ad_graph(ad);
    const ig_shape *xs = &g->vals[n->in[0]].shape;
    ig_attrs at = {.shape = ig_shape_make(xs->ndim - 1, xs->d + 1)};
    int dx;
    IG_TRY(ig_emit(g, IG_OP_RESHAPE, &dout[0], 1, &at, "dreshape", &dx));
    return ig_ad_accum(ad, n->in[0], dx);
}

static double zero_flops(const ig_graph *g, const ig_node *n) { return 0; }

const ig_op_def ig_op_reshape_def = {"reshape", 1, 1, 1, reshape_infer, reshape_vjp, zero_flops, false, true, false};
