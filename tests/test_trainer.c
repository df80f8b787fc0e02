/* test_trainer.c — training behaviour: convergence, optimizers, batch sizes, learning rate, determinism. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingot.h"



/* splitmix64: the data are a pure function of (seed, index) */
static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static float urand(uint64_t seed, uint64_t i) { return (float)(mix(seed * 0x100000001B3ull + i) >> 40) / 16777216.0f; }

/* ---------------------------------------------------------------- data and models */

enum { D = 16, C = 4, HIDDEN = 32 };

/* A separable problem: class k lives around +2 on features [4k, 4k+4) and 0 elsewhere,
 * with noise in ±0.5; samples are [n, 1, 4, 4] images. */
static void classification_batch(ig_ctx *ctx, int64_t n, uint64_t seed, ig_tensor **x, ig_tensor **y)
{
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){n, 1, 4, 4}, 4, x));
    OK(ig_tensor_create(ctx, IG_I32, (int64_t[]){n}, 1, y));
    float *xd = ig_tensor_data(*x);
    int32_t *yd = ig_tensor_data(*y);
    for (int64_t i = 0; i < n; i++) {
        int32_t k = (int32_t)(mix(seed ^ (uint64_t)i) % C);
        yd[i] = k;
        for (int j = 0; j < D; j++)
            xd[i * D + j] = (j / 4 == k ? 2.0f : 0.0f) + urand(seed, (uint64_t)(i * D + j)) - 0.5f;
    }
}

/* flatten → dense(32) → relu → dense(4) */
static ig_model *mlp(ig_ctx *ctx, uint64_t seed)
{
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){32, 1, 4, 4}, 4, &m));
    OK(ig_model_set_seed(m, seed));
    ig_value v = ig_flatten(m, ig_model_input(m), "flatten");
    v = ig_dense(m, v, HIDDEN, true, "fc1");
    v = ig_relu(m, v, "relu1");
    ig_dense(m, v, C, true, "fc2");
    OK(ig_model_status(m));
    return m;
}

static ig_trainer *trainer(ig_model *m, ig_optimizer opt, float lr, float momentum)
{
    ig_trainer_config cfg = ig_trainer_defaults_for(opt);
    cfg.learning_rate = lr;
    cfg.momentum = momentum;
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    return t;
}

/* All parameters of a model, concatenated. */
static float *params_of(ig_model *m, int64_t *count)
{
    int64_t total = ig_model_num_params(m), off = 0;
    float *p = malloc((size_t)total * sizeof *p);
    assert_non_null(p);
    for (int i = 0; i < ig_model_param_count(m); i++) {
        int64_t shape[IG_MAX_DIMS], n = 1;
        int nd = ig_model_param_shape(m, i, shape);
        for (int k = 0; k < nd; k++) n *= shape[k];
        OK(ig_model_param_get(m, i, p + off, n));
        off += n;
    }
    assert_int_equal(off, total);
    *count = total;
    return p;
}

/* Trains `steps` steps on fresh batches of 32; returns the first and the last loss. */
static void train(ig_ctx *ctx, ig_trainer *t, int steps, uint64_t seed, float *first, float *last)
{
    for (int s = 0; s < steps; s++) {
        ig_tensor *x, *y;
        classification_batch(ctx, 32, seed + (uint64_t)s, &x, &y);
        float loss;
        OK(ig_train_batch(t, x, y, &loss));
        assert_true(isfinite(loss));
        if (s == 0) *first = loss;
        *last = loss;
        ig_tensor_release(x);
        ig_tensor_release(y);
    }
}

/* ---------------------------------------------------------------- tests */

static void test_mlp_converges(void **state)
{
    ig_ctx *ctx = *state;
    ig_model *m = mlp(ctx, 1);
    ig_trainer *t = trainer(m, IG_OPT_ADAM, 1e-2f, 0);
    float first, last;
    train(ctx, t, 200, 100, &first, &last);
    print_message("adam, 200 steps: loss %.4f -> %.5f\n", first, last);
    assert_true(first > 1.0f); /* about ln 4 at the start */
    assert_true(last < 0.1f * first);
    assert_int_equal(ig_trainer_step_count(t), 200);

    /* and it generalises to unseen samples */
    ig_tensor *x, *y;
    classification_batch(ctx, 200, 9999, &x, &y);
    ig_eval_result r;
    OK(ig_eval_batch(t, x, y, &r));
    assert_int_equal(r.count, 200);
    assert_true(r.correct >= 196);
    assert_int_equal(ig_trainer_step_count(t), 200); /* evaluation takes no step */
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
}

static void test_optimizers_decrease_loss(void **state)
{
    ig_ctx *ctx = *state;
    const struct {
        const char *name;
        ig_optimizer opt;
        float lr, momentum;
    } opts[] = {
        {"sgd", IG_OPT_SGD, 0.1f, 0.0f},
        {"sgd+momentum", IG_OPT_SGD, 0.05f, 0.9f},
        {"adam", IG_OPT_ADAM, 1e-2f, 0.0f},
        {"adamw", IG_OPT_ADAMW, 1e-2f, 0.0f},
        {"rmsprop", IG_OPT_RMSPROP, 1e-2f, 0.0f},
        {"rmsprop+mom.", IG_OPT_RMSPROP, 1e-3f, 0.9f},
        {"adagrad", IG_OPT_ADAGRAD, 0.1f, 0.0f},
        {"adadelta", IG_OPT_ADADELTA, 1.0f, 0.0f},
        {"nadam", IG_OPT_NADAM, 1e-2f, 0.0f},
    };
    /* the same held-out batch before and after: one batch's loss is not the other's */
    ig_tensor *x, *y;
    classification_batch(ctx, 128, 777, &x, &y);
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
        ig_model *m = mlp(ctx, 2);
        ig_trainer *t = trainer(m, opts[i].opt, opts[i].lr, opts[i].momentum);
        ig_eval_result before, after;
        OK(ig_eval_batch(t, x, y, &before));
        float first, last;
        train(ctx, t, 60, 200, &first, &last);
        OK(ig_eval_batch(t, x, y, &after));
        print_message("%-13s held-out loss %.4f -> %.4f\n", opts[i].name, before.loss, after.loss);
        if (!(after.loss < 0.5f * before.loss)) fail_msg("%s: loss %.4f -> %.4f", opts[i].name, before.loss, after.loss);
        ig_trainer_destroy(t);
        ig_model_destroy(m);
    }
    ig_tensor_release(x);
    ig_tensor_release(y);
}

/* One trainer, batch sizes other than the nominal one: each gets its program, and a size
 * met again reuses its program (no new device memory). */
/* ---------------------------------------------------------------- optimizer state */

/* One scalar parameter w (a 1 → 1 dense layer without bias) and the MSE loss (w·1 − 0)², so
 * the gradient is 2w: two steps from w = 1, returning w after each. */
static void two_steps(ig_ctx *ctx, ig_trainer_config cfg, float w[2])
{
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){1, 1}, 2, &m));
    ig_dense(m, ig_model_input(m), 1, false, "w");
    OK(ig_model_status(m));
    OK(ig_model_param_set(m, 0, (float[]){1.0f}, 1));
    cfg.loss = IG_LOSS_MSE;
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    ig_tensor *x, *y;
    OK(ig_tensor_from_data(ctx, IG_F32, (int64_t[]){1, 1}, 2, (float[]){1.0f}, sizeof(float), &x));
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){1, 1}, 2, &y));
    for (int s = 0; s < 2; s++) {
        OK(ig_train_batch(t, x, y, NULL));
        OK(ig_model_param_get(m, 0, &w[s], 1));
    }
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
}

static void expect_w(const char *what, const float got[2], double w1, double w2)
{
    for (int s = 0; s < 2; s++) {
        double want = s ? w2 : w1;
        if (fabs(got[s] - want) > 2e-6 * fabs(want))
            fail_msg("%s: w after step %d is %.8f, by hand %.8f", what, s + 1, got[s], want);
    }
}

/* The centered average, the momentum buffer and their carry-over to step 2. */
static void test_rmsprop_centered_momentum_by_hand(void **state)
{
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_RMSPROP);
    cfg.learning_rate = 0.01f;
    cfg.alpha = 0.9f;
    cfg.momentum = 0.5f;
    cfg.centered = true;
    float w[2];
    two_steps(*state, cfg, w);
    /* sq, ga: averages of g² and g (weight 1 − alpha); buf ← 0.5·buf + g / (√(sq − ga²) + eps) */
    double g = 2.0, sq = 0.1 * g * g, ga = 0.1 * g;
    double buf = g / (sqrt(sq - ga * ga) + 1e-8), w1 = 1.0 - 0.01 * buf;
    g = 2.0 * w1;
    sq = 0.9 * sq + 0.1 * g * g;
    ga = 0.9 * ga + 0.1 * g;
    buf = 0.5 * buf + g / (sqrt(sq - ga * ga) + 1e-8);
    expect_w("rmsprop", w, w1, w1 - 0.01 * buf);
}

/* The μ schedule and its running product (kept on the device), with L2 weight decay. */
static void test_nadam_by_hand(void **state)
{
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_NADAM);
    cfg.learning_rate = 0.01f;
    cfg.weight_decay = 0.1f;
    float w[2];
    two_steps(*state, cfg, w);
    const double b1 = 0.9, b2 = 0.999, lr = 0.01;
    double mu[4]; /* mu[t] of step t = 1, 2, 3 */
    for (int t = 1; t <= 3; t++) mu[t] = b1 * (1.0 - 0.5 * pow(0.96, t * 4e-3));
    /* step 1: d = 2w + 0.1w; m = 0.1·d, v = 0.001·d², so √(v / (1 − b2)) = |d|. The momentum
     * gradient's weight lr·(1 − μ1) / (1 − μ1) is lr; the momentum term's denominator counts
     * μ_t twice, as PyTorch 1.13 (the reference vectors) does. */
    double d = 2.1, m = (1 - b1) * d, v = (1 - b2) * d * d, den = fabs(d) + 1e-8;
    double w1 = 1.0 - lr * d / den - lr * mu[2] / (1 - mu[1] * mu[1] * mu[2]) * m / den;
    d = 2.1 * w1;
    m = b1 * m + (1 - b1) * d;
    v = b2 * v + (1 - b2) * d * d;
    den = sqrt(v / (1 - b2 * b2)) + 1e-8;
    double prod = mu[1] * mu[2];
    double w2 = w1 - lr * (1 - mu[2]) / (1 - prod) * d / den - lr * mu[3] / (1 - prod * mu[2] * mu[3]) * m / den;
    expect_w("nadam", w, w1, w2);
}

/* The accumulator starts at initial_accumulator_value; the rate decays with the step. */
static void test_adagrad_by_hand(void **state)
{
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_ADAGRAD);
    cfg.learning_rate = 0.1f;
    cfg.lr_decay = 0.1f;
    cfg.initial_accumulator_value = 0.5f;
    float w[2];
    two_steps(*state, cfg, w);
    double g = 2.0, sum = 0.5 + g * g, w1 = 1.0 - 0.1 * g / (sqrt(sum) + 1e-10);
    g = 2.0 * w1;
    sum += g * g;
    expect_w("adagrad", w, w1, w1 - 0.1 / 1.1 * g / (sqrt(sum) + 1e-10));
}

static void test_dynamic_batch(void **state)
{
    ig_ctx *ctx = *state;
    ig_model *m = mlp(ctx, 3);
    ig_trainer *t = trainer(m, IG_OPT_ADAM, 1e-3f, 0);
    ig_tensor *x32, *y32, *x7, *y7;
    classification_batch(ctx, 32, 1, &x32, &y32);
    classification_batch(ctx, 7, 2, &x7, &y7);
    ig_memory_stats s0, s1, s2;
    float loss;
    OK(ig_train_batch(t, x32, y32, &loss));
    OK(ig_memory_stats_get(ctx, &s0));
    OK(ig_train_batch(t, x32, y32, &loss));
    OK(ig_memory_stats_get(ctx, &s1));
    assert_int_equal(s1.device_in_use, s0.device_in_use);
    OK(ig_train_batch(t, x7, y7, &loss));
    assert_true(isfinite(loss));
    OK(ig_memory_stats_get(ctx, &s2));
    assert_true(s2.device_in_use > s1.device_in_use); /* a second program */
    OK(ig_train_batch(t, x32, y32, &loss));
    OK(ig_train_batch(t, x7, y7, &loss));
    OK(ig_memory_stats_get(ctx, &s1));
    assert_int_equal(s1.device_in_use, s2.device_in_use);
    assert_int_equal(ig_trainer_step_count(t), 5);

    /* more sizes than the program cache holds: old ones are rebuilt when met again */
    for (int64_t n = 1; n <= 6; n++) {
        ig_tensor *x, *y;
        classification_batch(ctx, n, 10 + (uint64_t)n, &x, &y);
        OK(ig_train_batch(t, x, y, &loss));
        ig_tensor_release(x);
        ig_tensor_release(y);
    }
    OK(ig_train_batch(t, x32, y32, &loss));
    assert_int_equal(ig_trainer_step_count(t), 12);

    /* a batch's mean loss is the mean of its samples' losses, whatever the batch size */
    ig_eval_result whole;
    OK(ig_eval_batch(t, x7, y7, &whole));
    assert_int_equal(whole.count, 7);
    double sum = 0;
    int64_t hits = 0;
    const float *xd = ig_tensor_data_const(x7);
    const int32_t *yd = ig_tensor_data_const(y7);
    ig_tensor *p7;
    OK(ig_predict(m, x7, &p7));
    assert_int_equal(ig_tensor_dim(p7, 0), 7);
    assert_int_equal(ig_tensor_dim(p7, 1), C);
    for (int64_t i = 0; i < 7; i++) {
        ig_tensor *xi, *yi, *pi;
        OK(ig_tensor_from_data(ctx, IG_F32, (int64_t[]){1, 1, 4, 4}, 4, xd + i * D, D * sizeof(float), &xi));
        OK(ig_tensor_from_data(ctx, IG_I32, (int64_t[]){1}, 1, yd + i, sizeof(int32_t), &yi));
        ig_eval_result one;
        OK(ig_eval_batch(t, xi, yi, &one));
        assert_int_equal(one.count, 1);
        sum += one.loss;
        hits += one.correct;
        OK(ig_predict(m, xi, &pi));
        for (int c = 0; c < C; c++)
            assert_float_equal(((const float *)ig_tensor_data_const(pi))[c],
                               ((const float *)ig_tensor_data_const(p7))[i * C + c], 1e-5);
        ig_tensor_release(xi);
        ig_tensor_release(yi);
        ig_tensor_release(pi);
    }
    assert_float_equal(whole.loss, sum / 7, 1e-5);
    assert_int_equal(whole.correct, hits);
    ig_tensor_release(p7);
    ig_tensor_release(x32);
    ig_tensor_release(y32);
    ig_tensor_release(x7);
    ig_tensor_release(y7);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
}

/* Plain SGD moves every parameter by lr·grad: with identical models and batches, the step
 * taken after raising one trainer's rate 4x is 4x the other's, up to the rounding of p − lr·g
 * (lr a power of two, so lr·g itself is exact). The program is already compiled when the
 * rate changes: the new rate reaches it without a rebuild. */
static void test_set_learning_rate(void **state)
{
    ig_ctx *ctx = *state;
    ig_model *m[2] = {mlp(ctx, 4), mlp(ctx, 4)};
    ig_trainer *t[2] = {trainer(m[0], IG_OPT_SGD, 0.125f, 0), trainer(m[1], IG_OPT_SGD, 0.125f, 0)};
    ig_tensor *x, *y;
    classification_batch(ctx, 32, 5, &x, &y);
    for (int k = 0; k < 2; k++) OK(ig_train_batch(t[k], x, y, NULL));
    int64_t n;
    float *p0 = params_of(m[0], &n);
    ig_memory_stats before, after;
    OK(ig_memory_stats_get(ctx, &before));
    OK(ig_trainer_set_learning_rate(t[1], 0.5f));
    assert_true(ig_trainer_learning_rate(t[1]) == 0.5f);
    assert_true(ig_trainer_learning_rate(t[0]) == 0.125f);
    for (int k = 0; k < 2; k++) OK(ig_train_batch(t[k], x, y, NULL));
    OK(ig_memory_stats_get(ctx, &after));
    assert_int_equal(after.device_in_use, before.device_in_use); /* no new program */
    float *p1 = params_of(m[0], &n), *p2 = params_of(m[1], &n);
    int moved = 0;
    for (int64_t i = 0; i < n; i++) {
        double d1 = (double)p0[i] - p1[i], d2 = (double)p0[i] - p2[i];
        double ulp = FLT_EPSILON * fmax(fabs(p0[i]), fmax(fabs(p1[i]), fabs(p2[i])));
        if (fabs(d2 - 4 * d1) > 3 * ulp)
            fail_msg("parameter %lld: step %.9g at lr 0.5, %.9g at lr 0.125", (long long)i, d2, d1);
        moved += d1 != 0;
    }
    assert_true(moved > n / 2);
    assert_int_equal(ig_trainer_step_count(t[0]), 2);
    assert_int_equal(ig_trainer_step_count(t[1]), 2);
    free(p0);
    free(p1);
    free(p2);
    ig_tensor_release(x);
    ig_tensor_release(y);
    for (int k = 0; k < 2; k++) {
        ig_trainer_destroy(t[k]);
        ig_model_destroy(m[k]);
    }
}

/* Identically seeded models trained on the same batches end bit-identical. */
static void test_determinism(void **state)
{
    ig_ctx *ctx = *state;
    const ig_optimizer opts[3] = {IG_OPT_SGD, IG_OPT_ADAM, IG_OPT_ADAMW};
    for (int o = 0; o < 3; o++) {
        float *p[2];
        int64_t n;
        for (int k = 0; k < 2; k++) {
            ig_model *m = mlp(ctx, 6);
            ig_trainer *t = trainer(m, opts[o], 1e-2f, opts[o] == IG_OPT_SGD ? 0.9f : 0.0f);
            float first, last;
            train(ctx, t, 20, 300, &first, &last);
            p[k] = params_of(m, &n);
            ig_trainer_destroy(t);
            ig_model_destroy(m);
        }
        assert_memory_equal(p[0], p[1], (size_t)n * sizeof(float));
        free(p[0]);
        free(p[1]);
    }
}

/* dense(1→16) → tanh → dense(16→1), MSE: fits y = sin(2x) on [-1.5, 1.5]. */
static void test_mse_regression(void **state)
{
    ig_ctx *ctx = *state;
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){64, 1}, 2, &m));
    ig_value v = ig_dense(m, ig_model_input(m), 16, true, "fc1");
    v = ig_tanh(m, v, "tanh1");
    ig_dense(m, v, 1, true, "fc2");
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.loss = IG_LOSS_MSE;
    cfg.learning_rate = 2e-2f;
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    ig_tensor *x, *y;
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){64, 1}, 2, &x));
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){64, 1}, 2, &y));
    float *xd = ig_tensor_data(x), *yd = ig_tensor_data(y), first = 0, loss = 0;
    for (int s = 0; s < 600; s++) {
        for (int i = 0; i < 64; i++) {
            xd[i] = 3.0f * urand(400 + (uint64_t)s, (uint64_t)i) - 1.5f;
            yd[i] = sinf(2.0f * xd[i]);
        }
        OK(ig_train_batch(t, x, y, &loss));
        if (s == 0) first = loss;
    }
    /* held out: a grid */
    for (int i = 0; i < 64; i++) {
        xd[i] = -1.5f + 3.0f * (float)i / 63.0f;
        yd[i] = sinf(2.0f * xd[i]);
    }
    ig_eval_result r;
    OK(ig_eval_batch(t, x, y, &r));
    print_message("mse: %.4f -> %.5f (held-out %.5f)\n", first, loss, r.loss);
    assert_int_equal(r.correct, 0);
    assert_true(r.loss < 0.01f);
    assert_true(r.loss < 0.05f * first);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
}

/* ig_eval_batch's hit count is the arg-max count of ig_predict's output, and its loss the
 * mean cross-entropy of those outputs. */
static void test_eval_matches_predict(void **state)
{
    ig_ctx *ctx = *state;
    ig_model *m = mlp(ctx, 7);
    ig_trainer *t = trainer(m, IG_OPT_ADAM, 1e-2f, 0); /* untrained: some right, most wrong */
    ig_tensor *x, *y, *out;
    classification_batch(ctx, 100, 600, &x, &y);
    ig_eval_result r;
    OK(ig_eval_batch(t, x, y, &r));
    OK(ig_predict(m, x, &out));
    const float *o = ig_tensor_data_const(out);
    const int32_t *yd = ig_tensor_data_const(y);
    int64_t hits = 0;
    double ce = 0;
    for (int i = 0; i < 100; i++) {
        const float *row = o + i * C;
        int best = 0;
        for (int c = 1; c < C; c++)
            if (row[c] > row[best]) best = c;
        hits += best == yd[i];
        double z = 0;
        for (int c = 0; c < C; c++) z += exp((double)row[c] - row[best]);
        ce += log(z) + row[best] - row[yd[i]];
    }
    print_message("untrained: %lld of 100 right, loss %.4f\n", (long long)r.correct, r.loss);
    assert_int_equal(r.count, 100);
    assert_int_equal(r.correct, hits);
    assert_true(hits > 0 && hits < 100);
    assert_float_equal(r.loss, ce / 100, 1e-5);
    ig_tensor_release(out);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
}

static void test_seeds(void **state)
{
    ig_ctx *ctx = *state;
    ig_model *a = mlp(ctx, 11), *b = mlp(ctx, 11), *c = mlp(ctx, 12);
    int64_t n;
    float *pa = params_of(a, &n), *pb = params_of(b, &n), *pc = params_of(c, &n);
    assert_memory_equal(pa, pb, (size_t)n * sizeof *pa);
    int same = 0;
    for (int64_t i = 0; i < n; i++) same += pa[i] == pc[i];
    assert_true(same < n / 100);
    free(pa);
    free(pb);
    free(pc);
    ig_model_destroy(a);
    ig_model_destroy(b);
    ig_model_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mlp_converges, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_optimizers_decrease_loss, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_rmsprop_centered_momentum_by_hand, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_nadam_by_hand, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_adagrad_by_hand, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_dynamic_batch, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_set_learning_rate, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_determinism, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_mse_regression, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_eval_matches_predict, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_seeds, setup_cpu_ctx, teardown_ctx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
