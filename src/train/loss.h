/* loss.h — a loss as graph content: the fused node a configuration picks, the target it
 * takes and its accuracy node. Shared by the trainer and the conformance runner, so a loss
 * is wired in one place. */
#ifndef IG_TRAIN_LOSS_H
#define IG_TRAIN_LOSS_H

#include "ops/ops.h"

/* Whether the loss compares logits [batch, classes] with classes (the cross-entropies). */
bool ig_loss_is_ce(ig_loss l);
/* Whether the loss is a binary cross-entropy (targets in [0, 1]). */
bool ig_loss_is_binary(ig_loss l);
/* The target a loss takes for predictions of shape `pred`: i32 [batch] class ids for sparse
 * cross-entropy, else f32 of the prediction's shape. */
ig_dtype ig_loss_target_dtype(ig_loss l);
ig_shape ig_loss_target_shape(ig_loss l, const ig_shape *pred);
/* Appends the fused loss node of c->loss (with its label smoothing or Huber delta):
 * outs[0] the mean loss [1], outs[1] its gradient with respect to pred. */
ig_status ig_loss_append(ig_graph *g, const ig_trainer_config *c, int pred, int target, int *outs);
/* Appends the node counting the samples classified right (i32 [1]) into *hits; -1 for
 * regression losses, which have none. */
ig_status ig_loss_accuracy_append(ig_graph *g, ig_loss l, int pred, int target, int *hits);

#endif /* IG_TRAIN_LOSS_H */
