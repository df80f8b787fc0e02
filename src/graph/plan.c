/* plan.c — the memory planner: every transient value gets a fixed offset in one arena,
 * chosen from liveness (a value is live from the node that writes it to the last node that
 * reads it or a view of it). Best-fit over a coalescing free list; an op marked in-place may
 * write its output over its first input when that input dies at the node. Offsets never
 * change after planning, which is what lets a backend capture the step once. */
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

typedef struct blk { size_t off, size; } blk;

typedef struct arena {
    blk *free;
    int n_free, cap_free;
    size_t top; /* end of the highest block in use */
    size_t peak;
} arena;

static int root_of(const ig_graph *g, int v)
{
    while (g->vals[v].alias_of >= 0) v = g->vals[v].alias_of;
    return v;
}

static bool arena_alloc(arena *a, size_t size, size_t *off)
{
    int best = -1;
    for (int i = 0; i < a->n_free; i++)
        if (a->free[i].size >= size && (best < 0 || a->free[i].size < a->free[best].size)) best = i;
    if (best >= 0) {
        *off = a->free[best].off;
        a->free[best].off += size;
        a->free[best].size -= size;
        if (a->free[best].size == 0) {
            memmove(&a->free[best], &a->free[best + 1], (size_t)(a->n_free - best - 1) * sizeof *a->free);
            a->n_free--;
        }
        return true;
    }
    /* extend the top, reusing a free block that ends at it */
    if (a->n_free && a->free[a->n_free - 1].off + a->free[a->n_free - 1].size == a->top) {
        *off = a->free[a->n_free - 1].off;
        a->n_free--;
    } else {
        *off = a->top;
    }
    a->top = *off + size;
    if (a->top > a->peak) a->peak = a->top;
    return true;
}

static bool arena_free(arena *a, size_t off, size_t size)
{
    int i = 0;
    while (i < a->n_free && a->free[i].off < off) i++;
    if (a->n_free + 1 > a->cap_free) {
        int nc = a->cap_free ? a->cap_free * 2 : 32;
        blk *nf = realloc(a->free, (size_t)nc * sizeof *nf);
        if (!nf) return false;
        a->free = nf;
        a->cap_free = nc;
    }
    memmove(&a->free[i + 1], &a->free[i], (size_t)(a->n_free - i) * sizeof *a->free);
    a->free[i] = (blk){off, size};
    a->n_free++;
    if (i + 1 < a->n_free && a->free[i].off + a->free[i].size == a->free[i + 1].off) {
        a->free[i].size += a->free[i + 1].size;
        memmove(&a->free[i + 1], &a->free[i + 2], (size_t)(a->n_free - i - 2) * sizeof *a->free);
        a->n_free--;
    }
    if (i > 0 && a->free[i - 1].off + a->free[i - 1].size == a->free[i].off) {
        a->free[i - 1].size += a->free[i].size;
        memmove(&a->free[i], &a->free[i + 1], (size_t)(a->n_free - i - 1) * sizeof *a->free);
        a->n_free--;
    }
    return true;
}

/* Whether reading value r touches what writing value w writes: the same value, or bytes of
 * the same bound buffer (the optimizer reads every gradient through the flat GRADS leaf). */
static bool touches(const ig_graph *g, int r, int w)
{
    r = root_of(g, r);
    if (r == w) return true;
    const ig_val *a = &g->vals[r], *b = &g->vals[w];
    if (a->buf == IG_BUF_NONE || a->buf == IG_BUF_ARENA || a->buf != b->buf) return false;
    return a->offset < b->offset + ig_val_bytes(b) && b->offset < a->offset + ig_val_bytes(a);
}

static bool is_optimizer(ig_op op)
{
    switch (op) {
    case IG_OP_SGD:
    case IG_OP_ADAM:
    case IG_OP_NADAM:
    case IG_OP_RMSPROP:
    case IG_OP_ADAGRAD:
    case IG_OP_ADADELTA: return true;
    default: return false;
    }
}

/* Which nodes go to the side stream: dense weight gradients and the transposed matmuls (both
 * off the critical path of the input gradients), the loss's record (one thread, read only by
 * the host), convolutions' weight gradients of 2^30 FLOPs or more, the first part of a split
 * optimizer update (ig_opt_advances), which can then run beside the last gradients, and the
 * gather of the next step's batch, beside the update (H200: mlp_small 0.0611 → 0.0592 ms over
 * Fashion-MNIST-sized epochs).
 * Smaller convolution gradients only slowed the data gradient beside them (H200: cnn_small's
 * step 0.255 → 0.270 ms with its 0.9 GFLOP one on the side), larger ones gain (resnet18: 37.7
 * → 35.9 ms). */
static bool on_side_stream(const ig_graph *g, const ig_node *n)
{
    switch (n->op) {
    case IG_OP_DENSE_WGRAD:
    case IG_OP_RECORD_LOSS: return true;
    case IG_OP_MATMUL: return n->attrs.i[0];
    case IG_OP_GATHER: return n->attrs.i[2] == IG_GATHER_AHEAD;
    case IG_OP_CONV2D_WGRAD: return ig_op_get(n->op)->flops(g, n) >= 0x1p30;
    default: return is_optimizer(n->op) && !ig_opt_advances(n);
    }
}

/* Whether node b, after a, must stay after it: one writes what the other reads or writes.
 * Reads of the same bound buffer count too when one of the two updates its inputs there in
 * place (op `updates`: optimizers, the loss record, gathers and evaluation totals through the
 * cursor, clipping, batch norm's running statistics). */
static bool depends(const ig_graph *g, const ig_node *a, const ig_node *b)
{
    if (a->op == IG_OP_NOP || b->op == IG_OP_NOP) return false;
    bool updates = ig_op_get(a->op)->updates || ig_op_get(b->op)->updates;
    for (int i = 0; i < a->n_in + a->n_out; i++) {
        bool a_reads = i < a->n_in;
        int x = root_of(g, a_reads ? a->in[i] : a->out[i - a->n_in]);
        bool bound = g->vals[x].buf != IG_BUF_NONE && g->vals[x].buf != IG_BUF_ARENA;
        for (int j = 0; j < b->n_in + b->n_out; j++) {
            bool b_reads = j < b->n_in;
            if (a_reads && b_reads && !(bound && updates)) continue;
            if (touches(g, b_reads ? b->in[j] : b->out[j - b->n_in], x)) return true;
        }
    }
    return false;
}

/* The two nodes of a split optimizer update (ig_opt_append) share the state they update but
 * not a byte of the parameters: they coordinate through their counter, not by order. */
static bool parts_of_one_update(const ig_node *a, const ig_node *b)
{
    return is_optimizer(a->op) && is_optimizer(b->op) && a->attrs.i[0] > 1 && b->attrs.i[0] > 1;
}

/* A side node starts after every main node queued before it: moved up, a layer's weight
 * gradient runs beside the input gradient after it instead of after that (on an H200,
 * mlp_small's step 0.074 → 0.068 ms, with other changes). */
static void hoist_side_nodes(ig_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        if (!g->nodes[i].stream) continue;
        int to = i;
        while (to > 0 && !g->nodes[to - 1].stream && !depends(g, &g->nodes[to - 1], &g->nodes[i])) to--;
        if (to < i) ig_graph_move_node(g, i, to);
    }
}

/* Each side node's join: the first main node after it that depends on it, else the end. */
static void find_joins(ig_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        ig_node *n = &g->nodes[i];
        if (!n->stream) continue;
        n->join = g->n_nodes;
        for (int j = i + 1; j < g->n_nodes && n->join == g->n_nodes; j++) {
            const ig_node *m = &g->nodes[j];
            if (m->op != IG_OP_NOP && !m->stream && depends(g, n, m) && !parts_of_one_update(n, m)) n->join = j;
        }
    }
}

void ig_schedule_streams(ig_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) g->nodes[i].stream = on_side_stream(g, &g->nodes[i]);
    hoist_side_nodes(g);
    find_joins(g);
    /* a side node whose join is the next main node has nothing to run beside: on the main
     * stream it saves the fork and the join, and side nodes after it can move above it */
    bool moved = false;
    for (int i = 0; i < g->n_nodes; i++) {
        ig_node *n = &g->nodes[i];
        if (!n->stream) continue;
        int next = i + 1;
        while (next < g->n_nodes && (g->nodes[next].stream || g->nodes[next].op == IG_OP_NOP)) next++;
        if (next < g->n_nodes && next == n->join) n->stream = 0, moved = true;
    }
    if (moved) {
        hoist_side_nodes(g);
        find_joins(g);
    }
}

ig_status ig_plan_memory(ig_graph *g, ig_plan_stats *stats)
{
    int nv = g->n_vals;
    int *last = malloc((size_t)nv * sizeof *last);
    int *next_die = malloc((size_t)nv * sizeof *next_die), *dies = malloc((size_t)(g->n_nodes + 1) * sizeof *dies);
    bool *planned = calloc((size_t)nv, sizeof *planned);
    arena a = {0};
    ig_status st = IG_OK;
    memset(stats, 0, sizeof *stats);
    if (!last || !planned || !next_die || !dies) {
        st = ig_fail(IG_ERR_OUT_OF_MEMORY, "planner: out of memory");
        goto done;
    }
    for (int v = 0; v < nv; v++) last[v] = next_die[v] = -1;
    for (int i = 0; i <= g->n_nodes; i++) dies[i] = -1;

    /* Liveness on root values: a read of a view is a read of its root. */
    for (int i = 0; i < g->n_nodes; i++) {
        const ig_node *n = &g->nodes[i];
        if (n->op == IG_OP_NOP) continue;
        int read_at = n->stream ? n->join : i;
        for (int k = 0; k < n->n_in; k++) {
            int r = root_of(g, n->in[k]);
            if (g->vals[r].buf == IG_BUF_NONE && g->vals[r].node < 0) {
                st = ig_fail(IG_ERR_INTERNAL, "planner: '%s' read by '%s' is neither bound nor computed",
                             g->vals[r].name, n->name);
                goto done;
            }
            if (last[r] < read_at) last[r] = read_at;
        }
        /* a side node may still be writing until its join; an output that views another
         * value keeps that one live (a step's batch, fetched ahead for the next run) */
        for (int k = 0; k < n->n_out; k++) {
            int o = root_of(g, n->out[k]);
            if (last[o] < read_at) last[o] = read_at;
        }
    }
    /* dies[i]: the values whose last use is node i, chained through next_die */
    for (int v = 0; v < nv; v++) {
        if (last[v] < 0 || last[v] >= g->n_nodes) continue;
        next_die[v] = dies[last[v]];
        dies[last[v]] = v;
    }

    for (int i = 0; i < g->n_nodes; i++) {
        const ig_node *n = &g->nodes[i];
        if (n->op == IG_OP_NOP) continue;
        const ig_op_def *def = ig_op_get(n->op);
        for (int k = 0; k < n->n_out; k++) {
            int o = n->out[k];
            ig_val *ov = &g->vals[o];
            if (ov->alias_of >= 0 || ov->buf != IG_BUF_NONE) continue;
            size_t size = ig_align(ig_val_bytes(ov));
            stats->unplanned_bytes += size;
            stats->n_values++;
            planned[o] = true;
            ov->buf = IG_BUF_ARENA;
            if (k == 0 && def->inplace && n->n_in > 0) {
                int r = root_of(g, n->in[0]);
                if (planned[r] && last[r] == i && ig_align(ig_val_bytes(&g->vals[r])) == size) {
                    ov->offset = g->vals[r].offset;
                    planned[r] = false; /* its block now belongs to the output */
                    continue;
                }
            }
            arena_alloc(&a, size, &ov->offset);
        }
        /* release what dies here: values read for the last time, outputs never read */
        for (int v = dies[i]; v >= 0; v = next_die[v]) {
            if (!planned[v]) continue;
            planned[v] = false;
            if (!arena_free(&a, g->vals[v].offset, ig_align(ig_val_bytes(&g->vals[v])))) {
                st = ig_fail(IG_ERR_OUT_OF_MEMORY, "planner: out of memory");
                goto done;
            }
        }
    }
    /* views take their root's placement */
    for (int v = 0; v < nv; v++) {
        if (g->vals[v].alias_of < 0) continue;
        int r = root_of(g, v);
        g->vals[v].buf = g->vals[r].buf;
        g->vals[v].offset = g->vals[r].offset;
    }
    stats->arena_bytes = a.peak;
done:
    free(last);
    free(next_die);
    free(dies);
    free(planned);
    free(a.free);
    return st;
}
