/* arith.c — elementwise arithmetic.
 *   ADD   (a, b) -> a + b, equal shapes
 *   SCALE (x, s [1]) -> x·s, s read from memory (a loss-scale or upstream scalar)
 *   COPY  (x) -> x */
#include "ops/ops.h"

static ig_status add_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_val *a = ig_in(g, n, 0), *b = ig_in(g, n, 1);
    if (!ig_shape_eq(&a->shape, &b->shape)) {
        char x[64], y[64];
        return ig_fail(IG_ERR_SHAPE, "add '%s': shapes %s and %s differ", n->name,
                       ig_shape_str(&a->shape, x, sizeof x), ig_shape_str(&b->shape, y, sizeof y));
    }
    s[0] = a->shape;
    t[0] = IG_F32;
    return IG_OK;
}

static ig_status add_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    IG_TRY(ig_ad_accum(ad, n->in[0], dout[0]));
    return ig_ad_accum(ad, n->in[1], dout[0]);
}

static double numel_flops(const ig_graph *g, const ig_node *n)
{
    return (double)ig_shape_numel(&ig_in(g, n, 0)->shape);
}

const ig_op_def ig_op_add_def = {"add", 2, 2, 1, add_infer, add_vjp, numel_flops, true, false, false};

static ig_status scale_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    if (ig_shape_numel(&ig_in(g, n, 1)->shape) != 1)
        return ig_fail(IG_ERR_SHAPE, "scale '%s': the factor must hold one element", n->name);
    s[0] = ig_in(g, n, 0)->shape;
    t[0] = IG_F32;
    return IG_OK;
}

static ig_status scale_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    if (ig_ad_needs(ad, n->in[1]))
        return ig_fail(IG_ERR_UNSUPPORTED, "scale '%s': no gradient for the factor", n->name);
    int dx;
    IG_TRY(ig_emit(ig_ad_graph(ad), IG_OP_SCALE, (int[]){dout[0], n->in[1]}, 2, NULL, "dscale", &dx));
    return ig_ad_accum(ad, n->in[0], dx);
}

const ig_op_def ig_op_scale_def = {"scale", 2, 2, 1, scale_infer, scale_vjp, numel_flops, true, false, false};

static ig_status copy_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    s[0] = ig_in(g, n, 0)->shape;
    t[0] = ig_in(g, n, 0)->dtype;
    return IG_OK;
}

static ig_status copy_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    return ig_ad_accum(ad, n->in[0], dout[0]);
}

static double zero_flops(const ig_graph *g, const ig_node *n) { return 0; }

const ig_op_def ig_op_copy_def = {"copy", 1, 1, 1, copy_infer, copy_vjp, zero_flops, false, false, false};
