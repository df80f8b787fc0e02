/* backend.h — the interface every backend implements (a struct of function pointers),
 * and the compiled program that runs on one. */
#ifndef IG_BACKEND_H
#define IG_BACKEND_H

#include "graph/graph.h"

typedef struct ig_backend ig_backend;
typedef struct ig_program ig_program;

struct ig_backend {
    const char *name;
    ig_device device;
    ig_ctx *ctx;
    int streams; /* concurrent streams a run uses (1: one node at a time, in order) */
    /* Zero-filled backend memory, 256-byte aligned; NULL when out of memory. */
    void *(*alloc)(ig_backend *be, size_t bytes);
    void (*free)(ig_backend *be, void *p, size_t bytes);
    /* Host -> backend copy, ordered before every later run; `src` may be reused as soon as
     * it returns (the backend stages it if the copy completes later), unless it is pinned
     * memory (below). */
    ig_status (*upload)(ig_backend *be, void *dst, const void *src, size_t bytes);
    /* Host -> an IO block of a program (slot 0 or 1, see ig_program), on a copy stream that
     * overlaps the runs: ordered after the last run that used the slot and before the next
     * run. (optional: without it, upload is used) */
    ig_status (*upload_io)(ig_backend *be, ig_program *p, int slot, void *dst, const void *src, size_t bytes);
    /* Page-locked host memory (zero-filled) that upload and upload_io copy from directly,
     * without staging: such a copy may read it after the call returns, so it must not be
     * written again before pinned_wait(p) has returned, which waits for every copy queued
     * from it so far. For buffers a producer refills, like a loader's batches. (optional,
     * all three or none; thread-safe) */
    void *(*pinned_alloc)(ig_backend *be, size_t bytes);
    void (*pinned_free)(ig_backend *be, void *p);
    ig_status (*pinned_wait)(ig_backend *be, const void *p);
    /* Backend -> host copy; waits for the runs queued before it. */
    ig_status (*download)(ig_backend *be, void *dst, const void *src, size_t bytes);
    /* Whether the backend has a kernel for the node (checked when a program is built). */
    bool (*supports)(ig_backend *be, const ig_node *n);
    /* Queues one run of the program's nodes in order, but for lead nodes when `continues`;
     * bases[b] is the start of buffer b. May return before the run completes (download
     * waits for it). */
    ig_status (*run)(ig_backend *be, ig_program *p, void *const *bases, bool continues);
    /* Releases what the backend attached to a program (p->be_state). (optional) */
    void (*program_release)(ig_backend *be, ig_program *p);
    void (*destroy)(ig_backend *be);
    void *impl;
};

ig_status ig_backend_cpu_create(ig_ctx *ctx, ig_backend **out);
#ifdef IG_HAVE_CUDA
ig_status ig_backend_cuda_create(ig_ctx *ctx, ig_backend **out);
/* Whether a CUDA device is present (and the driver answers). */
bool ig_cuda_available(void);
#endif

/* A compiled program: a graph whose every value has a fixed place, an arena sized by the
 * planner, and an IO block for its inputs and outputs. Immutable once built. */
struct ig_program {
    ig_ctx *ctx;
    ig_graph g;
    void *arena;
    /* Two IO blocks where the backend overlaps copies with runs (upload_io): the batch of
     * run k+1 is copied into one while run k reads the other. */
    void *io[2];
    int io_slots, io_next, io_last; /* slots; the one the next write and run use; the last run's */
    size_t arena_bytes, io_bytes;
    ig_plan_stats plan;
    int inputs[4], outputs[4]; /* IO value ids, as the builder of the program set them */
    void *be_state;            /* the backend's own (e.g. a captured CUDA graph) */
};

/* Takes ownership of g. Values the caller marked IG_BUF_IO get offsets in the IO block;
 * values in PARAMS, GRADS and STATE keep the offsets the caller gave them; the rest is
 * planned into the arena. Fails if the backend lacks a kernel for a node. */
ig_status ig_program_create(ig_ctx *ctx, ig_graph *g, ig_program **out);
void ig_program_destroy(ig_program *p);
/* One run. params/grads/state: the bases of those buffers (NULL if the program has none). */
ig_status ig_program_run(ig_program *p, void *params, void *grads, void *state);
/* One run with every external buffer given (ext[IG_BUF_ARENA] and ext[IG_BUF_IO] are ignored:
 * the program's own are used). */
ig_status ig_program_run_ext(ig_program *p, void *const *ext);
/* A run that continues the program's last one, which was the last thing to touch what its
 * lead nodes compute: those are skipped, their outputs left as the last run's nodes wrote
 * them (a training step's gathered batch, fetched ahead by the step before). The caller
 * vouches for that. */
ig_status ig_program_continue(ig_program *p, void *const *ext);
/* Copies host data into an IO value of the next run / out of one of the last run; `bytes`
 * must equal the value's size. */
ig_status ig_program_write(ig_program *p, int v, const void *src, size_t bytes);
ig_status ig_program_read(ig_program *p, int v, void *dst, size_t bytes);

/* Returns a value computed by a node of its own (not a view or a leaf) that equals v,
 * appending a COPY if needed — for values a caller must place in a buffer of its choice. */
ig_status ig_graph_materialize(ig_graph *g, int v, int *out);

#endif /* IG_BACKEND_H */
