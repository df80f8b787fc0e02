/* conv.h — 2-D convolution over NCHW tensors (PyTorch's cross-correlation, weights
 * [f, c, kh, kw]), and the geometry its backends share.
 *   CONV2D       (x [n,c,h,w], w [f,c,kh,kw], b [f]?) -> act(conv(x, w) + b) [n,f,oh,ow];
 *                attrs.i = {stride, padding, act (ig_act: IG_ACT_NONE unless a fusion pass
 *                set one)}, attrs.f[0] = the activation's parameter
 *   CONV2D_DGRAD (dy [n,f,oh,ow], w) -> dx [n,c,h,w]; attrs.i = {stride, padding, h, w}
 *   CONV2D_WGRAD (dy [n,f,oh,ow], x) -> dw [f,c,kh,kw] (, db [f]); attrs.i = {stride, padding,
 *                kh, kw}. The second output, CHANNEL_SUM (dy), is one the fusion pass folds in
 *                (fuse.c), so that a kernel reading dy anyway sums it too
 *   CHANNEL_SUM  (dy [n,f,...]) -> [f]: the sum over every axis but axis 1 (a conv's bias
 *                gradient)
 * oh = (h + 2·padding − kh)/stride + 1 (floor), likewise ow. */
#ifndef IG_CONV_H
#define IG_CONV_H

#include "graph/graph.h"
#include "ops/conv_geom.h"

/* The geometry of a CONV2D, CONV2D_DGRAD or CONV2D_WGRAD node from its operands' shapes
 * and attributes (shapes already inferred). */
static inline ig_conv_geom ig_conv_geom_of(const ig_graph *g, const ig_node *n)
{
    const ig_shape *a = &g->vals[n->in[0]].shape, *b = &g->vals[n->in[1]].shape;
    ig_conv_geom q = {.stride = n->attrs.i[0], .pad = n->attrs.i[1]};
    switch (n->op) {
    case IG_OP_CONV2D: /* a = x, b = w */
        q.n = a->d[0], q.c = a->d[1], q.h = a->d[2], q.w = a->d[3];
        q.f = b->d[0], q.kh = b->d[2], q.kw = b->d[3];
        break;
    case IG_OP_CONV2D_DGRAD: /* a = dy, b = w */
        q.n = a->d[0], q.f = a->d[1], q.c = b->d[1], q.kh = b->d[2], q.kw = b->d[3];
        q.h = n->attrs.i[2], q.w = n->attrs.i[3];
        break;
    default: /* CONV2D_WGRAD: a = dy, b = x */
        q.n = a->d[0], q.f = a->d[1], q.c = b->d[1], q.h = b->d[2], q.w = b->d[3];
        q.kh = n->attrs.i[2], q.kw = n->attrs.i[3];
        break;
    }
    q.oh = ig_conv_out_dim(q.h, q.kh, q.stride, q.pad);
    q.ow = ig_conv_out_dim(q.w, q.kw, q.stride, q.pad);
    return q;
}

#endif /* IG_CONV_H */
