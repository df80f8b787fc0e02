/* opt_hyper.h — the block of optimizer hyperparameters and counters that step programs
 * read from STATE memory (shared by the op table and the kernels of every backend). */
#ifndef IG_OPT_HYPER_H
#define IG_OPT_HYPER_H

#include <math.h>
#include <stdint.h>

#include "ops/hd.h"

#ifndef IG_MAX_MILESTONES
#define IG_MAX_MILESTONES 8 /* as in ingot.h */
#endif

/* A learning-rate schedule as closed forms of the step (see ig_hyper_lr); kinds as
 * ig_schedule in ingot.h. */
typedef struct ig_hyper_sched {
    int32_t kind;
    int32_t n_milestones;
    int64_t step_size, total_steps, warmup_steps;
    int64_t milestones[IG_MAX_MILESTONES];
    float gamma, min_lr, max_lr, pct_start, div_factor, final_div_factor, warmup_start;
    float grad_scale; /* set by the clipping node each step (1 without clipping) */
} ig_hyper_sched;

/* Optimizer hyperparameters and counters as the step program reads them from STATE memory
 * (offset 0): changing the learning rate writes here and never recompiles. */
typedef struct ig_opt_hyper {
    ig_hyper_sched sched;
    float lr, beta1, beta2, eps, weight_decay, momentum, dampening;
    int32_t nesterov;
    int32_t decoupled; /* AdamW: weight decay applied to the weights, not the gradient */
    int32_t pad_;
    /* RMSprop, AdaGrad, AdaDelta, NAdam: as in ig_trainer_config */
    float alpha, rho, lr_decay, initial_accumulator_value, momentum_decay;
    int32_t centered;
    double mu_product; /* NAdam: product of the momentum coefficients μ of the steps taken (1
                          before the first); state, advanced by the kernel with the counter */
    int64_t step; /* steps taken; the optimizer kernel increments it */
} ig_opt_hyper;

/* What every optimizer kernel (CPU and CUDA alike) applies at step t (0-based: the value
 * of `step` before the kernel advances it): the learning rate of that step, and the factor
 * every gradient is multiplied by before the update (learning-rate schedules and clipping
 * by global norm live here, so no kernel needs to know about them). */
/* PyTorch's closed forms, per optimizer step: StepLR, MultiStepLR, ExponentialLR,
 * CosineAnnealingLR, OneCycleLR (cosine annealing, two phases), each optionally times a
 * LinearLR warm-up factor. Kinds: 0 constant, 1 step, 2 multistep, 3 exponential, 4 cosine,
 * 5 one-cycle (the values of ig_schedule). */
static IG_HD inline float ig_hyper_lr(const ig_opt_hyper *h, int64_t t)
{
    const ig_hyper_sched *s = &h->sched;
    double lr = h->lr, pi = 3.14159265358979323846;
    switch (s->kind) {
    case 1: lr *= pow((double)s->gamma, (double)(t / s->step_size)); break;
    case 2: {
        int passed = 0;
        for (int i = 0; i < s->n_milestones; i++) passed += t >= s->milestones[i];
        lr *= pow((double)s->gamma, (double)passed);
        break;
    }
    case 3: lr *= pow((double)s->gamma, (double)t); break;
    case 4: lr = s->min_lr + (lr - s->min_lr) * (1.0 + cos(pi * (double)t / (double)s->total_steps)) / 2.0; break;
    case 5: {
        double start = s->max_lr / s->div_factor, end = start / s->final_div_factor;
        double up = (double)s->pct_start * (double)s->total_steps - 1.0, last = (double)s->total_steps - 1.0;
        double from = start, to = s->max_lr, pct = (double)t / up;
        if ((double)t > up) {
            from = s->max_lr;
            to = end;
            pct = ((double)t - up) / (last - up);
        }
        lr = to + (from - to) / 2.0 * (1.0 + cos(pi * (pct > 1.0 ? 1.0 : pct)));
        break;
    }
    default: break;
    }
    if (t < s->warmup_steps)
        lr *= s->warmup_start + (1.0 - s->warmup_start) * (double)t / (double)s->warmup_steps;
    return (float)lr;
}

static IG_HD inline float ig_hyper_grad_scale(const ig_opt_hyper *h) { return h->sched.grad_scale; }

/* Where a step over a device-resident dataset takes its batch from, and what whole-dataset
 * evaluation has summed so far. The host writes it once per epoch; kernels read it and
 * the evaluation kernels advance it, so steps need no host traffic. */
/* GATHER's modes (attrs.i[2], src/ops/gather.c) */
enum { IG_GATHER_TRAIN = 0, IG_GATHER_EVAL = 1, IG_GATHER_AHEAD = 2 };

typedef struct ig_data_cursor {
    int64_t first_step; /* the step counter's value at the epoch's first step */
    uint64_t key;       /* permutation key of the epoch (0: the dataset's own order) */
    /* augmentation of training batches (src/ops/augment.h): seed, crop padding, flip
     * probability; pad 0 and flip 0 gather the samples as they are */
    uint64_t aug_seed;
    int64_t aug_pad;
    float aug_flip;
    int64_t ahead; /* the batch of the epoch the next AHEAD gather fetches (gather.c) */
    int64_t eval_batch; /* evaluation batches done */
    int64_t eval_count; /* samples evaluated */
    int64_t eval_correct;
    double eval_loss; /* sum over the samples of their loss */
} ig_data_cursor;

/* Losses of the last IG_LOSS_RING steps stay in device memory, in a ring indexed by the
 * step counter, so a training loop reads them when it wants to, not once per step. */
#define IG_LOSS_RING 1024

#endif /* IG_OPT_HYPER_H */
