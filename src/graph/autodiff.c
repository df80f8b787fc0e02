/* autodiff.c — reverse-mode autodiff as a graph-to-graph transform: walks the forward
 * nodes backwards and lets each op's VJP rule append ordinary nodes. Backends need no
 * autodiff code; forward, backward and optimizer form one graph for planning. */
#include "ops/ops.h"

#include <stdlib.h>

struct ig_ad {
    ig_graph *g;
    int n_orig;  /* values that existed before the backward pass */
    bool *needs; /* per original value */
    int *grad;   /* accumulated gradient value per original value, -1 if none yet */
};

bool ig_ad_needs(const ig_ad *ad, int v) { return v >= 0 && v < ad->n_orig && ad->needs[v]; }
ig_graph *ig_ad_graph(ig_ad *ad) { return ad->g; }

ig_status ig_ad_accum(ig_ad *ad, int v, int g)
{
    if (!ig_ad_needs(ad, v)) return IG_OK;
    ig_graph *gr = ad->g;
    if (g < 0 || !ig_shape_eq(&gr->vals[g].shape, &gr->vals[v].shape)) {
        char a[64], b[64];
        return ig_fail(IG_ERR_INTERNAL, "autodiff: gradient of '%s' has shape %s, the value has %s",
                       gr->vals[v].name, g < 0 ? "(unit)" : ig_shape_str(&gr->vals[g].shape, a, sizeof a),
                       ig_shape_str(&gr->vals[v].shape, b, sizeof b));
    }
    if (ad->grad[v] == -1) {
        ad->grad[v] = g;
        return IG_OK;
    }
    int in[2] = {ad->grad[v], g}, sum;
    IG_TRY(ig_emit(gr, IG_OP_ADD, in, 2, NULL, "grad_sum", &sum));
    ad->grad[v] = sum;
    return IG_OK;
}

ig_status ig_autodiff(ig_graph *g, int n_roots, const int *roots, const int *seeds, int n_wrt,
                      const int *wrt, int *grads)
{
    ig_ad ad = {.g = g, .n_orig = g->n_vals};
    bool *fwd = calloc((size_t)g->n_vals, sizeof *fwd);
    ad.needs = calloc((size_t)g->n_vals, sizeof *ad.needs);
    ad.grad = malloc((size_t)g->n_vals * sizeof *ad.grad);
    ig_status st = IG_OK;
    if (!fwd || !ad.needs || !ad.grad) {
        st = ig_fail(IG_ERR_OUT_OF_MEMORY, "autodiff: out of memory");
        goto done;
    }
    for (int v = 0; v < g->n_vals; v++) ad.grad[v] = -1;

    /* A value needs a gradient when it depends on a wrt value and a root depends on it. */
    for (int i = 0; i < n_wrt; i++) fwd[wrt[i]] = true;
    for (int i = 0; i < g->n_nodes; i++) {
        const ig_node *n = &g->nodes[i];
        bool any = false;
        for (int k = 0; k < n->n_in; k++) any |= fwd[n->in[k]];
        for (int k = 0; k < n->n_out && n->op != IG_OP_NOP; k++) fwd[n->out[k]] |= any;
    }
    for (int i = 0; i < n_roots; i++) ad.needs[roots[i]] = fwd[roots[i]];
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const ig_node *n = &g->nodes[i];
        if (n->op == IG_OP_NOP) continue;
        bool any = false;
        for (int k = 0; k < n->n_out; k++) any |= ad.needs[n->out[k]];
        for (int k = 0; k < n->n_in && any; k++) ad.needs[n->in[k]] |= fwd[n->in[k]];
    }

    for (int i = 0; i < n_roots; i++) {
        if (seeds[i] < 0 && ig_shape_numel(&g->vals[roots[i]].shape) != 1) {
            st = ig_fail(IG_ERR_INTERNAL, "autodiff: root '%s' is not a scalar and has no seed", g->vals[roots[i]].name);
            goto done;
        }
        ad.grad[roots[i]] = seeds[i] < 0 ? IG_GRAD_UNIT : seeds[i];
    }

    int n_fwd = g->n_nodes;
    for (int i = n_fwd - 1; i >= 0; i--) {
        ig_node n = g->nodes[i]; /* a copy: VJP rules append nodes and may move the array */
        if (n.op == IG_OP_NOP) continue;
        int dout[IG_MAX_OUT];
        bool any = false;
        for (int k = 0; k < n.n_out; k++) {
            dout[k] = ad.grad[n.out[k]];
            any |= dout[k] != -1;
        }
        if (!any) continue;
        const ig_op_def *def = ig_op_get(n.op);
        if (!def->vjp) {
            for (int k = 0; k < n.n_in; k++)
                if (ig_ad_needs(&ad, n.in[k])) {
                    st = ig_fail(IG_ERR_UNSUPPORTED, "autodiff: op %s ('%s') has no gradient", def->name, n.name);
                    goto done;
                }
            continue;
        }
        st = def->vjp(&ad, &n, dout);
        if (st != IG_OK) goto done;
    }
    for (int i = 0; i < n_wrt; i++) grads[i] = ad.grad[wrt[i]] == IG_GRAD_UNIT ? -1 : ad.grad[wrt[i]];
done:
    free(fwd);
    free(ad.needs);
    free(ad.grad);
    return st;
}
