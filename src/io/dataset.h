/* dataset.h — the layout of ig_dataset, for library code that reads samples directly. */
#ifndef IG_IO_DATASET_H
#define IG_IO_DATASET_H

#include "core/core.h"

struct ig_dataset {
    ig_ctx *ctx;
    int64_t size; /* number of samples */
    int sample_ndim;
    int64_t sample_shape[IG_MAX_DIMS];
    int64_t sample_numel;
    float *x;            /* [size, sample shape...], from ig_host_alloc */
    int32_t *y;          /* [size], from ig_host_alloc */
    int32_t num_classes; /* one more than the largest label */
};

#endif /* IG_IO_DATASET_H */
