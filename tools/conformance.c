/* conformance.c — ingot-conformance: runs the PyTorch reference cases of a directory
 * (cases.json + tensors.safetensors, see FORMAT.md there) against ingot and reports
 * PASS / FAIL / SKIP per case. Exit status: 0 all ran cases passed, 1 a case failed,
 * 2 the cases or tensors could not be read (or the device is missing). */
#include "nn/model.h"
#include "ops/ops.h"
#include "ops/pool_math.h"
#include "train/loss.h"
#include "train/optimizer.h"
#include "io/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FORMAT.md's tolerances on ‖got − want‖ / ‖want‖. */
#define TOL_STEP 1e-4  /* layers, losses, optimizer steps */
#define TOL_MODEL 1e-3 /* model trajectories: each loss and the final parameters */
/* ‖want‖ below this is taken as this, so an all-zero reference is compared absolutely. */
#define NORM_FLOOR 1e-6

#define MAX_OPERANDS IG_MAX_IN
#define MAX_LAYERS 64

typedef enum outcome { OUT_PASS = 0, OUT_FAIL, OUT_SKIP, OUT_ERROR } outcome;

/* One case being run: what it runs on, and its verdict so far. */
typedef struct run {
    ig_ctx *ctx;
    const ig_st_file *st;
    const char *name;
    double worst; /* the largest relative error compared */
    char msg[1024];
} run;

#define CHECK(expr)                                  \
    do {                                             \
        outcome check_o_ = (expr);                   \
        if (check_o_ != OUT_PASS) return check_o_;   \
    } while (0)

/* Sets the case's message; the macros below give the outcome at the call site, where the
 * compiler can see it. */
static void note(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
}

/* BAD: the case itself is malformed, and the run stops (exit 2). */
#define BAD(r, ...) (note((r), __VA_ARGS__), OUT_ERROR)
#define FAILED(r, ...) (note((r), __VA_ARGS__), OUT_FAIL)
#define SKIPPED(r, ...) (note((r), __VA_ARGS__), OUT_SKIP)

/* A library call failed: the case fails with the library's message. */
static outcome lib_failed(run *r, const char *what) { return FAILED(r, "%s: %s", what, ig_last_error()); }

/* ---------------------------------------------------------------- case fields */

static outcome field_str(run *r, const cJSON *obj, const char *key, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v)) return BAD(r, "\"%s\" is missing or not a string", key);
    *out = v->valuestring;
    return OUT_PASS;
}

static outcome field_int(run *r, const cJSON *obj, const char *key, int lo, int hi, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) || v->valuedouble != floor(v->valuedouble))
        return BAD(r, "\"%s\" must be an integer in [%d, %d]", key, lo, hi);
    *out = (int)v->valuedouble;
    return OUT_PASS;
}

/* A list of tensor roles: an array of `lo`..`hi` strings. */
static outcome field_roles(run *r, const cJSON *obj, const char *key, int lo, int hi, const cJSON **out, int *n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key), *e;
    bool ok = cJSON_IsArray(v);
    cJSON_ArrayForEach(e, v) ok = ok && cJSON_IsString(e);
    *n = ok ? cJSON_GetArraySize(v) : 0;
    if (!ok || *n < lo || *n > hi) return BAD(r, "\"%s\" must be a list of %d to %d tensor names", key, lo, hi);
    *out = v;
    return OUT_PASS;
}

static const char *role_at(const cJSON *roles, int i) { return cJSON_GetArrayItem(roles, i)->valuestring; }

/* Attributes: an absent one takes `dflt` (NAN: required). */
static outcome attr_num(run *r, const cJSON *attrs, const char *key, double dflt, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, key);
    if (!v && isnan(dflt)) return BAD(r, "attribute \"%s\" is missing", key);
    if (v && !cJSON_IsNumber(v)) return BAD(r, "attribute \"%s\" is not a number", key);
    *out = v ? v->valuedouble : dflt;
    return OUT_PASS;
}

static outcome attr_bool(run *r, const cJSON *attrs, const char *key, bool dflt, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, key);
    if (v && !cJSON_IsBool(v)) return BAD(r, "attribute \"%s\" is not a boolean", key);
    *out = v ? cJSON_IsTrue(v) : dflt;
    return OUT_PASS;
}

static outcome attr_pair(run *r, const cJSON *attrs, const char *key, double d0, double d1, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, key);
    if (v && (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2 || !cJSON_IsNumber(v->child) ||
              !cJSON_IsNumber(v->child->next)))
        return BAD(r, "attribute \"%s\" is not a pair of numbers", key);
    out[0] = v ? v->child->valuedouble : d0;
    out[1] = v ? v->child->next->valuedouble : d1;
    return OUT_PASS;
}

/* An attribute the runner does not know might change the result: skip rather than guess.
 * Model layers carry their "op" among their attributes. */
static outcome check_attrs(run *r, const char *op, const cJSON *attrs, const char *const *known)
{
    if (attrs && !cJSON_IsObject(attrs)) return BAD(r, "the attributes of '%s' are not an object", op);
    const cJSON *a;
    cJSON_ArrayForEach(a, attrs) {
        bool ok = strcmp(a->string, "op") == 0;
        for (int i = 0; known[i] && !ok; i++) ok = strcmp(a->string, known[i]) == 0;
        if (!ok) return SKIPPED(r, "op '%s' attribute '%s' not supported", op, a->string);
    }
    return OUT_PASS;
}

/* ---------------------------------------------------------------- tensors */

static outcome tensor(run *r, const char *role, ig_dtype dtype, const ig_st_tensor **out)
{
    char key[512];
    if (snprintf(key, sizeof key, "%s/%s", r->name, role) >= (int)sizeof key)
        return BAD(r, "tensor name '%s/%s' is too long", r->name, role);
    const ig_st_tensor *t = ig_st_get(r->st, key);
    if (!t) return BAD(r, "tensor '%s' is not in tensors.safetensors", key);
    ig_st_dtype want = dtype == IG_I64 ? IG_ST_I64 : IG_ST_F32; /* the two dtypes the vectors hold */
    if (t->dtype != want)
        return BAD(r, "tensor '%s' is %s, expected %s", key, ig_st_dtype_name(t->dtype), ig_st_dtype_name(want));
    *out = t;
    return OUT_PASS;
}

static ig_shape shape_of(const ig_st_tensor *t) { return ig_shape_make(t->ndim, t->shape); }

static bool same_dims(const ig_st_tensor *a, const ig_st_tensor *b)
{
    ig_shape sa = shape_of(a), sb = shape_of(b);
    return ig_shape_eq(&sa, &sb);
}

static outcome same_shape(run *r, const char *what, const ig_shape *got, const ig_st_tensor *want)
{
    ig_shape ws = shape_of(want);
    if (ig_shape_eq(got, &ws)) return OUT_PASS;
    char a[64], b[64];
    return FAILED(r, "%s has shape %s, expected %s", what, ig_shape_str(got, a, sizeof a), ig_shape_str(&ws, b, sizeof b));
}

/* Targets as ingot takes them: class ids (int64 in the file) as i32, or f32 values. */
static outcome target_tensor(run *r, const char *role, ig_dtype dtype, ig_tensor **out)
{
    const ig_st_tensor *t;
    CHECK(tensor(r, role, dtype == IG_I32 ? IG_I64 : IG_F32, &t));
    if (dtype == IG_F32) {
        if (ig_tensor_from_data(r->ctx, IG_F32, t->shape, t->ndim, t->data, t->nbytes, out) != IG_OK)
            return lib_failed(r, "target");
        return OUT_PASS;
    }
    const int64_t *ids = t->data;
    for (int64_t i = 0; i < t->numel; i++)
        if (ids[i] < INT32_MIN || ids[i] > INT32_MAX) return BAD(r, "class id %lld does not fit i32", (long long)ids[i]);
    if (ig_tensor_create(r->ctx, IG_I32, t->shape, t->ndim, out) != IG_OK) return lib_failed(r, "target");
    int32_t *dst = ig_tensor_data(*out);
    for (int64_t i = 0; i < t->numel; i++) dst[i] = (int32_t)ids[i];
    return OUT_PASS;
}

/* ‖got − want‖ / ‖want‖ over n values, in double. */
static outcome compare(run *r, const char *what, const float *got, const float *want, int64_t n, double tol)
{
    double diff = 0, norm = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)want[i];
        diff += d * d;
        norm += (double)want[i] * want[i];
    }
    double err = sqrt(diff) / fmax(sqrt(norm), NORM_FLOOR);
    if (!(err <= tol)) return FAILED(r, "%s rel err %.1e > %.0e", what, err, tol); /* NaN fails too */
    if (err > r->worst) r->worst = err;
    return OUT_PASS;
}

/* Reads IO value v of a program run and compares it. v < 0: autodiff found no dependence,
 * so the gradient is zero. */
static outcome check_output(run *r, ig_program *p, int v, const char *what, const ig_st_tensor *want, double tol)
{
    if (v >= 0) CHECK(same_shape(r, what, &p->g.vals[v].shape, want));
    float *got = calloc((size_t)(want->numel ? want->numel : 1), sizeof *got);
    if (!got) return BAD(r, "out of memory");
    outcome o = OUT_PASS;
    if (v >= 0 && ig_program_read(p, v, got, want->nbytes) != IG_OK) o = lib_failed(r, "ig_program_read");
    if (o == OUT_PASS) o = compare(r, what, got, want->data, want->numel, tol);
    free(got);
    return o;
}

/* ---------------------------------------------------------------- op tables */

/* A layer op: how a layer case builds its forward node (in[] = its inputs, then its
 * params, as graph leaves), and how a model case adds it through the public API (NULL:
 * not a layer of a sequential model). */
typedef struct layer_def {
    const char *name;
    const char *const *attrs; /* the attributes it understands, NULL-terminated */
    outcome (*graph)(run *r, ig_graph *g, const cJSON *attrs, const int *in, int n_in, int *y);
    outcome (*model)(run *r, ig_model *m, const cJSON *layer, const char *name, ig_value *v);
} layer_def;

/* *y: the node's first output */
static outcome graph_node(run *r, ig_graph *g, ig_op op, const int *in, int n_in, const ig_attrs *at, int *y)
{
    int out[IG_MAX_OUT];
    if (ig_graph_node(g, op, in, n_in, at, ig_op_get(op)->name, out) != IG_OK) return lib_failed(r, "building the op");
    *y = out[0];
    return OUT_PASS;
}

/* Dense: the bias is there when the case has the param (units come from the weight). */
static outcome dense_graph(run *r, ig_graph *g, const cJSON *attrs, const int *in, int n_in, int *y)
{
    ig_attrs at = {.i = {n_in == 3, IG_ACT_NONE}};
    return graph_node(r, g, IG_OP_DENSE, in, n_in, &at, y);
}

static outcome dense_model(run *r, ig_model *m, const cJSON *layer, const char *name, ig_value *v)
{
    double units;
    bool bias;
    CHECK(attr_num(r, layer, "units", NAN, &units));
    CHECK(attr_bool(r, layer, "bias", true, &bias)); /* nn.Linear's default */
    if (!(units >= 1 && units <= INT32_MAX) || units != floor(units))
        return BAD(r, "dense units %g is not a positive integer", units);
    *v = ig_dense(m, *v, (int64_t)units, bias, name);
    return OUT_PASS;
}

static outcome relu_graph(run *r, ig_graph *g, const cJSON *attrs, const int *in, int n_in, int *y)
{
    return graph_node(r, g, IG_OP_RELU, in, n_in, NULL, y);
}

static outcome relu_model(run *r, ig_model *m, const cJSON *layer, const char *name, ig_value *v)
{
    *v = ig_relu(m, *v, name);
    return OUT_PASS;
}

static outcome tanh_graph(run *r, ig_graph *g, const cJSON *attrs, const int *in, int n_in, int *y)
{
    return graph_node(r, g, IG_OP_TANH, in, n_in, NULL, y);
}

static outcome tanh_model(run *r, ig_model *m, const cJSON *layer, const char *name, ig_value *v)
{
    *v = ig_tanh(m, *v, name);
    return OUT_PASS;
}

/* Flatten keeps the batch dimension and merges the rest. */
static outcome flatten_graph(run *r, ig_graph *g, const cJSON *attrs, const int *in, int n_in, int *y)
{
    const ig_shape *xs = &g->vals[in[0]].shape;
    int64_t rest = 1;
    for (int i = 1; i < xs->ndim; i++) rest *= xs->d[i];
    ig_attrs at = {.shape = ig_shape_make(1, &rest)};
    return graph_node(r, g, IG_OP_RESHAPE, in, n_in, &at, y);
}

static outcome flatten_model(run *r, ig_model *m, const cJSON *layer, const char *name, ig_value *v)
{
    *v = ig_flatten(m, *v, name);
    return OUT_PASS;
}

static outcome add_graph(run *r, ig_graph *g, const cJSON *attrs, const int *in, int n_in, int *y)
{
    return graph_node(r, g, IG_OP_ADD, in, n_in, NULL, y);
}

/* Pooling: PyTorch's defaults (stride = kernel, padding 0). */
static outcome pool_attrs_of(run *r, const cJSON *attrs, int64_t *k, int64_t *s, int64_t *p)
{
    double kernel, stride, padding;
    CHECK(attr_num(r, attrs, "kernel", NAN, &kernel));
    CHECK(attr_num(r, attrs, "stride", kernel, &stride));
    CHECK(attr_num(r, attrs, "padding", 0, &padding));
    if (kernel != floor(kernel) || stride != floor(stride) || padding != floor(padding) || fabs(kernel) > INT32_MAX ||
        fabs(stride) > INT32_MAX || fabs(padding) > INT32_MAX)
        return BAD(r, "pool kernel, stride and padding must be integers");
    *k = (int64_t)kernel;
    *s = (int64_t)stride;
    *p = (int64_t)padding;
    return OUT_PASS;
}

static outcome pool_graph(run *r, ig_graph *g, const cJSON *attrs, const int *in, int n_in, int mode, int *y)
{
    ig_attrs at = {.i = {mode}};
    if (mode != IG_POOL_GLOBAL_AVG) CHECK(pool_attrs_of(r, attrs, &at.i[1], &at.i[2], &at.i[3]));
    return graph_node(r, g, IG_OP_POOL2D, in, n_in, &at, y);
}

static outcome maxpool_graph(run *r, ig_graph *g, const cJSON *attrs, const int *in, int n_in, int *y)
{
    return pool_graph(r, g, attrs, in, n_in, IG_POOL_MAX, y);
}

static outcome avgpool_graph(run *r, ig_graph *g, const cJSON *attrs, const int *in, int n_in, int *y)
{
    return pool_graph(r, g, attrs, in, n_in, IG_POOL_AVG, y);
}

static outcome global_avgpool_graph(run *r, ig_graph *g, const cJSON *attrs, const int *in, int n_in, int *y)
{
    return pool_graph(r, g, attrs, in, n_in, IG_POOL_GLOBAL_AVG, y);
}

static outcome maxpool_model(run *r, ig_model *m, const cJSON *layer, const char *name, ig_value *v)
{
    int64_t k, s, p;
    CHECK(pool_attrs_of(r, layer, &k, &s, &p));
    *v = ig_maxpool2d(m, *v, k, s, p, name);
    return OUT_PASS;
}

static outcome avgpool_model(run *r, ig_model *m, const cJSON *layer, const char *name, ig_value *v)
{
    int64_t k, s, p;
    CHECK(pool_attrs_of(r, layer, &k, &s, &p));
    *v = ig_avgpool2d(m, *v, k, s, p, name);
    return OUT_PASS;
}

static outcome global_avgpool_model(run *r, ig_model *m, const cJSON *layer, const char *name, ig_value *v)
{
    *v = ig_global_avgpool(m, *v, name);
    return OUT_PASS;
}

/* Conv2d: filters, kernel, stride, padding (PyTorch's defaults: stride 1, padding 0) into
 * v[0..3], and bias (default true). */
static outcome conv_attrs_of(run *r, const cJSON *attrs, int64_t *v, bool *bias)
{
    static const char *const keys[4] = {"filters", "kernel", "stride", "padding"};
    const double dflt[4] = {NAN, NAN, 1, 0};
    for (int i = 0; i < 4; i++) {
        double d;
        CHECK(attr_num(r, attrs, keys[i], dflt[i], &d));
        if (d != floor(d) || fabs(d) > INT32_MAX) return BAD(r, "conv2d %s %g is not an integer", keys[i], d);
        v[i] = (int64_t)d;
    }
    return attr_bool(r, attrs, "bias", true, bias);
}

/* The case's params must be the layer its attributes describe: w [filters, c, kernel, kernel]
 * and b when it has a bias. */
static outcome conv2d_graph(run *r, ig_graph *g, const cJSON *attrs, const int *in, int n_in, int *y)
{
    int64_t v[4];
    bool bias;
    CHECK(conv_attrs_of(r, attrs, v, &bias));
    const ig_shape *w = n_in >= 2 ? &g->vals[in[1]].shape : NULL;
    if (n_in != 2 + bias || w->ndim != 4 || w->d[0] != v[0] || w->d[2] != v[1] || w->d[3] != v[1])
        return BAD(r, "conv2d params do not match filters %lld, kernel %lld, bias %s", (long long)v[0],
                   (long long)v[1], bias ? "true" : "false");
    ig_attrs at = {.i = {v[2], v[3], IG_ACT_NONE}};
    return graph_node(r, g, IG_OP_CONV2D, in, n_in, &at, y);
}

static outcome conv2d_model(run *r, ig_model *m, const cJSON *layer, const char *name, ig_value *v)
{
    int64_t a[4];
    bool bias;
    CHECK(conv_attrs_of(r, layer, a, &bias));
    *v = ig_conv2d(m, *v, a[0], a[1], a[2], a[3], bias, name);
    return OUT_PASS;
}

/* Batch norm: training (a module's default mode), momentum and eps (PyTorch's defaults). */
static outcome bn_attrs_of(run *r, const cJSON *attrs, ig_attrs *at)
{
    bool training;
    double momentum, eps;
    CHECK(attr_bool(r, attrs, "training", true, &training));
    CHECK(attr_num(r, attrs, "momentum", 0.1, &momentum));
    CHECK(attr_num(r, attrs, "eps", 1e-5, &eps));
    *at = (ig_attrs){.i = {training}, .f = {(float)momentum, (float)eps}};
    return OUT_PASS;
}

/* in: x, γ, β, then the running mean and variance (the case's state_in) */
static outcome batchnorm_graph(run *r, ig_graph *g, const cJSON *attrs, const int *in, int n_in, int *y)
{
    ig_attrs at;
    CHECK(bn_attrs_of(r, attrs, &at));
    if (n_in != 5) return BAD(r, "batchnorm takes x, gamma, beta, and the running mean and variance as state_in");
    return graph_node(r, g, IG_OP_BATCHNORM, in, n_in, &at, y);
}

/* Training steps normalise with the batch's statistics; a layer kept in evaluation mode while
 * the rest trains has no counterpart. */
static outcome batchnorm_model(run *r, ig_model *m, const cJSON *layer, const char *name, ig_value *v)
{
    ig_attrs at;
    CHECK(bn_attrs_of(r, layer, &at));
    if (!at.i[0]) return SKIPPED(r, "batchnorm in evaluation mode inside a trained model not supported");
    *v = ig_batchnorm(m, *v, at.f[0], at.f[1], name);
    return OUT_PASS;
}

/* The ACT kinds. GELU's "approximate" ("none" or "tanh") picks the kind, defaulting to the
 * case's op (gelu or gelu_tanh); LeakyReLU's and ELU's parameter defaults as in PyTorch. */
static outcome act_attrs_of(run *r, const cJSON *attrs, int kind, ig_attrs *at)
{
    double p = 0;
    if (kind == IG_ACT_LEAKY_RELU) CHECK(attr_num(r, attrs, "slope", 0.01, &p));
    if (kind == IG_ACT_ELU) CHECK(attr_num(r, attrs, "alpha", 1.0, &p));
    if (kind == IG_ACT_GELU || kind == IG_ACT_GELU_TANH) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(attrs, "approximate");
        if (a && !cJSON_IsString(a)) return BAD(r, "attribute \"approximate\" is not a string");
        if (a && strcmp(a->valuestring, "none") && strcmp(a->valuestring, "tanh"))
            return SKIPPED(r, "gelu approximate '%s' not supported", a->valuestring);
        if (a) kind = strcmp(a->valuestring, "tanh") ? IG_ACT_GELU : IG_ACT_GELU_TANH;
    }
    *at = (ig_attrs){.i = {kind}, .f = {(float)p}};
    return OUT_PASS;
}

static outcome act_graph(run *r, ig_graph *g, const cJSON *attrs, const int *in, int n_in, int kind, int *y)
{
    ig_attrs at;
    CHECK(act_attrs_of(r, attrs, kind, &at));
    return graph_node(r, g, IG_OP_ACT, in, n_in, &at, y);
}

static outcome act_model(run *r, ig_model *m, const cJSON *layer, const char *name, int kind, ig_value *v)
{
    ig_attrs at;
    CHECK(act_attrs_of(r, layer, kind, &at));
    float p = at.f[0];
    switch (at.i[0]) {
    case IG_ACT_LEAKY_RELU: *v = ig_leaky_relu(m, *v, p, name); break;
    case IG_ACT_ELU: *v = ig_elu(m, *v, p, name); break;
    case IG_ACT_SIGMOID: *v = ig_sigmoid(m, *v, name); break;
    case IG_ACT_SWISH: *v = ig_swish(m, *v, name); break;
    default: *v = ig_gelu(m, *v, at.i[0] == IG_ACT_GELU_TANH, name); break;
    }
    return OUT_PASS;
}

/* The graph and model functions of one ACT kind. */
#define ACT_LAYER(op, kind)                                                                                     \
    static outcome op##_graph(run *r, ig_graph *g, const cJSON *attrs, const int *in, int n_in, int *y)         \
    {                                                                                                           \
        return act_graph(r, g, attrs, in, n_in, kind, y);                                                       \
    }                                                                                                           \
    static outcome op##_model(run *r, ig_model *m, const cJSON *layer, const char *name, ig_value *v)           \
    {                                                                                                           \
        return act_model(r, m, layer, name, kind, v);                                                           \
    }
ACT_LAYER(leaky_relu, IG_ACT_LEAKY_RELU)
ACT_LAYER(elu, IG_ACT_ELU)
ACT_LAYER(sigmoid, IG_ACT_SIGMOID)
ACT_LAYER(swish, IG_ACT_SWISH)
ACT_LAYER(gelu, IG_ACT_GELU)
ACT_LAYER(gelu_tanh, IG_ACT_GELU_TANH)
#undef ACT_LAYER

/* Softmax runs over the last axis only. */
static outcome softmax_axis(run *r, const cJSON *attrs, int ndim)
{
    double axis;
    CHECK(attr_num(r, attrs, "axis", -1, &axis));
    if (axis != -1 && axis != ndim - 1) return SKIPPED(r, "softmax over axis %g (only the last)", axis);
    return OUT_PASS;
}

static outcome softmax_graph(run *r, ig_graph *g, const cJSON *attrs, const int *in, int n_in, int *y)
{
    CHECK(softmax_axis(r, attrs, g->vals[in[0]].shape.ndim));
    return graph_node(r, g, IG_OP_SOFTMAX, in, n_in, NULL, y);
}

static outcome softmax_model(run *r, ig_model *m, const cJSON *layer, const char *name, ig_value *v)
{
    int64_t shape[IG_MAX_DIMS];
    CHECK(softmax_axis(r, layer, ig_model_value_shape(m, *v, shape)));
    *v = ig_softmax(m, *v, name);
    return OUT_PASS;
}

static const char *const no_attrs[] = {NULL};
static const char *const slope_attrs[] = {"slope", NULL};
static const char *const alpha_attrs[] = {"alpha", NULL};
static const char *const gelu_attrs[] = {"approximate", NULL};
static const char *const softmax_attrs[] = {"axis", NULL};
static const char *const pool_attrs[] = {"kernel", "stride", "padding", NULL};
static const char *const dense_attrs[] = {"units", "bias", NULL};
static const char *const conv2d_attrs[] = {"filters", "kernel", "stride", "padding", "bias", NULL};
static const char *const batchnorm_attrs[] = {"training", "momentum", "eps", NULL};

static const layer_def layer_ops[] = {
    {"dense", dense_attrs, dense_graph, dense_model},
    {"relu", no_attrs, relu_graph, relu_model},
    {"tanh", no_attrs, tanh_graph, tanh_model},
    {"leaky_relu", slope_attrs, leaky_relu_graph, leaky_relu_model},
    {"elu", alpha_attrs, elu_graph, elu_model},
    {"sigmoid", no_attrs, sigmoid_graph, sigmoid_model},
    {"swish", no_attrs, swish_graph, swish_model},
    {"gelu", gelu_attrs, gelu_graph, gelu_model},
    {"gelu_tanh", gelu_attrs, gelu_tanh_graph, gelu_tanh_model},
    {"softmax", softmax_attrs, softmax_graph, softmax_model},
    {"flatten", no_attrs, flatten_graph, flatten_model},
    {"add", no_attrs, add_graph, NULL},
    {"maxpool2d", pool_attrs, maxpool_graph, maxpool_model},
    {"avgpool2d", pool_attrs, avgpool_graph, avgpool_model},
    {"global_avgpool", no_attrs, global_avgpool_graph, global_avgpool_model},
    {"conv2d", conv2d_attrs, conv2d_graph, conv2d_model},
    {"batchnorm", batchnorm_attrs, batchnorm_graph, batchnorm_model},
};

/* A loss: the trainer's enum (src/train/loss.c picks its fused op and target), and how the
 * case's attributes (PyTorch's names and defaults) set the trainer configuration. */
typedef struct loss_def {
    const char *name;
    const char *const *attrs;
    ig_loss loss;
    outcome (*config)(run *r, const cJSON *attrs, ig_trainer_config *cfg); /* NULL: no attributes */
} loss_def;

static outcome ce_config(run *r, const cJSON *a, ig_trainer_config *c)
{
    double eps;
    CHECK(attr_num(r, a, "label_smoothing", 0, &eps));
    c->label_smoothing = (float)eps;
    return OUT_PASS;
}

/* categorical cross-entropy from logits is cross-entropy with probability targets */
static outcome cce_config(run *r, const cJSON *a, ig_trainer_config *c)
{
    bool from_logits;
    CHECK(attr_bool(r, a, "from_logits", false, &from_logits));
    if (!from_logits) return SKIPPED(r, "categorical cross-entropy on probabilities not supported (logits only)");
    return ce_config(r, a, c);
}

static outcome huber_config(run *r, const cJSON *a, ig_trainer_config *c)
{
    double delta;
    CHECK(attr_num(r, a, "delta", 1.0, &delta));
    c->huber_delta = (float)delta;
    return OUT_PASS;
}

static const char *const ce_attrs[] = {"label_smoothing", NULL};
static const char *const cce_attrs[] = {"from_logits", "label_smoothing", NULL};
static const char *const huber_attrs[] = {"delta", NULL};

static const loss_def loss_ops[] = {
    {"sparse_cross_entropy", ce_attrs, IG_LOSS_SPARSE_CROSS_ENTROPY, ce_config},
    {"cross_entropy", ce_attrs, IG_LOSS_CROSS_ENTROPY, ce_config},
    {"categorical_cross_entropy", cce_attrs, IG_LOSS_CROSS_ENTROPY, cce_config},
    {"binary_cross_entropy", no_attrs, IG_LOSS_BINARY_CROSS_ENTROPY, NULL},
    {"bce_with_logits", no_attrs, IG_LOSS_BCE_WITH_LOGITS, NULL},
    {"mse", no_attrs, IG_LOSS_MSE, NULL},
    {"mae", no_attrs, IG_LOSS_MAE, NULL},
    {"huber", huber_attrs, IG_LOSS_HUBER, huber_config},
};

/* An optimizer, and how the case's attributes (PyTorch's names and defaults) become a
 * trainer configuration. */
typedef struct opt_def {
    const char *name;
    const char *const *attrs;
    ig_optimizer opt;
    outcome (*config)(run *r, const cJSON *attrs, ig_trainer_config *cfg);
} opt_def;

static outcome sgd_config(run *r, const cJSON *a, ig_trainer_config *c)
{
    double lr, momentum, dampening, wd;
    CHECK(attr_num(r, a, "lr", NAN, &lr)); /* torch.optim.SGD has no default lr */
    CHECK(attr_num(r, a, "momentum", 0, &momentum));
    CHECK(attr_num(r, a, "dampening", 0, &dampening));
    CHECK(attr_num(r, a, "weight_decay", 0, &wd));
    CHECK(attr_bool(r, a, "nesterov", false, &c->nesterov));
    c->learning_rate = (float)lr;
    c->momentum = (float)momentum;
    c->dampening = (float)dampening;
    c->weight_decay = (float)wd;
    return OUT_PASS;
}

static outcome adam_common(run *r, const cJSON *a, double wd_default, ig_trainer_config *c)
{
    double lr, betas[2], eps, wd;
    CHECK(attr_num(r, a, "lr", 1e-3, &lr));
    CHECK(attr_pair(r, a, "betas", 0.9, 0.999, betas));
    CHECK(attr_num(r, a, "eps", 1e-8, &eps));
    CHECK(attr_num(r, a, "weight_decay", wd_default, &wd));
    c->learning_rate = (float)lr;
    c->beta1 = (float)betas[0];
    c->beta2 = (float)betas[1];
    c->eps = (float)eps;
    c->weight_decay = (float)wd;
    return OUT_PASS;
}

static outcome adam_config(run *r, const cJSON *a, ig_trainer_config *c) { return adam_common(r, a, 0, c); }
/* torch.optim.AdamW decays by 1e-2 unless told otherwise */
static outcome adamw_config(run *r, const cJSON *a, ig_trainer_config *c) { return adam_common(r, a, 1e-2, c); }

/* The optimizers below start from ig_trainer_defaults_for(optimizer) and take what a case
 * gives: a case leaving an attribute out checks that the library's default is PyTorch's. */
static outcome attr_field(run *r, const cJSON *a, const char *key, float *field)
{
    double v;
    CHECK(attr_num(r, a, key, *field, &v));
    *field = (float)v;
    return OUT_PASS;
}

static outcome common_fields(run *r, const cJSON *a, ig_trainer_config *c)
{
    CHECK(attr_field(r, a, "lr", &c->learning_rate));
    CHECK(attr_field(r, a, "eps", &c->eps));
    return attr_field(r, a, "weight_decay", &c->weight_decay);
}

static outcome rmsprop_config(run *r, const cJSON *a, ig_trainer_config *c)
{
    CHECK(common_fields(r, a, c));
    CHECK(attr_field(r, a, "alpha", &c->alpha));
    CHECK(attr_field(r, a, "momentum", &c->momentum));
    return attr_bool(r, a, "centered", c->centered, &c->centered);
}

static outcome adagrad_config(run *r, const cJSON *a, ig_trainer_config *c)
{
    CHECK(common_fields(r, a, c));
    CHECK(attr_field(r, a, "lr_decay", &c->lr_decay));
    return attr_field(r, a, "initial_accumulator_value", &c->initial_accumulator_value);
}

static outcome adadelta_config(run *r, const cJSON *a, ig_trainer_config *c)
{
    CHECK(common_fields(r, a, c));
    return attr_field(r, a, "rho", &c->rho);
}

static outcome nadam_config(run *r, const cJSON *a, ig_trainer_config *c)
{
    double betas[2];
    CHECK(common_fields(r, a, c));
    CHECK(attr_pair(r, a, "betas", c->beta1, c->beta2, betas));
    c->beta1 = (float)betas[0];
    c->beta2 = (float)betas[1];
    return attr_field(r, a, "momentum_decay", &c->momentum_decay);
}

/* A count attribute; absent or null (PyTorch's None) keeps *field. */
static outcome attr_count(run *r, const cJSON *a, const char *key, int *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, key);
    if (!v || cJSON_IsNull(v)) return OUT_PASS;
    if (!cJSON_IsNumber(v) || v->valuedouble != (int)v->valuedouble) return BAD(r, "attribute \"%s\" is not an integer", key);
    *field = (int)v->valuedouble;
    return OUT_PASS;
}

static outcome lbfgs_config(run *r, const cJSON *a, ig_trainer_config *c)
{
    CHECK(attr_field(r, a, "lr", &c->learning_rate));
    CHECK(attr_count(r, a, "max_iter", &c->lbfgs_max_iter));
    CHECK(attr_count(r, a, "max_eval", &c->lbfgs_max_eval));
    CHECK(attr_count(r, a, "history_size", &c->lbfgs_history));
    CHECK(attr_field(r, a, "tolerance_grad", &c->lbfgs_tolerance_grad));
    CHECK(attr_field(r, a, "tolerance_change", &c->lbfgs_tolerance_change));
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(a, "line_search_fn");
    if (!ls || cJSON_IsNull(ls)) return OUT_PASS;
    if (!cJSON_IsString(ls)) return BAD(r, "attribute \"line_search_fn\" is not a string or null");
    if (strcmp(ls->valuestring, "strong_wolfe") != 0)
        return SKIPPED(r, "lbfgs line_search_fn '%s' not supported", ls->valuestring);
    c->lbfgs_line_search = IG_LINE_SEARCH_STRONG_WOLFE;
    return OUT_PASS;
}

static const char *const sgd_attrs[] = {"lr", "momentum", "dampening", "nesterov", "weight_decay", NULL};
static const char *const adam_attrs[] = {"lr", "betas", "eps", "weight_decay", NULL};
static const char *const rmsprop_attrs[] = {"lr", "alpha", "eps", "weight_decay", "momentum", "centered", NULL};
static const char *const adagrad_attrs[] = {"lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps", NULL};
static const char *const adadelta_attrs[] = {"lr", "rho", "eps", "weight_decay", NULL};
static const char *const nadam_attrs[] = {"lr", "betas", "eps", "weight_decay", "momentum_decay", NULL};
static const char *const lbfgs_attrs[] = {"lr", "max_iter", "max_eval", "tolerance_grad", "tolerance_change",
                                          "history_size", "line_search_fn", NULL};

static const opt_def opt_ops[] = {
    {"sgd", sgd_attrs, IG_OPT_SGD, sgd_config},
    {"adam", adam_attrs, IG_OPT_ADAM, adam_config},
    {"adamw", adam_attrs, IG_OPT_ADAMW, adamw_config},
    {"rmsprop", rmsprop_attrs, IG_OPT_RMSPROP, rmsprop_config},
    {"adagrad", adagrad_attrs, IG_OPT_ADAGRAD, adagrad_config},
    {"adadelta", adadelta_attrs, IG_OPT_ADADELTA, adadelta_config},
    {"nadam", nadam_attrs, IG_OPT_NADAM, nadam_config},
    {"lbfgs", lbfgs_attrs, IG_OPT_LBFGS, lbfgs_config}, /* model cases only: it needs a closure */
};

/* The entry of an op table (each entry starts with its name), or NULL. */
static const void *find_entry(const void *table, size_t n, size_t size, const char *op)
{
    for (size_t i = 0; i < n; i++) {
        const void *e = (const char *)table + i * size;
        if (strcmp(*(const char *const *)e, op) == 0) return e;
    }
    return NULL;
}

#define FIND(table, op) find_entry(table, sizeof table / sizeof table[0], sizeof table[0], op)

/* The optimizer's configuration from a case: its table entry, attributes checked. */
static outcome opt_config(run *r, const char *op, const cJSON *attrs, const opt_def **def, ig_trainer_config *cfg)
{
    if (!(*def = FIND(opt_ops, op))) return SKIPPED(r, "op '%s' not supported", op);
    CHECK(check_attrs(r, op, attrs, (*def)->attrs));
    *cfg = ig_trainer_defaults_for((*def)->opt);
    return (*def)->config(r, attrs, cfg);
}

/* Sets cfg's loss from a case's loss op and attributes. */
static outcome loss_config(run *r, const char *op, const cJSON *attrs, const loss_def **def, ig_trainer_config *cfg)
{
    if (!(*def = FIND(loss_ops, op))) return SKIPPED(r, "op '%s' not supported", op);
    CHECK(check_attrs(r, op, attrs, (*def)->attrs));
    cfg->loss = (*def)->loss;
    return (*def)->config ? (*def)->config(r, attrs, cfg) : OUT_PASS;
}

/* ---------------------------------------------------------------- program helpers */

/* A graph input holding a tensor of the case, written by the caller before a run. */
static outcome io_leaf(run *r, ig_graph *g, const ig_st_tensor *t, ig_dtype dtype, const char *role, int *v)
{
    ig_shape s = shape_of(t);
    if ((*v = ig_graph_leaf(g, &s, dtype, role)) < 0) return BAD(r, "out of memory");
    g->vals[*v].buf = IG_BUF_IO;
    return OUT_PASS;
}

/* Gives v a node of its own in the IO block (views and leaves cannot be placed there). */
static outcome io_output(run *r, ig_graph *g, int *v)
{
    if (ig_graph_materialize(g, *v, v) != IG_OK) return lib_failed(r, "materializing an output");
    g->vals[*v].buf = IG_BUF_IO;
    return OUT_PASS;
}

static outcome compile(run *r, ig_graph *g, ig_program **p)
{
    return ig_program_create(r->ctx, g, p) == IG_OK ? OUT_PASS : lib_failed(r, "ig_program_create");
}

static outcome write_input(run *r, ig_program *p, int v, const void *data, size_t bytes)
{
    return ig_program_write(p, v, data, bytes) == IG_OK ? OUT_PASS : lib_failed(r, "ig_program_write");
}

/* ---------------------------------------------------------------- layer cases */

/* The tensors of a layer case: operands are its inputs then its params; state (batch norm's
 * running statistics) follows them as the op's inputs, is written in place by a training
 * step and compared with state_out where the case has it. */
typedef struct layer_case {
    int n_operands, n_state;
    const char *role[MAX_OPERANDS], *grad_role[MAX_OPERANDS], *y_role;
    const char *state_role[MAX_OPERANDS], *state_out_role[MAX_OPERANDS];
    const ig_st_tensor *operand[MAX_OPERANDS], *grad[MAX_OPERANDS], *y, *dy;
    const ig_st_tensor *state_in[MAX_OPERANDS], *state_out[MAX_OPERANDS]; /* state_out NULL: not compared */
} layer_case;

/* The optional state_in and state_out lists (state_out, where there, one per state_in). */
static outcome load_state(run *r, const cJSON *c, layer_case *lc)
{
    const cJSON *in, *out;
    int n_out;
    lc->n_state = 0;
    if (!cJSON_GetObjectItemCaseSensitive(c, "state_in")) return OUT_PASS;
    CHECK(field_roles(r, c, "state_in", 1, MAX_OPERANDS - lc->n_operands, &in, &lc->n_state));
    bool has_out = cJSON_GetObjectItemCaseSensitive(c, "state_out") != NULL;
    if (has_out) CHECK(field_roles(r, c, "state_out", lc->n_state, lc->n_state, &out, &n_out));
    for (int i = 0; i < lc->n_state; i++) {
        lc->state_role[i] = role_at(in, i);
        CHECK(tensor(r, lc->state_role[i], IG_F32, &lc->state_in[i]));
        lc->state_out[i] = NULL;
        if (!has_out) continue;
        lc->state_out_role[i] = role_at(out, i);
        CHECK(tensor(r, lc->state_out_role[i], IG_F32, &lc->state_out[i]));
    }
    return OUT_PASS;
}

static outcome load_layer_case(run *r, const cJSON *c, layer_case *lc)
{
    const cJSON *inputs, *params, *outputs, *grads;
    int n_inputs, n_params, n_outputs, n_grads;
    const char *upstream;
    CHECK(field_roles(r, c, "inputs", 1, MAX_OPERANDS, &inputs, &n_inputs));
    CHECK(field_roles(r, c, "params", 0, MAX_OPERANDS - n_inputs, &params, &n_params));
    CHECK(field_roles(r, c, "outputs", 1, 1, &outputs, &n_outputs));
    CHECK(field_roles(r, c, "grads", n_inputs + n_params, n_inputs + n_params, &grads, &n_grads));
    CHECK(field_str(r, c, "upstream", &upstream));
    lc->n_operands = n_inputs + n_params;
    for (int i = 0; i < lc->n_operands; i++) {
        lc->role[i] = i < n_inputs ? role_at(inputs, i) : role_at(params, i - n_inputs);
        lc->grad_role[i] = role_at(grads, i);
        CHECK(tensor(r, lc->role[i], IG_F32, &lc->operand[i]));
        CHECK(tensor(r, lc->grad_role[i], IG_F32, &lc->grad[i]));
    }
    lc->y_role = role_at(outputs, 0);
    CHECK(tensor(r, lc->y_role, IG_F32, &lc->y));
    CHECK(load_state(r, c, lc));
    return tensor(r, upstream, IG_F32, &lc->dy);
}

/* Forward node (operands, then state), then autodiff seeded with dy for every operand; y and
 * every gradient become IO values. */
static outcome build_layer(run *r, const layer_def *def, const cJSON *attrs, const layer_case *lc, ig_graph *g,
                           int *leaf, int *y, int *dy, int *grad)
{
    for (int i = 0; i < lc->n_operands; i++) CHECK(io_leaf(r, g, lc->operand[i], IG_F32, lc->role[i], &leaf[i]));
    for (int i = 0; i < lc->n_state; i++)
        CHECK(io_leaf(r, g, lc->state_in[i], IG_F32, lc->state_role[i], &leaf[lc->n_operands + i]));
    CHECK(def->graph(r, g, attrs, leaf, lc->n_operands + lc->n_state, y));
    CHECK(same_shape(r, lc->y_role, &g->vals[*y].shape, lc->y));
    CHECK(io_leaf(r, g, lc->dy, IG_F32, "dy", dy));
    if (ig_autodiff(g, 1, y, dy, lc->n_operands, leaf, grad) != IG_OK) return lib_failed(r, "ig_autodiff");
    CHECK(io_output(r, g, y));
    for (int i = 0; i < lc->n_operands; i++)
        if (grad[i] >= 0) CHECK(io_output(r, g, &grad[i]));
    return OUT_PASS;
}

static outcome run_layer(run *r, const cJSON *c)
{
    const char *op;
    CHECK(field_str(r, c, "op", &op));
    const layer_def *def = FIND(layer_ops, op);
    if (!def) return SKIPPED(r, "op '%s' not supported", op);
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(c, "attrs");
    CHECK(check_attrs(r, op, attrs, def->attrs));
    layer_case lc;
    CHECK(load_layer_case(r, c, &lc));

    ig_graph g;
    ig_graph_init(&g);
    ig_program *p = NULL;
    int leaf[MAX_OPERANDS], grad[MAX_OPERANDS], y, dy;
    outcome o = build_layer(r, def, attrs, &lc, &g, leaf, &y, &dy, grad);
    if (o == OUT_PASS) o = compile(r, &g, &p);
    for (int i = 0; o == OUT_PASS && i < lc.n_operands; i++)
        o = write_input(r, p, leaf[i], lc.operand[i]->data, lc.operand[i]->nbytes);
    for (int i = 0; o == OUT_PASS && i < lc.n_state; i++)
        o = write_input(r, p, leaf[lc.n_operands + i], lc.state_in[i]->data, lc.state_in[i]->nbytes);
    if (o == OUT_PASS) o = write_input(r, p, dy, lc.dy->data, lc.dy->nbytes);
    if (o == OUT_PASS && ig_program_run(p, NULL, NULL, NULL) != IG_OK) o = lib_failed(r, "ig_program_run");
    if (o == OUT_PASS) o = check_output(r, p, y, lc.y_role, lc.y, TOL_STEP);
    for (int i = 0; o == OUT_PASS && i < lc.n_operands; i++)
        o = check_output(r, p, grad[i], lc.grad_role[i], lc.grad[i], TOL_STEP);
    for (int i = 0; o == OUT_PASS && i < lc.n_state; i++)
        if (lc.state_out[i])
            o = check_output(r, p, leaf[lc.n_operands + i], lc.state_out_role[i], lc.state_out[i], TOL_STEP);
    ig_program_destroy(p);
    ig_graph_free(&g); /* empty once the program owns it */
    return o;
}

/* ---------------------------------------------------------------- loss cases */

static outcome run_loss(run *r, const cJSON *c)
{
    const char *op, *target_role;
    CHECK(field_str(r, c, "op", &op));
    const loss_def *def;
    ig_trainer_config cfg = ig_trainer_defaults();
    CHECK(loss_config(r, op, cJSON_GetObjectItemCaseSensitive(c, "attrs"), &def, &cfg));
    ig_dtype target_dtype = ig_loss_target_dtype(def->loss);
    const cJSON *inputs, *outputs, *grads;
    int n;
    CHECK(field_roles(r, c, "inputs", 1, 1, &inputs, &n));
    CHECK(field_roles(r, c, "outputs", 1, 1, &outputs, &n));
    CHECK(field_roles(r, c, "grads", 1, 1, &grads, &n));
    CHECK(field_str(r, c, "target", &target_role));
    const ig_st_tensor *pred, *loss_want, *dpred_want;
    CHECK(tensor(r, role_at(inputs, 0), IG_F32, &pred));
    CHECK(tensor(r, role_at(outputs, 0), IG_F32, &loss_want));
    CHECK(tensor(r, role_at(grads, 0), IG_F32, &dpred_want));
    ig_tensor *target = NULL;
    CHECK(target_tensor(r, target_role, target_dtype, &target));

    ig_graph g;
    ig_graph_init(&g);
    ig_program *p = NULL;
    int pv, tv, outs[2];
    ig_shape ts = ig_shape_make(target->ndim, target->shape);
    outcome o = io_leaf(r, &g, pred, IG_F32, "pred", &pv);
    if (o == OUT_PASS && (tv = ig_graph_leaf(&g, &ts, target_dtype, "target")) < 0) o = BAD(r, "out of memory");
    if (o == OUT_PASS) {
        g.vals[tv].buf = IG_BUF_IO;
        if (ig_loss_append(&g, &cfg, pv, tv, outs) != IG_OK) o = lib_failed(r, "the loss node");
    }
    /* output 1 is d loss / d pred for an upstream gradient of 1 */
    for (int k = 0; o == OUT_PASS && k < 2; k++) o = io_output(r, &g, &outs[k]);
    if (o == OUT_PASS) o = compile(r, &g, &p);
    if (o == OUT_PASS) o = write_input(r, p, pv, pred->data, pred->nbytes);
    if (o == OUT_PASS) o = write_input(r, p, tv, ig_tensor_data(target), ig_tensor_nbytes(target));
    if (o == OUT_PASS && ig_program_run(p, NULL, NULL, NULL) != IG_OK) o = lib_failed(r, "ig_program_run");
    if (o == OUT_PASS) o = check_output(r, p, outs[0], role_at(outputs, 0), loss_want, TOL_STEP);
    if (o == OUT_PASS) o = check_output(r, p, outs[1], role_at(grads, 0), dpred_want, TOL_STEP);
    ig_program_destroy(p);
    ig_graph_free(&g);
    ig_tensor_release(target);
    return o;
}

/* ---------------------------------------------------------------- optimizer cases */

/* PARAMS [P] and GRADS [P] at 0; STATE: the hyperparameters, then the moments. */
static outcome build_opt(run *r, const opt_def *def, int64_t numel, ig_graph *g, size_t *state_bytes)
{
    size_t bytes = (size_t)numel * sizeof(float), h = ig_align(sizeof(ig_opt_hyper));
    *state_bytes = ig_opt_state_bytes(def->opt, bytes, h);
    return ig_opt_append(g, def->opt, bytes, h, 0) == IG_OK ? OUT_PASS : lib_failed(r, "ig_opt_append");
}

/* Uploads p0 and the optimizer's state, then per step: upload g_i, run, compare p_{i+1}. */
static outcome opt_steps(run *r, ig_program *p, ig_optimizer opt, const ig_opt_hyper *hyper, const cJSON *grads,
                         const cJSON *outputs, int steps, const ig_st_tensor *p0, void *const *mem)
{
    ig_backend *be = r->ctx->backend;
    if (be->upload(be, mem[0], p0->data, p0->nbytes) != IG_OK ||
        ig_opt_init_state(be, mem[2], opt, p0->nbytes, ig_align(sizeof(ig_opt_hyper)), hyper) != IG_OK)
        return lib_failed(r, "upload");
    float *got = malloc(p0->nbytes ? p0->nbytes : 1);
    if (!got) return BAD(r, "out of memory");
    outcome o = OUT_PASS;
    for (int i = 0; o == OUT_PASS && i < steps; i++) {
        const ig_st_tensor *g, *want;
        o = tensor(r, role_at(grads, i), IG_F32, &g);
        if (o == OUT_PASS) o = tensor(r, role_at(outputs, i), IG_F32, &want);
        if (o == OUT_PASS && (!same_dims(g, p0) || !same_dims(want, p0)))
            o = BAD(r, "'%s' or '%s' does not have the shape of '%s'", role_at(grads, i), role_at(outputs, i), p0->name);
        if (o == OUT_PASS && be->upload(be, mem[1], g->data, g->nbytes) != IG_OK) o = lib_failed(r, "upload");
        if (o == OUT_PASS && ig_program_run(p, mem[0], mem[1], mem[2]) != IG_OK) o = lib_failed(r, "ig_program_run");
        if (o == OUT_PASS && be->download(be, got, mem[0], p0->nbytes) != IG_OK) o = lib_failed(r, "download");
        if (o == OUT_PASS) o = compare(r, role_at(outputs, i), got, want->data, want->numel, TOL_STEP);
    }
    free(got);
    return o;
}

static outcome run_optimizer(run *r, const cJSON *c)
{
    const char *op;
    CHECK(field_str(r, c, "op", &op));
    const opt_def *def;
    ig_trainer_config cfg;
    CHECK(opt_config(r, op, cJSON_GetObjectItemCaseSensitive(c, "attrs"), &def, &cfg));
    if (def->opt == IG_OPT_LBFGS) return SKIPPED(r, "lbfgs steps call a closure: model cases only");
    int steps, n;
    const cJSON *params, *grads, *outputs;
    CHECK(field_int(r, c, "steps", 1, 1 << 20, &steps));
    CHECK(field_roles(r, c, "params", 1, 1, &params, &n));
    CHECK(field_roles(r, c, "grads", steps, steps, &grads, &n));
    CHECK(field_roles(r, c, "outputs", steps, steps, &outputs, &n));
    const ig_st_tensor *p0;
    CHECK(tensor(r, role_at(params, 0), IG_F32, &p0));
    if (p0->numel < 1) return BAD(r, "'%s' is empty", role_at(params, 0));

    ig_graph g;
    ig_graph_init(&g);
    ig_program *p = NULL;
    size_t state_bytes = 0;
    outcome o = build_opt(r, def, p0->numel, &g, &state_bytes);
    if (o == OUT_PASS) o = compile(r, &g, &p);
    ig_backend *be = r->ctx->backend;
    size_t sizes[3] = {p0->nbytes, p0->nbytes, state_bytes};
    void *mem[3] = {NULL, NULL, NULL}; /* PARAMS, GRADS, STATE */
    for (int k = 0; o == OUT_PASS && k < 3; k++)
        if (!(mem[k] = be->alloc(be, sizes[k]))) o = BAD(r, "out of backend memory");
    ig_opt_hyper hyper = ig_opt_hyper_from(&cfg);
    if (o == OUT_PASS) o = opt_steps(r, p, def->opt, &hyper, grads, outputs, steps, p0, mem);
    for (int k = 0; k < 3; k++)
        if (mem[k]) be->free(be, mem[k], sizes[k]);
    ig_program_destroy(p);
    ig_graph_free(&g);
    return o;
}

/* ---------------------------------------------------------------- model cases */

/* The model case's parts, checked before anything is built. */
typedef struct model_case {
    const cJSON *layers, *params, *outputs;
    const layer_def *layer_defs[MAX_LAYERS];
    int n_layers, n_params, steps;
    const loss_def *loss;
    ig_trainer_config cfg;
    const ig_st_tensor *x, *losses;
    const char *target_role;
} model_case;

static outcome load_model_case(run *r, const cJSON *c, model_case *mc)
{
    const cJSON *layer, *inputs;
    const char *loss, *opt, *losses;
    int n;
    mc->layers = cJSON_GetObjectItemCaseSensitive(c, "layers");
    if (!cJSON_IsArray(mc->layers) || (mc->n_layers = cJSON_GetArraySize(mc->layers)) < 1 ||
        mc->n_layers > MAX_LAYERS)
        return BAD(r, "\"layers\" must be a list of 1 to %d layers", MAX_LAYERS);
    int i = 0;
    cJSON_ArrayForEach(layer, mc->layers) {
        const char *op;
        CHECK(field_str(r, layer, "op", &op));
        const layer_def *def = mc->layer_defs[i++] = FIND(layer_ops, op);
        if (!def || !def->model) return SKIPPED(r, "op '%s' not supported", op);
        CHECK(check_attrs(r, op, layer, def->attrs));
    }
    CHECK(field_str(r, c, "loss", &loss));
    if (!FIND(loss_ops, loss)) return SKIPPED(r, "op '%s' not supported", loss);
    CHECK(field_str(r, c, "optimizer", &opt));
    const opt_def *od;
    CHECK(opt_config(r, opt, cJSON_GetObjectItemCaseSensitive(c, "attrs"), &od, &mc->cfg));
    /* the case's loss takes PyTorch's defaults: no attributes of its own */
    CHECK(loss_config(r, loss, NULL, &mc->loss, &mc->cfg));

    CHECK(field_int(r, c, "steps", 1, 1 << 20, &mc->steps));
    CHECK(field_roles(r, c, "inputs", 1, 1, &inputs, &n));
    CHECK(field_str(r, c, "target", &mc->target_role));
    CHECK(field_roles(r, c, "params", 1, 1 << 20, &mc->params, &mc->n_params));
    CHECK(field_roles(r, c, "outputs", mc->n_params, mc->n_params, &mc->outputs, &n));
    CHECK(field_str(r, c, "losses", &losses));
    CHECK(tensor(r, role_at(inputs, 0), IG_F32, &mc->x));
    CHECK(tensor(r, losses, IG_F32, &mc->losses));
    if (mc->losses->numel != mc->steps) return BAD(r, "'%s' holds %lld losses for %d steps", losses,
                                                   (long long)mc->losses->numel, mc->steps);
    return OUT_PASS;
}

/* The model parameter a role names: "<prefix><layer>.<weight|bias>", layers named by index. */
static outcome model_param(run *r, ig_model *m, const char *role, const char *prefix, const ig_st_tensor **t, int *idx)
{
    size_t pl = strlen(prefix);
    if (strncmp(role, prefix, pl) != 0) return BAD(r, "parameter tensor '%s' does not start with '%s'", role, prefix);
    CHECK(tensor(r, role, IG_F32, t));
    if ((*idx = ig_model_param_index(m, role + pl)) < 0)
        return FAILED(r, "the model has no parameter '%s'", role + pl);
    int64_t shape[IG_MAX_DIMS];
    ig_shape s = ig_shape_make(ig_model_param_shape(m, *idx, shape), shape);
    char what[IG_NAME_LEN + 16];
    snprintf(what, sizeof what, "parameter %s", role + pl);
    return same_shape(r, what, &s, *t);
}

static outcome build_model(run *r, const model_case *mc, ig_model *m)
{
    ig_value v = ig_model_input(m);
    for (int i = 0; i < mc->n_layers; i++) {
        char name[16];
        snprintf(name, sizeof name, "%d", i);
        CHECK(mc->layer_defs[i]->model(r, m, cJSON_GetArrayItem(mc->layers, i), name, &v));
    }
    if (ig_model_status(m) != IG_OK) return lib_failed(r, "building the model");
    /* the case lists trainable parameters; buffers (running statistics) start as PyTorch's */
    int trainable = 0;
    for (int i = 0; i < ig_model_param_count(m); i++) trainable += ig_model_param_trainable(m, i);
    if (trainable != mc->n_params)
        return FAILED(r, "the model has %d trainable parameters, the case %d", trainable, mc->n_params);
    for (int i = 0; i < mc->n_params; i++) {
        const ig_st_tensor *t;
        int idx;
        CHECK(model_param(r, m, role_at(mc->params, i), "init/", &t, &idx));
        if (ig_model_param_set(m, idx, t->data, t->numel) != IG_OK) return lib_failed(r, "ig_model_param_set");
    }
    return OUT_PASS;
}

/* Trains `steps` steps comparing each loss, then compares the final parameters. */
static outcome train_and_compare(run *r, const model_case *mc, ig_model *m, ig_trainer *t, const ig_tensor *x,
                                 const ig_tensor *y)
{
    for (int k = 0; k < mc->steps; k++) {
        float loss;
        if (ig_train_batch(t, x, y, &loss) != IG_OK) return lib_failed(r, "ig_train_batch");
        char what[32];
        snprintf(what, sizeof what, "loss[%d]", k);
        CHECK(compare(r, what, &loss, (const float *)mc->losses->data + k, 1, TOL_MODEL));
    }
    for (int i = 0; i < mc->n_params; i++) {
        const ig_st_tensor *want;
        int idx;
        CHECK(model_param(r, m, role_at(mc->outputs, i), "final/", &want, &idx));
        float *got = malloc(want->nbytes ? want->nbytes : 1);
        if (!got) return BAD(r, "out of memory");
        outcome o = ig_model_param_get(m, idx, got, want->numel) == IG_OK
                        ? compare(r, role_at(mc->outputs, i), got, want->data, want->numel, TOL_MODEL)
                        : lib_failed(r, "ig_model_param_get");
        free(got);
        CHECK(o);
    }
    return OUT_PASS;
}

static outcome run_model(run *r, const cJSON *c)
{
    model_case mc;
    CHECK(load_model_case(r, c, &mc));
    ig_model *m = NULL;
    ig_trainer *t = NULL;
    ig_tensor *x = NULL, *y = NULL;
    outcome o = target_tensor(r, mc.target_role, ig_loss_target_dtype(mc.loss->loss), &y);
    if (o == OUT_PASS && ig_tensor_from_data(r->ctx, IG_F32, mc.x->shape, mc.x->ndim, mc.x->data, mc.x->nbytes, &x) != IG_OK)
        o = lib_failed(r, "input");
    if (o == OUT_PASS && ig_model_create(r->ctx, mc.x->shape, mc.x->ndim, &m) != IG_OK) o = lib_failed(r, "ig_model_create");
    if (o == OUT_PASS) o = build_model(r, &mc, m);
    if (o == OUT_PASS && ig_trainer_create(m, &mc.cfg, &t) != IG_OK) o = lib_failed(r, "ig_trainer_create");
    if (o == OUT_PASS) o = train_and_compare(r, &mc, m, t, x, y);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_tensor_release(x);
    ig_tensor_release(y);
    return o;
}

/* ---------------------------------------------------------------- driver */

static const struct {
    const char *kind;
    outcome (*run)(run *r, const cJSON *c);
} kinds[] = {
    {"layer", run_layer},
    {"loss", run_loss},
    {"optimizer", run_optimizer},
    {"model", run_model},
};

static outcome run_case(run *r, const cJSON *c)
{
    const char *kind;
    CHECK(field_str(r, c, "kind", &kind));
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, kind) == 0) return kinds[i].run(r, c);
    return SKIPPED(r, "kind '%s' not supported", kind);
}

/* The whole file, NUL-terminated, in *out (the caller frees it). */
static ig_status slurp(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ig_fail(IG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    ig_status st = IG_OK;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                st = ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) st = ig_fail(IG_ERR_IO, "%s: read failed", path);
            break;
        }
    }
    fclose(f);
    if (st != IG_OK) {
        free(buf);
        return st;
    }
    buf[len] = '\0';
    *out = buf;
    return IG_OK;
}

/* Parses cases.json and returns its "cases" array (owned by *root). */
static ig_status load_cases(const char *path, cJSON **root, const cJSON **cases)
{
    char *text = NULL;
    IG_TRY(slurp(path, &text));
    const char *end = NULL;
    *root = cJSON_ParseWithOpts(text, &end, true);
    ig_status st = IG_OK;
    if (!*root) {
        int line = 1;
        for (const char *s = text; end && s < end; s++) line += *s == '\n';
        st = ig_fail(IG_ERR_FORMAT, "%s:%d: not valid JSON", path, line);
    }
    free(text);
    IG_TRY(st);
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(*root, "format");
    if (format && !(cJSON_IsNumber(format) && format->valuedouble == 1))
        return ig_fail(IG_ERR_FORMAT, "%s: \"format\" is not 1, the version this runner reads", path);
    *cases = cJSON_GetObjectItemCaseSensitive(*root, "cases");
    if (!cJSON_IsArray(*cases)) return ig_fail(IG_ERR_FORMAT, "%s: no \"cases\" list", path);
    return IG_OK;
}

typedef struct options {
    const char *dir, *filter;
    ig_device device;
} options;

static bool parse_args(int argc, char **argv, options *o)
{
    *o = (options){.device = IG_DEVICE_AUTO};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
            const char *d = argv[++i];
            if (strcmp(d, "cpu") == 0) o->device = IG_DEVICE_CPU;
            else if (strcmp(d, "cuda") == 0) o->device = IG_DEVICE_CUDA;
            else return false;
        } else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
            o->filter = argv[++i];
        } else if (argv[i][0] == '-' || o->dir) {
            return false;
        } else {
            o->dir = argv[i];
        }
    }
    return o->dir != NULL;
}

/* Runs every (matching) case; returns the exit status. */
static int run_all(const options *opt, ig_ctx *ctx, const ig_st_file *st, const cJSON *cases, const char *cases_path)
{
    int counts[3] = {0}; /* passed, failed, skipped */
    const cJSON *c;
    int index = 0;
    cJSON_ArrayForEach(c, cases) {
        run r = {.ctx = ctx, .st = st};
        index++;
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
        if (!cJSON_IsString(name)) {
            fprintf(stderr, "ingot-conformance: %s: case %d has no \"name\" string\n", cases_path, index);
            return 2;
        }
        r.name = name->valuestring;
        if (opt->filter && !strstr(r.name, opt->filter)) continue;
        switch (run_case(&r, c)) {
        case OUT_PASS:
            printf("PASS %s (rel err %.1e)\n", r.name, r.worst);
            counts[0]++;
            break;
        case OUT_FAIL:
            printf("FAIL %s: %s\n", r.name, r.msg);
            counts[1]++;
            break;
        case OUT_SKIP:
            printf("SKIP %s: %s\n", r.name, r.msg);
            counts[2]++;
            break;
        case OUT_ERROR:
            fflush(stdout);
            fprintf(stderr, "ingot-conformance: %s: case '%s': %s\n", cases_path, r.name, r.msg);
            return 2;
        }
    }
    printf("%d passed, %d failed, %d skipped\n", counts[0], counts[1], counts[2]);
    return counts[1] ? 1 : 0;
}

int main(int argc, char **argv)
{
    options opt;
    if (!parse_args(argc, argv, &opt)) {
        fprintf(stderr, "usage: ingot-conformance DIR [--device cpu|cuda] [--filter SUBSTR]\n"
                        "  runs DIR/cases.json against DIR/tensors.safetensors (default device: auto)\n");
        return 2;
    }
    char cases_path[4096], tensors_path[4096];
    snprintf(cases_path, sizeof cases_path, "%s/cases.json", opt.dir);
    snprintf(tensors_path, sizeof tensors_path, "%s/tensors.safetensors", opt.dir);

    cJSON *root = NULL;
    const cJSON *cases = NULL;
    ig_st_file *st = NULL;
    ig_ctx *ctx = NULL;
    int rc = 2;
    if (load_cases(cases_path, &root, &cases) != IG_OK || ig_st_open(tensors_path, &st) != IG_OK ||
        ig_ctx_create(opt.device, &ctx) != IG_OK)
        fprintf(stderr, "ingot-conformance: %s\n", ig_last_error());
    else
        rc = run_all(&opt, ctx, st, cases, cases_path);
    ig_ctx_destroy(ctx);
    ig_st_close(st);
    cJSON_Delete(root);
    return rc;
}
