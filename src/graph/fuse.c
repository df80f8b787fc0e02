/* fuse.c — graph passes that merge nodes before planning. */
#include "ops/act_math.h"
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

/* Gradient nodes folded into their neighbours.
 * The activation gradient into the node that computes its dy:
 *   matmul (an input gradient) → act_grad (dy, y)  becomes  matmul (a, b, y)
 *   pool2d_grad (dy, x) → act_grad (·, x)           becomes  pool2d_grad with attrs.i[4]
 * (max pooling after a ReLU: the pooled input is the activation's output), for the kinds whose
 * derivative comes from y, when the act_grad is the intermediate's only reader. The fused
 * kernels multiply by the same f'(y) the act_grad would: the same bits, one pass fewer.
 * A convolution's bias gradient (channel_sum (dz)) into its weight gradient (conv2d_wgrad
 * (dz, x)), as a second output: a kernel that reads dz anyway can sum it too.
 * A sparse cross-entropy into the dense layer computing its logits (without an activation),
 * as its second and third outputs: a classifier's few logits per sample are all in one tile
 * of the GEMM, whose last block can take the softmax there (cuda_sgemm.cu), one launch fewer
 * on the step's critical path. The logits stay an output for any other reader. */
ig_status ig_fuse_gradients(ig_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        ig_node *ce = &g->nodes[i];
        if (ce->op != IG_OP_SPARSE_CE) continue;
        int x = ce->in[0], p = g->vals[x].node;
        if (p < 0 || g->vals[x].alias_of >= 0) continue;
        ig_node *d = &g->nodes[p];
        if (d->op != IG_OP_DENSE || d->attrs.i[1] != IG_ACT_NONE || d->attrs.i[2] != 0 || d->n_out != 1) continue;
        if (g->vals[ce->in[1]].node >= p) continue; /* the labels must be ready before the logits */
        d->in[d->n_in++] = ce->in[1];
        d->attrs.i[2] = IG_DENSE_LOSS;
        d->attrs.f[1] = ce->attrs.f[0];
        for (int k = 0; k < 2; k++) {
            d->out[d->n_out++] = ce->out[k];
            g->vals[ce->out[k]].node = p;
        }
        ce->op = IG_OP_NOP;
        ce->n_in = ce->n_out = 0;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        ig_node *cs = &g->nodes[i];
        if (cs->op != IG_OP_CHANNEL_SUM) continue;
        for (int j = 0; j < g->n_nodes; j++) {
            ig_node *w = &g->nodes[j];
            if (w->op != IG_OP_CONV2D_WGRAD || w->n_out != 1 || w->in[0] != cs->in[0]) continue;
            w->out[w->n_out++] = cs->out[0];
            g->vals[cs->out[0]].node = j;
            cs->op = IG_OP_NOP;
            cs->n_in = cs->n_out = 0;
            break;
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        ig_node *ag = &g->nodes[i];
        if (ag->op != IG_OP_ACT_GRAD || ag->n_in != 2 || !ig_act_grad_from_y((int)ag->attrs.i[0])) continue;
        int d = ag->in[0], y = ag->in[1], p = g->vals[d].node;
        if (p < 0 || g->vals[d].alias_of >= 0 || g->vals[d].buf != IG_BUF_NONE || ig_graph_uses(g, d) != 1) continue;
        ig_node *prod = &g->nodes[p];
        if (prod->op == IG_OP_MATMUL && prod->n_in == 2) {
            prod->in[prod->n_in++] = y;
            prod->attrs.i[2] = ag->attrs.i[0];
        } else if (prod->op == IG_OP_POOL2D_GRAD && prod->in[1] == y && prod->attrs.i[4] == IG_ACT_NONE) {
            prod->attrs.i[4] = ag->attrs.i[0];
        } else {
            continue;
        }
        prod->attrs.f[0] = ag->attrs.f[0];
        prod->out[0] = ag->out[0];
        g->vals[ag->out[0]].node = p;
        g->vals[d].node = -1; /* orphaned */
        ag->op = IG_OP_NOP;
        ag->n_in = ag->n_out = 0;
    }
    return IG_OK;
}
