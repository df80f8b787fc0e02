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

#endif /* IG_LBFGS_H */
