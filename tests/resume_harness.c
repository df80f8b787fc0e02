/* resume_harness.c — see resume_harness.h. */
#include "resume_harness.h"

#include "train/checkpoint.h"
#include "train/monitor.h"
#include "train/trainer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- models */

static ig_model *mlp_dropout(ig_ctx *ctx)
{
    ig_model *m;
    if (ig_model_create(ctx, (int64_t[]){16, 20}, 2, &m) != IG_OK) return NULL;
    ig_value v = ig_relu(m, ig_dense(m, ig_model_input(m), 32, true, "fc1"), "relu1");
    v = ig_dropout(m, v, 0.25f, "drop1");
    v = ig_tanh(m, ig_dense(m, v, 32, true, "fc2"), "tanh2");
    ig_model_set_output(m, ig_dense(m, v, 5, true, "fc3"));
    return m;
}

/* conv → batch norm → ReLU → max pool → dropout → dense */
static ig_model *bn_cnn(ig_ctx *ctx)
{
    ig_model *m;
    if (ig_model_create(ctx, (int64_t[]){8, 3, 8, 8}, 4, &m) != IG_OK) return NULL;
    ig_value v = ig_conv2d(m, ig_model_input(m), 6, 3, 1, 1, false, "conv1");
    v = ig_relu(m, ig_batchnorm(m, v, 0.1f, 1e-5f, "bn1"), "relu1");
    v = ig_flatten(m, ig_maxpool2d(m, v, 2, 2, 0, "pool1"), "flatten");
    v = ig_dropout(m, v, 0.1f, "drop1");
    ig_model_set_output(m, ig_dense(m, v, 5, true, "fc"));
    return m;
}

/* dense → batch norm over [n, c] → ReLU → dense */
static ig_model *bn_mlp(ig_ctx *ctx)
{
    ig_model *m;
    if (ig_model_create(ctx, (int64_t[]){16, 20}, 2, &m) != IG_OK) return NULL;
    ig_value v = ig_dense(m, ig_model_input(m), 24, false, "fc1");
    v = ig_relu(m, ig_batchnorm(m, v, 0.2f, 1e-5f, "bn1"), "relu1");
    ig_model_set_output(m, ig_dense(m, v, 5, true, "fc2"));
    return m;
}

/* ---- configurations */

static void adam(ig_trainer_config *c) { *c = ig_trainer_defaults(); }

static void sgd_schedule(ig_trainer_config *c)
{
    *c = ig_trainer_defaults_for(IG_OPT_SGD);
    c->learning_rate = 0.05f;
    c->momentum = 0.9f;
    c->nesterov = true;
    c->weight_decay = 1e-3f;
    c->no_decay_1d = true;
    c->schedule.kind = IG_SCHEDULE_COSINE;
    c->schedule.total_steps = 40;
    c->schedule.warmup_steps = 3;
    c->max_grad_norm = 0.5f;
}

static void sgd_step(ig_trainer_config *c)
{
    *c = ig_trainer_defaults_for(IG_OPT_SGD);
    c->learning_rate = 0.1f;
    c->momentum = 0.9f;
    c->schedule.kind = IG_SCHEDULE_STEP;
    c->schedule.step_size = 2;
    c->schedule.gamma = 0.5f;
}

static void adamw(ig_trainer_config *c) { *c = ig_trainer_defaults_for(IG_OPT_ADAMW); }
static void nadam(ig_trainer_config *c) { *c = ig_trainer_defaults_for(IG_OPT_NADAM); }
static void adagrad(ig_trainer_config *c) { *c = ig_trainer_defaults_for(IG_OPT_ADAGRAD); }
static void adadelta(ig_trainer_config *c) { *c = ig_trainer_defaults_for(IG_OPT_ADADELTA); }

static void rmsprop(ig_trainer_config *c)
{
    *c = ig_trainer_defaults_for(IG_OPT_RMSPROP);
    c->momentum = 0.5f;
    c->centered = true;
}

static void lbfgs(ig_trainer_config *c)
{
    *c = ig_trainer_defaults_for(IG_OPT_LBFGS);
    c->lbfgs_max_iter = 4;
    c->lbfgs_history = 3;
    c->lbfgs_line_search = IG_LINE_SEARCH_STRONG_WOLFE;
}

const resume_scenario resume_scenarios[] = {
    {"adam_dropout", mlp_dropout, adam, 0},
    {"sgd_nesterov_cosine_clip", mlp_dropout, sgd_schedule, 0},
    {"sgd_step_batchnorm_cnn", bn_cnn, sgd_step, 0},
    {"nadam_batchnorm", bn_mlp, nadam, 0},
    {"rmsprop_centered", bn_mlp, rmsprop, 0},
    {"adagrad", mlp_dropout, adagrad, 0},
    {"adadelta", bn_mlp, adadelta, 0},
    {"lbfgs_wolfe", bn_mlp, lbfgs, 0},
    {"adamw_epochs_monitors", mlp_dropout, adamw, 1},
    {"sgd_epochs_batchnorm_cnn", bn_cnn, sgd_schedule, 1},
};
const int resume_n_scenarios = sizeof resume_scenarios / sizeof resume_scenarios[0];

const resume_scenario *resume_find(const char *name)
{
    for (int i = 0; i < resume_n_scenarios; i++)
        if (strcmp(resume_scenarios[i].name, name) == 0) return &resume_scenarios[i];
    return NULL;
}

/* ---- data: a pure function of (stream, index) */

static float draw(uint64_t stream, uint64_t i)
{
    uint64_t z = (stream << 32 ^ i) + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (float)(z >> 40) / 16777216.0f * 2.0f - 1.0f;
}

/* n samples of the model's input and class labels (the models have 5 classes), from `stream`. */
static ig_status make_batch(const resume_run *r, int64_t n, uint64_t stream, ig_tensor **x, ig_tensor **y)
{
    int64_t shape[IG_MAX_DIMS];
    int nd = ig_model_value_shape(r->m, ig_model_input(r->m), shape);
    shape[0] = n;
    IG_TRY(ig_tensor_create(r->ctx, IG_F32, shape, nd, x));
    IG_TRY(ig_tensor_create(r->ctx, IG_I32, &n, 1, y));
    float *xd = ig_tensor_data(*x);
    int32_t *yd = ig_tensor_data(*y);
    for (int64_t i = 0; i < ig_tensor_numel(*x); i++) xd[i] = draw(stream, (uint64_t)i);
    for (int64_t i = 0; i < n; i++) yd[i] = (int32_t)((draw(stream + 1000, (uint64_t)i) + 1.0f) * 2.5f) % 5;
    return IG_OK;
}

/* ---- runs */

#define EPOCH_SAMPLES 90 /* batches of 16: five full ones and a smaller last one */
#define VAL_SAMPLES 40

static ig_status make_dataset(const resume_run *r, int64_t n, uint64_t stream, ig_dataset **out)
{
    ig_tensor *x = NULL, *y = NULL;
    ig_status st = make_batch(r, n, stream, &x, &y);
    if (st == IG_OK) st = ig_dataset_create(r->ctx, x, y, out);
    ig_tensor_release(x);
    ig_tensor_release(y);
    return st;
}

ig_status resume_open(const resume_scenario *sc, ig_device device, resume_run *r)
{
    *r = (resume_run){.sc = sc};
    IG_TRY(ig_ctx_create(device, &r->ctx));
    if (!(r->m = sc->build(r->ctx))) return ig_fail(IG_ERR_OUT_OF_MEMORY, "resume harness: cannot build the model");
    IG_TRY(ig_model_status(r->m));
    IG_TRY(ig_model_set_seed(r->m, 7));
    ig_trainer_config cfg;
    sc->configure(&cfg);
    IG_TRY(ig_trainer_create(r->m, &cfg, &r->t));
    if (!sc->epochs) return IG_OK;
    IG_TRY(make_dataset(r, EPOCH_SAMPLES, 1, &r->train));
    IG_TRY(make_dataset(r, VAL_SAMPLES, 2, &r->val));
    ig_plateau_config pc = ig_plateau_defaults();
    pc.patience = 0; /* reduce after every epoch that does not improve: the state matters */
    pc.threshold = 0.05f;
    IG_TRY(ig_plateau_create(&pc, &r->plateau));
    ig_early_stopping_config ec = ig_early_stopping_defaults();
    ec.min_delta = 0.01f;
    return ig_early_stopping_create(&ec, &r->early);
}

void resume_close(resume_run *r)
{
    ig_plateau_destroy(r->plateau);
    ig_early_stopping_destroy(r->early);
    ig_dataset_destroy(r->train);
    ig_dataset_destroy(r->val);
    ig_trainer_destroy(r->t);
    ig_model_destroy(r->m);
    ig_ctx_destroy(r->ctx);
    *r = (resume_run){0};
}

ig_checkpoint_monitors resume_monitors(resume_run *r)
{
    return (ig_checkpoint_monitors){.plateau = r->plateau, .early_stopping = r->early};
}

static ig_status train_epoch(resume_run *r)
{
    ig_epoch_config ep = ig_epoch_defaults();
    ep.batch_size = 16;
    ep.seed = 11;
    IG_TRY(ig_train_epoch(r->t, r->train, &ep, NULL));
    ig_eval_result res;
    IG_TRY(ig_evaluate(r->t, r->val, 16, &res));
    bool stop;
    IG_TRY(ig_plateau_update(r->plateau, r->t, res.loss, NULL));
    return ig_early_stopping_update(r->early, res.loss, NULL, &stop);
}

ig_status resume_train(resume_run *r, int first, int count)
{
    for (int u = first; u < first + count; u++) {
        if (r->sc->epochs) {
            IG_TRY(train_epoch(r));
            continue;
        }
        int64_t shape[IG_MAX_DIMS];
        ig_model_value_shape(r->m, ig_model_input(r->m), shape);
        ig_tensor *x = NULL, *y = NULL;
        ig_status st = make_batch(r, shape[0], 100 + (uint64_t)u, &x, &y);
        if (st == IG_OK) st = ig_train_batch(r->t, x, y, NULL);
        ig_tensor_release(x);
        ig_tensor_release(y);
        IG_TRY(st);
    }
    return IG_OK;
}

ig_status resume_segment(const resume_scenario *sc, ig_device device, const char *in, const char *out, int first,
                         int count)
{
    resume_run r;
    ig_status st = resume_open(sc, device, &r);
    ig_checkpoint_monitors mon = resume_monitors(&r);
    if (st == IG_OK && in) st = ig_checkpoint_load(r.t, in, &mon);
    if (st == IG_OK) st = resume_train(&r, first, count);
    if (st == IG_OK) st = ig_checkpoint_save(r.t, out, &mon);
    resume_close(&r);
    return st;
}

int resume_same(resume_run *a, resume_run *b, char *why, size_t size)
{
    ig_model *ma = a->m, *mb = b->m;
    int same = 1;
    for (int i = 0; same && i < ig_model_param_count(ma); i++) {
        int64_t shape[IG_MAX_DIMS], n = 1;
        int nd = ig_model_param_shape(ma, i, shape);
        for (int k = 0; k < nd; k++) n *= shape[k];
        float *pa = malloc((size_t)n * sizeof *pa), *pb = malloc((size_t)n * sizeof *pb);
        same = pa && pb && ig_model_param_get(ma, i, pa, n) == IG_OK && ig_model_param_get(mb, i, pb, n) == IG_OK;
        for (int64_t k = 0; same && k < n; k++)
            if (memcmp(&pa[k], &pb[k], sizeof *pa) != 0) {
                snprintf(why, size, "%s[%lld]: %.9g against %.9g", ig_model_param_name(ma, i), (long long)k, pa[k], pb[k]);
                same = 0;
            }
        free(pa);
        free(pb);
    }
    if (!same) return 0;
    int64_t steps = ig_trainer_step_count(a->t);
    if (steps != ig_trainer_step_count(b->t) || a->t->epochs != b->t->epochs || ma->bn_batches != mb->bn_batches) {
        snprintf(why, size, "steps %lld/%lld, epochs %lld/%lld, batch-norm passes %lld/%lld", (long long)steps,
                 (long long)ig_trainer_step_count(b->t), (long long)a->t->epochs, (long long)b->t->epochs,
                 (long long)ma->bn_batches, (long long)mb->bn_batches);
        return 0;
    }
    float la = ig_trainer_learning_rate(a->t), lb = ig_trainer_learning_rate(b->t);
    if (memcmp(&la, &lb, sizeof la) != 0) {
        snprintf(why, size, "learning rate %.9g against %.9g", la, lb);
        return 0;
    }
    int64_t n = steps < IG_LOSS_HISTORY ? steps : IG_LOSS_HISTORY;
    float *ha = calloc((size_t)n + 1, sizeof *ha), *hb = calloc((size_t)n + 1, sizeof *hb);
    same = ha && hb && (n == 0 || (ig_trainer_losses(a->t, steps - n, n, ha) == IG_OK &&
                                   ig_trainer_losses(b->t, steps - n, n, hb) == IG_OK));
    if (same && memcmp(ha, hb, (size_t)n * sizeof *ha) != 0) {
        snprintf(why, size, "the loss histories differ");
        same = 0;
    }
    free(ha);
    free(hb);
    if (same && a->plateau &&
        (a->plateau->best != b->plateau->best || a->plateau->bad != b->plateau->bad ||
         a->early->best != b->early->best || a->early->wait != b->early->wait)) {
        snprintf(why, size, "the monitors differ: plateau best %g/%g bad %d/%d, early stopping best %g/%g wait %d/%d",
                 a->plateau->best, b->plateau->best, a->plateau->bad, b->plateau->bad, a->early->best, b->early->best,
                 a->early->wait, b->early->wait);
        same = 0;
    }
    return same;
}

ig_status resume_remove_dir(const char *dir)
{
    ig_ckpt_info *list;
    int n;
    IG_TRY(ig_ckpt_scan(dir, &list, &n));
    ig_status st = IG_OK;
    for (int i = 0; st == IG_OK && i < n; i++) st = ig_ckpt_remove(&list[i]);
    ig_ckpt_list_free(list, n);
    if (st == IG_OK && rmdir(dir) != 0) st = ig_fail(IG_ERR_IO, "%s: cannot remove the directory", dir);
    return st;
}
