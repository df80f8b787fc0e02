/* import_ops.c — one function per ONNX operator ingot reads: the checks of its attributes
 * and inputs, the layers it becomes, and the constants bound to their parameters. Anything
 * else is refused with a message naming the node and its operator. */
#include "onnx/import.h"
#include "ops/act_math.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F32 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define I64 ONNX__TENSOR_PROTO__DATA_TYPE__INT64

typedef const Onnx__NodeProto node_t;

static bool named(const char *s) { return s && *s; }
static bool present(node_t *n, size_t k) { return k < n->n_input && named(n->input[k]); }

/* Whether n is ONNX's operator `op` (the default domain). */
static bool is_op(node_t *n, const char *op)
{
    return n->op_type && strcmp(n->op_type, op) == 0 && (!named(n->domain) || strcmp(n->domain, "ai.onnx") == 0);
}

/* Fails naming the node, with the message of the failure just reported (a builder's). */
static ig_status wrap(ig_onnx_import *imp, ig_status s)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", ig_last_error());
    return ig_onnx_fail(imp, s, "%s", msg);
}

static ig_status built(ig_onnx_import *imp, ig_value v)
{
    return v == IG_NO_VALUE ? wrap(imp, ig_model_status(imp->m)) : IG_OK;
}

static int value_shape(ig_onnx_import *imp, ig_value v, int64_t *shape)
{
    return ig_model_value_shape(imp->m, v, shape);
}

/* ---- attributes */

static const Onnx__AttributeProto *find_attr(node_t *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0) return n->attribute[i];
    return NULL;
}

/* Attribute `name` of type t, or NULL if absent. */
static ig_status get_attr(ig_onnx_import *imp, node_t *n, const char *name, Onnx__AttributeProto__AttributeType t,
                          const Onnx__AttributeProto **a)
{
    *a = find_attr(n, name);
    if (*a && (*a)->type != t) return ig_onnx_fail(imp, IG_ERR_FORMAT, "attribute '%s' has the wrong type", name);
    return IG_OK;
}

static ig_status attr_int(ig_onnx_import *imp, node_t *n, const char *name, int64_t def, int64_t *v)
{
    const Onnx__AttributeProto *a;
    IG_TRY(get_attr(imp, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, &a));
    *v = a ? a->i : def;
    return IG_OK;
}

static ig_status attr_float(ig_onnx_import *imp, node_t *n, const char *name, float def, float *v)
{
    const Onnx__AttributeProto *a;
    IG_TRY(get_attr(imp, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, &a));
    *v = a ? a->f : def;
    return IG_OK;
}

/* An INTS attribute; *count 0 when absent. */
static ig_status attr_ints(ig_onnx_import *imp, node_t *n, const char *name, const int64_t **v, size_t *count)
{
    const Onnx__AttributeProto *a;
    IG_TRY(get_attr(imp, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, &a));
    *v = a ? a->ints : NULL;
    *count = a ? a->n_ints : 0;
    return IG_OK;
}

/* A STRING attribute as the index of its value among `choices` (NULL-terminated); `def` when
 * absent. Other values are unsupported. */
static ig_status attr_choice(ig_onnx_import *imp, node_t *n, const char *name, const char *const *choices, int def,
                             int *v)
{
    const Onnx__AttributeProto *a;
    IG_TRY(get_attr(imp, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, &a));
    *v = def;
    if (!a) return IG_OK;
    for (int i = 0; choices[i]; i++)
        if (a->s.len == strlen(choices[i]) && memcmp(a->s.data, choices[i], a->s.len) == 0) {
            *v = i;
            return IG_OK;
        }
    return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "attribute %s='%.*s' is not supported", name,
                        (int)(a->s.len < 32 ? a->s.len : 32), (const char *)a->s.data);
}

/* ---- inputs, outputs, parameters */

static ig_status runtime_in(ig_onnx_import *imp, node_t *n, size_t k, ig_value *v)
{
    const ig_onnx_entry *e = ig_onnx_find(imp, n->input[k]);
    *v = e->v;
    if (e->kind != IG_ONNX_RUNTIME)
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "input %zu ('%s') is a constant; ingot applies this operator to "
                            "values the graph computes", k, e->name);
    return IG_OK;
}

static ig_status const_in(ig_onnx_import *imp, node_t *n, size_t k, ig_onnx_const *c)
{
    const ig_onnx_entry *e = ig_onnx_find(imp, n->input[k]);
    if (e->kind != IG_ONNX_CONSTANT)
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "input %zu ('%s') must be a constant (an initializer or a "
                            "Constant): ingot makes it the layer's parameters", k, e->name);
    ig_status st = ig_onnx_entry_const(e, c);
    if (st != IG_OK) return wrap(imp, st);
    return IG_OK;
}

/* A constant input of element type `dtype`. */
static ig_status typed_in(ig_onnx_import *imp, node_t *n, size_t k, int32_t dtype, ig_onnx_const *c)
{
    IG_TRY(const_in(imp, n, k, c));
    if (c->dtype != dtype)
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "input %zu ('%s') must be %s", k, c->name,
                            dtype == F32 ? "float32" : "int64");
    return IG_OK;
}

static ig_status define(ig_onnx_import *imp, const char *name, ig_value v)
{
    ig_onnx_entry *e = ig_onnx_find(imp, name);
    if (e->kind != IG_ONNX_UNDEFINED) return ig_onnx_fail(imp, IG_ERR_FORMAT, "value '%s' is assigned twice", name);
    e->kind = IG_ONNX_RUNTIME;
    e->v = v;
    return IG_OK;
}

/* A layer's name: its weight's name less ".weight" (PyTorch's module name: "fc1.weight" gives
 * "fc1"), else the node's name; one that is too long or taken by another layer's parameters
 * is skipped, and with none left ingot makes one up (NULL). */
static const char *layer_name(ig_onnx_import *imp, const char *weight, const char *node_name, char *buf)
{
    const char *cands[2] = {weight, node_name};
    for (int i = 0; i < 2; i++) {
        size_t len = named(cands[i]) ? strlen(cands[i]) : 0;
        if (i == 0 && (len <= 7 || strcmp(cands[i] + len - 7, ".weight") != 0)) continue;
        if (i == 0) len -= 7;
        if (!len || len + sizeof ".running_mean" > IG_NAME_LEN) continue;
        char param[IG_NAME_LEN + 8];
        snprintf(buf, IG_NAME_LEN, "%.*s", (int)len, cands[i]);
        snprintf(param, sizeof param, "%s.weight", buf);
        if (ig_model_param_index(imp->m, param) < 0) return buf;
    }
    return NULL;
}

/* Parameter `param` will hold scale · c (or its transpose), whose shape must fit it. */
static ig_status bind(ig_onnx_import *imp, int param, const ig_onnx_const *c, bool transpose, float scale)
{
    int64_t shape[IG_MAX_DIMS];
    int nd = ig_model_param_shape(imp->m, param, shape);
    bool ok = c->ndim == nd;
    if (transpose) ok = ok && nd == 2 && c->dims[0] == shape[1] && c->dims[1] == shape[0];
    else if (nd == 1) ok = c->ndim >= 1 && c->numel == shape[0]; /* a bias [1, units] too */
    else for (int i = 0; ok && i < nd; i++) ok = c->dims[i] == shape[i];
    if (!ok) {
        char a[64], b[64];
        ig_shape cs = ig_shape_make(c->ndim, c->dims), ps = ig_shape_make(nd, shape);
        return ig_onnx_fail(imp, IG_ERR_SHAPE, "'%s' has shape %s; parameter '%s' needs %s%s", c->name,
                            ig_shape_str(&cs, a, sizeof a), ig_model_param_name(imp->m, param),
                            ig_shape_str(&ps, b, sizeof b), transpose ? " transposed" : "");
    }
    if (!ig_onnx_charge(imp->budget, (size_t)c->numel * sizeof(float)))
        return ig_onnx_fail(imp, IG_ERR_FORMAT, "the model's parameters would take more memory than its file "
                            "justifies (one weight read by many layers?)");
    if (imp->n_binds == imp->cap_binds) {
        size_t cap = imp->cap_binds ? imp->cap_binds * 2 : 32;
        ig_onnx_bind *nb = realloc(imp->binds, cap * sizeof *nb);
        if (!nb) return ig_onnx_fail(imp, IG_ERR_OUT_OF_MEMORY, "out of memory");
        imp->binds = nb;
        imp->cap_binds = cap;
    }
    imp->binds[imp->n_binds++] = (ig_onnx_bind){param, *c, transpose, scale};
    return IG_OK;
}

/* The node that alone reads `value`, if it is ONNX's `op` and not imported yet; else -1. */
static int single_consumer(ig_onnx_import *imp, const char *value, const char *op)
{
    const ig_onnx_entry *e = ig_onnx_find(imp, value);
    if (!e || e->consumers != 1 || e->consumer <= imp->node || imp->done[e->consumer]) return -1;
    return is_op(imp->g->node[e->consumer], op) ? e->consumer : -1;
}

/* ---- operators */

/* The 2-D window of Conv, MaxPool and AveragePool: square, one stride both ways, the same
 * padding on every side, no dilation. *k in: the weight's kernel, or 0 to read kernel_shape. */
static ig_status window(ig_onnx_import *imp, node_t *n, int64_t *k, int64_t *stride, int64_t *pad)
{
    const int64_t *v;
    size_t c;
    IG_TRY(attr_ints(imp, n, "kernel_shape", &v, &c));
    if (c && (c != 2 || v[0] != v[1]))
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "kernel_shape is not a square 2-D window");
    if (c && *k && v[0] != *k)
        return ig_onnx_fail(imp, IG_ERR_FORMAT, "kernel_shape %lld differs from the weight's %lld", (long long)v[0],
                            (long long)*k);
    if (c) *k = v[0];
    if (*k < 1) return ig_onnx_fail(imp, IG_ERR_FORMAT, "no kernel_shape");
    IG_TRY(attr_ints(imp, n, "strides", &v, &c));
    if (c && (c != 2 || v[0] != v[1] || v[0] < 1))
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "strides must be two equal values >= 1");
    *stride = c ? v[0] : 1;
    IG_TRY(attr_ints(imp, n, "pads", &v, &c));
    if (c && (c != 4 || v[0] != v[1] || v[0] != v[2] || v[0] != v[3] || v[0] < 0))
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "pads must be the same on every side");
    *pad = c ? v[0] : 0;
    IG_TRY(attr_ints(imp, n, "dilations", &v, &c));
    for (size_t i = 0; i < c; i++)
        if (v[i] != 1) return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "dilations other than 1 are not supported");
    int mode;
    IG_TRY(attr_choice(imp, n, "auto_pad", (const char *const[]){"NOTSET", "VALID", NULL}, 0, &mode));
    if (mode == 1 && *pad) return ig_onnx_fail(imp, IG_ERR_FORMAT, "auto_pad VALID with pads");
    return IG_OK;
}

static ig_status imp_conv(ig_onnx_import *imp, node_t *n)
{
    ig_value x;
    ig_onnx_const w, b;
    int64_t group, stride, pad;
    IG_TRY(runtime_in(imp, n, 0, &x));
    IG_TRY(typed_in(imp, n, 1, F32, &w));
    bool bias = present(n, 2);
    if (bias) IG_TRY(typed_in(imp, n, 2, F32, &b));
    if (w.ndim != 4 || w.dims[2] != w.dims[3])
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "ingot's convolutions are 2-D with square kernels: a weight "
                            "[filters, channels, k, k]");
    int64_t k = w.dims[2];
    IG_TRY(window(imp, n, &k, &stride, &pad));
    IG_TRY(attr_int(imp, n, "group", 1, &group));
    if (group != 1) return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "grouped convolution (group %lld)", (long long)group);
    char name[IG_NAME_LEN];
    int first = ig_model_param_count(imp->m);
    ig_value y = ig_conv2d(imp->m, x, w.dims[0], k, stride, pad, bias, layer_name(imp, n->input[1], n->name, name));
    IG_TRY(built(imp, y));
    IG_TRY(bind(imp, first, &w, false, 1.0f));
    if (bias) IG_TRY(bind(imp, first + 1, &b, false, 1.0f));
    return define(imp, n->output[0], y);
}

static ig_status imp_pool(ig_onnx_import *imp, node_t *n)
{
    bool avg = is_op(n, "AveragePool");
    ig_value x;
    int64_t k = 0, stride, pad, ceil_mode, count_pad, shape[IG_MAX_DIMS];
    IG_TRY(runtime_in(imp, n, 0, &x));
    IG_TRY(window(imp, n, &k, &stride, &pad));
    IG_TRY(attr_int(imp, n, "ceil_mode", 0, &ceil_mode));
    IG_TRY(attr_int(imp, n, "count_include_pad", 0, &count_pad));
    /* rounding up gives the same sizes where the windows tile the padded input exactly */
    if (ceil_mode && value_shape(imp, x, shape) == 4) {
        int64_t h = shape[2] + 2 * pad - k, w = shape[3] + 2 * pad - k;
        if (h >= 0 && w >= 0 && (h % stride || w % stride))
            return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "ceil_mode=1 gives larger outputs here than ingot's floor "
                                "mode");
    }
    if (avg && pad && !count_pad)
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "count_include_pad=0 with padding: ingot's average pooling counts "
                            "the padding (PyTorch's default)");
    char name[IG_NAME_LEN];
    const char *ln = layer_name(imp, NULL, n->name, name);
    ig_value y = avg ? ig_avgpool2d(imp->m, x, k, stride, pad, ln) : ig_maxpool2d(imp->m, x, k, stride, pad, ln);
    IG_TRY(built(imp, y));
    return define(imp, n->output[0], y);
}

/* A Flatten that keeps the batch apart (axis 1) of a value of `rank` dimensions. */
static bool flattens_to_2d(node_t *f, int rank)
{
    if (f->n_input != 1 || f->n_output != 1 || !named(f->output[0]) || f->n_attribute > 1) return false;
    if (!f->n_attribute) return true;
    const Onnx__AttributeProto *a = f->attribute[0];
    return a->name && strcmp(a->name, "axis") == 0 && a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT &&
           (a->i == 1 || a->i == 1 - rank);
}

/* ONNX keeps [n, c, 1, 1] where ingot's global pool gives [n, c]: a Flatten that follows is
 * that already, else a view restores the 1 × 1. */
static ig_status imp_global_pool(ig_onnx_import *imp, node_t *n)
{
    ig_value x;
    IG_TRY(runtime_in(imp, n, 0, &x));
    char name[IG_NAME_LEN];
    ig_value y = ig_global_avgpool(imp->m, x, layer_name(imp, NULL, n->name, name));
    IG_TRY(built(imp, y));
    int f = single_consumer(imp, n->output[0], "Flatten");
    if (f >= 0 && flattens_to_2d(imp->g->node[f], 4)) {
        imp->done[f] = true;
        return define(imp, imp->g->node[f]->output[0], y);
    }
    int64_t shape[IG_MAX_DIMS];
    value_shape(imp, y, shape);
    y = ig_reshape(imp->m, y, (int64_t[]){shape[1], 1, 1}, 3, NULL);
    IG_TRY(built(imp, y));
    return define(imp, n->output[0], y);
}

/* A dense layer of weight [units, in] (w, or its transpose) with an optional bias. */
static ig_status dense(ig_onnx_import *imp, node_t *n, ig_value x, const ig_onnx_const *w, bool transpose, float alpha,
                       const ig_onnx_const *b, float beta, const char *out)
{
    int64_t units = w->dims[transpose ? 1 : 0];
    if (b && b->numel != units)
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "bias '%s' has %lld elements; ingot's dense layers add one per "
                            "unit (%lld)", b->name, (long long)b->numel, (long long)units);
    char name[IG_NAME_LEN];
    int first = ig_model_param_count(imp->m);
    ig_value y = ig_dense(imp->m, x, units, b != NULL, layer_name(imp, w->name, n->name, name));
    IG_TRY(built(imp, y));
    IG_TRY(bind(imp, first, w, transpose, alpha));
    if (b) IG_TRY(bind(imp, first + 1, b, false, beta));
    return define(imp, out, y);
}

static ig_status imp_gemm(ig_onnx_import *imp, node_t *n)
{
    ig_value x;
    ig_onnx_const w, b;
    float alpha, beta;
    int64_t trans_a, trans_b;
    IG_TRY(runtime_in(imp, n, 0, &x));
    IG_TRY(typed_in(imp, n, 1, F32, &w));
    bool bias = present(n, 2);
    if (bias) IG_TRY(typed_in(imp, n, 2, F32, &b));
    IG_TRY(attr_float(imp, n, "alpha", 1.0f, &alpha));
    IG_TRY(attr_float(imp, n, "beta", 1.0f, &beta));
    IG_TRY(attr_int(imp, n, "transA", 0, &trans_a));
    IG_TRY(attr_int(imp, n, "transB", 0, &trans_b));
    if (trans_a) return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "transA=1 (the batch must be the rows of A)");
    if (w.ndim != 2) return ig_onnx_fail(imp, IG_ERR_FORMAT, "B has %d dimensions", w.ndim);
    /* alpha and beta are folded into the parameters */
    return dense(imp, n, x, &w, !trans_b, alpha, bias ? &b : NULL, beta, n->output[0]);
}

/* MatMul by a constant matrix [in, units]; an Add of a constant vector that alone reads its
 * result is the bias (how exporters write a Linear layer without Gemm). */
static ig_status imp_matmul(ig_onnx_import *imp, node_t *n)
{
    ig_value x;
    ig_onnx_const w, b;
    IG_TRY(runtime_in(imp, n, 0, &x));
    IG_TRY(typed_in(imp, n, 1, F32, &w));
    if (w.ndim != 2)
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "MatMul by a tensor of %d dimensions (ingot's dense layers "
                            "take a matrix)", w.ndim);
    int a = single_consumer(imp, n->output[0], "Add");
    if (a >= 0) {
        node_t *add = imp->g->node[a];
        const char *other = add->n_input == 2 ? add->input[strcmp(add->input[0], n->output[0]) == 0] : NULL;
        const ig_onnx_entry *e = ig_onnx_find(imp, other);
        bool is_bias = add->n_attribute == 0 && add->n_output == 1 && named(add->output[0]) && e &&
                       e->kind == IG_ONNX_CONSTANT && ig_onnx_entry_const(e, &b) == IG_OK && b.dtype == F32 &&
                       b.ndim >= 1 && b.numel == w.dims[1];
        if (is_bias) {
            imp->done[a] = true;
            return dense(imp, n, x, &w, true, 1.0f, &b, 1.0f, add->output[0]);
        }
    }
    return dense(imp, n, x, &w, true, 1.0f, NULL, 1.0f, n->output[0]);
}

static ig_status imp_batchnorm(ig_onnx_import *imp, node_t *n)
{
    ig_value x;
    ig_onnx_const c[4]; /* scale, B, mean, var */
    float eps, momentum;
    int64_t training;
    IG_TRY(runtime_in(imp, n, 0, &x));
    for (int k = 0; k < 4; k++) IG_TRY(typed_in(imp, n, (size_t)k + 1, F32, &c[k]));
    IG_TRY(attr_float(imp, n, "epsilon", 1e-5f, &eps));
    IG_TRY(attr_float(imp, n, "momentum", 0.9f, &momentum));
    IG_TRY(attr_int(imp, n, "training_mode", 0, &training));
    if (training) return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "training_mode=1 (ingot reads inference graphs)");
    char name[IG_NAME_LEN];
    int first = ig_model_param_count(imp->m);
    /* ONNX's momentum weighs the running statistic; PyTorch's and ingot's the batch's */
    ig_value y = ig_batchnorm(imp->m, x, 1.0f - momentum, eps, layer_name(imp, n->input[1], n->name, name));
    IG_TRY(built(imp, y));
    for (int k = 0; k < 4; k++) IG_TRY(bind(imp, first + k, &c[k], false, 1.0f));
    return define(imp, n->output[0], y);
}

/* Whether the nodes from the current one on compute chain c of its input 0, x; idx receives
 * the chain's nodes. Every intermediate result must be read by the next step alone. */
static bool match_chain(ig_onnx_import *imp, const ig_onnx_chain *c, int *idx)
{
    node_t *n = imp->g->node[imp->node];
    const ig_onnx_entry *xe = n->n_input ? ig_onnx_find(imp, n->input[0]) : NULL;
    if (!xe || xe->kind != IG_ONNX_RUNTIME) return false;
    const char *x = xe->name, *prev = x;
    for (int k = 0; k < c->n_steps; k++) {
        const ig_onnx_step *s = &c->steps[k];
        int i = k ? single_consumer(imp, prev, s->op) : imp->node;
        if (i < 0) return false;
        n = imp->g->node[i];
        size_t arity = s->operand == IG_ONNX_UNARY ? 1 : 2;
        if (!is_op(n, s->op) || n->n_attribute || n->n_output != 1 || !named(n->output[0]) || n->n_input != arity)
            return false;
        bool first = strcmp(n->input[0], prev) == 0;
        if (!first && (arity == 1 || strcmp(s->op, "Div") == 0 || strcmp(n->input[1], prev) != 0)) return false;
        if (arity == 2) {
            const char *other = n->input[first ? 1 : 0];
            const ig_onnx_entry *e = ig_onnx_find(imp, other);
            ig_onnx_const v;
            bool ok = s->operand == IG_ONNX_X
                          ? strcmp(other, x) == 0
                          : e && e->kind == IG_ONNX_CONSTANT && ig_onnx_entry_const(e, &v) == IG_OK && v.dtype == F32 &&
                                v.numel == 1 && fabsf(ig_onnx_f32(&v, 0) - s->value) <= 1e-6f * fabsf(s->value);
            if (!ok) return false;
        }
        idx[k] = i;
        prev = n->output[0];
    }
    return true;
}

/* The activation of a chain starting at the current node, if one does; *matched says. */
static ig_status try_chains(ig_onnx_import *imp, node_t *n, bool *matched)
{
    *matched = false;
    for (int i = 0; i < IG_ONNX_N_CHAINS; i++) {
        const ig_onnx_chain *c = &ig_onnx_chains[i];
        int idx[IG_ONNX_MAX_STEPS];
        if (!is_op(n, c->steps[0].op) || !match_chain(imp, c, idx)) continue;
        /* the layer's name is the nodes' common prefix: ingot writes "<layer>/<op>_<k>" */
        char prefix[IG_NAME_LEN] = "", name[IG_NAME_LEN];
        const char *slash = named(n->name) ? strrchr(n->name, '/') : NULL;
        if (slash && slash - n->name < IG_NAME_LEN)
            snprintf(prefix, sizeof prefix, "%.*s", (int)(slash - n->name), n->name);
        const char *ln = layer_name(imp, NULL, prefix, name);
        ig_value x = ig_onnx_find(imp, n->input[0])->v;
        ig_value y = c->act == IG_ACT_SWISH ? ig_swish(imp->m, x, ln)
                                            : ig_gelu(imp->m, x, c->act == IG_ACT_GELU_TANH, ln);
        IG_TRY(built(imp, y));
        for (int k = 1; k < c->n_steps; k++) imp->done[idx[k]] = true;
        *matched = true;
        return define(imp, imp->g->node[idx[c->n_steps - 1]]->output[0], y);
    }
    return IG_OK;
}

static ig_status imp_chain(ig_onnx_import *imp, node_t *n)
{
    bool matched;
    IG_TRY(try_chains(imp, n, &matched));
    if (matched) return IG_OK;
    return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "ingot reads %s only within the node chains that stand for GELU and "
                        "Swish (docs/onnx.md)", n->op_type);
}

static ig_status imp_act(ig_onnx_import *imp, node_t *n)
{
    ig_value x, y;
    IG_TRY(runtime_in(imp, n, 0, &x));
    char name[IG_NAME_LEN];
    const char *ln = layer_name(imp, NULL, n->name, name);
    float alpha;
    if (is_op(n, "Relu")) {
        y = ig_relu(imp->m, x, ln);
    } else if (is_op(n, "Tanh")) {
        y = ig_tanh(imp->m, x, ln);
    } else if (is_op(n, "Sigmoid")) {
        bool matched;
        IG_TRY(try_chains(imp, n, &matched)); /* x·σ(x) is Swish */
        if (matched) return IG_OK;
        y = ig_sigmoid(imp->m, x, ln);
    } else if (is_op(n, "LeakyRelu")) {
        IG_TRY(attr_float(imp, n, "alpha", 0.01f, &alpha));
        y = ig_leaky_relu(imp->m, x, alpha, ln);
    } else { /* Elu */
        IG_TRY(attr_float(imp, n, "alpha", 1.0f, &alpha));
        y = ig_elu(imp->m, x, alpha, ln);
    }
    IG_TRY(built(imp, y));
    return define(imp, n->output[0], y);
}

/* Opset 20's Gelu. */
static ig_status imp_gelu(ig_onnx_import *imp, node_t *n)
{
    ig_value x;
    int approx;
    IG_TRY(runtime_in(imp, n, 0, &x));
    IG_TRY(attr_choice(imp, n, "approximate", (const char *const[]){"none", "tanh", NULL}, 0, &approx));
    char name[IG_NAME_LEN];
    ig_value y = ig_gelu(imp->m, x, approx == 1, layer_name(imp, NULL, n->name, name));
    IG_TRY(built(imp, y));
    return define(imp, n->output[0], y);
}

/* `axis` (default def) of a value of `rank` dimensions, from 0. */
static ig_status axis_of(ig_onnx_import *imp, node_t *n, int64_t def, int rank, int64_t *axis)
{
    IG_TRY(attr_int(imp, n, "axis", def, axis));
    if (*axis < -rank || *axis > rank)
        return ig_onnx_fail(imp, IG_ERR_FORMAT, "axis %lld of a %d-D value", (long long)*axis, rank);
    if (*axis < 0) *axis += rank;
    return IG_OK;
}

static ig_status imp_softmax(ig_onnx_import *imp, node_t *n)
{
    ig_value x;
    int64_t shape[IG_MAX_DIMS], axis;
    IG_TRY(runtime_in(imp, n, 0, &x));
    int rank = value_shape(imp, x, shape);
    /* before opset 13 Softmax flattens from `axis` on: the last axis is the same softmax */
    IG_TRY(axis_of(imp, n, imp->opset < 13 ? 1 : -1, rank, &axis));
    if (axis != rank - 1)
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "softmax over axis %lld of %d: ingot's is over the last axis",
                            (long long)axis, rank);
    char name[IG_NAME_LEN];
    ig_value y = ig_softmax(imp->m, x, layer_name(imp, NULL, n->name, name));
    IG_TRY(built(imp, y));
    return define(imp, n->output[0], y);
}

static ig_status imp_flatten(ig_onnx_import *imp, node_t *n)
{
    ig_value x;
    int64_t shape[IG_MAX_DIMS], axis;
    IG_TRY(runtime_in(imp, n, 0, &x));
    IG_TRY(axis_of(imp, n, 1, value_shape(imp, x, shape), &axis));
    if (axis != 1)
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "Flatten at axis %lld; ingot keeps the batch dimension apart "
                            "(axis 1)", (long long)axis);
    char name[IG_NAME_LEN];
    ig_value y = ig_flatten(imp->m, x, layer_name(imp, NULL, n->name, name));
    IG_TRY(built(imp, y));
    return define(imp, n->output[0], y);
}

/* Reshape by a constant shape that keeps the batch: its first entry 0 (copy) or -1 (the
 * rest fixed), the others fixed, 0 (copy) or one -1. */
static ig_status imp_reshape(ig_onnx_import *imp, node_t *n)
{
    ig_value x;
    ig_onnx_const c;
    int64_t in[IG_MAX_DIMS], out[IG_MAX_DIMS], allowzero;
    IG_TRY(runtime_in(imp, n, 0, &x));
    IG_TRY(typed_in(imp, n, 1, I64, &c));
    IG_TRY(attr_int(imp, n, "allowzero", 0, &allowzero));
    if (c.ndim != 1 || c.numel < 2 || c.numel > IG_MAX_DIMS)
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "the shape must be a vector of 2 to %d entries, the batch first",
                            IG_MAX_DIMS);
    int r_in = value_shape(imp, x, in), r = (int)c.numel, infer = -1;
    int64_t rest = 1, known = 1, first = ig_onnx_i64(&c, 0);
    for (int i = 1; i < r_in; i++) rest *= in[i];
    if ((first != 0 && first != -1) || (first == 0 && allowzero))
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "the shape's first entry is %lld; ingot keeps the batch "
                            "dimension (0 or -1)", (long long)first);
    for (int i = 1; i < r; i++) {
        int64_t d = ig_onnx_i64(&c, i);
        if (d == 0 && !allowzero) {
            if (i >= r_in) return ig_onnx_fail(imp, IG_ERR_FORMAT, "entry %d copies a dimension the input lacks", i);
            d = in[i];
        }
        if (d == -1 && infer < 0 && first != -1) {
            infer = i;
            continue;
        }
        if (d < 1 || d > rest / known)
            return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "entry %d (%lld) does not keep the batch dimension", i,
                                (long long)ig_onnx_i64(&c, i));
        known *= d;
        out[i] = d;
    }
    if (infer >= 0) out[infer] = rest / known;
    if (rest % known || (infer < 0 && known != rest))
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "the shape does not keep the batch dimension (%lld elements per "
                            "sample)", (long long)rest);
    char name[IG_NAME_LEN];
    ig_value y = ig_reshape(imp->m, x, out + 1, r - 1, layer_name(imp, NULL, n->name, name));
    IG_TRY(built(imp, y));
    return define(imp, n->output[0], y);
}

static ig_status imp_add(ig_onnx_import *imp, node_t *n)
{
    ig_value a, b;
    IG_TRY(runtime_in(imp, n, 0, &a));
    IG_TRY(runtime_in(imp, n, 1, &b));
    char name[IG_NAME_LEN];
    ig_value y = ig_add(imp->m, a, b, layer_name(imp, NULL, n->name, name));
    IG_TRY(built(imp, y));
    return define(imp, n->output[0], y);
}

/* Kept for fine-tuning (the identity in prediction); the ratio is an attribute before
 * opset 12, an input after. */
static ig_status imp_dropout(ig_onnx_import *imp, node_t *n)
{
    ig_value x;
    ig_onnx_const r;
    float p;
    IG_TRY(runtime_in(imp, n, 0, &x));
    IG_TRY(attr_float(imp, n, "ratio", 0.5f, &p));
    if (present(n, 1)) {
        IG_TRY(typed_in(imp, n, 1, F32, &r));
        if (r.numel != 1) return ig_onnx_fail(imp, IG_ERR_FORMAT, "ratio is not a scalar");
        p = ig_onnx_f32(&r, 0);
    }
    if (present(n, 2)) return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "a training_mode input");
    char name[IG_NAME_LEN];
    ig_value y = ig_dropout(imp->m, x, p, layer_name(imp, NULL, n->name, name));
    IG_TRY(built(imp, y));
    return define(imp, n->output[0], y);
}

static ig_status imp_identity(ig_onnx_import *imp, node_t *n)
{
    const ig_onnx_entry *in = ig_onnx_find(imp, n->input[0]);
    ig_onnx_entry *out = ig_onnx_find(imp, n->output[0]);
    if (out->kind != IG_ONNX_UNDEFINED)
        return ig_onnx_fail(imp, IG_ERR_FORMAT, "value '%s' is assigned twice", out->name);
    out->kind = in->kind;
    out->v = in->v;
    out->tensor = in->tensor;
    out->attr = in->attr;
    return IG_OK;
}

static ig_status imp_constant(ig_onnx_import *imp, node_t *n)
{
    if (n->n_attribute != 1) return ig_onnx_fail(imp, IG_ERR_FORMAT, "a Constant needs exactly one attribute");
    const Onnx__AttributeProto *a = n->attribute[0];
    static const struct {
        const char *name;
        Onnx__AttributeProto__AttributeType type;
    } kinds[] = {{"value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR},
                 {"value_float", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT},
                 {"value_floats", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS},
                 {"value_int", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT},
                 {"value_ints", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS}};
    size_t k = 0;
    while (strcmp(kinds[k].name, a->name) != 0) k++; /* the attribute list was checked */
    if (a->type != kinds[k].type || (k == 0 && !a->t))
        return ig_onnx_fail(imp, IG_ERR_FORMAT, "attribute '%s' has the wrong type", a->name);
    ig_onnx_entry *out = ig_onnx_find(imp, n->output[0]);
    if (out->kind != IG_ONNX_UNDEFINED)
        return ig_onnx_fail(imp, IG_ERR_FORMAT, "value '%s' is assigned twice", out->name);
    if (k == 0) {
        ig_onnx_const c;
        ig_status st = ig_onnx_tensor_const(a->t, "its value", &c);
        if (st != IG_OK) return wrap(imp, st);
        out->tensor = a->t;
    } else {
        out->attr = a;
    }
    out->kind = IG_ONNX_CONSTANT;
    return IG_OK;
}

/* ---- dispatch */

typedef struct op_def {
    const char *op;
    ig_status (*import)(ig_onnx_import *imp, node_t *n);
    size_t min_in, max_in;
    const char *attrs; /* the attributes it reads, space-separated */
} op_def;

static const op_def ops[] = {
    {"Conv", imp_conv, 2, 3, "kernel_shape strides pads dilations group auto_pad"},
    {"MaxPool", imp_pool, 1, 1, "kernel_shape strides pads dilations ceil_mode storage_order auto_pad"},
    {"AveragePool", imp_pool, 1, 1, "kernel_shape strides pads dilations ceil_mode count_include_pad auto_pad"},
    {"GlobalAveragePool", imp_global_pool, 1, 1, ""},
    {"Gemm", imp_gemm, 2, 3, "alpha beta transA transB"},
    {"MatMul", imp_matmul, 2, 2, ""},
    {"BatchNormalization", imp_batchnorm, 5, 5, "epsilon momentum training_mode"},
    {"Relu", imp_act, 1, 1, ""},
    {"Tanh", imp_act, 1, 1, ""},
    {"Sigmoid", imp_act, 1, 1, ""},
    {"LeakyRelu", imp_act, 1, 1, "alpha"},
    {"Elu", imp_act, 1, 1, "alpha"},
    {"Gelu", imp_gelu, 1, 1, "approximate"},
    {"Div", imp_chain, 2, 2, ""},
    {"Mul", imp_chain, 2, 2, ""},
    {"Softmax", imp_softmax, 1, 1, "axis"},
    {"Flatten", imp_flatten, 1, 1, "axis"},
    {"Reshape", imp_reshape, 2, 2, "allowzero"},
    {"Add", imp_add, 2, 2, ""},
    {"Dropout", imp_dropout, 1, 3, "ratio seed"},
    {"Identity", imp_identity, 1, 1, ""},
    {"Constant", imp_constant, 0, 0, "value value_float value_floats value_int value_ints"},
};

static bool listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += len)
        if ((p == list || p[-1] == ' ') && (p[len] == ' ' || !p[len])) return true;
    return false;
}

ig_status ig_onnx_import_node(ig_onnx_import *imp, int i)
{
    imp->node = i;
    node_t *n = imp->g->node[i];
    if (!named(n->op_type)) return ig_onnx_fail(imp, IG_ERR_FORMAT, "no operator");
    if (named(n->domain) && strcmp(n->domain, "ai.onnx") != 0)
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "operator of domain '%s'; ingot reads ONNX's own", n->domain);
    const op_def *d = NULL;
    for (size_t k = 0; !d && k < sizeof ops / sizeof ops[0]; k++)
        if (strcmp(ops[k].op, n->op_type) == 0) d = &ops[k];
    if (!d)
        return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "ingot cannot import this operator (docs/onnx.md lists those it "
                            "can)");
    size_t n_in = n->n_input;
    while (n_in && !present(n, n_in - 1)) n_in--;
    if (n_in < d->min_in || n_in > d->max_in)
        return ig_onnx_fail(imp, IG_ERR_FORMAT, "%zu inputs; %s takes %zu to %zu", n_in, d->op, d->min_in, d->max_in);
    for (size_t k = 0; k < n_in; k++) {
        const ig_onnx_entry *e = present(n, k) ? ig_onnx_find(imp, n->input[k]) : NULL;
        if (k < d->min_in && !e) return ig_onnx_fail(imp, IG_ERR_FORMAT, "input %zu is missing", k);
        if (e && e->kind == IG_ONNX_UNDEFINED)
            return ig_onnx_fail(imp, IG_ERR_FORMAT, "input '%s' is computed by no earlier node, initializer or graph "
                                "input (nodes must be sorted)", e->name);
    }
    if (!n->n_output || !named(n->output[0])) return ig_onnx_fail(imp, IG_ERR_FORMAT, "no output");
    for (size_t k = 1; k < n->n_output; k++) {
        const ig_onnx_entry *e = ig_onnx_find(imp, n->output[k]);
        if (e && e->consumers)
            return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "output %zu ('%s') is read; ingot computes only the first",
                                k, e->name);
    }
    for (size_t k = 0; k < n->n_attribute; k++) {
        const Onnx__AttributeProto *a = n->attribute[k];
        if (!named(a->name) || !listed(d->attrs, a->name) || named(a->ref_attr_name))
            return ig_onnx_fail(imp, IG_ERR_UNSUPPORTED, "attribute '%s' is not supported", a->name ? a->name : "");
    }
    return d->import(imp, n);
}
