/* metrics.h — the argument checks the metric files share (src/metrics/check.c). */
#ifndef IG_METRICS_H
#define IG_METRICS_H

#include "core/core.h"

/* Argument checks; `fn` names the caller in the message. */
ig_status ig_metric_check_n(const char *fn, int64_t n);
/* ids[0..n) in [0, classes); `what` is "label" or "prediction". */
ig_status ig_metric_check_ids(const char *fn, const char *what, const int32_t *ids, int64_t n, int64_t classes);
/* v[i · stride + j] finite for i < rows, j < cols; the message names sample i (and class j
 * when cols > 1). */
ig_status ig_metric_check_finite(const char *fn, const char *what, const float *v, int64_t rows, int64_t cols,
                                 int64_t stride);

#endif /* IG_METRICS_H */
