/* history.h — what a training run measured: every step's loss and learning rate, and per epoch
 * the losses and accuracies on the training and validation data. The report and the
 * TensorBoard files are drawn from it. */
#ifndef INGOT_CLI_HISTORY_H
#define INGOT_CLI_HISTORY_H

#include <stdint.h>

typedef struct epoch_record {
    int epoch;
    int64_t end_step;          /* the steps taken when it ended */
    double seconds, samples_per_s;
    double train_loss;         /* the mean of its steps' losses */
    double train_eval_loss, train_acc; /* on (a subset of) the training data in evaluation mode; NaN: not measured */
    double val_loss, val_acc;  /* NaN: no validation data */
    double lr;                 /* the rate of its last step */
} epoch_record;

typedef struct history {
    int64_t first_step;        /* the step of loss[0] (not 0 after a resume) */
    float *loss, *lr;
    int64_t n, cap;
    epoch_record *epochs;
    int n_epochs, cap_epochs;
    const char *val_name;      /* "validation" or "test": what the validation figures are of */
    const char *train_eval_name; /* what train_acc is measured on */
} history;

/* Appends steps; returns 0, or -1 when out of memory. */
int history_add_steps(history *h, const float *loss, const float *lr, int64_t n);
int history_add_epoch(history *h, const epoch_record *r);
void history_free(history *h);

#endif /* INGOT_CLI_HISTORY_H */
