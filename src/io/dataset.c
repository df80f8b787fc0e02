/* dataset.c — in-memory datasets (samples with class labels or float targets; loaded from
 * IDX files here, from CSV files and image folders elsewhere) and their normalisation. */
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

/* Channels are the samples' first dimension; `channels` 1 stands for all of them. */
ig_status ig_normalize_check(const ig_dataset *ds, int64_t channels, const float *mean, const float *std, const char *fn)
{
    if (channels != 1 && channels != ds->sample_shape[0])
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: %lld channels of mean and std for samples whose first dimension is "
                       "%lld (give 1 or %lld)", fn, (long long)channels, (long long)ds->sample_shape[0],
                       (long long)ds->sample_shape[0]);
    if (!mean || !std) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, mean ? "std" : "mean");
    for (int64_t c = 0; c < channels; c++) {
        if (!(std[c] > 0.0f) || !isfinite(std[c]))
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: std[%lld] is %g (must be finite and > 0)", fn, (long long)c,
                           (double)std[c]);
        if (!isfinite(mean[c]))
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: mean[%lld] is %g (must be finite)", fn, (long long)c,
                           (double)mean[c]);
    }
    return IG_OK;
}

void ig_normalize_sample(const float *src, float *dst, int64_t numel, int64_t channels, const float *mean,
                         const float *std)
{
    int64_t per = numel / channels;
    for (int64_t c = 0; c < channels; c++)
        for (int64_t i = c * per; i < (c + 1) * per; i++) dst[i] = (src[i] - mean[c]) / std[c];
}

static ig_status normalize(ig_dataset *ds, int64_t channels, const float *mean, const float *std, const char *fn)
{
    if (!ds) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL ds", fn);
    IG_TRY(ig_normalize_check(ds, channels, mean, std, fn));
    for (int64_t i = 0; i < ds->size; i++) {
        float *x = ds->x + i * ds->sample_numel;
        ig_normalize_sample(x, x, ds->sample_numel, channels, mean, std);
    }
    ds->dev_valid = false;
    return IG_OK;
}

ig_status ig_dataset_normalize(ig_dataset *ds, float mean, float std)
{
    return normalize(ds, 1, &mean, &std, "ig_dataset_normalize");
}

ig_status ig_dataset_normalize_channels(ig_dataset *ds, int64_t channels, const float *mean, const float *std)
{
    return normalize(ds, channels, mean, std, "ig_dataset_normalize_channels");
}
