/* evaluation.h — a model's predictions over a dataset and every metric of them, through the
 * library's ig_metric_* functions: what `ingot eval` prints and the reports draw. */
#ifndef INGOT_CLI_EVALUATION_H
#define INGOT_CLI_EVALUATION_H

#include "cli.h"

#include <stdio.h>

typedef struct evaluation {
    int64_t n;
    int64_t classes;           /* 0 for a dataset of float targets */
    int64_t outputs;           /* the model's outputs per sample */
    const char **names;        /* classes names (borrowed strings) */
    double loss;               /* cross-entropy of the softmax (classes), else MSE */
    double accuracy, top5;     /* top5 NaN with 5 classes or fewer */
    ig_prf *per_class;
    ig_prf_averages avg;
    int64_t *confusion;        /* classes × classes, rows the true class */
    /* one-vs-rest (binary: class 1 against 0) ranking metrics of the softmax probabilities;
     * NaN where undefined (a class without samples) */
    double *auc, *ap;
    ig_ovr_averages auc_avg, ap_avg;
    int n_curves;
    int32_t *curve_class;      /* the class of each curve */
    ig_curve *roc, *pr;
    ig_regression_metrics reg;
} evaluation;

/* The model's output for every sample of ds, in order, batch by batch: scores [n, outputs]
 * (malloc'd) and the targets, as ig_dataset_tensors gives them (release it). */
int predict_all(ig_model *m, ig_dataset *ds, int64_t batch, float **scores, int64_t *outputs, ig_tensor **targets);

/* Every metric of `scores` against ds's targets. `names` (may be NULL) names the classes where
 * ds does not. */
int evaluate(const float *scores, int64_t outputs, const ig_tensor *targets, const ig_dataset *ds,
             const char *const *names, evaluation *e);
int evaluate_model(ig_model *m, ig_dataset *ds, int64_t batch, const char *const *names, evaluation *e);
void evaluation_free(evaluation *e);

/* The metrics as text: a headline, the per-class table and the confusion matrix. */
void evaluation_print(FILE *f, const evaluation *e, const char *what);
/* The same as a JSON object (cJSON), for --json and the reports' run.json. */
struct cJSON *evaluation_json(const evaluation *e);

/* Row-wise softmax of logits into probs (both [n, k]). */
void softmax_rows(const float *logits, int64_t n, int64_t k, float *probs);

#endif /* INGOT_CLI_EVALUATION_H */
