/* gather.c — steps over a device-resident dataset: the step gathers its own batch.
 *   GATHER (x_all [n, ...], y_all [n], cursor[, hyper]) -> x [b, ...], y [b]
 *       attrs.i[0] = b (this batch's size), i[1] = the epoch's full batch size (the
 *       stride between batches), i[2] = the mode:
 *         IG_GATHER_TRAIN: batch k = step − cursor.first_step (hyper is the fourth input);
 *             sets cursor.ahead = k + 1;
 *         IG_GATHER_EVAL: batch k = cursor.eval_batch (hyper is the fourth input);
 *         IG_GATHER_AHEAD: batch k = cursor.ahead, for the next step, then cursor.ahead =
 *             k + 1 (no hyper: it runs beside the optimizer update that advances the step).
 *       Sample j of the batch is sample permute(k·stride + j) of the dataset.
 *       Training batches (TRAIN, AHEAD) are cropped and flipped (src/ops/augment.h) as the
 *       cursor's augmentation fields say, drawn from (cursor.aug_seed, cursor.first_step + k,
 *       j); the cursor is in STATE memory, so a captured step needs no new arguments when they
 *       change.
 *   A training step over full batches ends with an AHEAD gather whose outputs view its TRAIN
 *   gather's: the next run of the step, when it continues this one, skips the TRAIN gather
 *   (a lead node, see ig_program_continue) and starts with its batch already in place.
 *   EVAL_ACCUM (loss [1], correct i32 [1] or loss again, cursor) -> nothing: adds the batch's
 *       loss sum and hits to the cursor's totals and advances cursor.eval_batch;
 *       attrs.i[0] = b, i[1] = 1 when `correct` is a hit count. */
#include "ops/ops.h"

static ig_status gather_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_val *x = ig_in(g, n, 0), *y = ig_in(g, n, 1);
    int64_t b = n->attrs.i[0], stride = n->attrs.i[1];
    if ((n->attrs.i[2] == IG_GATHER_AHEAD) != (n->n_in == 3))
        return ig_fail(IG_ERR_INTERNAL, "gather: %d inputs in mode %lld", n->n_in, (long long)n->attrs.i[2]);
    if (b < 1 || stride < b || b > x->shape.d[0])
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "gather: batch %lld (stride %lld) does not fit %lld samples", (long long)b,
                       (long long)stride, (long long)x->shape.d[0]);
    if (y->shape.ndim != 1 || y->shape.d[0] != x->shape.d[0])
        return ig_fail(IG_ERR_SHAPE, "gather: %lld targets for %lld samples", (long long)y->shape.d[0], (long long)x->shape.d[0]);
    s[0] = x->shape;
    s[0].d[0] = b;
    s[1] = ig_shape_make(1, &b);
    t[0] = x->dtype;
    t[1] = y->dtype;
    return IG_OK;
}

static double zero_flops(const ig_graph *g, const ig_node *n) { return 0; }

const ig_op_def ig_op_gather_def = {"gather", 3, 4, 2, gather_infer, NULL, zero_flops, false, false, true};

ig_status ig_gather_append_ahead(ig_graph *g, int lead)
{
    ig_node *n = &g->nodes[lead];
    if (n->op != IG_OP_GATHER || n->attrs.i[2] != IG_GATHER_TRAIN)
        return ig_fail(IG_ERR_INTERNAL, "gather: node '%s' is no training gather", n->name);
    ig_attrs at = n->attrs;
    at.i[2] = IG_GATHER_AHEAD;
    int in[3] = {n->in[0], n->in[1], n->in[2]}, batch[2] = {n->out[0], n->out[1]}, next[2];
    IG_TRY(ig_graph_node(g, IG_OP_GATHER, in, 3, &at, "gather_ahead", next));
    for (int k = 0; k < 2; k++) g->vals[next[k]].alias_of = batch[k];
    g->nodes[lead].lead = true;
    return IG_OK;
}

static ig_status accum_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    if (ig_shape_numel(&ig_in(g, n, 0)->shape) != 1 || ig_shape_numel(&ig_in(g, n, 1)->shape) != 1)
        return ig_fail(IG_ERR_INTERNAL, "eval_accum: loss and hit count must be scalars");
    return IG_OK;
}

const ig_op_def ig_op_eval_accum_def = {"eval_accum", 3, 3, 0, accum_infer, NULL, zero_flops, false, false, true};
