/* clip.c — CLIP_GRAD_NORM (grads [p], hyper) -> partial sums [IG_NORM_PARTIALS]: clipping by
 * global norm (torch.nn.utils.clip_grad_norm_) as one node before the update. It sums the
 * squares of every gradient (the partials output is its scratch, in fixed order, so the
 * result is reproducible) and writes min(1, attrs.f[0] / (norm + 1e-6)) into the
 * hyperparameter block, where every optimizer kernel reads it (ig_hyper_grad_scale). */
#include "ops/ops.h"

static ig_status clip_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    if (!(n->attrs.f[0] > 0)) return ig_fail(IG_ERR_INTERNAL, "clip '%s': max norm %g must be > 0", n->name, n->attrs.f[0]);
    if (ig_val_bytes(ig_in(g, n, 1)) < sizeof(ig_opt_hyper))
        return ig_fail(IG_ERR_INTERNAL, "clip '%s': hyperparameter block too small", n->name);
    s[0] = ig_shape_make(1, (int64_t[]){IG_NORM_PARTIALS});
    t[0] = IG_F32;
    return IG_OK;
}

static double clip_flops(const ig_graph *g, const ig_node *n) { return 2.0 * (double)ig_shape_numel(&ig_in(g, n, 0)->shape); }

const ig_op_def ig_op_clip_grad_norm_def = {"clip_grad_norm", 2, 2, 1, clip_infer, NULL, clip_flops, false, false, true};
