/* test_onnx.c — ONNX export and import: round trips that predict bit for bit alike, the
 * exported file's form, fine-tuning an imported model, and the importer's refusals of
 * unsupported and malformed files (hand-made with protobuf-c). onnxruntime, the ONNX checker
 * and PyTorch's exporter are tests/python/onnx_*.py's. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "onnx/onnx_format.h"
#include "onnx_models.h"
#include "test_tmpdir.h"
#include "test_util.h"

#include <string.h>

static void tmp_path(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", tmpdir, name); }

static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(*size);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, *size, f), *size);
    fclose(f);
    return data;
}

static void assert_same_predictions(ig_ctx *ctx, ig_model *a, ig_model *b, int64_t batch)
{
    ig_tensor *x, *ya, *yb;
    OK(onnx_test_input(ctx, a, batch, 7, &x));
    OK(ig_predict(a, x, &ya));
    OK(ig_predict(b, x, &yb));
    assert_int_equal(ig_tensor_nbytes(ya), ig_tensor_nbytes(yb));
    assert_memory_equal(ig_tensor_data(ya), ig_tensor_data(yb), ig_tensor_nbytes(ya));
    ig_tensor_release(x);
    ig_tensor_release(ya);
    ig_tensor_release(yb);
}

/* Every parameter and buffer of a is in b under its name, with the same values. */
static void assert_same_params(ig_model *a, ig_model *b)
{
    assert_int_equal(ig_model_param_count(a), ig_model_param_count(b));
    for (int i = 0; i < ig_model_param_count(a); i++) {
        int j = ig_model_param_index(b, ig_model_param_name(a, i));
        if (j < 0) fail_msg("parameter %s was not imported", ig_model_param_name(a, i));
        int64_t shape[IG_MAX_DIMS], n = 1;
        for (int d = ig_model_param_shape(a, i, shape) - 1; d >= 0; d--) n *= shape[d];
        float *pa = malloc((size_t)n * 4), *pb = malloc((size_t)n * 4);
        OK(ig_model_param_get(a, i, pa, n));
        OK(ig_model_param_get(b, j, pb, n));
        assert_memory_equal(pa, pb, (size_t)n * 4);
        assert_int_equal(ig_model_param_trainable(a, i), ig_model_param_trainable(b, j));
        free(pa);
        free(pb);
    }
}

static void round_trip(void **state, const char *which)
{
    fixture *f = *state;
    char path[512];
    tmp_path(path, sizeof path, which);
    ig_model *m, *back;
    OK(onnx_test_model(f->ctx, which, 2, &m));
    OK(ig_model_export_onnx(m, path));
    OK(ig_model_import_onnx(f->ctx, path, &back));
    assert_same_params(m, back);
    assert_same_predictions(f->ctx, m, back, 3);
    ig_model_destroy(back);
    ig_model_destroy(m);
}

static void test_round_trip_zoo(void **state) { round_trip(state, "zoo"); }
static void test_round_trip_cnn(void **state) { round_trip(state, "cnn"); }
static void test_round_trip_resnet18(void **state) { round_trip(state, "resnet18"); }

/* What the file says: opset 17, a symbolic batch, the parameters and buffers under their
 * names, no dropout, GELU as its chain. */
static void test_exported_form(void **state)
{
    fixture *f = *state;
    char path[512];
    tmp_path(path, sizeof path, "form.onnx");
    ig_model *m;
    OK(onnx_test_model(f->ctx, "zoo", 2, &m));
    OK(ig_model_export_onnx(m, path));
    size_t size;
    uint8_t *data = read_all(path, &size);
    Onnx__ModelProto *p = onnx__model_proto__unpack(NULL, size, data);
    assert_non_null(p);
    assert_int_equal(p->ir_version, IG_ONNX_IR_VERSION);
    assert_int_equal(p->n_opset_import, 1);
    assert_int_equal(p->opset_import[0]->version, 17);
    const Onnx__GraphProto *g = p->graph;
    assert_string_equal(g->input[0]->name, "input");
    assert_string_equal(g->output[0]->name, "output");
    assert_string_equal(g->input[0]->type->tensor_type->shape->dim[0]->dim_param, "N");
    assert_int_equal(g->output[0]->type->tensor_type->shape->dim[1]->dim_value, 10);
    int erf = 0, gemm = 0;
    for (size_t i = 0; i < g->n_node; i++) {
        assert_string_not_equal(g->node[i]->op_type, "Dropout");
        erf += strcmp(g->node[i]->op_type, "Erf") == 0;
        gemm += strcmp(g->node[i]->op_type, "Gemm") == 0;
    }
    assert_int_equal(erf, 1);
    assert_int_equal(gemm, 3);
    bool running_var = false;
    for (size_t i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *t = g->initializer[i];
        assert_true(t->has_raw_data);
        if (strcmp(t->name, "bn1.running_var") == 0) {
            running_var = true;
            float v[8];
            OK(ig_model_param_get(m, ig_model_param_index(m, "bn1.running_var"), v, 8));
            assert_int_equal(t->raw_data.len, sizeof v);
            assert_memory_equal(t->raw_data.data, v, sizeof v); /* little-endian host */
        }
    }
    assert_true(running_var);
    onnx__model_proto__free_unpacked(p, NULL);
    free(data);
    ig_model_destroy(m);
}

/* An imported model trains (batch norm in training mode, dropout gone) and exports again. */
static void test_fine_tune_imported(void **state)
{
    fixture *f = *state;
    char path[512], again[512];
    tmp_path(path, sizeof path, "tune.onnx");
    tmp_path(again, sizeof again, "tuned.onnx");
    ig_model *m, *back, *tuned;
    OK(onnx_test_model(f->ctx, "zoo", 8, &m));
    OK(ig_model_export_onnx(m, path));
    ig_model_destroy(m);
    OK(ig_model_import_onnx(f->ctx, path, &back));
    ig_tensor *x, *y;
    OK(onnx_test_input(f->ctx, back, 8, 3, &x));
    OK(ig_tensor_create(f->ctx, IG_I32, (int64_t[]){8}, 1, &y));
    for (int i = 0; i < 8; i++) ((int32_t *)ig_tensor_data(y))[i] = i % 10;
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.learning_rate = 1e-2f;
    ig_trainer *t;
    OK(ig_trainer_create(back, &cfg, &t));
    float first, loss;
    OK(ig_train_batch(t, x, y, &first));
    for (int s = 0; s < 20; s++) OK(ig_train_batch(t, x, y, &loss));
    if (!(loss < 0.5f * first)) fail_msg("the loss went from %g to %g", first, loss);
    OK(ig_model_export_onnx(back, again));
    OK(ig_model_import_onnx(f->ctx, again, &tuned));
    assert_same_params(back, tuned);
    assert_same_predictions(f->ctx, back, tuned, 4);
    ig_trainer_destroy(t);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_model_destroy(tuned);
    ig_model_destroy(back);
}

static void test_export_errors(void **state)
{
    fixture *f = *state;
    ig_model *m;
    OK(onnx_test_model(f->ctx, "cnn", 1, &m));
    assert_int_equal(ig_model_export_onnx(NULL, "x.onnx"), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_model_export_onnx(m, NULL), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_model_export_onnx(m, "/nonexistent-dir/m.onnx"), IG_ERR_IO);
    ig_model_destroy(m);
    /* a model built with a mistake reports it */
    OK(ig_model_create(f->ctx, (int64_t[]){1, 4, 4, 4}, 4, &m));
    ig_dense(m, ig_model_input(m), 3, true, "fc");
    assert_int_equal(ig_model_export_onnx(m, "/tmp/never.onnx"), IG_ERR_SHAPE);
    ig_model_destroy(m);
}

/* ---- hand-made files: input "x" f32 [N, 4] → Gemm(x, w [3, 4], transB=1) → "y" */

typedef struct craft {
    Onnx__ModelProto model;
    Onnx__OperatorSetIdProto opset, *opsets[1];
    Onnx__GraphProto graph;
    Onnx__NodeProto node, *nodes[1];
    char *node_in[2], *node_out[1];
    Onnx__AttributeProto attr[2], *attrs[2];
    Onnx__TensorProto w, *inits[1];
    float wdata[12];
    int64_t wdims[2];
    Onnx__ValueInfoProto in, out, *ins[1], *outs[1];
    Onnx__TypeProto in_t;
    Onnx__TypeProto__Tensor in_tt;
    Onnx__TensorShapeProto in_s;
    Onnx__TensorShapeProto__Dimension d[2], *dims[2];
} craft;

static void craft_init(craft *c)
{
    memset(c, 0, sizeof *c);
    onnx__model_proto__init(&c->model);
    c->model.has_ir_version = 1;
    c->model.ir_version = 8;
    onnx__operator_set_id_proto__init(&c->opset);
    c->opset.has_version = 1;
    c->opset.version = 17;
    c->opsets[0] = &c->opset;
    c->model.n_opset_import = 1;
    c->model.opset_import = c->opsets;
    c->model.graph = &c->graph;
    onnx__graph_proto__init(&c->graph);
    onnx__node_proto__init(&c->node);
    c->node_in[0] = "x";
    c->node_in[1] = "w";
    c->node_out[0] = "y";
    c->node.n_input = 2;
    c->node.input = c->node_in;
    c->node.n_output = 1;
    c->node.output = c->node_out;
    c->node.name = "gemm0";
    c->node.op_type = "Gemm";
    onnx__attribute_proto__init(&c->attr[0]);
    c->attr[0].name = "transB";
    c->attr[0].has_type = 1;
    c->attr[0].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    c->attr[0].has_i = 1;
    c->attr[0].i = 1;
    onnx__attribute_proto__init(&c->attr[1]);
    c->attrs[0] = &c->attr[0];
    c->attrs[1] = &c->attr[1];
    c->node.n_attribute = 1;
    c->node.attribute = c->attrs;
    c->nodes[0] = &c->node;
    c->graph.n_node = 1;
    c->graph.node = c->nodes;
    onnx__tensor_proto__init(&c->w);
    for (int i = 0; i < 12; i++) c->wdata[i] = (float)(i - 5);
    c->wdims[0] = 3;
    c->wdims[1] = 4;
    c->w.name = "w";
    c->w.has_data_type = 1;
    c->w.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    c->w.n_dims = 2;
    c->w.dims = c->wdims;
    c->w.has_raw_data = 1;
    c->w.raw_data = (ProtobufCBinaryData){sizeof c->wdata, (uint8_t *)c->wdata};
    c->inits[0] = &c->w;
    c->graph.n_initializer = 1;
    c->graph.initializer = c->inits;
    onnx__value_info_proto__init(&c->in);
    onnx__value_info_proto__init(&c->out);
    c->in.name = "x";
    c->out.name = "y";
    onnx__type_proto__init(&c->in_t);
    onnx__type_proto__tensor__init(&c->in_tt);
    onnx__tensor_shape_proto__init(&c->in_s);
    for (int i = 0; i < 2; i++) {
        onnx__tensor_shape_proto__dimension__init(&c->d[i]);
        c->dims[i] = &c->d[i];
    }
    c->d[0].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    c->d[0].dim_param = "N";
    c->d[1].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    c->d[1].dim_value = 4;
    c->in_s.n_dim = 2;
    c->in_s.dim = c->dims;
    c->in_tt.has_elem_type = 1;
    c->in_tt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    c->in_tt.shape = &c->in_s;
    c->in_t.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    c->in_t.tensor_type = &c->in_tt;
    c->in.type = &c->in_t;
    c->ins[0] = &c->in;
    c->outs[0] = &c->out;
    c->graph.n_input = c->graph.n_output = 1;
    c->graph.input = c->ins;
    c->graph.output = c->outs;
}

static ig_status craft_import(ig_ctx *ctx, craft *c, ig_model **m)
{
    size_t n = protobuf_c_message_get_packed_size(&c->model.base);
    uint8_t *buf = malloc(n);
    protobuf_c_message_pack(&c->model.base, buf);
    ig_status st = ig_model_import_onnx_memory(ctx, buf, n, m);
    free(buf);
    return st;
}

/* Importing c fails with status `want` and a message holding each of the strings given. */
static void refused(ig_ctx *ctx, craft *c, ig_status want, ...)
{
    ig_model *m = (ig_model *)1;
    ig_status st = craft_import(ctx, c, &m);
    if (st != want) fail_msg("import gave %s (%s), not %s", ig_status_name(st), ig_last_error(), ig_status_name(want));
    assert_null(m);
    va_list ap;
    va_start(ap, want);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
        if (!strstr(ig_last_error(), s)) fail_msg("'%s' is not in the message: %s", s, ig_last_error());
    va_end(ap);
}

static void test_crafted_model_imports(void **state)
{
    fixture *f = *state;
    craft c;
    craft_init(&c);
    ig_model *m;
    OK(craft_import(f->ctx, &c, &m));
    ig_tensor *x, *y;
    OK(ig_tensor_from_data(f->ctx, IG_F32, (int64_t[]){1, 4}, 2, (float[]){1, 2, 3, 4}, 16, &x));
    OK(ig_predict(m, x, &y));
    const float *out = ig_tensor_data(y);
    /* w row r is (4r − 5, 4r − 4, 4r − 3, 4r − 2): its dot with (1, 2, 3, 4) is 40r − 30 */
    for (int r = 0; r < 3; r++) assert_float_equal(out[r], 40.0f * r - 30.0f, 1e-5f);
    assert_true(ig_model_param_index(m, "gemm0.weight") >= 0); /* "w" has no ".weight": the node's name */
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_model_destroy(m);
}

static void test_unsupported(void **state)
{
    ig_ctx *ctx = ((fixture *)*state)->ctx;
    craft c;
    craft_init(&c);
    c.node.op_type = "Pad";
    refused(ctx, &c, IG_ERR_UNSUPPORTED, "node 0 'gemm0' (Pad)", "cannot import", NULL);
    craft_init(&c);
    c.node.domain = "com.microsoft";
    refused(ctx, &c, IG_ERR_UNSUPPORTED, "(Gemm)", "com.microsoft", NULL);
    craft_init(&c);
    c.attr[0].name = "transA";
    refused(ctx, &c, IG_ERR_UNSUPPORTED, "(Gemm)", "transA", NULL);
    craft_init(&c);
    c.attr[1] = c.attr[0];
    c.attr[1].name = "foo";
    c.node.n_attribute = 2;
    refused(ctx, &c, IG_ERR_UNSUPPORTED, "(Gemm)", "attribute 'foo'", NULL);
    craft_init(&c);
    c.w.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
    refused(ctx, &c, IG_ERR_UNSUPPORTED, "initializer 0 'w'", "data type 11", NULL);
    craft_init(&c);
    c.in_tt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    refused(ctx, &c, IG_ERR_UNSUPPORTED, "input 'x'", "float32", NULL);
    craft_init(&c);
    c.d[1].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    c.d[1].dim_param = "F";
    refused(ctx, &c, IG_ERR_UNSUPPORTED, "dimension 1 is not fixed", NULL);
    craft_init(&c);
    c.node_in[0] = "w"; /* a Gemm of two constants */
    refused(ctx, &c, IG_ERR_UNSUPPORTED, "(Gemm)", "constant", NULL);
    craft_init(&c);
    c.opset.version = 7;
    refused(ctx, &c, IG_ERR_UNSUPPORTED, "opset 7", NULL);
}

static void test_malformed(void **state)
{
    ig_ctx *ctx = ((fixture *)*state)->ctx;
    craft c;
    craft_init(&c);
    c.w.raw_data.len -= 4;
    refused(ctx, &c, IG_ERR_FORMAT, "'w'", "raw_data has 44 bytes; its shape needs 48", NULL);
    craft_init(&c);
    c.wdims[0] = c.wdims[1] = (int64_t)1 << 40; /* 2^80 elements claimed, 48 bytes held */
    refused(ctx, &c, IG_ERR_FORMAT, "'w'", "overflow", NULL);
    craft_init(&c);
    c.wdims[0] = (int64_t)1 << 30;
    refused(ctx, &c, IG_ERR_FORMAT, "raw_data has 48 bytes", NULL);
    craft_init(&c);
    c.wdims[1] = -4;
    refused(ctx, &c, IG_ERR_FORMAT, "dimension 1 is -4", NULL);
    craft_init(&c);
    c.w.n_dims = 0;
    c.w.has_raw_data = 0;
    c.w.n_float_data = 2;
    c.w.float_data = c.wdata;
    refused(ctx, &c, IG_ERR_FORMAT, "2 elements for a shape of 1", NULL);
    craft_init(&c);
    c.node_in[0] = "nowhere";
    refused(ctx, &c, IG_ERR_FORMAT, "'nowhere' is computed by no earlier node", NULL);
    craft_init(&c);
    c.node_out[0] = "x";
    refused(ctx, &c, IG_ERR_FORMAT, "'x' is assigned twice", NULL);
    craft_init(&c);
    c.out.name = "z";
    refused(ctx, &c, IG_ERR_UNSUPPORTED, "output 'z'", NULL);
    craft_init(&c);
    c.model.n_opset_import = 0;
    refused(ctx, &c, IG_ERR_FORMAT, "no opset", NULL);
    craft_init(&c);
    c.attr[0].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    refused(ctx, &c, IG_ERR_FORMAT, "'transB' has the wrong type", NULL);
    craft_init(&c);
    c.wdims[0] = 4; /* w [4, 3] does not fit an input of 4 features */
    c.wdims[1] = 3;
    refused(ctx, &c, IG_ERR_SHAPE, "(Gemm)", NULL);
}

/* Bytes that are not a model, cut short, or nest messages without end. */
static void test_not_a_model(void **state)
{
    fixture *f = *state;
    ig_model *m;
    static const uint8_t garbage[] = "\x0a\xff\xff\xff\xff\x0f not protobuf";
    assert_int_equal(ig_model_import_onnx_memory(f->ctx, garbage, sizeof garbage, &m), IG_ERR_FORMAT);
    assert_int_equal(ig_model_import_onnx_memory(f->ctx, "", 0, &m), IG_ERR_FORMAT);
    assert_int_equal(ig_model_import_onnx(f->ctx, "/nonexistent.onnx", &m), IG_ERR_IO);
    assert_int_equal(ig_model_import_onnx(f->ctx, NULL, &m), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_model_import_onnx_memory(NULL, garbage, 4, &m), IG_ERR_INVALID_ARGUMENT);

    char path[512];
    tmp_path(path, sizeof path, "cut.onnx");
    OK(onnx_test_model(f->ctx, "zoo", 1, &m));
    OK(ig_model_export_onnx(m, path));
    ig_model_destroy(m);
    size_t size;
    uint8_t *data = read_all(path, &size);
    for (size_t cut = 1; cut < size; cut += size / 37 + 1) {
        ig_status st = ig_model_import_onnx_memory(f->ctx, data, cut, &m);
        if (st != IG_ERR_FORMAT) fail_msg("cut at %zu of %zu: %s (%s)", cut, size, ig_status_name(st), ig_last_error());
    }
    free(data);

    /* model.graph → node → attribute.g → node → ... 600 levels deep, built from the inside
     * out: an empty graph wrapped as AttributeProto.g, NodeProto.attribute, GraphProto.node,
     * again and again, then as ModelProto.graph */
    static const uint8_t tags[3] = {0x32, 0x2a, 0x0a};
    uint8_t *buf = malloc(8192), *tmp = malloc(8192);
    size_t len = 0;
    for (int level = 0; level <= 600; level++) {
        size_t h = 0;
        tmp[h++] = level == 600 ? 0x3a : tags[level % 3];
        for (size_t v = len;; v >>= 7) {
            tmp[h++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
            if (v < 0x80) break;
        }
        memcpy(tmp + h, buf, len);
        len += h;
        memcpy(buf, tmp, len);
    }
    ig_status st = ig_model_import_onnx_memory(f->ctx, buf, len, &m);
    assert_int_equal(st, IG_ERR_FORMAT);
    assert_non_null(strstr(ig_last_error(), "nested"));
    free(buf);
    free(tmp);
}

/* One weight of 4 MB read by 100 layers would make 400 MB of parameters from a 4 MB file. */
static void test_shared_weight_refused(void **state)
{
    fixture *f = *state;
    enum { K = 1000, LAYERS = 100 };
    craft c;
    craft_init(&c);
    float *w = calloc(K * K, sizeof *w);
    c.wdims[0] = c.wdims[1] = K;
    c.w.raw_data = (ProtobufCBinaryData){(size_t)K * K * 4, (uint8_t *)w};
    c.d[1].dim_value = K;
    Onnx__NodeProto nodes[LAYERS], *list[LAYERS];
    char names[LAYERS + 1][16], *ins[LAYERS][2], *outs[LAYERS][1];
    for (int i = 0; i <= LAYERS; i++) snprintf(names[i], sizeof names[i], i ? "h%d" : "x", i);
    for (int i = 0; i < LAYERS; i++) {
        nodes[i] = c.node;
        ins[i][0] = names[i];
        ins[i][1] = "w";
        outs[i][0] = names[i + 1];
        nodes[i].input = ins[i];
        nodes[i].output = outs[i];
        nodes[i].name = names[i + 1];
        list[i] = &nodes[i];
    }
    c.graph.n_node = LAYERS;
    c.graph.node = list;
    c.out.name = names[LAYERS];
    refused(f->ctx, &c, IG_ERR_FORMAT, "more memory than its file justifies", NULL);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_zoo, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_round_trip_cnn, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_round_trip_resnet18, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_exported_form, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_fine_tune_imported, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_export_errors, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_crafted_model_imports, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_unsupported, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_malformed, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_not_a_model, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_shared_weight_refused, setup_fixture, teardown_fixture),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
