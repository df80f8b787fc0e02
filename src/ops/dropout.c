/* dropout.c — DROPOUT (x[, hyper]) -> y: y = x·mask/(1−p), the mask drawn from the
 * counter-based hash (src/ops/rng_math.h) keyed by (seed, salt, step). attrs.f[0] = p,
 * attrs.i[0] = the model's seed, attrs.i[1] = the layer's salt (its index). `hyper` is the
 * ig_opt_hyper block in STATE memory, whose step counter the kernel reads at run time, so a
 * captured step draws a new mask at each replay.
 * The model's graph holds the node without `hyper`; ig_model_instantiate binds it for
 * training programs and turns it into a view of x (identity) for the others.
 * The VJP is the same op on dy: the mask is a function of the key alone, so the gradient
 * redraws the forward's mask instead of keeping it in memory. */
#include "ops/ops.h"

static ig_status dropout_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    float p = n->attrs.f[0];
    if (!(p >= 0.0f && p < 1.0f))
        return ig_fail(IG_ERR_INTERNAL, "dropout '%s': p %g is outside [0, 1)", n->name, p);
    if (n->n_in == 2 && ig_val_bytes(ig_in(g, n, 1)) < sizeof(ig_opt_hyper))
        return ig_fail(IG_ERR_INTERNAL, "dropout '%s': input 1 is not a hyperparameter block", n->name);
    s[0] = ig_in(g, n, 0)->shape;
    t[0] = IG_F32;
    return IG_OK;
}

static ig_status dropout_vjp(ig_ad *ad, const ig_node *n, const int *dout)
{
    if (n->n_in < 2) return ig_fail(IG_ERR_INTERNAL, "dropout '%s': differentiated before its step was bound", n->name);
    if (ig_ad_needs(ad, n->in[1]))
        return ig_fail(IG_ERR_UNSUPPORTED, "dropout '%s': no gradient for the hyperparameter block", n->name);
    int dx;
    IG_TRY(ig_emit(ig_ad_graph(ad), IG_OP_DROPOUT, (int[]){dout[0], n->in[1]}, 2, &n->attrs, "ddropout", &dx));
    return ig_ad_accum(ad, n->in[0], dx);
}

/* a hash and a multiply per element, about */
static double dropout_flops(const ig_graph *g, const ig_node *n)
{
    return 2.0 * (double)ig_shape_numel(&ig_in(g, n, 0)->shape);
}

const ig_op_def ig_op_dropout_def = {"dropout", 1, 2, 1, dropout_infer, dropout_vjp, dropout_flops, true, false, false};
