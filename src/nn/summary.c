/* summary.c — what a model is made of, layer by layer: ig_model_layer_info for programs that
 * lay out their own table, and ig_model_summary's text table built on it. */
#include "nn/model.h"
#include "ops/ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The graph node of layer i (the i-th node that is not a NOP), or NULL. */
static const ig_node *layer_node(const ig_model *m, int i)
{
    for (int k = 0; i >= 0 && k < m->g.n_nodes; k++) {
        if (m->g.nodes[k].op == IG_OP_NOP) continue;
        if (i-- == 0) return &m->g.nodes[k];
    }
    return NULL;
}

/* Whether value v is a buffer (counted in no layer's parameters). */
static bool is_buffer(const ig_model *m, int v)
{
    for (int i = 0; i < m->n_params; i++)
        if (m->params[i].val == v) return !m->params[i].trainable;
    return false;
}

int ig_model_layer_count(const ig_model *m)
{
    int n = 0;
    for (int k = 0; m && k < m->g.n_nodes; k++) n += m->g.nodes[k].op != IG_OP_NOP;
    return n;
}

ig_status ig_model_layer_info(const ig_model *m, int i, ig_layer_info *out)
{
    if (!m || !out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_layer_info: NULL %s", m ? "out" : "model");
    IG_TRY(ig_model_status(m));
    const ig_node *n = layer_node(m, i);
    if (!n)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_layer_info: layer %d is out of range [0, %d)", i,
                       ig_model_layer_count(m));
    const ig_graph *g = &m->g;
    const ig_val *y = &g->vals[n->out[0]];
    memset(out, 0, sizeof *out);
    out->name = n->name;
    out->kind = ig_op_get(n->op)->name;
    out->ndim = y->shape.ndim;
    memcpy(out->shape, y->shape.d, (size_t)y->shape.ndim * sizeof out->shape[0]);
    for (int k = 0; k < n->n_in; k++)
        if (g->vals[n->in[k]].buf == IG_BUF_PARAMS && !is_buffer(m, n->in[k]))
            out->params += (int64_t)ig_shape_numel(&g->vals[n->in[k]].shape);
    out->flops = ig_op_get(n->op)->flops(g, n);
    /* a view (flatten, reshape) shares its input's bytes; batch norm's second output (the
     * statistics it keeps for the backward pass) counts with its first */
    for (int k = 0; k < n->n_out; k++)
        if (g->vals[n->out[k]].alias_of < 0) out->activation_bytes += (int64_t)ig_val_bytes(&g->vals[n->out[k]]);
    return IG_OK;
}

/* Appends printf-style text to a bounded buffer, counting what did not fit. */
typedef struct text {
    char *buf;
    size_t size, len;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = t->len < t->size ? t->size - t->len : 0;
    int n = vsnprintf(room ? t->buf + t->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) t->len += (size_t)n;
}

/* "512 B", "3.06 MiB": a byte count for people. */
static const char *bytes_str(int64_t b, char *buf, size_t n)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 4) v /= 1024, u++;
    snprintf(buf, n, u ? "%.2f %s" : "%.0f %s", v, unit[u]);
    return buf;
}

ig_status ig_model_summary(const ig_model *m, char *buf, size_t size, size_t *needed)
{
    if (!m || (!buf && size)) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_summary: NULL %s", m ? "buffer" : "model");
    IG_TRY(ig_model_status(m));
    const ig_graph *g = &m->g;
    text t = {buf, size, 0};
    char shape[64], bytes[32];
    int64_t total_params = 0, total_bytes = 0;
    double total_flops = 0;
    put(&t, "%-20s %-20s %-22s %12s %14s %12s\n", "layer", "kind", "output", "parameters", "FLOPs", "activations");
    put(&t, "%-20s %-20s %-22s %12s %14s %12s\n", "input", "", ig_shape_str(&g->vals[m->input].shape, shape, sizeof shape),
        "", "", "");
    for (int i = 0, n = ig_model_layer_count(m); i < n; i++) {
        ig_layer_info l;
        IG_TRY(ig_model_layer_info(m, i, &l));
        ig_shape s = ig_shape_make(l.ndim, l.shape);
        total_params += l.params;
        total_flops += l.flops;
        total_bytes += l.activation_bytes;
        put(&t, "%-20s %-20s %-22s %12lld %14.0f %12s\n", l.name, l.kind, ig_shape_str(&s, shape, sizeof shape),
            (long long)l.params, l.flops, l.activation_bytes ? bytes_str(l.activation_bytes, bytes, sizeof bytes) : "-");
    }
    put(&t, "total: %lld parameters, %.0f forward FLOPs and %s of layer outputs at batch %lld\n",
        (long long)total_params, total_flops, bytes_str(total_bytes, bytes, sizeof bytes),
        (long long)g->vals[m->input].shape.d[0]);
    if (size) buf[t.len < size ? t.len : size - 1] = '\0';
    if (needed) *needed = t.len + 1;
    return IG_OK;
}
