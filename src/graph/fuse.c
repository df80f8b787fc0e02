/* fuse.c — graph passes that merge nodes before planning. */
#include "ops/ops.h"

/* The attribute holding the activation an op applies to its result (DENSE's attrs.i[1],
 * CONV2D's attrs.i[2]), or -1 for ops that apply none. */
static int act_slot(ig_op op)
{
    return op == IG_OP_DENSE ? 1 : op == IG_OP_CONV2D ? 2 : -1;
}

/* dense or conv2d → relu/tanh becomes one node with the activation applied in its epilogue,
 * when the producer's result has no other reader and is not a value the caller keeps. */
ig_status ig_fuse_activations(ig_graph *g, const int *keep, int n_keep)
{
    for (int i = 0; i < g->n_nodes; i++) {
        ig_node *act = &g->nodes[i];
        if (act->op != IG_OP_RELU && act->op != IG_OP_TANH) continue;
        int x = act->in[0];
        int p = g->vals[x].node;
        int slot = p < 0 ? -1 : act_slot(g->nodes[p].op);
        if (slot < 0 || g->nodes[p].attrs.i[slot] != IG_ACT_NONE) continue;
        if (ig_graph_uses(g, x) != 1) continue;
        bool kept = false;
        for (int k = 0; k < n_keep; k++) kept |= keep[k] == x;
        if (kept) continue;
        ig_node *prod = &g->nodes[p];
        prod->attrs.i[slot] = act->op == IG_OP_RELU ? IG_ACT_RELU : IG_ACT_TANH;
        prod->out[0] = act->out[0];
        g->vals[act->out[0]].node = p;
        g->vals[x].node = -1; /* orphaned: read and written by no one */
        act->op = IG_OP_NOP;
        act->n_in = act->n_out = 0;
    }
    return IG_OK;
}
