/* core.h — internal core: error reporting, the context, memory accounting, the host
 * caching pool, tensors and the counter-based RNG. Everything in src/ includes this. */
#ifndef IG_CORE_H
#define IG_CORE_H

#include "ingot.h"

#include <pthread.h>
#include <stdarg.h>

struct ig_backend;

/* Sets the thread's last-error message (printf-style) and returns `s`, so that error
 * paths read `return ig_fail(IG_ERR_SHAPE, "dense: ...");`. */
ig_status ig_fail(ig_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the current last-error message with a context ("loading x.idx: ") and
 * returns `s` unchanged. */
ig_status ig_fail_prefix(ig_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define IG_TRY(expr)                        \
    do {                                    \
        ig_status ig_try_s_ = (expr);       \
        if (ig_try_s_ != IG_OK) return ig_try_s_; \
    } while (0)

/* Host caching pool: blocks of power-of-two size classes (256 B and up), 64-byte
 * aligned; freed blocks are cached per class and reused. Blocks above IG_POOL_MAX_CACHED
 * go straight back to the system. */
#define IG_POOL_CLASSES 40
#define IG_POOL_MAX_CACHED ((size_t)1 << 30)

typedef struct ig_pool_block {
    struct ig_pool_block *next;
} ig_pool_block;

typedef struct ig_pool {
    pthread_mutex_t lock;
    ig_pool_block *free_list[IG_POOL_CLASSES];
    size_t cached, hits, misses;
} ig_pool;

struct ig_ctx {
    ig_device device;
    struct ig_backend *backend;
    ig_pool pool;
    pthread_mutex_t stats_lock;
    ig_memory_stats stats;
};

/* Accounted host allocations (64-byte aligned) outside the pool. */
void *ig_host_alloc(ig_ctx *ctx, size_t bytes);
void ig_host_free(ig_ctx *ctx, void *p, size_t bytes);
/* Pool allocations; `bytes` is rounded up to the size class. */
void *ig_pool_alloc(ig_ctx *ctx, size_t bytes);
void ig_pool_free(ig_ctx *ctx, void *p, size_t bytes);
void ig_pool_trim(ig_ctx *ctx);
/* Accounting of device and pinned host memory (called by backends). */
void ig_stats_device(ig_ctx *ctx, ptrdiff_t delta);
void ig_stats_pinned(ig_ctx *ctx, ptrdiff_t delta);
void ig_stats_arena(ig_ctx *ctx, size_t planned, size_t unplanned);

struct ig_tensor {
    ig_ctx *ctx;
    int refs;
    ig_dtype dtype;
    int ndim;
    int64_t shape[IG_MAX_DIMS];
    size_t nbytes;
    void *data;
    bool pinned; /* data from the backend's pinned_alloc, not the pool */
};

/* A tensor whose data is the backend's page-locked memory (pool memory where the backend
 * has none), for batches filled ahead of their upload: see pinned_alloc in backend.h. */
ig_status ig_tensor_create_pinned(ig_ctx *ctx, ig_dtype dtype, const int64_t *shape, int ndim, ig_tensor **out);

/* Checks a shape (ndim in range, every dim ≥ 1, no overflow) and computes its element
 * count. `what` names the caller in the message. */
ig_status ig_shape_check(const char *what, const int64_t *shape, int ndim, int64_t *numel);

/* Counter-based RNG (splitmix64-style mixing of seed and counter): draw i of a stream is a
 * pure function of (seed, i), so a stream can be reproduced from any point. */
uint64_t ig_rng_u64(uint64_t seed, uint64_t counter);
/* Uniform in [0, 1) with 24 random bits. */
float ig_rng_uniform(uint64_t seed, uint64_t counter);

#endif /* IG_CORE_H */
