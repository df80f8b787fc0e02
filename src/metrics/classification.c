/* classification.c — metrics of predicted classes: accuracy, top-k accuracy, the confusion
 * matrix, and precision, recall and F1 per class and averaged (scikit-learn's definitions). */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Checks shared by the functions on [n, classes] scores. */
static ig_status check_scores(const char *fn, const float *scores, int64_t n, int64_t classes)
{
    IG_TRY(ig_metric_check_n(fn, n));
    if (classes < 1) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: classes is %lld (must be >= 1)", fn, (long long)classes);
    return ig_metric_check_finite(fn, "score", scores, n, classes, classes);
}

ig_status ig_metric_argmax(const float *scores, int64_t n, int64_t classes, int32_t *pred)
{
    const char *fn = "ig_metric_argmax";
    if (!scores || !pred) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, !scores ? "scores" : "pred");
    IG_TRY(check_scores(fn, scores, n, classes));
    if (classes > INT32_MAX) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: more than %d classes", fn, INT32_MAX);
    for (int64_t i = 0; i < n; i++) {
        const float *row = scores + i * classes;
        int64_t best = 0;
        for (int64_t c = 1; c < classes; c++)
            if (row[c] > row[best]) best = c;
        pred[i] = (int32_t)best;
    }
    return IG_OK;
}

ig_status ig_metric_accuracy(const int32_t *labels, const int32_t *pred, int64_t n, double *out)
{
    const char *fn = "ig_metric_accuracy";
    if (!labels || !pred || !out)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, !labels ? "labels" : !pred ? "pred" : "out");
    IG_TRY(ig_metric_check_n(fn, n));
    int64_t hits = 0;
    for (int64_t i = 0; i < n; i++) hits += labels[i] == pred[i];
    *out = (double)hits / (double)n;
    return IG_OK;
}

ig_status ig_metric_top_k_accuracy(const int32_t *labels, const float *scores, int64_t n, int64_t classes, int64_t k,
                                   double *out)
{
    const char *fn = "ig_metric_top_k_accuracy";
    if (!labels || !scores || !out)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, !labels ? "labels" : !scores ? "scores" : "out");
    if (k < 1) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: k is %lld (must be >= 1)", fn, (long long)k);
    IG_TRY(check_scores(fn, scores, n, classes));
    IG_TRY(ig_metric_check_ids(fn, "label", labels, n, classes));
    int64_t hits = 0;
    for (int64_t i = 0; i < n; i++) {
        const float *row = scores + i * classes;
        float s = row[labels[i]];
        /* the label's rank: classes scoring higher, and on a tie those of a higher id, come first */
        int64_t ahead = 0;
        for (int64_t c = 0; c < classes && ahead < k; c++) ahead += row[c] > s || (row[c] == s && c > labels[i]);
        hits += ahead < k;
    }
    *out = (double)hits / (double)n;
    return IG_OK;
}

ig_status ig_metric_confusion_matrix(const int32_t *labels, const int32_t *pred, int64_t n, int64_t classes,
                                     int64_t *counts)
{
    const char *fn = "ig_metric_confusion_matrix";
    if (!labels || !pred || !counts)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, !labels ? "labels" : !pred ? "pred" : "counts");
    IG_TRY(ig_metric_check_n(fn, n));
    if (classes < 1) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: classes is %lld (must be >= 1)", fn, (long long)classes);
    IG_TRY(ig_metric_check_ids(fn, "label", labels, n, classes));
    IG_TRY(ig_metric_check_ids(fn, "prediction", pred, n, classes));
    memset(counts, 0, (size_t)(classes * classes) * sizeof *counts);
    for (int64_t i = 0; i < n; i++) counts[labels[i] * classes + pred[i]]++;
    return IG_OK;
}

/* num / den, or zero_division when den is 0 (scikit-learn's _prf_divide). */
static double ratio(double num, double den, double zero_division) { return den > 0 ? num / den : zero_division; }

/* The mean of count values `stride` bytes apart from v, weighted by w (NULL: unweighted),
 * skipping NaNs; unweighted if the remaining weights sum to 0; NaN if every value is NaN
 * (scikit-learn's _nanaverage). */
static double nan_average(const double *v, const int64_t *w, int64_t count, size_t stride)
{
    double sum = 0, wsum = 0, plain = 0;
    int64_t kept = 0;
    for (int64_t c = 0; c < count; c++) {
        double x = *(const double *)((const char *)v + (size_t)c * stride);
        if (isnan(x)) continue;
        double wc = w ? (double)w[c] : 1.0;
        sum += wc * x;
        wsum += wc;
        plain += x;
        kept++;
    }
    if (!kept) return NAN;
    return wsum > 0 ? sum / wsum : plain / (double)kept;
}

/* The classes' precision, recall and F1 averaged by nan_average. */
static ig_prf average_prf(const ig_prf *pc, int64_t classes, const int64_t *weight, int64_t n)
{
    return (ig_prf){.precision = nan_average(&pc->precision, weight, classes, sizeof *pc),
                    .recall = nan_average(&pc->recall, weight, classes, sizeof *pc),
                    .f1 = nan_average(&pc->f1, weight, classes, sizeof *pc),
                    .support = n};
}

ig_status ig_metric_precision_recall_f1(const int32_t *labels, const int32_t *pred, int64_t n, int64_t classes,
                                        double zero_division, ig_prf *per_class, ig_prf_averages *avg)
{
    const char *fn = "ig_metric_precision_recall_f1";
    if (!labels || !pred) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, !labels ? "labels" : "pred");
    IG_TRY(ig_metric_check_n(fn, n));
    if (classes < 1) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: classes is %lld (must be >= 1)", fn, (long long)classes);
    if (!(zero_division == 0.0 || zero_division == 1.0 || isnan(zero_division)))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: zero_division is %g (must be 0, 1 or NAN)", fn, zero_division);
    IG_TRY(ig_metric_check_ids(fn, "label", labels, n, classes));
    IG_TRY(ig_metric_check_ids(fn, "prediction", pred, n, classes));

    /* tp, true (support) and predicted counts per class, then the per-class ratios */
    int64_t *cnt = calloc((size_t)classes * 3, sizeof *cnt);
    ig_prf *pc = malloc((size_t)classes * sizeof *pc);
    if (!cnt || !pc) {
        free(cnt);
        free(pc);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory for %lld classes", fn, (long long)classes);
    }
    int64_t *tp = cnt, *truth = cnt + classes, *predicted = cnt + 2 * classes, tp_all = 0;
    for (int64_t i = 0; i < n; i++) {
        tp[labels[i]] += labels[i] == pred[i];
        truth[labels[i]]++;
        predicted[pred[i]]++;
    }
    for (int64_t c = 0; c < classes; c++) {
        pc[c] = (ig_prf){.precision = ratio((double)tp[c], (double)predicted[c], zero_division),
                         .recall = ratio((double)tp[c], (double)truth[c], zero_division),
                         .f1 = ratio(2.0 * (double)tp[c], (double)(truth[c] + predicted[c]), zero_division),
                         .support = truth[c]};
        tp_all += tp[c];
    }
    if (avg) {
        avg->macro = average_prf(pc, classes, NULL, n);
        avg->weighted = average_prf(pc, classes, truth, n);
        /* summed over the classes, true and predicted counts are both n */
        double micro = ratio((double)tp_all, (double)n, zero_division);
        avg->micro = (ig_prf){.precision = micro, .recall = micro, .f1 = micro, .support = n};
    }
    if (per_class) memcpy(per_class, pc, (size_t)classes * sizeof *pc);
    free(cnt);
    free(pc);
    return IG_OK;
}
