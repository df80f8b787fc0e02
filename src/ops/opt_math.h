/* opt_math.h — the optimizers' arithmetic, PyTorch's (torch.optim.*), shared by the CPU and
 * CUDA kernels so that both backends compute the same thing. Each optimizer has:
 *   - ig_<opt>_coefs(h): per-step coefficients from the hyperparameter block at step
 *     t = h->step (the counter before it advances), computed once per run (CPU) or per
 *     block (CUDA);
 *   - ig_<opt>_one(p, g, state..., k): one parameter's update; returns the new parameter.
 * Every update starts from d = grad_scale·g + weight_decay·ds·p (L2 decay on the gradient),
 * where ds is the parameter's weight-decay scale (its group's: 0 exempts it from decay). */
#ifndef IG_OPT_MATH_H
#define IG_OPT_MATH_H

#include "ops/opt_hyper.h"

#include <math.h>
#include <stdbool.h>

static IG_HD inline float ig_opt_grad(float g, float p, float gs, float wd) { return gs * g + wd * p; }

/* An exponential moving average's step: beta·avg + (1 − beta)·x. */
static IG_HD inline float ig_ema(float avg, float x, float beta) { return beta * avg + (1.0f - beta) * x; }

/* ---------------------------------------------------------------- Adam, AdamW, NAdam */

/* m, v: moving averages of d and d²; p ← p·shrink − (cm·m + cg·d) / (√v·inv_sqrt_bc2 + eps).
 * Adam(W) has cg = 0 and cm = lr / (1 − β1^(t+1)); NAdam weighs m and d by its μ schedule. */
typedef struct ig_adam_coef {
    float b1, b2, eps, l2, lr_wd, cm, cg, inv_sqrt_bc2, gs; /* lr_wd: AdamW's lr·weight_decay */
} ig_adam_coef;

static IG_HD inline ig_adam_coef ig_adam_coefs(const ig_opt_hyper *h)
{
    const double t = (double)(h->step + 1);
    const float lr = ig_hyper_lr(h, h->step), wd = h->weight_decay;
    ig_adam_coef k;
    k.b1 = h->beta1;
    k.b2 = h->beta2;
    k.eps = h->eps;
    k.l2 = h->decoupled ? 0.0f : wd;
    k.lr_wd = h->decoupled ? lr * wd : 0.0f;
    k.cm = (float)(lr / (1.0 - pow((double)h->beta1, t)));
    k.cg = 0.0f;
    k.inv_sqrt_bc2 = (float)(1.0 / sqrt(1.0 - pow((double)h->beta2, t)));
    k.gs = ig_hyper_grad_scale(h);
    return k;
}

/* NAdam's momentum coefficient of step t (0-based): μ = β1·(1 − 0.5·0.96^((t+1)·ψ)). */
static IG_HD inline double ig_nadam_mu(const ig_opt_hyper *h, int64_t t)
{
    return h->beta1 * (1.0 - 0.5 * pow(0.96, (double)(t + 1) * h->momentum_decay));
}

/* The momentum term's denominator is 1 − Πμ·μ·μ_next, counting this step's μ twice, as
 * PyTorch up to 1.13 does and the reference vectors (tests/data/reference, made with 1.13)
 * expect; PyTorch 2.0 dropped the second μ (pytorch/pytorch#92699): 1 − Πμ·μ_next. */
static IG_HD inline ig_adam_coef ig_nadam_coefs(const ig_opt_hyper *h)
{
    ig_adam_coef k = ig_adam_coefs(h); /* NAdam's weight decay is never decoupled */
    const double lr = ig_hyper_lr(h, h->step), mu = ig_nadam_mu(h, h->step), mu_next = ig_nadam_mu(h, h->step + 1);
    const double prod = h->mu_product * mu;
    k.cg = (float)(lr * (1.0 - mu) / (1.0 - prod));
    k.cm = (float)(lr * mu_next / (1.0 - prod * mu * mu_next));
    return k;
}

/* After a NAdam update: the product of μ takes this step's, then the counter advances. */
static IG_HD inline void ig_nadam_advance(ig_opt_hyper *h)
{
    h->mu_product *= ig_nadam_mu(h, h->step);
    h->step++;
}

static IG_HD inline float ig_adam_one(float p, float g, float *m, float *v, float ds, const ig_adam_coef *k)
{
    const float d = ig_opt_grad(g, p, k->gs, k->l2 * ds);
    *m = ig_ema(*m, d, k->b1);
    *v = ig_ema(*v, d * d, k->b2);
    return p * (1.0f - k->lr_wd * ds) - (k->cm * *m + k->cg * d) / (sqrtf(*v) * k->inv_sqrt_bc2 + k->eps);
}

/* ---------------------------------------------------------------- RMSprop */

typedef struct ig_rmsprop_coef {
    float lr, alpha, eps, wd, momentum, gs;
    bool centered;
} ig_rmsprop_coef;

static IG_HD inline ig_rmsprop_coef ig_rmsprop_coefs(const ig_opt_hyper *h)
{
    ig_rmsprop_coef k;
    k.lr = ig_hyper_lr(h, h->step);
    k.alpha = h->alpha;
    k.eps = h->eps;
    k.wd = h->weight_decay;
    k.momentum = h->momentum;
    k.gs = ig_hyper_grad_scale(h);
    k.centered = h->centered != 0;
    return k;
}

/* sq: moving average of d²; ga (centered only): of d, so that the denominator estimates the
 * standard deviation; buf (momentum only): the momentum buffer. */
static IG_HD inline float ig_rmsprop_one(float p, float g, float *sq, float *buf, float *ga, float ds,
                                         const ig_rmsprop_coef *k)
{
    const float d = ig_opt_grad(g, p, k->gs, k->wd * ds);
    *sq = ig_ema(*sq, d * d, k->alpha);
    float var = *sq;
    if (k->centered) {
        *ga = ig_ema(*ga, d, k->alpha);
        var = fmaxf(var - *ga * *ga, 0.0f); /* rounding can take it below 0, where PyTorch gets NaN */
    }
    const float step = d / (sqrtf(var) + k->eps);
    if (k->momentum > 0) {
        *buf = k->momentum * *buf + step;
        return p - k->lr * *buf;
    }
    return p - k->lr * step;
}

/* ---------------------------------------------------------------- AdaGrad */

typedef struct ig_adagrad_coef {
    float clr, eps, wd, init, gs;
    bool first;
} ig_adagrad_coef;

static IG_HD inline ig_adagrad_coef ig_adagrad_coefs(const ig_opt_hyper *h)
{
    ig_adagrad_coef k;
    k.clr = (float)(ig_hyper_lr(h, h->step) / (1.0 + (double)h->step * h->lr_decay));
    k.eps = h->eps;
    k.wd = h->weight_decay;
    k.init = h->initial_accumulator_value;
    k.gs = ig_hyper_grad_scale(h);
    k.first = h->step == 0;
    return k;
}

/* sum: the sum of d² so far, from initial_accumulator_value (taken at the first step, as
 * state memory starts zeroed). */
static IG_HD inline float ig_adagrad_one(float p, float g, float *sum, float ds, const ig_adagrad_coef *k)
{
    const float d = ig_opt_grad(g, p, k->gs, k->wd * ds);
    *sum = (k->first ? k->init : *sum) + d * d;
    return p - k->clr * d / (sqrtf(*sum) + k->eps);
}

/* ---------------------------------------------------------------- AdaDelta */

typedef struct ig_adadelta_coef {
    float lr, rho, eps, wd, gs;
} ig_adadelta_coef;

static IG_HD inline ig_adadelta_coef ig_adadelta_coefs(const ig_opt_hyper *h)
{
    ig_adadelta_coef k;
    k.lr = ig_hyper_lr(h, h->step);
    k.rho = h->rho;
    k.eps = h->eps;
    k.wd = h->weight_decay;
    k.gs = ig_hyper_grad_scale(h);
    return k;
}

/* sq: moving average of d²; acc: of the squared updates. */
static IG_HD inline float ig_adadelta_one(float p, float g, float *sq, float *acc, float ds,
                                          const ig_adadelta_coef *k)
{
    const float d = ig_opt_grad(g, p, k->gs, k->wd * ds);
    *sq = ig_ema(*sq, d * d, k->rho);
    const float delta = sqrtf(*acc + k->eps) / sqrtf(*sq + k->eps) * d;
    *acc = ig_ema(*acc, delta * delta, k->rho);
    return p - k->lr * delta;
}

/* The weight-decay scales come one per IG_DECAY_CHUNK parameters (every parameter's slot
 * in the flat buffer starts on such a chunk), so the table is 1/64 of a moment buffer. */
#define IG_DECAY_CHUNK 64

#endif /* IG_OPT_MATH_H */
