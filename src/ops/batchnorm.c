/* batchnorm.c — batch normalisation over the channel axis of [n, c, h, w] or [n, c]
 * (nn.BatchNorm2d / nn.BatchNorm1d). Per-element math: src/ops/bn_math.h.
 *   BATCHNORM      (x, γ [c], β [c], running_mean [c], running_var [c]) -> y, saved [2, c];
 *                  attrs.i[0] = training, attrs.f = {momentum, eps}.
 *                  Training: y normalised with the batch's mean and biased variance, and the
 *                  running statistics updated in place (a side effect on inputs 3 and 4,
 *                  which are the model's PARAMS buffers: no other node of a step reads them);
 *                  evaluation: y normalised with the running statistics, nothing written.
 *                  saved = the mean used and 1/sqrt(var + eps), for the backward pass.
 *   BATCHNORM_GRAD (dy, x, saved) -> dγ [c], dβ [c]: both per-channel sums in one pass.
 *   BATCHNORM_DX   (dy, x, γ, saved[, dγ, dβ]) -> dx; attrs.i[0] = training: dγ and dβ are
 *                  there in training only, where the batch statistics depend on x.
 * No gradient flows into the running statistics (buffers, not parameters). */
#include "ops/batchnorm.h"
#include "ops/ops.h"

ig_status ig_bn_check(const char *layer, const ig_shape *x, float momentum, float eps)
{
    if (x->ndim != 2 && x->ndim != 4) {
        char a[64];
        return ig_fail(IG_ERR_SHAPE, "batchnorm '%s': input has shape %s; batch normalisation needs [batch, channels] "
                       "or [batch, channels, height, width]", layer, ig_shape_str(x, a, sizeof a));
    }
    if (!(momentum >= 0.0f && momentum <= 1.0f))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "batchnorm '%s': momentum is %g (must be in [0, 1])", layer, momentum);
    if (!(eps > 0.0f) || !isfinite(eps))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "batchnorm '%s': eps is %g (must be a finite number > 0)", layer, eps);
    return IG_OK;
}

ig_bn_geom ig_bn_geom_of(const ig_graph *g, const ig_node *n)
{
    const ig_shape *x = &ig_in(g, n, n->op == IG_OP_BATCHNORM ? 0 : 1)->shape;
    ig_bn_geom geo = {.n = x->d[0], .c = x->d[1], .hw = 1};
    for (int i = 2; i < x->ndim; i++) geo.hw *= x->d[i];
    return geo;
}

/* Inputs from `first` on must have shape [rows, c] (rows 0: [c]). */
static ig_status check_vectors(const ig_graph *g, const ig_node *n, int first, int last, int64_t rows, int64_t c)
{
    ig_shape want = rows ? ig_shape_make(2, (int64_t[]){rows, c}) : ig_shape_make(1, &c);
    for (int k = first; k <= last; k++) {
        const ig_val *v = ig_in(g, n, k);
        if (v->dtype != IG_F32 || !ig_shape_eq(&v->shape, &want)) {
            char a[64], b[64];
            return ig_fail(IG_ERR_SHAPE, "%s '%s': input %d ('%s') is %s %s, expected f32 %s", ig_op_get(n->op)->name,
                           n->name, k, v->name, ig_dtype_name(v->dtype), ig_shape_str(&v->shape, a, sizeof a),
                           ig_shape_str(&want, b, sizeof b));
        }
    }
    return IG_OK;
}

static ig_status bn_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_shape *x = &ig_in(g, n, 0)->shape;
    IG_TRY(ig_bn_check(n->name, x, n->attrs.f[0], n->attrs.f[1]));
    ig_bn_geom geo = ig_bn_geom_of(g, n);
    IG_TRY(check_vectors(g, n, 1, 4, 0, geo.c));
    /* PyTorch refuses it too: the unbiased variance of one value is undefined */
    if (n->attrs.i[0] && geo.n * geo.hw < 2) {
        char a[64];
        return ig_fail(IG_ERR_SHAPE, "batchnorm '%s': training needs more than one value per channel; the input is %s",
                       n->name, ig_shape_str(x, a, sizeof a));
    }
    s[0] = *x;
    s[1] = ig_shape_make(2, (int64_t[]){2, geo.c});
    t[0] = t[1] = IG_F32;
    return IG_OK;
}

static ig_status bn_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    if (ig_ad_needs(ad, n->in[3]) || ig_ad_needs(ad, n->in[4]))
        return ig_fail(IG_ERR_UNSUPPORTED, "batchnorm '%s': no gradient for the running statistics (buffers)", n->name);
    ig_graph *g = ig_ad_graph(ad);
    bool training = n->attrs.i[0], need_x = ig_ad_needs(ad, n->in[0]);
    int dgb[2] = {-1, -1};
    if ((training && need_x) || ig_ad_needs(ad, n->in[1]) || ig_ad_needs(ad, n->in[2])) {
        IG_TRY(ig_emit(g, IG_OP_BATCHNORM_GRAD, (int[]){dout[0], n->in[0], n->out[1]}, 3, &n->attrs,
                       "dbatchnorm_params", dgb));
        IG_TRY(ig_ad_accum(ad, n->in[1], dgb[0]));
        IG_TRY(ig_ad_accum(ad, n->in[2], dgb[1]));
    }
    if (!need_x) return IG_OK;
    int dx;
    IG_TRY(ig_emit(g, IG_OP_BATCHNORM_DX, (int[]){dout[0], n->in[0], n->in[1], n->out[1], dgb[0], dgb[1]},
                   training ? 6 : 4, &n->attrs, "dbatchnorm", &dx));
    return ig_ad_accum(ad, n->in[0], dx);
}

/* Per element: the statistics (a sum, a difference, a square and a sum) in training, then
 * the normalisation (difference, two products, a sum). */
static double bn_flops(const ig_graph *g, const ig_node *n)
{
    return (n->attrs.i[0] ? 8.0 : 4.0) * (double)ig_shape_numel(&ig_in(g, n, 0)->shape);
}

const ig_op_def ig_op_batchnorm_def = {"batchnorm", 5, 5, 2, bn_infer, bn_vjp, bn_flops, true, false, true};

/* dy must have x's shape, saved [2, c]. */
static ig_status check_grad_inputs(const ig_graph *g, const ig_node *n, ig_bn_geom *geo)
{
    const ig_shape *dy = &ig_in(g, n, 0)->shape, *x = &ig_in(g, n, 1)->shape;
    *geo = ig_bn_geom_of(g, n);
    if (!ig_shape_eq(dy, x) || (x->ndim != 2 && x->ndim != 4)) {
        char a[64], b[64];
        return ig_fail(IG_ERR_SHAPE, "%s '%s': dy is %s and x %s; they must be equal, 2-D or 4-D",
                       ig_op_get(n->op)->name, n->name, ig_shape_str(dy, a, sizeof a), ig_shape_str(x, b, sizeof b));
    }
    return check_vectors(g, n, n->op == IG_OP_BATCHNORM_GRAD ? 2 : 3, n->op == IG_OP_BATCHNORM_GRAD ? 2 : 3, 2,
                         geo->c);
}

static ig_status bn_grad_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    ig_bn_geom geo;
    IG_TRY(check_grad_inputs(g, n, &geo));
    s[0] = s[1] = ig_shape_make(1, &geo.c);
    t[0] = t[1] = IG_F32;
    return IG_OK;
}

/* x̂, dy·x̂ and two sums per element */
static double bn_grad_flops(const ig_graph *g, const ig_node *n)
{
    return 4.0 * (double)ig_shape_numel(&ig_in(g, n, 0)->shape);
}

const ig_op_def ig_op_batchnorm_grad_def = {"batchnorm_grad", 3, 3, 2, bn_grad_infer, NULL, bn_grad_flops, false, false, false};

static ig_status bn_dx_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    ig_bn_geom geo;
    IG_TRY(check_grad_inputs(g, n, &geo));
    if (n->n_in != (n->attrs.i[0] ? 6 : 4))
        return ig_fail(IG_ERR_INTERNAL, "batchnorm_dx '%s': %d inputs in %s mode", n->name, n->n_in,
                       n->attrs.i[0] ? "training" : "evaluation");
    IG_TRY(check_vectors(g, n, 2, 2, 0, geo.c));
    IG_TRY(check_vectors(g, n, 4, n->n_in - 1, 0, geo.c));
    s[0] = ig_in(g, n, 0)->shape;
    t[0] = IG_F32;
    return IG_OK;
}

/* training: x̂, the bracket's three terms and two products; evaluation: two products */
static double bn_dx_flops(const ig_graph *g, const ig_node *n)
{
    return (n->attrs.i[0] ? 8.0 : 2.0) * (double)ig_shape_numel(&ig_in(g, n, 0)->shape);
}

/* dx may take dy's memory: each dx reads its own dy only */
const ig_op_def ig_op_batchnorm_dx_def = {"batchnorm_dx", 4, 6, 1, bn_dx_infer, NULL, bn_dx_flops, true, false, false};
