/* check.c — the argument checks the metrics share. */
#include "metrics.h"

#include <math.h>

ig_status ig_metric_check_n(const char *fn, int64_t n)
{
    if (n < 1) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: empty input (n is %lld)", fn, (long long)n);
    return IG_OK;
}

ig_status ig_metric_check_ids(const char *fn, const char *what, const int32_t *ids, int64_t n, int64_t classes)
{
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= classes)
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: the %s of sample %lld is %d, outside 0..%lld", fn, what,
                           (long long)i, ids[i], (long long)classes - 1);
    return IG_OK;
}

ig_status ig_metric_check_finite(const char *fn, const char *what, const float *v, int64_t rows, int64_t cols,
                                 int64_t stride)
{
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            if (!isfinite(v[i * stride + j])) {
                if (cols == 1)
                    return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: the %s of sample %lld is %g (must be finite)", fn, what,
                                   (long long)i, (double)v[i * stride + j]);
                return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: the %s of sample %lld, class %lld is %g (must be finite)", fn,
                               what, (long long)i, (long long)j, (double)v[i * stride + j]);
            }
    return IG_OK;
}
