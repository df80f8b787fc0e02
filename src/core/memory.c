/* memory.c — accounted host allocations and the size-class caching pool. */
#include "core.h"

#include <stdlib.h>
#include <string.h>

#define IG_HOST_ALIGN 64
#define IG_POOL_MIN_SHIFT 8 /* smallest class: 256 bytes */

static void stats_host(ig_ctx *ctx, ptrdiff_t delta)
{
    pthread_mutex_lock(&ctx->stats_lock);
    ctx->stats.host_in_use = (size_t)((ptrdiff_t)ctx->stats.host_in_use + delta);
    if (ctx->stats.host_in_use > ctx->stats.host_peak) ctx->stats.host_peak = ctx->stats.host_in_use;
    pthread_mutex_unlock(&ctx->stats_lock);
}

void ig_stats_device(ig_ctx *ctx, ptrdiff_t delta)
{
    pthread_mutex_lock(&ctx->stats_lock);
    ctx->stats.device_in_use = (size_t)((ptrdiff_t)ctx->stats.device_in_use + delta);
    if (ctx->stats.device_in_use > ctx->stats.device_peak)
        ctx->stats.device_peak = ctx->stats.device_in_use;
    pthread_mutex_unlock(&ctx->stats_lock);
}

void ig_stats_pinned(ig_ctx *ctx, ptrdiff_t delta)
{
    pthread_mutex_lock(&ctx->stats_lock);
    ctx->stats.pinned_in_use = (size_t)((ptrdiff_t)ctx->stats.pinned_in_use + delta);
    pthread_mutex_unlock(&ctx->stats_lock);
}

void ig_stats_arena(ig_ctx *ctx, size_t planned, size_t unplanned)
{
    pthread_mutex_lock(&ctx->stats_lock);
    if (planned >= ctx->stats.arena_planned) {
        ctx->stats.arena_planned = planned;
        ctx->stats.arena_unplanned = unplanned;
    }
    pthread_mutex_unlock(&ctx->stats_lock);
}

static size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

void *ig_host_alloc(ig_ctx *ctx, size_t bytes)
{
    if (bytes == 0) bytes = 1;
    if (bytes > SIZE_MAX - IG_HOST_ALIGN) return NULL;
    void *p = aligned_alloc(IG_HOST_ALIGN, round_up(bytes, IG_HOST_ALIGN));
    if (p) stats_host(ctx, (ptrdiff_t)bytes);
    return p;
}

void ig_host_free(ig_ctx *ctx, void *p, size_t bytes)
{
    if (!p) return;
    if (bytes == 0) bytes = 1;
    free(p);
    stats_host(ctx, -(ptrdiff_t)bytes);
}

static int size_class(size_t bytes)
{
    int c = 0;
    while (((size_t)1 << (c + IG_POOL_MIN_SHIFT)) < bytes) c++;
    return c;
}

static size_t class_bytes(int c) { return (size_t)1 << (c + IG_POOL_MIN_SHIFT); }

void *ig_pool_alloc(ig_ctx *ctx, size_t bytes)
{
    if (bytes > IG_POOL_MAX_CACHED) return ig_host_alloc(ctx, bytes);
    int c = size_class(bytes);
    ig_pool *pool = &ctx->pool;
    pthread_mutex_lock(&pool->lock);
    ig_pool_block *b = pool->free_list[c];
    if (b) {
        pool->free_list[c] = b->next;
        pool->cached -= class_bytes(c);
        pool->hits++;
    } else {
        pool->misses++;
    }
    pthread_mutex_unlock(&pool->lock);
    if (b) {
        stats_host(ctx, (ptrdiff_t)class_bytes(c));
        return b;
    }
    return ig_host_alloc(ctx, class_bytes(c));
}

void ig_pool_free(ig_ctx *ctx, void *p, size_t bytes)
{
    if (!p) return;
    if (bytes > IG_POOL_MAX_CACHED) {
        ig_host_free(ctx, p, bytes);
        return;
    }
    int c = size_class(bytes);
    ig_pool *pool = &ctx->pool;
    ig_pool_block *b = p;
    pthread_mutex_lock(&pool->lock);
    b->next = pool->free_list[c];
    pool->free_list[c] = b;
    pool->cached += class_bytes(c);
    pthread_mutex_unlock(&pool->lock);
    stats_host(ctx, -(ptrdiff_t)class_bytes(c));
}

void ig_pool_trim(ig_ctx *ctx)
{
    ig_pool *pool = &ctx->pool;
    pthread_mutex_lock(&pool->lock);
    for (int c = 0; c < IG_POOL_CLASSES; c++) {
        while (pool->free_list[c]) {
            ig_pool_block *b = pool->free_list[c];
            pool->free_list[c] = b->next;
            free(b);
        }
    }
    pool->cached = 0;
    pthread_mutex_unlock(&pool->lock);
}

ig_status ig_memory_stats_get(const ig_ctx *ctx, ig_memory_stats *out)
{
    if (!ctx || !out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_memory_stats_get: NULL %s", ctx ? "out" : "ctx");
    ig_ctx *c = (ig_ctx *)ctx;
    pthread_mutex_lock(&c->stats_lock);
    *out = c->stats;
    pthread_mutex_unlock(&c->stats_lock);
    pthread_mutex_lock(&c->pool.lock);
    out->pool_cached = c->pool.cached;
    out->pool_hits = c->pool.hits;
    out->pool_misses = c->pool.misses;
    pthread_mutex_unlock(&c->pool.lock);
    return IG_OK;
}
