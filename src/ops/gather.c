/* gather.c — steps over a device-resident dataset: the step gathers its own batch.
 *   GATHER (x_all [n, ...], y_all [n], hyper, cursor) -> x [b, ...], y [b]
 *       attrs.i[0] = b (this batch's size), i[1] = the epoch's full batch size (the
 *       stride between batches), i[2] = IG_GATHER_TRAIN or IG_GATHER_EVAL.
 *       Sample j of the batch is sample permute(k·stride + j) of the dataset, where k is
 *       step − cursor.first_step when training and cursor.eval_batch when evaluating.
 *       Training batches are cropped and flipped (src/ops/augment.h) as the cursor's
 *       augmentation fields say, drawn from (cursor.aug_seed, step, j); the cursor is in
 *       STATE memory, so a captured step needs no new arguments when they change.
 *   EVAL_ACCUM (loss [1], correct i32 [1] or loss again, cursor) -> nothing: adds the batch's
 *       loss sum and hits to the cursor's totals and advances cursor.eval_batch;
 *       attrs.i[0] = b, i[1] = 1 when `correct` is a hit count. */
#include "ops/ops.h"

static ig_status gather_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    const ig_val *x = ig_in(g, n, 0), *y = ig_in(g, n, 1);
    int64_t b = n->attrs.i[0], stride = n->attrs.i[1];
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

const ig_op_def ig_op_gather_def = {"gather", 4, 4, 2, gather_infer, NULL, zero_flops, false, false};

static ig_status accum_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    if (ig_shape_numel(&ig_in(g, n, 0)->shape) != 1 || ig_shape_numel(&ig_in(g, n, 1)->shape) != 1)
        return ig_fail(IG_ERR_INTERNAL, "eval_accum: loss and hit count must be scalars");
    return IG_OK;
}

const ig_op_def ig_op_eval_accum_def = {"eval_accum", 3, 3, 0, accum_infer, NULL, zero_flops, false, false};
