/* dataset.c — in-memory labelled datasets (loaded from IDX files) and the batch loader. */
#include "dataset.h"
#include "idx.h"
#include "backend/backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t x_bytes(const ig_dataset *ds) { return (size_t)(ds->size * ds->sample_numel) * sizeof(float); }
static size_t y_bytes(const ig_dataset *ds) { return (size_t)ds->size * sizeof(int32_t); }

static void drop_resident(ig_dataset *ds)
{
    ig_backend *be = ds->ctx->backend;
    if (ds->dev_x) be->free(be, ds->dev_x, x_bytes(ds));
    if (ds->dev_y) be->free(be, ds->dev_y, y_bytes(ds));
    ds->dev_x = ds->dev_y = NULL;
    ds->dev_valid = false;
}

ig_status ig_dataset_resident(ig_dataset *ds, void **x, void **y)
{
    ig_backend *be = ds->ctx->backend;
    if (be->device == IG_DEVICE_CPU) {
        *x = ds->x;
        *y = ds->y;
        return IG_OK;
    }
    if (!ds->dev_valid) {
        if (!ds->dev_x) ds->dev_x = be->alloc(be, x_bytes(ds));
        if (!ds->dev_y) ds->dev_y = be->alloc(be, y_bytes(ds));
        if (!ds->dev_x || !ds->dev_y) {
            drop_resident(ds);
            return ig_fail(IG_ERR_OUT_OF_MEMORY, "dataset: cannot keep %zu bytes on the %s device", x_bytes(ds) + y_bytes(ds),
                           be->name);
        }
        IG_TRY(be->upload(be, ds->dev_x, ds->x, x_bytes(ds)));
        IG_TRY(be->upload(be, ds->dev_y, ds->y, y_bytes(ds)));
        ds->dev_valid = true;
    }
    *x = ds->dev_x;
    *y = ds->dev_y;
    return IG_OK;
}

void ig_dataset_destroy(ig_dataset *ds)
{
    if (!ds) return;
    drop_resident(ds);
    ig_host_free(ds->ctx, ds->x, x_bytes(ds));
    ig_host_free(ds->ctx, ds->y, y_bytes(ds));
    ig_host_free(ds->ctx, ds, sizeof *ds);
}

ig_status ig_dataset_create(ig_ctx *ctx, const ig_tensor *x, const ig_tensor *y, ig_dataset **out)
{
    const char *fn = "ig_dataset_create";
    if (!ctx || !x || !y || !out)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, !ctx ? "ctx" : !x ? "x" : !y ? "y" : "out");
    *out = NULL;
    if (x->dtype != IG_F32 || x->ndim < 2 || y->dtype != IG_I32 || y->ndim != 1 || y->shape[0] != x->shape[0])
        return ig_fail(IG_ERR_SHAPE, "%s: needs x f32 [n, ...] (ndim >= 2) and y i32 [n]; got x %s with %d dims, y %s with "
                       "%d dims", fn, ig_dtype_name(x->dtype), x->ndim, ig_dtype_name(y->dtype), y->ndim);
    const int32_t *labels = y->data;
    int32_t max_label = 0;
    for (int64_t i = 0; i < y->shape[0]; i++) {
        if (labels[i] < 0) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: label %d of sample %lld is negative", fn, labels[i], (long long)i);
        if (labels[i] > max_label) max_label = labels[i];
    }
    ig_dataset *ds = ig_host_alloc(ctx, sizeof *ds);
    if (!ds) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of host memory", fn);
    *ds = (ig_dataset){.ctx = ctx, .size = x->shape[0], .sample_ndim = x->ndim - 1, .num_classes = max_label + 1};
    memcpy(ds->sample_shape, x->shape + 1, (size_t)(x->ndim - 1) * sizeof *x->shape);
    ds->sample_numel = ig_tensor_numel(x) / x->shape[0];
    ds->x = ig_host_alloc(ctx, x_bytes(ds));
    ds->y = ig_host_alloc(ctx, y_bytes(ds));
    if (!ds->x || !ds->y) {
        ig_dataset_destroy(ds);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", fn, x->nbytes + y->nbytes);
    }
    memcpy(ds->x, x->data, x_bytes(ds));
    memcpy(ds->y, y->data, y_bytes(ds));
    *out = ds;
    return IG_OK;
}

/* A dataset of n images of rows x cols pixels, converted from bytes. */
static ig_status dataset_from_u8(ig_ctx *ctx, const int64_t *dims, const uint8_t *pixels,
                                 const uint8_t *labels, ig_dataset **out)
{
    ig_dataset *ds = ig_host_alloc(ctx, sizeof *ds);
    if (!ds) return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_dataset_load_idx: out of host memory");
    *ds = (ig_dataset){.ctx = ctx, .size = dims[0], .sample_ndim = 3,
                       .sample_shape = {1, dims[1], dims[2]}, .sample_numel = dims[1] * dims[2]};
    ds->x = ig_host_alloc(ctx, x_bytes(ds));
    ds->y = ig_host_alloc(ctx, y_bytes(ds));
    if (!ds->x || !ds->y) {
        size_t want = x_bytes(ds) + y_bytes(ds);
        ig_dataset_destroy(ds);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_dataset_load_idx: cannot allocate %zu bytes", want);
    }
    int64_t numel = ds->size * ds->sample_numel;
    for (int64_t i = 0; i < numel; i++) ds->x[i] = (float)pixels[i] / 255.0f;
    int32_t max_label = 0;
    for (int64_t i = 0; i < ds->size; i++) {
        ds->y[i] = labels[i];
        if (ds->y[i] > max_label) max_label = ds->y[i];
    }
    ds->num_classes = max_label + 1;
    *out = ds;
    return IG_OK;
}

ig_status ig_dataset_load_idx(ig_ctx *ctx, const char *images_path, const char *labels_path,
                              ig_dataset **out)
{
    if (out) *out = NULL;
    if (!ctx || !images_path || !labels_path || !out)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_dataset_load_idx: NULL %s",
                       !ctx ? "ctx" : !images_path ? "images_path" : !labels_path ? "labels_path" : "out");
    int64_t idims[3], ldims[1];
    uint8_t *pixels = NULL, *labels = NULL;
    ig_status s = ig_idx_read_u8(images_path, 3, idims, &pixels);
    if (s == IG_OK) s = ig_idx_read_u8(labels_path, 1, ldims, &labels);
    if (s != IG_OK) {
        ig_fail_prefix(s, "ig_dataset_load_idx: ");
    } else if (idims[0] != ldims[0]) {
        s = ig_fail(IG_ERR_FORMAT, "ig_dataset_load_idx: %s holds %lld images but %s holds %lld labels",
                    images_path, (long long)idims[0], labels_path, (long long)ldims[0]);
    } else {
        s = dataset_from_u8(ctx, idims, pixels, labels, out);
    }
    free(pixels);
    free(labels);
    return s;
}

int64_t ig_dataset_size(const ig_dataset *ds) { return ds ? ds->size : 0; }

int ig_dataset_sample_shape(const ig_dataset *ds, int64_t *shape)
{
    if (!ds || !shape) return -1;
    memcpy(shape, ds->sample_shape, (size_t)ds->sample_ndim * sizeof *shape);
    return ds->sample_ndim;
}

int32_t ig_dataset_num_classes(const ig_dataset *ds) { return ds ? ds->num_classes : 0; }

ig_status ig_dataset_normalize(ig_dataset *ds, float mean, float std)
{
    if (!ds) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_dataset_normalize: NULL ds");
    if (!(std > 0.0f) || !isfinite(std))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_dataset_normalize: std is %g (must be finite and > 0)", (double)std);
    if (!isfinite(mean))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_dataset_normalize: mean is %g (must be finite)", (double)mean);
    int64_t numel = ds->size * ds->sample_numel;
    for (int64_t i = 0; i < numel; i++) ds->x[i] = (ds->x[i] - mean) / std;
    ds->dev_valid = false;
    return IG_OK;
}

/* The loader reads the dataset at every ig_loader_next, so the dataset must outlive its use;
 * ctx and size are kept so that destroying the loader never touches the dataset. */
struct ig_loader {
    ig_dataset *ds;
    ig_ctx *ctx;
    int64_t size;
    int64_t batch_size;
    bool shuffle, drop_last;
    uint64_t seed;
    int64_t *order;             /* this epoch's sample order */
    uint64_t epoch;             /* epochs finished */
    int64_t pos;                /* next position in order; -1 before the epoch starts */
    ig_tensor *x_full, *y_full; /* batch_size samples, created on first use */
    ig_tensor *x_tail, *y_tail; /* the smaller last batch, likewise */
};

void ig_loader_destroy(ig_loader *ld)
{
    if (!ld) return;
    ig_tensor_release(ld->x_full);
    ig_tensor_release(ld->y_full);
    ig_tensor_release(ld->x_tail);
    ig_tensor_release(ld->y_tail);
    ig_host_free(ld->ctx, ld->order, (size_t)ld->size * sizeof *ld->order);
    ig_host_free(ld->ctx, ld, sizeof *ld);
}

ig_status ig_loader_create(ig_dataset *ds, int64_t batch_size, bool shuffle, uint64_t seed,
                           bool drop_last, ig_loader **out)
{
    if (out) *out = NULL;
    if (!ds || !out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_loader_create: NULL %s", ds ? "out" : "ds");
    if (batch_size < 1)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_loader_create: batch_size is %lld (must be >= 1)", (long long)batch_size);
    if (ds->sample_ndim + 1 > IG_MAX_DIMS)
        return ig_fail(IG_ERR_SHAPE, "ig_loader_create: samples of %d dimensions leave no room for the batch dimension",
                       ds->sample_ndim);
    ig_loader *ld = ig_host_alloc(ds->ctx, sizeof *ld);
    if (!ld) return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_loader_create: out of host memory");
    *ld = (ig_loader){.ds = ds, .ctx = ds->ctx, .size = ds->size, .batch_size = batch_size,
                      .shuffle = shuffle, .drop_last = drop_last, .seed = seed, .pos = -1};
    ld->order = ig_host_alloc(ds->ctx, (size_t)ds->size * sizeof *ld->order);
    if (!ld->order) {
        ig_loader_destroy(ld);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_loader_create: out of host memory");
    }
    *out = ld;
    return IG_OK;
}

int64_t ig_loader_num_batches(const ig_loader *ld)
{
    if (!ld) return 0;
    int64_t n = ld->size, b = ld->batch_size;
    return ld->drop_last ? n / b : n / b + (n % b != 0);
}

/* Identity order, or a Fisher–Yates shuffle whose draws are a pure function of (seed, epoch),
 * so every epoch differs and a seed replays the same sequence of epochs. */
static void start_epoch(ig_loader *ld)
{
    int64_t n = ld->size;
    for (int64_t i = 0; i < n; i++) ld->order[i] = i;
    if (ld->shuffle) {
        uint64_t base = ld->epoch * (uint64_t)n; /* each epoch takes the next n counters */
        for (int64_t i = n - 1; i > 0; i--) {
            /* modulo bias is at most n / 2^64: negligible */
            int64_t j = (int64_t)(ig_rng_u64(ld->seed, base + (uint64_t)i) % (uint64_t)(i + 1));
            int64_t t = ld->order[i];
            ld->order[i] = ld->order[j];
            ld->order[j] = t;
        }
    }
    ld->pos = 0;
}

/* The loader's tensor in *slot, reused unless the caller still holds a reference to it. */
static ig_status batch_tensor(ig_loader *ld, ig_tensor **slot, ig_dtype dtype, const int64_t *shape, int ndim)
{
    if (*slot && __atomic_load_n(&(*slot)->refs, __ATOMIC_ACQUIRE) == 1) return IG_OK;
    ig_tensor_release(*slot);
    *slot = NULL;
    return ig_tensor_create(ld->ctx, dtype, shape, ndim, slot);
}

ig_status ig_loader_next(ig_loader *ld, ig_tensor **x, ig_tensor **y)
{
    if (x) *x = NULL;
    if (y) *y = NULL;
    if (!ld || !x || !y)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_loader_next: NULL %s", !ld ? "ld" : !x ? "x" : "y");
    const ig_dataset *ds = ld->ds;
    if (ld->pos < 0) start_epoch(ld);
    int64_t left = ld->size - ld->pos;
    int64_t b = left < ld->batch_size ? left : ld->batch_size;
    if (b == 0 || (ld->drop_last && b < ld->batch_size)) {
        ld->epoch++;
        ld->pos = -1;
        return IG_OK;
    }

    bool full = b == ld->batch_size;
    ig_tensor **xs = full ? &ld->x_full : &ld->x_tail;
    ig_tensor **ys = full ? &ld->y_full : &ld->y_tail;
    int64_t shape[IG_MAX_DIMS] = {b};
    memcpy(shape + 1, ds->sample_shape, (size_t)ds->sample_ndim * sizeof *shape);
    IG_TRY(batch_tensor(ld, xs, IG_F32, shape, ds->sample_ndim + 1));
    IG_TRY(batch_tensor(ld, ys, IG_I32, shape, 1));

    float *xd = (*xs)->data;
    int32_t *yd = (*ys)->data;
    size_t sample_bytes = (size_t)ds->sample_numel * sizeof(float);
    for (int64_t k = 0; k < b; k++) {
        int64_t i = ld->order[ld->pos + k];
        memcpy(xd + k * ds->sample_numel, ds->x + i * ds->sample_numel, sample_bytes);
        yd[k] = ds->y[i];
    }
    ld->pos += b;
    *x = *xs;
    *y = *ys;
    return IG_OK;
}
