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
    int32_t *y;          /* [size] class labels, from ig_host_alloc; NULL when targets is set */
    float *targets;      /* [size, target_dim] float targets, from ig_host_alloc; else NULL */
    int64_t target_dim;  /* 0: the dataset holds class labels (y) */
    int32_t num_classes; /* labels: one more than the largest label, or the number of class
                            names; kept by subsets, whose largest label may be smaller; 0 for
                            targets */
    char **class_names;  /* num_classes names (class folders, CSV label names), or NULL */
    size_t names_bytes;  /* the one block holding the pointers and the strings */
    void *dev_x, *dev_y; /* the copy in backend memory, when resident */
    bool dev_valid;      /* false after the host copy changed */
};

/* A dataset of n samples of sample_shape with room for class labels (target_dim 0) or for
 * float targets [n, target_dim]; contents uninitialised, num_classes 0. `fn` names the
 * caller in the message. */
ig_status ig_dataset_alloc(ig_ctx *ctx, int64_t n, int sample_ndim, const int64_t *sample_shape, int64_t target_dim,
                           const char *fn, ig_dataset **out);
/* Copies `count` class names into one block owned by ds and sets num_classes to count. */
ig_status ig_dataset_set_class_names(ig_dataset *ds, const char *const *names, int32_t count, const char *fn);
/* A new dataset of samples idx[0..count) of ds, in that order, with the same kind of
 * targets, class count and class names. */
ig_status ig_dataset_subset(const ig_dataset *ds, const int64_t *idx, int64_t count, const char *fn, ig_dataset **out);

/* Checks a normalisation of `channels` (1, or the samples' first dimension) means and
 * standard deviations for ds; `fn` names the caller in the message. */
ig_status ig_normalize_check(const ig_dataset *ds, int64_t channels, const float *mean, const float *std, const char *fn);
/* dst = (src − mean[c]) / std[c] over one sample of numel values in `channels` equal runs
 * (src may be dst). */
void ig_normalize_sample(const float *src, float *dst, int64_t numel, int64_t channels, const float *mean,
                         const float *std);
/* Checks augmentation options against ds's samples (crop and flip need [..., h, w]). */
ig_status ig_augment_check(const ig_augment *a, const ig_dataset *ds, const char *fn);

/* The dataset's samples and targets in its context's backend memory: on the CPU the host
 * arrays themselves, elsewhere a copy made on first use and after each change. */
ig_status ig_dataset_resident(ig_dataset *ds, void **x, void **y);

#endif /* IG_IO_DATASET_H */
