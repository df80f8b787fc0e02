/* train_opts.c — from `ingot train`'s options to an ig_trainer_config. */
#include "train_opts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const optimizers[] = {"sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "nadam", "lbfgs", NULL};
static const ig_optimizer optimizer_ids[] = {IG_OPT_SGD,     IG_OPT_ADAM,     IG_OPT_ADAMW, IG_OPT_RMSPROP,
                                             IG_OPT_ADAGRAD, IG_OPT_ADADELTA, IG_OPT_NADAM, IG_OPT_LBFGS};
static const char *const schedules[] = {"constant", "step", "multistep", "exponential", "cosine", "onecycle", NULL};
static const ig_schedule schedule_ids[] = {IG_SCHEDULE_CONSTANT,    IG_SCHEDULE_STEP,   IG_SCHEDULE_MULTISTEP,
                                           IG_SCHEDULE_EXPONENTIAL, IG_SCHEDULE_COSINE, IG_SCHEDULE_ONE_CYCLE};
static const char *const losses[] = {"auto", "cross-entropy", "mse", "mae", "huber", NULL};

train_opts cli_train = {.epochs = 10, .batch = 128, .optimizer = 1, .lr = NAN, .momentum = NAN, .weight_decay = NAN,
                        .lr_step = NAN, .lr_gamma = NAN};

static const cli_opt table[] = {
    {"epochs", CLI_INT, &cli_train.epochs, "N", "epochs to train (in all, counting those a resumed run had done)", NULL, 1, 1e6},
    {"batch-size", CLI_INT, &cli_train.batch, "N", "samples per step", NULL, 1, 1 << 24},
    {"optimizer", CLI_CHOICE, &cli_train.optimizer, "NAME", "the optimizer, with PyTorch's semantics and defaults", optimizers},
    {"lr", CLI_REAL, &cli_train.lr, "RATE", "the learning rate", NULL, 1e-12, 1e6, "the optimizer's: 1e-3 for adam"},
    {"momentum", CLI_REAL, &cli_train.momentum, "M", "sgd, rmsprop: momentum", NULL, 0, 0.999999, "0"},
    {"weight-decay", CLI_REAL, &cli_train.weight_decay, "WD", "weight decay (decoupled for adamw)", NULL, 0, 1e6,
     "the optimizer's: 0, 1e-2 for adamw"},
    {"schedule", CLI_CHOICE, &cli_train.schedule, "NAME", "the learning-rate schedule over the run", schedules},
    {"lr-step", CLI_REAL, &cli_train.lr_step, "EPOCHS", "step: epochs between decays", NULL, 1e-6, 1e9, "a third of --epochs"},
    {"lr-gamma", CLI_REAL, &cli_train.lr_gamma, "G", "step, multistep: the decay factor; exponential: the factor per epoch", NULL,
     1e-9, 1, "0.1; exponential 0.9"},
    {"lr-milestones", CLI_STRING, &cli_train.milestones, "E1,E2,..", "multistep: the epochs after which the rate decays", NULL, 0,
     0, "half and three quarters of --epochs"},
    {"min-lr", CLI_REAL, &cli_train.min_lr, "RATE", "cosine: the rate it anneals to", NULL, 0, 1e6},
    {"warmup", CLI_REAL, &cli_train.warmup, "EPOCHS", "a linear warm-up over the first EPOCHS (fractions allowed)", NULL, 0, 1e6},
    {"loss", CLI_CHOICE, &cli_train.loss, "NAME", "the loss; auto: cross-entropy for class labels, mse for float targets", losses},
    {"label-smoothing", CLI_REAL, &cli_train.label_smoothing, "EPS", "cross-entropy's label smoothing", NULL, 0, 0.999},
    {"clip-norm", CLI_REAL, &cli_train.clip_norm, "NORM", "clip gradients to this global norm (0: off)", NULL, 0, 1e9},
};
const cli_group cli_train_group = CLI_GROUP("training", table);

const char *train_opts_optimizer(void) { return optimizers[cli_train.optimizer]; }
const char *train_opts_schedule(void) { return schedules[cli_train.schedule]; }

const char *train_opts_loss(const ig_trainer_config *cfg)
{
    switch (cfg->loss) {
    case IG_LOSS_MSE: return "mse";
    case IG_LOSS_MAE: return "mae";
    case IG_LOSS_HUBER: return "huber";
    default: return "cross-entropy";
    }
}

static int64_t epochs_to_steps(double epochs, int64_t spe)
{
    double s = llround(epochs * (double)spe);
    return s < 1 ? 1 : (int64_t)s;
}

static int schedule(int64_t spe, ig_lr_schedule *s)
{
    const train_opts *o = &cli_train;
    int64_t total = o->epochs * spe;
    s->kind = schedule_ids[o->schedule];
    double gamma = isnan(o->lr_gamma) ? (s->kind == IG_SCHEDULE_EXPONENTIAL ? 0.9 : 0.1) : o->lr_gamma;
    switch (s->kind) {
    case IG_SCHEDULE_STEP:
        s->step_size = epochs_to_steps(isnan(o->lr_step) ? fmax(1.0, floor((double)o->epochs / 3)) : o->lr_step, spe);
        s->gamma = (float)gamma;
        break;
    case IG_SCHEDULE_MULTISTEP: {
        double e[IG_MAX_MILESTONES] = {floor(o->epochs * 0.5), floor(o->epochs * 0.75)};
        int n = 2;
        if (o->milestones) {
            const char *p = o->milestones;
            bool ok = true;
            for (n = 0; ok && *p;) {
                char *end;
                double v = strtod(p, &end);
                ok = end != p && (*end == ',' || !*end) && n < IG_MAX_MILESTONES && v >= 0;
                if (ok) e[n++] = v;
                p = *end == ',' ? end + 1 : end;
            }
            if (!ok || n == 0)
                return cli_usage("--lr-milestones: \"%s\" is not valid; valid: up to %d increasing epochs, e.g. 5,8",
                                 o->milestones, IG_MAX_MILESTONES);
        }
        s->n_milestones = n;
        for (int i = 0; i < n; i++) s->milestones[i] = epochs_to_steps(e[i], spe);
        s->gamma = (float)gamma;
        break;
    }
    case IG_SCHEDULE_EXPONENTIAL: s->gamma = (float)pow(gamma, 1.0 / (double)spe); break;
    case IG_SCHEDULE_COSINE:
        s->total_steps = total < 2 ? 2 : total;
        s->min_lr = (float)o->min_lr;
        break;
    case IG_SCHEDULE_ONE_CYCLE: s->total_steps = total < 2 ? 2 : total; break;
    default: break;
    }
    if (o->warmup > 0) s->warmup_steps = epochs_to_steps(o->warmup, spe);
    return CLI_OK;
}

int train_opts_config(int64_t spe, bool regression, ig_trainer_config *cfg)
{
    const train_opts *o = &cli_train;
    *cfg = ig_trainer_defaults_for(optimizer_ids[o->optimizer]);
    if (!isnan(o->lr)) cfg->learning_rate = (float)o->lr;
    if (!isnan(o->momentum)) cfg->momentum = (float)o->momentum;
    if (!isnan(o->weight_decay)) cfg->weight_decay = (float)o->weight_decay;
    int loss = o->loss == LOSS_AUTO ? (regression ? LOSS_MSE : LOSS_CE) : o->loss;
    if (loss == LOSS_CE && regression)
        return cli_usage("--loss cross-entropy: the data has float targets (--regression); valid: mse, mae, huber");
    if (loss != LOSS_CE && !regression)
        return cli_usage("--loss %s: the data has class labels; valid: cross-entropy (or read a CSV with --regression)",
                         losses[loss]);
    cfg->loss = loss == LOSS_CE ? IG_LOSS_SPARSE_CROSS_ENTROPY : loss == LOSS_MSE ? IG_LOSS_MSE : loss == LOSS_MAE ? IG_LOSS_MAE : IG_LOSS_HUBER;
    cfg->label_smoothing = (float)o->label_smoothing;
    cfg->max_grad_norm = (float)o->clip_norm;
    return schedule(spe, &cfg->schedule);
}
