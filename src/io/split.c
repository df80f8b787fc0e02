/* split.c — a seeded train/validation split of a dataset, optionally stratified by class. */
#include "dataset.h"

#include <math.h>
#include <stdlib.h>

/* order[0..n): a permutation of 0..n-1 drawn by Fisher–Yates from the counter-based RNG, so
 * it depends on (seed, n) only. */
static void permutation(int64_t *order, int64_t n, uint64_t seed)
{
    for (int64_t i = 0; i < n; i++) order[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(ig_rng_u64(seed, (uint64_t)i) % (uint64_t)(i + 1));
        int64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* quota[c]: validation samples of class c, floor(count_c · n_val / n), then one more for the
 * classes with the largest remainders until the quotas add up to n_val (fewer than
 * `classes` are left over). */
static void stratified_quotas(const int64_t *count, int32_t classes, int64_t n, int64_t n_val, int64_t *quota)
{
    int64_t given = 0;
    for (int32_t c = 0; c < classes; c++) {
        quota[c] = (int64_t)((__int128)count[c] * n_val / n);
        given += quota[c];
    }
    for (; given < n_val; given++) {
        int32_t best = 0;
        __int128 best_rem = -1;
        for (int32_t c = 0; c < classes; c++) {
            /* the remainder, times n; negative once the class got its extra sample */
            __int128 rem = (__int128)count[c] * n_val - (__int128)quota[c] * n;
            if (rem > best_rem) best_rem = rem, best = c;
        }
        quota[best]++;
    }
}

/* is_val[i] = 1 for the samples of the validation part. */
static ig_status choose_val(const ig_dataset *ds, int64_t n_val, uint64_t seed, bool stratify, uint8_t *is_val)
{
    int64_t n = ds->size;
    int64_t *order = malloc((size_t)n * sizeof *order);
    int64_t *count = stratify ? calloc((size_t)ds->num_classes, sizeof *count) : NULL;
    int64_t *quota = stratify ? malloc((size_t)ds->num_classes * sizeof *quota) : NULL;
    if (!order || (stratify && (!count || !quota))) {
        free(order);
        free(count);
        free(quota);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_dataset_split: out of host memory");
    }
    permutation(order, n, seed);
    if (stratify) {
        for (int64_t i = 0; i < n; i++) count[ds->y[i]]++;
        stratified_quotas(count, ds->num_classes, n, n_val, quota);
        /* the first quota[c] samples of class c in the random order: a uniform subset */
        for (int64_t k = 0; k < n; k++) {
            int64_t i = order[k];
            is_val[i] = quota[ds->y[i]] > 0;
            quota[ds->y[i]] -= is_val[i];
        }
    } else {
        for (int64_t k = 0; k < n; k++) is_val[order[k]] = k < n_val;
    }
    free(order);
    free(count);
    free(quota);
    return IG_OK;
}

ig_status ig_dataset_split(const ig_dataset *ds, double val_fraction, uint64_t seed, bool stratify,
                           ig_dataset **train, ig_dataset **val)
{
    const char *fn = "ig_dataset_split";
    if (train) *train = NULL;
    if (val) *val = NULL;
    if (!ds || !train || !val)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, !ds ? "ds" : !train ? "train" : "val");
    if (!(val_fraction > 0.0 && val_fraction < 1.0))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: val_fraction is %g (must be in (0, 1))", fn, val_fraction);
    if (stratify && ds->targets)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: stratify needs class labels; the dataset holds float targets", fn);
    int64_t n = ds->size, n_val = (int64_t)ceil(val_fraction * (double)n);
    if (n_val >= n)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: val_fraction %g of %lld samples leaves no training samples", fn,
                       val_fraction, (long long)n);

    uint8_t *is_val = malloc((size_t)n);
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    ig_status s = is_val && idx ? choose_val(ds, n_val, seed, stratify, is_val)
                                : ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of host memory", fn);
    if (s == IG_OK) {
        /* training samples first, then validation ones, each in the dataset's order */
        int64_t t = 0, v = n - n_val;
        for (int64_t i = 0; i < n; i++) idx[is_val[i] ? v++ : t++] = i;
        s = ig_dataset_subset(ds, idx, n - n_val, fn, train);
        if (s == IG_OK) s = ig_dataset_subset(ds, idx + (n - n_val), n_val, fn, val);
        if (s != IG_OK) {
            ig_dataset_destroy(*train);
            *train = NULL;
        }
    }
    free(is_val);
    free(idx);
    return s;
}
