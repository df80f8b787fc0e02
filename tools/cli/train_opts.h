/* train_opts.h — the options of `ingot train` that make the trainer's configuration: optimizer,
 * learning rate and schedule (given in epochs, converted to the steps the library counts),
 * loss, batch size, epochs. */
#ifndef INGOT_CLI_TRAIN_OPTS_H
#define INGOT_CLI_TRAIN_OPTS_H

#include "cli.h"

typedef struct train_opts {
    int64_t epochs, batch;
    int optimizer;         /* index into the optimizer names */
    double lr, momentum, weight_decay; /* NaN: the optimizer's default */
    int schedule;
    double lr_step, lr_gamma, min_lr, warmup;
    const char *milestones;
    int loss;
    double label_smoothing, clip_norm;
} train_opts;

extern train_opts cli_train;
extern const cli_group cli_train_group;

enum { LOSS_AUTO, LOSS_CE, LOSS_MSE, LOSS_MAE, LOSS_HUBER };

/* The trainer configuration for the options, with schedules sized for `steps_per_epoch`;
 * `regression`: the data has float targets (for --loss auto). Prints what is wrong. */
int train_opts_config(int64_t steps_per_epoch, bool regression, ig_trainer_config *cfg);
/* "adam", "cosine", "cross-entropy": the names of the chosen values. */
const char *train_opts_optimizer(void);
const char *train_opts_schedule(void);
const char *train_opts_loss(const ig_trainer_config *cfg);

#endif /* INGOT_CLI_TRAIN_OPTS_H */
