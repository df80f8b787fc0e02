/* loss.c — which fused loss node, target and accuracy node each ig_loss means. */
#include "train/loss.h"

#include "ops/loss_math.h"

bool ig_loss_is_ce(ig_loss l) { return l == IG_LOSS_SPARSE_CROSS_ENTROPY || l == IG_LOSS_CROSS_ENTROPY; }

bool ig_loss_is_binary(ig_loss l) { return l == IG_LOSS_BINARY_CROSS_ENTROPY || l == IG_LOSS_BCE_WITH_LOGITS; }

ig_dtype ig_loss_target_dtype(ig_loss l) { return l == IG_LOSS_SPARSE_CROSS_ENTROPY ? IG_I32 : IG_F32; }

ig_shape ig_loss_target_shape(ig_loss l, const ig_shape *pred)
{
    return l == IG_LOSS_SPARSE_CROSS_ENTROPY ? ig_shape_make(1, pred->d) : *pred;
}

ig_status ig_loss_append(ig_graph *g, const ig_trainer_config *c, int pred, int target, int *outs)
{
    ig_op op = IG_OP_ELEM_LOSS;
    ig_attrs at = {0};
    switch (c->loss) {
    case IG_LOSS_SPARSE_CROSS_ENTROPY: op = IG_OP_SPARSE_CE; break;
    case IG_LOSS_CROSS_ENTROPY: op = IG_OP_CROSS_ENTROPY; break;
    case IG_LOSS_MSE: at.i[0] = IG_ELEM_MSE; break;
    case IG_LOSS_MAE: at.i[0] = IG_ELEM_MAE; break;
    case IG_LOSS_HUBER: at.i[0] = IG_ELEM_HUBER; break;
    case IG_LOSS_BINARY_CROSS_ENTROPY: at.i[0] = IG_ELEM_BCE; break;
    case IG_LOSS_BCE_WITH_LOGITS: at.i[0] = IG_ELEM_BCE_LOGITS; break;
    default: return ig_fail(IG_ERR_INVALID_ARGUMENT, "unknown loss %d", (int)c->loss);
    }
    at.f[0] = op == IG_OP_ELEM_LOSS ? c->huber_delta : c->label_smoothing;
    return ig_graph_node(g, op, (int[]){pred, target}, 2, &at, "loss", outs);
}

ig_status ig_loss_accuracy_append(ig_graph *g, ig_loss l, int pred, int target, int *hits)
{
    *hits = -1;
    ig_attrs at = {0};
    if (l == IG_LOSS_SPARSE_CROSS_ENTROPY) at.i[0] = IG_ACC_LABELS;
    else if (l == IG_LOSS_CROSS_ENTROPY) at.i[0] = IG_ACC_PROBS;
    else if (ig_loss_is_binary(l)) {
        at.i[0] = IG_ACC_BINARY;
        at.f[0] = l == IG_LOSS_BCE_WITH_LOGITS ? 0.0f : 0.5f; /* p > 0.5 is logit > 0 */
    } else
        return IG_OK;
    return ig_graph_node(g, IG_OP_ACCURACY, (int[]){pred, target}, 2, &at, "accuracy", hits);
}
