/* conv.c — 2-D convolution and the ops of its gradient (see conv.h for each op's operands
 * and attributes). Every check a user can trip is CONV2D's shape inference, so it holds
 * again when a model is re-inferred for another batch size. */
#include "ops/conv.h"
#include "ops/ops.h"

/* A 4-D operand, or a message naming the node, the operand, its shape and the layout wanted. */
static ig_status need_4d(const ig_node *n, const char *op, const char *what, const char *layout, const ig_shape *s)
{
    if (s->ndim == 4) return IG_OK;
    char a[64];
    return ig_fail(IG_ERR_SHAPE, "%s '%s': %s has shape %s; it must be [%s]", op, n->name, what,
                   ig_shape_str(s, a, sizeof a), layout);
}

/* The layouts the messages name. */
#define NCHW "batch, channels, height, width"
#define FCHW "filters, channels, kernel height, kernel width"
#define DY "batch, filters, out height, out width"

/* The node's geometry, once stride, padding and kernel sizes are valid and the kernel fits
 * the padded input (the stride is checked before the output sizes divide by it). */
static ig_status geom_checked(const ig_graph *g, const ig_node *n, const char *op, ig_conv_geom *q)
{
    if (n->attrs.i[0] < 1)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s '%s': stride is %lld (must be >= 1)", op, n->name,
                       (long long)n->attrs.i[0]);
    *q = ig_conv_geom_of(g, n);
    if (q->pad < 0)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s '%s': padding is %lld (must be >= 0)", op, n->name,
                       (long long)q->pad);
    if (q->kh < 1 || q->kw < 1 || q->h < 1 || q->w < 1)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s '%s': kernel %lldx%lld over input %lldx%lld (each must be >= 1)",
                       op, n->name, (long long)q->kh, (long long)q->kw, (long long)q->h, (long long)q->w);
    if (q->h + 2 * q->pad < q->kh || q->w + 2 * q->pad < q->kw)
        return ig_fail(IG_ERR_SHAPE,
                       "%s '%s': kernel %lldx%lld is larger than its padded input (%lld x %lld with padding %lld)", op,
                       n->name, (long long)q->kh, (long long)q->kw, (long long)(q->h + 2 * q->pad),
                       (long long)(q->w + 2 * q->pad), (long long)q->pad);
    return IG_OK;
}

static ig_status conv_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_shape *x = &ig_in(g, n, 0)->shape, *w = &ig_in(g, n, 1)->shape;
    char a[64], b[64];
    IG_TRY(need_4d(n, "conv2d", "input", NCHW, x));
    IG_TRY(need_4d(n, "conv2d", "weight", FCHW, w));
    if (w->d[1] != x->d[1])
        return ig_fail(IG_ERR_SHAPE, "conv2d '%s': input %s has %lld channels, weight %s expects %lld", n->name,
                       ig_shape_str(x, a, sizeof a), (long long)x->d[1], ig_shape_str(w, b, sizeof b),
                       (long long)w->d[1]);
    ig_conv_geom q;
    IG_TRY(geom_checked(g, n, "conv2d", &q));
    if (n->n_in == 3) {
        const ig_shape *bias = &ig_in(g, n, 2)->shape;
        if (bias->ndim != 1 || bias->d[0] != q.f)
            return ig_fail(IG_ERR_SHAPE, "conv2d '%s': bias %s does not fit weight %s (want [%lld])", n->name,
                           ig_shape_str(bias, a, sizeof a), ig_shape_str(w, b, sizeof b), (long long)q.f);
    }
    /* the fused node keeps its output only, so only activations whose derivative follows
     * from the output can be fused */
    int64_t act = n->attrs.i[2];
    if (act < IG_ACT_NONE || act >= IG_ACT_KINDS || (act != IG_ACT_NONE && !ig_act_grad_from_y((int)act)))
        return ig_fail(IG_ERR_INTERNAL, "conv2d '%s': activation %lld cannot be fused", n->name, (long long)act);
    s[0] = ig_shape_make(4, (int64_t[]){q.n, q.f, q.oh, q.ow});
    t[0] = IG_F32;
    return IG_OK;
}

static ig_status conv_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    ig_graph *g = ig_ad_graph(ad);
    ig_conv_geom q = ig_conv_geom_of(g, n);
    int dz = dout[0];
    if (n->attrs.i[2] != IG_ACT_NONE) {
        ig_attrs at = {.i = {n->attrs.i[2]}, .f = {n->attrs.f[0]}};
        IG_TRY(ig_emit(g, IG_OP_ACT_GRAD, (int[]){dout[0], n->out[0]}, 2, &at, "dact", &dz));
    }
    if (ig_ad_needs(ad, n->in[0])) {
        int dx;
        ig_attrs at = {.i = {q.stride, q.pad, q.h, q.w}};
        IG_TRY(ig_emit(g, IG_OP_CONV2D_DGRAD, (int[]){dz, n->in[1]}, 2, &at, "dconv_x", &dx));
        IG_TRY(ig_ad_accum(ad, n->in[0], dx));
    }
    if (ig_ad_needs(ad, n->in[1])) {
        int dw;
        ig_attrs at = {.i = {q.stride, q.pad, q.kh, q.kw}};
        IG_TRY(ig_emit(g, IG_OP_CONV2D_WGRAD, (int[]){dz, n->in[0]}, 2, &at, "dconv_w", &dw));
        IG_TRY(ig_ad_accum(ad, n->in[1], dw));
    }
    if (n->n_in == 3 && ig_ad_needs(ad, n->in[2])) {
        int db;
        IG_TRY(ig_emit(g, IG_OP_CHANNEL_SUM, &dz, 1, NULL, "dconv_b", &db));
        IG_TRY(ig_ad_accum(ad, n->in[2], db));
    }
    return IG_OK;
}

/* A multiply-add per weight per output position, for the forward pass and each gradient. */
static double conv_flops(const ig_graph *g, const ig_node *n)
{
    ig_conv_geom q = ig_conv_geom_of(g, n);
    return 2.0 * (double)(q.n * q.oh * q.ow) * (double)q.f * (double)(q.c * q.kh * q.kw);
}

const ig_op_def ig_op_conv2d_def = {"conv2d", 2, 3, 1, conv_infer, conv_vjp, conv_flops, false, false, false};

/* A gradient node's geometry, which must fit its incoming gradient's spatial size. */
static ig_status grad_geom(const ig_graph *g, const ig_node *n, const char *op, const ig_shape *dy, ig_conv_geom *q)
{
    IG_TRY(geom_checked(g, n, op, q));
    if (q->oh != dy->d[2] || q->ow != dy->d[3]) {
        char a[64];
        return ig_fail(IG_ERR_SHAPE, "%s '%s': gradient %s does not fit a %lldx%lld output", op, n->name,
                       ig_shape_str(dy, a, sizeof a), (long long)q->oh, (long long)q->ow);
    }
    return IG_OK;
}

static ig_status dgrad_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_shape *dy = &ig_in(g, n, 0)->shape, *w = &ig_in(g, n, 1)->shape;
    IG_TRY(need_4d(n, "conv2d_dgrad", "gradient", DY, dy));
    IG_TRY(need_4d(n, "conv2d_dgrad", "weight", FCHW, w));
    if (w->d[0] != dy->d[1]) {
        char a[64], b[64];
        return ig_fail(IG_ERR_SHAPE, "conv2d_dgrad '%s': gradient %s does not fit weight %s", n->name,
                       ig_shape_str(dy, a, sizeof a), ig_shape_str(w, b, sizeof b));
    }
    ig_conv_geom q;
    IG_TRY(grad_geom(g, n, "conv2d_dgrad", dy, &q));
    s[0] = ig_shape_make(4, (int64_t[]){q.n, q.c, q.h, q.w});
    t[0] = IG_F32;
    return IG_OK;
}

const ig_op_def ig_op_conv2d_dgrad_def = {"conv2d_dgrad", 2, 2, 1, dgrad_infer, NULL, conv_flops, false, false, false};

static ig_status wgrad_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_shape *dy = &ig_in(g, n, 0)->shape, *x = &ig_in(g, n, 1)->shape;
    IG_TRY(need_4d(n, "conv2d_wgrad", "gradient", DY, dy));
    IG_TRY(need_4d(n, "conv2d_wgrad", "input", NCHW, x));
    if (x->d[0] != dy->d[0]) {
        char a[64], b[64];
        return ig_fail(IG_ERR_SHAPE, "conv2d_wgrad '%s': gradient %s and input %s differ in batch", n->name,
                       ig_shape_str(dy, a, sizeof a), ig_shape_str(x, b, sizeof b));
    }
    ig_conv_geom q;
    IG_TRY(grad_geom(g, n, "conv2d_wgrad", dy, &q));
    s[0] = ig_shape_make(4, (int64_t[]){q.f, q.c, q.kh, q.kw});
    t[0] = IG_F32;
    if (n->n_out == 2) { /* a folded CHANNEL_SUM: the bias gradient */
        s[1] = ig_shape_make(1, &q.f);
        t[1] = IG_F32;
    }
    return IG_OK;
}

const ig_op_def ig_op_conv2d_wgrad_def = {"conv2d_wgrad", 2, 2, 1, wgrad_infer, NULL, conv_flops, false, false, false};

static ig_status channel_sum_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_shape *x = &ig_in(g, n, 0)->shape;
    if (x->ndim < 2) {
        char a[64];
        return ig_fail(IG_ERR_SHAPE, "channel_sum '%s': input %s has no channel axis (axis 1)", n->name,
                       ig_shape_str(x, a, sizeof a));
    }
    s[0] = ig_shape_make(1, &x->d[1]);
    t[0] = IG_F32;
    return IG_OK;
}

static double channel_sum_flops(const ig_graph *g, const ig_node *n)
{
    return (double)ig_shape_numel(&ig_in(g, n, 0)->shape);
}

const ig_op_def ig_op_channel_sum_def = {"channel_sum", 1, 1, 1, channel_sum_infer, NULL, channel_sum_flops,
                                        false, false, false};
