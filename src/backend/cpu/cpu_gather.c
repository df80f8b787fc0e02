/* cpu_gather.c — batches gathered from a resident dataset (augmented when training asks
 * for it), and evaluation totals. */
#include "backend/cpu/cpu.h"
#include "ops/augment.h"
#include "ops/permute.h"

#include <string.h>

ig_status ig_cpu_gather(const ig_graph *g, const ig_node *n, void *const *bases)
{
    const ig_val *xa = &g->vals[n->in[0]];
    int64_t count = xa->shape.d[0], b = n->attrs.i[0], stride = n->attrs.i[1];
    size_t row = ig_val_bytes(xa) / (size_t)count, yrow = ig_dtype_size(g->vals[n->in[1]].dtype);
    ig_data_cursor *c = cpu_ptr(g, n->in[2], bases);
    int mode = (int)n->attrs.i[2];
    int64_t k = mode == IG_GATHER_EVAL    ? c->eval_batch
                : mode == IG_GATHER_AHEAD ? c->ahead
                                          : ((const ig_opt_hyper *)cpu_ptr(g, n->in[3], bases))->step - c->first_step;
    bool train = mode != IG_GATHER_EVAL;
    uint64_t key = train ? c->key : 0;
    bool aug = train && (c->aug_pad > 0 || c->aug_flip > 0);
    int64_t planes, height, width;
    ig_augment_planes(xa->shape.ndim - 1, xa->shape.d + 1, &planes, &height, &width);
    const char *xs = cpu_ptr(g, n->in[0], bases), *ys = cpu_ptr(g, n->in[1], bases);
    char *xd = cpu_ptr(g, n->out[0], bases), *yd = cpu_ptr(g, n->out[1], bases);
#pragma omp parallel for if (b * (int64_t)row > CPU_PAR_MIN * 4)
    for (int64_t j = 0; j < b; j++) {
        int64_t src = ig_permute((k * stride + j) % count, count, key);
        if (aug) {
            ig_augment_draw d = ig_augment_draw_of(c->aug_seed, c->first_step + k, j, c->aug_pad, c->aug_flip);
            ig_augment_sample((const float *)(xs + (size_t)src * row), (float *)(xd + (size_t)j * row), planes, height,
                              width, &d);
        } else {
            memcpy(xd + (size_t)j * row, xs + (size_t)src * row, row);
        }
        memcpy(yd + (size_t)j * yrow, ys + (size_t)src * yrow, yrow);
    }
    if (train) c->ahead = k + 1;
    return IG_OK;
}

ig_status ig_cpu_eval_accum(const ig_graph *g, const ig_node *n, void *const *bases)
{
    ig_data_cursor *c = cpu_ptr(g, n->in[2], bases);
    int64_t b = n->attrs.i[0];
    c->eval_loss += (double)CPU_F32(0)[0] * (double)b;
    if (n->attrs.i[1]) c->eval_correct += *(const int32_t *)cpu_ptr(g, n->in[1], bases);
    c->eval_count += b;
    c->eval_batch++;
    return IG_OK;
}
