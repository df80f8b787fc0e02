/* optimizer.h — an optimizer as graph content: its hyperparameter block and the update node
 * over the flat buffers. Shared by the trainer and the conformance runner, so an optimizer
 * is wired in one place. */
#ifndef IG_OPTIMIZER_H
#define IG_OPTIMIZER_H

#include "backend/backend.h"
#include "ops/ops.h"

/* The block the update reads from STATE offset 0, for a configuration; step counter 0. */
ig_opt_hyper ig_opt_hyper_from(const ig_trainer_config *c);
/* Moment buffers (each the size of the parameters) the optimizer keeps in STATE. */
int ig_opt_moments(ig_optimizer o);
/* A leaf of `bytes` bytes of f32 placed at (buf, offset), or -1 when out of memory. */
int ig_flat_leaf(ig_graph *g, size_t bytes, ig_buf buf, size_t offset, const char *name);
/* Appends the update of `bytes` bytes of parameters: PARAMS and GRADS at 0, in STATE the
 * hyperparameter block at 0, the moments one after another from moments_at, then the
 * weight-decay scale of each IG_DECAY_CHUNK parameters (parameter groups). With `split`
 * (0 < split < bytes, a multiple of IG_DECAY_CHUNK floats), two nodes: bytes [split, bytes)
 * first, then [0, split), whose gradients the caller knows to come last. */
ig_status ig_opt_append(ig_graph *g, ig_optimizer o, size_t bytes, size_t moments_at, size_t split);
/* That STATE's size, and where its weight-decay scales start and how many there are. */
size_t ig_opt_state_bytes(ig_optimizer o, size_t bytes, size_t moments_at);
size_t ig_opt_decay_at(ig_optimizer o, size_t bytes, size_t moments_at);
size_t ig_opt_decay_count(size_t bytes);
/* Fills a zeroed STATE: the hyperparameter block, and every weight-decay scale 1. */
ig_status ig_opt_init_state(ig_backend *be, void *state, ig_optimizer o, size_t bytes, size_t moments_at,
                            const ig_opt_hyper *hyper);

#endif /* IG_OPTIMIZER_H */
