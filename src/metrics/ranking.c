/* ranking.c — metrics of scores: ROC and precision-recall curves, ROC AUC and average
 * precision, binary and one-vs-rest (scikit-learn's definitions, down to which curve points
 * are kept). */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One scored sample of a binary problem. */
typedef struct ranked {
    float score;
    bool positive;
} ranked;

/* The confusion counts at each distinct score, from the highest (scikit-learn's
 * _binary_clf_curve): predicting positive at score >= thr[i] gives tps[i] true and fps[i]
 * false positives. */
typedef struct clf_counts {
    int64_t m;
    double *tps, *fps, *thr;
} clf_counts;

static void counts_free(clf_counts *c)
{
    free(c->tps);
    free(c->fps);
    free(c->thr);
    *c = (clf_counts){0};
}

static int by_score_desc(const void *a, const void *b)
{
    float x = ((const ranked *)a)->score, y = ((const ranked *)b)->score;
    return (x < y) - (x > y);
}

/* Sorts r (count >= 1) by score and counts; frees r either way. */
static ig_status count_at_thresholds(ranked *r, int64_t count, clf_counts *out)
{
    *out = (clf_counts){0};
    qsort(r, (size_t)count, sizeof *r, by_score_desc);
    int64_t m = 1;
    for (int64_t i = 1; i < count; i++) m += r[i].score != r[i - 1].score;
    out->tps = malloc((size_t)m * sizeof *out->tps);
    out->fps = malloc((size_t)m * sizeof *out->fps);
    out->thr = malloc((size_t)m * sizeof *out->thr);
    if (!out->tps || !out->fps || !out->thr) {
        counts_free(out);
        free(r);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "metrics: out of memory for %lld thresholds", (long long)m);
    }
    int64_t tp = 0, k = 0;
    for (int64_t i = 0; i < count; i++) {
        tp += r[i].positive;
        if (i + 1 == count || r[i + 1].score != r[i].score) {
            out->tps[k] = (double)tp;
            out->fps[k] = (double)(i + 1 - tp);
            out->thr[k] = r[i].score;
            k++;
        }
    }
    out->m = m;
    free(r);
    return IG_OK;
}

/* The counts of a binary problem: sample i scores scores[i * stride], positive when
 * labels[i] == positive. */
static ig_status binary_counts(const char *fn, const int32_t *labels, int32_t positive, const float *scores,
                               int64_t stride, int64_t n, clf_counts *out)
{
    *out = (clf_counts){0};
    if (!labels || !scores) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, !labels ? "labels" : "scores");
    IG_TRY(ig_metric_check_n(fn, n));
    if (stride < 1) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: stride is %lld (must be >= 1)", fn, (long long)stride);
    IG_TRY(ig_metric_check_finite(fn, "score", scores, n, 1, stride));
    ranked *r = malloc((size_t)n * sizeof *r);
    if (!r) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory for %lld samples", fn, (long long)n);
    for (int64_t i = 0; i < n; i++) r[i] = (ranked){scores[i * stride], labels[i] == positive};
    return count_at_thresholds(r, n, out);
}

/* The pooled problem of every (sample, class) pair: one-vs-rest's micro average. */
static ig_status micro_counts(const char *fn, const int32_t *labels, const float *scores, int64_t n, int64_t classes,
                              clf_counts *out)
{
    ranked *r = malloc((size_t)(n * classes) * sizeof *r);
    if (!r) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory for %lld scores", fn, (long long)(n * classes));
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < classes; c++) r[i * classes + c] = (ranked){scores[i * classes + c], labels[i] == c};
    return count_at_thresholds(r, n * classes, out);
}

void ig_curve_free(ig_curve *c)
{
    if (!c) return;
    free(c->x);
    free(c->y);
    free(c->thresholds);
    *c = (ig_curve){0};
}

static ig_status curve_alloc(const char *fn, int64_t points, int64_t thresholds, ig_curve *out)
{
    out->points = points;
    out->x = malloc((size_t)points * sizeof *out->x);
    out->y = malloc((size_t)points * sizeof *out->y);
    out->thresholds = malloc((size_t)thresholds * sizeof *out->thresholds);
    if (out->x && out->y && out->thresholds) return IG_OK;
    ig_curve_free(out);
    return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory for %lld points", fn, (long long)points);
}

/* roc_curve(drop_intermediate=True) from the counts; both classes must be present. */
static ig_status roc_from_counts(const char *fn, const clf_counts *k, ig_curve *out)
{
    double pos = k->tps[k->m - 1], neg = k->fps[k->m - 1];
    if (pos == 0 || neg == 0)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: no %s samples: the ROC curve is undefined (it needs both)", fn,
                       pos == 0 ? "positive" : "negative");
    /* keep a point unless it is in line with both neighbours (a zero second difference
     * of both counts) */
    int64_t kept = 0;
    bool *keep = malloc((size_t)k->m);
    if (!keep) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    for (int64_t i = 0; i < k->m; i++) {
        keep[i] = k->m <= 2 || i == 0 || i == k->m - 1 || k->fps[i + 1] - 2 * k->fps[i] + k->fps[i - 1] != 0 ||
                  k->tps[i + 1] - 2 * k->tps[i] + k->tps[i - 1] != 0;
        kept += keep[i];
    }
    ig_status s = curve_alloc(fn, kept + 1, kept + 1, out);
    if (s == IG_OK) {
        out->x[0] = out->y[0] = 0.0;
        out->thresholds[0] = INFINITY;
        for (int64_t i = 0, j = 1; i < k->m; i++)
            if (keep[i]) {
                out->x[j] = k->fps[i] / neg;
                out->y[j] = k->tps[i] / pos;
                out->thresholds[j++] = k->thr[i];
            }
    }
    free(keep);
    return s;
}

/* precision_recall_curve from the counts: thresholds from the lowest, then (0, 1). */
static ig_status pr_from_counts(const char *fn, const clf_counts *k, ig_curve *out)
{
    IG_TRY(curve_alloc(fn, k->m + 1, k->m, out));
    double pos = k->tps[k->m - 1];
    for (int64_t i = 0; i < k->m; i++) {
        int64_t j = k->m - 1 - i;
        out->x[j] = pos > 0 ? k->tps[i] / pos : 1.0; /* no positives: recall 1, as scikit-learn */
        out->y[j] = k->tps[i] / (k->tps[i] + k->fps[i]);
        out->thresholds[j] = k->thr[i];
    }
    out->x[k->m] = 0.0;
    out->y[k->m] = 1.0;
    return IG_OK;
}

static double auc_of(const ig_curve *c)
{
    double area = 0.0;
    for (int64_t i = 1; i < c->points; i++) area += (c->x[i] - c->x[i - 1]) * (c->y[i] + c->y[i - 1]) / 2.0;
    return area;
}

/* Σ (R_k − R_k−1) · P_k over the thresholds from the highest (points from the last). */
static double average_precision_of(const ig_curve *c)
{
    double ap = 0.0;
    for (int64_t i = c->points - 2; i >= 0; i--) ap += (c->x[i] - c->x[i + 1]) * c->y[i];
    return ap > 0.0 ? ap : 0.0; /* scikit-learn clips a rounding -0 */
}

/* A metric of a binary problem's counts. */
typedef ig_status (*counts_metric)(const char *fn, const clf_counts *k, double *out);

static ig_status roc_auc_metric(const char *fn, const clf_counts *k, double *out)
{
    ig_curve c = {0};
    IG_TRY(roc_from_counts(fn, k, &c));
    *out = auc_of(&c);
    ig_curve_free(&c);
    return IG_OK;
}

static ig_status ap_metric(const char *fn, const clf_counts *k, double *out)
{
    ig_curve c = {0};
    IG_TRY(pr_from_counts(fn, k, &c));
    *out = average_precision_of(&c);
    ig_curve_free(&c);
    return IG_OK;
}

/* A curve from a binary problem; *out zeroed on failure. */
static ig_status binary_curve(const char *fn, ig_status (*make)(const char *, const clf_counts *, ig_curve *),
                              const int32_t *labels, int32_t positive, const float *scores, int64_t stride, int64_t n,
                              ig_curve *out)
{
    if (!out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL out", fn);
    *out = (ig_curve){0};
    clf_counts k;
    IG_TRY(binary_counts(fn, labels, positive, scores, stride, n, &k));
    ig_status s = make(fn, &k, out);
    counts_free(&k);
    return s;
}

static ig_status binary_metric(const char *fn, counts_metric metric, const int32_t *labels, int32_t positive,
                               const float *scores, int64_t stride, int64_t n, double *out)
{
    if (!out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL out", fn);
    clf_counts k;
    IG_TRY(binary_counts(fn, labels, positive, scores, stride, n, &k));
    ig_status s = metric(fn, &k, out);
    counts_free(&k);
    return s;
}

ig_status ig_metric_roc_curve(const int32_t *labels, int32_t positive, const float *scores, int64_t stride, int64_t n,
                              ig_curve *out)
{
    return binary_curve("ig_metric_roc_curve", roc_from_counts, labels, positive, scores, stride, n, out);
}

ig_status ig_metric_pr_curve(const int32_t *labels, int32_t positive, const float *scores, int64_t stride, int64_t n,
                             ig_curve *out)
{
    return binary_curve("ig_metric_pr_curve", pr_from_counts, labels, positive, scores, stride, n, out);
}

ig_status ig_metric_roc_auc(const int32_t *labels, int32_t positive, const float *scores, int64_t stride, int64_t n,
                            double *out)
{
    return binary_metric("ig_metric_roc_auc", roc_auc_metric, labels, positive, scores, stride, n, out);
}

ig_status ig_metric_average_precision(const int32_t *labels, int32_t positive, const float *scores, int64_t stride,
                                      int64_t n, double *out)
{
    return binary_metric("ig_metric_average_precision", ap_metric, labels, positive, scores, stride, n, out);
}

/* One-vs-rest: the metric per class, their plain and support-weighted means, and the metric
 * of the pooled (sample, class) pairs. */
static ig_status one_vs_rest(const char *fn, counts_metric metric, const int32_t *labels, const float *scores,
                             int64_t n, int64_t classes, double *per_class, ig_ovr_averages *avg)
{
    if (!labels || !scores) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, !labels ? "labels" : "scores");
    IG_TRY(ig_metric_check_n(fn, n));
    if (classes < 2 || classes > INT32_MAX)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: classes is %lld (must be >= 2)", fn, (long long)classes);
    IG_TRY(ig_metric_check_ids(fn, "label", labels, n, classes));
    double *value = malloc((size_t)classes * sizeof *value);
    int64_t *support = calloc((size_t)classes, sizeof *support);
    ig_status s = value && support ? IG_OK : ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    for (int64_t i = 0; s == IG_OK && i < n; i++) support[labels[i]]++;
    double macro = 0.0, weighted = 0.0;
    for (int64_t c = 0; s == IG_OK && c < classes; c++) {
        char what[96]; /* messages name the class */
        snprintf(what, sizeof what, "%s: class %lld against the rest", fn, (long long)c);
        clf_counts k = {0};
        s = binary_counts(what, labels, (int32_t)c, scores + c, classes, n, &k);
        if (s == IG_OK) s = metric(what, &k, &value[c]);
        counts_free(&k);
        macro += s == IG_OK ? value[c] / (double)classes : 0.0;
        weighted += s == IG_OK ? value[c] * (double)support[c] / (double)n : 0.0;
    }
    double micro = 0.0;
    if (s == IG_OK && avg) {
        clf_counts k = {0};
        s = micro_counts(fn, labels, scores, n, classes, &k);
        if (s == IG_OK) s = metric(fn, &k, &micro);
        counts_free(&k);
    }
    if (s == IG_OK && per_class) memcpy(per_class, value, (size_t)classes * sizeof *value);
    if (s == IG_OK && avg) *avg = (ig_ovr_averages){.macro = macro, .weighted = weighted, .micro = micro};
    free(value);
    free(support);
    return s;
}

ig_status ig_metric_roc_auc_ovr(const int32_t *labels, const float *scores, int64_t n, int64_t classes,
                                double *per_class, ig_ovr_averages *avg)
{
    return one_vs_rest("ig_metric_roc_auc_ovr", roc_auc_metric, labels, scores, n, classes, per_class, avg);
}

ig_status ig_metric_average_precision_ovr(const int32_t *labels, const float *scores, int64_t n, int64_t classes,
                                          double *per_class, ig_ovr_averages *avg)
{
    return one_vs_rest("ig_metric_average_precision_ovr", ap_metric, labels, scores, n, classes, per_class, avg);
}
