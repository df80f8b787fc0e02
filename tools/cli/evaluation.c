/* evaluation.c — predictions over a dataset, and the metrics of them. */
#include "evaluation.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int predict_all(ig_model *m, ig_dataset *ds, int64_t batch, float **scores, int64_t *outputs, ig_tensor **targets)
{
    *scores = NULL;
    *targets = NULL;
    int64_t n = ig_dataset_size(ds), done = 0;
    ig_loader *ld = NULL;
    if (ig_loader_create(ds, batch, false, 0, false, &ld) != IG_OK) return cli_lib_fail(NULL);
    int rc = CLI_OK;
    for (;;) {
        ig_tensor *x, *y, *out = NULL;
        if (ig_loader_next(ld, &x, &y) != IG_OK || (x && ig_predict(m, x, &out) != IG_OK)) {
            rc = cli_lib_fail(NULL);
            break;
        }
        if (!x) break;
        int64_t b = ig_tensor_dim(out, 0), k = ig_tensor_numel(out) / b;
        if (!*scores) {
            *outputs = k;
            if (!(*scores = malloc((size_t)(n * k) * sizeof **scores))) {
                ig_tensor_release(out);
                rc = cli_fail("out of memory");
                break;
            }
        }
        memcpy(*scores + done * k, ig_tensor_data_const(out), (size_t)(b * k) * sizeof **scores);
        done += b;
        ig_tensor_release(out);
    }
    ig_loader_destroy(ld);
    if (rc == CLI_OK && ig_dataset_tensors(ds, NULL, targets) != IG_OK) rc = cli_lib_fail(NULL);
    if (rc != CLI_OK) {
        free(*scores);
        *scores = NULL;
    }
    return rc;
}

void softmax_rows(const float *logits, int64_t n, int64_t k, float *probs)
{
    for (int64_t i = 0; i < n; i++) {
        const float *z = logits + i * k;
        float *p = probs + i * k, mx = z[0];
        for (int64_t j = 1; j < k; j++) mx = z[j] > mx ? z[j] : mx;
        double sum = 0;
        for (int64_t j = 0; j < k; j++) sum += p[j] = expf(z[j] - mx);
        for (int64_t j = 0; j < k; j++) p[j] = (float)(p[j] / sum);
    }
}

/* The mean cross-entropy of the logits' softmax against the labels. */
static double cross_entropy(const float *logits, const int32_t *labels, int64_t n, int64_t k)
{
    double total = 0;
    for (int64_t i = 0; i < n; i++) {
        const float *z = logits + i * k;
        float mx = z[0];
        for (int64_t j = 1; j < k; j++) mx = z[j] > mx ? z[j] : mx;
        double sum = 0;
        for (int64_t j = 0; j < k; j++) sum += exp((double)(z[j] - mx));
        total += log(sum) + mx - z[labels[i]];
    }
    return total / (double)n;
}

/* ROC and precision-recall curves and their areas, per class against the rest (binary: the
 * positive class only), where the class has both positive and negative samples. */
static int rankings(const int32_t *labels, const float *probs, evaluation *e)
{
    int64_t k = e->classes, n = e->n;
    for (int64_t c = 0; c < k; c++) e->auc[c] = e->ap[c] = NAN;
    e->auc_avg = e->ap_avg = (ig_ovr_averages){NAN, NAN, NAN};
    for (int64_t c = k == 2 ? 1 : 0; c < k; c++) {
        int64_t pos = 0;
        for (int64_t i = 0; i < n; i++) pos += labels[i] == c;
        if (pos == 0 || pos == n) continue;
        int s = e->n_curves;
        if (ig_metric_roc_curve(labels, (int32_t)c, probs + c, k, n, &e->roc[s]) != IG_OK ||
            ig_metric_pr_curve(labels, (int32_t)c, probs + c, k, n, &e->pr[s]) != IG_OK ||
            ig_metric_roc_auc(labels, (int32_t)c, probs + c, k, n, &e->auc[c]) != IG_OK ||
            ig_metric_average_precision(labels, (int32_t)c, probs + c, k, n, &e->ap[c]) != IG_OK)
            return cli_lib_fail(NULL);
        e->curve_class[e->n_curves++] = (int32_t)c;
    }
    if (k == 2) {
        e->auc_avg = (ig_ovr_averages){e->auc[1], e->auc[1], e->auc[1]};
        e->ap_avg = (ig_ovr_averages){e->ap[1], e->ap[1], e->ap[1]};
        return CLI_OK;
    }
    /* the one-vs-rest averages need every class among the labels (the AUC's, at least) */
    if (e->n_curves == k && ig_metric_roc_auc_ovr(labels, probs, n, k, NULL, &e->auc_avg) != IG_OK) return cli_lib_fail(NULL);
    if (ig_metric_average_precision_ovr(labels, probs, n, k, NULL, &e->ap_avg) != IG_OK) return cli_lib_fail(NULL);
    return CLI_OK;
}

static int classification(const float *scores, const int32_t *labels, evaluation *e)
{
    int64_t n = e->n, k = e->classes;
    int32_t *pred = malloc((size_t)n * sizeof *pred);
    float *probs = malloc((size_t)(n * k) * sizeof *probs);
    e->per_class = calloc((size_t)k, sizeof *e->per_class);
    e->confusion = calloc((size_t)(k * k), sizeof *e->confusion);
    e->auc = calloc((size_t)k, sizeof *e->auc);
    e->ap = calloc((size_t)k, sizeof *e->ap);
    e->curve_class = calloc((size_t)k, sizeof *e->curve_class);
    e->roc = calloc((size_t)k, sizeof *e->roc);
    e->pr = calloc((size_t)k, sizeof *e->pr);
    int rc = CLI_OK;
    if (!pred || !probs || !e->per_class || !e->confusion || !e->auc || !e->ap || !e->curve_class || !e->roc || !e->pr)
        rc = cli_fail("out of memory");
    else if (ig_metric_argmax(scores, n, k, pred) != IG_OK || ig_metric_accuracy(labels, pred, n, &e->accuracy) != IG_OK ||
             (k > 5 && ig_metric_top_k_accuracy(labels, scores, n, k, 5, &e->top5) != IG_OK) ||
             ig_metric_confusion_matrix(labels, pred, n, k, e->confusion) != IG_OK ||
             ig_metric_precision_recall_f1(labels, pred, n, k, 0.0, e->per_class, &e->avg) != IG_OK)
        rc = cli_lib_fail(NULL);
    if (rc == CLI_OK) {
        e->loss = cross_entropy(scores, labels, n, k);
        softmax_rows(scores, n, k, probs);
        rc = rankings(labels, probs, e);
    }
    free(pred);
    free(probs);
    return rc;
}

int evaluate(const float *scores, int64_t outputs, const ig_tensor *targets, const ig_dataset *ds,
             const char *const *names, evaluation *e)
{
    memset(e, 0, sizeof *e);
    e->n = ig_dataset_size(ds);
    e->outputs = outputs;
    e->top5 = NAN;
    int32_t classes = ig_dataset_num_classes(ds);
    if (classes == 0) {
        if (ig_tensor_numel(targets) != e->n * outputs)
            return cli_fail("the model outputs %lld values per sample, the data has %lld targets", (long long)outputs,
                            (long long)(ig_tensor_numel(targets) / e->n));
        if (ig_metric_regression(ig_tensor_data_const(targets), scores, e->n, outputs, &e->reg) != IG_OK)
            return cli_lib_fail(NULL);
        e->loss = e->reg.mse;
        return CLI_OK;
    }
    if (classes > outputs)
        return cli_fail("the data has %d classes, the model outputs %lld", (int)classes, (long long)outputs);
    e->classes = outputs;
    e->names = calloc((size_t)outputs, sizeof *e->names);
    if (!e->names) return cli_fail("out of memory");
    for (int32_t c = 0; c < outputs; c++) e->names[c] = ig_dataset_class_name(ds, c) ? ig_dataset_class_name(ds, c) : names ? names[c] : NULL;
    return classification(scores, ig_tensor_data_const(targets), e);
}

int evaluate_model(ig_model *m, ig_dataset *ds, int64_t batch, const char *const *names, evaluation *e)
{
    float *scores;
    int64_t outputs;
    ig_tensor *targets;
    memset(e, 0, sizeof *e);
    CLI_TRY(predict_all(m, ds, batch, &scores, &outputs, &targets));
    int rc = evaluate(scores, outputs, targets, ds, names, e);
    free(scores);
    ig_tensor_release(targets);
    return rc;
}

void evaluation_free(evaluation *e)
{
    for (int i = 0; i < e->n_curves; i++) {
        ig_curve_free(&e->roc[i]);
        ig_curve_free(&e->pr[i]);
    }
    free(e->names);
    free(e->per_class);
    free(e->confusion);
    free(e->auc);
    free(e->ap);
    free(e->curve_class);
    free(e->roc);
    free(e->pr);
    memset(e, 0, sizeof *e);
}

static const char *class_label(const evaluation *e, int64_t c, char *buf, size_t n)
{
    if (e->names && e->names[c]) snprintf(buf, n, "%s", e->names[c]);
    else snprintf(buf, n, "%lld", (long long)c);
    return buf;
}

static void prf_row(FILE *f, const char *label, const ig_prf *p, double auc, double ap)
{
    fprintf(f, "  %-16.16s %9.4f %9.4f %9.4f %9lld", label, p->precision, p->recall, p->f1, (long long)p->support);
    if (!isnan(auc)) fprintf(f, " %9.4f", auc);
    else fprintf(f, " %9s", "-");
    if (!isnan(ap)) fprintf(f, " %9.4f", ap);
    fputc('\n', f);
}

void evaluation_print(FILE *f, const evaluation *e, const char *what)
{
    if (e->classes == 0) {
        fprintf(f, "%s: %lld samples, %lld outputs\n  MSE %.6g  RMSE %.6g  MAE %.6g  R2 %.6g\n", what, (long long)e->n,
                (long long)e->outputs, e->reg.mse, e->reg.rmse, e->reg.mae, e->reg.r2);
        return;
    }
    fprintf(f, "%s: %lld samples, %lld classes\n  loss %.4f  accuracy %.4f", what, (long long)e->n, (long long)e->classes,
            e->loss, e->accuracy);
    if (!isnan(e->top5)) fprintf(f, "  top-5 accuracy %.4f", e->top5);
    fprintf(f, "\n  %s ROC AUC %.4f  average precision %.4f\n\n", e->classes == 2 ? "binary" : "one-vs-rest macro",
            e->auc_avg.macro, e->ap_avg.macro);
    fprintf(f, "  %-16s %9s %9s %9s %9s %9s %9s\n", "class", "precision", "recall", "f1", "support", "ROC AUC", "AP");
    char name[64];
    for (int64_t c = 0; c < e->classes; c++) prf_row(f, class_label(e, c, name, sizeof name), &e->per_class[c], e->auc[c], e->ap[c]);
    prf_row(f, "macro avg", &e->avg.macro, e->auc_avg.macro, e->ap_avg.macro);
    prf_row(f, "micro avg", &e->avg.micro, e->auc_avg.micro, e->ap_avg.micro);
    prf_row(f, "weighted avg", &e->avg.weighted, e->auc_avg.weighted, e->ap_avg.weighted);
    fprintf(f, "\n  confusion matrix (rows: true class, columns: predicted class)\n  %10s", "");
    for (int64_t c = 0; c < e->classes; c++) fprintf(f, " %6.6s", class_label(e, c, name, sizeof name));
    fputc('\n', f);
    for (int64_t t = 0; t < e->classes; t++) {
        fprintf(f, "  %10.10s", class_label(e, t, name, sizeof name));
        for (int64_t p = 0; p < e->classes; p++) fprintf(f, " %6lld", (long long)e->confusion[t * e->classes + p]);
        fputc('\n', f);
    }
}

/* NaN has no JSON spelling: null. */
static void add_num(cJSON *o, const char *key, double v)
{
    if (isnan(v) || isinf(v)) cJSON_AddNullToObject(o, key);
    else cJSON_AddNumberToObject(o, key, v);
}

static cJSON *prf_json(const ig_prf *p)
{
    cJSON *o = cJSON_CreateObject();
    add_num(o, "precision", p->precision);
    add_num(o, "recall", p->recall);
    add_num(o, "f1", p->f1);
    cJSON_AddNumberToObject(o, "support", (double)p->support);
    return o;
}

cJSON *evaluation_json(const evaluation *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "samples", (double)e->n);
    if (e->classes == 0) {
        add_num(o, "mse", e->reg.mse);
        add_num(o, "rmse", e->reg.rmse);
        add_num(o, "mae", e->reg.mae);
        add_num(o, "r2", e->reg.r2);
        return o;
    }
    cJSON_AddNumberToObject(o, "classes", (double)e->classes);
    add_num(o, "loss", e->loss);
    add_num(o, "accuracy", e->accuracy);
    add_num(o, "top5_accuracy", e->top5);
    add_num(o, "roc_auc_macro", e->auc_avg.macro);
    add_num(o, "average_precision_macro", e->ap_avg.macro);
    cJSON_AddItemToObject(o, "macro", prf_json(&e->avg.macro));
    cJSON_AddItemToObject(o, "micro", prf_json(&e->avg.micro));
    cJSON_AddItemToObject(o, "weighted", prf_json(&e->avg.weighted));
    cJSON *pc = cJSON_AddArrayToObject(o, "per_class");
    char name[64];
    for (int64_t c = 0; c < e->classes; c++) {
        cJSON *r = prf_json(&e->per_class[c]);
        cJSON_AddStringToObject(r, "class", class_label(e, c, name, sizeof name));
        add_num(r, "roc_auc", e->auc[c]);
        add_num(r, "average_precision", e->ap[c]);
        cJSON_AddItemToArray(pc, r);
    }
    cJSON *cm = cJSON_AddArrayToObject(o, "confusion_matrix");
    for (int64_t t = 0; t < e->classes; t++) {
        cJSON *row = cJSON_CreateArray();
        for (int64_t p = 0; p < e->classes; p++) cJSON_AddItemToArray(row, cJSON_CreateNumber((double)e->confusion[t * e->classes + p]));
        cJSON_AddItemToArray(cm, row);
    }
    return o;
}
