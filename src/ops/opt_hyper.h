/* opt_hyper.h — the block of optimizer hyperparameters and counters that step programs
 * read from STATE memory (shared by the op table and the kernels of every backend). */
#ifndef IG_OPT_HYPER_H
#define IG_OPT_HYPER_H

#include <stdint.h>

#ifndef IG_HD
#ifdef __CUDACC__
#define IG_HD __host__ __device__
#else
#define IG_HD
#endif
#endif

/* Optimizer hyperparameters and counters as the step program reads them from STATE memory
 * (offset 0): changing the learning rate writes here and never recompiles. */
typedef struct ig_opt_hyper {
    float lr, beta1, beta2, eps, weight_decay, momentum, dampening;
    int32_t nesterov;
    int32_t decoupled; /* AdamW: weight decay applied to the weights, not the gradient */
    int32_t pad_;
    int64_t step; /* steps taken; the optimizer kernel increments it */
} ig_opt_hyper;

/* What every optimizer kernel (CPU and CUDA alike) applies at step t (0-based: the value
 * of `step` before the kernel advances it): the learning rate of that step, and the factor
 * every gradient is multiplied by before the update (learning-rate schedules and clipping
 * by global norm live here, so no kernel needs to know about them). */
static IG_HD inline float ig_hyper_lr(const ig_opt_hyper *h, int64_t t)
{
    (void)t;
    return h->lr;
}

static IG_HD inline float ig_hyper_grad_scale(const ig_opt_hyper *h)
{
    (void)h;
    return 1.0f;
}

/* Where a step over a device-resident dataset takes its batch from, and what whole-dataset
 * evaluation has summed so far. The host writes it once per epoch; kernels read it and
 * the evaluation kernels advance it, so steps need no host traffic. */
typedef struct ig_data_cursor {
    int64_t first_step; /* the step counter's value at the epoch's first step */
    uint64_t key;       /* permutation key of the epoch (0: the dataset's own order) */
    int64_t eval_batch; /* evaluation batches done */
    int64_t eval_count; /* samples evaluated */
    int64_t eval_correct;
    double eval_loss; /* sum over the samples of their loss */
} ig_data_cursor;

/* Losses of the last IG_LOSS_RING steps stay in device memory, in a ring indexed by the
 * step counter, so a training loop reads them when it wants to, not once per step. */
#define IG_LOSS_RING 1024

#endif /* IG_OPT_HYPER_H */
