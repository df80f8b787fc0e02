/* cmd_train.c — `ingot train`: builds a model, trains it epoch by epoch with progress, evaluates
 * it, and writes what was asked for (weights, checkpoints, a report, TensorBoard scalars).
 *
 * Progress within an epoch comes from ig_epoch_config's callback, called after each queued
 * step: it reads the losses from the trainer's device-side ring (a synchronisation) only every
 * 0.2 s or tenth of the epoch on a terminal, and otherwise only when half the ring is unread,
 * so steps are never waited for one by one. */
#include "cli.h"
#include "data.h"
#include "evaluation.h"
#include "history.h"
#include "model.h"
#include "progress.h"
#include "report.h"
#include "train_opts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const precisions[] = {"fp32", "bf16", "fp16", NULL};
/* Samples per evaluation batch: each of the three evaluation programs (validation, training
 * subset, test predictions) plans an arena for it, so not more than it takes to be fast. */
enum { EVAL_BATCH = 500 };

static struct {
    int64_t seed;
    double val_split;
    int precision, device, progress;
    const char *save, *checkpoint_dir, *resume, *report, *tensorboard;
} A = {.seed = 1};

static const cli_opt run_table[] = {
    {"val-split", CLI_REAL, &A.val_split, "FRACTION",
     "hold out this fraction of the training data (stratified) for validation after each epoch; 0: validate on the test "
     "set, if there is one", NULL, 0, 0.9},
    {"seed", CLI_INT, &A.seed, "N", "seeds the initial weights, the shuffling, the split and --limit", NULL, 0, 9.2e18},
    {"precision", CLI_CHOICE, &A.precision, "P", "the arithmetic (fp32 only in this build)", precisions},
    CLI_DEVICE_OPT(&A.device),
};
static const cli_opt output_table[] = {
    {"save", CLI_STRING, &A.save, "DIR", "write the trained model there: model.json and weights.safetensors"},
    {"checkpoint-dir", CLI_STRING, &A.checkpoint_dir, "DIR",
     "checkpoint after every epoch (the newest 3 and the best by validation loss are kept), with model.json"},
    {"resume", CLI_STRING, &A.resume, "PATH",
     "continue from a checkpoint or a checkpoint folder's newest (give the options of the first run again)"},
    {"report", CLI_STRING, &A.report, "DIR", "write report.html (curves, confusion matrix, ROC/PR, model) and run.json"},
    {"tensorboard", CLI_STRING, &A.tensorboard, "DIR", "write TensorBoard event files (scalars)"},
    {"progress", CLI_CHOICE, &A.progress, "MODE", "auto: a live bar on a terminal, one line per epoch otherwise", progress_modes},
};
static const cli_group run_group = CLI_GROUP("run", run_table), output_group = CLI_GROUP("output", output_table);
static const cli_group *const groups[] = {&cli_model_group, &cli_data_group, &cli_train_group, &run_group, &output_group};

static int run(void);
const cli_command cmd_train = {
    "train", "train a model (default: the cnn preset on Fashion-MNIST)",
    "Trains a model on a dataset, showing each epoch's progress, evaluates it on the test set and writes\n"
    "what --save, --checkpoint-dir, --report and --tensorboard ask for. With no options: the cnn preset on\n"
    "Fashion-MNIST (" CLI_DEFAULT_DATA "), Adam 1e-3, batch 128, 10 epochs, inputs normalised\n"
    "by the training set's mean and standard deviation.",
    groups, sizeof groups / sizeof groups[0], run};

/* Everything a run holds, released in one place. */
typedef struct run_state {
    ig_ctx *ctx;
    ig_dataset *train, *val, *test, *probe;
    ig_loader *loader; /* batches of train where the library's epochs do not apply */
    ig_model *m;
    ig_trainer *t;
    ig_event_writer *tb;
    ig_checkpointer *ckpt;
    model_desc desc;
    history h;
    progress pg;
    evaluation ev;
    report_config cfg_rows;
    ig_trainer_config cfg;
    norm_spec norm;
    int64_t input[IG_MAX_DIMS], classes, spe;
    int ndim;
    bool regression, resident_train, resident_eval;
    /* the progress callback's state */
    int64_t read_upto, epoch_first, done_samples;
    double loss_sum, last_read;
    int64_t loss_n;
    int status;
} run_state;

static void release(run_state *s)
{
    evaluation_free(&s->ev);
    history_free(&s->h);
    report_config_free(&s->cfg_rows);
    ig_checkpointer_destroy(s->ckpt);
    ig_event_writer_destroy(s->tb);
    ig_loader_destroy(s->loader);
    ig_trainer_destroy(s->t);
    ig_model_destroy(s->m);
    model_close(&s->desc);
    ig_dataset_destroy(s->probe);
    ig_dataset_destroy(s->test);
    ig_dataset_destroy(s->val);
    ig_dataset_destroy(s->train);
    ig_ctx_destroy(s->ctx);
}

static int tb_scalar(run_state *s, const char *tag, int64_t step, double v)
{
    if (!s->tb || isnan(v)) return CLI_OK;
    return ig_event_writer_add_scalar(s->tb, tag, step, (float)v) == IG_OK ? CLI_OK : cli_lib_fail("--tensorboard");
}

/* Reads the losses of the steps before `upto` from the trainer's ring into the history. */
static int read_losses(run_state *s, int64_t upto)
{
    float loss[IG_LOSS_HISTORY], lr[IG_LOSS_HISTORY];
    while (s->read_upto < upto) {
        int64_t first = s->read_upto, n = upto - first < IG_LOSS_HISTORY ? upto - first : IG_LOSS_HISTORY;
        if (ig_trainer_losses(s->t, first, n, loss) != IG_OK) return cli_lib_fail(NULL);
        for (int64_t i = 0; i < n; i++) {
            lr[i] = ig_trainer_learning_rate_at(s->t, first + i);
            s->loss_sum += loss[i];
            CLI_TRY(tb_scalar(s, "loss/train_step", first + i + 1, loss[i]));
            CLI_TRY(tb_scalar(s, "learning_rate", first + i + 1, lr[i]));
        }
        s->loss_n += n;
        if (history_add_steps(&s->h, loss, lr, n) != 0) return cli_fail("out of memory");
        s->read_upto += n;
    }
    return CLI_OK;
}

static void on_progress(void *user, int64_t done, int64_t total)
{
    run_state *s = user;
    if (s->status != CLI_OK) return;
    int64_t step = s->epoch_first + done;
    double now = cli_now();
    /* on a terminal every 0.2 s, and at least ten times an epoch; half the ring unread at most */
    int64_t unread = step - s->read_upto;
    bool due = done == total || unread >= IG_LOSS_HISTORY / 2 ||
               (s->pg.bar && (now - s->last_read >= 0.2 || unread * 10 >= total));
    if (!due) return;
    s->status = read_losses(s, step);
    s->last_read = cli_now();
    int64_t n = ig_dataset_size(s->train), samples = done * cli_train.batch < n ? done * cli_train.batch : n;
    if (s->loss_n) progress_update(&s->pg, done, samples, s->loss_sum / (double)s->loss_n);
}

/* One epoch: on the device over the resident dataset, or batch by batch from a loader where
 * the library's epochs do not apply (float targets, L-BFGS). */
static int train_epoch(run_state *s)
{
    s->epoch_first = s->read_upto = ig_trainer_step_count(s->t);
    s->loss_sum = 0;
    s->loss_n = 0;
    s->last_read = cli_now();
    if (s->resident_train) {
        ig_epoch_config ep = ig_epoch_defaults();
        ep.batch_size = cli_train.batch;
        ep.seed = (uint64_t)A.seed;
        ep.progress = on_progress;
        ep.progress_user = s;
        if (ig_train_epoch(s->t, s->train, &ep, NULL) != IG_OK) return cli_lib_fail(NULL);
        return s->status;
    }
    if (!s->loader) {
        /* made once: it reshuffles each epoch, and its thread prepares batches ahead of the steps */
        ig_loader_options o = ig_loader_defaults();
        o.batch_size = cli_train.batch;
        o.seed = (uint64_t)A.seed;
        if (ig_loader_create_with(s->train, &o, &s->loader) != IG_OK) return cli_lib_fail(NULL);
    }
    int64_t total = ig_loader_num_batches(s->loader), done = 0;
    for (;;) {
        ig_tensor *x, *y;
        if (ig_loader_next(s->loader, &x, &y) != IG_OK || (x && ig_train_batch(s->t, x, y, NULL) != IG_OK))
            return cli_lib_fail(NULL);
        if (!x) break;
        on_progress(s, ++done, total);
    }
    return s->status;
}

/* Loss and accuracy (NaN for regression) of the trainer's model over ds. */
static int measure(run_state *s, ig_dataset *ds, double *loss, double *acc)
{
    *loss = *acc = NAN;
    if (!ds) return CLI_OK;
    ig_eval_result r;
    if (s->resident_eval) {
        if (ig_evaluate(s->t, ds, EVAL_BATCH, &r) != IG_OK) return cli_lib_fail(NULL);
        *loss = r.loss;
        *acc = (double)r.correct / (double)r.count;
        return CLI_OK;
    }
    ig_loader *ld;
    if (ig_loader_create(ds, EVAL_BATCH, false, 0, false, &ld) != IG_OK) return cli_lib_fail(NULL);
    double sum = 0, correct = 0, count = 0;
    for (;;) {
        ig_tensor *x, *y;
        if (ig_loader_next(ld, &x, &y) != IG_OK || (x && ig_eval_batch(s->t, x, y, &r) != IG_OK)) {
            ig_loader_destroy(ld);
            return cli_lib_fail(NULL);
        }
        if (!x) break;
        sum += (double)r.loss * (double)r.count;
        correct += (double)r.correct;
        count += (double)r.count;
    }
    ig_loader_destroy(ld);
    *loss = sum / count;
    if (!s->regression) *acc = correct / count;
    return CLI_OK;
}

static int load_data(run_state *s)
{
    uint64_t seed = (uint64_t)A.seed;
    CLI_TRY(data_load(s->ctx, false, seed, &s->train));
    CLI_TRY(data_load(s->ctx, true, seed, &s->test));
    s->regression = ig_dataset_num_classes(s->train) == 0;
    if (A.val_split > 0) {
        ig_dataset *rest;
        if (ig_dataset_split(s->train, A.val_split, seed, !s->regression, &rest, &s->val) != IG_OK) return cli_lib_fail("--val-split");
        ig_dataset_destroy(s->train);
        s->train = rest;
    }
    /* normalisation: --normalize, else what the model was trained with, else the training data's */
    if (cli_data.normalize) CLI_TRY(data_parse_normalize(cli_data.normalize, &s->norm));
    else if (!model_norm(&s->desc, &s->norm)) s->norm = (norm_spec){.on = true, .automatic = true};
    if (s->norm.automatic) CLI_TRY(data_stats(s->train, &s->norm.mean, &s->norm.std));
    ig_dataset *parts[] = {s->train, s->val, s->test};
    for (int i = 0; i < 3 && s->norm.on; i++)
        if (parts[i] && ig_dataset_normalize(parts[i], (float)s->norm.mean, (float)s->norm.std) != IG_OK) return cli_lib_fail("--normalize");
    /* train accuracy from a stratified subset: an epoch's worth would cost a third of training */
    enum { PROBE = 5000 };
    if (ig_dataset_size(s->train) <= PROBE) return CLI_OK;
    ig_dataset *rest;
    if (ig_dataset_split(s->train, ((double)PROBE - 0.5) / (double)ig_dataset_size(s->train), seed + 1, !s->regression,
                         &rest, &s->probe) != IG_OK)
        return cli_lib_fail(NULL);
    ig_dataset_destroy(rest);
    return CLI_OK;
}

static int build(run_state *s)
{
    CLI_TRY(model_shape(&s->desc, s->train, s->input, &s->ndim, &s->classes));
    CLI_TRY(model_build(&s->desc, s->ctx, s->input, s->ndim, s->classes, cli_train.batch, (uint64_t)A.seed, &s->m));
    bool loaded; /* a saved folder's weights: fine-tuning */
    if (!A.resume) CLI_TRY(model_load_weights(&s->desc, s->m, NULL, NULL, &loaded));
    int64_t n = ig_dataset_size(s->train);
    s->spe = (n + cli_train.batch - 1) / cli_train.batch;
    CLI_TRY(train_opts_config(s->spe, s->regression, &s->cfg));
    s->resident_eval = !s->regression && s->cfg.loss == IG_LOSS_SPARSE_CROSS_ENTROPY;
    s->resident_train = s->resident_eval && s->cfg.optimizer != IG_OPT_LBFGS;
    if (ig_trainer_create(s->m, &s->cfg, &s->t) != IG_OK) return cli_lib_fail(NULL);
    return CLI_OK;
}

/* --checkpoint-dir, --resume, --tensorboard: what is opened before the first epoch. */
static int open_outputs(run_state *s)
{
    if (A.checkpoint_dir) {
        CLI_TRY(model_save_desc(&s->desc, A.checkpoint_dir, s->input, s->ndim, s->classes, &s->norm, s->train));
        ig_checkpointer_config c = ig_checkpointer_defaults();
        if (ig_checkpointer_create(A.checkpoint_dir, &c, &s->ckpt) != IG_OK) return cli_lib_fail("--checkpoint-dir");
    }
    if (A.resume && ig_checkpoint_load(s->t, A.resume, NULL) != IG_OK) return cli_lib_fail("--resume");
    if (A.tensorboard) {
        CLI_TRY(cli_make_dirs(A.tensorboard));
        if (ig_event_writer_create(A.tensorboard, &s->tb) != IG_OK) return cli_lib_fail("--tensorboard");
    }
    return CLI_OK;
}

static void describe(run_state *s)
{
    report_config *c = &s->cfg_rows;
    char kind[512];
    const char *const data_kinds[] = {"auto", "idx", "csv", "image folder"};
    report_config_add(c, "device", "%s", ig_device_name(ig_ctx_device(s->ctx)));
    report_config_add(c, "data", "%s (%s)", cli_data.path, data_kinds[data_resolved_kind()]);
    report_config_add(c, "training samples", "%lld", (long long)ig_dataset_size(s->train));
    if (s->val) report_config_add(c, "validation samples", "%lld (--val-split %g)", (long long)ig_dataset_size(s->val), A.val_split);
    if (s->test) report_config_add(c, "test samples", "%lld", (long long)ig_dataset_size(s->test));
    if (s->norm.on) report_config_add(c, "normalisation", "mean %.4f, std %.4f%s", s->norm.mean, s->norm.std, s->norm.automatic ? " (the training data's)" : "");
    else report_config_add(c, "normalisation", "none");
    report_config_add(c, "model", "%s", model_kind(&s->desc, kind, sizeof kind));
    report_config_add(c, "parameters", "%lld", (long long)ig_model_num_params(s->m));
    report_config_add(c, "optimizer", "%s, learning rate %g, momentum %g, weight decay %g", train_opts_optimizer(),
                      s->cfg.learning_rate, s->cfg.momentum, s->cfg.weight_decay);
    report_config_add(c, "schedule", "%s%s", train_opts_schedule(), cli_train.warmup > 0 ? ", with warm-up" : "");
    report_config_add(c, "loss", "%s", train_opts_loss(&s->cfg));
    report_config_add(c, "epochs", "%lld of %lld steps, batch %lld", (long long)cli_train.epochs, (long long)s->spe,
                      (long long)cli_train.batch);
    report_config_add(c, "seed", "%lld", (long long)A.seed);
    report_config_add(c, "precision", "%s", precisions[A.precision]);
    printf("%s on %s: %lld training samples, ", model_kind(&s->desc, kind, sizeof kind), cli_data.path,
           (long long)ig_dataset_size(s->train));
    if (s->regression) printf("%lld float targets\n", (long long)ig_dataset_target_dim(s->train));
    else printf("%d classes\n", (int)ig_dataset_num_classes(s->train));
    printf("%s, %lld parameters, %s lr %g, batch %lld, %lld epochs", ig_device_name(ig_ctx_device(s->ctx)),
           (long long)ig_model_num_params(s->m), train_opts_optimizer(), s->cfg.learning_rate, (long long)cli_train.batch,
           (long long)cli_train.epochs);
    if (s->norm.on) printf(", normalised by mean %.4f std %.4f", s->norm.mean, s->norm.std);
    printf("\n");
    fflush(stdout);
}

static int end_epoch(run_state *s, int epoch, double seconds)
{
    epoch_record r = {.epoch = epoch, .end_step = ig_trainer_step_count(s->t), .seconds = seconds};
    int64_t steps = r.end_step - s->epoch_first;
    r.samples_per_s = (double)(steps < s->spe ? steps * cli_train.batch : ig_dataset_size(s->train)) / seconds;
    r.train_loss = s->loss_n ? s->loss_sum / (double)s->loss_n : NAN;
    r.lr = ig_trainer_learning_rate_at(s->t, r.end_step - 1);
    CLI_TRY(measure(s, s->probe ? s->probe : s->train, &r.train_eval_loss, &r.train_acc));
    CLI_TRY(measure(s, s->val ? s->val : s->test, &r.val_loss, &r.val_acc));
    if (history_add_epoch(&s->h, &r) != 0) return cli_fail("out of memory");
    const char *vn = s->h.val_name;
    char line[512], tag[64];
    int len = snprintf(line, sizeof line, "epoch %*d/%lld  %5.1f s  %6.0f samples/s  loss %.4f", epoch < 10 ? 2 : 1, epoch,
                       (long long)cli_train.epochs, seconds, r.samples_per_s, r.train_loss);
    if (!isnan(r.train_acc)) len += snprintf(line + len, sizeof line - (size_t)len, "  train acc %.4f", r.train_acc);
    if (!isnan(r.val_loss)) len += snprintf(line + len, sizeof line - (size_t)len, "  %s loss %.4f", vn, r.val_loss);
    if (!isnan(r.val_acc)) len += snprintf(line + len, sizeof line - (size_t)len, "  %s acc %.4f", vn, r.val_acc);
    progress_epoch_end(&s->pg, line);
    progress_set_accuracy(&s->pg, vn[0] == 't' ? "test acc" : "val acc", r.val_acc);
    CLI_TRY(tb_scalar(s, "loss/train", r.end_step, r.train_loss));
    CLI_TRY(tb_scalar(s, "loss/train_eval", r.end_step, r.train_eval_loss));
    CLI_TRY(tb_scalar(s, "accuracy/train", r.end_step, r.train_acc));
    snprintf(tag, sizeof tag, "loss/%s", vn);
    CLI_TRY(tb_scalar(s, tag, r.end_step, r.val_loss));
    snprintf(tag, sizeof tag, "accuracy/%s", vn);
    CLI_TRY(tb_scalar(s, tag, r.end_step, r.val_acc));
    CLI_TRY(tb_scalar(s, "epoch", r.end_step, epoch));
    if (s->tb && ig_event_writer_flush(s->tb) != IG_OK) return cli_lib_fail("--tensorboard");
    /* the checkpoint kept as best is the one of the lowest validation loss (training loss without one) */
    if (s->ckpt && ig_checkpointer_save(s->ckpt, s->t, (float)(isnan(r.val_loss) ? r.train_loss : r.val_loss), NULL, NULL) != IG_OK)
        return cli_lib_fail("--checkpoint-dir");
    return CLI_OK;
}

/* The trained model on the test set (else the validation set), with every metric. */
static int final_evaluation(run_state *s, const char **what)
{
    ig_dataset *ds = s->test ? s->test : s->val;
    *what = s->test ? "the test set" : "the validation set";
    if (!ds) return CLI_OK;
    CLI_TRY(evaluate_model(s->m, ds, EVAL_BATCH, NULL, &s->ev));
    const evaluation *e = &s->ev;
    int64_t step = ig_trainer_step_count(s->t);
    if (e->classes) {
        printf("%s: accuracy %.4f", s->test ? "test" : "validation", e->accuracy);
        if (!isnan(e->top5)) printf("  top-5 %.4f", e->top5);
        printf("  macro F1 %.4f  loss %.4f  (%lld samples)\n", e->avg.macro.f1, e->loss, (long long)e->n);
        CLI_TRY(tb_scalar(s, s->test ? "final/test_accuracy" : "final/validation_accuracy", step, e->accuracy));
    } else {
        printf("%s: MSE %.6g  RMSE %.6g  MAE %.6g  R2 %.4f  (%lld samples)\n", s->test ? "test" : "validation", e->reg.mse,
               e->reg.rmse, e->reg.mae, e->reg.r2, (long long)e->n);
        CLI_TRY(tb_scalar(s, s->test ? "final/test_mse" : "final/validation_mse", step, e->reg.mse));
    }
    return CLI_OK;
}

static int save_model(run_state *s)
{
    if (!A.save) return CLI_OK;
    CLI_TRY(model_save_desc(&s->desc, A.save, s->input, s->ndim, s->classes, &s->norm, s->train));
    char path[4200];
    snprintf(path, sizeof path, "%s/weights.safetensors", A.save);
    if (ig_model_save_weights(s->m, path) != IG_OK) return cli_lib_fail("--save");
    printf("saved the model to %s (model.json, weights.safetensors)\n", A.save);
    return CLI_OK;
}

static int train(run_state *s)
{
    if (A.precision != 0)
        return cli_fail("--precision %s: not available in this build yet: ingot computes in fp32 only today (valid: fp32)",
                        precisions[A.precision]);
    /* a resumed run takes its model from the checkpoint folder unless --model says otherwise */
    const char *spec = cli_model.model;
    char folder[4096], desc[4200];
    if (A.resume && !cli_given("model")) {
        snprintf(folder, sizeof folder, "%s", A.resume);
        snprintf(desc, sizeof desc, "%s/model.json", folder);
        char *slash = strrchr(folder, '/');
        if (access(desc, R_OK) != 0 && slash) *slash = '\0'; /* a checkpoint's path: its folder */
        snprintf(desc, sizeof desc, "%s/model.json", folder);
        if (access(desc, R_OK) == 0) spec = folder;
    }
    CLI_TRY(model_open(spec, &s->desc));
    CLI_TRY(cli_context(A.device, &s->ctx));
    CLI_TRY(load_data(s));
    CLI_TRY(build(s));
    CLI_TRY(open_outputs(s));
    s->h.first_step = ig_trainer_step_count(s->t);
    s->h.val_name = s->val ? "validation" : "test";
    s->h.train_eval_name = s->probe ? "a stratified subset of 5000 training samples" : "the training data";
    describe(s);
    int start = (int)(ig_trainer_step_count(s->t) / s->spe);
    if (A.resume) printf("resumed after epoch %d (step %lld)\n", start, (long long)ig_trainer_step_count(s->t));
    progress_init(&s->pg, stdout, A.progress);
    for (int e = start + 1; e <= cli_train.epochs; e++) {
        progress_epoch_start(&s->pg, e, (int)cli_train.epochs, s->spe);
        double t0 = cli_now();
        CLI_TRY(train_epoch(s));
        CLI_TRY(end_epoch(s, e, cli_now() - t0)); /* the last progress call read every loss: the epoch is done */
    }
    const char *what;
    CLI_TRY(final_evaluation(s, &what));
    CLI_TRY(save_model(s));
    if (A.report) {
        report_input in = {"ingot training report", &s->h, s->ev.n ? &s->ev : NULL, what, s->m, &s->cfg_rows};
        CLI_TRY(report_write(A.report, &in));
        printf("wrote %s/report.html\n", A.report);
    }
    if (s->tb) printf("wrote %s\n", ig_event_writer_path(s->tb));
    return CLI_OK;
}

static int run(void)
{
    run_state s;
    memset(&s, 0, sizeof s);
    int rc = train(&s);
    release(&s);
    return rc;
}
