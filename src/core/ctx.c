/* ctx.c — contexts: the device choice, the backend, the pool and the accounting. */
#include "core.h"
#include "backend/backend.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *ig_device_name(ig_device d)
{
    switch (d) {
    case IG_DEVICE_AUTO: return "auto";
    case IG_DEVICE_CPU: return "cpu";
    case IG_DEVICE_CUDA: return "cuda";
    }
    return "?";
}

static ig_status resolve_device(ig_device asked, ig_device *out)
{
    if (asked == IG_DEVICE_AUTO) {
        const char *env = getenv("INGOT_DEVICE");
        if (env && *env && strcasecmp(env, "auto") != 0) {
            if (strcasecmp(env, "cpu") == 0) asked = IG_DEVICE_CPU;
            else if (strcasecmp(env, "cuda") == 0) asked = IG_DEVICE_CUDA;
            else
                return ig_fail(IG_ERR_INVALID_ARGUMENT, "INGOT_DEVICE='%s' is not one of cpu, cuda, auto", env);
        }
    }
    switch (asked) {
    case IG_DEVICE_AUTO:
#ifdef IG_HAVE_CUDA
        *out = ig_cuda_available() ? IG_DEVICE_CUDA : IG_DEVICE_CPU;
#else
        *out = IG_DEVICE_CPU;
#endif
        return IG_OK;
    case IG_DEVICE_CPU: *out = IG_DEVICE_CPU; return IG_OK;
    case IG_DEVICE_CUDA:
#ifdef IG_HAVE_CUDA
        *out = IG_DEVICE_CUDA;
        return IG_OK;
#else
        return ig_fail(IG_ERR_UNSUPPORTED, "ig_ctx_create: this build of ingot has no CUDA backend "
                                           "(build where nvcc is found, or with -DINGOT_CUDA=ON)");
#endif
    }
    return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_ctx_create: unknown device %d", (int)asked);
}

ig_status ig_ctx_create(ig_device device, ig_ctx **out)
{
    if (!out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_ctx_create: NULL out");
    *out = NULL;
    ig_device dev = IG_DEVICE_CPU;
    IG_TRY(resolve_device(device, &dev));
    ig_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_ctx_create: out of memory");
    ctx->device = dev;
    pthread_mutex_init(&ctx->pool.lock, NULL);
    pthread_mutex_init(&ctx->stats_lock, NULL);
    ig_status st;
#ifdef IG_HAVE_CUDA
    if (dev == IG_DEVICE_CUDA) st = ig_backend_cuda_create(ctx, &ctx->backend);
    else
#endif
        st = ig_backend_cpu_create(ctx, &ctx->backend);
    if (st != IG_OK) {
        ig_ctx_destroy(ctx);
        return st;
    }
    *out = ctx;
    return IG_OK;
}

void ig_ctx_destroy(ig_ctx *ctx)
{
    if (!ctx) return;
    if (ctx->backend) ctx->backend->destroy(ctx->backend);
    ig_pool_trim(ctx);
    pthread_mutex_destroy(&ctx->pool.lock);
    pthread_mutex_destroy(&ctx->stats_lock);
    free(ctx);
}

ig_device ig_ctx_device(const ig_ctx *ctx) { return ctx ? ctx->device : IG_DEVICE_CPU; }
