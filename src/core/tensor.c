/* tensor.c — reference-counted host tensors backed by the context's pool (or by the
 * backend's page-locked memory, for batches filled ahead of their upload). */
#include "core.h"
#include "backend/backend.h"

#include <string.h>

size_t ig_dtype_size(ig_dtype dtype)
{
    switch (dtype) {
    case IG_F32: case IG_I32: return 4;
    case IG_I64: return 8;
    case IG_BF16: case IG_F16: return 2;
    }
    return 0;
}

const char *ig_dtype_name(ig_dtype dtype)
{
    switch (dtype) {
    case IG_F32: return "f32";
    case IG_I32: return "i32";
    case IG_I64: return "i64";
    case IG_BF16: return "bf16";
    case IG_F16: return "f16";
    }
    return "?";
}

ig_status ig_shape_check(const char *what, const int64_t *shape, int ndim, int64_t *numel)
{
    if (ndim < 1 || ndim > IG_MAX_DIMS)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: ndim %d out of range 1..%d", what, ndim, IG_MAX_DIMS);
    if (!shape) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL shape", what);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: dimension %d is %lld (must be >= 1)", what, i, (long long)shape[i]);
        if (n > INT64_MAX / 8 / shape[i]) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: shape too large", what);
        n *= shape[i];
    }
    *numel = n;
    return IG_OK;
}

static ig_status create(ig_ctx *ctx, ig_dtype dtype, const int64_t *shape, int ndim, bool pinned, ig_tensor **out)
{
    if (!ctx || !out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_tensor_create: NULL %s", ctx ? "out" : "ctx");
    *out = NULL;
    if (ig_dtype_size(dtype) == 0) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_tensor_create: unknown dtype %d", (int)dtype);
    int64_t numel;
    IG_TRY(ig_shape_check("ig_tensor_create", shape, ndim, &numel));
    ig_tensor *t = ig_host_alloc(ctx, sizeof *t);
    if (!t) return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_tensor_create: out of host memory");
    memset(t, 0, sizeof *t);
    t->ctx = ctx;
    t->refs = 1;
    t->dtype = dtype;
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->nbytes = (size_t)numel * ig_dtype_size(dtype);
    ig_backend *be = ctx->backend;
    t->pinned = pinned && be->pinned_alloc;
    t->data = t->pinned ? be->pinned_alloc(be, t->nbytes) : ig_pool_alloc(ctx, t->nbytes);
    if (!t->data) {
        size_t bytes = t->nbytes;
        bool locked = t->pinned;
        ig_host_free(ctx, t, sizeof *t);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_tensor_create: cannot allocate %zu %sbytes", bytes,
                       locked ? "page-locked " : "");
    }
    if (!t->pinned) memset(t->data, 0, t->nbytes);
    *out = t;
    return IG_OK;
}

ig_status ig_tensor_create(ig_ctx *ctx, ig_dtype dtype, const int64_t *shape, int ndim, ig_tensor **out)
{
    return create(ctx, dtype, shape, ndim, false, out);
}

ig_status ig_tensor_create_pinned(ig_ctx *ctx, ig_dtype dtype, const int64_t *shape, int ndim, ig_tensor **out)
{
    return create(ctx, dtype, shape, ndim, true, out);
}

ig_status ig_tensor_from_data(ig_ctx *ctx, ig_dtype dtype, const int64_t *shape, int ndim,
                              const void *data, size_t bytes, ig_tensor **out)
{
    if (!data) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_tensor_from_data: NULL data");
    ig_tensor *t;
    IG_TRY(ig_tensor_create(ctx, dtype, shape, ndim, &t));
    if (bytes != t->nbytes) {
        size_t want = t->nbytes;
        ig_tensor_release(t);
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_tensor_from_data: %zu bytes given, the shape needs %zu", bytes, want);
    }
    memcpy(t->data, data, bytes);
    *out = t;
    return IG_OK;
}

ig_tensor *ig_tensor_retain(ig_tensor *t)
{
    if (t) __atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
    return t;
}

void ig_tensor_release(ig_tensor *t)
{
    if (!t) return;
    if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (t->pinned) t->ctx->backend->pinned_free(t->ctx->backend, t->data);
    else ig_pool_free(t->ctx, t->data, t->nbytes);
    ig_host_free(t->ctx, t, sizeof *t);
}

ig_dtype ig_tensor_dtype(const ig_tensor *t) { return t ? t->dtype : IG_F32; }
int ig_tensor_ndim(const ig_tensor *t) { return t ? t->ndim : 0; }

int64_t ig_tensor_dim(const ig_tensor *t, int i)
{
    if (!t) return -1;
    if (i < 0) i += t->ndim;
    return (i < 0 || i >= t->ndim) ? -1 : t->shape[i];
}

int64_t ig_tensor_numel(const ig_tensor *t)
{
    return t ? (int64_t)(t->nbytes / ig_dtype_size(t->dtype)) : 0;
}

size_t ig_tensor_nbytes(const ig_tensor *t) { return t ? t->nbytes : 0; }
void *ig_tensor_data(ig_tensor *t) { return t ? t->data : NULL; }
const void *ig_tensor_data_const(const ig_tensor *t) { return t ? t->data : NULL; }
