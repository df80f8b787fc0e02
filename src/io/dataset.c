/* dataset.c — in-memory datasets (samples with class labels or float targets; loaded from
 * IDX files here, from CSV files and image folders elsewhere) and the batch loader. */
#include "dataset.h"
#include "idx.h"
#include "backend/backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t x_bytes(const ig_dataset *ds) { return (size_t)(ds->size * ds->sample_numel) * sizeof(float); }
/* labels (i32) and targets (f32) are both 4 bytes a value */
static size_t y_bytes(const ig_dataset *ds)
{
    return (size_t)(ds->size * (ds->target_dim ? ds->target_dim : 1)) * sizeof(int32_t);
}

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
    ig_host_free(ds->ctx, ds->targets, y_bytes(ds));
    ig_host_free(ds->ctx, ds->class_names, ds->names_bytes);
    ig_host_free(ds->ctx, ds, sizeof *ds);
}

ig_status ig_dataset_alloc(ig_ctx *ctx, int64_t n, int sample_ndim, const int64_t *sample_shape, int64_t target_dim,
                           const char *fn, ig_dataset **out)
{
    *out = NULL;
    int64_t numel;
    IG_TRY(ig_shape_check(fn, sample_shape, sample_ndim, &numel));
    int64_t per_sample = numel + (target_dim ? target_dim : 1);
    if (n < 1 || target_dim < 0 || per_sample > (int64_t)(SIZE_MAX / sizeof(float)) / n)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: cannot hold %lld samples of %lld values", fn, (long long)n,
                       (long long)per_sample);
    ig_dataset *ds = ig_host_alloc(ctx, sizeof *ds);
    if (!ds) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of host memory", fn);
    *ds = (ig_dataset){.ctx = ctx, .size = n, .sample_ndim = sample_ndim, .sample_numel = numel, .target_dim = target_dim};
    memcpy(ds->sample_shape, sample_shape, (size_t)sample_ndim * sizeof *sample_shape);
    ds->x = ig_host_alloc(ctx, x_bytes(ds));
    if (target_dim)
        ds->targets = ig_host_alloc(ctx, y_bytes(ds));
    else
        ds->y = ig_host_alloc(ctx, y_bytes(ds));
    if (!ds->x || (!ds->y && !ds->targets)) {
        size_t want = x_bytes(ds) + y_bytes(ds);
        ig_dataset_destroy(ds);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes for %lld samples", fn, want, (long long)n);
    }
    *out = ds;
    return IG_OK;
}

ig_status ig_dataset_set_class_names(ig_dataset *ds, const char *const *names, int32_t count, const char *fn)
{
    size_t bytes = (size_t)count * sizeof(char *);
    for (int32_t i = 0; i < count; i++) bytes += strlen(names[i]) + 1;
    char **block = ig_host_alloc(ds->ctx, bytes);
    if (!block) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes of class names", fn, bytes);
    char *p = (char *)(block + count);
    for (int32_t i = 0; i < count; i++) {
        size_t len = strlen(names[i]) + 1;
        memcpy(p, names[i], len);
        block[i] = p;
        p += len;
    }
    ig_host_free(ds->ctx, ds->class_names, ds->names_bytes);
    ds->class_names = block;
    ds->names_bytes = bytes;
    ds->num_classes = count;
    return IG_OK;
}

ig_status ig_dataset_subset(const ig_dataset *ds, const int64_t *idx, int64_t count, const char *fn, ig_dataset **out)
{
    ig_dataset *s;
    IG_TRY(ig_dataset_alloc(ds->ctx, count, ds->sample_ndim, ds->sample_shape, ds->target_dim, fn, &s));
    int64_t numel = ds->sample_numel, td = ds->target_dim;
    for (int64_t k = 0; k < count; k++) {
        memcpy(s->x + k * numel, ds->x + idx[k] * numel, (size_t)numel * sizeof *s->x);
        if (td)
            memcpy(s->targets + k * td, ds->targets + idx[k] * td, (size_t)td * sizeof *s->targets);
        else
            s->y[k] = ds->y[idx[k]];
    }
    s->num_classes = ds->num_classes;
    if (ds->class_names) {
        ig_status st = ig_dataset_set_class_names(s, (const char *const *)ds->class_names, ds->num_classes, fn);
        if (st != IG_OK) {
            ig_dataset_destroy(s);
            return st;
        }
    }
    *out = s;
    return IG_OK;
}

/* One more than the largest of n labels (all >= 0). */
static int32_t classes_of(const int32_t *y, int64_t n)
{
    int32_t max_label = 0;
    for (int64_t i = 0; i < n; i++)
        if (y[i] > max_label) max_label = y[i];
    return max_label + 1;
}

ig_status ig_dataset_create(ig_ctx *ctx, const ig_tensor *x, const ig_tensor *y, ig_dataset **out)
{
    const char *fn = "ig_dataset_create";
    if (!ctx || !x || !y || !out)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, !ctx ? "ctx" : !x ? "x" : !y ? "y" : "out");
    *out = NULL;
    bool labels = y->dtype == IG_I32 && y->ndim == 1, targets = y->dtype == IG_F32 && y->ndim <= 2;
    if (x->dtype != IG_F32 || x->ndim < 2 || !(labels || targets) || y->shape[0] != x->shape[0])
        return ig_fail(IG_ERR_SHAPE, "%s: needs x f32 [n, ...] (ndim >= 2) and y i32 [n] (class labels) or f32 [n] or "
                       "[n, k] (targets); got x %s with %d dims and %lld samples, y %s with %d dims and %lld rows", fn,
                       ig_dtype_name(x->dtype), x->ndim, (long long)x->shape[0], ig_dtype_name(y->dtype), y->ndim,
                       (long long)y->shape[0]);
    int64_t n = x->shape[0];
    if (labels) {
        const int32_t *yd = y->data;
        for (int64_t i = 0; i < n; i++)
            if (yd[i] < 0) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: label %d of sample %lld is negative", fn, yd[i], (long long)i);
    }
    ig_dataset *ds;
    IG_TRY(ig_dataset_alloc(ctx, n, x->ndim - 1, x->shape + 1, labels ? 0 : ig_tensor_numel(y) / n, fn, &ds));
    memcpy(ds->x, x->data, x_bytes(ds));
    if (labels) {
        memcpy(ds->y, y->data, y_bytes(ds));
        ds->num_classes = classes_of(ds->y, n);
    } else {
        memcpy(ds->targets, y->data, y_bytes(ds));
    }
    *out = ds;
    return IG_OK;
}

/* A dataset of n images of rows x cols pixels, converted from bytes. */
static ig_status dataset_from_u8(ig_ctx *ctx, const int64_t *dims, const uint8_t *pixels,
                                 const uint8_t *labels, ig_dataset **out)
{
    ig_dataset *ds;
    IG_TRY(ig_dataset_alloc(ctx, dims[0], 3, (int64_t[]){1, dims[1], dims[2]}, 0, "ig_dataset_load_idx", &ds));
    int64_t numel = ds->size * ds->sample_numel;
    for (int64_t i = 0; i < numel; i++) ds->x[i] = (float)pixels[i] / 255.0f;
    for (int64_t i = 0; i < ds->size; i++) ds->y[i] = labels[i];
    ds->num_classes = classes_of(ds->y, ds->size);
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

int64_t ig_dataset_target_dim(const ig_dataset *ds) { return ds ? ds->target_dim : 0; }

const char *ig_dataset_class_name(const ig_dataset *ds, int32_t id)
{
    if (!ds || !ds->class_names || id < 0 || id >= ds->num_classes) return NULL;
    return ds->class_names[id];
}

ig_status ig_dataset_tensors(const ig_dataset *ds, ig_tensor **x, ig_tensor **y)
{
    if (x) *x = NULL;
    if (y) *y = NULL;
    if (!ds) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_dataset_tensors: NULL ds");
    int64_t shape[IG_MAX_DIMS] = {ds->size};
    if (x) {
        memcpy(shape + 1, ds->sample_shape, (size_t)ds->sample_ndim * sizeof *shape);
        IG_TRY(ig_tensor_from_data(ds->ctx, IG_F32, shape, ds->sample_ndim + 1, ds->x, x_bytes(ds), x));
    }
    if (y) {
        shape[1] = ds->target_dim;
        ig_status s = ds->targets ? ig_tensor_from_data(ds->ctx, IG_F32, shape, 2, ds->targets, y_bytes(ds), y)
                                  : ig_tensor_from_data(ds->ctx, IG_I32, shape, 1, ds->y, y_bytes(ds), y);
        if (s != IG_OK && x) {
            ig_tensor_release(*x);
            *x = NULL;
        }
        return s;
    }
    return IG_OK;
}

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
    int64_t td = ds->target_dim;
    if (td)
        IG_TRY(batch_tensor(ld, ys, IG_F32, (int64_t[]){b, td}, 2));
    else
        IG_TRY(batch_tensor(ld, ys, IG_I32, shape, 1));

    float *xd = (*xs)->data;
    size_t sample_bytes = (size_t)ds->sample_numel * sizeof(float);
    for (int64_t k = 0; k < b; k++) {
        int64_t i = ld->order[ld->pos + k];
        memcpy(xd + k * ds->sample_numel, ds->x + i * ds->sample_numel, sample_bytes);
        if (td)
            memcpy((float *)(*ys)->data + k * td, ds->targets + i * td, (size_t)td * sizeof(float));
        else
            ((int32_t *)(*ys)->data)[k] = ds->y[i];
    }
    ld->pos += b;
    *x = *xs;
    *y = *ys;
    return IG_OK;
}
