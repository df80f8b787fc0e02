/* progress.h — what training shows while it runs: on a terminal a bar per epoch redrawn in
 * place, and a summary line per epoch; elsewhere (a file, a pipe) the summary lines only. */
#ifndef INGOT_CLI_PROGRESS_H
#define INGOT_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum { PROGRESS_AUTO, PROGRESS_BAR, PROGRESS_PLAIN, PROGRESS_OFF };
extern const char *const progress_modes[]; /* auto, bar, plain, off */

typedef struct progress {
    FILE *f;
    bool bar, off;
    int epoch, epochs;
    int64_t steps;      /* of the epoch */
    double t0;          /* the epoch's start */
    double shown_acc;   /* the accuracy the bar shows (NaN: none yet) */
    const char *acc_label;
} progress;

/* mode: PROGRESS_*; AUTO is a bar when f is a terminal. */
void progress_init(progress *p, FILE *f, int mode);
/* The bar's accuracy column: the last measured validation accuracy (the step program
 * measures no training accuracy; see docs/cli.md). */
void progress_set_accuracy(progress *p, const char *label, double acc);
void progress_epoch_start(progress *p, int epoch, int epochs, int64_t steps);
/* done steps of the epoch's total, `samples` trained so far, the epoch's mean loss so far. */
void progress_update(progress *p, int64_t done, int64_t samples, double loss);
/* Replaces the bar by the epoch's summary line (printed in every mode but off). */
void progress_epoch_end(progress *p, const char *line);

#endif /* INGOT_CLI_PROGRESS_H */
