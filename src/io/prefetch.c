/* prefetch.c — the prefetch thread: one producer, one consumer, a ring of slots and one
 * condition variable that each side signals when it changes the counts. */
#include "io/prefetch.h"

#include <stdio.h>
#include <string.h>

struct ig_prefetch {
    ig_ctx *ctx;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    ig_prefetch_fill fill;
    void *arg;
    int slots;
    int64_t filled, taken; /* items filled by the thread, taken by the consumer */
    bool holding;          /* the consumer still holds the slot of item taken − 1 */
    bool stop, failed;     /* failed: item `filled` could not be made */
    ig_status err;
    char msg[512];
};

static void *run(void *arg)
{
    ig_prefetch *pf = arg;
    pthread_mutex_lock(&pf->lock);
    for (;;) {
        /* the slots in use: filled but not taken, and the one the consumer holds */
        while (!pf->stop && pf->filled - pf->taken + pf->holding >= pf->slots)
            pthread_cond_wait(&pf->changed, &pf->lock);
        if (pf->stop) break;
        int slot = (int)(pf->filled % pf->slots);
        pthread_mutex_unlock(&pf->lock);
        ig_status st = pf->fill(pf->arg, slot);
        pthread_mutex_lock(&pf->lock);
        if (st != IG_OK) {
            /* ig_last_error is this thread's: the consumer gets a copy */
            pf->err = st;
            snprintf(pf->msg, sizeof pf->msg, "%s", ig_last_error());
            pf->failed = true;
            pthread_cond_broadcast(&pf->changed);
            break;
        }
        pf->filled++;
        pthread_cond_broadcast(&pf->changed);
    }
    pthread_mutex_unlock(&pf->lock);
    return NULL;
}

ig_status ig_prefetch_start(ig_ctx *ctx, int slots, ig_prefetch_fill fill, void *arg, ig_prefetch **out)
{
    *out = NULL;
    ig_prefetch *pf = ig_host_alloc(ctx, sizeof *pf);
    if (!pf) return ig_fail(IG_ERR_OUT_OF_MEMORY, "prefetch: out of host memory");
    *pf = (ig_prefetch){.ctx = ctx, .fill = fill, .arg = arg, .slots = slots};
    pthread_mutex_init(&pf->lock, NULL);
    pthread_cond_init(&pf->changed, NULL);
    int e = pthread_create(&pf->thread, NULL, run, pf);
    if (e != 0) {
        pthread_cond_destroy(&pf->changed);
        pthread_mutex_destroy(&pf->lock);
        ig_host_free(ctx, pf, sizeof *pf);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "prefetch: cannot start a thread: %s", strerror(e));
    }
    *out = pf;
    return IG_OK;
}

ig_status ig_prefetch_take(ig_prefetch *pf, int *slot)
{
    pthread_mutex_lock(&pf->lock);
    if (pf->holding) {
        pf->holding = false;
        pthread_cond_broadcast(&pf->changed);
    }
    while (pf->taken == pf->filled && !pf->failed) pthread_cond_wait(&pf->changed, &pf->lock);
    ig_status st = IG_OK;
    if (pf->taken == pf->filled) {
        st = ig_fail(pf->err, "%s", pf->msg);
    } else {
        *slot = (int)(pf->taken % pf->slots);
        pf->taken++;
        pf->holding = true;
    }
    pthread_mutex_unlock(&pf->lock);
    return st;
}

void ig_prefetch_stop(ig_prefetch *pf)
{
    if (!pf) return;
    pthread_mutex_lock(&pf->lock);
    pf->stop = true;
    pthread_cond_broadcast(&pf->changed);
    pthread_mutex_unlock(&pf->lock);
    pthread_join(pf->thread, NULL);
    pthread_cond_destroy(&pf->changed);
    pthread_mutex_destroy(&pf->lock);
    ig_host_free(pf->ctx, pf, sizeof *pf);
}
