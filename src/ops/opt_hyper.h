/* opt_hyper.h — the block of optimizer hyperparameters and counters that step programs
 * read from STATE memory (shared by the op table and the kernels of every backend). */
#ifndef IG_OPT_HYPER_H
#define IG_OPT_HYPER_H

#include <stdint.h>

/* Optimizer hyperparameters and counters as the step program reads them from STATE memory
 * (offset 0): changing the learning rate writes here and never recompiles. */
typedef struct ig_opt_hyper {
    float lr, beta1, beta2, eps, weight_decay, momentum, dampening;
    int32_t nesterov;
    int32_t decoupled; /* AdamW: weight decay applied to the weights, not the gradient */
    int32_t pad_;
    int64_t step; /* steps taken; the optimizer kernel increments it */
} ig_opt_hyper;

/* Losses of the last IG_LOSS_RING steps stay in device memory, in a ring indexed by the
 * step counter, so a training loop reads them when it wants to, not once per step. */
#define IG_LOSS_RING 1024

#endif /* IG_OPT_HYPER_H */
