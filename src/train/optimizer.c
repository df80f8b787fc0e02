/* optimizer.c — see optimizer.h. */
#include "train/optimizer.h"

ig_opt_hyper ig_opt_hyper_from(const ig_trainer_config *c)
{
    return (ig_opt_hyper){
        .lr = c->learning_rate,
        .beta1 = c->beta1,
        .beta2 = c->beta2,
        .eps = c->eps,
        .weight_decay = c->weight_decay,
        .momentum = c->momentum,
        .dampening = c->dampening,
        .nesterov = c->nesterov,
        .decoupled = c->optimizer == IG_OPT_ADAMW,
    };
}

int ig_opt_moments(ig_optimizer o) { return o == IG_OPT_SGD ? 1 : 2; }

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

ig_status ig_opt_append(ig_graph *g, ig_optimizer o, size_t bytes, size_t moments_at)
{
    int in[5], n = 0, moments = ig_opt_moments(o);
    in[n++] = ig_flat_leaf(g, bytes, IG_BUF_PARAMS, 0, "params");
    in[n++] = ig_flat_leaf(g, bytes, IG_BUF_GRADS, 0, "grads");
    for (int k = 0; k < moments; k++)
        in[n++] = ig_flat_leaf(g, bytes, IG_BUF_STATE, moments_at + (size_t)k * ig_align(bytes), k ? "moment2" : "moment1");
    in[n++] = ig_flat_leaf(g, sizeof(ig_opt_hyper), IG_BUF_STATE, 0, "hyper");
    for (int k = 0; k < n; k++)
        if (in[k] < 0) return ig_fail(IG_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
    static const char *const names[] = {[IG_OPT_SGD] = "sgd", [IG_OPT_ADAM] = "adam", [IG_OPT_ADAMW] = "adamw"};
    return ig_graph_node(g, o == IG_OPT_SGD ? IG_OP_SGD : IG_OP_ADAM, in, n, NULL, names[o], NULL);
}
