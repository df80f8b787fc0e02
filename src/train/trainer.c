/* trainer.c — compiles model + loss + optimizer into step programs (one per batch size)
 * and runs them: ig_train_batch is one run of one program. */
#include "nn/model.h"
#include "ops/ops.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct ig_trainer {
    ig_model *m;
    ig_ctx *ctx;
    ig_trainer_config cfg;
    ig_opt_hyper hyper; /* host mirror of the hyperparameter block at STATE offset 0 */
    void *grads, *state;
    size_t state_bytes;
    int n_moments; /* optimizer state buffers of params_bytes each */
    ig_program_cache step, eval;
};

_Static_assert(IG_LOSS_RING == IG_LOSS_HISTORY, "the public history length is the ring's");

/* STATE memory: the hyperparameter block, the loss ring, then the optimizer's moments. */
static size_t ring_offset(void) { return ig_align(sizeof(ig_opt_hyper)); }
static size_t moments_offset(void) { return ring_offset() + ig_align(IG_LOSS_RING * sizeof(float)); }

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
    };
}

static ig_status check_config(const ig_trainer_config *c)
{
    const char *fn = "ig_trainer_create";
    if (c->loss != IG_LOSS_SPARSE_CROSS_ENTROPY && c->loss != IG_LOSS_MSE)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: unknown loss %d", fn, (int)c->loss);
    if (c->optimizer != IG_OPT_SGD && c->optimizer != IG_OPT_ADAM && c->optimizer != IG_OPT_ADAMW)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: unknown optimizer %d", fn, (int)c->optimizer);
    if (!(c->learning_rate > 0) || !isfinite(c->learning_rate))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: learning_rate %g must be a finite number > 0", fn, c->learning_rate);
    if (!(c->weight_decay >= 0) || !isfinite(c->weight_decay))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: weight_decay %g must be >= 0", fn, c->weight_decay);
    if (c->optimizer == IG_OPT_SGD) {
        if (!(c->momentum >= 0 && c->momentum < 1))
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: momentum %g must be in [0, 1)", fn, c->momentum);
        if (!(c->dampening >= 0 && c->dampening <= 1))
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: dampening %g must be in [0, 1]", fn, c->dampening);
        if (c->nesterov && (c->momentum <= 0 || c->dampening != 0))
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: nesterov needs momentum > 0 and dampening 0", fn);
    } else {
        if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: betas (%g, %g) must each be in [0, 1)", fn, c->beta1, c->beta2);
        if (!(c->eps > 0)) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: eps %g must be > 0", fn, c->eps);
    }
    return IG_OK;
}

ig_status ig_trainer_create(ig_model *m, const ig_trainer_config *cfg, ig_trainer **out)
{
    if (!m || !cfg || !out)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_trainer_create: NULL %s", !m ? "model" : !cfg ? "config" : "out");
    *out = NULL;
    IG_TRY(check_config(cfg));
    IG_TRY(ig_model_finalize(m));
    const ig_shape *os = &m->g.vals[m->output].shape;
    if (cfg->loss == IG_LOSS_SPARSE_CROSS_ENTROPY && os->ndim != 2) {
        char b[64];
        return ig_fail(IG_ERR_SHAPE, "ig_trainer_create: cross-entropy needs an output of [batch, classes], the model's is %s",
                       ig_shape_str(os, b, sizeof b));
    }
    ig_trainer *t = calloc(1, sizeof *t);
    if (!t) return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_trainer_create: out of memory");
    t->m = m;
    t->ctx = m->ctx;
    t->cfg = *cfg;
    t->hyper = (ig_opt_hyper){
        .lr = cfg->learning_rate,
        .beta1 = cfg->beta1,
        .beta2 = cfg->beta2,
        .eps = cfg->eps,
        .weight_decay = cfg->weight_decay,
        .momentum = cfg->momentum,
        .dampening = cfg->dampening,
        .nesterov = cfg->nesterov,
        .decoupled = cfg->optimizer == IG_OPT_ADAMW,
    };
    t->n_moments = cfg->optimizer == IG_OPT_SGD ? 1 : 2;
    t->state_bytes = moments_offset() + (size_t)t->n_moments * m->params_bytes;
    ig_backend *be = t->ctx->backend;
    t->grads = be->alloc(be, m->params_bytes);
    t->state = be->alloc(be, t->state_bytes);
    ig_status st = (t->grads && t->state) ? be->upload(be, t->state, &t->hyper, sizeof t->hyper)
                                          : ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_trainer_create: cannot allocate optimizer state");
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
    ig_backend *be = t->ctx->backend;
    if (t->grads) be->free(be, t->grads, t->m->params_bytes);
    if (t->state) be->free(be, t->state, t->state_bytes);
    free(t);
}

/* Forward graph + labels + loss, the common head of step and eval programs. */
static ig_status build_loss(ig_trainer *t, int64_t batch, ig_graph *g, int *labels, int *loss, int *dunit)
{
    ig_model *m = t->m;
    IG_TRY(ig_model_instantiate(m, batch, g));
    ig_status st = IG_OK;
    ig_shape ls = g->vals[m->output].shape;
    bool ce = t->cfg.loss == IG_LOSS_SPARSE_CROSS_ENTROPY;
    if (ce) ls = ig_shape_make(1, &batch);
    *labels = ig_graph_leaf(g, &ls, ce ? IG_I32 : IG_F32, "labels");
    if (*labels < 0) st = ig_fail(IG_ERR_OUT_OF_MEMORY, "trainer: out of memory");
    int outs[2];
    if (st == IG_OK)
        st = ig_graph_node(g, ce ? IG_OP_SPARSE_CE : IG_OP_MSE, (int[]){m->output, *labels}, 2, NULL, "loss", outs);
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

static int flat_leaf(ig_graph *g, size_t bytes, ig_buf buf, size_t offset, const char *name)
{
    int64_t n = (int64_t)(bytes / sizeof(float));
    ig_shape s = ig_shape_make(1, &n);
    int v = ig_graph_leaf(g, &s, IG_F32, name);
    if (v >= 0) {
        g->vals[v].buf = buf;
        g->vals[v].offset = offset;
    }
    return v;
}

static ig_status append_backward_and_update(ig_trainer *t, ig_graph *g, int loss)
{
    ig_model *m = t->m;
    int hy = flat_leaf(g, sizeof(ig_opt_hyper), IG_BUF_STATE, 0, "hyper");
    int ring = flat_leaf(g, IG_LOSS_RING * sizeof(float), IG_BUF_STATE, ring_offset(), "loss_ring");
    if (hy < 0 || ring < 0) return ig_fail(IG_ERR_OUT_OF_MEMORY, "trainer: out of memory");
    IG_TRY(ig_graph_node(g, IG_OP_RECORD_LOSS, (int[]){loss, hy, ring}, 3, NULL, "record_loss", NULL));
    int n = m->n_params;
    int *wrt = malloc((size_t)(n ? n : 1) * sizeof *wrt), *grads = malloc((size_t)(n ? n : 1) * sizeof *grads);
    ig_status st = (wrt && grads) ? IG_OK : ig_fail(IG_ERR_OUT_OF_MEMORY, "trainer: out of memory");
    for (int i = 0; st == IG_OK && i < n; i++) wrt[i] = m->params[i].val;
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

    size_t pb = m->params_bytes, h = moments_offset();
    int p = flat_leaf(g, pb, IG_BUF_PARAMS, 0, "params");
    int gr = flat_leaf(g, pb, IG_BUF_GRADS, 0, "grads");
    int s1 = flat_leaf(g, pb, IG_BUF_STATE, h, "moment1");
    int s2 = t->n_moments == 2 ? flat_leaf(g, pb, IG_BUF_STATE, h + pb, "moment2") : 0;
    if (p < 0 || gr < 0 || s1 < 0 || s2 < 0) return ig_fail(IG_ERR_OUT_OF_MEMORY, "trainer: out of memory");
    if (t->cfg.optimizer == IG_OPT_SGD) return ig_graph_node(g, IG_OP_SGD, (int[]){p, gr, s1, hy}, 4, NULL, "sgd", NULL);
    return ig_graph_node(g, IG_OP_ADAM, (int[]){p, gr, s1, s2, hy}, 5, NULL,
                         t->cfg.optimizer == IG_OPT_ADAMW ? "adamw" : "adam", NULL);
}

static ig_status get_program(ig_trainer *t, int64_t batch, bool train, ig_program **out)
{
    ig_program_cache *c = train ? &t->step : &t->eval;
    if ((*out = ig_program_cache_find(c, batch))) return IG_OK;
    ig_graph g;
    int labels, loss, dunit, correct = -1;
    IG_TRY(build_loss(t, batch, &g, &labels, &loss, &dunit));
    ig_status st = IG_OK;
    if (train) {
        st = append_backward_and_update(t, &g, loss);
    } else {
        g.vals[loss].buf = IG_BUF_IO;
    }
    if (st == IG_OK && !train && t->cfg.loss == IG_LOSS_SPARSE_CROSS_ENTROPY) {
        st = ig_graph_node(&g, IG_OP_ACCURACY, (int[]){t->m->output, labels}, 2, NULL, "accuracy", &correct);
        if (st == IG_OK) g.vals[correct].buf = IG_BUF_IO;
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
    ig_program_cache_put(c, batch, p);
    *out = p;
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
        bool ok = y->dtype == IG_F32 && y->ndim == os->ndim && y->shape[0] == *batch;
        for (int i = 1; ok && i < os->ndim; i++) ok = y->shape[i] == os->d[i];
        if (!ok) {
            char b[64];
            ig_shape want = *os;
            want.d[0] = *batch;
            return ig_fail(IG_ERR_SHAPE, "%s: targets must be f32 %s like the model's output", fn,
                           ig_shape_str(&want, b, sizeof b));
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
    IG_TRY(get_program(t, batch, train, &p));
    IG_TRY(ig_program_write(p, p->inputs[0], x->data, x->nbytes));
    IG_TRY(ig_program_write(p, p->inputs[1], y->data, y->nbytes));
    IG_TRY(ig_program_run(p, t->m->param_mem, train ? t->grads : NULL, train ? t->state : NULL));
    if (train) t->hyper.step++;
    *out = p;
    return IG_OK;
}

ig_status ig_train_batch(ig_trainer *t, const ig_tensor *x, const ig_tensor *y, float *loss)
{
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
    ig_program *p;
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

float ig_trainer_learning_rate(const ig_trainer *t) { return t ? t->hyper.lr : 0.0f; }
int64_t ig_trainer_step_count(const ig_trainer *t) { return t ? t->hyper.step : 0; }
