/* dense.c — dense layers and the matrix ops of their gradients.
 *   DENSE     (x [n,k], w [m,k], b [m]?) -> act(x·wᵀ + b) [n,m]; attrs.i[0] = has the bias,
 *             attrs.i[1] = ig_act. With attrs.i[2] = IG_DENSE_LOSS (fuse.c, after autodiff): a
 *             classifier's last layer with the SPARSE_CE that read its logits folded in, labels
 *             i32 [n] the last input, outputs (logits, loss [1], dlogits [n,m]) as the two nodes
 *             gave them, label smoothing attrs.f[1]
 *   MATMUL    (a, b[, y]) -> op(a)·op(b); attrs.i[0], i[1] = transpose a, b. With y (a fused
 *             ACT_GRAD, fuse.c): the product times f'(·) taken from y, the output of activation
 *             attrs.i[2] (parameter attrs.f[0]), as ACT_GRAD (dy, y) computes it
 *   DENSE_WGRAD (dz [n,m], x [n,k]) -> dw = dzᵀ·x [m,k], db = column sums of dz [m]: the
 *             parameter gradients of a dense layer with bias, one op so that a backend can
 *             reduce the bias gradient inside the GEMM (cuBLASLt's BGRADB epilogue) */
#include "ops/act_math.h"
#include "ops/ops.h"

static ig_status dense_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_val *x = ig_in(g, n, 0), *w = ig_in(g, n, 1);
    char a[64], b[64];
    if (x->shape.ndim != 2)
        return ig_fail(IG_ERR_SHAPE, "dense '%s': input has shape %s; dense needs [batch, features] (flatten first)",
                       n->name, ig_shape_str(&x->shape, a, sizeof a));
    if (w->shape.ndim != 2 || w->shape.d[1] != x->shape.d[1])
        return ig_fail(IG_ERR_SHAPE, "dense '%s': input %s does not fit weight %s (want [units, %lld])", n->name,
                       ig_shape_str(&x->shape, a, sizeof a), ig_shape_str(&w->shape, b, sizeof b),
                       (long long)x->shape.d[1]);
    if (n->attrs.i[0]) {
        const ig_val *bias = ig_in(g, n, 2);
        if (bias->shape.ndim != 1 || bias->shape.d[0] != w->shape.d[0])
            return ig_fail(IG_ERR_SHAPE, "dense '%s': bias %s does not fit weight %s", n->name,
                           ig_shape_str(&bias->shape, a, sizeof a), ig_shape_str(&w->shape, b, sizeof b));
    }
    s[0] = ig_shape_make(2, (int64_t[]){x->shape.d[0], w->shape.d[0]});
    t[0] = IG_F32;
    if (n->attrs.i[2] != IG_DENSE_LOSS) return IG_OK;
    const ig_val *labels = ig_in(g, n, n->n_in - 1);
    if (n->n_out != 3 || n->n_in != (n->attrs.i[0] ? 4 : 3) || n->attrs.i[1] != IG_ACT_NONE ||
        labels->dtype != IG_I32 || labels->shape.ndim != 1 || labels->shape.d[0] != x->shape.d[0])
        return ig_fail(IG_ERR_INTERNAL, "dense '%s': a fused loss needs i32 labels [%lld] last, no activation and "
                       "three outputs", n->name, (long long)x->shape.d[0]);
    s[1] = ig_shape_make(1, (int64_t[]){1});
    s[2] = s[0];
    t[1] = t[2] = IG_F32;
    return IG_OK;
}

static ig_status dense_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    ig_graph *g = ig_ad_graph(ad);
    int dz = dout[0];
    if (n->attrs.i[1] != IG_ACT_NONE) {
        ig_attrs at = {.i = {n->attrs.i[1]}};
        IG_TRY(ig_emit(g, IG_OP_ACT_GRAD, (int[]){dout[0], n->out[0]}, 2, &at, "dact", &dz));
    }
    if (ig_ad_needs(ad, n->in[0])) {
        int dx;
        IG_TRY(ig_emit(g, IG_OP_MATMUL, (int[]){dz, n->in[1]}, 2, NULL, "dx", &dx));
        IG_TRY(ig_ad_accum(ad, n->in[0], dx));
    }
    if (n->n_in == 3 && ig_ad_needs(ad, n->in[2])) {
        int dwb[2];
        IG_TRY(ig_emit(g, IG_OP_DENSE_WGRAD, (int[]){dz, n->in[0]}, 2, NULL, "dwb", dwb));
        IG_TRY(ig_ad_accum(ad, n->in[1], dwb[0]));
        return ig_ad_accum(ad, n->in[2], dwb[1]);
    }
    if (ig_ad_needs(ad, n->in[1])) {
        int dw;
        ig_attrs at = {.i = {1, 0}};
        IG_TRY(ig_emit(g, IG_OP_MATMUL, (int[]){dz, n->in[0]}, 2, &at, "dw", &dw));
        IG_TRY(ig_ad_accum(ad, n->in[1], dw));
    }
    return IG_OK;
}

static double dense_flops(const ig_graph *g, const ig_node *n)
{
    const ig_shape *x = &ig_in(g, n, 0)->shape, *w = &ig_in(g, n, 1)->shape;
    double loss = n->attrs.i[2] == IG_DENSE_LOSS ? 4.0 * (double)x->d[0] * (double)w->d[0] : 0.0;
    return 2.0 * (double)x->d[0] * (double)w->d[0] * (double)x->d[1] + loss;
}

const ig_op_def ig_op_dense_def = {"dense", 2, 3, 1, dense_infer, dense_vjp, dense_flops, false, false, false};

static void matmul_dims(const ig_graph *g, const ig_node *n, int64_t *m, int64_t *k1, int64_t *k2, int64_t *nn)
{
    const ig_shape *a = &ig_in(g, n, 0)->shape, *b = &ig_in(g, n, 1)->shape;
    *m = n->attrs.i[0] ? a->d[1] : a->d[0];
    *k1 = n->attrs.i[0] ? a->d[0] : a->d[1];
    *k2 = n->attrs.i[1] ? b->d[1] : b->d[0];
    *nn = n->attrs.i[1] ? b->d[0] : b->d[1];
}

static ig_status matmul_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_shape *a = &ig_in(g, n, 0)->shape, *b = &ig_in(g, n, 1)->shape;
    char x[64], y[64];
    if (a->ndim != 2 || b->ndim != 2)
        return ig_fail(IG_ERR_SHAPE, "matmul '%s': operands %s and %s must be 2-D", n->name,
                       ig_shape_str(a, x, sizeof x), ig_shape_str(b, y, sizeof y));
    int64_t m, k1, k2, nn;
    matmul_dims(g, n, &m, &k1, &k2, &nn);
    if (k1 != k2)
        return ig_fail(IG_ERR_SHAPE, "matmul '%s': inner dimensions of %s and %s differ", n->name,
                       ig_shape_str(a, x, sizeof x), ig_shape_str(b, y, sizeof y));
    s[0] = ig_shape_make(2, (int64_t[]){m, nn});
    t[0] = IG_F32;
    const ig_shape *ys = n->n_in == 3 ? &ig_in(g, n, 2)->shape : NULL; /* a fused activation gradient's y */
    if (ys && (ys->ndim != 2 || ys->d[0] != m || ys->d[1] != nn || !ig_act_grad_from_y((int)n->attrs.i[2])))
        return ig_fail(IG_ERR_INTERNAL, "matmul '%s': a fused activation gradient needs y [%lld, %lld] and a kind "
                       "whose derivative comes from y", n->name, (long long)m, (long long)nn);
    return IG_OK;
}

static double matmul_flops(const ig_graph *g, const ig_node *n)
{
    int64_t m, k1, k2, nn;
    matmul_dims(g, n, &m, &k1, &k2, &nn);
    return 2.0 * (double)m * (double)k1 * (double)nn;
}

const ig_op_def ig_op_matmul_def = {"matmul", 2, 3, 1, matmul_infer, NULL, matmul_flops, false, false, false};

static ig_status wgrad_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_shape *dz = &ig_in(g, n, 0)->shape, *x = &ig_in(g, n, 1)->shape;
    if (dz->ndim != 2 || x->ndim != 2 || dz->d[0] != x->d[0]) {
        char a[64], b[64];
        return ig_fail(IG_ERR_SHAPE, "dense_wgrad '%s': %s and %s must be 2-D with equal rows", n->name,
                       ig_shape_str(dz, a, sizeof a), ig_shape_str(x, b, sizeof b));
    }
    s[0] = ig_shape_make(2, (int64_t[]){dz->d[1], x->d[1]});
    s[1] = ig_shape_make(1, &dz->d[1]);
    t[0] = t[1] = IG_F32;
    return IG_OK;
}

static double wgrad_flops(const ig_graph *g, const ig_node *n)
{
    const ig_shape *dz = &ig_in(g, n, 0)->shape, *x = &ig_in(g, n, 1)->shape;
    return (2.0 * (double)x->d[1] + 1.0) * (double)dz->d[0] * (double)dz->d[1];
}

const ig_op_def ig_op_dense_wgrad_def = {"dense_wgrad", 2, 2, 2, wgrad_infer, NULL, wgrad_flops, false, false, false};
