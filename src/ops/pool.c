/* pool.c — 2-D pooling over NCHW tensors, with PyTorch's semantics (floor output sizes).
 *   POOL2D (x [n,c,h,w]) -> y; attrs.i = {mode (IG_POOL_*), kernel, stride, padding}
 *     max, avg: y [n, c, (h + 2p − k)/s + 1, (w + 2p − k)/s + 1], square windows; max
 *       skips padding, avg counts it (count_include_pad=True);
 *     global avg: y [n, c], the mean of each plane (kernel, stride, padding unused).
 *   POOL2D_GRAD (dy, x) -> dx, same attributes, and attrs.i[4]: an activation whose output x
 *     is (a fused ACT_GRAD, fuse.c: dx times f'(·) taken from x, parameter attrs.f[0]), or
 *     IG_ACT_NONE. It reads x rather than indices saved by the
 *     forward pass: max pooling finds each window's argmax again, so the forward pass writes
 *     one output and the backward pass gathers per input (no atomics, one summation order
 *     on every backend). Average modes read only x's shape. */
#include "ops/act_math.h"
#include "ops/pool.h"
#include "ops/ops.h"

static const char *mode_name(int64_t mode)
{
    return mode == IG_POOL_MAX ? "maxpool2d" : mode == IG_POOL_AVG ? "avgpool2d" : "global_avgpool";
}

ig_pool_geom ig_pool_geom_of(const ig_graph *g, const ig_node *n, int64_t *planes)
{
    const ig_shape *x = &ig_in(g, n, n->op == IG_OP_POOL2D_GRAD ? 1 : 0)->shape;
    ig_pool_geom geo = {.h = x->d[2], .w = x->d[3], .oh = 1, .ow = 1, .mode = (int)n->attrs.i[0],
                        .k = (int)n->attrs.i[1], .s = (int)n->attrs.i[2], .p = (int)n->attrs.i[3],
                        .act = n->op == IG_OP_POOL2D_GRAD ? (int)n->attrs.i[4] : IG_ACT_NONE, .act_p = n->attrs.f[0]};
    if (geo.mode != IG_POOL_GLOBAL_AVG) {
        geo.oh = (geo.h + 2 * geo.p - geo.k) / geo.s + 1;
        geo.ow = (geo.w + 2 * geo.p - geo.k) / geo.s + 1;
    }
    *planes = x->d[0] * x->d[1];
    return geo;
}

/* The checks a layer's builder reports (ig_maxpool2d and friends add the node directly). */
static ig_status check_input(const ig_graph *g, const ig_node *n, const ig_shape *x)
{
    const char *op = mode_name(n->attrs.i[0]);
    char a[64];
    if (n->attrs.i[0] < IG_POOL_MAX || n->attrs.i[0] > IG_POOL_GLOBAL_AVG)
        return ig_fail(IG_ERR_INTERNAL, "pool2d '%s': bad mode %lld", n->name, (long long)n->attrs.i[0]);
    if (x->ndim != 4)
        return ig_fail(IG_ERR_SHAPE, "%s '%s': input has shape %s; pooling needs [batch, channels, height, width]",
                       op, n->name, ig_shape_str(x, a, sizeof a));
    if (n->attrs.i[0] == IG_POOL_GLOBAL_AVG) return IG_OK;
    int64_t k = n->attrs.i[1], s = n->attrs.i[2], p = n->attrs.i[3];
    if (k < 1) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s '%s': kernel is %lld (must be >= 1)", op, n->name, (long long)k);
    if (s < 1) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s '%s': stride is %lld (must be >= 1)", op, n->name, (long long)s);
    if (p < 0 || p > k / 2)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s '%s': padding is %lld; it must lie in [0, kernel/2] = [0, %lld]", op,
                       n->name, (long long)p, (long long)(k / 2));
    if (x->d[2] + 2 * p < k || x->d[3] + 2 * p < k)
        return ig_fail(IG_ERR_SHAPE, "%s '%s': kernel %lld is larger than its padded input (%lld x %lld with padding %lld)",
                       op, n->name, (long long)k, (long long)(x->d[2] + 2 * p), (long long)(x->d[3] + 2 * p), (long long)p);
    return IG_OK;
}

static ig_status pool_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_shape *x = &ig_in(g, n, 0)->shape;
    IG_TRY(check_input(g, n, x));
    int64_t planes;
    ig_pool_geom geo = ig_pool_geom_of(g, n, &planes);
    s[0] = geo.mode == IG_POOL_GLOBAL_AVG ? ig_shape_make(2, x->d) : ig_shape_make(4, (int64_t[]){x->d[0], x->d[1], geo.oh, geo.ow});
    t[0] = IG_F32;
    return IG_OK;
}

static ig_status pool_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    int dx;
    IG_TRY(ig_emit(ig_ad_graph(ad), IG_OP_POOL2D_GRAD, (int[]){dout[0], n->in[0]}, 2, &n->attrs, "dpool", &dx));
    return ig_ad_accum(ad, n->in[0], dx);
}

/* A comparison or an addition per window element, and a division per average. */
static double pool_flops(const ig_graph *g, const ig_node *n)
{
    int64_t planes;
    ig_pool_geom geo = ig_pool_geom_of(g, n, &planes);
    double per = geo.mode == IG_POOL_GLOBAL_AVG ? (double)(geo.h * geo.w) : (double)geo.k * geo.k;
    return (double)planes * (double)(geo.oh * geo.ow) * (per + (geo.mode != IG_POOL_MAX));
}

const ig_op_def ig_op_pool2d_def = {"pool2d", 1, 1, 1, pool_infer, pool_vjp, pool_flops, false, false, false};

static ig_status pool_grad_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_shape *x = &ig_in(g, n, 1)->shape;
    IG_TRY(check_input(g, n, x));
    s[0] = *x;
    t[0] = IG_F32;
    return IG_OK;
}

/* Max pooling finds each window's argmax again: the forward cost plus an add per input. */
static double pool_grad_flops(const ig_graph *g, const ig_node *n)
{
    int64_t planes;
    ig_pool_geom geo = ig_pool_geom_of(g, n, &planes);
    return pool_flops(g, n) + (double)planes * (double)(geo.h * geo.w);
}

const ig_op_def ig_op_pool2d_grad_def = {"pool2d_grad", 2, 2, 1, pool_grad_infer, NULL, pool_grad_flops, false, false, false};
