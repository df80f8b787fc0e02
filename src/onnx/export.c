/* export.c — ig_model_export_onnx: the model's forward graph (m->g, which the fusion passes
 * never touch: they work on the programs' copies) as ONNX protobuf-c messages, packed
 * straight into the file. docs/onnx.md has the mapping. */
#include "io/atomic_file.h"
#include "nn/model.h"
#include "onnx/onnx_format.h"
#include "ops/act_math.h"
#include "ops/ops.h"
#include "ops/pool_math.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every message, string and array is one allocation in `blocks`, freed together. After a
 * failed allocation `oom` is set and the helpers return NULL and do nothing. */
typedef struct exporter {
    ig_model *m;
    void **blocks;
    size_t n_blocks, cap_blocks;
    bool oom;
    Onnx__NodeProto **nodes;
    size_t n_nodes, cap_nodes;
    Onnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    char **used; /* every value name given out, for uniqueness */
    size_t n_used, cap_used;
    const char **names; /* per ingot value: its ONNX name */
    int out_root;       /* the value the model outputs, looked through dropout */
} exporter;

/* Appends to a typed growable array; false when out of memory. */
#define PUSH(e, arr, n, cap, item)                                                        \
    ((e)->n == (e)->cap && !grow((void **)&(e)->arr, &(e)->cap, sizeof *(e)->arr)        \
         ? ((e)->oom = true, false)                                                       \
         : ((e)->arr[(e)->n++] = (item), true))

static bool grow(void **arr, size_t *cap, size_t elem)
{
    size_t nc = *cap ? *cap * 2 : 64;
    void *na = realloc(*arr, nc * elem);
    if (!na) return false;
    *arr = na;
    *cap = nc;
    return true;
}

static void *ex_alloc(exporter *e, size_t bytes)
{
    if (e->oom) return NULL;
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p || !PUSH(e, blocks, n_blocks, cap_blocks, p)) {
        free(p);
        e->oom = true;
        return NULL;
    }
    return p;
}

static char *ex_printf(exporter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *ex_printf(exporter *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? ex_alloc(e, (size_t)n + 1) : NULL;
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static bool name_used(const exporter *e, const char *s)
{
    for (size_t i = 0; i < e->n_used; i++)
        if (strcmp(e->used[i], s) == 0) return true;
    return false;
}

/* `base`, or base_2, base_3, ... : ONNX values are assigned once, and ingot lets layers
 * without parameters share a name. */
static char *ex_unique(exporter *e, const char *base)
{
    if (!base) return NULL;
    char *s = ex_printf(e, "%s", base);
    for (int k = 2; s && name_used(e, s); k++) s = ex_printf(e, "%s_%d", base, k);
    if (s && !PUSH(e, used, n_used, cap_used, s)) return NULL;
    return s;
}

/* ---- messages */

static Onnx__NodeProto *ex_node(exporter *e, const char *op, const char *name, const char *const *in, int n_in,
                                const char *out)
{
    Onnx__NodeProto *n = ex_alloc(e, sizeof *n);
    char **ins = ex_alloc(e, (size_t)n_in * sizeof *ins), **outs = ex_alloc(e, sizeof *outs);
    if (!n || !ins || !outs || !out) return NULL;
    for (int i = 0; i < n_in; i++)
        if (!in[i]) return NULL;
    onnx__node_proto__init(n);
    memcpy(ins, in, (size_t)n_in * sizeof *ins);
    outs[0] = (char *)out;
    n->n_input = (size_t)n_in;
    n->input = ins;
    n->n_output = 1;
    n->output = outs;
    n->op_type = (char *)op;
    n->name = ex_printf(e, "%s", name);
    return PUSH(e, nodes, n_nodes, cap_nodes, n) ? n : NULL;
}

static Onnx__AttributeProto *ex_attr(exporter *e, Onnx__NodeProto *n, const char *name,
                                     Onnx__AttributeProto__AttributeType type)
{
    if (!n) return NULL;
    Onnx__AttributeProto *a = ex_alloc(e, sizeof *a);
    Onnx__AttributeProto **list = ex_alloc(e, (n->n_attribute + 1) * sizeof *list);
    if (!a || !list) return NULL;
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    a->type = type;
    if (n->n_attribute) memcpy(list, n->attribute, n->n_attribute * sizeof *list);
    list[n->n_attribute++] = a;
    n->attribute = list;
    return a;
}

static void attr_int(exporter *e, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = ex_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a) a->has_i = 1, a->i = v;
}

static void attr_float(exporter *e, Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = ex_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (a) a->has_f = 1, a->f = v;
}

/* An INTS attribute of `count` copies of v (square kernels, equal strides and pads). */
static void attr_ints(exporter *e, Onnx__NodeProto *n, const char *name, int64_t v, size_t count)
{
    Onnx__AttributeProto *a = ex_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *vals = ex_alloc(e, count * sizeof *vals);
    if (!a || !vals) return;
    for (size_t i = 0; i < count; i++) vals[i] = v;
    a->n_ints = count;
    a->ints = vals;
}

/* An initializer of raw little-endian bytes (which it owns). */
static bool ex_tensor(exporter *e, const char *name, Onnx__TensorProto__DataType type, const int64_t *dims, int ndim,
                      uint8_t *raw, size_t bytes)
{
    Onnx__TensorProto *t = ex_alloc(e, sizeof *t);
    int64_t *d = ex_alloc(e, (size_t)ndim * sizeof *d);
    if (!t || !d || !name || !raw) return false;
    onnx__tensor_proto__init(t);
    if (ndim) memcpy(d, dims, (size_t)ndim * sizeof *d);
    t->n_dims = (size_t)ndim;
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = type;
    t->name = (char *)name;
    t->has_raw_data = 1;
    t->raw_data = (ProtobufCBinaryData){bytes, raw};
    return PUSH(e, inits, n_inits, cap_inits, t);
}

static void put_le(uint8_t *dst, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) dst[i] = (uint8_t)(v >> (8 * i));
}

/* A scalar f32 initializer named after the layer; returns its name. */
static const char *ex_scalar(exporter *e, const char *layer, float v)
{
    char *name = ex_unique(e, ex_printf(e, "%s/const", layer));
    uint8_t *raw = ex_alloc(e, 4);
    uint32_t bits;
    memcpy(&bits, &v, 4);
    if (raw) put_le(raw, bits, 4);
    return ex_tensor(e, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, NULL, 0, raw, 4) ? name : NULL;
}

/* Parameter (or buffer) i as an initializer under its name. */
static ig_status ex_param(exporter *e, int i)
{
    const ig_param *p = &e->m->params[i];
    const ig_shape *s = &e->m->g.vals[p->val].shape;
    size_t n = ig_shape_numel(s);
    uint8_t *raw = ex_alloc(e, n * 4);
    char *name = ex_unique(e, p->name);
    if (!raw || !name) return IG_ERR_OUT_OF_MEMORY;
    /* read as floats, then rewritten in place as little-endian bytes */
    IG_TRY(ig_model_param_get(e->m, i, (float *)raw, (int64_t)n));
    for (size_t j = 0; j < n; j++) {
        uint32_t bits;
        memcpy(&bits, raw + 4 * j, 4);
        put_le(raw + 4 * j, bits, 4);
    }
    e->names[p->val] = name;
    ex_tensor(e, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, s->d, s->ndim, raw, n * 4);
    return IG_OK;
}

/* f32 [N, d1, ...] with the batch dimension symbolic. */
static Onnx__ValueInfoProto *ex_value_info(exporter *e, const char *name, const ig_shape *s)
{
    Onnx__ValueInfoProto *vi = ex_alloc(e, sizeof *vi);
    Onnx__TypeProto *tp = ex_alloc(e, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = ex_alloc(e, sizeof *tt);
    Onnx__TensorShapeProto *sh = ex_alloc(e, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **dims = ex_alloc(e, (size_t)s->ndim * sizeof *dims);
    if (!vi || !tp || !tt || !sh || !dims) return NULL;
    for (int i = 0; i < s->ndim; i++) {
        Onnx__TensorShapeProto__Dimension *d = dims[i] = ex_alloc(e, sizeof *d);
        if (!d) return NULL;
        onnx__tensor_shape_proto__dimension__init(d);
        if (i == 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = "N";
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = s->d[i];
        }
    }
    onnx__tensor_shape_proto__init(sh);
    sh->n_dim = (size_t)s->ndim;
    sh->dim = dims;
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = sh;
    onnx__type_proto__init(tp);
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    onnx__value_info_proto__init(vi);
    vi->name = (char *)name;
    vi->type = tp;
    return vi;
}

/* ---- layers */

/* y = act(x), one node or a chain (onnx_format.h). */
static ig_status ex_act(exporter *e, int act, float p, const char *x, const char *layer, const char *y)
{
    const ig_onnx_chain *c = ig_onnx_chain_of(act);
    if (!c) {
        static const char *const ops[IG_ACT_KINDS] = {[IG_ACT_RELU] = "Relu", [IG_ACT_TANH] = "Tanh",
                                                      [IG_ACT_LEAKY_RELU] = "LeakyRelu", [IG_ACT_ELU] = "Elu",
                                                      [IG_ACT_SIGMOID] = "Sigmoid"};
        if (act < 0 || act >= IG_ACT_KINDS || !ops[act])
            return ig_fail(IG_ERR_INTERNAL, "ig_model_export_onnx: layer '%s' has activation kind %d", layer, act);
        Onnx__NodeProto *n = ex_node(e, ops[act], layer, &x, 1, y);
        if (act == IG_ACT_LEAKY_RELU || act == IG_ACT_ELU) attr_float(e, n, "alpha", p);
        return IG_OK;
    }
    const char *prev = x;
    for (int k = 0; k < c->n_steps; k++) {
        const ig_onnx_step *s = &c->steps[k];
        const char *name = ex_printf(e, "%s/%s_%d", layer, s->op, k);
        const char *out = k == c->n_steps - 1 ? y : ex_unique(e, name ? name : "");
        const char *in[2] = {prev, s->operand == IG_ONNX_X ? x : ex_scalar(e, layer, s->value)};
        ex_node(e, s->op, name, in, s->operand == IG_ONNX_UNARY ? 1 : 2, out);
        prev = out;
    }
    return IG_OK;
}

/* Dense and conv2d: the main node (*node), then the activation a fusion pass may have put in
 * their attributes. */
static ig_status ex_linear(exporter *e, const ig_node *n, const char *op, int act, float p, const char *y,
                           Onnx__NodeProto **node)
{
    const char *in[3];
    for (int k = 0; k < n->n_in; k++) in[k] = e->names[n->in[k]];
    const char *pre = act == IG_ACT_NONE ? y : ex_unique(e, ex_printf(e, "%s/%s", n->name, op));
    *node = ex_node(e, op, n->name, in, n->n_in, pre);
    return act == IG_ACT_NONE ? IG_OK : ex_act(e, act, p, pre, n->name, y);
}

static ig_status ex_layer(exporter *e, const ig_node *n)
{
    const ig_graph *g = &e->m->g;
    for (int k = 0; k < n->n_in; k++)
        if (!e->names[n->in[k]])
            return ig_fail(IG_ERR_INTERNAL, "ig_model_export_onnx: layer '%s' reads a value that has no name", n->name);
    const char *x = e->names[n->in[0]];
    if (n->op == IG_OP_DROPOUT) {
        e->names[n->out[0]] = x; /* the identity outside training */
        return IG_OK;
    }
    const char *y = n->out[0] == e->out_root ? "output" : ex_unique(e, n->name);
    Onnx__NodeProto *node = NULL;
    ig_status st = IG_OK;
    switch (n->op) {
    case IG_OP_DENSE:
        st = ex_linear(e, n, "Gemm", (int)n->attrs.i[1], 0, y, &node);
        attr_int(e, node, "transB", 1);
        break;
    case IG_OP_CONV2D:
        st = ex_linear(e, n, "Conv", (int)n->attrs.i[2], n->attrs.f[0], y, &node);
        attr_ints(e, node, "kernel_shape", g->vals[n->in[1]].shape.d[2], 2); /* square */
        attr_ints(e, node, "strides", n->attrs.i[0], 2);
        attr_ints(e, node, "pads", n->attrs.i[1], 4);
        break;
    case IG_OP_POOL2D:
        if (n->attrs.i[0] == IG_POOL_GLOBAL_AVG) {
            /* ONNX keeps [n, c, 1, 1]; ingot's global pool gives [n, c] */
            const char *pooled = ex_unique(e, ex_printf(e, "%s/pool", n->name));
            ex_node(e, "GlobalAveragePool", n->name, &x, 1, pooled);
            attr_int(e, ex_node(e, "Flatten", ex_printf(e, "%s/flatten", n->name), &pooled, 1, y), "axis", 1);
        } else {
            bool avg = n->attrs.i[0] == IG_POOL_AVG;
            Onnx__NodeProto *p = ex_node(e, avg ? "AveragePool" : "MaxPool", n->name, &x, 1, y);
            attr_ints(e, p, "kernel_shape", n->attrs.i[1], 2);
            attr_ints(e, p, "strides", n->attrs.i[2], 2);
            attr_ints(e, p, "pads", n->attrs.i[3], 4);
            if (avg) attr_int(e, p, "count_include_pad", 1);
        }
        break;
    case IG_OP_BATCHNORM: {
        const char *in[5];
        for (int k = 0; k < 5; k++) in[k] = e->names[n->in[k]];
        node = ex_node(e, "BatchNormalization", n->name, in, 5, y);
        attr_float(e, node, "epsilon", n->attrs.f[1]);
        /* ONNX's running = momentum·running + (1 − momentum)·batch: PyTorch's complement */
        attr_float(e, node, "momentum", 1.0f - n->attrs.f[0]);
        break;
    }
    case IG_OP_RELU: st = ex_act(e, IG_ACT_RELU, 0, x, n->name, y); break;
    case IG_OP_TANH: st = ex_act(e, IG_ACT_TANH, 0, x, n->name, y); break;
    case IG_OP_ACT: st = ex_act(e, (int)n->attrs.i[0], n->attrs.f[0], x, n->name, y); break;
    case IG_OP_SOFTMAX: attr_int(e, ex_node(e, "Softmax", n->name, &x, 1, y), "axis", -1); break;
    case IG_OP_ADD: {
        const char *in[2] = {x, e->names[n->in[1]]};
        ex_node(e, "Add", n->name, in, 2, y);
        break;
    }
    case IG_OP_RESHAPE:
        if (n->attrs.shape.ndim == 1) {
            attr_int(e, ex_node(e, "Flatten", n->name, &x, 1, y), "axis", 1);
        } else {
            /* 0 copies the input's batch dimension, so any batch size works */
            int64_t len = n->attrs.shape.ndim + 1;
            uint8_t *raw = ex_alloc(e, (size_t)len * 8);
            for (int64_t i = 1; raw && i < len; i++) put_le(raw + 8 * i, (uint64_t)n->attrs.shape.d[i - 1], 8);
            const char *in[2] = {x, ex_unique(e, ex_printf(e, "%s/shape", n->name))};
            ex_tensor(e, in[1], ONNX__TENSOR_PROTO__DATA_TYPE__INT64, &len, 1, raw, (size_t)len * 8);
            ex_node(e, "Reshape", n->name, in, 2, y);
        }
        break;
    default:
        return ig_fail(IG_ERR_UNSUPPORTED, "ig_model_export_onnx: layer '%s' (%s) has no ONNX form", n->name,
                       ig_op_get(n->op)->name);
    }
    e->names[n->out[0]] = y;
    return st;
}

/* ---- the file */

typedef struct file_sink {
    ProtobufCBuffer base;
    ig_atomic_file f;
    ig_status st;
} file_sink;

static void sink_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    file_sink *s = (file_sink *)b;
    if (s->st == IG_OK) s->st = ig_atomic_write(&s->f, data, len);
}

static ig_status write_model(exporter *e, const char *path)
{
    ig_model *m = e->m;
    Onnx__ValueInfoProto *in = ex_value_info(e, "input", &m->g.vals[m->input].shape);
    Onnx__ValueInfoProto *out = ex_value_info(e, "output", &m->g.vals[m->output].shape);
    if (e->oom || !in || !out) return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_model_export_onnx: out of memory");
    Onnx__GraphProto graph;
    onnx__graph_proto__init(&graph);
    graph.name = "ingot";
    graph.n_node = e->n_nodes;
    graph.node = e->nodes;
    graph.n_initializer = e->n_inits;
    graph.initializer = e->inits;
    graph.n_input = graph.n_output = 1;
    graph.input = &in;
    graph.output = &out;
    Onnx__OperatorSetIdProto opset, *opsets = &opset;
    onnx__operator_set_id_proto__init(&opset);
    opset.domain = "";
    opset.has_version = 1;
    opset.version = IG_ONNX_OPSET;
    char version[32];
    snprintf(version, sizeof version, "%d.%d.%d", IG_VERSION_MAJOR, IG_VERSION_MINOR, IG_VERSION_PATCH);
    Onnx__ModelProto model;
    onnx__model_proto__init(&model);
    model.has_ir_version = 1;
    model.ir_version = IG_ONNX_IR_VERSION;
    model.n_opset_import = 1;
    model.opset_import = &opsets;
    model.producer_name = "ingot";
    model.producer_version = version;
    model.graph = &graph;

    file_sink sink = {.base = {.append = sink_append}};
    IG_TRY(ig_atomic_open(&sink.f, path));
    protobuf_c_message_pack_to_buffer(&model.base, &sink.base);
    if (sink.st != IG_OK) return sink.st; /* the write aborted the file */
    return ig_atomic_commit(&sink.f);
}

ig_status ig_model_export_onnx(ig_model *m, const char *path)
{
    if (!m || !path) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_export_onnx: NULL %s", m ? "path" : "model");
    IG_TRY(ig_model_finalize(m));
    exporter e = {.m = m, .out_root = m->output};
    e.names = calloc((size_t)m->g.n_vals, sizeof *e.names);
    if (!e.names) return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_model_export_onnx: out of memory");
    ig_status st = IG_OK;
    while (m->g.vals[e.out_root].node >= 0 && m->g.nodes[m->g.vals[e.out_root].node].op == IG_OP_DROPOUT)
        e.out_root = m->g.nodes[m->g.vals[e.out_root].node].in[0];
    e.names[m->input] = "input";
    if (!ex_unique(&e, "input") || !ex_unique(&e, "output")) st = IG_ERR_OUT_OF_MEMORY;
    for (int i = 0; st == IG_OK && i < m->n_params; i++) st = ex_param(&e, i);
    for (int i = 0; st == IG_OK && i < m->g.n_nodes; i++) {
        const ig_node *n = &m->g.nodes[i];
        if (n->op == IG_OP_NOP) continue;
        st = ex_layer(&e, n);
        if (st == IG_OK && e.oom) st = IG_ERR_OUT_OF_MEMORY;
    }
    /* an output no layer computes (the input behind a dropout, a parameter) is still "output" */
    if (st == IG_OK && strcmp(e.names[e.out_root], "output") != 0)
        ex_node(&e, "Identity", "output", &e.names[e.out_root], 1, "output");
    if (st == IG_OK) st = write_model(&e, path);
    else if (st == IG_ERR_OUT_OF_MEMORY) ig_fail(st, "ig_model_export_onnx: out of memory");
    for (size_t i = 0; i < e.n_blocks; i++) free(e.blocks[i]);
    free(e.blocks);
    free(e.nodes);
    free(e.inits);
    free(e.used);
    free(e.names);
    return st;
}
