/* test_metrics.c — the metrics against scikit-learn's values (tests/data/metrics_reference.json,
 * written by tools/metrics_reference.py), and their edge cases and errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define TOL 1e-6

/* ---------------------------------------------------------------- reading the reference */

static cJSON *reference;

static int load_reference(void **state)
{
    FILE *f = fopen(METRICS_REFERENCE, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *text = malloc((size_t)len + 1);
    if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) return -1;
    text[len] = '\0';
    fclose(f);
    reference = cJSON_Parse(text);
    free(text);
    return reference ? 0 : -1;
}

static int free_reference(void **state)
{
    cJSON_Delete(reference);
    return 0;
}

static cJSON *get(const cJSON *obj, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) fail_msg("the reference lacks \"%s\"", key);
    return v;
}

/* null is NaN, "inf" is +inf (JSON has neither) */
static double num(const cJSON *v)
{
    if (cJSON_IsNull(v)) return NAN;
    if (cJSON_IsString(v)) return strcmp(v->valuestring, "inf") == 0 ? INFINITY : -INFINITY;
    return v->valuedouble;
}

/* Arrays of the reference, flattened row by row; *n receives the element count. */
static double *doubles(const cJSON *a, int64_t *n)
{
    int64_t count = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, a) count += cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 1;
    double *out = malloc((size_t)(count ? count : 1) * sizeof *out);
    assert_non_null(out);
    int64_t k = 0;
    cJSON_ArrayForEach(v, a)
    {
        if (cJSON_IsArray(v)) {
            const cJSON *e;
            cJSON_ArrayForEach(e, v) out[k++] = num(e);
        } else {
            out[k++] = num(v);
        }
    }
    if (n) *n = count;
    return out;
}

static float *floats(const cJSON *a, int64_t *n)
{
    double *d = doubles(a, n);
    float *f = malloc((size_t)(*n ? *n : 1) * sizeof *f);
    assert_non_null(f);
    for (int64_t i = 0; i < *n; i++) f[i] = (float)d[i]; /* exact: the values are floats */
    free(d);
    return f;
}

static int32_t *ints(const cJSON *a, int64_t *n)
{
    double *d = doubles(a, n);
    int32_t *v = malloc((size_t)(*n ? *n : 1) * sizeof *v);
    assert_non_null(v);
    for (int64_t i = 0; i < *n; i++) v[i] = (int32_t)d[i];
    free(d);
    return v;
}

static void near(double got, double want, const char *what)
{
    if (isnan(want) && isnan(got)) return;
    if (isinf(want) && got == want) return;
    if (!(fabs(got - want) <= TOL * fmax(1.0, fabs(want)))) fail_msg("%s: got %.12g, scikit-learn %.12g", what, got, want);
}

static void near_array(const double *got, int64_t n, const cJSON *want, const char *what)
{
    int64_t m;
    double *w = doubles(want, &m);
    if (m != n) fail_msg("%s: %lld values, scikit-learn has %lld", what, (long long)n, (long long)m);
    char name[128];
    for (int64_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s[%lld]", what, (long long)i);
        near(got[i], w[i], name);
    }
    free(w);
}

/* A ROC curve against {fpr, tpr, thresholds}; a precision-recall curve against
 * {precision, recall, thresholds}. */
static void check_curve(const ig_curve *c, const cJSON *want, bool roc, const char *what)
{
    char name[128];
    snprintf(name, sizeof name, "%s x", what);
    near_array(c->x, c->points, get(want, roc ? "fpr" : "recall"), name);
    snprintf(name, sizeof name, "%s y", what);
    near_array(c->y, c->points, get(want, roc ? "tpr" : "precision"), name);
    snprintf(name, sizeof name, "%s thresholds", what);
    near_array(c->thresholds, roc ? c->points : c->points - 1, get(want, "thresholds"), name);
}

static void check_prf(const cJSON *want, const int32_t *labels, const int32_t *pred, int64_t n, int64_t classes,
                      double zero_division)
{
    ig_prf *pc = calloc((size_t)classes, sizeof *pc);
    ig_prf_averages avg;
    OK(ig_metric_precision_recall_f1(labels, pred, n, classes, zero_division, pc, &avg));
    const cJSON *per = get(want, "per_class");
    double *p = malloc((size_t)classes * 3 * sizeof *p);
    for (int64_t c = 0; c < classes; c++) {
        p[c] = pc[c].precision;
        p[classes + c] = pc[c].recall;
        p[2 * classes + c] = pc[c].f1;
    }
    near_array(p, classes, get(per, "precision"), "precision");
    near_array(p + classes, classes, get(per, "recall"), "recall");
    near_array(p + 2 * classes, classes, get(per, "f1"), "f1");
    int64_t m;
    int32_t *support = ints(get(per, "support"), &m);
    for (int64_t c = 0; c < classes; c++) assert_int_equal(pc[c].support, support[c]);
    const ig_prf *a[3] = {&avg.macro, &avg.micro, &avg.weighted};
    const char *names[3] = {"macro", "micro", "weighted"};
    for (int k = 0; k < 3; k++) {
        double got[3] = {a[k]->precision, a[k]->recall, a[k]->f1};
        near_array(got, 3, get(want, names[k]), names[k]);
        assert_int_equal(a[k]->support, n);
    }
    free(support);
    free(p);
    free(pc);
}

/* ---------------------------------------------------------------- against scikit-learn */

static void test_multiclass_reference(void **state)
{
    const cJSON *mc = get(reference, "multiclass");
    int64_t n, ns;
    int32_t *labels = ints(get(mc, "labels"), &n);
    float *scores = floats(get(mc, "scores"), &ns);
    int64_t classes = (int64_t)num(get(mc, "classes"));
    assert_int_equal(ns, n * classes);

    int32_t *pred = malloc((size_t)n * sizeof *pred), *want_pred = ints(get(mc, "pred"), &ns);
    OK(ig_metric_argmax(scores, n, classes, pred));
    assert_memory_equal(pred, want_pred, (size_t)n * sizeof *pred);

    double v;
    OK(ig_metric_accuracy(labels, pred, n, &v));
    near(v, num(get(mc, "accuracy")), "accuracy");
    for (int64_t k = 1; k <= classes; k++) {
        OK(ig_metric_top_k_accuracy(labels, scores, n, classes, k, &v));
        near(v, num(cJSON_GetArrayItem(get(mc, "top_k"), (int)k - 1)), "top-k accuracy");
    }

    int64_t counts[16], m;
    OK(ig_metric_confusion_matrix(labels, pred, n, classes, counts));
    int32_t *want_counts = ints(get(mc, "confusion"), &m);
    assert_int_equal(m, classes * classes);
    for (int64_t i = 0; i < m; i++) assert_int_equal(counts[i], want_counts[i]);

    check_prf(get(mc, "prf"), labels, pred, n, classes, 0.0);

    double per_class[4];
    ig_ovr_averages avg;
    const char *ovr_names[2] = {"roc_auc_ovr", "ap_ovr"};
    for (int which = 0; which < 2; which++) {
        if (which == 0)
            OK(ig_metric_roc_auc_ovr(labels, scores, n, classes, per_class, &avg));
        else
            OK(ig_metric_average_precision_ovr(labels, scores, n, classes, per_class, &avg));
        const cJSON *want = get(mc, ovr_names[which]);
        near_array(per_class, classes, get(want, "per_class"), ovr_names[which]);
        near(avg.macro, num(get(want, "macro")), "macro");
        near(avg.weighted, num(get(want, "weighted")), "weighted");
        near(avg.micro, num(get(want, "micro")), "micro");
    }

    /* class c against the rest through the strided binary functions */
    for (int32_t c = 0; c < classes; c++) {
        const cJSON *want = cJSON_GetArrayItem(get(mc, "per_class_curves"), c);
        ig_curve curve;
        OK(ig_metric_roc_curve(labels, c, scores + c, classes, n, &curve));
        check_curve(&curve, get(want, "roc"), true, "one-vs-rest ROC");
        ig_curve_free(&curve);
        OK(ig_metric_pr_curve(labels, c, scores + c, classes, n, &curve));
        check_curve(&curve, get(want, "pr"), false, "one-vs-rest PR");
        ig_curve_free(&curve);
        OK(ig_metric_roc_auc(labels, c, scores + c, classes, n, &v));
        near(v, num(get(want, "auc")), "one-vs-rest AUC");
        OK(ig_metric_average_precision(labels, c, scores + c, classes, n, &v));
        near(v, num(get(want, "ap")), "one-vs-rest AP");
    }
    free(labels);
    free(scores);
    free(pred);
    free(want_pred);
    free(want_counts);
}

static void test_prf_reference(void **state)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, get(reference, "prf_cases"))
    {
        int64_t n, m;
        int32_t *labels = ints(get(c, "labels"), &n), *pred = ints(get(c, "pred"), &m);
        int64_t classes = (int64_t)num(get(c, "classes"));
        double zd = num(get(c, "zero_division"));
        check_prf(c, labels, pred, n, classes, zd);
        const cJSON *binary = cJSON_GetObjectItemCaseSensitive(c, "binary");
        if (binary) { /* average="binary" is class 1's row */
            ig_prf pc[2];
            OK(ig_metric_precision_recall_f1(labels, pred, n, 2, zd, pc, NULL));
            double got[3] = {pc[1].precision, pc[1].recall, pc[1].f1};
            near_array(got, 3, binary, "binary");
        }
        free(labels);
        free(pred);
    }
}

static void test_binary_reference(void **state)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, get(reference, "binary"))
    {
        int64_t n, m;
        int32_t *labels = ints(get(c, "labels"), &n);
        float *scores = floats(get(c, "scores"), &m);
        ig_curve curve;
        double v;
        OK(ig_metric_roc_curve(labels, 1, scores, 1, n, &curve));
        check_curve(&curve, get(c, "roc"), true, "ROC");
        ig_curve_free(&curve);
        OK(ig_metric_pr_curve(labels, 1, scores, 1, n, &curve));
        check_curve(&curve, get(c, "pr"), false, "PR");
        ig_curve_free(&curve);
        OK(ig_metric_roc_auc(labels, 1, scores, 1, n, &v));
        near(v, num(get(c, "auc")), "AUC");
        OK(ig_metric_average_precision(labels, 1, scores, 1, n, &v));
        near(v, num(get(c, "ap")), "average precision");
        free(labels);
        free(scores);
    }
}

static void test_regression_reference(void **state)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, get(reference, "regression"))
    {
        int64_t nt, np;
        float *t = floats(get(c, "targets"), &nt), *p = floats(get(c, "predictions"), &np);
        int64_t n = cJSON_GetArraySize(get(c, "targets"));
        ig_regression_metrics r;
        OK(ig_metric_regression(t, p, n, nt / n, &r));
        near(r.mse, num(get(c, "mse")), "MSE");
        near(r.rmse, num(get(c, "rmse")), "RMSE");
        near(r.mae, num(get(c, "mae")), "MAE");
        near(r.r2, num(get(c, "r2")), "R2");
        free(t);
        free(p);
    }
}

/* ---------------------------------------------------------------- edge cases */

static void expect_error(ig_status got, ig_status want, const char *needle)
{
    if (got != want) fail_msg("expected %s, got %s: %s", ig_status_name(want), ig_status_name(got), ig_last_error());
    if (needle && !strstr(ig_last_error(), needle)) fail_msg("'%s' lacks '%s'", ig_last_error(), needle);
}

static void test_empty_and_bad_input(void **state)
{
    const int32_t labels[3] = {0, 1, 2}, bad_labels[3] = {0, 3, 1};
    const float scores[6] = {0.1f, 0.9f, 0.8f, 0.2f, 0.5f, 0.5f};
    int32_t pred[3];
    double v;
    int64_t counts[9];
    ig_prf pc[3];
    ig_curve curve = {.points = 7}; /* not zero: a failing call must clear it */
    ig_ovr_averages avg;
    ig_regression_metrics r;
    const ig_status E = IG_ERR_INVALID_ARGUMENT;

    expect_error(ig_metric_argmax(scores, 0, 2, pred), E, "empty input");
    expect_error(ig_metric_accuracy(labels, labels, 0, &v), E, "empty input");
    expect_error(ig_metric_top_k_accuracy(labels, scores, 0, 2, 1, &v), E, "empty input");
    expect_error(ig_metric_confusion_matrix(labels, labels, 0, 3, counts), E, "empty input");
    expect_error(ig_metric_precision_recall_f1(labels, labels, 0, 3, 0.0, pc, NULL), E, "empty input");
    expect_error(ig_metric_roc_curve(labels, 1, scores, 1, 0, &curve), E, "empty input");
    assert_int_equal(curve.points, 0);
    assert_null(curve.x);
    expect_error(ig_metric_pr_curve(labels, 1, scores, 1, 0, &curve), E, "empty input");
    expect_error(ig_metric_roc_auc(labels, 1, scores, 1, 0, &v), E, "empty input");
    expect_error(ig_metric_average_precision(labels, 1, scores, 1, 0, &v), E, "empty input");
    expect_error(ig_metric_roc_auc_ovr(labels, scores, 0, 2, NULL, &avg), E, "empty input");
    expect_error(ig_metric_regression(scores, scores, 0, 1, &r), E, "empty input");

    expect_error(ig_metric_accuracy(NULL, labels, 3, &v), E, "NULL labels");
    expect_error(ig_metric_argmax(scores, 3, 2, NULL), E, "NULL pred");
    expect_error(ig_metric_roc_curve(labels, 1, scores, 1, 3, NULL), E, "NULL out");
    expect_error(ig_metric_regression(scores, NULL, 3, 1, &r), E, "NULL predictions");

    /* labels and predictions out of range name the sample */
    expect_error(ig_metric_confusion_matrix(bad_labels, labels, 3, 3, counts), E, "label of sample 1 is 3");
    expect_error(ig_metric_confusion_matrix(labels, bad_labels, 3, 3, counts), E, "prediction of sample 1 is 3");
    expect_error(ig_metric_top_k_accuracy(bad_labels, scores, 3, 2, 1, &v), E, "sample 1");
    expect_error(ig_metric_roc_auc_ovr(bad_labels, scores, 3, 2, NULL, &avg), E, "sample 1");

    /* non-finite scores */
    const float nan_scores[6] = {0.1f, 0.9f, NAN, 0.2f, 0.5f, 0.5f};
    expect_error(ig_metric_argmax(nan_scores, 3, 2, pred), E, "sample 1, class 0");
    expect_error(ig_metric_roc_auc(labels, 1, nan_scores, 2, 3, &v), E, "sample 1");
    const float inf_target[2] = {1.0f, INFINITY};
    expect_error(ig_metric_regression(inf_target, inf_target, 2, 1, &r), E, "target of sample 1");

    /* bad parameters */
    expect_error(ig_metric_top_k_accuracy(labels, scores, 3, 2, 0, &v), E, "k is 0");
    expect_error(ig_metric_precision_recall_f1(labels, labels, 3, 3, 0.5, pc, NULL), E, "zero_division");
    expect_error(ig_metric_roc_curve(labels, 1, scores, 0, 3, &curve), E, "stride");
    expect_error(ig_metric_roc_auc_ovr(labels, scores, 3, 1, NULL, &avg), E, "classes is 1");
    expect_error(ig_metric_regression(scores, scores, 3, 0, &r), E, "outputs is 0");
    ig_curve_free(NULL);
    ig_curve_free(&curve); /* a cleared curve frees nothing */
}

static void test_one_class(void **state)
{
    const int32_t all_pos[4] = {1, 1, 1, 1}, all_neg[4] = {0, 0, 0, 0};
    const float scores[4] = {0.9f, 0.1f, 0.4f, 0.4f};
    ig_curve curve;
    double v;

    /* ROC needs both classes (scikit-learn: NaN rates with a warning; roc_auc_score raises) */
    expect_error(ig_metric_roc_curve(all_pos, 1, scores, 1, 4, &curve), IG_ERR_INVALID_ARGUMENT, "no negative samples");
    expect_error(ig_metric_roc_auc(all_neg, 1, scores, 1, 4, &v), IG_ERR_INVALID_ARGUMENT, "no positive samples");

    /* precision-recall: without positives the recall is 1 and the average precision 0 */
    OK(ig_metric_pr_curve(all_neg, 1, scores, 1, 4, &curve));
    assert_int_equal(curve.points, 4); /* three distinct scores, then (0, 1) */
    for (int i = 0; i < 3; i++) {
        assert_true(curve.x[i] == 1.0);
        assert_true(curve.y[i] == 0.0);
    }
    assert_true(curve.x[3] == 0.0 && curve.y[3] == 1.0);
    ig_curve_free(&curve);
    OK(ig_metric_average_precision(all_neg, 1, scores, 1, 4, &v));
    assert_true(v == 0.0);
    /* only positives: every threshold is perfect */
    OK(ig_metric_average_precision(all_pos, 1, scores, 1, 4, &v));
    assert_true(v == 1.0);

    /* one-vs-rest: an absent class makes its ROC AUC undefined, its average precision 0 */
    const int32_t labels[4] = {0, 0, 1, 1};
    const float probs[12] = {0.7f, 0.2f, 0.1f, 0.5f, 0.3f, 0.2f, 0.2f, 0.7f, 0.1f, 0.3f, 0.4f, 0.3f};
    double per_class[3];
    ig_ovr_averages avg;
    expect_error(ig_metric_roc_auc_ovr(labels, probs, 4, 3, per_class, &avg), IG_ERR_INVALID_ARGUMENT,
                 "class 2 against the rest: no positive samples");
    OK(ig_metric_average_precision_ovr(labels, probs, 4, 3, per_class, &avg));
    assert_true(per_class[2] == 0.0);
    assert_true(per_class[0] == 1.0 && per_class[1] == 1.0);
    assert_true(fabs(avg.macro - 2.0 / 3.0) < 1e-12);
    assert_true(avg.weighted == 1.0); /* class 2 has no support: no weight */

    /* precision and recall of a class that never occurs, for each zero_division */
    ig_prf pc[3];
    ig_prf_averages a;
    OK(ig_metric_precision_recall_f1(labels, labels, 4, 3, 1.0, pc, &a));
    assert_true(pc[2].precision == 1.0 && pc[2].recall == 1.0 && pc[2].f1 == 1.0 && pc[2].support == 0);
    OK(ig_metric_precision_recall_f1(labels, labels, 4, 3, NAN, pc, &a));
    assert_true(isnan(pc[2].precision) && isnan(pc[2].f1));
    assert_true(a.macro.f1 == 1.0); /* the NaN is skipped */
    OK(ig_metric_precision_recall_f1(labels, labels, 4, 3, 0.0, pc, &a));
    assert_true(fabs(a.macro.f1 - 2.0 / 3.0) < 1e-12);
    assert_true(a.weighted.f1 == 1.0 && a.micro.f1 == 1.0);
}

static void test_ties(void **state)
{
    /* argmax: the first of equal scores */
    const float row[4] = {0.25f, 0.5f, 0.5f, 0.1f};
    int32_t pred;
    OK(ig_metric_argmax(row, 1, 4, &pred));
    assert_int_equal(pred, 1);

    /* top-k: among equal scores the higher class id ranks first (scikit-learn's stable
     * argsort, reversed) */
    double v;
    OK(ig_metric_top_k_accuracy((int32_t[]){2}, row, 1, 4, 1, &v));
    assert_true(v == 1.0);
    OK(ig_metric_top_k_accuracy((int32_t[]){1}, row, 1, 4, 1, &v));
    assert_true(v == 0.0);
    OK(ig_metric_top_k_accuracy((int32_t[]){1}, row, 1, 4, 2, &v));
    assert_true(v == 1.0);
    OK(ig_metric_top_k_accuracy((int32_t[]){3}, row, 1, 4, 9, &v)); /* k beyond the classes */
    assert_true(v == 1.0);

    /* tied scores are one threshold: a single step from (0, 0) to (1, 1) */
    const int32_t labels[4] = {0, 1, 1, 0};
    const float same[4] = {0.3f, 0.3f, 0.3f, 0.3f};
    ig_curve c;
    OK(ig_metric_roc_curve(labels, 1, same, 1, 4, &c));
    assert_int_equal(c.points, 2);
    assert_true(isinf(c.thresholds[0]) && c.thresholds[1] == 0.3f);
    assert_true(c.x[1] == 1.0 && c.y[1] == 1.0);
    ig_curve_free(&c);
    OK(ig_metric_roc_auc(labels, 1, same, 1, 4, &v));
    assert_true(v == 0.5);
    OK(ig_metric_average_precision(labels, 1, same, 1, 4, &v));
    assert_true(v == 0.5);

    /* collinear points are dropped: three distinct scores with one positive each below the
     * best leave a straight run */
    const int32_t l2[5] = {1, 0, 0, 0, 1};
    const float s2[5] = {0.9f, 0.8f, 0.7f, 0.6f, 0.1f};
    OK(ig_metric_roc_curve(l2, 1, s2, 1, 5, &c));
    assert_int_equal(c.points, 4); /* +inf, 0.9, 0.6, 0.1: 0.8 and 0.7 lie on the run */
    assert_true(c.thresholds[2] == 0.6f);
    ig_curve_free(&c);
}

static void test_regression_edges(void **state)
{
    ig_regression_metrics r;
    const float t[3] = {2.0f, 2.0f, 2.0f}, off[3] = {2.0f, 3.0f, 2.0f};
    OK(ig_metric_regression(t, t, 3, 1, &r));
    assert_true(r.mse == 0.0 && r.rmse == 0.0 && r.mae == 0.0 && r.r2 == 1.0); /* constant, exact */
    OK(ig_metric_regression(t, off, 3, 1, &r));
    assert_true(r.r2 == 0.0); /* constant targets, not exact: force_finite's 0 */
    assert_true(fabs(r.mse - 1.0 / 3.0) < 1e-12 && fabs(r.rmse - sqrt(1.0 / 3.0)) < 1e-12);
    OK(ig_metric_regression(t, off, 1, 1, &r));
    assert_true(isnan(r.r2)); /* one sample: R² undefined */
    /* two outputs: RMSE is the mean of the outputs' RMSEs, not the root of the mean MSE */
    const float t2[4] = {0, 0, 0, 0}, p2[4] = {1, 3, 1, 3};
    OK(ig_metric_regression(t2, p2, 2, 2, &r));
    assert_true(r.mse == 5.0 && r.rmse == 2.0 && r.mae == 2.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multiclass_reference),
        cmocka_unit_test(test_prf_reference),
        cmocka_unit_test(test_binary_reference),
        cmocka_unit_test(test_regression_reference),
        cmocka_unit_test(test_empty_and_bad_input),
        cmocka_unit_test(test_one_class),
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_regression_edges),
    };
    return cmocka_run_group_tests(tests, load_reference, free_reference);
}
