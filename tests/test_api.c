/* test_api.c — the public API's behaviour on misuse: NULLs, bad shapes, bad configs, and its bookkeeping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingot.h"
#ifdef IG_HAVE_CUDA
#include "backend/backend.h" /* ig_cuda_available */
#endif

/* ---------------------------------------------------------------- helpers */

typedef struct fixture {
    ig_ctx *ctx;
    ig_memory_stats base;
} fixture;

static ig_memory_stats stats(ig_ctx *ctx)
{
    ig_memory_stats st;
    assert_int_equal(ig_memory_stats_get(ctx, &st), IG_OK);
    return st;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || ig_ctx_create(IG_DEVICE_CPU, &f->ctx) != IG_OK) return -1;
    f->base = stats(f->ctx);
    *state = f;
    return 0;
}

/* Every test frees what it made, on the host and on the device. */
static int teardown(void **state)
{
    fixture *f = *state;
    ig_memory_stats st = stats(f->ctx);
    assert_int_equal(st.host_in_use, f->base.host_in_use);
    assert_int_equal(st.device_in_use, f->base.device_in_use);
    ig_ctx_destroy(f->ctx);
    free(f);
    return 0;
}

#define OK(expr)                                                                                  \
    do {                                                                                          \
        ig_status ok_s_ = (expr);                                                                 \
        if (ok_s_ != IG_OK) fail_msg("%s: %s: %s", #expr, ig_status_name(ok_s_), ig_last_error()); \
    } while (0)

/* The last error must contain each non-NULL needle. */
static void expect_msg(const char *needle1, const char *needle2, int line)
{
    if (needle1 && !strstr(ig_last_error(), needle1))
        fail_msg("line %d: message '%s' lacks '%s'", line, ig_last_error(), needle1);
    if (needle2 && !strstr(ig_last_error(), needle2))
        fail_msg("line %d: message '%s' lacks '%s'", line, ig_last_error(), needle2);
}

/* The status must be `want`, and the message must name what it should. */
static void expect_err(ig_status got, ig_status want, const char *needle1, const char *needle2, int line)
{
    if (got != want)
        fail_msg("line %d: expected %s, got %s (%s)", line, ig_status_name(want), ig_status_name(got), ig_last_error());
    expect_msg(needle1, needle2, line);
}
#define EXPECT(expr, want, n1, n2) expect_err((expr), (want), (n1), (n2), __LINE__)

/* A builder call that must fail: IG_NO_VALUE, and the message names what it should. */
#define EXPECT_NO_VALUE(expr, n1, n2)          \
    do {                                       \
        assert_int_equal((expr), IG_NO_VALUE); \
        expect_msg((n1), (n2), __LINE__);      \
    } while (0)

static ig_tensor *tensor(ig_ctx *ctx, ig_dtype dt, int ndim, const int64_t *shape)
{
    ig_tensor *t = NULL;
    OK(ig_tensor_create(ctx, dt, shape, ndim, &t));
    return t;
}

/* input [n, 1, 2, 3] → flatten → fc1 (4) → relu → fc2 (3 classes, no bias). */
static ig_model *small_model(ig_ctx *ctx)
{
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){4, 1, 2, 3}, 4, &m));
    ig_value v = ig_flatten(m, ig_model_input(m), "flatten");
    v = ig_dense(m, v, 4, true, "fc1");
    v = ig_relu(m, v, "relu1");
    ig_dense(m, v, 3, false, "fc2");
    OK(ig_model_status(m));
    return m;
}

/* x f32 [n, 1, 2, 3] with values from the sample index, and labels i32 [n] in [0, 3). */
static void batch(ig_ctx *ctx, int64_t n, ig_tensor **x, ig_tensor **y)
{
    *x = tensor(ctx, IG_F32, 4, (int64_t[]){n, 1, 2, 3});
    *y = tensor(ctx, IG_I32, 1, (int64_t[]){n});
    float *xd = ig_tensor_data(*x);
    int32_t *yd = ig_tensor_data(*y);
    for (int64_t i = 0; i < n * 6; i++) xd[i] = (float)((i * 7) % 11) / 11.0f - 0.5f;
    for (int64_t i = 0; i < n; i++) yd[i] = (int32_t)(i % 3);
}

/* ---------------------------------------------------------------- NULLs */

static void test_null_handles(void **state)
{
    fixture *f = *state;
    ig_ctx *ctx = f->ctx;
    EXPECT(ig_ctx_create(IG_DEVICE_CPU, NULL), IG_ERR_INVALID_ARGUMENT, "ig_ctx_create", NULL);
    EXPECT(ig_memory_stats_get(NULL, &(ig_memory_stats){0}), IG_ERR_INVALID_ARGUMENT, "ig_memory_stats_get", NULL);
    EXPECT(ig_memory_stats_get(ctx, NULL), IG_ERR_INVALID_ARGUMENT, "ig_memory_stats_get", NULL);

    ig_tensor *t;
    const int64_t shape[2] = {2, 3};
    EXPECT(ig_tensor_create(NULL, IG_F32, shape, 2, &t), IG_ERR_INVALID_ARGUMENT, "ig_tensor_create", "ctx");
    EXPECT(ig_tensor_create(ctx, IG_F32, shape, 2, NULL), IG_ERR_INVALID_ARGUMENT, "ig_tensor_create", "out");
    EXPECT(ig_tensor_create(ctx, IG_F32, NULL, 2, &t), IG_ERR_INVALID_ARGUMENT, "ig_tensor_create", "shape");
    EXPECT(ig_tensor_create(ctx, (ig_dtype)99, shape, 2, &t), IG_ERR_INVALID_ARGUMENT, "ig_tensor_create", "dtype");
    EXPECT(ig_tensor_from_data(ctx, IG_F32, shape, 2, NULL, 24, &t), IG_ERR_INVALID_ARGUMENT, "ig_tensor_from_data",
           "data");

    ig_model *m;
    EXPECT(ig_model_create(NULL, shape, 2, &m), IG_ERR_INVALID_ARGUMENT, "ig_model_create", "ctx");
    EXPECT(ig_model_create(ctx, shape, 2, NULL), IG_ERR_INVALID_ARGUMENT, "ig_model_create", "out");
    EXPECT(ig_model_status(NULL), IG_ERR_INVALID_ARGUMENT, "ig_model_status", NULL);
    EXPECT(ig_model_set_seed(NULL, 1), IG_ERR_INVALID_ARGUMENT, "ig_model_set_seed", NULL);
    EXPECT(ig_model_set_output(NULL, 0), IG_ERR_INVALID_ARGUMENT, "ig_model_set_output", NULL);
    assert_int_equal(ig_model_input(NULL), IG_NO_VALUE);
    EXPECT_NO_VALUE(ig_dense(NULL, 0, 4, true, "fc"), "ig_dense", "NULL model");
    EXPECT_NO_VALUE(ig_relu(NULL, 0, "r"), "ig_relu", "NULL model");
    EXPECT_NO_VALUE(ig_tanh(NULL, 0, "t"), "ig_tanh", "NULL model");
    EXPECT_NO_VALUE(ig_flatten(NULL, 0, "f"), "ig_flatten", "NULL model");
    EXPECT_NO_VALUE(ig_add(NULL, 0, 0, "a"), "ig_add", "NULL model");
    int64_t s[IG_MAX_DIMS];
    assert_int_equal(ig_model_value_shape(NULL, 0, s), -1);
    assert_int_equal(ig_model_param_count(NULL), 0);
    assert_null(ig_model_param_name(NULL, 0));
    assert_int_equal(ig_model_param_index(NULL, "fc1.weight"), -1);
    assert_int_equal(ig_model_param_shape(NULL, 0, s), -1);
    assert_int_equal(ig_model_num_params(NULL), 0);
    float buf[32];
    EXPECT(ig_model_param_get(NULL, 0, buf, 1), IG_ERR_INVALID_ARGUMENT, "ig_model_param_get", "model");
    EXPECT(ig_model_param_set(NULL, 0, buf, 1), IG_ERR_INVALID_ARGUMENT, "ig_model_param_set", "model");

    m = small_model(ctx);
    EXPECT(ig_model_param_get(m, 0, NULL, 24), IG_ERR_INVALID_ARGUMENT, "ig_model_param_get", "buffer");
    EXPECT(ig_model_param_set(m, 0, NULL, 24), IG_ERR_INVALID_ARGUMENT, "ig_model_param_set", "buffer");
    ig_trainer_config cfg = ig_trainer_defaults();
    ig_trainer *tr = (ig_trainer *)&tr;
    EXPECT(ig_trainer_create(NULL, &cfg, &tr), IG_ERR_INVALID_ARGUMENT, "ig_trainer_create", "model");
    EXPECT(ig_trainer_create(m, NULL, &tr), IG_ERR_INVALID_ARGUMENT, "ig_trainer_create", "config");
    EXPECT(ig_trainer_create(m, &cfg, NULL), IG_ERR_INVALID_ARGUMENT, "ig_trainer_create", "out");
    OK(ig_trainer_create(m, &cfg, &tr));

    ig_tensor *x, *y, *out = (ig_tensor *)&out;
    batch(ctx, 4, &x, &y);
    float loss;
    ig_eval_result res;
    EXPECT(ig_train_batch(NULL, x, y, &loss), IG_ERR_INVALID_ARGUMENT, "ig_train_batch", "trainer");
    EXPECT(ig_train_batch(tr, NULL, y, &loss), IG_ERR_INVALID_ARGUMENT, "ig_train_batch", "input");
    EXPECT(ig_train_batch(tr, x, NULL, &loss), IG_ERR_INVALID_ARGUMENT, "ig_train_batch", "target");
    EXPECT(ig_eval_batch(NULL, x, y, &res), IG_ERR_INVALID_ARGUMENT, "ig_eval_batch", "trainer");
    EXPECT(ig_eval_batch(tr, NULL, y, &res), IG_ERR_INVALID_ARGUMENT, "ig_eval_batch", "input");
    EXPECT(ig_eval_batch(tr, x, NULL, &res), IG_ERR_INVALID_ARGUMENT, "ig_eval_batch", "target");
    EXPECT(ig_eval_batch(tr, x, y, NULL), IG_ERR_INVALID_ARGUMENT, "ig_eval_batch", "result");
    EXPECT(ig_predict(NULL, x, &out), IG_ERR_INVALID_ARGUMENT, "ig_predict", "model");
    EXPECT(ig_predict(m, NULL, &out), IG_ERR_INVALID_ARGUMENT, "ig_predict", "input");
    assert_null(out);
    EXPECT(ig_predict(m, x, NULL), IG_ERR_INVALID_ARGUMENT, "ig_predict", "out");
    EXPECT(ig_trainer_set_learning_rate(NULL, 0.1f), IG_ERR_INVALID_ARGUMENT, "ig_trainer_set_learning_rate", NULL);
    assert_int_equal(ig_trainer_step_count(tr), 0); /* none of the failed calls ran a step */
    assert_true(ig_trainer_learning_rate(NULL) == 0.0f);
    assert_int_equal(ig_trainer_step_count(NULL), 0);

    /* queries on NULL answer harmlessly, destroys accept NULL */
    assert_null(ig_tensor_retain(NULL));
    assert_int_equal(ig_tensor_dim(NULL, 0), -1);
    assert_int_equal(ig_tensor_numel(NULL), 0);
    assert_int_equal(ig_tensor_nbytes(NULL), 0);
    assert_null(ig_tensor_data(NULL));
    ig_tensor_release(NULL);
    ig_trainer_destroy(NULL);
    ig_model_destroy(NULL);
    ig_ctx_destroy(NULL);
    assert_string_equal(ig_status_name(IG_ERR_SHAPE), "IG_ERR_SHAPE");
    assert_string_equal(ig_status_name(IG_OK), "IG_OK");

    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_trainer_destroy(tr);
    ig_model_destroy(m);
}

/* ---------------------------------------------------------------- devices */

static bool have_gpu(void)
{
#ifdef IG_HAVE_CUDA
    return ig_cuda_available();
#else
    return false;
#endif
}

static void test_device_env(void **state)
{
    /* AUTO means CUDA only where the build has it and a GPU answers */
    const ig_device auto_dev = have_gpu() ? IG_DEVICE_CUDA : IG_DEVICE_CPU;
    const char *values[] = {"cpu", "auto", ""};
    const ig_device want[] = {IG_DEVICE_CPU, auto_dev, auto_dev};
    ig_ctx *c = NULL;
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        assert_int_equal(setenv("INGOT_DEVICE", values[i], 1), 0);
        OK(ig_ctx_create(IG_DEVICE_AUTO, &c));
        assert_int_equal(ig_ctx_device(c), want[i]);
        assert_string_equal(ig_device_name(ig_ctx_device(c)), want[i] == IG_DEVICE_CPU ? "cpu" : "cuda");
        ig_ctx_destroy(c);
    }
    assert_int_equal(setenv("INGOT_DEVICE", "bogus", 1), 0);
    c = (ig_ctx *)&c;
    EXPECT(ig_ctx_create(IG_DEVICE_AUTO, &c), IG_ERR_INVALID_ARGUMENT, "INGOT_DEVICE", "bogus");
    assert_null(c);
    /* an explicit device wins over the environment */
    OK(ig_ctx_create(IG_DEVICE_CPU, &c));
    assert_int_equal(ig_ctx_device(c), IG_DEVICE_CPU);
    ig_ctx_destroy(c);
    /* CUDA without a CUDA backend or GPU is unsupported, however it is asked for */
    for (int how = 0; how < 2; how++) {
        if (how == 0) assert_int_equal(setenv("INGOT_DEVICE", "cuda", 1), 0);
        else assert_int_equal(unsetenv("INGOT_DEVICE"), 0);
        ig_status s = ig_ctx_create(how == 0 ? IG_DEVICE_AUTO : IG_DEVICE_CUDA, &c);
        if (have_gpu()) {
            OK(s);
            assert_int_equal(ig_ctx_device(c), IG_DEVICE_CUDA);
            ig_ctx_destroy(c);
        } else {
            EXPECT(s, IG_ERR_UNSUPPORTED, "CUDA", NULL);
            assert_null(c);
        }
    }
    EXPECT(ig_ctx_create((ig_device)42, &c), IG_ERR_INVALID_ARGUMENT, "ig_ctx_create", "42");
}

/* ---------------------------------------------------------------- building */

/* The first builder error sticks: later calls return IG_NO_VALUE with it, and the status
 * and the trainer report it even after other failures overwrote the last error. */
static void test_build_error_sticks(void **state)
{
    fixture *f = *state;
    ig_model *m;
    OK(ig_model_create(f->ctx, (int64_t[]){8, 1, 4, 4}, 4, &m));
    ig_value in = ig_model_input(m);
    EXPECT_NO_VALUE(ig_dense(m, in, 10, true, "fc1"), "fc1", "flatten");
    char first[512];
    snprintf(first, sizeof first, "%s", ig_last_error());
    assert_non_null(strstr(first, "[8, 1, 4, 4]"));
    EXPECT_NO_VALUE(ig_flatten(m, in, "flatten"), "fc1", NULL);
    EXPECT_NO_VALUE(ig_relu(m, in, "relu"), "fc1", NULL);
    EXPECT_NO_VALUE(ig_dense(m, in, 10, true, "fc2"), "fc1", NULL);
    EXPECT(ig_model_set_output(m, in), IG_ERR_SHAPE, "fc1", NULL);

    EXPECT(ig_tensor_create(f->ctx, IG_F32, NULL, 1, &(ig_tensor *){NULL}), IG_ERR_INVALID_ARGUMENT, "shape", NULL);
    EXPECT(ig_model_status(m), IG_ERR_SHAPE, NULL, NULL);
    assert_string_equal(ig_last_error(), first);
    ig_trainer_config cfg = ig_trainer_defaults();
    ig_trainer *t = (ig_trainer *)&t;
    EXPECT(ig_trainer_create(m, &cfg, &t), IG_ERR_SHAPE, NULL, NULL);
    assert_string_equal(ig_last_error(), first);
    assert_null(t);
    ig_tensor *x, *out;
    OK(ig_tensor_create(f->ctx, IG_F32, (int64_t[]){2, 1, 4, 4}, 4, &x));
    EXPECT(ig_predict(m, x, &out), IG_ERR_SHAPE, "fc1", NULL);
    ig_tensor_release(x);
    ig_model_destroy(m);
}

static void test_build_errors(void **state)
{
    fixture *f = *state;
    ig_model *m;

    /* add of different shapes */
    OK(ig_model_create(f->ctx, (int64_t[]){8, 6}, 2, &m));
    ig_value in = ig_model_input(m);
    ig_value a = ig_dense(m, in, 4, true, "a"), b = ig_dense(m, in, 5, true, "b");
    EXPECT_NO_VALUE(ig_add(m, a, b, "sum"), "sum", "[8, 4]");
    EXPECT(ig_model_status(m), IG_ERR_SHAPE, "[8, 5]", NULL);
    ig_model_destroy(m);

    /* names of layers with parameters are unique; others may repeat */
    OK(ig_model_create(f->ctx, (int64_t[]){8, 6}, 2, &m));
    in = ig_model_input(m);
    ig_value v = ig_relu(m, ig_dense(m, in, 6, true, "fc"), "act");
    v = ig_relu(m, v, "act");
    OK(ig_model_status(m));
    EXPECT_NO_VALUE(ig_dense(m, v, 3, true, "fc"), "fc", "twice");
    EXPECT(ig_model_status(m), IG_ERR_INVALID_ARGUMENT, "fc", NULL);
    ig_model_destroy(m);

    /* a value of no model, a bad unit count */
    OK(ig_model_create(f->ctx, (int64_t[]){8, 6}, 2, &m));
    EXPECT_NO_VALUE(ig_relu(m, 999, "r"), "ig_relu", "999");
    ig_model_destroy(m);
    OK(ig_model_create(f->ctx, (int64_t[]){8, 6}, 2, &m));
    EXPECT_NO_VALUE(ig_dense(m, ig_model_input(m), 0, true, "fc"), "fc", "units");
    ig_model_destroy(m);

    /* a model without layers, and cross-entropy on an output that is not [batch, classes] */
    ig_trainer_config cfg = ig_trainer_defaults();
    ig_trainer *t;
    OK(ig_model_create(f->ctx, (int64_t[]){8, 6}, 2, &m));
    EXPECT(ig_trainer_create(m, &cfg, &t), IG_ERR_STATE, "no layers", NULL);
    ig_model_destroy(m);
    OK(ig_model_create(f->ctx, (int64_t[]){8, 2, 3}, 3, &m));
    ig_relu(m, ig_model_input(m), "r");
    EXPECT(ig_trainer_create(m, &cfg, &t), IG_ERR_SHAPE, "cross-entropy", "[8, 2, 3]");
    ig_model_destroy(m);

    /* bad input shapes */
    EXPECT(ig_model_create(f->ctx, (int64_t[]){8, 0}, 2, &m), IG_ERR_INVALID_ARGUMENT, "ig_model_create", "dimension 1");
    EXPECT(ig_model_create(f->ctx, (int64_t[]){8}, 0, &m), IG_ERR_INVALID_ARGUMENT, "ig_model_create", "ndim");
}

/* A finalised model (trained, run or its parameters read) takes no more layers. */
static void test_finalised_model(void **state)
{
    fixture *f = *state;
    ig_model *m = small_model(f->ctx);
    float w[24];
    OK(ig_model_param_get(m, 0, w, 24));
    EXPECT(ig_model_set_seed(m, 5), IG_ERR_STATE, "ig_model_set_seed", NULL);
    EXPECT_NO_VALUE(ig_relu(m, ig_model_input(m), "late"), "ig_relu", "finalised");
    EXPECT(ig_model_status(m), IG_ERR_STATE, "finalised", NULL);
    /* the model itself still works */
    ig_tensor *x, *y, *p;
    batch(f->ctx, 2, &x, &y);
    OK(ig_predict(m, x, &p));
    ig_tensor_release(p);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_model_destroy(m);
}

/* ---------------------------------------------------------------- batches */

static void test_bad_batches(void **state)
{
    fixture *f = *state;
    ig_ctx *ctx = f->ctx;
    ig_model *m = small_model(ctx);
    ig_trainer_config cfg = ig_trainer_defaults();
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    ig_tensor *x, *y, *out;
    batch(ctx, 4, &x, &y);
    float loss;
    ig_eval_result res;

    ig_tensor *bad_x[3] = {
        tensor(ctx, IG_F32, 4, (int64_t[]){4, 1, 3, 2}), /* wrong sample dims */
        tensor(ctx, IG_F32, 2, (int64_t[]){4, 6}),       /* flattened: wrong ndim */
        tensor(ctx, IG_I32, 4, (int64_t[]){4, 1, 2, 3}), /* wrong dtype */
    };
    const char *bad_x_needle[3] = {"[4, 1, 3, 2]", "[4, 6]", "i32"};
    for (int i = 0; i < 3; i++) {
        EXPECT(ig_train_batch(t, bad_x[i], y, &loss), IG_ERR_SHAPE, "ig_train_batch", bad_x_needle[i]);
        assert_non_null(strstr(ig_last_error(), "[4, 1, 2, 3]")); /* what it takes */
        EXPECT(ig_eval_batch(t, bad_x[i], y, &res), IG_ERR_SHAPE, "ig_eval_batch", bad_x_needle[i]);
        EXPECT(ig_predict(m, bad_x[i], &out), IG_ERR_SHAPE, "ig_predict", bad_x_needle[i]);
        ig_tensor_release(bad_x[i]);
    }

    ig_tensor *bad_y[3] = {
        tensor(ctx, IG_I32, 1, (int64_t[]){5}),    /* a different batch than x */
        tensor(ctx, IG_F32, 1, (int64_t[]){4}),    /* wrong dtype */
        tensor(ctx, IG_I32, 2, (int64_t[]){4, 1}), /* wrong ndim */
    };
    for (int i = 0; i < 3; i++) {
        EXPECT(ig_train_batch(t, x, bad_y[i], &loss), IG_ERR_SHAPE, "ig_train_batch", "labels");
        EXPECT(ig_eval_batch(t, x, bad_y[i], &res), IG_ERR_SHAPE, "ig_eval_batch", "labels");
        ig_tensor_release(bad_y[i]);
    }

    int32_t *lab = ig_tensor_data(y);
    lab[2] = 3; /* 3 classes: out of range */
    EXPECT(ig_train_batch(t, x, y, &loss), IG_ERR_INVALID_ARGUMENT, "sample 2", "label 3");
    EXPECT(ig_eval_batch(t, x, y, &res), IG_ERR_INVALID_ARGUMENT, "sample 2", "ig_eval_batch");
    lab[2] = 0;
    lab[3] = -1;
    EXPECT(ig_train_batch(t, x, y, &loss), IG_ERR_INVALID_ARGUMENT, "sample 3", "label -1");
    assert_int_equal(ig_trainer_step_count(t), 0);
    lab[3] = 2;
    OK(ig_train_batch(t, x, y, &loss));
    assert_int_equal(ig_trainer_step_count(t), 1);
    ig_trainer_destroy(t);

    /* MSE: targets take the output's shape */
    cfg.loss = IG_LOSS_MSE;
    OK(ig_trainer_create(m, &cfg, &t));
    ig_tensor *tgt = tensor(ctx, IG_F32, 2, (int64_t[]){4, 3});
    OK(ig_train_batch(t, x, tgt, &loss));
    ig_tensor *bad_t[3] = {
        tensor(ctx, IG_F32, 2, (int64_t[]){4, 2}),
        tensor(ctx, IG_F32, 2, (int64_t[]){3, 3}),
        y, /* class ids */
    };
    for (int i = 0; i < 3; i++) EXPECT(ig_train_batch(t, x, bad_t[i], &loss), IG_ERR_SHAPE, "targets", "[4, 3]");
    ig_tensor_release(bad_t[0]);
    ig_tensor_release(bad_t[1]);
    ig_tensor_release(tgt);
    ig_trainer_destroy(t);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_model_destroy(m);
}

/* ---------------------------------------------------------------- configs */

static void test_bad_configs(void **state)
{
    fixture *f = *state;
    ig_model *m = small_model(f->ctx);
    typedef struct bad {
        const char *what;
        ig_trainer_config cfg;
    } bad;
    ig_trainer_config adam = ig_trainer_defaults(), sgd = adam;
    sgd.optimizer = IG_OPT_SGD;
    ig_trainer_config rmsprop = ig_trainer_defaults_for(IG_OPT_RMSPROP), adagrad = ig_trainer_defaults_for(IG_OPT_ADAGRAD);
    ig_trainer_config adadelta = ig_trainer_defaults_for(IG_OPT_ADADELTA), nadam = ig_trainer_defaults_for(IG_OPT_NADAM);
    bad cases[64];
    int n = 0;
#define BAD(base, field, value, needle)      \
    do {                                     \
        cases[n] = (bad){needle, base};      \
        cases[n++].cfg.field = (value);      \
    } while (0)
    BAD(adam, learning_rate, 0.0f, "learning_rate");
    BAD(adam, learning_rate, -1e-3f, "learning_rate");
    BAD(adam, learning_rate, NAN, "learning_rate");
    BAD(adam, learning_rate, INFINITY, "learning_rate");
    BAD(sgd, learning_rate, 0.0f, "learning_rate");
    BAD(adam, beta1, 1.0f, "betas");
    BAD(adam, beta2, 1.0f, "betas");
    BAD(adam, beta1, -0.1f, "betas");
    BAD(adam, beta2, NAN, "betas");
    BAD(adam, eps, 0.0f, "eps");
    BAD(adam, eps, -1e-8f, "eps");
    BAD(adam, eps, NAN, "eps");
    BAD(adam, weight_decay, -0.1f, "weight_decay");
    BAD(sgd, weight_decay, NAN, "weight_decay");
    BAD(sgd, momentum, 1.0f, "momentum");
    BAD(sgd, momentum, -0.5f, "momentum");
    BAD(sgd, dampening, 1.5f, "dampening");
    BAD(sgd, nesterov, true, "nesterov"); /* without momentum */
    BAD(adam, loss, (ig_loss)7, "loss");
    BAD(adam, optimizer, (ig_optimizer)9, "optimizer");
    cases[n] = (bad){"nesterov", sgd}; /* with dampening */
    cases[n].cfg.nesterov = true;
    cases[n].cfg.momentum = 0.9f;
    cases[n++].cfg.dampening = 0.1f;
    /* the rules of the optimizers after AdamW: each message names the field and its range */
    BAD(rmsprop, alpha, 1.0f, "alpha 1 must be in [0, 1)");
    BAD(rmsprop, alpha, -0.1f, "alpha -0.1 must be in [0, 1)");
    BAD(rmsprop, momentum, 1.0f, "momentum 1 must be in [0, 1)");
    BAD(rmsprop, eps, 0.0f, "eps 0 must be a finite number > 0");
    BAD(adagrad, lr_decay, -0.1f, "lr_decay -0.1 must be a finite number >= 0");
    BAD(adagrad, initial_accumulator_value, -1.0f, "initial_accumulator_value -1 must be a finite number >= 0");
    BAD(adagrad, eps, -1e-10f, "eps -1e-10 must be a finite number > 0");
    BAD(adadelta, rho, 1.5f, "rho 1.5 must be in [0, 1]");
    BAD(adadelta, rho, NAN, "rho nan must be in [0, 1]");
    BAD(adadelta, eps, INFINITY, "eps inf must be a finite number > 0");
    BAD(nadam, momentum_decay, -1e-3f, "momentum_decay -0.001 must be a finite number >= 0");
    BAD(nadam, beta2, 1.0f, "betas (0.9, 1) must each be in [0, 1)");
    BAD(nadam, weight_decay, -1.0f, "weight_decay");
#undef BAD
    for (int i = 0; i < n; i++) {
        ig_trainer *t = (ig_trainer *)&t;
        ig_status s = ig_trainer_create(m, &cases[i].cfg, &t);
        if (s != IG_ERR_INVALID_ARGUMENT || !strstr(ig_last_error(), cases[i].what) ||
            !strstr(ig_last_error(), "ig_trainer_create"))
            fail_msg("config %d (%s): got %s '%s'", i, cases[i].what, ig_status_name(s), ig_last_error());
        assert_null(t);
    }
    /* the valid neighbours of those */
    ig_trainer_config good[] = {sgd, sgd, adam, rmsprop, rmsprop, adagrad, adadelta, nadam};
    good[0].momentum = 0.9f;
    good[0].nesterov = true;
    good[1].dampening = 1.0f;
    good[2].optimizer = IG_OPT_ADAMW;
    good[2].weight_decay = 0.01f;
    good[3].alpha = 0.0f;
    good[4].momentum = 0.9f;
    good[4].centered = true;
    good[5].initial_accumulator_value = 0.1f;
    good[6].rho = 1.0f;
    good[7].momentum_decay = 0.0f;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        ig_trainer *t;
        OK(ig_trainer_create(m, &good[i], &t));
        EXPECT(ig_trainer_set_learning_rate(t, 0.0f), IG_ERR_INVALID_ARGUMENT, "ig_trainer_set_learning_rate", NULL);
        EXPECT(ig_trainer_set_learning_rate(t, NAN), IG_ERR_INVALID_ARGUMENT, "ig_trainer_set_learning_rate", NULL);
        assert_true(ig_trainer_learning_rate(t) == good[i].learning_rate);
        ig_trainer_destroy(t);
    }
    ig_model_destroy(m);
}

/* ---------------------------------------------------------------- tensors */

static void test_tensors(void **state)
{
    fixture *f = *state;
    ig_ctx *ctx = f->ctx;
    size_t base = stats(ctx).host_in_use;
    const int64_t shape[2] = {2, 3};
    ig_tensor *t = tensor(ctx, IG_F32, 2, shape);
    assert_int_equal(ig_tensor_dtype(t), IG_F32);
    assert_int_equal(ig_tensor_ndim(t), 2);
    assert_int_equal(ig_tensor_numel(t), 6);
    assert_int_equal(ig_tensor_nbytes(t), 24);
    assert_int_equal(ig_tensor_dim(t, 0), 2);
    assert_int_equal(ig_tensor_dim(t, 1), 3);
    assert_int_equal(ig_tensor_dim(t, -1), 3);
    assert_int_equal(ig_tensor_dim(t, -2), 2);
    assert_int_equal(ig_tensor_dim(t, -3), -1);
    assert_int_equal(ig_tensor_dim(t, 2), -1);
    assert_int_equal((uintptr_t)ig_tensor_data(t) % 64, 0);
    const float *d = ig_tensor_data_const(t);
    for (int i = 0; i < 6; i++) assert_true(d[i] == 0.0f);

    /* two references: the first release keeps the tensor, the second frees it */
    size_t held = stats(ctx).host_in_use;
    assert_true(held > base);
    assert_ptr_equal(ig_tensor_retain(t), t);
    ig_tensor_release(t);
    assert_int_equal(stats(ctx).host_in_use, held);
    ((float *)ig_tensor_data(t))[5] = 7.0f;
    assert_true(((const float *)ig_tensor_data_const(t))[5] == 7.0f);
    ig_tensor_release(t);
    assert_int_equal(stats(ctx).host_in_use, base);

    /* from_data copies, and only the exact size */
    float src[6] = {1, 2, 3, 4, 5, 6};
    ig_tensor *c = (ig_tensor *)&c;
    EXPECT(ig_tensor_from_data(ctx, IG_F32, shape, 2, src, 20, &c), IG_ERR_INVALID_ARGUMENT, "20", "24");
    EXPECT(ig_tensor_from_data(ctx, IG_I64, shape, 2, src, 24, &c), IG_ERR_INVALID_ARGUMENT, "48", NULL);
    assert_int_equal(stats(ctx).host_in_use, base);
    OK(ig_tensor_from_data(ctx, IG_F32, shape, 2, src, sizeof src, &c));
    src[0] = 100;
    assert_true(((const float *)ig_tensor_data_const(c))[0] == 1.0f);
    ig_tensor_release(c);

    /* bad shapes */
    ig_tensor *b = (ig_tensor *)&b;
    const int64_t seven[7] = {1, 1, 1, 1, 1, 1, 1};
    EXPECT(ig_tensor_create(ctx, IG_F32, shape, 0, &b), IG_ERR_INVALID_ARGUMENT, "ig_tensor_create", "ndim 0");
    EXPECT(ig_tensor_create(ctx, IG_F32, seven, IG_MAX_DIMS + 1, &b), IG_ERR_INVALID_ARGUMENT, "ig_tensor_create",
           "ndim 7");
    EXPECT(ig_tensor_create(ctx, IG_F32, (int64_t[]){2, 0}, 2, &b), IG_ERR_INVALID_ARGUMENT, "ig_tensor_create",
           "dimension 1 is 0");
    EXPECT(ig_tensor_create(ctx, IG_F32, (int64_t[]){-2}, 1, &b), IG_ERR_INVALID_ARGUMENT, "ig_tensor_create",
           "dimension 0 is -2");
    EXPECT(ig_tensor_create(ctx, IG_F32, (int64_t[]){1 << 30, 1 << 30, 1 << 30}, 3, &b), IG_ERR_INVALID_ARGUMENT,
           "ig_tensor_create", "too large");
    assert_null(b);
    OK(ig_tensor_create(ctx, IG_I64, seven, IG_MAX_DIMS, &b));
    assert_int_equal(ig_tensor_nbytes(b), 8);
    ig_tensor_release(b);

    assert_int_equal(ig_dtype_size(IG_F32), 4);
    assert_int_equal(ig_dtype_size(IG_I64), 8);
    assert_int_equal(ig_dtype_size(IG_BF16), 2);
    assert_string_equal(ig_dtype_name(IG_I32), "i32");
}

/* ---------------------------------------------------------------- memory */

static void test_memory_stats(void **state)
{
    fixture *f = *state;
    ig_ctx *ctx = f->ctx;
    ig_memory_stats s0 = stats(ctx);

    /* 4000 bytes: the 4096-byte class; released into the pool, then reused by 3600 bytes */
    ig_tensor *t = tensor(ctx, IG_F32, 1, (int64_t[]){1000});
    ig_memory_stats s1 = stats(ctx);
    assert_true(s1.host_in_use >= s0.host_in_use + 4000);
    assert_true(s1.host_peak >= s1.host_in_use);
    ig_tensor_release(t);
    ig_memory_stats s2 = stats(ctx);
    assert_int_equal(s2.host_in_use, s0.host_in_use);
    assert_true(s2.pool_cached >= 4096);
    t = tensor(ctx, IG_F32, 1, (int64_t[]){900});
    ig_memory_stats s3 = stats(ctx);
    assert_int_equal(s3.pool_hits, s2.pool_hits + 1);
    assert_int_equal(s3.pool_misses, s2.pool_misses);
    assert_int_equal(s3.pool_cached, s2.pool_cached - 4096);
    /* another class is a miss */
    ig_tensor *u = tensor(ctx, IG_F32, 1, (int64_t[]){5000});
    assert_int_equal(stats(ctx).pool_misses, s3.pool_misses + 1);
    ig_tensor_release(u);
    ig_tensor_release(t);
    assert_int_equal(stats(ctx).host_in_use, s0.host_in_use);

    /* a compiled step program: the planned arena is no larger than its values' sum */
    ig_model *m = small_model(ctx);
    ig_trainer_config cfg = ig_trainer_defaults();
    ig_trainer *tr;
    OK(ig_trainer_create(m, &cfg, &tr));
    ig_tensor *x, *y;
    batch(ctx, 64, &x, &y);
    OK(ig_train_batch(tr, x, y, NULL));
    ig_memory_stats s4 = stats(ctx);
    print_message("arena: planned %zu bytes, unplanned %zu; device in use %zu\n", s4.arena_planned,
                  s4.arena_unplanned, s4.device_in_use);
    assert_true(s4.arena_planned > 0);
    assert_true(s4.arena_planned <= s4.arena_unplanned);
    assert_true(s4.device_in_use > s0.device_in_use);
    assert_true(s4.device_peak >= s4.device_in_use);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_trainer_destroy(tr);
    ig_model_destroy(m);
    ig_memory_stats s5 = stats(ctx);
    assert_int_equal(s5.device_in_use, s0.device_in_use);
    assert_int_equal(s5.host_in_use, s0.host_in_use);
}

/* ---------------------------------------------------------------- parameters */

static void test_params(void **state)
{
    fixture *f = *state;
    ig_model *m = small_model(f->ctx);
    assert_int_equal(ig_model_param_count(m), 3);
    const char *names[3] = {"fc1.weight", "fc1.bias", "fc2.weight"};
    const int64_t shapes[3][2] = {{4, 6}, {4, 0}, {3, 4}};
    const int ndims[3] = {2, 1, 2};
    for (int i = 0; i < 3; i++) {
        assert_string_equal(ig_model_param_name(m, i), names[i]);
        assert_int_equal(ig_model_param_index(m, names[i]), i);
        int64_t s[IG_MAX_DIMS];
        assert_int_equal(ig_model_param_shape(m, i, s), ndims[i]);
        for (int k = 0; k < ndims[i]; k++) assert_int_equal(s[k], shapes[i][k]);
    }
    assert_null(ig_model_param_name(m, 3));
    assert_null(ig_model_param_name(m, -1));
    assert_int_equal(ig_model_param_index(m, "fc2.bias"), -1);
    assert_int_equal(ig_model_param_index(m, NULL), -1);
    assert_int_equal(ig_model_num_params(m), 24 + 4 + 12);

    /* initialised as nn.Linear: uniform in ±1/sqrt(fan_in) */
    float w1[24], b1[4], w2[12], back[24];
    OK(ig_model_param_get(m, 0, w1, 24));
    OK(ig_model_param_get(m, 1, b1, 4));
    OK(ig_model_param_get(m, 2, w2, 12));
    for (int i = 0; i < 24; i++) assert_true(fabsf(w1[i]) <= 1.0f / sqrtf(6.0f));
    for (int i = 0; i < 12; i++) assert_true(fabsf(w2[i]) <= 0.5f);

    /* round trip, then the model computes with what was set */
    for (int i = 0; i < 24; i++) w1[i] = (float)(i % 5) * 0.25f - 0.5f;
    for (int i = 0; i < 4; i++) b1[i] = 0.1f * (float)i - 0.15f;
    for (int i = 0; i < 12; i++) w2[i] = (float)(i % 3) - 1.0f;
    OK(ig_model_param_set(m, 0, w1, 24));
    OK(ig_model_param_set(m, 1, b1, 4));
    OK(ig_model_param_set(m, 2, w2, 12));
    OK(ig_model_param_get(m, 0, back, 24));
    assert_memory_equal(back, w1, sizeof w1);
    ig_tensor *x, *y, *out;
    batch(f->ctx, 3, &x, &y);
    OK(ig_predict(m, x, &out));
    assert_int_equal(ig_tensor_ndim(out), 2);
    assert_int_equal(ig_tensor_dim(out, 0), 3);
    assert_int_equal(ig_tensor_dim(out, 1), 3);
    const float *xd = ig_tensor_data_const(x), *od = ig_tensor_data_const(out);
    for (int r = 0; r < 3; r++) {
        double h[4];
        for (int j = 0; j < 4; j++) {
            h[j] = b1[j];
            for (int k = 0; k < 6; k++) h[j] += (double)xd[r * 6 + k] * w1[j * 6 + k];
            h[j] = h[j] > 0 ? h[j] : 0;
        }
        for (int c = 0; c < 3; c++) {
            double o = 0;
            for (int j = 0; j < 4; j++) o += h[j] * w2[c * 4 + j];
            assert_float_equal(od[r * 3 + c], o, 1e-5);
        }
    }
    ig_tensor_release(out);

    EXPECT(ig_model_param_set(m, 0, w1, 23), IG_ERR_INVALID_ARGUMENT, "fc1.weight", "24 elements");
    EXPECT(ig_model_param_get(m, 1, b1, 24), IG_ERR_INVALID_ARGUMENT, "fc1.bias", "24 given");
    EXPECT(ig_model_param_get(m, 3, w1, 24), IG_ERR_INVALID_ARGUMENT, "parameter 3", "out of range");
    EXPECT(ig_model_param_set(m, -1, w1, 24), IG_ERR_INVALID_ARGUMENT, "parameter -1", "out of range");
    OK(ig_model_param_get(m, 0, back, 24));
    assert_memory_equal(back, w1, sizeof w1); /* the failed calls changed nothing */
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_model_destroy(m);
}

/* FLOPs from the op table: a dense layer is 2·n·in·out, an elementwise op one per element. */
static void test_forward_flops(void **state)
{
    ig_ctx *ctx = *state;
    ig_model *m;
    assert_int_equal(ig_model_create(ctx, (int64_t[]){8, 784}, 2, &m), IG_OK);
    ig_relu(m, ig_dense(m, ig_model_input(m), 512, true, "fc"), "relu");
    double f = 0;
    assert_int_equal(ig_model_forward_flops(m, 3, &f), IG_OK);
    assert_true(f == 2.0 * 3 * 784 * 512 + 3 * 512);
    assert_int_equal(ig_model_forward_flops(m, 0, &f), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_model_forward_flops(NULL, 3, &f), IG_ERR_INVALID_ARGUMENT);
    ig_model_destroy(m);
}

/* The summary names every layer with its output shape, parameters and FLOPs, and reports
 * the size it needs when the buffer is short. */
static void test_summary(void **state)
{
    ig_ctx *ctx = *state;
    ig_model *m;
    assert_int_equal(ig_model_create(ctx, (int64_t[]){8, 1, 4, 4}, 4, &m), IG_OK);
    ig_value v = ig_flatten(m, ig_model_input(m), "flat");
    ig_dense(m, ig_relu(m, ig_dense(m, v, 5, true, "fc1"), "act"), 3, true, "fc2");
    char buf[2048];
    size_t needed = 0;
    assert_int_equal(ig_model_summary(m, buf, sizeof buf, &needed), IG_OK);
    assert_true(needed == strlen(buf) + 1);
    assert_non_null(strstr(buf, "fc1"));
    assert_non_null(strstr(buf, "[8, 5]"));
    assert_non_null(strstr(buf, "[8, 16]"));
    assert_non_null(strstr(buf, "total: 103 parameters")); /* 16·5 + 5 + 5·3 + 3 */
    char small[16];
    size_t again = 0;
    assert_int_equal(ig_model_summary(m, small, sizeof small, &again), IG_OK);
    assert_int_equal(again, needed);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(ig_model_summary(m, NULL, 0, &again), IG_OK);
    assert_int_equal(again, needed);
    assert_int_equal(ig_model_summary(NULL, buf, sizeof buf, NULL), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_model_summary(m, NULL, 5, NULL), IG_ERR_INVALID_ARGUMENT);
    ig_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_null_handles, setup, teardown),
        cmocka_unit_test(test_device_env),
        cmocka_unit_test_setup_teardown(test_build_error_sticks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finalised_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_configs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tensors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forward_flops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
