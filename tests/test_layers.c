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

static void test_pool_trains(void **state)
{
    for (int kind = 0; kind < 3; kind++) train_pool_model(*state, kind);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_activation_values, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_softmax_values, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_activation_errors, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_activations_train, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_pool_build_errors, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_pool_shapes, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_pool_trains, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_dropout_mask, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_dropout_eval_identity_and_train, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_dropout_reshape_errors, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_reshape_values, setup_cpu_ctx, teardown_ctx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
