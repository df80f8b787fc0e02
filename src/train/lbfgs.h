/* lbfgs.h — L-BFGS with torch.optim.LBFGS's semantics, driven from the host: its control
 * flow depends on every evaluation's loss and gradient, so it cannot be one device node.
 * Each evaluation uploads the parameters, runs the trainer's closure program (forward, loss,
 * backward into GRADS) and downloads the gradient; the vector arithmetic is done in double. */
#ifndef IG_LBFGS_H
#define IG_LBFGS_H

#include "backend/backend.h"

typedef struct ig_lbfgs ig_lbfgs;

/* One run of the closure program at the parameters now in backend memory; *loss receives
 * its loss, and the gradient is in the GRADS buffer when it returns. */
typedef ig_status (*ig_lbfgs_closure)(void *arg, float *loss);

/* State for `bytes` bytes of f32 parameters at `params` with their gradients at `grads`
 * (backend memory); the configuration's lbfgs_* fields are already validated. */
ig_status ig_lbfgs_create(const ig_trainer_config *cfg, ig_backend *be, void *params, void *grads, size_t bytes,
                          ig_lbfgs **out);
void ig_lbfgs_destroy(ig_lbfgs *s);
/* One optimizer.step(closure) with learning rate lr: up to max_iter iterations, the
 * parameters updated in place; *loss receives the loss of the first evaluation (the loss at
 * the parameters the step started from), as PyTorch's step returns. */
ig_status ig_lbfgs_step(ig_lbfgs *s, double lr, ig_lbfgs_closure f, void *arg, float *loss);

/* What carries from one step to the next (for checkpoints): the counters, the last
 * direction d and the gradient prev_g (n doubles each, pointers into the state), and `count`
 * curvature pairs. */
typedef struct ig_lbfgs_state {
    int64_t n_iter;
    double t, h_diag;
    int count;
    size_t n;
    const double *d, *prev_g;
} ig_lbfgs_state;

ig_lbfgs_state ig_lbfgs_get_state(const ig_lbfgs *s);
/* The k-th oldest pair (k < count): 2n doubles, s then y; *ro receives its 1/yᵀs. */
const double *ig_lbfgs_pair(const ig_lbfgs *s, int k, double *ro);
/* Sets the state: st's counters and vectors (st->n must be the state's n, count at most the
 * history size) and pairs[k] (2n doubles) with ro[k] for k < count, the oldest first. */
ig_status ig_lbfgs_set_state(ig_lbfgs *s, const ig_lbfgs_state *st, const double *const *pairs, const double *ro);

#endif /* IG_LBFGS_H */
