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
    void *dev_x, *dev_y; /* the copy in backend memory, when resident */
    bool dev_valid;      /* false after the host copy changed */
};

/* The dataset's samples and targets in its context's backend memory: on the CPU the host
 * arrays themselves, elsewhere a copy made on first use and after each change. */
ig_status ig_dataset_resident(ig_dataset *ds, void **x, void **y);

#endif /* IG_IO_DATASET_H */
