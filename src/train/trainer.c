/* trainer.c — compiles model + loss + optimizer into step programs (one per batch size)
 * and runs them: ig_train_batch is one run of one program. */
#include "io/dataset.h"
#include "nn/model.h"
#include "ops/ops.h"
#include "train/lbfgs.h"
#include "train/loss.h"
#include "ops/opt_math.h"
#include "train/optimizer.h"
#include "train/trainer.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(IG_LOSS_RING == IG_LOSS_HISTORY, "the public history length is the ring's");

static size_t cursor_offset(void) { return ig_trainer_cursor_offset(); }
static size_t ring_offset(void) { return ig_trainer_ring_offset(); }
static size_t moments_offset(void) { return ig_trainer_moments_offset(); }

ig_trainer_config ig_trainer_defaults(void)
{
    return (ig_trainer_config){
        .loss = IG_LOSS_SPARSE_CROSS_ENTROPY,
        .optimizer = IG_OPT_ADAM,
        .learning_rate = 1e-3f,
        .momentum = 0.0f,
        .dampening = 0.0f,
        .nesterov = false,
        .beta1 = 0.9f,
        .beta2 = 0.999f,
        .eps = 1e-8f,
        .weight_decay = 0.0f,
        .label_smoothing = 0.0f,
        .huber_delta = 1.0f,
        .schedule = {.kind = IG_SCHEDULE_CONSTANT, .gamma = 0.1f, .pct_start = 0.3f, .div_factor = 25.0f,
                     .final_div_factor = 1e4f, .warmup_start = 1.0f / 3.0f},
        .max_grad_norm = 0.0f,
        .alpha = 0.99f,
        .centered = false,
        .rho = 0.9f,
        .lr_decay = 0.0f,
        .initial_accumulator_value = 0.0f,
        .momentum_decay = 4e-3f,
        .lbfgs_max_iter = 20,
        .lbfgs_max_eval = 0,
        .lbfgs_history = 100,
        .lbfgs_tolerance_grad = 1e-7f,
        .lbfgs_tolerance_change = 1e-9f,
        .lbfgs_line_search = IG_LINE_SEARCH_NONE,
    };
}

ig_trainer_config ig_trainer_defaults_for(ig_optimizer optimizer)
{
    ig_trainer_config c = ig_trainer_defaults();
    c.optimizer = optimizer;
    switch (optimizer) {
    case IG_OPT_ADAMW: c.weight_decay = 1e-2f; break;
    case IG_OPT_RMSPROP: c.learning_rate = 1e-2f; break;
    case IG_OPT_ADAGRAD:
        c.learning_rate = 1e-2f;
        c.eps = 1e-10f;
        break;
    case IG_OPT_ADADELTA:
        c.learning_rate = 1.0f;
        c.eps = 1e-6f;
        break;
    case IG_OPT_NADAM: c.learning_rate = 2e-3f; break;
    case IG_OPT_LBFGS: c.learning_rate = 1.0f; break;
    default: break;
    }
    return c;
}

static bool finite_nonneg(float x) { return x >= 0 && isfinite(x); }

/* The hyperparameters the configured optimizer reads, in PyTorch's ranges (momentum and
 * alpha kept below 1, where PyTorch would accept values that make the averages diverge). */
static ig_status check_optimizer(const ig_trainer_config *c)
{
    const char *fn = "ig_trainer_create";
    const ig_optimizer o = c->optimizer;
    if (o == IG_OPT_LBFGS) {
        if (c->lbfgs_history < 1)
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: L-BFGS history %d must be >= 1", fn, c->lbfgs_history);
        if (c->lbfgs_max_iter < 1)
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: L-BFGS max_iter %d must be >= 1", fn, c->lbfgs_max_iter);
        if (c->lbfgs_max_eval < 0)
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: L-BFGS max_eval %d must be >= 0 (0: max_iter·5/4)", fn,
                           c->lbfgs_max_eval);
        if (!finite_nonneg(c->lbfgs_tolerance_grad) || !finite_nonneg(c->lbfgs_tolerance_change))
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: L-BFGS tolerance_grad %g and tolerance_change %g must be "
                           "finite numbers >= 0", fn, c->lbfgs_tolerance_grad, c->lbfgs_tolerance_change);
        if ((int)c->lbfgs_line_search < IG_LINE_SEARCH_NONE || c->lbfgs_line_search > IG_LINE_SEARCH_STRONG_WOLFE)
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: unknown L-BFGS line search %d", fn, (int)c->lbfgs_line_search);
        /* torch.optim.LBFGS has neither; the update is the host's, not the device node's */
        if (c->weight_decay != 0 || c->max_grad_norm != 0)
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: L-BFGS takes no weight_decay (%g) or max_grad_norm (%g)", fn,
                           c->weight_decay, c->max_grad_norm);
        return IG_OK;
    }
    if ((o == IG_OPT_SGD || o == IG_OPT_RMSPROP) && !(c->momentum >= 0 && c->momentum < 1))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: momentum %g must be in [0, 1)", fn, c->momentum);
    if (o == IG_OPT_SGD) {
        if (!(c->dampening >= 0 && c->dampening <= 1))
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: dampening %g must be in [0, 1]", fn, c->dampening);
        if (c->nesterov && (c->momentum <= 0 || c->dampening != 0))
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: nesterov needs momentum > 0 and dampening 0", fn);
        return IG_OK;
    }
    if ((o == IG_OPT_ADAM || o == IG_OPT_ADAMW || o == IG_OPT_NADAM) &&
        (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1)))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: betas (%g, %g) must each be in [0, 1)", fn, c->beta1, c->beta2);
    if (!(c->eps > 0) || !isfinite(c->eps))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: eps %g must be a finite number > 0", fn, c->eps);
    if (o == IG_OPT_RMSPROP && !(c->alpha >= 0 && c->alpha < 1))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: alpha %g must be in [0, 1)", fn, c->alpha);
    if (o == IG_OPT_ADADELTA && !(c->rho >= 0 && c->rho <= 1))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: rho %g must be in [0, 1]", fn, c->rho);
    if (o == IG_OPT_ADAGRAD && !finite_nonneg(c->lr_decay))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: lr_decay %g must be a finite number >= 0", fn, c->lr_decay);
    if (o == IG_OPT_ADAGRAD && !finite_nonneg(c->initial_accumulator_value))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: initial_accumulator_value %g must be a finite number >= 0", fn,
                       c->initial_accumulator_value);
    if (o == IG_OPT_NADAM && !finite_nonneg(c->momentum_decay))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: momentum_decay %g must be a finite number >= 0", fn,
                       c->momentum_decay);
    return IG_OK;
}

/* A schedule's fields, as far as its kind reads them. */
static ig_status check_schedule(const ig_lr_schedule *s, float max_grad_norm)
{
    const char *fn = "ig_trainer_create: schedule";
    if (!(max_grad_norm >= 0) || !isfinite(max_grad_norm))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_trainer_create: max_grad_norm %g must be >= 0 (0: no clipping)",
                       max_grad_norm);
    if ((int)s->kind < IG_SCHEDULE_CONSTANT || s->kind > IG_SCHEDULE_ONE_CYCLE)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: unknown kind %d", fn, (int)s->kind);
    bool decays = s->kind == IG_SCHEDULE_STEP || s->kind == IG_SCHEDULE_MULTISTEP || s->kind == IG_SCHEDULE_EXPONENTIAL;
    if (decays && !(s->gamma > 0 && s->gamma <= 1))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: gamma %g must be in (0, 1]", fn, s->gamma);
    if (s->kind == IG_SCHEDULE_STEP && s->step_size < 1)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: step_size %lld must be >= 1", fn, (long long)s->step_size);
    if (s->kind == IG_SCHEDULE_MULTISTEP) {
        if (s->n_milestones < 1 || s->n_milestones > IG_MAX_MILESTONES)
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: n_milestones %d must be in 1..%d", fn, s->n_milestones,
                           IG_MAX_MILESTONES);
        for (int i = 0; i < s->n_milestones; i++)
            if (s->milestones[i] < 0 || (i > 0 && s->milestones[i] <= s->milestones[i - 1]))
                return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: milestones must be >= 0 and strictly increasing (milestone %d "
                               "is %lld)", fn, i, (long long)s->milestones[i]);
    }
    if ((s->kind == IG_SCHEDULE_COSINE || s->kind == IG_SCHEDULE_ONE_CYCLE) && s->total_steps < 2)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: total_steps %lld must be >= 2", fn, (long long)s->total_steps);
    if (s->kind == IG_SCHEDULE_COSINE && !(s->min_lr >= 0))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: min_lr %g must be >= 0", fn, s->min_lr);
    if (s->kind == IG_SCHEDULE_ONE_CYCLE) {
        if (!(s->max_lr >= 0) || !(s->pct_start > 0 && s->pct_start < 1) || !(s->div_factor >= 1) ||
            !(s->final_div_factor >= 1))
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: one-cycle needs max_lr >= 0, pct_start in (0, 1), div_factor and "
                           "final_div_factor >= 1 (got %g, %g, %g, %g)", fn, s->max_lr, s->pct_start, s->div_factor,
                           s->final_div_factor);
        if (s->pct_start * (float)s->total_steps < 2.0f)
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: pct_start · total_steps must be >= 2 steps of warm-up", fn);
    }
    if (s->warmup_steps < 0 || (s->warmup_steps > 0 && !(s->warmup_start > 0 && s->warmup_start <= 1)))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: warmup_steps %lld must be >= 0 and warmup_start %g in (0, 1]", fn,
                       (long long)s->warmup_steps, s->warmup_start);
    return IG_OK;
}

static ig_status check_config(const ig_trainer_config *c)
{
    const char *fn = "ig_trainer_create";
    if ((int)c->loss < IG_LOSS_SPARSE_CROSS_ENTROPY || c->loss > IG_LOSS_HUBER)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: unknown loss %d", fn, (int)c->loss);
    if (ig_loss_is_ce(c->loss) && !(c->label_smoothing >= 0 && c->label_smoothing < 1))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: label_smoothing %g must be in [0, 1)", fn, c->label_smoothing);
    /* a smoothing the loss would ignore is a mistake worth reporting */
    if (!ig_loss_is_ce(c->loss) && c->label_smoothing != 0)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: label_smoothing %g applies to the cross-entropy losses only", fn,
                       c->label_smoothing);
    if (c->loss == IG_LOSS_HUBER && !(c->huber_delta > 0 && isfinite(c->huber_delta)))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: huber_delta %g must be a finite number > 0", fn, c->huber_delta);
    if ((int)c->optimizer < IG_OPT_SGD || c->optimizer > IG_OPT_LBFGS)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: unknown optimizer %d", fn, (int)c->optimizer);
    if (!(c->learning_rate > 0) || !isfinite(c->learning_rate))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: learning_rate %g must be a finite number > 0", fn, c->learning_rate);
    if (!(c->weight_decay >= 0) || !isfinite(c->weight_decay))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: weight_decay %g must be >= 0", fn, c->weight_decay);
    return check_optimizer(c);
}

ig_status ig_trainer_create(ig_model *m, const ig_trainer_config *cfg, ig_trainer **out)
{
    if (!m || !cfg || !out)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_trainer_create: NULL %s", !m ? "model" : !cfg ? "config" : "out");
    *out = NULL;
    IG_TRY(check_config(cfg));
    IG_TRY(check_schedule(&cfg->schedule, cfg->max_grad_norm));
    IG_TRY(ig_model_finalize(m));
    const ig_shape *os = &m->g.vals[m->output].shape;
    if (ig_loss_is_ce(cfg->loss) && os->ndim != 2) {
        char b[64];
        return ig_fail(IG_ERR_SHAPE, "ig_trainer_create: cross-entropy needs an output of [batch, classes], the model's is %s",
                       ig_shape_str(os, b, sizeof b));
    }
    ig_trainer *t = calloc(1, sizeof *t);
    if (!t) return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_trainer_create: out of memory");
    t->m = m;
    t->ctx = m->ctx;
    t->cfg = *cfg;
    t->hyper = ig_opt_hyper_from(cfg);
    t->state_bytes = ig_opt_state_bytes(cfg->optimizer, m->params_bytes, moments_offset());
    ig_backend *be = t->ctx->backend;
    t->grads = be->alloc(be, m->params_bytes);
    t->state = be->alloc(be, t->state_bytes);
    ig_status st = (t->grads && t->state)
                       ? ig_opt_init_state(be, t->state, cfg->optimizer, m->params_bytes, moments_offset(), &t->hyper)
                       : ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_trainer_create: cannot allocate optimizer state");
    for (int i = 0; st == IG_OK && cfg->no_decay_1d && i < m->n_params; i++)
        if (m->params[i].trainable && m->g.vals[m->params[i].val].shape.ndim == 1)
            st = ig_trainer_set_weight_decay_scale(t, i, 0.0f);
    if (st == IG_OK && cfg->optimizer == IG_OPT_LBFGS)
        st = ig_lbfgs_create(cfg, be, m->param_mem, t->grads, m->params_bytes, &t->lbfgs);
    if (st != IG_OK) {
        ig_trainer_destroy(t);
        return st;
    }
    *out = t;
    return IG_OK;
}

void ig_trainer_destroy(ig_trainer *t)
{
    if (!t) return;
    ig_program_cache_clear(&t->step);
    ig_program_cache_clear(&t->eval);
    ig_program_cache_clear(&t->step_ds);
    ig_program_cache_clear(&t->eval_ds);
    ig_backend *be = t->ctx->backend;
    if (t->grads) be->free(be, t->grads, t->m->params_bytes);
    if (t->state) be->free(be, t->state, t->state_bytes);
    ig_lbfgs_destroy(t->lbfgs);
    free(t);
}

/* Forward graph + labels + loss, the common head of step and eval programs (only steps
 * train: dropout is the identity in the others). */
static ig_status build_loss(ig_trainer *t, int64_t batch, bool train, ig_graph *g, int *labels, int *loss, int *dunit)
{
    ig_model *m = t->m;
    IG_TRY(ig_model_instantiate(m, batch, train, g));
    ig_status st = IG_OK;
    ig_loss l = t->cfg.loss;
    ig_shape ls = ig_loss_target_shape(l, &g->vals[m->output].shape);
    *labels = ig_graph_leaf(g, &ls, ig_loss_target_dtype(l), "labels");
    if (*labels < 0) st = ig_fail(IG_ERR_OUT_OF_MEMORY, "trainer: out of memory");
    int outs[2];
    if (st == IG_OK) st = ig_loss_append(g, &t->cfg, m->output, *labels, outs);
    if (st == IG_OK) st = ig_fuse_activations(g, NULL, 0);
    if (st != IG_OK) {
        ig_graph_free(g);
        return st;
    }
    g->vals[m->input].buf = IG_BUF_IO;
    g->vals[*labels].buf = IG_BUF_IO;
    *loss = outs[0];
    *dunit = outs[1];
    return IG_OK;
}

/* Where the update splits (ig_opt_append): the end of the parameters whose gradients the last
 * gradient node computes (a network's first layer), when they come first in the flat buffer;
 * the rest can be updated while those are computed (on an H200, mlp_small's step 0.063 →
 * 0.061 ms; cnn_small's stays at 0.216, its early part slowing the kernels beside it as much
 * as it saves). 0: no split. */
static size_t late_gradients(const ig_graph *g, size_t bytes)
{
    int last = -1;
    for (int v = 0; v < g->n_vals; v++)
        if (g->vals[v].buf == IG_BUF_GRADS && g->vals[v].node > last) last = g->vals[v].node;
    size_t split = 0, early = bytes;
    for (int v = 0; v < g->n_vals; v++) {
        const ig_val *val = &g->vals[v];
        if (val->buf != IG_BUF_GRADS || val->node < 0) continue;
        size_t end = val->offset + ig_val_bytes(val);
        if (val->node == last && end > split) split = end;
        if (val->node != last && val->offset < early) early = val->offset;
    }
    const size_t chunk = IG_DECAY_CHUNK * sizeof(float);
    split = (split + chunk - 1) / chunk * chunk;
    return last >= 0 && split <= early && split < bytes ? split : 0;
}

static ig_status append_backward_and_update(ig_trainer *t, ig_graph *g, int loss)
{
    ig_model *m = t->m;
    /* L-BFGS's step program is its closure: it stops at the gradients, and the host reads
     * the loss back, runs the update and records the step's loss */
    bool closure = t->cfg.optimizer == IG_OPT_LBFGS;
    int hy = -1;
    if (closure) {
        g->vals[loss].buf = IG_BUF_IO;
    } else {
        hy = ig_flat_leaf(g, sizeof(ig_opt_hyper), IG_BUF_STATE, 0, "hyper");
        int ring = ig_flat_leaf(g, IG_LOSS_RING * sizeof(float), IG_BUF_STATE, ring_offset(), "loss_ring");
        if (hy < 0 || ring < 0) return ig_fail(IG_ERR_OUT_OF_MEMORY, "trainer: out of memory");
        IG_TRY(ig_graph_node(g, IG_OP_RECORD_LOSS, (int[]){loss, hy, ring}, 3, NULL, "record_loss", NULL));
    }
    /* the trainable parameters: buffers have no gradient and no slot in GRADS */
    int n = 0;
    int *wrt = malloc((size_t)(m->n_params ? m->n_params : 1) * sizeof *wrt);
    int *grads = malloc((size_t)(m->n_params ? m->n_params : 1) * sizeof *grads);
    ig_status st = (wrt && grads) ? IG_OK : ig_fail(IG_ERR_OUT_OF_MEMORY, "trainer: out of memory");
    for (int i = 0; st == IG_OK && i < m->n_params; i++)
        if (m->params[i].trainable) wrt[n++] = m->params[i].val;
    if (st == IG_OK) st = ig_autodiff(g, 1, &loss, (int[]){-1}, n, wrt, grads);
    /* each parameter's gradient is written straight into its slot of the flat GRADS buffer */
    for (int i = 0; st == IG_OK && i < n; i++) {
        if (grads[i] < 0) continue; /* unused parameter: its slot stays zero */
        int gv = grads[i];
        if (g->vals[gv].buf != IG_BUF_NONE || g->vals[gv].alias_of >= 0 || g->vals[gv].node < 0)
            st = ig_graph_node(g, IG_OP_COPY, &gv, 1, NULL, "grad_copy", &gv);
        if (st != IG_OK) break;
        g->vals[gv].buf = IG_BUF_GRADS;
        g->vals[gv].offset = g->vals[wrt[i]].offset;
    }
    free(wrt);
    free(grads);
    IG_TRY(st);
    IG_TRY(ig_fuse_gradients(g));
    if (closure) return IG_OK;

    if (t->cfg.max_grad_norm > 0) {
        int gr = ig_flat_leaf(g, m->params_bytes, IG_BUF_GRADS, 0, "grads");
        if (gr < 0) return ig_fail(IG_ERR_OUT_OF_MEMORY, "trainer: out of memory");
        ig_attrs at = {.f = {t->cfg.max_grad_norm}};
        IG_TRY(ig_graph_node(g, IG_OP_CLIP_GRAD_NORM, (int[]){gr, hy}, 2, &at, "clip", NULL));
    }
    return ig_opt_append(g, t->cfg.optimizer, m->params_bytes, moments_offset(),
                         t->cfg.max_grad_norm > 0 ? 0 : late_gradients(g, m->params_bytes));
}

/* For programs over a resident dataset, the batch comes from a GATHER node placed first:
 * it reads the dataset buffers and the cursor, and every reader of the input and labels
 * leaves reads its outputs instead. */
static ig_status add_gather(ig_trainer *t, ig_graph *g, ig_program_key key, int *labels)
{
    const ig_model *m = t->m;
    ig_shape xs = g->vals[m->input].shape;
    xs.d[0] = key.count;
    ig_shape ys = ig_shape_make(1, &key.count);
    int xa = ig_graph_leaf(g, &xs, IG_F32, "data_x"), ya = ig_graph_leaf(g, &ys, IG_I32, "data_y");
    int hy = ig_flat_leaf(g, sizeof(ig_opt_hyper), IG_BUF_STATE, 0, "hyper");
    int cur = ig_flat_leaf(g, sizeof(ig_data_cursor), IG_BUF_STATE, cursor_offset(), "cursor");
    if (xa < 0 || ya < 0 || hy < 0 || cur < 0) return ig_fail(IG_ERR_OUT_OF_MEMORY, "trainer: out of memory");
    g->vals[xa].buf = IG_BUF_DATA_X;
    g->vals[ya].buf = IG_BUF_DATA_Y;
    ig_attrs at = {.i = {key.batch, key.stride, key.mode}};
    int outs[2];
    IG_TRY(ig_graph_node(g, IG_OP_GATHER, (int[]){xa, ya, cur, hy}, 4, &at, "gather", outs));
    ig_graph_move_node(g, g->n_nodes - 1, 0);
    ig_graph_replace_uses(g, m->input, outs[0]);
    ig_graph_replace_uses(g, *labels, outs[1]);
    g->vals[m->input].buf = IG_BUF_NONE; /* now read by no one */
    g->vals[*labels].buf = IG_BUF_NONE;
    *labels = outs[1];
    return IG_OK;
}

/* key.count == 0: batches come through IO; else from a resident dataset of key.count samples. */
static ig_status build_program(ig_trainer *t, ig_program_key key, bool train, ig_program **out)
{
    ig_graph g;
    int labels, loss, dunit, correct = -1;
    IG_TRY(build_loss(t, key.batch, train, &g, &labels, &loss, &dunit));
    ig_status st = key.count ? add_gather(t, &g, key, &labels) : IG_OK;
    if (st == IG_OK && train) {
        st = append_backward_and_update(t, &g, loss);
        /* a step over full batches fetches the next one's (gather.c) */
        if (st == IG_OK && key.count && key.batch == key.stride) st = ig_gather_append_ahead(&g, 0);
    } else if (st == IG_OK) {
        st = ig_loss_accuracy_append(&g, t->cfg.loss, t->m->output, labels, &correct);
        bool hits = correct >= 0; /* classification losses count hits */
        if (st == IG_OK && key.count) {
            int cur = ig_flat_leaf(&g, sizeof(ig_data_cursor), IG_BUF_STATE, cursor_offset(), "cursor");
            ig_attrs at = {.i = {key.batch, hits}};
            st = cur < 0 ? ig_fail(IG_ERR_OUT_OF_MEMORY, "trainer: out of memory")
                         : ig_graph_node(&g, IG_OP_EVAL_ACCUM, (int[]){loss, hits ? correct : loss, cur}, 3, &at,
                                         "eval_accum", NULL);
        } else if (st == IG_OK) {
            g.vals[loss].buf = IG_BUF_IO;
            if (hits) g.vals[correct].buf = IG_BUF_IO;
        }
    }
    if (st != IG_OK) {
        ig_graph_free(&g);
        return st;
    }
    ig_program *p;
    IG_TRY(ig_program_create(t->ctx, &g, &p));
    p->inputs[0] = t->m->input;
    p->inputs[1] = labels;
    p->outputs[0] = loss;
    p->outputs[1] = correct;
    *out = p;
    return IG_OK;
}

static ig_status get_program(ig_trainer *t, ig_program_key key, bool train, ig_program **out)
{
    ig_program_cache *c = key.count ? (train ? &t->step_ds : &t->eval_ds) : (train ? &t->step : &t->eval);
    if ((*out = ig_program_cache_find(c, key))) return IG_OK;
    IG_TRY(build_program(t, key, train, out));
    ig_program_cache_put(c, key, *out);
    return IG_OK;
}

/* Checks a batch against the model and the loss before anything is copied. */
static ig_status check_batch(ig_trainer *t, const ig_tensor *x, const ig_tensor *y, const char *fn, int64_t *batch)
{
    IG_TRY(ig_model_check_input(t->m, x, fn, batch));
    if (!y) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL target tensor", fn);
    const ig_shape *os = &t->m->g.vals[t->m->output].shape;
    if (t->cfg.loss == IG_LOSS_SPARSE_CROSS_ENTROPY) {
        if (y->dtype != IG_I32 || y->ndim != 1 || y->shape[0] != *batch)
            return ig_fail(IG_ERR_SHAPE, "%s: labels must be i32 [%lld] (one class id per sample), got %s with %d dims",
                           fn, (long long)*batch, ig_dtype_name(y->dtype), y->ndim);
        const int32_t *lab = y->data;
        int64_t classes = os->d[1];
        for (int64_t i = 0; i < *batch; i++)
            if (lab[i] < 0 || lab[i] >= classes)
                return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: label %d of sample %lld is out of range [0, %lld)", fn,
                               (int)lab[i], (long long)i, (long long)classes);
    } else {
        ig_shape want = *os, got = ig_shape_make(y->ndim, y->shape);
        want.d[0] = *batch;
        if (y->dtype != IG_F32 || !ig_shape_eq(&got, &want)) {
            char a[64], b[64];
            return ig_fail(IG_ERR_SHAPE, "%s: targets must be f32 %s like the model's output%s, got %s %s", fn,
                           ig_shape_str(&want, a, sizeof a),
                           t->cfg.loss == IG_LOSS_CROSS_ENTROPY ? " (a probability row per sample)" : "",
                           ig_dtype_name(y->dtype), ig_shape_str(&got, b, sizeof b));
        }
        if (ig_loss_is_binary(t->cfg.loss)) {
            const float *v = y->data;
            size_t n = ig_shape_numel(&want), per = n / (size_t)*batch;
            for (size_t i = 0; i < n; i++)
                if (!(v[i] >= 0 && v[i] <= 1))
                    return ig_fail(IG_ERR_INVALID_ARGUMENT,
                                   "%s: binary cross-entropy targets must be in [0, 1]; sample %zu has %g (value %zu)",
                                   fn, i / per, v[i], i % per);
        }
    }
    return IG_OK;
}

static ig_status run_batch(ig_trainer *t, const ig_tensor *x, const ig_tensor *y, bool train, const char *fn,
                           ig_program **out)
{
    if (!t) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL trainer", fn);
    int64_t batch;
    IG_TRY(check_batch(t, x, y, fn, &batch));
    ig_program *p;
    IG_TRY(get_program(t, (ig_program_key){.batch = batch}, train, &p));
    IG_TRY(ig_program_write(p, p->inputs[0], x->data, x->nbytes));
    IG_TRY(ig_program_write(p, p->inputs[1], y->data, y->nbytes));
    IG_TRY(ig_program_run(p, t->m->param_mem, train ? t->grads : NULL, train ? t->state : NULL));
    if (train) {
        t->hyper.step++;
        t->m->bn_batches++;
    }
    *out = p;
    return IG_OK;
}

/* L-BFGS's closure: the batch is written before each run (where the backend overlaps
 * copies, consecutive runs read alternate IO blocks). */
typedef struct closure_arg {
    ig_trainer *t;
    ig_program *p;
    const ig_tensor *x, *y;
} closure_arg;

static ig_status run_closure(void *arg, float *loss)
{
    closure_arg *c = arg;
    ig_program *p = c->p;
    IG_TRY(ig_program_write(p, p->inputs[0], c->x->data, c->x->nbytes));
    IG_TRY(ig_program_write(p, p->inputs[1], c->y->data, c->y->nbytes));
    IG_TRY(ig_program_run(p, c->t->m->param_mem, c->t->grads, c->t->state));
    c->t->m->bn_batches++;
    return ig_program_read(p, p->outputs[0], loss, sizeof *loss);
}

static ig_status lbfgs_batch(ig_trainer *t, const ig_tensor *x, const ig_tensor *y, float *loss)
{
    int64_t batch;
    IG_TRY(check_batch(t, x, y, "ig_train_batch", &batch));
    closure_arg c = {t, NULL, x, y};
    IG_TRY(get_program(t, (ig_program_key){.batch = batch}, true, &c.p));
    float l;
    IG_TRY(ig_lbfgs_step(t->lbfgs, ig_hyper_lr(&t->hyper, t->hyper.step), run_closure, &c, &l));
    /* what a device step does itself: its loss into the ring, the counter advanced */
    ig_backend *be = t->ctx->backend;
    float *ring = (float *)((char *)t->state + ring_offset());
    IG_TRY(be->upload(be, ring + t->hyper.step % IG_LOSS_RING, &l, sizeof l));
    t->hyper.step++;
    IG_TRY(be->upload(be, (char *)t->state + offsetof(ig_opt_hyper, step), &t->hyper.step, sizeof t->hyper.step));
    if (loss) *loss = l;
    return IG_OK;
}

ig_status ig_train_batch(ig_trainer *t, const ig_tensor *x, const ig_tensor *y, float *loss)
{
    if (t && t->cfg.optimizer == IG_OPT_LBFGS) return lbfgs_batch(t, x, y, loss);
    ig_program *p;
    IG_TRY(run_batch(t, x, y, true, "ig_train_batch", &p));
    return loss ? ig_trainer_losses(t, t->hyper.step - 1, 1, loss) : IG_OK;
}

ig_status ig_trainer_losses(ig_trainer *t, int64_t first, int64_t count, float *out)
{
    const char *fn = "ig_trainer_losses";
    if (!t || !out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, t ? "out" : "trainer");
    int64_t done = t->hyper.step;
    if (count < 1 || first < 0 || first + count > done || first < done - IG_LOSS_RING)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: steps [%lld, %lld) are not among the last %d of the %lld taken",
                       fn, (long long)first, (long long)(first + count), IG_LOSS_RING, (long long)done);
    ig_backend *be = t->ctx->backend;
    const float *ring = (const float *)((char *)t->state + ring_offset());
    while (count > 0) {
        /* at most two contiguous pieces: up to the ring's end, then from its start */
        int64_t at = first % IG_LOSS_RING, n = count < IG_LOSS_RING - at ? count : IG_LOSS_RING - at;
        IG_TRY(be->download(be, out, ring + at, (size_t)n * sizeof *out));
        out += n;
        first += n;
        count -= n;
    }
    return IG_OK;
}

ig_status ig_eval_batch(ig_trainer *t, const ig_tensor *x, const ig_tensor *y, ig_eval_result *out)
{
    if (!out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_eval_batch: NULL result");
    ig_program *p = NULL;
    IG_TRY(run_batch(t, x, y, false, "ig_eval_batch", &p));
    memset(out, 0, sizeof *out);
    out->count = x->shape[0];
    IG_TRY(ig_program_read(p, p->outputs[0], &out->loss, sizeof out->loss));
    if (p->outputs[1] >= 0) {
        int32_t correct;
        IG_TRY(ig_program_read(p, p->outputs[1], &correct, sizeof correct));
        out->correct = correct;
    }
    return IG_OK;
}

ig_status ig_trainer_set_learning_rate(ig_trainer *t, float lr)
{
    if (!t) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_trainer_set_learning_rate: NULL trainer");
    if (!(lr > 0) || !isfinite(lr))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_trainer_set_learning_rate: %g must be a finite number > 0", lr);
    t->hyper.lr = lr;
    ig_backend *be = t->ctx->backend;
    return be->upload(be, (char *)t->state + offsetof(ig_opt_hyper, lr), &lr, sizeof lr);
}

ig_status ig_trainer_set_weight_decay_scale(ig_trainer *t, int param, float scale)
{
    const char *fn = "ig_trainer_set_weight_decay_scale";
    if (!t) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL trainer", fn);
    if (param < 0 || param >= t->m->n_params)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: parameter %d out of range (the model has %d)", fn, param, t->m->n_params);
    if (!t->m->params[param].trainable)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: parameter %d ('%s') is a buffer, which the optimizer never updates",
                       fn, param, t->m->params[param].name);
    if (!(scale >= 0) || !isfinite(scale))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: scale %g must be a finite number >= 0", fn, scale);
    /* every parameter's slot starts on a chunk of the table and covers whole chunks */
    const ig_val *v = &t->m->g.vals[t->m->params[param].val];
    size_t first = v->offset / sizeof(float) / IG_DECAY_CHUNK, n = ig_opt_decay_count(ig_val_bytes(v));
    float *scales = malloc(n * sizeof *scales);
    if (!scales) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    for (size_t i = 0; i < n; i++) scales[i] = scale;
    ig_backend *be = t->ctx->backend;
    size_t at = ig_opt_decay_at(t->cfg.optimizer, t->m->params_bytes, moments_offset()) + first * sizeof(float);
    ig_status st = be->upload(be, (char *)t->state + at, scales, n * sizeof *scales);
    free(scales);
    return st;
}

float ig_trainer_learning_rate(const ig_trainer *t) { return t ? t->hyper.lr : 0.0f; }
float ig_trainer_current_learning_rate(const ig_trainer *t) { return t ? ig_hyper_lr(&t->hyper, t->hyper.step) : 0.0f; }
float ig_trainer_learning_rate_at(const ig_trainer *t, int64_t step)
{
    return t && step >= 0 ? ig_hyper_lr(&t->hyper, step) : 0.0f;
}
int64_t ig_trainer_step_count(const ig_trainer *t) { return t ? t->hyper.step : 0; }

/* ---- epochs over a dataset kept on the device */

ig_epoch_config ig_epoch_defaults(void)
{
    return (ig_epoch_config){.batch_size = 128, .shuffle = true, .drop_last = false, .seed = 0};
}

static ig_status check_dataset(ig_trainer *t, ig_dataset *ds, int64_t batch, const char *fn)
{
    if (!t || !ds) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, t ? "dataset" : "trainer");
    if (ds->ctx != t->ctx) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: the dataset belongs to another context", fn);
    if (batch < 1) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: batch_size is %lld (must be >= 1)", fn, (long long)batch);
    if (ds->size < 1) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: the dataset is empty", fn);
    const ig_shape *in = &t->m->g.vals[t->m->input].shape;
    bool ok = ds->sample_ndim == in->ndim - 1;
    for (int i = 0; ok && i < ds->sample_ndim; i++) ok = ds->sample_shape[i] == in->d[i + 1];
    if (!ok) {
        char a[64], b[64];
        ig_shape ss = ig_shape_make(ds->sample_ndim, ds->sample_shape), ms = ig_shape_make(in->ndim - 1, in->d + 1);
        return ig_fail(IG_ERR_SHAPE, "%s: dataset samples are %s, the model takes %s", fn, ig_shape_str(&ss, a, sizeof a),
                       ig_shape_str(&ms, b, sizeof b));
    }
    if (ds->targets)
        return ig_fail(IG_ERR_UNSUPPORTED, "%s: the dataset holds float targets; epochs on the device take class labels "
                       "(loop ig_train_batch over a loader's batches instead)", fn);
    if (t->cfg.loss != IG_LOSS_SPARSE_CROSS_ENTROPY)
        return ig_fail(IG_ERR_UNSUPPORTED, "%s: epochs on the device take class labels; this trainer's loss needs float "
                       "targets", fn);
    int64_t classes = t->m->g.vals[t->m->output].shape.d[1];
    if (ds->num_classes > classes)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: the dataset has labels up to %d, the model outputs %lld classes", fn,
                       (int)ds->num_classes - 1, (long long)classes);
    return IG_OK;
}

/* The external buffers of a program over a resident dataset. */
static ig_status data_bases(ig_trainer *t, ig_dataset *ds, bool train, void **ext)
{
    memset(ext, 0, IG_BUF_COUNT * sizeof *ext);
    IG_TRY(ig_dataset_resident(ds, &ext[IG_BUF_DATA_X], &ext[IG_BUF_DATA_Y]));
    ext[IG_BUF_PARAMS] = t->m->param_mem;
    ext[IG_BUF_GRADS] = train ? t->grads : NULL;
    ext[IG_BUF_STATE] = t->state;
    return IG_OK;
}

/* The programs of an epoch over n samples in batches of b: full batches, then the smaller
 * last one (`tail` samples; none when 0). */
static ig_status gather_programs(ig_trainer *t, int64_t n, int64_t b, int64_t tail, bool train, ig_program **main_p,
                                 ig_program **tail_p)
{
    int mode = train ? IG_GATHER_TRAIN : IG_GATHER_EVAL;
    *tail_p = NULL;
    IG_TRY(get_program(t, (ig_program_key){.batch = b, .stride = b, .count = n, .mode = mode}, train, main_p));
    if (!tail) return IG_OK;
    return get_program(t, (ig_program_key){.batch = tail, .stride = b, .count = n, .mode = mode}, train, tail_p);
}

ig_status ig_train_epoch(ig_trainer *t, ig_dataset *ds, const ig_epoch_config *cfg, int64_t *steps)
{
    const char *fn = "ig_train_epoch";
    if (!cfg) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL config", fn);
    if (t && t->cfg.optimizer == IG_OPT_LBFGS)
        return ig_fail(IG_ERR_UNSUPPORTED, "%s: L-BFGS evaluates each batch several times per step, from the host; "
                       "train it with ig_train_batch", fn);
    IG_TRY(check_dataset(t, ds, cfg->batch_size, fn));
    IG_TRY(ig_augment_check(&cfg->augment, ds, fn));
    int64_t n = ds->size, b = cfg->batch_size < n ? cfg->batch_size : n;
    int64_t full = n / b, tail = cfg->drop_last ? 0 : n % b;
    void *ext[IG_BUF_COUNT];
    IG_TRY(data_bases(t, ds, true, ext));
    ig_program *main_p, *tail_p;
    IG_TRY(gather_programs(t, n, b, tail, true, &main_p, &tail_p));
    /* the epoch's only host-to-device traffic: where its batches start, their order and
     * augmentation (the training half of the cursor; the evaluation totals stay as they are) */
    ig_data_cursor head = {.first_step = t->hyper.step,
                           .key = cfg->shuffle ? ig_rng_u64(cfg->seed, (uint64_t)t->epochs) | 1 : 0,
                           .aug_seed = cfg->augment.seed,
                           .aug_pad = cfg->augment.crop_padding,
                           .aug_flip = cfg->augment.flip_probability};
    ig_backend *be = t->ctx->backend;
    IG_TRY(be->upload(be, (char *)t->state + cursor_offset(), &head, offsetof(ig_data_cursor, eval_batch)));
    t->epochs++;
    int64_t total = full + (tail_p != NULL), every = cfg->progress_every > 0 ? cfg->progress_every : 1;
    for (int64_t s = 0; s < total; s++) {
        /* a full batch continues the step before when that step was the last run of the
         * program and of this trainer (a progress callback may have trained in between) */
        if (s > 0 && s < full && t->ahead == main_p && t->ahead_step == t->hyper.step)
            IG_TRY(ig_program_continue(main_p, ext));
        else
            IG_TRY(ig_program_run_ext(s < full ? main_p : tail_p, ext));
        t->hyper.step++;
        t->m->bn_batches++;
        t->ahead = s < full ? main_p : NULL;
        t->ahead_step = t->hyper.step;
        if (cfg->progress && ((s + 1) % every == 0 || s + 1 == total)) cfg->progress(cfg->progress_user, s + 1, total);
    }
    t->ahead = NULL; /* the next epoch, or another dataset, starts afresh */
    if (steps) *steps = total;
    return IG_OK;
}

ig_status ig_evaluate(ig_trainer *t, ig_dataset *ds, int64_t batch_size, ig_eval_result *out)
{
    const char *fn = "ig_evaluate";
    if (!out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL result", fn);
    IG_TRY(check_dataset(t, ds, batch_size, fn));
    int64_t n = ds->size, b = batch_size < n ? batch_size : n, full = n / b, tail = n % b;
    void *ext[IG_BUF_COUNT];
    IG_TRY(data_bases(t, ds, false, ext));
    ig_program *main_p, *tail_p;
    IG_TRY(gather_programs(t, n, b, tail, false, &main_p, &tail_p));
    ig_data_cursor cur;
    ig_backend *be = t->ctx->backend;
    char *dev_cur = (char *)t->state + cursor_offset();
    /* zero the evaluation totals, keep the training half of the cursor */
    size_t eval_at = offsetof(ig_data_cursor, eval_batch);
    memset(&cur, 0, sizeof cur);
    IG_TRY(be->upload(be, dev_cur + eval_at, (char *)&cur + eval_at, sizeof cur - eval_at));
    for (int64_t s = 0; s < full; s++) IG_TRY(ig_program_run_ext(main_p, ext));
    if (tail_p) IG_TRY(ig_program_run_ext(tail_p, ext));
    IG_TRY(be->download(be, &cur, dev_cur, sizeof cur));
    out->count = cur.eval_count;
    out->correct = cur.eval_correct;
    out->loss = (float)(cur.eval_loss / (double)cur.eval_count);
    return IG_OK;
}
