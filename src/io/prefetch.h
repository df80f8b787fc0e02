/* prefetch.h — a background thread that fills a ring of slots ahead of one consumer, which
 * takes them in order. What a slot holds is the caller's; the thread only calls `fill`. */
#ifndef IG_IO_PREFETCH_H
#define IG_IO_PREFETCH_H

#include "core/core.h"

/* Fills slot `slot` with the next item; called on the thread, one item after another. */
typedef ig_status (*ig_prefetch_fill)(void *arg, int slot);

typedef struct ig_prefetch ig_prefetch;

/* Starts the thread over `slots` slots (≥ 2: the consumer holds one while the thread fills
 * the others). */
ig_status ig_prefetch_start(ig_ctx *ctx, int slots, ig_prefetch_fill fill, void *arg, ig_prefetch **out);
/* The next filled slot, waiting for it if need be; hands the slot the previous call took back
 * to the thread. A fill that failed is reported, with its message, in its turn: by the call
 * that would have taken it and by every later one (the thread stops there). */
ig_status ig_prefetch_take(ig_prefetch *pf, int *slot);
/* Stops the thread (after the fill under way, if any), joins it and frees pf. */
void ig_prefetch_stop(ig_prefetch *pf);

#endif /* IG_IO_PREFETCH_H */
