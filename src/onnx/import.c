/* import.c — ig_model_import_onnx: the file's bytes, its named values (initializers, the
 * input, node outputs), the walk over its nodes and, once the model is built, its
 * parameters. The operators themselves are import_ops.c's. */
#include "onnx/import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ig_status ig_onnx_fail(ig_onnx_import *imp, ig_status s, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const Onnx__NodeProto *n = imp->g->node[imp->node];
    return ig_fail(s, "node %d '%s' (%s): %s", imp->node, n->name ? n->name : "", n->op_type ? n->op_type : "", msg);
}

/* ---- constants */

static uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

float ig_onnx_f32(const ig_onnx_const *c, int64_t i)
{
    if (!c->raw) return c->f32[i];
    uint32_t bits = (uint32_t)get_le(c->raw + 4 * i, 4);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

int64_t ig_onnx_i64(const ig_onnx_const *c, int64_t i)
{
    return c->raw ? (int64_t)get_le(c->raw + 8 * i, 8) : c->i64[i];
}

ig_status ig_onnx_tensor_const(const Onnx__TensorProto *t, const char *what, ig_onnx_const *c)
{
    *c = (ig_onnx_const){.name = t->name ? t->name : "", .dtype = t->data_type, .ndim = (int)t->n_dims, .numel = 1};
    if (t->n_external_data || (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL))
        return ig_fail(IG_ERR_UNSUPPORTED, "%s keeps its data in an external file; ingot reads self-contained models",
                       what);
    if (t->segment) return ig_fail(IG_ERR_UNSUPPORTED, "%s is a segment of a tensor", what);
    size_t esize = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ? 4
                 : t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ? 8 : 0;
    if (!esize)
        return ig_fail(IG_ERR_UNSUPPORTED, "%s has ONNX data type %d; ingot reads float32 (1) and int64 (7) tensors",
                       what, (int)t->data_type);
    if (t->n_dims > IG_MAX_DIMS)
        return ig_fail(IG_ERR_UNSUPPORTED, "%s has %zu dimensions (ingot's tensors have at most %d)", what, t->n_dims,
                       IG_MAX_DIMS);
    for (size_t i = 0; i < t->n_dims; i++) {
        int64_t d = t->dims[i];
        if (d < 0) return ig_fail(IG_ERR_FORMAT, "%s: dimension %zu is %lld", what, i, (long long)d);
        if (d && c->numel > INT64_MAX / (int64_t)esize / d)
            return ig_fail(IG_ERR_FORMAT, "%s: its dimensions overflow 64 bits", what);
        c->numel *= d;
        c->dims[i] = d;
    }
    size_t typed = esize == 4 ? t->n_float_data : t->n_int64_data;
    size_t others = t->n_int32_data + t->n_string_data + t->n_double_data + t->n_uint64_data +
                    (esize == 4 ? t->n_int64_data : t->n_float_data);
    if (others || (t->has_raw_data && typed))
        return ig_fail(IG_ERR_FORMAT, "%s holds its data in more than one field, or in one of another type", what);
    if (t->has_raw_data) {
        if (t->raw_data.len != (size_t)c->numel * esize)
            return ig_fail(IG_ERR_FORMAT, "%s: raw_data has %zu bytes; its shape needs %lld", what, t->raw_data.len,
                           (long long)c->numel * (long long)esize);
        c->raw = t->raw_data.data;
    } else if (typed != (size_t)c->numel) {
        return ig_fail(IG_ERR_FORMAT, "%s: %zu elements for a shape of %lld", what, typed, (long long)c->numel);
    }
    c->f32 = t->float_data;
    c->i64 = t->int64_data;
    return IG_OK;
}

ig_status ig_onnx_entry_const(const ig_onnx_entry *e, ig_onnx_const *c)
{
    char what[96];
    snprintf(what, sizeof what, "constant '%.64s'", e->name);
    if (e->tensor) return ig_onnx_tensor_const(e->tensor, what, c);
    const Onnx__AttributeProto *a = e->attr;
    *c = (ig_onnx_const){.name = e->name, .numel = 1};
    switch (a->type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        c->dtype = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, c->f32 = &a->f;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        c->dtype = ONNX__TENSOR_PROTO__DATA_TYPE__INT64, c->i64 = &a->i;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        c->dtype = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, c->f32 = a->floats, c->numel = (int64_t)a->n_floats;
        c->ndim = 1, c->dims[0] = c->numel;
        break;
    default: /* INTS: import_ops.c defines constants of these four kinds only */
        c->dtype = ONNX__TENSOR_PROTO__DATA_TYPE__INT64, c->i64 = a->ints, c->numel = (int64_t)a->n_ints;
        c->ndim = 1, c->dims[0] = c->numel;
        break;
    }
    return IG_OK;
}

/* ---- named values */

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return (size_t)h;
}

/* The slot holding `name`, or the free slot where it would go. */
static int32_t *slot_of(ig_onnx_import *imp, const char *name)
{
    size_t i = hash(name) & (imp->n_slots - 1);
    while (imp->slots[i] && strcmp(imp->entries[imp->slots[i] - 1].name, name) != 0) i = (i + 1) & (imp->n_slots - 1);
    return &imp->slots[i];
}

ig_onnx_entry *ig_onnx_find(ig_onnx_import *imp, const char *name)
{
    if (!name || !*name) return NULL;
    int32_t s = *slot_of(imp, name);
    return s ? &imp->entries[s - 1] : NULL;
}

/* The entry of a non-empty name, made when new (the table is sized for every name). */
static ig_onnx_entry *entry(ig_onnx_import *imp, const char *name)
{
    int32_t *s = slot_of(imp, name);
    if (!*s) {
        imp->entries[imp->n_entries] = (ig_onnx_entry){.name = name, .consumer = -1};
        *s = (int32_t)++imp->n_entries;
    }
    return &imp->entries[*s - 1];
}

/* Sizes the table for every name the graph mentions and counts each value's readers. */
static ig_status make_table(ig_onnx_import *imp)
{
    const Onnx__GraphProto *g = imp->g;
    size_t names = g->n_initializer + g->n_input + g->n_output;
    for (size_t i = 0; i < g->n_node; i++) names += g->node[i]->n_input + g->node[i]->n_output;
    if (names > INT32_MAX / 4 || g->n_node > INT32_MAX)
        return ig_fail(IG_ERR_FORMAT, "the graph names more values than ingot can index");
    imp->n_slots = 16;
    while (imp->n_slots < 2 * names) imp->n_slots *= 2;
    imp->slots = ig_onnx_alloc(imp->budget, imp->n_slots * sizeof *imp->slots);
    imp->entries = ig_onnx_alloc(imp->budget, (names ? names : 1) * sizeof *imp->entries);
    imp->done = ig_onnx_alloc(imp->budget, g->n_node + 1);
    if (!imp->slots || !imp->entries || !imp->done)
        return ig_fail(imp->budget->exceeded ? IG_ERR_FORMAT : IG_ERR_OUT_OF_MEMORY,
                       "the graph's %zu value names take more memory than its file justifies", names);
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        for (size_t k = 0; k < n->n_input; k++)
            if (n->input[k] && *n->input[k]) {
                ig_onnx_entry *e = entry(imp, n->input[k]);
                e->consumers++;
                e->consumer = (int)i;
            }
        for (size_t k = 0; k < n->n_output; k++)
            if (n->output[k] && *n->output[k]) entry(imp, n->output[k]);
    }
    for (size_t i = 0; i < g->n_output; i++) {
        if (!g->output[i]->name || !*g->output[i]->name)
            return ig_fail(IG_ERR_FORMAT, "graph output %zu has no name", i);
        entry(imp, g->output[i]->name)->consumers++;
    }
    return IG_OK;
}

static ig_status define_initializers(ig_onnx_import *imp)
{
    const Onnx__GraphProto *g = imp->g;
    if (g->n_sparse_initializer) return ig_fail(IG_ERR_UNSUPPORTED, "sparse initializers are not supported");
    for (size_t i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *t = g->initializer[i];
        char what[96];
        snprintf(what, sizeof what, "initializer %zu '%.64s'", i, t->name ? t->name : "");
        if (!t->name || !*t->name) return ig_fail(IG_ERR_FORMAT, "%s has no name", what);
        ig_onnx_const c;
        IG_TRY(ig_onnx_tensor_const(t, what, &c));
        ig_onnx_entry *e = entry(imp, t->name);
        if (e->kind != IG_ONNX_UNDEFINED) return ig_fail(IG_ERR_FORMAT, "%s: the name is used twice", what);
        e->kind = IG_ONNX_CONSTANT;
        e->tensor = t;
    }
    return IG_OK;
}

/* The one graph input that is not an initializer (IR < 4 lists those as inputs too): f32
 * with fixed dimensions but for the first, the batch. */
static ig_status input_shape(ig_onnx_import *imp, const char **name, int64_t *shape, int *ndim)
{
    const Onnx__ValueInfoProto *in = NULL;
    *name = NULL;
    *ndim = 0;
    for (size_t i = 0; i < imp->g->n_input; i++) {
        const Onnx__ValueInfoProto *v = imp->g->input[i];
        const ig_onnx_entry *e = ig_onnx_find(imp, v->name);
        if (e && e->kind == IG_ONNX_CONSTANT) continue;
        if (in) return ig_fail(IG_ERR_UNSUPPORTED, "the graph has several inputs; ingot models have one");
        in = v;
    }
    if (!in || !in->name || !*in->name) return ig_fail(IG_ERR_FORMAT, "the graph has no (named) input");
    *name = in->name;
    const Onnx__TypeProto *t = in->type;
    if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type->has_elem_type ||
        t->tensor_type->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return ig_fail(IG_ERR_UNSUPPORTED, "input '%s' is not a float32 tensor", in->name);
    const Onnx__TensorShapeProto *s = t->tensor_type->shape;
    if (!s || s->n_dim < 1 || s->n_dim > IG_MAX_DIMS)
        return ig_fail(IG_ERR_UNSUPPORTED, "input '%s' has %s; ingot needs 1 to %d dimensions, the first the batch",
                       in->name, s ? "another number of dimensions" : "no shape", IG_MAX_DIMS);
    *ndim = (int)s->n_dim;
    for (int i = 0; i < *ndim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = s->dim[i];
        bool fixed = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (fixed && d->dim_value < 1)
            return ig_fail(IG_ERR_FORMAT, "input '%s': dimension %d is %lld", in->name, i, (long long)d->dim_value);
        if (!fixed && i > 0)
            return ig_fail(IG_ERR_UNSUPPORTED, "input '%s': dimension %d is not fixed; ingot needs every dimension but "
                           "the batch (the first) fixed", in->name, i);
        shape[i] = fixed ? d->dim_value : 1; /* a symbolic batch: nominally 1 */
    }
    return IG_OK;
}

/* The output's declared fixed dimensions (the batch aside) must be those computed. */
static ig_status check_output(ig_onnx_import *imp, const Onnx__ValueInfoProto *out, ig_value v)
{
    int64_t shape[IG_MAX_DIMS];
    int nd = ig_model_value_shape(imp->m, v, shape);
    const Onnx__TypeProto *t = out->type;
    const Onnx__TensorShapeProto *s =
        t && t->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ? t->tensor_type->shape : NULL;
    if (!s) return IG_OK;
    bool ok = (int)s->n_dim == nd;
    for (int i = 1; ok && i < nd; i++)
        ok = s->dim[i]->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
             s->dim[i]->dim_value == shape[i];
    if (!ok) {
        char buf[64];
        ig_shape have = ig_shape_make(nd, shape);
        return ig_fail(IG_ERR_FORMAT, "output '%s' is declared with another shape than the %s its nodes compute",
                       out->name, ig_shape_str(&have, buf, sizeof buf));
    }
    return IG_OK;
}

/* Copies each bound constant into its parameter. Each copy is as large as the constant,
 * whose bytes the file holds, and was counted against the budget. */
static ig_status set_params(ig_onnx_import *imp)
{
    for (size_t i = 0; i < imp->n_binds; i++) {
        const ig_onnx_bind *b = &imp->binds[i];
        const ig_onnx_const *c = &b->c;
        float *buf = malloc((size_t)c->numel * sizeof *buf);
        if (!buf) return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory reading '%s'", c->name);
        int64_t rows = c->ndim == 2 ? c->dims[0] : 1, cols = c->numel / (rows ? rows : 1);
        for (int64_t k = 0; k < c->numel; k++) {
            /* element (r, col) of the constant goes to (col, r) of a transposed parameter */
            int64_t dst = b->transpose ? (k % cols) * rows + k / cols : k;
            buf[dst] = ig_onnx_f32(c, k) * b->scale;
        }
        ig_status st = ig_model_param_set(imp->m, b->param, buf, c->numel);
        free(buf);
        IG_TRY(st);
    }
    return IG_OK;
}

static ig_status opset_of(const Onnx__ModelProto *model, int64_t *opset)
{
    *opset = 0;
    for (size_t i = 0; i < model->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = model->opset_import[i];
        if ((!o->domain || !*o->domain || strcmp(o->domain, "ai.onnx") == 0) && o->has_version) *opset = o->version;
    }
    if (!*opset) return ig_fail(IG_ERR_FORMAT, "no opset for ONNX's operators (the default domain)");
    if (*opset < 9 || *opset > 21)
        return ig_fail(IG_ERR_UNSUPPORTED, "opset %lld: ingot reads opsets 9 to 21", (long long)*opset);
    return IG_OK;
}

/* Builds the model; on failure the caller destroys imp->m. */
static ig_status import_graph(ig_ctx *ctx, ig_onnx_import *imp)
{
    const Onnx__GraphProto *g = imp->g;
    IG_TRY(make_table(imp));
    IG_TRY(define_initializers(imp));
    const char *in_name;
    int64_t shape[IG_MAX_DIMS];
    int ndim;
    IG_TRY(input_shape(imp, &in_name, shape, &ndim));
    if (g->n_output != 1)
        return ig_fail(IG_ERR_UNSUPPORTED, "the graph has %zu outputs; ingot models have one", g->n_output);
    IG_TRY(ig_model_create(ctx, shape, ndim, &imp->m));
    ig_onnx_entry *in = entry(imp, in_name);
    in->kind = IG_ONNX_RUNTIME;
    in->v = ig_model_input(imp->m);
    /* Constants first: they read nothing, and a pattern (GELU's chain) looks ahead at nodes
     * whose constants come later in the file. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < g->n_node; i++) {
            bool constant = g->node[i]->op_type && strcmp(g->node[i]->op_type, "Constant") == 0;
            if (imp->done[i] || constant != (pass == 0)) continue;
            IG_TRY(ig_onnx_import_node(imp, (int)i));
            imp->done[i] = true;
        }
    const ig_onnx_entry *out = ig_onnx_find(imp, g->output[0]->name);
    if (!out || out->kind != IG_ONNX_RUNTIME)
        return ig_fail(IG_ERR_UNSUPPORTED, "output '%s' is %s", g->output[0]->name,
                       out && out->kind == IG_ONNX_CONSTANT ? "a constant" : "computed by no node");
    IG_TRY(ig_model_set_output(imp->m, out->v));
    IG_TRY(check_output(imp, g->output[0], out->v));
    return set_params(imp);
}

ig_status ig_model_import_onnx_memory(ig_ctx *ctx, const void *data, size_t size, ig_model **out)
{
    if (!out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_import_onnx: NULL out");
    *out = NULL;
    if (!ctx || (!data && size))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_import_onnx: NULL %s", ctx ? "data" : "ctx");
    ig_onnx_budget budget;
    ig_onnx_budget_init(&budget, size);
    Onnx__ModelProto *model;
    ig_status st = ig_onnx_decode(data, size, &budget, &model);
    ig_onnx_import imp = {.budget = &budget};
    if (st == IG_OK && (!model->graph || !model->has_ir_version))
        st = ig_fail(IG_ERR_FORMAT, "not an ONNX model: no %s", model->graph ? "IR version" : "graph");
    if (st == IG_OK) st = opset_of(model, &imp.opset);
    if (st == IG_OK) {
        imp.g = model->graph;
        st = import_graph(ctx, &imp);
    }
    if (st != IG_OK) {
        ig_fail_prefix(st, "ONNX import: ");
        ig_model_destroy(imp.m);
    } else {
        *out = imp.m;
    }
    free(imp.binds);
    ig_onnx_free(&budget, imp.slots);
    ig_onnx_free(&budget, imp.entries);
    ig_onnx_free(&budget, imp.done);
    ig_onnx_decode_free(model, &budget);
    return st;
}

ig_status ig_model_import_onnx(ig_ctx *ctx, const char *path, ig_model **out)
{
    if (!out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_import_onnx: NULL out");
    *out = NULL;
    if (!path) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_import_onnx: NULL path");
    FILE *f = fopen(path, "rb");
    if (!f) return ig_fail(IG_ERR_IO, "ig_model_import_onnx: cannot open %s", path);
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    uint8_t *data = size >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc(size ? (size_t)size : 1) : NULL;
    bool read = data && fread(data, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    ig_status st = read ? ig_model_import_onnx_memory(ctx, data, (size_t)size, out)
                        : ig_fail(size < 0 || data ? IG_ERR_IO : IG_ERR_OUT_OF_MEMORY,
                                  "ig_model_import_onnx: cannot read %s", path);
    free(data);
    if (read && st != IG_OK) ig_fail_prefix(st, "%s: ", path);
    return st;
}
