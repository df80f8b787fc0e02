/* trainer.h — the trainer's layout, for library code that saves and restores its state
 * (src/train/checkpoint.c). */
#ifndef IG_TRAINER_H
#define IG_TRAINER_H

#include "nn/model.h"
#include "ops/opt_hyper.h"
#include "train/lbfgs.h"

struct ig_trainer {
    ig_model *m;
    ig_ctx *ctx;
    ig_trainer_config cfg;
    ig_opt_hyper hyper; /* host mirror of the hyperparameter block at STATE offset 0 */
    void *grads, *state;
    size_t state_bytes;
    ig_program_cache step, eval;       /* batches through IO */
    ig_program_cache step_ds, eval_ds; /* batches gathered from a resident dataset */
    int64_t epochs;                    /* epochs run by ig_train_epoch (keys the shuffle) */
    /* within ig_train_epoch: the program whose last run fetched the batch of step ahead_step
     * ahead (NULL: none did) */
    ig_program *ahead;
    int64_t ahead_step;
    ig_lbfgs *lbfgs;                   /* L-BFGS's host state (NULL for the other optimizers) */
};

/* STATE memory: the hyperparameter block, the data cursor, the loss ring, then the
 * optimizer's moments (and the weight-decay scales, optimizer.h). */
static inline size_t ig_trainer_cursor_offset(void) { return ig_align(sizeof(ig_opt_hyper)); }
static inline size_t ig_trainer_ring_offset(void)
{
    return ig_trainer_cursor_offset() + ig_align(sizeof(ig_data_cursor));
}
static inline size_t ig_trainer_moments_offset(void)
{
    return ig_trainer_ring_offset() + ig_align(IG_LOSS_RING * sizeof(float));
}

#endif /* IG_TRAINER_H */
