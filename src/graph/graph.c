/* graph.c — building the IR: values, nodes, shape inference through the op table. */
#include "graph/graph.h"
#include "ops/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ig_graph_init(ig_graph *g) { memset(g, 0, sizeof *g); }

void ig_graph_free(ig_graph *g)
{
    free(g->vals);
    free(g->nodes);
    memset(g, 0, sizeof *g);
}

ig_status ig_graph_copy(ig_graph *dst, const ig_graph *src)
{
    ig_graph_init(dst);
    dst->vals = malloc((size_t)(src->cap_vals ? src->cap_vals : 1) * sizeof *src->vals);
    dst->nodes = malloc((size_t)(src->cap_nodes ? src->cap_nodes : 1) * sizeof *src->nodes);
    if (!dst->vals || !dst->nodes) {
        ig_graph_free(dst);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "graph copy: out of memory");
    }
    memcpy(dst->vals, src->vals, (size_t)src->n_vals * sizeof *src->vals);
    memcpy(dst->nodes, src->nodes, (size_t)src->n_nodes * sizeof *src->nodes);
    dst->n_vals = src->n_vals;
    dst->cap_vals = src->cap_vals ? src->cap_vals : 1;
    dst->n_nodes = src->n_nodes;
    dst->cap_nodes = src->cap_nodes ? src->cap_nodes : 1;
    return IG_OK;
}

static bool grow(void **p, int *cap, int need, size_t elem)
{
    if (need <= *cap) return true;
    int ncap = *cap ? *cap * 2 : 16;
    while (ncap < need) ncap *= 2;
    void *np = realloc(*p, (size_t)ncap * elem);
    if (!np) return false;
    *p = np;
    *cap = ncap;
    return true;
}

static int new_val(ig_graph *g, const ig_shape *shape, ig_dtype dtype, const char *name)
{
    if (!grow((void **)&g->vals, &g->cap_vals, g->n_vals + 1, sizeof *g->vals)) return -1;
    ig_val *v = &g->vals[g->n_vals];
    memset(v, 0, sizeof *v);
    v->shape = *shape;
    v->dtype = dtype;
    v->node = -1;
    v->alias_of = -1;
    v->buf = IG_BUF_NONE;
    snprintf(v->name, sizeof v->name, "%s", name ? name : "");
    return g->n_vals++;
}

int ig_graph_leaf(ig_graph *g, const ig_shape *shape, ig_dtype dtype, const char *name)
{
    return new_val(g, shape, dtype, name);
}

ig_status ig_graph_node(ig_graph *g, ig_op op, const int *in, int n_in, const ig_attrs *attrs,
                        const char *name, int *out)
{
    const ig_op_def *def = ig_op_get(op);
    if (!def) return ig_fail(IG_ERR_INTERNAL, "graph: unknown op %d", (int)op);
    const char *nm = name ? name : def->name;
    if (n_in < def->n_in_min || n_in > def->n_in_max)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s (%s): %d inputs given, expects %d..%d", nm, def->name,
                       n_in, def->n_in_min, def->n_in_max);
    for (int k = 0; k < n_in; k++)
        if (in[k] < 0 || in[k] >= g->n_vals)
            return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s (%s): input %d is not a value of this model (id %d)",
                           nm, def->name, k, in[k]);
    if (!grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes))
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "graph: out of memory");
    ig_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->n_in = n_in;
    memcpy(n->in, in, (size_t)n_in * sizeof *in);
    if (attrs) n->attrs = *attrs;
    n->n_out = def->n_out;
    snprintf(n->name, sizeof n->name, "%s", nm);

    ig_shape shapes[IG_MAX_OUT];
    ig_dtype dtypes[IG_MAX_OUT];
    memset(shapes, 0, sizeof shapes);
    IG_TRY(def->infer(g, n, shapes, dtypes));
    for (int k = 0; k < n->n_out; k++) {
        char vname[IG_NAME_LEN];
        snprintf(vname, sizeof vname, k ? "%.40s:%d" : "%.40s", nm, k);
        int v = new_val(g, &shapes[k], dtypes[k], vname);
        if (v < 0) return ig_fail(IG_ERR_OUT_OF_MEMORY, "graph: out of memory");
        g->vals[v].node = g->n_nodes;
        if (k == 0 && def->view) g->vals[v].alias_of = in[0];
        n->out[k] = v;
        if (out) out[k] = v;
    }
    g->n_nodes++;
    return IG_OK;
}

ig_status ig_graph_reinfer(ig_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        ig_node *n = &g->nodes[i];
        if (n->op == IG_OP_NOP) continue;
        ig_shape shapes[IG_MAX_OUT];
        ig_dtype dtypes[IG_MAX_OUT];
        IG_TRY(ig_op_get(n->op)->infer(g, n, shapes, dtypes));
        for (int k = 0; k < n->n_out; k++) g->vals[n->out[k]].shape = shapes[k];
    }
    return IG_OK;
}

void ig_graph_replace_uses(ig_graph *g, int from, int to)
{
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] == from) g->nodes[i].in[k] = to;
    for (int v = 0; v < g->n_vals; v++)
        if (g->vals[v].alias_of == from) g->vals[v].alias_of = to;
}

void ig_graph_move_node(ig_graph *g, int from, int to)
{
    ig_node n = g->nodes[from];
    memmove(&g->nodes[to + 1], &g->nodes[to], (size_t)(from - to) * sizeof n);
    g->nodes[to] = n;
    for (int v = 0; v < g->n_vals; v++) {
        int p = g->vals[v].node;
        if (p == from) g->vals[v].node = to;
        else if (p >= to && p < from) g->vals[v].node = p + 1;
    }
}

double ig_graph_flops(const ig_graph *g)
{
    double f = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op != IG_OP_NOP) f += ig_op_get(g->nodes[i].op)->flops(g, &g->nodes[i]);
    return f;
}

int ig_graph_uses(const ig_graph *g, int v)
{
    int uses = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const ig_node *n = &g->nodes[i];
        if (n->op == IG_OP_NOP) continue;
        for (int k = 0; k < n->n_in; k++) uses += n->in[k] == v;
    }
    return uses;
}

size_t ig_shape_numel(const ig_shape *s)
{
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= (size_t)s->d[i];
    return n;
}

size_t ig_val_bytes(const ig_val *v) { return ig_shape_numel(&v->shape) * ig_dtype_size(v->dtype); }

bool ig_shape_eq(const ig_shape *a, const ig_shape *b)
{
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->d[i] != b->d[i]) return false;
    return true;
}

ig_shape ig_shape_make(int ndim, const int64_t *d)
{
    ig_shape s;
    memset(&s, 0, sizeof s);
    s.ndim = ndim;
    memcpy(s.d, d, (size_t)ndim * sizeof *d);
    return s;
}

const char *ig_shape_str(const ig_shape *s, char *buf, size_t n)
{
    size_t len = 0;
    len += (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < s->ndim && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, i ? ", %lld" : "%lld", (long long)s->d[i]);
    if (len < n) snprintf(buf + len, n - len, "]");
    return buf;
}
