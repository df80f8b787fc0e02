/* test_graph.c — tests of the IR: the memory planner, autodiff and activation fusion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"
#include "train/optimizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "ops/act_math.h"
#include "ops/ops.h"
#include "ops/pool.h"



static int leaf(ig_graph *g, int ndim, const int64_t *d, ig_buf buf, size_t offset, const char *name)
{
    ig_shape s = ig_shape_make(ndim, d);
    int v = ig_graph_leaf(g, &s, IG_F32, name);
    assert_true(v >= 0);
    g->vals[v].buf = buf;
    g->vals[v].offset = offset;
    return v;
}

/* Class labels: i32 [n] in buffer buf. */
static int labels_leaf(ig_graph *g, int64_t n, ig_buf buf, const char *name)
{
    int v = ig_graph_leaf(g, &(ig_shape){.ndim = 1, .d = {n}}, IG_I32, name);
    assert_true(v >= 0);
    g->vals[v].buf = buf;
    return v;
}

static int node(ig_graph *g, ig_op op, const int *in, int n_in, const ig_attrs *at)
{
    int out[IG_MAX_OUT];
    OK(ig_graph_node(g, op, in, n_in, at, NULL, out));
    return out[0];
}

static int unary(ig_graph *g, ig_op op, int x) { return node(g, op, &x, 1, NULL); }
static int add(ig_graph *g, int a, int b) { return node(g, IG_OP_ADD, (int[]){a, b}, 2, NULL); }

static float urand(uint64_t seed, uint64_t i) { return 2.0f * ig_rng_uniform(seed, i) - 1.0f; }

static void fill(float *x, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) x[i] = urand(seed, i);
}

static size_t vbytes(const ig_graph *g, int v) { return ig_align(ig_val_bytes(&g->vals[v])); }

/* ---------------------------------------------------------------- planner */

/* A chain of copies needs two live buffers at a time however long it is; a chain of relus,
 * which work in place, one. */
static void test_plan_chain(void **state)
{
    const int64_t d[2] = {64, 256};
    const ig_op ops[2] = {IG_OP_COPY, IG_OP_RELU};
    const size_t want[2] = {2, 1};
    for (int c = 0; c < 2; c++) {
        ig_graph g;
        ig_graph_init(&g);
        int v = leaf(&g, 2, d, IG_BUF_IO, 0, "x");
        for (int i = 0; i < 10; i++) v = unary(&g, ops[c], v);
        g.vals[v].buf = IG_BUF_IO;
        ig_plan_stats st;
        OK(ig_plan_memory(&g, &st));
        size_t size = vbytes(&g, v);
        print_message("chain of 10 %s: planned %zu bytes, unplanned %zu (%d values)\n", ig_op_get(ops[c])->name,
                      st.arena_bytes, st.unplanned_bytes, st.n_values);
        assert_int_equal(st.n_values, 9);
        assert_int_equal(st.unplanned_bytes, 9 * size);
        assert_int_equal(st.arena_bytes, want[c] * size);
        ig_graph_free(&g);
    }
}

/* A value's live interval: from the node that writes it to the last node that reads it
 * or a view of it. */
static int root_of(const ig_graph *g, int v)
{
    while (g->vals[v].alias_of >= 0) v = g->vals[v].alias_of;
    return v;
}

static void live_intervals(const ig_graph *g, int *def, int *last)
{
    for (int v = 0; v < g->n_vals; v++) def[v] = last[v] = g->vals[v].node;
    for (int i = 0; i < g->n_nodes; i++) {
        const ig_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++) {
            int r = root_of(g, n->in[k]);
            if (last[r] < i) last[r] = i;
        }
    }
}

/* Whether node i writes b over a, its first input, which dies there (in-place reuse). */
static bool inplace_pair(const ig_graph *g, const int *last, int a, int b)
{
    int i = g->vals[b].node;
    if (i < 0) return false;
    const ig_node *n = &g->nodes[i];
    return ig_op_get(n->op)->inplace && n->out[0] == b && root_of(g, n->in[0]) == a && last[a] == i &&
           g->vals[a].offset == g->vals[b].offset;
}

/* Random DAGs of dense/relu/tanh/add/copy/reshape over [B, w] and [B, 2, w/2] values,
 * with IO inputs, PARAMS weights and a few IO outputs. */
enum { B = 4, MAX_VALS = 256 };

typedef struct dag {
    ig_graph g;
    int inputs[2], outputs[3], n_outputs;
    size_t params_bytes;
} dag;

static uint64_t rnd(uint64_t seed, uint64_t *ctr, uint64_t n) { return ig_rng_u64(seed, (*ctr)++) % n; }

static void random_dag(dag *d, uint64_t seed, int n_nodes)
{
    ig_graph *g = &d->g;
    ig_graph_init(g);
    uint64_t ctr = 0;
    size_t io_off = 0;
    d->params_bytes = 0;
    /* IO offsets are arbitrary but fixed: the planner must not touch them */
    d->inputs[0] = leaf(g, 2, (int64_t[]){B, 8}, IG_BUF_IO, io_off, "x0");
    io_off += 1024;
    d->inputs[1] = leaf(g, 2, (int64_t[]){B, 16}, IG_BUF_IO, io_off, "x1");
    int vals[MAX_VALS], n = 0;
    vals[n++] = d->inputs[0];
    vals[n++] = d->inputs[1];
    for (int i = 0; i < n_nodes; i++) {
        /* favour recent values (chains) but keep old ones alive now and then */
        int a = vals[n - 1 - (int)rnd(seed, &ctr, (uint64_t)(rnd(seed, &ctr, 4) ? (n < 4 ? n : 4) : n))];
        const ig_shape *as = &g->vals[a].shape;
        int v;
        switch (rnd(seed, &ctr, 6)) {
        case 0: { /* add with a value of the same shape, or with itself */
            int b = a;
            for (int tries = 0; tries < 8; tries++) {
                int c = vals[rnd(seed, &ctr, (uint64_t)n)];
                if (ig_shape_eq(&g->vals[c].shape, as) && c != a) {
                    b = c;
                    break;
                }
            }
            v = add(g, a, b);
            break;
        }
        case 1: v = unary(g, IG_OP_RELU, a); break;
        case 2: v = unary(g, IG_OP_TANH, a); break;
        case 3: v = unary(g, IG_OP_COPY, a); break;
        case 4: { /* [B, w] <-> [B, 2, w/2] */
            ig_attrs at = {.shape = as->ndim == 2 ? ig_shape_make(2, (int64_t[]){2, as->d[1] / 2})
                                                  : ig_shape_make(1, (int64_t[]){as->d[1] * as->d[2]})};
            v = node(g, IG_OP_RESHAPE, &a, 1, &at);
            break;
        }
        default: {
            if (as->ndim != 2) {
                v = unary(g, IG_OP_RELU, a);
                break;
            }
            int64_t units = 8 * (1 + (int64_t)rnd(seed, &ctr, 4)), in = as->d[1];
            int w = leaf(g, 2, (int64_t[]){units, in}, IG_BUF_PARAMS, d->params_bytes, "w");
            d->params_bytes += vbytes(g, w);
            int b = leaf(g, 1, &units, IG_BUF_PARAMS, d->params_bytes, "b");
            d->params_bytes += vbytes(g, b);
            bool bias = rnd(seed, &ctr, 2);
            ig_attrs at = {.i = {bias, (int64_t)rnd(seed, &ctr, 3)}};
            v = node(g, IG_OP_DENSE, (int[]){a, w, b}, bias ? 3 : 2, &at);
        }
        }
        if (n < MAX_VALS) vals[n++] = v;
    }
    /* outputs: the last value and two others, computed and not views */
    d->n_outputs = 0;
    for (int i = n - 1; i >= 2 && d->n_outputs < 3; i -= 1 + (int)rnd(seed, &ctr, 8)) {
        ig_val *v = &g->vals[vals[i]];
        if (v->alias_of >= 0 || v->buf != IG_BUF_NONE) continue;
        io_off += 4096;
        v->buf = IG_BUF_IO;
        v->offset = io_off;
        d->outputs[d->n_outputs++] = vals[i];
    }
    assert_true(d->n_outputs > 0);
}

static void check_plan(const ig_graph *before, const ig_graph *g, const ig_plan_stats *st, uint64_t seed)
{
    int *def = malloc((size_t)g->n_vals * sizeof *def), *last = malloc((size_t)g->n_vals * sizeof *last);
    assert_true(def && last);
    live_intervals(g, def, last);
    size_t unplanned = 0;
    for (int v = 0; v < g->n_vals; v++) {
        const ig_val *a = &g->vals[v], *b = &before->vals[v];
        if (b->buf == IG_BUF_IO || b->buf == IG_BUF_PARAMS) {
            if (a->buf != b->buf || a->offset != b->offset)
                fail_msg("seed %llu: '%s' moved from buffer %d+%zu to %d+%zu", (unsigned long long)seed, a->name,
                         b->buf, b->offset, a->buf, a->offset);
        } else if (a->alias_of >= 0) {
            const ig_val *r = &g->vals[root_of(g, v)];
            if (a->buf != r->buf || a->offset != r->offset)
                fail_msg("seed %llu: view '%s' is not at its root's place", (unsigned long long)seed, a->name);
        } else if (a->node >= 0) {
            assert_int_equal(a->buf, IG_BUF_ARENA);
            assert_int_equal(a->offset % IG_ALIGN, 0);
            assert_true(a->offset + vbytes(g, v) <= st->arena_bytes);
            unplanned += vbytes(g, v);
        }
    }
    assert_int_equal(st->unplanned_bytes, unplanned);
    assert_true(st->arena_bytes <= st->unplanned_bytes);
    /* values alive at the same time never share bytes, except an in-place output and the
     * input that dies where it is written */
    for (int a = 0; a < g->n_vals; a++) {
        const ig_val *va = &g->vals[a];
        if (va->buf != IG_BUF_ARENA || va->alias_of >= 0) continue;
        for (int b = a + 1; b < g->n_vals; b++) {
            const ig_val *vb = &g->vals[b];
            if (vb->buf != IG_BUF_ARENA || vb->alias_of >= 0) continue;
            bool live_together = def[a] <= last[b] && def[b] <= last[a];
            bool share = va->offset < vb->offset + vbytes(g, b) && vb->offset < va->offset + vbytes(g, a);
            if (live_together && share && !inplace_pair(g, last, a, b))
                fail_msg("seed %llu: '%s' [%d, %d] at %zu+%zu and '%s' [%d, %d] at %zu+%zu overlap",
                         (unsigned long long)seed, va->name, def[a], last[a], va->offset, vbytes(g, a), vb->name,
                         def[b], last[b], vb->offset, vbytes(g, b));
        }
    }
    free(def);
    free(last);
}

/* Runs a DAG once as planned and once with every computed value in a place of its own
 * (all IO): shared arena bytes must not change any output. */
static void run_both_ways(ig_ctx *ctx, const dag *d, uint64_t seed)
{
    ig_graph planned, separate;
    OK(ig_graph_copy(&planned, &d->g));
    OK(ig_graph_copy(&separate, &d->g));
    for (int v = 0; v < separate.n_vals; v++)
        if (separate.vals[v].node >= 0 && separate.vals[v].alias_of < 0) separate.vals[v].buf = IG_BUF_IO;
    ig_program *p[2];
    OK(ig_program_create(ctx, &planned, &p[0]));
    OK(ig_program_create(ctx, &separate, &p[1]));
    assert_int_equal(p[1]->plan.arena_bytes, 0);
    float *params = malloc(d->params_bytes ? d->params_bytes : 1);
    assert_non_null(params);
    fill(params, d->params_bytes / sizeof *params, seed + 1);
    float x0[B * 8], x1[B * 16];
    fill(x0, B * 8, seed + 2);
    fill(x1, B * 16, seed + 3);
    for (int k = 0; k < 2; k++) {
        OK(ig_program_write(p[k], d->inputs[0], x0, sizeof x0));
        OK(ig_program_write(p[k], d->inputs[1], x1, sizeof x1));
        OK(ig_program_run(p[k], params, NULL, NULL));
    }
    for (int o = 0; o < d->n_outputs; o++) {
        size_t bytes = ig_val_bytes(&d->g.vals[d->outputs[o]]);
        float *y0 = malloc(bytes), *y1 = malloc(bytes);
        assert_true(y0 && y1);
        OK(ig_program_read(p[0], d->outputs[o], y0, bytes));
        OK(ig_program_read(p[1], d->outputs[o], y1, bytes));
        if (memcmp(y0, y1, bytes) != 0)
            fail_msg("seed %llu: output '%s' differs between the planned and the unshared run", (unsigned long long)seed,
                     d->g.vals[d->outputs[o]].name);
        free(y0);
        free(y1);
    }
    free(params);
    ig_program_destroy(p[0]);
    ig_program_destroy(p[1]);
}

static void test_plan_random_dags(void **state)
{
    size_t planned = 0, unplanned = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        dag d;
        random_dag(&d, seed, 40);
        ig_graph g;
        OK(ig_graph_copy(&g, &d.g));
        ig_plan_stats st;
        OK(ig_plan_memory(&g, &st));
        check_plan(&d.g, &g, &st, seed);
        planned += st.arena_bytes;
        unplanned += st.unplanned_bytes;
        ig_graph_free(&g);
        if (seed % 10 == 0) run_both_ways(*state, &d, seed);
        ig_graph_free(&d.g);
    }
    print_message("200 random DAGs: planned %zu bytes in all, unplanned %zu\n", planned, unplanned);
    assert_true(planned < unplanned);
}

/* A view has no bytes of its own: it sits where its root does, in the arena or in IO. */
/* The backward pass of a 4-layer MLP scheduled on two streams, its SGD update whole or split
 * after the first layer's parameters (whose gradients come last): every weight-gradient GEMM
 * goes to the side stream, moved up to just after the node computing what it reads, but the
 * last one, which nothing could run beside, stays on the main stream; a split update's first
 * part goes to the side stream too, to just after the last gradient it reads. Joins come
 * before the first main reader, the order stays one where every value is computed before it
 * is read, and nothing the main stream writes between a side node and its join may overlap
 * the side node's operands or results (they are in use all that time). */
static void test_plan_two_streams(void **state)
{
    for (int split = 0; split < 2; split++) {
        ig_graph g;
        ig_graph_init(&g);
        int64_t n = 16;
        int x = leaf(&g, 2, (int64_t[]){n, 24}, IG_BUF_IO, 0, "x");
        int labels = labels_leaf(&g, n, IG_BUF_IO, "labels");
        int h = x, params[8], np = 0;
        size_t off = 0, first_layer = 0;
        for (int l = 0; l < 4; l++) {
            int64_t in = g.vals[h].shape.d[1], out = l == 3 ? 5 : 32;
            int w = leaf(&g, 2, (int64_t[]){out, in}, IG_BUF_PARAMS, off, "w");
            off += vbytes(&g, w);
            params[np++] = w;
            if (l % 2 == 0) { /* with and without bias: DENSE_WGRAD and a plain dW MATMUL */
                int b = leaf(&g, 1, &out, IG_BUF_PARAMS, off, "b");
                off += vbytes(&g, b);
                params[np++] = b;
                h = node(&g, IG_OP_DENSE, (int[]){h, w, b}, 3, &(ig_attrs){.i = {1, l < 3 ? IG_ACT_RELU : 0}});
            } else {
                h = node(&g, IG_OP_DENSE, (int[]){h, w}, 2, &(ig_attrs){.i = {0, IG_ACT_RELU}});
            }
            if (l == 0) first_layer = off;
        }
        int outs[2];
        OK(ig_graph_node(&g, IG_OP_SPARSE_CE, (int[]){h, labels}, 2, NULL, "loss", outs));
        int grads[8];
        OK(ig_autodiff(&g, 1, &outs[0], (int[]){-1}, np, params, grads));
        for (int i = 0; i < np; i++) { /* as the trainer binds them: each in its GRADS slot */
            g.vals[grads[i]].buf = IG_BUF_GRADS;
            g.vals[grads[i]].offset = g.vals[params[i]].offset;
        }
        OK(ig_opt_append(&g, IG_OPT_SGD, off, ig_align(sizeof(ig_opt_hyper)), split ? first_layer : 0));

        ig_schedule_streams(&g);
        int side_wgrads = 0, main_wgrads = 0, updates = 0;
        for (int i = 0; i < g.n_nodes; i++) {
            const ig_node *nd = &g.nodes[i];
            bool wgrad = nd->op == IG_OP_DENSE_WGRAD || (nd->op == IG_OP_MATMUL && nd->attrs.i[0]);
            if (nd->op == IG_OP_SGD) {
                updates++;
                assert_int_equal(nd->stream, split && nd->attrs.i[1] == 0);
                assert_true(!nd->stream || nd->join == g.n_nodes); /* nothing reads what it updates */
            }
            if (!wgrad) continue;
            if (!nd->stream) {
                main_wgrads++;
                continue;
            }
            side_wgrads++;
            assert_true(nd->join > i && nd->join <= g.n_nodes);
        }
        assert_int_equal(updates, split ? 2 : 1);
        assert_int_equal(side_wgrads, 3);
        assert_int_equal(main_wgrads, 1);
        for (int i = 0; i < g.n_nodes; i++) {
            const ig_node *nd = &g.nodes[i];
            for (int k = 0; k < nd->n_out; k++) assert_int_equal(g.vals[nd->out[k]].node, i);
            for (int k = 0; k < nd->n_in; k++) assert_true(g.vals[nd->in[k]].node < i);
            if (!nd->stream || nd->op == IG_OP_SGD) continue;
            const ig_node *before = &g.nodes[i - 1]; /* what it waited for, or the side node before */
            bool reads_before = before->stream;
            for (int k = 0; k < nd->n_in; k++) reads_before |= g.vals[root_of(&g, nd->in[k])].node == i - 1;
            if (!reads_before) fail_msg("side node %d '%s' was not moved up to what it reads", i, nd->name);
        }
        if (split) { /* the first part right after the last gradient it reads, before the first layer's */
            int part0 = -1, last_wgrad = -1;
            for (int i = 0; i < g.n_nodes; i++) {
                const ig_node *nd = &g.nodes[i];
                if (nd->op == IG_OP_SGD && nd->attrs.i[1] == 0) part0 = i;
                if ((nd->op == IG_OP_DENSE_WGRAD || (nd->op == IG_OP_MATMUL && nd->attrs.i[0])) && !nd->stream)
                    last_wgrad = i;
            }
            assert_true(part0 >= 0 && part0 < last_wgrad);
        }
        assert_true(g.nodes[g.n_nodes - 1].op == IG_OP_SGD && !g.nodes[g.n_nodes - 1].stream);
        ig_plan_stats st;
        OK(ig_plan_memory(&g, &st));
        for (int i = 0; i < g.n_nodes; i++) {
            const ig_node *sn = &g.nodes[i];
            if (!sn->stream) continue;
            for (int j = i + 1; j <= sn->join && j < g.n_nodes; j++) {
                const ig_node *mn = &g.nodes[j];
                if (mn->stream) continue;
                for (int o = 0; o < mn->n_out; o++) {
                    const ig_val *w = &g.vals[mn->out[o]];
                    if (w->buf != IG_BUF_ARENA) continue;
                    for (int k = 0; k < sn->n_in + sn->n_out; k++) {
                        int v = root_of(&g, k < sn->n_in ? sn->in[k] : sn->out[k - sn->n_in]);
                        const ig_val *u = &g.vals[v];
                        if (u->buf != IG_BUF_ARENA) continue;
                        bool overlap = w->offset < u->offset + vbytes(&g, v) && u->offset < w->offset + vbytes(&g, mn->out[o]);
                        if (overlap) fail_msg("'%s' (main, node %d) overlaps '%s' used by side node %d until %d", w->name, j,
                                              u->name, i, sn->join);
                    }
                }
            }
        }
        ig_graph_free(&g);
    }
}

/* The loss record reads the step counter the update advances: the update waits for it even
 * when no other side node lies between them (here the "gradient" is a main-stream copy). */
static void test_plan_record_joins_update(void **state)
{
    ig_graph g;
    ig_graph_init(&g);
    int64_t n = 8;
    int x = leaf(&g, 2, (int64_t[]){n, 12}, IG_BUF_IO, 0, "x");
    int labels = labels_leaf(&g, n, IG_BUF_IO, "labels");
    int w = leaf(&g, 2, (int64_t[]){4, 12}, IG_BUF_PARAMS, 0, "w");
    int logits = node(&g, IG_OP_DENSE, (int[]){x, w}, 2, &(ig_attrs){.i = {0, 0}});
    int outs[2];
    OK(ig_graph_node(&g, IG_OP_SPARSE_CE, (int[]){logits, labels}, 2, NULL, "loss", outs));
    size_t ring_at = ig_align(sizeof(ig_opt_hyper));
    int hy = leaf(&g, 1, (int64_t[]){sizeof(ig_opt_hyper) / 4}, IG_BUF_STATE, 0, "hyper");
    int ring = leaf(&g, 1, (int64_t[]){IG_LOSS_RING}, IG_BUF_STATE, ring_at, "loss_ring");
    OK(ig_graph_node(&g, IG_OP_RECORD_LOSS, (int[]){outs[0], hy, ring}, 3, NULL, "record_loss", NULL));
    int grad = unary(&g, IG_OP_COPY, w);
    g.vals[grad].buf = IG_BUF_GRADS;
    OK(ig_opt_append(&g, IG_OPT_SGD, vbytes(&g, w), ring_at + ig_align(IG_LOSS_RING * sizeof(float)), 0));
    ig_schedule_streams(&g);
    const ig_node *record = &g.nodes[2], *update = &g.nodes[4];
    assert_int_equal(record->op, IG_OP_RECORD_LOSS);
    assert_int_equal(update->op, IG_OP_SGD);
    assert_int_equal(record->stream, 1);
    assert_int_equal(record->join, 4);
    ig_graph_free(&g);
}

/* A training step over a resident dataset, as the trainer builds it: the gather first, the
 * AHEAD gather of the next batch last. Scheduled, the AHEAD gather runs on the side stream
 * after the last node that reads the batch and before the update's last part, so that it
 * overlaps that; the batch it writes is no other value's memory at any point of the step. */
static void test_plan_gather_ahead(void **state)
{
    ig_graph g;
    ig_graph_init(&g);
    int64_t n = 16, count = 64;
    int xa = leaf(&g, 2, (int64_t[]){count, 24}, IG_BUF_DATA_X, 0, "data_x");
    int ya = labels_leaf(&g, count, IG_BUF_DATA_Y, "data_y");
    size_t cursor_at = ig_align(sizeof(ig_opt_hyper)), moments_at = cursor_at + ig_align(sizeof(ig_data_cursor));
    int hy = leaf(&g, 1, (int64_t[]){sizeof(ig_opt_hyper) / 4}, IG_BUF_STATE, 0, "hyper");
    int cur = leaf(&g, 1, (int64_t[]){sizeof(ig_data_cursor) / 4}, IG_BUF_STATE, cursor_at, "cursor");
    int batch[2];
    OK(ig_graph_node(&g, IG_OP_GATHER, (int[]){xa, ya, cur, hy}, 4, &(ig_attrs){.i = {n, n, IG_GATHER_TRAIN}}, "gather",
                     batch));
    int h = batch[0], params[6], np = 0;
    size_t off = 0, first_layer = 0;
    for (int l = 0; l < 3; l++) {
        int64_t in = g.vals[h].shape.d[1], out = l == 2 ? 5 : 32;
        int w = leaf(&g, 2, (int64_t[]){out, in}, IG_BUF_PARAMS, off, "w");
        off += vbytes(&g, w);
        int b = leaf(&g, 1, &out, IG_BUF_PARAMS, off, "b");
        off += vbytes(&g, b);
        params[np++] = w;
        params[np++] = b;
        h = node(&g, IG_OP_DENSE, (int[]){h, w, b}, 3, &(ig_attrs){.i = {1, l < 2 ? IG_ACT_RELU : 0}});
        if (l == 0) first_layer = off;
    }
    int outs[2];
    OK(ig_graph_node(&g, IG_OP_SPARSE_CE, (int[]){h, batch[1]}, 2, NULL, "loss", outs));
    int grads[6];
    OK(ig_autodiff(&g, 1, &outs[0], (int[]){-1}, np, params, grads));
    for (int i = 0; i < np; i++) {
        g.vals[grads[i]].buf = IG_BUF_GRADS;
        g.vals[grads[i]].offset = g.vals[params[i]].offset;
    }
    OK(ig_fuse_gradients(&g));
    OK(ig_opt_append(&g, IG_OPT_ADAM, off, moments_at, first_layer));
    OK(ig_gather_append_ahead(&g, 0));
    assert_int_equal(ig_gather_append_ahead(&g, 1), IG_ERR_INTERNAL); /* not a training gather */
    ig_schedule_streams(&g);
    assert_true(g.nodes[0].op == IG_OP_GATHER && g.nodes[0].lead);
    int ahead = -1, last_reader = -1, advance = -1;
    for (int i = 0; i < g.n_nodes; i++) {
        const ig_node *nd = &g.nodes[i];
        if (nd->op == IG_OP_GATHER && nd->attrs.i[2] == IG_GATHER_AHEAD) ahead = i;
        if (nd->op == IG_OP_ADAM && ig_opt_advances(nd)) advance = i;
        for (int k = 0; k < nd->n_in && i > 0; k++)
            if (root_of(&g, nd->in[k]) == batch[0] || root_of(&g, nd->in[k]) == batch[1]) last_reader = i;
    }
    assert_true(ahead > last_reader && ahead < advance);
    assert_int_equal(g.nodes[ahead].stream, 1);
    assert_int_equal(g.nodes[ahead].join, g.n_nodes);
    assert_false(g.nodes[ahead].lead);
    ig_plan_stats st;
    OK(ig_plan_memory(&g, &st));
    for (int k = 0; k < 2; k++) {
        const ig_val *b = &g.vals[batch[k]], *next = &g.vals[g.nodes[ahead].out[k]];
        assert_int_equal(b->buf, IG_BUF_ARENA);
        assert_int_equal(next->buf, IG_BUF_ARENA);
        assert_int_equal(next->offset, b->offset);
        for (int v = 0; v < g.n_vals; v++) {
            const ig_val *u = &g.vals[v];
            if (u->buf != IG_BUF_ARENA || root_of(&g, v) == batch[k]) continue;
            bool overlap = u->offset < b->offset + vbytes(&g, batch[k]) && b->offset < u->offset + vbytes(&g, v);
            if (overlap) fail_msg("'%s' shares the batch's memory ('%s')", u->name, b->name);
        }
    }
    ig_graph_free(&g);
}

static void test_plan_views(void **state)
{
    ig_graph g;
    ig_graph_init(&g);
    int x = leaf(&g, 3, (int64_t[]){4, 2, 3}, IG_BUF_IO, 512, "x");
    ig_attrs flat = {.shape = ig_shape_make(1, (int64_t[]){6})};
    int xv = node(&g, IG_OP_RESHAPE, &x, 1, &flat);
    int c = unary(&g, IG_OP_COPY, xv);
    int cv = node(&g, IG_OP_RESHAPE, &c, 1, &(ig_attrs){.shape = ig_shape_make(2, (int64_t[]){2, 3})});
    int cvv = node(&g, IG_OP_RESHAPE, &cv, 1, &flat);
    int y = unary(&g, IG_OP_TANH, cvv);
    g.vals[y].buf = IG_BUF_IO;
    ig_plan_stats st;
    OK(ig_plan_memory(&g, &st));
    assert_int_equal(g.vals[xv].buf, IG_BUF_IO);
    assert_int_equal(g.vals[xv].offset, 512);
    assert_int_equal(g.vals[c].buf, IG_BUF_ARENA);
    assert_int_equal(g.vals[cv].buf, IG_BUF_ARENA);
    assert_int_equal(g.vals[cv].offset, g.vals[c].offset);
    assert_int_equal(g.vals[cvv].offset, g.vals[c].offset);
    assert_int_equal(st.n_values, 1); /* only c has bytes of its own */
    ig_graph_free(&g);
}

/* relu writes over its input when that input dies there, and only then. */
static void test_plan_inplace(void **state)
{
    const int64_t d[2] = {8, 32};
    for (int reread = 0; reread < 2; reread++) {
        ig_graph g;
        ig_graph_init(&g);
        int x = leaf(&g, 2, d, IG_BUF_IO, 0, "x");
        int a = unary(&g, IG_OP_COPY, x);
        int r = unary(&g, IG_OP_RELU, a);
        int y = reread ? add(&g, r, a) : unary(&g, IG_OP_COPY, r);
        g.vals[y].buf = IG_BUF_IO;
        ig_plan_stats st;
        OK(ig_plan_memory(&g, &st));
        if (reread)
            assert_int_not_equal(g.vals[r].offset, g.vals[a].offset);
        else
            assert_int_equal(g.vals[r].offset, g.vals[a].offset);
        assert_int_equal(st.arena_bytes, (reread ? 2 : 1) * vbytes(&g, a));
        ig_graph_free(&g);
    }
    /* an input in IO is never overwritten, dead or not */
    ig_graph g;
    ig_graph_init(&g);
    int x = leaf(&g, 2, d, IG_BUF_IO, 0, "x");
    int r = unary(&g, IG_OP_RELU, x);
    int y = unary(&g, IG_OP_COPY, r);
    g.vals[y].buf = IG_BUF_IO;
    ig_plan_stats st;
    OK(ig_plan_memory(&g, &st));
    assert_int_equal(g.vals[x].offset, 0);
    assert_int_equal(g.vals[r].buf, IG_BUF_ARENA);
    ig_graph_free(&g);
}

/* ---------------------------------------------------------------- autodiff */

/* y = x + x: the two uses' gradients are summed, dx = 2·dy; and z = tanh(x) + x mixes a
 * path through an op with a direct one: dx = dz·(1 − tanh²x) + dz. */
static void test_autodiff_sums_uses(void **state)
{
    ig_ctx *ctx = *state;
    for (int variant = 0; variant < 2; variant++) {
        ig_graph g;
        ig_graph_init(&g);
        const int64_t d[2] = {3, 4};
        int x = leaf(&g, 2, d, IG_BUF_IO, 0, "x");
        int y = add(&g, variant ? unary(&g, IG_OP_TANH, x) : x, x);
        int r = leaf(&g, 2, d, IG_BUF_IO, 0, "r");
        int n_before = g.n_nodes, gx;
        OK(ig_autodiff(&g, 1, &y, &r, 1, &x, &gx));
        assert_true(gx >= 0);
        int sums = 0;
        for (int i = n_before; i < g.n_nodes; i++) sums += g.nodes[i].op == IG_OP_ADD;
        assert_int_equal(sums, 1);
        OK(ig_graph_materialize(&g, gx, &gx));
        g.vals[gx].buf = IG_BUF_IO;
        ig_program *p;
        OK(ig_program_create(ctx, &g, &p));
        float xv[12], rv[12], dx[12];
        fill(xv, 12, 5);
        fill(rv, 12, 6);
        OK(ig_program_write(p, x, xv, sizeof xv));
        OK(ig_program_write(p, r, rv, sizeof rv));
        OK(ig_program_run(p, NULL, NULL, NULL));
        OK(ig_program_read(p, gx, dx, sizeof dx));
        for (int i = 0; i < 12; i++) {
            if (variant == 0) {
                assert_true(dx[i] == 2.0f * rv[i]); /* r + r is exact */
            } else {
                float t = tanhf(xv[i]);
                assert_float_equal(dx[i], rv[i] * (1 - t * t) + rv[i], 1e-6);
            }
        }
        ig_program_destroy(p);
    }
}

/* Values the roots do not depend on through them get no gradient (-1), and no nodes are
 * emitted for them. */
static void test_autodiff_off_path(void **state)
{
    ig_graph g;
    ig_graph_init(&g);
    const int64_t d[2] = {2, 3};
    int x = leaf(&g, 2, d, IG_BUF_IO, 0, "x");
    int w = leaf(&g, 2, d, IG_BUF_IO, 0, "w");
    int unused = leaf(&g, 2, d, IG_BUF_IO, 0, "unused");
    int side = unary(&g, IG_OP_TANH, w); /* depends on w, but the root does not depend on it */
    int y = unary(&g, IG_OP_RELU, x);
    int r = leaf(&g, 2, d, IG_BUF_IO, 0, "r");
    int wrt[4] = {x, w, unused, side}, grads[4] = {-5, -5, -5, -5};
    int n_before = g.n_nodes;
    OK(ig_autodiff(&g, 1, &y, &r, 4, wrt, grads));
    assert_true(grads[0] >= 0);
    assert_int_equal(grads[1], -1);
    assert_int_equal(grads[2], -1);
    assert_int_equal(grads[3], -1);
    assert_int_equal(g.n_nodes, n_before + 1); /* relu's gradient only */
    assert_int_equal(g.nodes[n_before].op, IG_OP_ACT_GRAD);
    ig_graph_free(&g);
}

/* ---------------------------------------------------------------- fusion */

/* x [4, 3] → dense (w [5, 3], b [5]) → act; returns the graph with ids in *ids
 * (x, w, b, dense out, act out). */
static void dense_act_graph(ig_graph *g, ig_op act, int *ids)
{
    ig_graph_init(g);
    ids[0] = leaf(g, 2, (int64_t[]){4, 3}, IG_BUF_IO, 0, "x");
    ids[1] = leaf(g, 2, (int64_t[]){5, 3}, IG_BUF_PARAMS, 0, "w");
    ids[2] = leaf(g, 1, (int64_t[]){5}, IG_BUF_PARAMS, IG_ALIGN, "b");
    ids[3] = node(g, IG_OP_DENSE, ids, 3, &(ig_attrs){.i = {1, IG_ACT_NONE}});
    ids[4] = unary(g, act, ids[3]);
}

/* The act node (node 1) folded into its producer (node 0): the producer's attrs.i[slot] is
 * the activation and it writes the act's output; the unfused value is read by no one. */
static void assert_fused(const ig_graph *g, const int *ids, int slot, ig_act act)
{
    assert_int_equal(g->nodes[0].attrs.i[slot], act);
    assert_int_equal(g->nodes[0].out[0], ids[4]);
    assert_int_equal(g->vals[ids[4]].node, 0);
    assert_int_equal(g->nodes[1].op, IG_OP_NOP);
    assert_int_equal(ig_graph_uses(g, ids[3]), 0);
}

static void test_fuse_dense_act(void **state)
{
    ig_ctx *ctx = *state;
    const ig_op acts[2] = {IG_OP_RELU, IG_OP_TANH};
    const ig_act want[2] = {IG_ACT_RELU, IG_ACT_TANH};
    for (int a = 0; a < 2; a++) {
        ig_graph g;
        int id[5];
        dense_act_graph(&g, acts[a], id);
        g.vals[id[4]].buf = IG_BUF_IO;
        OK(ig_fuse_activations(&g, NULL, 0));
        assert_int_equal(g.nodes[0].op, IG_OP_DENSE);
        assert_fused(&g, id, 1, want[a]);

        /* and it computes act(x·wᵀ + b) */
        ig_program *p;
        OK(ig_program_create(ctx, &g, &p));
        float x[12], params[2 * IG_ALIGN / sizeof(float)], y[20];
        fill(x, 12, 11);
        fill(params, 15, 12);
        fill(params + IG_ALIGN / sizeof(float), 5, 13);
        const float *w = params, *b = params + IG_ALIGN / sizeof(float);
        OK(ig_program_write(p, id[0], x, sizeof x));
        OK(ig_program_run(p, params, NULL, NULL));
        OK(ig_program_read(p, id[4], y, sizeof y));
        for (int r = 0; r < 4; r++)
            for (int o = 0; o < 5; o++) {
                double z = b[o];
                for (int k = 0; k < 3; k++) z += (double)x[r * 3 + k] * w[o * 3 + k];
                double ref = a == 0 ? (z > 0 ? z : 0) : tanh(z);
                assert_float_equal(y[r * 5 + o], ref, 1e-6);
            }
        ig_program_destroy(p);
    }
}

/* x [2, 3, 5, 5] → conv (w [4, 3, 3, 3], b [4], stride 1, padding 1) → relu/tanh fuses the
 * same way, and computes act(conv(x, w) + b). */
static void test_fuse_conv_act(void **state)
{
    ig_ctx *ctx = *state;
    const ig_op acts[2] = {IG_OP_RELU, IG_OP_TANH};
    const ig_act want[2] = {IG_ACT_RELU, IG_ACT_TANH};
    enum { N = 2, C = 3, H = 5, F = 4, K = 3 };
    for (int a = 0; a < 2; a++) {
        ig_graph g;
        ig_graph_init(&g);
        int id[5];
        id[0] = leaf(&g, 4, (int64_t[]){N, C, H, H}, IG_BUF_IO, 0, "x");
        id[1] = leaf(&g, 4, (int64_t[]){F, C, K, K}, IG_BUF_PARAMS, 0, "w");
        id[2] = leaf(&g, 1, (int64_t[]){F}, IG_BUF_PARAMS, 2 * IG_ALIGN, "b");
        id[3] = node(&g, IG_OP_CONV2D, id, 3, &(ig_attrs){.i = {1, 1, IG_ACT_NONE}});
        id[4] = unary(&g, acts[a], id[3]);
        g.vals[id[4]].buf = IG_BUF_IO;
        OK(ig_fuse_activations(&g, NULL, 0));
        assert_int_equal(g.nodes[0].op, IG_OP_CONV2D);
        assert_fused(&g, id, 2, want[a]);

        ig_program *p;
        OK(ig_program_create(ctx, &g, &p));
        float x[N * C * H * H], params[3 * IG_ALIGN / sizeof(float)], y[N * F * H * H];
        const float *w = params, *b = params + 2 * IG_ALIGN / sizeof(float);
        fill(x, N * C * H * H, 21);
        fill(params, F * C * K * K, 22);
        fill(params + 2 * IG_ALIGN / sizeof(float), F, 23);
        OK(ig_program_write(p, id[0], x, sizeof x));
        OK(ig_program_run(p, params, NULL, NULL));
        OK(ig_program_read(p, id[4], y, sizeof y));
        for (int n = 0; n < N; n++)
            for (int f = 0; f < F; f++)
                for (int oy = 0; oy < H; oy++)
                    for (int ox = 0; ox < H; ox++) {
                        double z = b[f];
                        for (int c = 0; c < C; c++)
                            for (int ky = 0; ky < K; ky++)
                                for (int kx = 0; kx < K; kx++) {
                                    int iy = oy + ky - 1, ix = ox + kx - 1;
                                    if (iy >= 0 && iy < H && ix >= 0 && ix < H)
                                        z += (double)x[((n * C + c) * H + iy) * H + ix] *
                                             w[((f * C + c) * K + ky) * K + kx];
                                }
                        double ref = a == 0 ? (z > 0 ? z : 0) : tanh(z);
                        assert_float_equal(y[((n * F + f) * H + oy) * H + ox], ref, 1e-5);
                    }
        ig_program_destroy(p);
    }
}

/* No fusion when the dense result is read by another node, or kept by the caller. */
static void test_fuse_blocked(void **state)
{
    for (int why = 0; why < 2; why++) {
        ig_graph g;
        int id[5];
        dense_act_graph(&g, IG_OP_RELU, id);
        int keep = id[3];
        if (why == 0) add(&g, id[4], id[3]);
        OK(ig_fuse_activations(&g, &keep, why == 1 ? 1 : 0));
        assert_int_equal(g.nodes[0].attrs.i[1], IG_ACT_NONE);
        assert_int_equal(g.nodes[0].out[0], id[3]);
        assert_int_equal(g.nodes[1].op, IG_OP_RELU);
        assert_int_equal(g.vals[id[4]].node, 1);
        ig_graph_free(&g);
    }
}

/* x [2, 2, 4, 4] → conv (3 filters, ReLU) → 2 × 2 max pool → flatten → dense (ReLU) → dense,
 * with the gradients of every leaf. With `fuse`, the activation gradients fold into the pool
 * gradient and the matmul before them. Leaves and gradients are IO: ids[0..5] the leaves
 * (x, conv w, conv b, dense w, dense b, last w), ids[6] the seed, ids[7..12] the gradients. */
static void act_grads_graph(ig_graph *g, bool fuse, int *ids)
{
    ig_graph_init(g);
    static const int64_t shapes[6][4] = {{2, 2, 4, 4}, {3, 2, 3, 3}, {3}, {5, 12}, {5}, {4, 5}};
    static const int ndims[6] = {4, 4, 1, 2, 1, 2};
    for (int i = 0; i < 6; i++) ids[i] = leaf(g, ndims[i], shapes[i], IG_BUF_IO, 0, "leaf");
    int h = node(g, IG_OP_CONV2D, ids, 3, &(ig_attrs){.i = {1, 1, IG_ACT_RELU}});
    h = node(g, IG_OP_POOL2D, &h, 1, &(ig_attrs){.i = {IG_POOL_MAX, 2, 2, 0}});
    h = node(g, IG_OP_RESHAPE, &h, 1, &(ig_attrs){.shape = ig_shape_make(1, (int64_t[]){12})}); /* per sample */
    h = node(g, IG_OP_DENSE, (int[]){h, ids[3], ids[4]}, 3, &(ig_attrs){.i = {1, IG_ACT_RELU}});
    int y = node(g, IG_OP_DENSE, (int[]){h, ids[5]}, 2, &(ig_attrs){.i = {0, IG_ACT_NONE}});
    ids[6] = leaf(g, 2, (int64_t[]){2, 4}, IG_BUF_IO, 0, "seed");
    OK(ig_autodiff(g, 1, &y, &ids[6], 6, ids, ids + 7));
    for (int i = 0; i < 6; i++) {
        OK(ig_graph_materialize(g, ids[7 + i], &ids[7 + i]));
        g->vals[ids[7 + i]].buf = IG_BUF_IO;
    }
    if (fuse) OK(ig_fuse_gradients(g));
}

/* The fused graph has no act_grad or channel_sum left, a matmul with the activation's output
 * as a third input, a pool gradient carrying the ReLU and a conv weight gradient giving the
 * bias gradient too, and gives the unfused graph's gradients to the bit (CPU). */
static void test_fuse_act_grads(void **state)
{
    ig_ctx *ctx = *state;
    float out[2][6][64] = {{{0}}};
    for (int fuse = 0; fuse < 2; fuse++) {
        ig_graph g;
        int ids[13];
        act_grads_graph(&g, fuse, ids);
        int act_grads = 0, matmul3 = 0, pool_relu = 0, channel_sums = 0, wgrad_bias = 0;
        for (int i = 0; i < g.n_nodes; i++) {
            const ig_node *n = &g.nodes[i];
            act_grads += n->op == IG_OP_ACT_GRAD;
            matmul3 += n->op == IG_OP_MATMUL && n->n_in == 3 && n->attrs.i[2] == IG_ACT_RELU;
            pool_relu += n->op == IG_OP_POOL2D_GRAD && n->attrs.i[4] == IG_ACT_RELU;
            channel_sums += n->op == IG_OP_CHANNEL_SUM;
            wgrad_bias += n->op == IG_OP_CONV2D_WGRAD && n->n_out == 2;
        }
        assert_int_equal(act_grads, fuse ? 0 : 2);
        assert_int_equal(matmul3, fuse);
        assert_int_equal(pool_relu, fuse);
        assert_int_equal(channel_sums, !fuse);
        assert_int_equal(wgrad_bias, fuse);
        ig_program *p;
        OK(ig_program_create(ctx, &g, &p));
        for (int i = 0; i < 7; i++) {
            float buf[64];
            size_t n = ig_shape_numel(&p->g.vals[ids[i]].shape);
            fill(buf, n, 40 + (uint64_t)i);
            OK(ig_program_write(p, ids[i], buf, n * sizeof *buf));
        }
        OK(ig_program_run(p, NULL, NULL, NULL));
        for (int i = 0; i < 6; i++)
            OK(ig_program_read(p, ids[7 + i], out[fuse][i],
                               ig_shape_numel(&p->g.vals[ids[7 + i]].shape) * sizeof(float)));
        ig_program_destroy(p);
    }
    assert_memory_equal(out[0], out[1], sizeof out[0]);
}

/* A classifier's head: x [6, 5] → dense (4 classes; with a bias or not; ReLU or not) → sparse
 * cross-entropy (smoothing 0.1), with the gradients of x, w and b. Fused, the loss folds into
 * the dense node (three outputs, the labels its last input) unless the dense has an
 * activation, and the loss and every gradient come out to the bit (CPU). */
static void test_fuse_dense_loss(void **state)
{
    ig_ctx *ctx = *state;
    for (int kind = 0; kind < 3; kind++) {
        bool bias = kind != 1, relu = kind == 2;
        float out[2][4][32] = {{{0}}};
        for (int fuse = 0; fuse < 2; fuse++) {
            ig_graph g;
            ig_graph_init(&g);
            int ids[3], grads[3], n_wrt = bias ? 3 : 2;
            ids[0] = leaf(&g, 2, (int64_t[]){6, 5}, IG_BUF_IO, 0, "x");
            ids[1] = leaf(&g, 2, (int64_t[]){4, 5}, IG_BUF_IO, 0, "w");
            ids[2] = leaf(&g, 1, (int64_t[]){4}, IG_BUF_IO, 0, "b");
            int labels = labels_leaf(&g, 6, IG_BUF_IO, "labels");
            int y = node(&g, IG_OP_DENSE, ids, n_wrt, &(ig_attrs){.i = {bias, relu ? IG_ACT_RELU : IG_ACT_NONE}});
            int lo[2];
            OK(ig_graph_node(&g, IG_OP_SPARSE_CE, (int[]){y, labels}, 2, &(ig_attrs){.f = {0.1f}}, "loss", lo));
            OK(ig_autodiff(&g, 1, &lo[0], (int[]){-1}, n_wrt, ids, grads));
            for (int i = 0; i < n_wrt; i++) {
                OK(ig_graph_materialize(&g, grads[i], &grads[i]));
                g.vals[grads[i]].buf = IG_BUF_IO;
            }
            OK(ig_graph_materialize(&g, lo[0], &lo[0]));
            g.vals[lo[0]].buf = IG_BUF_IO;
            if (fuse) OK(ig_fuse_gradients(&g));
            int ces = 0, fused = 0;
            for (int i = 0; i < g.n_nodes; i++) {
                const ig_node *n = &g.nodes[i];
                ces += n->op == IG_OP_SPARSE_CE;
                if (n->op != IG_OP_DENSE || n->attrs.i[2] != IG_DENSE_LOSS) continue;
                fused++;
                assert_int_equal(n->n_out, 3);
                assert_int_equal(n->in[n->n_in - 1], labels);
            }
            bool folds = fuse && !relu;
            assert_int_equal(ces, !folds);
            assert_int_equal(fused, folds);
            ig_program *p;
            OK(ig_program_create(ctx, &g, &p));
            float buf[32];
            for (int i = 0; i < 3; i++) {
                fill(buf, ig_shape_numel(&p->g.vals[ids[i]].shape), 60 + (uint64_t)i);
                OK(ig_program_write(p, ids[i], buf, ig_shape_numel(&p->g.vals[ids[i]].shape) * sizeof *buf));
            }
            OK(ig_program_write(p, labels, (int32_t[]){0, 3, 1, 2, 3, 0}, 6 * sizeof(int32_t)));
            OK(ig_program_run(p, NULL, NULL, NULL));
            OK(ig_program_read(p, lo[0], out[fuse][0], sizeof(float)));
            for (int i = 0; i < n_wrt; i++)
                OK(ig_program_read(p, grads[i], out[fuse][1 + i],
                                   ig_shape_numel(&p->g.vals[grads[i]].shape) * sizeof(float)));
            ig_program_destroy(p);
        }
        assert_true(out[0][0][0] > 0.1f); /* a loss was computed */
        assert_memory_equal(out[0], out[1], sizeof out[0]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_chain),
        cmocka_unit_test_setup_teardown(test_plan_random_dags, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test(test_plan_two_streams),
        cmocka_unit_test(test_plan_record_joins_update),
        cmocka_unit_test(test_plan_gather_ahead),
        cmocka_unit_test(test_plan_views),
        cmocka_unit_test(test_plan_inplace),
        cmocka_unit_test_setup_teardown(test_autodiff_sums_uses, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test(test_autodiff_off_path),
        cmocka_unit_test_setup_teardown(test_fuse_dense_act, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_fuse_conv_act, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test(test_fuse_blocked),
        cmocka_unit_test_setup_teardown(test_fuse_act_grads, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_fuse_dense_loss, setup_cpu_ctx, teardown_ctx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
