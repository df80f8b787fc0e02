/* test_layers.c — layers beyond dense: their values against closed forms, their builders'
 * errors, and that a model using each one trains. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"
#include "core/core.h"
#include "ingot.h"
#include "nn/model.h"
#include "ops/opt_hyper.h"
#include "ops/pool.h"

static void expect_msg(const char *needle1, const char *needle2, int line)
{
    if (needle1 && !strstr(ig_last_error(), needle1))
        fail_msg("line %d: message '%s' lacks '%s'", line, ig_last_error(), needle1);
    if (needle2 && !strstr(ig_last_error(), needle2))
        fail_msg("line %d: message '%s' lacks '%s'", line, ig_last_error(), needle2);
}

/* A builder call that must fail: IG_NO_VALUE, and the message names what it should. */
#define EXPECT_NO_VALUE(expr, n1, n2)          \
    do {                                       \
        assert_int_equal((expr), IG_NO_VALUE); \
        expect_msg((n1), (n2), __LINE__);      \
    } while (0)

/* ---------------------------------------------------------------- activations */

enum { ACT_LEAKY, ACT_ELU, ACT_SIGMOID, ACT_SWISH, ACT_GELU, ACT_GELU_TANH, ACT_SOFTMAX, N_ACTS };
static const char *const act_names[N_ACTS] = {"leaky_relu", "elu", "sigmoid", "swish", "gelu", "gelu_tanh", "softmax"};

static ig_value add_act(ig_model *m, int a, ig_value v)
{
    switch (a) {
    case ACT_LEAKY: return ig_leaky_relu(m, v, 0.1f, NULL);
    case ACT_ELU: return ig_elu(m, v, 0.7f, NULL);
    case ACT_SIGMOID: return ig_sigmoid(m, v, NULL);
    case ACT_SWISH: return ig_swish(m, v, NULL);
    case ACT_GELU: return ig_gelu(m, v, false, NULL);
    case ACT_GELU_TANH: return ig_gelu(m, v, true, NULL);
    default: return ig_softmax(m, v, NULL);
    }
}

/* PyTorch's definitions in double (softmax: see test_softmax_values). */
static double act_ref(int a, double x)
{
    switch (a) {
    case ACT_LEAKY: return x > 0 ? x : 0.1 * x;
    case ACT_ELU: return x > 0 ? x : 0.7 * expm1(x);
    case ACT_SIGMOID: return 1 / (1 + exp(-x));
    case ACT_SWISH: return x / (1 + exp(-x));
    case ACT_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    default: return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    }
}

/* A model that is one layer applied to an input of `shape`, run on x. */
static float *predict_one(ig_ctx *ctx, int a, const int64_t *shape, int ndim, const float *x, ig_tensor **out)
{
    ig_model *m;
    OK(ig_model_create(ctx, shape, ndim, &m));
    add_act(m, a, ig_model_input(m));
    OK(ig_model_status(m));
    ig_tensor *xt;
    OK(ig_tensor_create(ctx, IG_F32, shape, ndim, &xt));
    memcpy(ig_tensor_data(xt), x, ig_tensor_nbytes(xt));
    OK(ig_predict(m, xt, out));
    ig_tensor_release(xt);
    ig_model_destroy(m);
    return ig_tensor_data(*out);
}

static void test_activation_values(void **state)
{
    enum { N = 64 };
    float x[N];
    for (int i = 0; i < N; i++) x[i] = -8.0f + 16.0f * (float)i / (N - 1); /* both tails and 0's neighbourhood */
    for (int a = 0; a < ACT_SOFTMAX; a++) {
        ig_tensor *out;
        const float *y = predict_one(*state, a, (int64_t[]){4, 2, 8}, 3, x, &out);
        for (int i = 0; i < N; i++) {
            double want = act_ref(a, x[i]);
            if (fabs(y[i] - want) > 1e-6 * (1 + fabs(want)))
                fail_msg("%s(%g) = %.9g, want %.9g", act_names[a], x[i], y[i], want);
        }
        ig_tensor_release(out);
    }
}

/* Rows of the last axis sum to 1, and logits far beyond exp's range stay finite. */
static void test_softmax_values(void **state)
{
    const float x[2 * 2 * 3] = {1, 2, 3, 1000, 1001, 1002, -1000, -1000, -1000, -5, 0, 5};
    ig_tensor *out;
    const float *y = predict_one(*state, ACT_SOFTMAX, (int64_t[]){2, 2, 3}, 3, x, &out);
    for (int r = 0; r < 4; r++) {
        const float *xr = x + 3 * r;
        double mx = fmax(xr[0], fmax(xr[1], xr[2])), sum = 0;
        for (int j = 0; j < 3; j++) sum += exp(xr[j] - mx);
        for (int j = 0; j < 3; j++) assert_float_equal(y[3 * r + j], exp(xr[j] - mx) / sum, 1e-6);
    }
    ig_tensor_release(out);
}

static void test_activation_errors(void **state)
{
    EXPECT_NO_VALUE(ig_leaky_relu(NULL, 0, 0.1f, "a"), "ig_leaky_relu", "NULL model");
    EXPECT_NO_VALUE(ig_elu(NULL, 0, 1.0f, "a"), "ig_elu", "NULL model");
    EXPECT_NO_VALUE(ig_sigmoid(NULL, 0, "a"), "ig_sigmoid", "NULL model");
    EXPECT_NO_VALUE(ig_swish(NULL, 0, "a"), "ig_swish", "NULL model");
    EXPECT_NO_VALUE(ig_gelu(NULL, 0, false, "a"), "ig_gelu", "NULL model");
    EXPECT_NO_VALUE(ig_softmax(NULL, 0, "a"), "ig_softmax", "NULL model");

    /* a parameter that is not finite; negative ones are PyTorch's too and are accepted */
    const float bad[3] = {NAN, INFINITY, -INFINITY};
    for (int i = 0; i < 6; i++) {
        ig_model *m;
        OK(ig_model_create(*state, (int64_t[]){2, 3}, 2, &m));
        ig_value x = ig_model_input(m);
        if (i < 3) EXPECT_NO_VALUE(ig_leaky_relu(m, x, bad[i], "lrelu"), "leaky_relu 'lrelu'", "negative slope");
        else EXPECT_NO_VALUE(ig_elu(m, x, bad[i - 3], "e"), "elu 'e'", "alpha");
        expect_msg("must be finite", NULL, __LINE__);
        assert_int_equal(ig_model_status(m), IG_ERR_INVALID_ARGUMENT);
        ig_model_destroy(m);
    }
    ig_model *m;
    OK(ig_model_create(*state, (int64_t[]){2, 3}, 2, &m));
    assert_int_not_equal(ig_leaky_relu(m, ig_model_input(m), -0.5f, NULL), IG_NO_VALUE);
    assert_int_not_equal(ig_elu(m, ig_model_input(m), -1.0f, NULL), IG_NO_VALUE);
    EXPECT_NO_VALUE(ig_sigmoid(m, 999, "s"), "ig_sigmoid", "999");
    ig_model_destroy(m);
}

/* dense(16) → activation → dense(4) on a separable 4-class problem: 60 Adam steps must
 * cut the cross-entropy by more than half. */
static void test_activations_train(void **state)
{
    enum { B = 32, D = 8, C = 4 };
    ig_tensor *x, *y;
    OK(ig_tensor_create(*state, IG_F32, (int64_t[]){B, D}, 2, &x));
    OK(ig_tensor_create(*state, IG_I32, (int64_t[]){B}, 1, &y));
    float *xd = ig_tensor_data(x);
    int32_t *yd = ig_tensor_data(y);
    for (int i = 0; i < B; i++) {
        yd[i] = i % C;
        for (int j = 0; j < D; j++) xd[i * D + j] = (j / 2 == yd[i] ? 1.5f : 0.0f) + 0.3f * sinf((float)(i * D + j));
    }
    for (int a = 0; a < N_ACTS; a++) {
        ig_model *m;
        OK(ig_model_create(*state, (int64_t[]){B, D}, 2, &m));
        ig_value v = add_act(m, a, ig_dense(m, ig_model_input(m), 16, true, "fc1"));
        ig_dense(m, v, C, true, "fc2");
        OK(ig_model_status(m));
        ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_ADAM);
        cfg.learning_rate = 0.02f;
        ig_trainer *t;
        OK(ig_trainer_create(m, &cfg, &t));
        float first = 0, loss = 0;
        for (int s = 0; s < 60; s++) {
            OK(ig_train_batch(t, x, y, &loss));
            if (s == 0) first = loss;
        }
        if (!(loss < 0.5f * first)) fail_msg("%s: loss %g after 60 steps, %g at first", act_names[a], loss, first);
        ig_trainer_destroy(t);
        ig_model_destroy(m);
    }
    ig_tensor_release(x);
    ig_tensor_release(y);
}

/* ---------------------------------------------------------------- pooling */

/* Builds input [4, 2, 5, 5] -> one pooling layer named "pool"; returns what the builder
 * returned and leaves the model's status and message to check. */
static ig_value pool_layer(ig_ctx *ctx, ig_model **m, const int64_t *in_shape, int ndim, int kind, int64_t k,
                           int64_t s, int64_t p)
{
    OK(ig_model_create(ctx, in_shape, ndim, m));
    ig_value x = ig_model_input(*m);
    if (kind == 0) return ig_maxpool2d(*m, x, k, s, p, "pool");
    if (kind == 1) return ig_avgpool2d(*m, x, k, s, p, "pool");
    return ig_global_avgpool(*m, x, "pool");
}

static void expect_pool_error(ig_ctx *ctx, const int64_t *in_shape, int ndim, int kind, int64_t k, int64_t s,
                              int64_t p, const char *phrase)
{
    ig_model *m;
    ig_value v = pool_layer(ctx, &m, in_shape, ndim, kind, k, s, p);
    assert_int_equal(v, IG_NO_VALUE);
    assert_int_not_equal(ig_model_status(m), IG_OK);
    const char *msg = ig_last_error();
    if (!strstr(msg, "'pool'") || !strstr(msg, phrase))
        fail_msg("expected the layer's name and \"%s\" in: %s", phrase, msg);
    ig_model_destroy(m);
}

static void test_pool_build_errors(void **state)
{
    ig_ctx *ctx = *state;
    const int64_t img[] = {4, 2, 5, 5}, flat[] = {4, 50};
    for (int kind = 0; kind < 2; kind++) {
        expect_pool_error(ctx, flat, 2, kind, 2, 2, 0, "[batch, channels, height, width]");
        expect_pool_error(ctx, img, 4, kind, 0, 1, 0, "kernel is 0");
        expect_pool_error(ctx, img, 4, kind, 2, 0, 0, "stride is 0");
        expect_pool_error(ctx, img, 4, kind, 3, 1, -1, "padding is -1");
        expect_pool_error(ctx, img, 4, kind, 3, 1, 2, "padding is 2");
        expect_pool_error(ctx, img, 4, kind, 6, 1, 0, "larger than its padded input");
    }
    expect_pool_error(ctx, flat, 2, 2, 0, 0, 0, "[batch, channels, height, width]");
    /* the padded input may fit the kernel exactly: 5 + 2·1 = 7 */
    ig_model *m;
    ig_value v = pool_layer(ctx, &m, img, 4, 0, 7, 1, 1);
    OK(ig_model_status(m));
    int64_t s[IG_MAX_DIMS];
    assert_int_equal(ig_model_value_shape(m, v, s), 4);
    assert_true(s[2] == 1 && s[3] == 1);
    ig_model_destroy(m);
}

static void test_pool_shapes(void **state)
{
    ig_ctx *ctx = *state;
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){4, 3, 7, 6}, 4, &m));
    int64_t s[IG_MAX_DIMS];
    ig_value a = ig_maxpool2d(m, ig_model_input(m), 3, 2, 1, NULL); /* (7+2−3)/2+1 = 4, (6+2−3)/2+1 = 3 */
    assert_int_equal(ig_model_value_shape(m, a, s), 4);
    assert_true(s[0] == 4 && s[1] == 3 && s[2] == 4 && s[3] == 3);
    ig_value b = ig_avgpool2d(m, a, 2, 1, 0, NULL);
    assert_int_equal(ig_model_value_shape(m, b, s), 4);
    assert_true(s[2] == 3 && s[3] == 2);
    ig_value c = ig_global_avgpool(m, b, NULL);
    assert_int_equal(ig_model_value_shape(m, c, s), 2);
    assert_true(s[0] == 4 && s[1] == 3);
    OK(ig_model_status(m));
    ig_model_destroy(m);
}

/* pool -> (flatten) -> dense on one fixed batch whose class shifts the channels' levels
 * (class 0 raises channel 0, class 1 channel 1, class 2 lowers both): the loss must fall. */
static void train_pool_model(ig_ctx *ctx, int kind)
{
    enum { N = 16, C = 3 };
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){N, 2, 6, 6}, 4, &m));
    ig_value v = ig_model_input(m);
    if (kind == 0) v = ig_maxpool2d(m, v, 2, 2, 0, "pool");
    else if (kind == 1) v = ig_avgpool2d(m, v, 3, 1, 1, "pool");
    else v = ig_global_avgpool(m, v, "pool");
    if (kind != 2) v = ig_flatten(m, v, "flatten");
    ig_dense(m, v, C, true, "fc");
    OK(ig_model_status(m));
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.learning_rate = 0.05f;
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    float xs[N * 2 * 6 * 6];
    int32_t ys[N];
    for (int i = 0; i < N; i++) {
        ys[i] = i % C;
        for (int ch = 0; ch < 2; ch++) {
            float level = ys[i] == 2 ? -1.0f : ys[i] == ch ? 1.0f : 0.0f;
            for (int j = 0; j < 36; j++) {
                int at = (i * 2 + ch) * 36 + j;
                xs[at] = level + ig_rng_uniform(7, (uint64_t)at) - 0.5f;
            }
        }
    }
    ig_tensor *x, *y;
    OK(ig_tensor_from_data(ctx, IG_F32, (int64_t[]){N, 2, 6, 6}, 4, xs, sizeof xs, &x));
    OK(ig_tensor_from_data(ctx, IG_I32, (int64_t[]){N}, 1, ys, sizeof ys, &y));
    float first = 0, loss = 0;
    for (int s = 0; s < 60; s++) {
        OK(ig_train_batch(t, x, y, &loss));
        if (s == 0) first = loss;
    }
    if (!(loss < 0.5f * first)) fail_msg("pooling kind %d: loss %g -> %g did not fall", kind, first, loss);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
}

/* The CPU's pooling kernels (a scatter per window for the gradient, row kernels for 2×2 max
 * pooling) give the bits of pool_math.h's per-element functions, which the GPU runs: inputs
 * full of ties, with a NaN and signed zeros, through every mode and the fast path's even and
 * odd sizes. */
static void test_pool_bits_match_pool_math(void **state)
{
    static const int64_t cases[][7] = {
        /* n, c, h, w, mode, kernel, stride (padding kernel/2 for kernel 3) */
        {2, 3, 8, 8, IG_POOL_MAX, 2, 2},   {2, 3, 7, 9, IG_POOL_MAX, 2, 2}, {1, 2, 6, 40, IG_POOL_MAX, 2, 2},
        {2, 3, 7, 6, IG_POOL_MAX, 3, 2},   {2, 2, 5, 5, IG_POOL_MAX, 2, 1}, {2, 3, 7, 6, IG_POOL_AVG, 3, 2},
        {2, 3, 5, 4, IG_POOL_GLOBAL_AVG, 0, 0},
    };
    const float vals[5] = {-1.0f, -0.0f, 0.0f, 0.5f, 0.5f};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const int64_t *cs = cases[k];
        ig_attrs at = {.i = {cs[4], cs[5], cs[6], cs[5] == 3}};
        ig_graph g;
        ig_graph_init(&g);
        ig_shape xs = ig_shape_make(4, cs);
        int x = ig_graph_leaf(&g, &xs, IG_F32, "x"), y, dy, dx;
        g.vals[x].buf = IG_BUF_IO;
        OK(ig_graph_node(&g, IG_OP_POOL2D, &x, 1, &at, "pool", &y));
        ig_shape ys = g.vals[y].shape;
        dy = ig_graph_leaf(&g, &ys, IG_F32, "dy");
        g.vals[dy].buf = IG_BUF_IO;
        OK(ig_graph_node(&g, IG_OP_POOL2D_GRAD, (int[]){dy, x}, 2, &at, "dpool", &dx));
        g.vals[y].buf = g.vals[dx].buf = IG_BUF_IO;
        size_t nx = ig_shape_numel(&xs), ny = ig_shape_numel(&ys);
        float xv[2 * 3 * 8 * 40], dyv[2 * 3 * 8 * 40], yv[2 * 3 * 8 * 40], dxv[2 * 3 * 8 * 40];
        for (size_t i = 0; i < nx; i++) xv[i] = vals[ig_rng_u64(31, i) % 5];
        xv[nx / 2] = NAN;
        for (size_t i = 0; i < ny; i++) dyv[i] = 2.0f * ig_rng_uniform(32, i) - 1.0f;
        ig_pool_geom geo;
        int64_t planes;
        ig_node nd = g.nodes[0];
        ig_program *p;
        OK(ig_program_create(*state, &g, &p));
        geo = ig_pool_geom_of(&p->g, &nd, &planes);
        OK(ig_program_write(p, x, xv, nx * sizeof *xv));
        OK(ig_program_write(p, dy, dyv, ny * sizeof *dyv));
        OK(ig_program_run(p, NULL, NULL, NULL));
        OK(ig_program_read(p, y, yv, ny * sizeof *yv));
        OK(ig_program_read(p, dx, dxv, nx * sizeof *dxv));
        int64_t in = geo.h * geo.w, out = geo.oh * geo.ow;
        for (int64_t c = 0; c < planes; c++) {
            for (int64_t o = 0; o < out; o++) {
                float want = ig_pool_out(xv + c * in, &geo, o / geo.ow, o % geo.ow);
                if (memcmp(&want, &yv[c * out + o], sizeof want))
                    fail_msg("case %zu plane %lld output %lld: %g, pool_math.h gives %g", k, (long long)c, (long long)o,
                             yv[c * out + o], want);
            }
            for (int64_t i = 0; i < in; i++) {
                float want = ig_pool_grad(dyv + c * out, xv + c * in, &geo, i / geo.w, i % geo.w);
                if (memcmp(&want, &dxv[c * in + i], sizeof want))
                    fail_msg("case %zu plane %lld input %lld: gradient %g, pool_math.h gives %g", k, (long long)c,
                             (long long)i, dxv[c * in + i], want);
            }
        }
        ig_program_destroy(p);
    }
}

static void test_pool_trains(void **state)
{
    for (int kind = 0; kind < 3; kind++) train_pool_model(*state, kind);
}


/* ---------------------------------------------------------------- convolution */

/* A model over input `shape` whose one layer is ig_conv2d(..., "conv"): it must fail with
 * the layer's name and `phrase` in the message, and the model keep the error. */
static void expect_conv_error(ig_ctx *ctx, const int64_t *shape, int ndim, int64_t filters, int64_t k, int64_t s,
                              int64_t p, const char *phrase, int line)
{
    ig_model *m;
    OK(ig_model_create(ctx, shape, ndim, &m));
    assert_int_equal(ig_conv2d(m, ig_model_input(m), filters, k, s, p, true, "conv"), IG_NO_VALUE);
    expect_msg("conv2d 'conv'", phrase, line);
    assert_int_not_equal(ig_model_status(m), IG_OK);
    ig_model_destroy(m);
}

static void test_conv_build_errors(void **state)
{
    ig_ctx *ctx = *state;
    const int64_t img[] = {2, 3, 5, 5}, flat[] = {2, 75};
    expect_conv_error(ctx, flat, 2, 4, 3, 1, 1, "[batch, channels, height, width]", __LINE__);
    expect_conv_error(ctx, (int64_t[]){2, 3, 5}, 3, 4, 3, 1, 1, "[batch, channels, height, width]", __LINE__);
    expect_conv_error(ctx, img, 4, 0, 3, 1, 1, "filters is 0", __LINE__);
    expect_conv_error(ctx, img, 4, 4, 0, 1, 1, "kernel is 0", __LINE__);
    expect_conv_error(ctx, img, 4, 4, 3, 0, 1, "stride is 0", __LINE__);
    expect_conv_error(ctx, img, 4, 4, 3, 1, -1, "padding is -1", __LINE__);
    expect_conv_error(ctx, img, 4, 4, 8, 1, 1, "larger than its padded input", __LINE__);
    EXPECT_NO_VALUE(ig_conv2d(NULL, 0, 4, 3, 1, 1, true, "conv"), "ig_conv2d", "NULL model");

    /* the padded input may fit the kernel exactly (5 + 2·1 = 7); parameters are PyTorch's
     * shapes, initialised within ±1/sqrt(c·k·k) */
    ig_model *m;
    OK(ig_model_create(ctx, img, 4, &m));
    ig_value v = ig_conv2d(m, ig_model_input(m), 4, 7, 1, 1, true, "conv");
    OK(ig_model_status(m));
    int64_t s[IG_MAX_DIMS];
    assert_int_equal(ig_model_value_shape(m, v, s), 4);
    assert_true(s[0] == 2 && s[1] == 4 && s[2] == 1 && s[3] == 1);
    assert_int_equal(ig_model_param_count(m), 2);
    assert_string_equal(ig_model_param_name(m, 0), "conv.weight");
    assert_string_equal(ig_model_param_name(m, 1), "conv.bias");
    assert_int_equal(ig_model_param_shape(m, 0, s), 4);
    assert_true(s[0] == 4 && s[1] == 3 && s[2] == 7 && s[3] == 7);
    assert_int_equal(ig_model_param_shape(m, 1, s), 1);
    assert_true(s[0] == 4);
    float w[4 * 3 * 7 * 7], bound = 1.0f / sqrtf(3 * 7 * 7), big = 0;
    OK(ig_model_param_get(m, 0, w, 4 * 3 * 7 * 7));
    for (int i = 0; i < 4 * 3 * 7 * 7; i++) {
        assert_true(fabsf(w[i]) <= bound);
        big = fmaxf(big, fabsf(w[i]));
    }
    assert_true(big > 0.9f * bound);
    ig_model_destroy(m);

    /* no bias: one parameter */
    OK(ig_model_create(ctx, img, 4, &m));
    ig_conv2d(m, ig_model_input(m), 4, 3, 2, 0, false, NULL);
    OK(ig_model_status(m));
    assert_int_equal(ig_model_param_count(m), 1);
    ig_model_destroy(m);
}

/* conv(4, 3x3, padding 1) → relu → maxpool 2 → dense on 8×8 images of three patterns
 * (horizontal stripes, vertical stripes, a checkerboard) under noise: 60 Adam steps must cut
 * the loss by more than half, and a second model from the same seed follows the same
 * losses bit for bit. */
static ig_model *conv_classifier(ig_ctx *ctx, int n)
{
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){n, 1, 8, 8}, 4, &m));
    OK(ig_model_set_seed(m, 11));
    ig_value v = ig_relu(m, ig_conv2d(m, ig_model_input(m), 4, 3, 1, 1, true, "conv"), "relu");
    v = ig_flatten(m, ig_maxpool2d(m, v, 2, 2, 0, "pool"), "flatten");
    ig_dense(m, v, 3, true, "fc");
    OK(ig_model_status(m));
    return m;
}

static void test_conv_trains(void **state)
{
    enum { N = 24 };
    ig_ctx *ctx = *state;
    float xs[N * 64];
    int32_t ys[N];
    for (int i = 0; i < N; i++) {
        ys[i] = i % 3;
        for (int r = 0; r < 8; r++)
            for (int c = 0; c < 8; c++) {
                int on = ys[i] == 0 ? r & 1 : ys[i] == 1 ? c & 1 : (r + c) & 1;
                int at = i * 64 + r * 8 + c;
                xs[at] = (float)on + 0.6f * (ig_rng_uniform(9, (uint64_t)at) - 0.5f);
            }
    }
    ig_tensor *x, *y;
    OK(ig_tensor_from_data(ctx, IG_F32, (int64_t[]){N, 1, 8, 8}, 4, xs, sizeof xs, &x));
    OK(ig_tensor_from_data(ctx, IG_I32, (int64_t[]){N}, 1, ys, sizeof ys, &y));
    ig_model *a = conv_classifier(ctx, N), *b = conv_classifier(ctx, N);
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.learning_rate = 0.02f;
    ig_trainer *ta, *tb;
    OK(ig_trainer_create(a, &cfg, &ta));
    OK(ig_trainer_create(b, &cfg, &tb));
    float first = 0, la = 0, lb = 0;
    for (int s = 0; s < 60; s++) {
        OK(ig_train_batch(ta, x, y, &la));
        OK(ig_train_batch(tb, x, y, &lb));
        if (la != lb) fail_msg("step %d: losses %.9g and %.9g from the same seed", s, la, lb);
        if (s == 0) first = la;
    }
    if (!(la < 0.5f * first)) fail_msg("conv model: loss %g -> %g did not fall", first, la);
    ig_trainer_destroy(ta);
    ig_trainer_destroy(tb);
    ig_model_destroy(a);
    ig_model_destroy(b);
    ig_tensor_release(x);
    ig_tensor_release(y);
}

/* ---------------------------------------------------------------- dropout, reshape */

enum { DN = 64, DD = 1024 }; /* 65536 elements: the zero fraction is within ±0.01 of p */

/* input [DN, DD] → dropout(p) as a training step instantiates it, run on the CPU with a
 * host hyperparameter block whose counter is `step`; y receives the output. */
static void dropout_run(ig_ctx *ctx, float p, uint64_t seed, int64_t step, const float *x, float *y)
{
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){DN, DD}, 2, &m));
    OK(ig_model_set_seed(m, seed));
    ig_dropout(m, ig_model_input(m), p, "drop");
    OK(ig_model_status(m));
    ig_graph g;
    OK(ig_model_instantiate(m, DN, true, &g));
    int out;
    OK(ig_graph_materialize(&g, m->output, &out));
    g.vals[m->input].buf = IG_BUF_IO;
    g.vals[out].buf = IG_BUF_IO;
    ig_program *prog;
    OK(ig_program_create(ctx, &g, &prog));
    ig_opt_hyper h = {.step = step};
    OK(ig_program_write(prog, m->input, x, sizeof(float) * DN * DD));
    OK(ig_program_run(prog, NULL, NULL, &h));
    OK(ig_program_read(prog, out, y, sizeof(float) * DN * DD));
    ig_program_destroy(prog);
    ig_model_destroy(m);
}

static void test_dropout_mask(void **state)
{
    static float x[DN * DD], y[DN * DD], y2[DN * DD];
    for (int i = 0; i < DN * DD; i++) x[i] = 1.0f + (float)(i % 7);
    const float ps[] = {0.0f, 0.1f, 0.5f, 0.9f};
    for (int k = 0; k < 4; k++) {
        float p = ps[k];
        dropout_run(*state, p, 42, 3, x, y);
        int zeros = 0;
        for (int i = 0; i < DN * DD; i++) {
            if (y[i] == 0.0f) zeros++;
            else if (y[i] != x[i] * (1.0f / (1.0f - p)))
                fail_msg("p %g: kept value %d is %g, want %g", p, i, y[i], x[i] / (1.0f - p));
        }
        double frac = (double)zeros / (DN * DD);
        if (fabs(frac - p) > 0.01) fail_msg("p %g: zero fraction %g", p, frac);
    }
    /* same key, same mask; another step or another seed, another mask */
    dropout_run(*state, 0.5f, 42, 3, x, y);
    dropout_run(*state, 0.5f, 42, 3, x, y2);
    assert_memory_equal(y, y2, sizeof y);
    dropout_run(*state, 0.5f, 42, 4, x, y2);
    assert_memory_not_equal(y, y2, sizeof y);
    dropout_run(*state, 0.5f, 43, 3, x, y2);
    assert_memory_not_equal(y, y2, sizeof y);
}

/* dense(8) → dropout and dense(8) alone: the same parameters (same seed and offsets), so
 * prediction and evaluation, where dropout is the identity, agree exactly. */
static ig_model *dropout_mlp(ig_ctx *ctx, bool drop, uint64_t seed)
{
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){16, 6}, 2, &m));
    OK(ig_model_set_seed(m, seed));
    ig_value v = ig_dense(m, ig_model_input(m), 8, true, "fc1");
    if (drop) ig_dropout(m, v, 0.5f, "drop");
    OK(ig_model_status(m));
    return m;
}

static void test_dropout_eval_identity_and_train(void **state)
{
    ig_tensor *x, *y, *pa, *pb;
    OK(ig_tensor_create(*state, IG_F32, (int64_t[]){16, 6}, 2, &x));
    OK(ig_tensor_create(*state, IG_F32, (int64_t[]){16, 8}, 2, &y));
    float *xd = ig_tensor_data(x), *yd = ig_tensor_data(y);
    for (int i = 0; i < 16 * 6; i++) xd[i] = sinf((float)i);
    for (int i = 0; i < 16 * 8; i++) yd[i] = cosf((float)i);
    ig_model *a = dropout_mlp(*state, true, 5), *b = dropout_mlp(*state, false, 5), *c = dropout_mlp(*state, true, 5);
    OK(ig_predict(a, x, &pa));
    OK(ig_predict(b, x, &pb));
    assert_memory_equal(ig_tensor_data(pa), ig_tensor_data(pb), sizeof(float) * 16 * 8);
    ig_tensor_release(pa);
    ig_tensor_release(pb);

    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_SGD);
    cfg.loss = IG_LOSS_MSE;
    cfg.learning_rate = 0.05f;
    ig_trainer *ta, *tb, *tc;
    OK(ig_trainer_create(a, &cfg, &ta));
    OK(ig_trainer_create(b, &cfg, &tb));
    OK(ig_trainer_create(c, &cfg, &tc));
    ig_eval_result ea, eb;
    OK(ig_eval_batch(ta, x, y, &ea));
    OK(ig_eval_batch(tb, x, y, &eb));
    assert_true(ea.loss == eb.loss);
    /* training draws masks: the loss differs from the dropout-free model's, and a model of
     * the same seed follows the same trajectory */
    float la[8], lb, lc;
    for (int s = 0; s < 8; s++) {
        OK(ig_train_batch(ta, x, y, &la[s]));
        OK(ig_train_batch(tc, x, y, &lc));
        if (la[s] != lc) fail_msg("step %d: %g and %g from the same seed", s, la[s], lc);
        OK(ig_train_batch(tb, x, y, &lb));
        if (s == 0 && la[0] == lb) fail_msg("step 0: dropout changed nothing");
    }
    bool varies = false; /* steps draw different masks, so the losses do not repeat a pattern of one */
    for (int s = 1; s < 8; s++) varies |= la[s] != la[0];
    assert_true(varies);
    ig_trainer_destroy(ta);
    ig_trainer_destroy(tb);
    ig_trainer_destroy(tc);
    ig_model_destroy(a);
    ig_model_destroy(b);
    ig_model_destroy(c);
    ig_tensor_release(x);
    ig_tensor_release(y);
}

static void test_dropout_reshape_errors(void **state)
{
    ig_model *m;
    OK(ig_model_create(*state, (int64_t[]){4, 2, 3, 4}, 4, &m));
    EXPECT_NO_VALUE(ig_dropout(m, ig_model_input(m), 1.0f, "drop"), "'drop'", "[0, 1)");
    ig_model_destroy(m);
    OK(ig_model_create(*state, (int64_t[]){4, 2, 3, 4}, 4, &m));
    EXPECT_NO_VALUE(ig_dropout(m, ig_model_input(m), -0.1f, "drop"), "'drop'", "[0, 1)");
    ig_model_destroy(m);
    OK(ig_model_create(*state, (int64_t[]){4, 2, 3, 4}, 4, &m));
    EXPECT_NO_VALUE(ig_reshape(m, ig_model_input(m), (int64_t[]){5, 5}, 2, "rs"), "'rs'", "cannot be viewed");
    ig_model_destroy(m);
    OK(ig_model_create(*state, (int64_t[]){4, 2, 3, 4}, 4, &m));
    EXPECT_NO_VALUE(ig_reshape(m, ig_model_input(m), (int64_t[]){0, 24}, 2, "rs"), "'rs'", ">= 1");
    ig_model_destroy(m);
}

/* [n, 2, 3, 4] → reshape [6, 4] → reshape [24]: the same elements in the same order */
static void test_reshape_values(void **state)
{
    ig_model *m;
    OK(ig_model_create(*state, (int64_t[]){4, 2, 3, 4}, 4, &m));
    ig_value v = ig_reshape(m, ig_model_input(m), (int64_t[]){6, 4}, 2, "rs1");
    int64_t shape[4];
    assert_int_equal(ig_model_value_shape(m, v, shape), 3);
    assert_true(shape[0] == 4 && shape[1] == 6 && shape[2] == 4);
    ig_reshape(m, v, (int64_t[]){24}, 1, "rs2");
    OK(ig_model_status(m));
    ig_tensor *x, *y;
    OK(ig_tensor_create(*state, IG_F32, (int64_t[]){3, 2, 3, 4}, 4, &x));
    float *xd = ig_tensor_data(x);
    for (int i = 0; i < 72; i++) xd[i] = (float)i;
    OK(ig_predict(m, x, &y));
    assert_int_equal(ig_tensor_ndim(y), 2);
    assert_memory_equal(ig_tensor_data(y), xd, sizeof(float) * 72);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_model_destroy(m);
}

/* ---------------------------------------------------------------- batch normalisation */

enum { BN_N = 4, BN_C = 3, BN_H = 2, BN_W = 5, BN_HW = BN_H * BN_W, BN_X = BN_N * BN_C * BN_HW };

/* input [4, 3, 2, 5] → batchnorm "bn" (momentum, eps 1e-5) → flatten → dense(2) "fc":
 * parameters fc.weight, fc.bias after bn's four entries. */
static ig_model *bn_model(ig_ctx *ctx, float momentum)
{
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){BN_N, BN_C, BN_H, BN_W}, 4, &m));
    ig_value v = ig_batchnorm(m, ig_model_input(m), momentum, 1e-5f, "bn");
    ig_dense(m, ig_flatten(m, v, "flat"), 2, true, "fc");
    OK(ig_model_status(m));
    return m;
}

/* Channels at different levels and spreads, so that each one's statistics differ. */
static void bn_batch(ig_ctx *ctx, uint64_t seed, ig_tensor **x, ig_tensor **y)
{
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){BN_N, BN_C, BN_H, BN_W}, 4, x));
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){BN_N, 2}, 2, y));
    float *xd = ig_tensor_data(*x), *yd = ig_tensor_data(*y);
    for (int i = 0; i < BN_X; i++) {
        int ch = i / BN_HW % BN_C;
        xd[i] = 3.0f * (float)ch - 2.0f + (1.0f + (float)ch) * (2.0f * ig_rng_uniform(seed, (uint64_t)i) - 1.0f);
    }
    for (int i = 0; i < BN_N * 2; i++) yd[i] = ig_rng_uniform(seed + 1, (uint64_t)i);
}

static void get_vec(ig_model *m, const char *name, float *dst, int64_t n)
{
    int i = ig_model_param_index(m, name);
    assert_true(i >= 0);
    OK(ig_model_param_get(m, i, dst, n));
}

static void set_vec(ig_model *m, const char *name, const float *src, int64_t n)
{
    int i = ig_model_param_index(m, name);
    assert_true(i >= 0);
    OK(ig_model_param_set(m, i, src, n));
}

/* One training step moves the running statistics towards the batch's, the variance's with
 * the unbiased variance (PyTorch's rule), computed here in double from the batch. */
static void test_batchnorm_running_stats(void **state)
{
    const float momentum = 0.3f;
    ig_model *m = bn_model(*state, momentum);
    const float rm0[BN_C] = {0.5f, -1.0f, 2.0f}, rv0[BN_C] = {1.0f, 0.25f, 4.0f};
    set_vec(m, "bn.running_mean", rm0, BN_C);
    set_vec(m, "bn.running_var", rv0, BN_C);
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_SGD);
    cfg.loss = IG_LOSS_MSE;
    cfg.learning_rate = 0.1f;
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    ig_tensor *x, *y;
    bn_batch(*state, 5, &x, &y);
    OK(ig_train_batch(t, x, y, NULL));
    float rm[BN_C], rv[BN_C];
    get_vec(m, "bn.running_mean", rm, BN_C);
    get_vec(m, "bn.running_var", rv, BN_C);
    const float *xd = ig_tensor_data(x);
    const int count = BN_N * BN_HW;
    for (int ch = 0; ch < BN_C; ch++) {
        double sum = 0, sq = 0;
        for (int i = 0; i < BN_N; i++)
            for (int j = 0; j < BN_HW; j++) sum += xd[(i * BN_C + ch) * BN_HW + j];
        double mean = sum / count;
        for (int i = 0; i < BN_N; i++)
            for (int j = 0; j < BN_HW; j++) sq += pow(xd[(i * BN_C + ch) * BN_HW + j] - mean, 2);
        double want_m = (1 - momentum) * rm0[ch] + momentum * mean;
        double want_v = (1 - momentum) * rv0[ch] + momentum * sq / (count - 1);
        if (fabs(rm[ch] - want_m) > 1e-5 * (1 + fabs(want_m)) || fabs(rv[ch] - want_v) > 1e-5 * want_v)
            fail_msg("channel %d: running mean %.7g var %.7g, want %.7g %.7g", ch, rm[ch], rv[ch], want_m, want_v);
    }
    /* evaluation reads them and leaves them alone */
    ig_eval_result er;
    OK(ig_eval_batch(t, x, y, &er));
    float rm2[BN_C], rv2[BN_C];
    get_vec(m, "bn.running_mean", rm2, BN_C);
    get_vec(m, "bn.running_var", rv2, BN_C);
    assert_memory_equal(rm, rm2, sizeof rm);
    assert_memory_equal(rv, rv2, sizeof rv);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
}

/* Prediction normalises with the running statistics: y = γ(x − μ)/sqrt(σ² + eps) + β per
 * channel, for any batch size (one sample included), 4-D and 2-D. */
static void test_batchnorm_eval_uses_running_stats(void **state)
{
    const float gamma[BN_C] = {1.5f, -0.5f, 2.0f}, beta[BN_C] = {0.1f, 0.2f, -0.3f};
    const float rm[BN_C] = {0.5f, -1.0f, 2.0f}, rv[BN_C] = {1.0f, 0.25f, 4.0f};
    for (int four_d = 0; four_d < 2; four_d++) {
        int64_t hw = four_d ? BN_HW : 1;
        ig_model *m;
        if (four_d) OK(ig_model_create(*state, (int64_t[]){BN_N, BN_C, BN_H, BN_W}, 4, &m));
        else OK(ig_model_create(*state, (int64_t[]){BN_N, BN_C}, 2, &m));
        ig_batchnorm(m, ig_model_input(m), 0.1f, 1e-3f, "bn");
        OK(ig_model_status(m));
        set_vec(m, "bn.weight", gamma, BN_C);
        set_vec(m, "bn.bias", beta, BN_C);
        set_vec(m, "bn.running_mean", rm, BN_C);
        set_vec(m, "bn.running_var", rv, BN_C);
        for (int64_t n = 1; n <= 3; n += 2) {
            ig_tensor *x, *y;
            if (four_d) OK(ig_tensor_create(*state, IG_F32, (int64_t[]){n, BN_C, BN_H, BN_W}, 4, &x));
            else OK(ig_tensor_create(*state, IG_F32, (int64_t[]){n, BN_C}, 2, &x));
            float *xd = ig_tensor_data(x);
            for (int64_t i = 0; i < n * BN_C * hw; i++) xd[i] = 4.0f * ig_rng_uniform(9, (uint64_t)i) - 2.0f;
            OK(ig_predict(m, x, &y));
            const float *yd = ig_tensor_data(y);
            for (int64_t i = 0; i < n * BN_C * hw; i++) {
                int ch = (int)(i / hw % BN_C);
                double want = gamma[ch] * (xd[i] - rm[ch]) / sqrt(rv[ch] + 1e-3) + beta[ch];
                if (fabs(yd[i] - want) > 1e-5 * (1 + fabs(want)))
                    fail_msg("%s, batch %lld: y[%lld] = %.7g, want %.7g", four_d ? "4-D" : "2-D", (long long)n,
                             (long long)i, yd[i], want);
            }
            ig_tensor_release(x);
            ig_tensor_release(y);
        }
        float after[BN_C];
        get_vec(m, "bn.running_var", after, BN_C);
        assert_memory_equal(after, rv, sizeof rv);
        ig_model_destroy(m);
    }
}

/* The running statistics are buffers: listed with the parameters but not trainable, not
 * counted, never decayed or updated by an optimizer. With momentum 0 the layer leaves them as
 * they are, so after AdamW's weight-decayed steps (and L-BFGS's host-side ones) they must
 * still be PyTorch's initial zeros and ones, while the trainable parameters moved. */
static void test_batchnorm_buffers(void **state)
{
    static const char *const names[6] = {"bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "fc.weight",
                                         "fc.bias"};
    for (int lbfgs = 0; lbfgs < 2; lbfgs++) {
        ig_model *m = bn_model(*state, 0.0f);
        assert_int_equal(ig_model_param_count(m), 6);
        for (int i = 0; i < 6; i++) {
            assert_string_equal(ig_model_param_name(m, i), names[i]);
            assert_int_equal(ig_model_param_trainable(m, i), i != 2 && i != 3);
        }
        assert_false(ig_model_param_trainable(m, 6));
        assert_false(ig_model_param_trainable(m, -1));
        assert_int_equal(ig_model_num_params(m), 2 * BN_C + 2 * BN_C * BN_HW + 2);
        char summary[2048];
        OK(ig_model_summary(m, summary, sizeof summary, NULL));
        char total[64];
        snprintf(total, sizeof total, "total: %d parameters", 2 * BN_C + 2 * BN_C * BN_HW + 2);
        if (!strstr(summary, total)) fail_msg("the summary counts buffers:\n%s", summary);
        ig_trainer_config cfg = ig_trainer_defaults_for(lbfgs ? IG_OPT_LBFGS : IG_OPT_ADAMW);
        cfg.loss = IG_LOSS_MSE;
        if (!lbfgs) {
            cfg.weight_decay = 0.5f;
            cfg.learning_rate = 0.05f;
            cfg.no_decay_1d = true; /* skips the buffers, decays nothing 1-D */
        }
        ig_trainer *t;
        OK(ig_trainer_create(m, &cfg, &t));
        if (!lbfgs) {
            assert_int_equal(ig_trainer_set_weight_decay_scale(t, 3, 1.0f), IG_ERR_INVALID_ARGUMENT);
            expect_msg("bn.running_var", "buffer", __LINE__);
            OK(ig_trainer_set_weight_decay_scale(t, 0, 1.0f)); /* γ decays again */
        }
        float gamma0[BN_C], gamma[BN_C], rm[BN_C], rv[BN_C], first = 0, loss = 0;
        get_vec(m, "bn.weight", gamma0, BN_C);
        ig_tensor *x, *y;
        bn_batch(*state, 11, &x, &y);
        for (int s = 0; s < 5; s++) {
            OK(ig_train_batch(t, x, y, &loss));
            if (s == 0) first = loss;
        }
        if (!(loss < first)) fail_msg("%s: loss %g -> %g did not fall", lbfgs ? "L-BFGS" : "AdamW", first, loss);
        get_vec(m, "bn.weight", gamma, BN_C);
        get_vec(m, "bn.running_mean", rm, BN_C);
        get_vec(m, "bn.running_var", rv, BN_C);
        assert_memory_not_equal(gamma, gamma0, sizeof gamma);
        for (int ch = 0; ch < BN_C; ch++)
            if (rm[ch] != 0.0f || rv[ch] != 1.0f)
                fail_msg("%s: channel %d's running statistics moved to %g, %g", lbfgs ? "L-BFGS" : "AdamW", ch, rm[ch],
                         rv[ch]);
        ig_tensor_release(x);
        ig_tensor_release(y);
        ig_trainer_destroy(t);
        ig_model_destroy(m);
    }
}

static void expect_bn_error(ig_ctx *ctx, const int64_t *shape, int ndim, float momentum, float eps, ig_status want,
                            const char *phrase, int line)
{
    ig_model *m;
    OK(ig_model_create(ctx, shape, ndim, &m));
    assert_int_equal(ig_batchnorm(m, ig_model_input(m), momentum, eps, "norm"), IG_NO_VALUE);
    expect_msg("batchnorm 'norm'", phrase, line);
    assert_int_equal(ig_model_status(m), want);
    assert_int_equal(ig_model_param_count(m), 0);
    ig_model_destroy(m);
}

static void test_batchnorm_errors(void **state)
{
    ig_ctx *ctx = *state;
    const int64_t img[] = {4, 3, 5, 5}, seq[] = {4, 3, 5}, vec[] = {4};
    expect_bn_error(ctx, seq, 3, 0.1f, 1e-5f, IG_ERR_SHAPE, "[batch, channels] or [batch, channels, height, width]",
                    __LINE__);
    expect_bn_error(ctx, vec, 1, 0.1f, 1e-5f, IG_ERR_SHAPE, "[4]", __LINE__);
    const float bad_momentum[] = {-0.1f, 1.5f, NAN};
    for (int i = 0; i < 3; i++)
        expect_bn_error(ctx, img, 4, bad_momentum[i], 1e-5f, IG_ERR_INVALID_ARGUMENT, "momentum", __LINE__);
    const float bad_eps[] = {0.0f, -1e-5f, INFINITY, NAN};
    for (int i = 0; i < 4; i++) expect_bn_error(ctx, img, 4, 0.1f, bad_eps[i], IG_ERR_INVALID_ARGUMENT, "eps", __LINE__);
    EXPECT_NO_VALUE(ig_batchnorm(NULL, 0, 0.1f, 1e-5f, "norm"), "ig_batchnorm", "NULL model");

    /* momentum 0 and 1 are in range; two layers of one name collide */
    ig_model *m;
    OK(ig_model_create(ctx, img, 4, &m));
    ig_value v = ig_batchnorm(m, ig_model_input(m), 0.0f, 1e-5f, "a");
    v = ig_batchnorm(m, v, 1.0f, 1e-5f, "b");
    OK(ig_model_status(m));
    EXPECT_NO_VALUE(ig_batchnorm(m, v, 0.1f, 1e-5f, "a"), "'a'", "used twice");
    ig_model_destroy(m);

    /* one value per channel: prediction works, a training step is refused (as PyTorch's) */
    OK(ig_model_create(ctx, (int64_t[]){1, 3}, 2, &m));
    ig_batchnorm(m, ig_model_input(m), 0.1f, 1e-5f, "bn1d");
    OK(ig_model_status(m));
    ig_tensor *x, *y, *out;
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){1, 3}, 2, &x));
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){1, 3}, 2, &y));
    OK(ig_predict(m, x, &out));
    ig_tensor_release(out);
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_SGD);
    cfg.loss = IG_LOSS_MSE;
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    assert_int_equal(ig_train_batch(t, x, y, NULL), IG_ERR_SHAPE);
    expect_msg("batchnorm 'bn1d'", "more than one value per channel", __LINE__);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_activation_values, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_softmax_values, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_activation_errors, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_activations_train, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_pool_build_errors, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_pool_shapes, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_pool_bits_match_pool_math, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_pool_trains, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_conv_build_errors, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_conv_trains, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_dropout_mask, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_dropout_eval_identity_and_train, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_dropout_reshape_errors, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_reshape_values, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_batchnorm_running_stats, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_batchnorm_eval_uses_running_stats, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_batchnorm_buffers, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_batchnorm_errors, setup_cpu_ctx, teardown_ctx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
