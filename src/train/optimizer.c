/* optimizer.c — see optimizer.h. */
#include "train/optimizer.h"
#include "ops/opt_math.h"

#include <stdlib.h>

ig_opt_hyper ig_opt_hyper_from(const ig_trainer_config *c)
{
    const ig_lr_schedule *s = &c->schedule;
    ig_hyper_sched sched = {
        .kind = s->kind,
        .n_milestones = s->kind == IG_SCHEDULE_MULTISTEP ? s->n_milestones : 0,
        .step_size = s->step_size,
        .total_steps = s->total_steps,
        .warmup_steps = s->warmup_steps,
        .gamma = s->gamma,
        .min_lr = s->min_lr,
        .max_lr = s->max_lr > 0 ? s->max_lr : c->learning_rate,
        .pct_start = s->pct_start,
        .div_factor = s->div_factor,
        .final_div_factor = s->final_div_factor,
        .warmup_start = s->warmup_start,
        .grad_scale = 1.0f,
    };
    for (int i = 0; i < sched.n_milestones; i++) sched.milestones[i] = s->milestones[i];
    return (ig_opt_hyper){
        .sched = sched,
        .lr = c->learning_rate,
        .beta1 = c->beta1,
        .beta2 = c->beta2,
        .eps = c->eps,
        .weight_decay = c->weight_decay,
        .momentum = c->momentum,
        .dampening = c->dampening,
        .nesterov = c->nesterov,
        .decoupled = c->optimizer == IG_OPT_ADAMW,
        .alpha = c->alpha,
        .rho = c->rho,
        .lr_decay = c->lr_decay,
        .initial_accumulator_value = c->initial_accumulator_value,
        .momentum_decay = c->momentum_decay,
        .centered = c->centered,
        .mu_product = 1.0,
    };
}

/* Per optimizer: its update op and its moment buffers, in the op's input order. */
static const struct {
    ig_op op;
    int moments;
    const char *name;
} opt_table[] = {
    [IG_OPT_SGD] = {IG_OP_SGD, 1, "sgd"},                /* momentum buffer */
    [IG_OPT_ADAM] = {IG_OP_ADAM, 2, "adam"},             /* m, v */
    [IG_OPT_ADAMW] = {IG_OP_ADAM, 2, "adamw"},           /* m, v */
    [IG_OPT_RMSPROP] = {IG_OP_RMSPROP, 3, "rmsprop"},    /* square_avg, momentum buffer, grad_avg */
    [IG_OPT_ADAGRAD] = {IG_OP_ADAGRAD, 1, "adagrad"},    /* sum */
    [IG_OPT_ADADELTA] = {IG_OP_ADADELTA, 2, "adadelta"}, /* square_avg, acc_delta */
    [IG_OPT_NADAM] = {IG_OP_NADAM, 2, "nadam"},          /* m, v */
    [IG_OPT_LBFGS] = {IG_OP_NOP, 0, "lbfgs"},            /* no update node: run from the host (lbfgs.c) */
};

int ig_opt_moments(ig_optimizer o) { return opt_table[o].moments; }

int ig_flat_leaf(ig_graph *g, size_t bytes, ig_buf buf, size_t offset, const char *name)
{
    int64_t n = (int64_t)((bytes + sizeof(float) - 1) / sizeof(float));
    ig_shape s = ig_shape_make(1, &n);
    int v = ig_graph_leaf(g, &s, IG_F32, name);
    if (v >= 0) {
        g->vals[v].buf = buf;
        g->vals[v].offset = offset;
    }
    return v;
}

size_t ig_opt_decay_count(size_t bytes) { return (bytes / sizeof(float) + IG_DECAY_CHUNK - 1) / IG_DECAY_CHUNK; }

size_t ig_opt_decay_at(ig_optimizer o, size_t bytes, size_t moments_at)
{
    return moments_at + (size_t)ig_opt_moments(o) * ig_align(bytes);
}

size_t ig_opt_state_bytes(ig_optimizer o, size_t bytes, size_t moments_at)
{
    return ig_opt_decay_at(o, bytes, moments_at) + ig_align(ig_opt_decay_count(bytes) * sizeof(float));
}

ig_status ig_opt_init_state(ig_backend *be, void *state, ig_optimizer o, size_t bytes, size_t moments_at,
                            const ig_opt_hyper *hyper)
{
    size_t n = ig_opt_decay_count(bytes);
    float *ones = malloc(n * sizeof *ones);
    if (!ones) return ig_fail(IG_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
    for (size_t i = 0; i < n; i++) ones[i] = 1.0f;
    ig_status st = be->upload(be, (char *)state + ig_opt_decay_at(o, bytes, moments_at), ones, n * sizeof *ones);
    free(ones);
    return st == IG_OK ? be->upload(be, state, hyper, sizeof *hyper) : st;
}

/* The update of bytes [lo, hi) of the flat buffers (of `bytes` in all), node `part` of `parts`. */
static ig_status append_range(ig_graph *g, ig_optimizer o, size_t bytes, size_t moments_at, size_t lo, size_t hi,
                              int part, int parts)
{
    static const char *const moment_names[] = {"moment1", "moment2", "moment3"};
    int in[7], n = 0, moments = ig_opt_moments(o);
    in[n++] = ig_flat_leaf(g, hi - lo, IG_BUF_PARAMS, lo, "params");
    in[n++] = ig_flat_leaf(g, hi - lo, IG_BUF_GRADS, lo, "grads");
    for (int k = 0; k < moments; k++)
        in[n++] = ig_flat_leaf(g, hi - lo, IG_BUF_STATE, moments_at + (size_t)k * ig_align(bytes) + lo, moment_names[k]);
    in[n++] = ig_flat_leaf(g, ig_opt_decay_count(hi - lo) * sizeof(float), IG_BUF_STATE,
                           ig_opt_decay_at(o, bytes, moments_at) + lo / IG_DECAY_CHUNK, "decay_scales");
    in[n++] = ig_flat_leaf(g, sizeof(ig_opt_hyper), IG_BUF_STATE, 0, "hyper");
    for (int k = 0; k < n; k++)
        if (in[k] < 0) return ig_fail(IG_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
    ig_attrs at = {.i = {parts, part}};
    return ig_graph_node(g, opt_table[o].op, in, n, &at, opt_table[o].name, NULL);
}

ig_status ig_opt_append(ig_graph *g, ig_optimizer o, size_t bytes, size_t moments_at, size_t split)
{
    if (split == 0 || split >= bytes) return append_range(g, o, bytes, moments_at, 0, bytes, 0, 1);
    if (split % (IG_DECAY_CHUNK * sizeof(float)) != 0)
        return ig_fail(IG_ERR_INTERNAL, "optimizer: split at byte %zu, not a whole weight-decay chunk", split);
    IG_TRY(append_range(g, o, bytes, moments_at, split, bytes, 0, 2));
    return append_range(g, o, bytes, moments_at, 0, split, 1, 2);
}
