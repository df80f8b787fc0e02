/* model.c — the model builder (layers → graph nodes), parameters and prediction. */
#include "nn/model.h"
#include "ops/batchnorm.h"
#include "ops/ops.h"
#include "ops/pool_math.h"
#include "train/optimizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ig_status ig_model_create(ig_ctx *ctx, const int64_t *input_shape, int ndim, ig_model **out)
{
    if (!ctx || !out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_create: NULL %s", ctx ? "out" : "ctx");
    *out = NULL;
    int64_t numel;
    IG_TRY(ig_shape_check("ig_model_create: input shape", input_shape, ndim, &numel));
    ig_model *m = calloc(1, sizeof *m);
    if (!m) return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_model_create: out of memory");
    m->ctx = ctx;
    m->seed = 42;
    ig_graph_init(&m->g);
    ig_shape s = ig_shape_make(ndim, input_shape);
    m->input = m->output = ig_graph_leaf(&m->g, &s, IG_F32, "input");
    if (m->input < 0) {
        free(m);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_model_create: out of memory");
    }
    *out = m;
    return IG_OK;
}

void ig_model_destroy(ig_model *m)
{
    if (!m) return;
    ig_program_cache_clear(&m->predict);
    if (m->param_mem) m->ctx->backend->free(m->ctx->backend, m->param_mem, m->params_bytes + m->buffers_bytes);
    ig_graph_free(&m->g);
    free(m->params);
    free(m);
}

ig_status ig_model_status(const ig_model *m)
{
    if (!m) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_status: NULL model");
    if (m->err) ig_fail(m->err, "%s", m->err_msg);
    return m->err;
}

ig_status ig_model_set_seed(ig_model *m, uint64_t seed)
{
    if (!m) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_set_seed: NULL model");
    if (m->param_mem)
        return ig_fail(IG_ERR_STATE, "ig_model_set_seed: the parameters are already initialised");
    m->seed = seed;
    return IG_OK;
}

/* Builder plumbing: the first error sticks to the model. */
static ig_value keep_error(ig_model *m, ig_status s)
{
    m->err = s;
    snprintf(m->err_msg, sizeof m->err_msg, "%s", ig_last_error());
    return IG_NO_VALUE;
}

static bool usable(ig_model *m, const char *fn, const ig_value *vals, int n_vals)
{
    if (!m) {
        ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL model", fn);
        return false;
    }
    if (m->err) {
        ig_fail(m->err, "%s", m->err_msg);
        return false;
    }
    if (m->param_mem) {
        keep_error(m, ig_fail(IG_ERR_STATE, "%s: the model is finalised (trained or run); build it completely first", fn));
        return false;
    }
    for (int i = 0; i < n_vals; i++) {
        if (vals[i] < 0 || vals[i] >= m->g.n_vals) {
            keep_error(m, ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: value %d is not a value of this model", fn, vals[i]));
            return false;
        }
    }
    return true;
}

static void layer_name(ig_model *m, const char *kind, const char *name, char *buf)
{
    if (name && *name) snprintf(buf, IG_NAME_LEN, "%s", name);
    else snprintf(buf, IG_NAME_LEN, "%s%d", kind, m->n_layers);
    m->n_layers++;
}

/* The layer's node; returns its first output. */
static ig_value add_node(ig_model *m, ig_op op, const int *in, int n_in, const ig_attrs *at, const char *name)
{
    int out[IG_MAX_OUT];
    ig_status s = ig_graph_node(&m->g, op, in, n_in, at, name, out);
    if (s != IG_OK) return keep_error(m, s);
    m->output = out[0];
    return out[0];
}

/* A parameter or buffer "<layer>.<suffix>": a PARAMS leaf whose offset is final for a
 * trainable parameter, relative to the buffers' start for a buffer (ig_model_finalize
 * places the buffers after the parameters). */
static int new_param(ig_model *m, const char *layer, const char *suffix, int ndim, const int64_t *shape,
                     int64_t fan_in, ig_init init, bool trainable)
{
    char name[IG_NAME_LEN + 16];
    snprintf(name, sizeof name, "%s.%s", layer, suffix);
    if (strlen(name) >= IG_NAME_LEN) {
        keep_error(m, ig_fail(IG_ERR_INVALID_ARGUMENT, "parameter name '%s' is longer than %d characters", name,
                              IG_NAME_LEN - 1));
        return -1;
    }
    for (int i = 0; i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0) {
            keep_error(m, ig_fail(IG_ERR_INVALID_ARGUMENT, "layer name '%s' is used twice (parameter %s)", layer, name));
            return -1;
        }
    if (m->n_params == m->cap_params) {
        int nc = m->cap_params ? m->cap_params * 2 : 16;
        ig_param *np = realloc(m->params, (size_t)nc * sizeof *np);
        if (!np) {
            keep_error(m, ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory"));
            return -1;
        }
        m->params = np;
        m->cap_params = nc;
    }
    ig_shape s = ig_shape_make(ndim, shape);
    int v = ig_graph_leaf(&m->g, &s, IG_F32, name);
    if (v < 0) {
        keep_error(m, ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory"));
        return -1;
    }
    size_t *region = trainable ? &m->params_bytes : &m->buffers_bytes;
    ig_param *p = &m->params[m->n_params++];
    *p = (ig_param){.val = v, .fan_in = fan_in, .init = init, .trainable = trainable, .offset = *region};
    snprintf(p->name, sizeof p->name, "%s", name);
    m->g.vals[v].buf = IG_BUF_PARAMS;
    m->g.vals[v].offset = p->offset;
    *region += ig_align(ig_val_bytes(&m->g.vals[v]));
    return v;
}

/* A trainable parameter with PyTorch's default initialisation. */
static int add_param(ig_model *m, const char *layer, const char *suffix, int ndim, const int64_t *shape,
                     int64_t fan_in)
{
    return new_param(m, layer, suffix, ndim, shape, fan_in, IG_INIT_UNIFORM, true);
}

ig_value ig_model_input(ig_model *m) { return m ? m->input : IG_NO_VALUE; }

ig_status ig_model_set_output(ig_model *m, ig_value v)
{
    if (!usable(m, "ig_model_set_output", &v, 1)) return m && m->err ? m->err : IG_ERR_INVALID_ARGUMENT;
    m->output = v;
    return IG_OK;
}

ig_value ig_dense(ig_model *m, ig_value x, int64_t units, bool bias, const char *name)
{
    if (!usable(m, "ig_dense", &x, 1)) return IG_NO_VALUE;
    char ln[IG_NAME_LEN];
    layer_name(m, "dense", name, ln);
    const ig_shape *xs = &m->g.vals[x].shape;
    if (units < 1) return keep_error(m, ig_fail(IG_ERR_INVALID_ARGUMENT, "dense '%s': units is %lld (must be >= 1)", ln, (long long)units));
    if (xs->ndim != 2) {
        char buf[64];
        return keep_error(m, ig_fail(IG_ERR_SHAPE, "dense '%s': input has shape %s; dense needs [batch, features] (flatten first)",
                                     ln, ig_shape_str(xs, buf, sizeof buf)));
    }
    int64_t in = xs->d[1];
    int w = add_param(m, ln, "weight", 2, (int64_t[]){units, in}, in);
    int b = bias ? add_param(m, ln, "bias", 1, &units, in) : 0;
    if (w < 0 || b < 0) return IG_NO_VALUE;
    ig_attrs at = {.i = {bias, IG_ACT_NONE}};
    return add_node(m, IG_OP_DENSE, (int[]){x, w, b}, bias ? 3 : 2, &at, ln);
}

static ig_value unary(ig_model *m, ig_op op, const char *fn, const char *kind, ig_value x, const char *name)
{
    if (!usable(m, fn, &x, 1)) return IG_NO_VALUE;
    char ln[IG_NAME_LEN];
    layer_name(m, kind, name, ln);
    return add_node(m, op, &x, 1, NULL, ln);
}

ig_value ig_relu(ig_model *m, ig_value x, const char *name) { return unary(m, IG_OP_RELU, "ig_relu", "relu", x, name); }
ig_value ig_tanh(ig_model *m, ig_value x, const char *name) { return unary(m, IG_OP_TANH, "ig_tanh", "tanh", x, name); }

/* An ACT node of kind `act` with parameter p (named `what` in messages; NULL: none). */
static ig_value act(ig_model *m, const char *fn, const char *kind, ig_value x, int act, const char *what, float p,
                    const char *name)
{
    if (!usable(m, fn, &x, 1)) return IG_NO_VALUE;
    char ln[IG_NAME_LEN];
    layer_name(m, kind, name, ln);
    if (what && !isfinite(p))
        return keep_error(m, ig_fail(IG_ERR_INVALID_ARGUMENT, "%s '%s': %s is %g (must be finite)", kind, ln, what, p));
    ig_attrs at = {.i = {act}, .f = {p}};
    return add_node(m, IG_OP_ACT, &x, 1, &at, ln);
}

ig_value ig_leaky_relu(ig_model *m, ig_value x, float slope, const char *name)
{
    return act(m, "ig_leaky_relu", "leaky_relu", x, IG_ACT_LEAKY_RELU, "negative slope", slope, name);
}

ig_value ig_elu(ig_model *m, ig_value x, float alpha, const char *name)
{
    return act(m, "ig_elu", "elu", x, IG_ACT_ELU, "alpha", alpha, name);
}

ig_value ig_sigmoid(ig_model *m, ig_value x, const char *name)
{
    return act(m, "ig_sigmoid", "sigmoid", x, IG_ACT_SIGMOID, NULL, 0.0f, name);
}

ig_value ig_swish(ig_model *m, ig_value x, const char *name)
{
    return act(m, "ig_swish", "swish", x, IG_ACT_SWISH, NULL, 0.0f, name);
}

ig_value ig_gelu(ig_model *m, ig_value x, bool tanh_approximation, const char *name)
{
    return act(m, "ig_gelu", "gelu", x, tanh_approximation ? IG_ACT_GELU_TANH : IG_ACT_GELU, NULL, 0.0f, name);
}

ig_value ig_softmax(ig_model *m, ig_value x, const char *name)
{
    return unary(m, IG_OP_SOFTMAX, "ig_softmax", "softmax", x, name);
}

ig_value ig_flatten(ig_model *m, ig_value x, const char *name)
{
    if (!usable(m, "ig_flatten", &x, 1)) return IG_NO_VALUE;
    char ln[IG_NAME_LEN];
    layer_name(m, "flatten", name, ln);
    const ig_shape *xs = &m->g.vals[x].shape;
    int64_t rest = 1;
    for (int i = 1; i < xs->ndim; i++) rest *= xs->d[i];
    ig_attrs at = {.shape = ig_shape_make(1, &rest)};
    return add_node(m, IG_OP_RESHAPE, &x, 1, &at, ln);
}

ig_value ig_reshape(ig_model *m, ig_value x, const int64_t *shape, int ndim, const char *name)
{
    if (!usable(m, "ig_reshape", &x, 1)) return IG_NO_VALUE;
    char ln[IG_NAME_LEN];
    layer_name(m, "reshape", name, ln);
    if (!shape || ndim < 1 || ndim >= IG_MAX_DIMS)
        return keep_error(m, ig_fail(IG_ERR_INVALID_ARGUMENT, "reshape '%s': %s (1 to %d dimensions after the batch)",
                                     ln, shape ? "bad ndim" : "NULL shape", IG_MAX_DIMS - 1));
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 1)
            return keep_error(m, ig_fail(IG_ERR_INVALID_ARGUMENT, "reshape '%s': dimension %d is %lld (must be >= 1)",
                                         ln, i + 1, (long long)shape[i]));
    /* a differing element count is RESHAPE's shape inference error, which names the layer */
    ig_attrs at = {.shape = ig_shape_make(ndim, shape)};
    return add_node(m, IG_OP_RESHAPE, &x, 1, &at, ln);
}

/* The node keeps the seed out of its attributes until instantiation (the seed may still be
 * set after building); its salt is the layer's index, so layers draw independent masks. */
ig_value ig_dropout(ig_model *m, ig_value x, float p, const char *name)
{
    if (!usable(m, "ig_dropout", &x, 1)) return IG_NO_VALUE;
    char ln[IG_NAME_LEN];
    int64_t salt = m->n_layers;
    layer_name(m, "dropout", name, ln);
    if (!(p >= 0.0f && p < 1.0f))
        return keep_error(m, ig_fail(IG_ERR_INVALID_ARGUMENT, "dropout '%s': p is %g (must be in [0, 1))", ln, p));
    ig_attrs at = {.i = {0, salt}, .f = {p}};
    return add_node(m, IG_OP_DROPOUT, &x, 1, &at, ln);
}

/* The checks (input rank, kernel, stride, padding, a kernel larger than its padded input) are
 * POOL2D's shape inference, so they hold again when a batch size is re-inferred. */
static ig_value pool(ig_model *m, const char *fn, const char *kind, ig_value x, int mode, int64_t kernel,
                     int64_t stride, int64_t padding, const char *name)
{
    if (!usable(m, fn, &x, 1)) return IG_NO_VALUE;
    char ln[IG_NAME_LEN];
    layer_name(m, kind, name, ln);
    ig_attrs at = {.i = {mode, kernel, stride, padding}};
    return add_node(m, IG_OP_POOL2D, &x, 1, &at, ln);
}

ig_value ig_maxpool2d(ig_model *m, ig_value x, int64_t kernel, int64_t stride, int64_t padding, const char *name)
{
    return pool(m, "ig_maxpool2d", "maxpool", x, IG_POOL_MAX, kernel, stride, padding, name);
}

ig_value ig_avgpool2d(ig_model *m, ig_value x, int64_t kernel, int64_t stride, int64_t padding, const char *name)
{
    return pool(m, "ig_avgpool2d", "avgpool", x, IG_POOL_AVG, kernel, stride, padding, name);
}

ig_value ig_global_avgpool(ig_model *m, ig_value x, const char *name)
{
    return pool(m, "ig_global_avgpool", "global_avgpool", x, IG_POOL_GLOBAL_AVG, 0, 0, 0, name);
}

/* The node starts in evaluation mode; ig_model_instantiate switches step programs to
 * training (bind_batchnorm). */
ig_value ig_batchnorm(ig_model *m, ig_value x, float momentum, float eps, const char *name)
{
    if (!usable(m, "ig_batchnorm", &x, 1)) return IG_NO_VALUE;
    char ln[IG_NAME_LEN];
    layer_name(m, "batchnorm", name, ln);
    const ig_shape *xs = &m->g.vals[x].shape;
    ig_status s = ig_bn_check(ln, xs, momentum, eps);
    if (s != IG_OK) return keep_error(m, s);
    int64_t c = xs->d[1];
    int in[5] = {x};
    static const struct {
        const char *suffix;
        ig_init init;
        bool trainable;
    } parts[4] = {{"weight", IG_INIT_ONES, true},
                  {"bias", IG_INIT_ZEROS, true},
                  {"running_mean", IG_INIT_ZEROS, false},
                  {"running_var", IG_INIT_ONES, false}};
    for (int k = 0; k < 4; k++)
        if ((in[k + 1] = new_param(m, ln, parts[k].suffix, 1, &c, 0, parts[k].init, parts[k].trainable)) < 0)
            return IG_NO_VALUE;
    ig_attrs at = {.i = {0}, .f = {momentum, eps}};
    return add_node(m, IG_OP_BATCHNORM, in, 5, &at, ln);
}

/* The builder checks what shapes the parameters; stride, padding and a kernel larger than
 * its padded input are CONV2D's shape inference, as pooling's are. */
ig_value ig_conv2d(ig_model *m, ig_value x, int64_t filters, int64_t kernel, int64_t stride, int64_t padding,
                   bool bias, const char *name)
{
    if (!usable(m, "ig_conv2d", &x, 1)) return IG_NO_VALUE;
    char ln[IG_NAME_LEN];
    layer_name(m, "conv2d", name, ln);
    if (filters < 1)
        return keep_error(m, ig_fail(IG_ERR_INVALID_ARGUMENT, "conv2d '%s': filters is %lld (must be >= 1)", ln,
                                     (long long)filters));
    if (kernel < 1)
        return keep_error(m, ig_fail(IG_ERR_INVALID_ARGUMENT, "conv2d '%s': kernel is %lld (must be >= 1)", ln,
                                     (long long)kernel));
    const ig_shape *xs = &m->g.vals[x].shape;
    if (xs->ndim != 4) {
        char buf[64];
        return keep_error(m, ig_fail(IG_ERR_SHAPE,
                                     "conv2d '%s': input has shape %s; conv2d needs [batch, channels, height, width]",
                                     ln, ig_shape_str(xs, buf, sizeof buf)));
    }
    int64_t c = xs->d[1], fan_in = c * kernel * kernel;
    int w = add_param(m, ln, "weight", 4, (int64_t[]){filters, c, kernel, kernel}, fan_in);
    int b = bias ? add_param(m, ln, "bias", 1, &filters, fan_in) : 0;
    if (w < 0 || b < 0) return IG_NO_VALUE;
    ig_attrs at = {.i = {stride, padding, IG_ACT_NONE}};
    return add_node(m, IG_OP_CONV2D, (int[]){x, w, b}, bias ? 3 : 2, &at, ln);
}

ig_value ig_add(ig_model *m, ig_value a, ig_value b, const char *name)
{
    if (!usable(m, "ig_add", (ig_value[]){a, b}, 2)) return IG_NO_VALUE;
    char ln[IG_NAME_LEN];
    layer_name(m, "add", name, ln);
    return add_node(m, IG_OP_ADD, (int[]){a, b}, 2, NULL, ln);
}

int ig_model_value_shape(const ig_model *m, ig_value v, int64_t *shape)
{
    if (!m || !shape || v < 0 || v >= m->g.n_vals) return -1;
    const ig_shape *s = &m->g.vals[v].shape;
    memcpy(shape, s->d, (size_t)s->ndim * sizeof *shape);
    return s->ndim;
}

/* ---- parameters */

ig_status ig_model_finalize(ig_model *m)
{
    if (m->param_mem) return IG_OK;
    IG_TRY(ig_model_status(m));
    if (m->output == m->input) return ig_fail(IG_ERR_STATE, "model: it has no layers");
    ig_backend *be = m->ctx->backend;
    size_t bytes = m->params_bytes + m->buffers_bytes;
    float *host = calloc(1, bytes ? bytes : 1);
    if (!host) return ig_fail(IG_ERR_OUT_OF_MEMORY, "model: out of memory initialising parameters");
    for (int i = 0; i < m->n_params; i++) {
        const ig_param *p = &m->params[i];
        ig_val *v = &m->g.vals[p->val];
        v->offset = (p->trainable ? 0 : m->params_bytes) + p->offset;
        float *dst = host + v->offset / sizeof(float);
        size_t n = ig_shape_numel(&v->shape);
        if (p->init == IG_INIT_UNIFORM) {
            /* PyTorch's Linear and Conv2d default: uniform in ±1/sqrt(fan_in) for weight and bias alike */
            float bound = 1.0f / sqrtf((float)p->fan_in);
            for (size_t j = 0; j < n; j++)
                dst[j] = (2.0f * ig_rng_uniform(m->seed, v->offset / sizeof(float) + j) - 1.0f) * bound;
        } else if (p->init == IG_INIT_ONES) {
            for (size_t j = 0; j < n; j++) dst[j] = 1.0f;
        } /* IG_INIT_ZEROS: calloc's zeros */
    }
    m->param_mem = be->alloc(be, bytes);
    ig_status st = m->param_mem ? be->upload(be, m->param_mem, host, bytes)
                                : ig_fail(IG_ERR_OUT_OF_MEMORY, "model: cannot allocate %zu bytes of parameters", bytes);
    free(host);
    return st;
}

static ig_status param_access(ig_model *m, int i, int64_t count, const void *buf, const char *fn, const ig_val **v)
{
    if (!m || !buf) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, m ? "buffer" : "model");
    if (i < 0 || i >= m->n_params)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: parameter %d out of range (the model has %d)", fn, i, m->n_params);
    IG_TRY(ig_model_finalize(m));
    *v = &m->g.vals[m->params[i].val];
    if (count != (int64_t)ig_shape_numel(&(*v)->shape))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: %s has %zu elements, %lld given", fn, m->params[i].name,
                       ig_shape_numel(&(*v)->shape), (long long)count);
    return IG_OK;
}

ig_status ig_model_param_get(ig_model *m, int i, float *dst, int64_t count)
{
    const ig_val *v = NULL;
    IG_TRY(param_access(m, i, count, dst, "ig_model_param_get", &v));
    ig_backend *be = m->ctx->backend;
    return be->download(be, dst, (char *)m->param_mem + v->offset, ig_val_bytes(v));
}

ig_status ig_model_param_set(ig_model *m, int i, const float *src, int64_t count)
{
    const ig_val *v = NULL;
    IG_TRY(param_access(m, i, count, src, "ig_model_param_set", &v));
    ig_backend *be = m->ctx->backend;
    return be->upload(be, (char *)m->param_mem + v->offset, src, ig_val_bytes(v));
}

int ig_model_param_count(ig_model *m) { return m ? m->n_params : 0; }

const char *ig_model_param_name(ig_model *m, int i)
{
    return (m && i >= 0 && i < m->n_params) ? m->params[i].name : NULL;
}

int ig_model_param_index(ig_model *m, const char *name)
{
    for (int i = 0; m && name && i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0) return i;
    return -1;
}

int ig_model_param_shape(ig_model *m, int i, int64_t *shape)
{
    if (!m || i < 0 || i >= m->n_params) return -1;
    return ig_model_value_shape(m, m->params[i].val, shape);
}

bool ig_model_param_trainable(ig_model *m, int i)
{
    return m && i >= 0 && i < m->n_params && m->params[i].trainable;
}

int64_t ig_model_num_params(ig_model *m)
{
    int64_t n = 0;
    for (int i = 0; m && i < m->n_params; i++)
        if (m->params[i].trainable) n += (int64_t)ig_shape_numel(&m->g.vals[m->params[i].val].shape);
    return n;
}

ig_status ig_model_forward_flops(const ig_model *m, int64_t batch, double *flops)
{
    if (!m || !flops) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_forward_flops: NULL %s", m ? "flops" : "model");
    if (batch < 1) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_forward_flops: batch %lld (must be >= 1)", (long long)batch);
    IG_TRY(ig_model_status(m));
    ig_graph g;
    IG_TRY(ig_model_instantiate(m, batch, false, &g));
    *flops = ig_graph_flops(&g);
    ig_graph_free(&g);
    return IG_OK;
}

/* ---- compiling and predicting */

/* Training: each DROPOUT reads the step counter of the hyperparameter block (STATE offset 0)
 * and takes the model's seed. Otherwise it becomes a view of its input: the identity. */
static ig_status bind_dropout(const ig_model *m, bool training, ig_graph *g)
{
    int hy = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        ig_node *n = &g->nodes[i];
        if (n->op != IG_OP_DROPOUT) continue;
        if (!training) {
            const ig_shape *xs = &g->vals[n->in[0]].shape;
            n->op = IG_OP_RESHAPE;
            n->attrs = (ig_attrs){.shape = ig_shape_make(xs->ndim - 1, xs->d + 1)};
            g->vals[n->out[0]].alias_of = n->in[0];
            continue;
        }
        if (hy < 0) hy = ig_flat_leaf(g, sizeof(ig_opt_hyper), IG_BUF_STATE, 0, "hyper");
        if (hy < 0) return ig_fail(IG_ERR_OUT_OF_MEMORY, "model: out of memory");
        n->in[1] = hy;
        n->n_in = 2;
        n->attrs.i[0] = (int64_t)m->seed;
    }
    return IG_OK;
}

/* Step programs normalise with the batch's statistics and update the running ones in place;
 * the others normalise with the running statistics. */
static void bind_batchnorm(bool training, ig_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == IG_OP_BATCHNORM) g->nodes[i].attrs.i[0] = training;
}

ig_status ig_model_instantiate(const ig_model *m, int64_t batch, bool training, ig_graph *out)
{
    IG_TRY(ig_graph_copy(out, &m->g));
    out->vals[m->input].shape.d[0] = batch;
    bind_batchnorm(training, out);
    ig_status st = bind_dropout(m, training, out);
    if (st == IG_OK) st = ig_graph_reinfer(out);
    if (st != IG_OK) ig_graph_free(out);
    return st;
}

ig_status ig_model_check_input(const ig_model *m, const ig_tensor *x, const char *what, int64_t *batch)
{
    if (!x) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL input tensor", what);
    const ig_shape *s = &m->g.vals[m->input].shape;
    bool ok = x->dtype == IG_F32 && x->ndim == s->ndim;
    for (int i = 1; ok && i < s->ndim; i++) ok = x->shape[i] == s->d[i];
    if (!ok) {
        char a[64], b[64];
        ig_shape xs = ig_shape_make(x->ndim, x->shape), want = *s;
        want.d[0] = x->shape[0];
        return ig_fail(IG_ERR_SHAPE, "%s: input is %s %s; the model takes f32 %s (any batch size)", what,
                       ig_dtype_name(x->dtype), ig_shape_str(&xs, a, sizeof a), ig_shape_str(&want, b, sizeof b));
    }
    *batch = x->shape[0];
    return IG_OK;
}

ig_program *ig_program_cache_find(const ig_program_cache *c, ig_program_key key)
{
    for (int i = 0; i < IG_PROGRAM_CACHE; i++)
        if (c->prog[i] && memcmp(&c->key[i], &key, sizeof key) == 0) return c->prog[i];
    return NULL;
}

void ig_program_cache_put(ig_program_cache *c, ig_program_key key, ig_program *p)
{
    ig_program_destroy(c->prog[c->next]);
    c->prog[c->next] = p;
    c->key[c->next] = key;
    c->next = (c->next + 1) % IG_PROGRAM_CACHE;
}

void ig_program_cache_clear(ig_program_cache *c)
{
    for (int i = 0; i < IG_PROGRAM_CACHE; i++) ig_program_destroy(c->prog[i]);
    memset(c, 0, sizeof *c);
}

static ig_status build_predict(ig_model *m, int64_t batch, ig_program **out)
{
    ig_graph g;
    IG_TRY(ig_model_instantiate(m, batch, false, &g));
    int y;
    ig_status st = ig_graph_materialize(&g, m->output, &y);
    if (st == IG_OK) {
        g.vals[m->input].buf = IG_BUF_IO;
        g.vals[y].buf = IG_BUF_IO;
        st = ig_fuse_activations(&g, &y, 1);
    }
    if (st != IG_OK) {
        ig_graph_free(&g);
        return st;
    }
    IG_TRY(ig_program_create(m->ctx, &g, out));
    (*out)->outputs[0] = y;
    return IG_OK;
}

ig_status ig_predict(ig_model *m, const ig_tensor *x, ig_tensor **out)
{
    if (!m || !out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_predict: NULL %s", m ? "out" : "model");
    *out = NULL;
    int64_t batch;
    IG_TRY(ig_model_check_input(m, x, "ig_predict", &batch));
    IG_TRY(ig_model_finalize(m));
    ig_program_key key = {.batch = batch};
    ig_program *p = ig_program_cache_find(&m->predict, key);
    if (!p) {
        IG_TRY(build_predict(m, batch, &p));
        ig_program_cache_put(&m->predict, key, p);
    }
    IG_TRY(ig_program_write(p, m->input, x->data, x->nbytes));
    IG_TRY(ig_program_run(p, m->param_mem, NULL, NULL));
    const ig_val *yv = &p->g.vals[p->outputs[0]];
    ig_tensor *y;
    IG_TRY(ig_tensor_create(m->ctx, IG_F32, yv->shape.d, yv->shape.ndim, &y));
    ig_status st = ig_program_read(p, p->outputs[0], y->data, y->nbytes);
    if (st != IG_OK) {
        ig_tensor_release(y);
        return st;
    }
    *out = y;
    return IG_OK;
}
