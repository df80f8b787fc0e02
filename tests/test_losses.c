/* test_losses.c — every loss through the trainer: training decreases it, accuracy is what the
 * predictions say, label smoothing against its closed form, bad targets and settings refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { N = 64, F = 4, C = 3, R = 2 };

/* splitmix64: the data are a pure function of (seed, index) */
static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static float upm1(uint64_t seed, uint64_t i) { return (float)(mix(seed * 0x100000001B3ull + i) >> 40) / 8388608.0f - 1.0f; }

/* The teacher: C rows of F weights; classes, the binary label and regression targets are
 * functions of A·x. */
static float teacher(int k, const float *x)
{
    float s = 0;
    for (int j = 0; j < F; j++) s += upm1(99, (uint64_t)(k * F + j)) * x[j];
    return s;
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int j = 1; j < n; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

typedef struct loss_case {
    const char *name;
    ig_loss loss;
    float smoothing, delta;
} loss_case;

static const loss_case cases[] = {
    {"sparse_cross_entropy", IG_LOSS_SPARSE_CROSS_ENTROPY, 0, 1},
    {"sparse_ce_smoothed", IG_LOSS_SPARSE_CROSS_ENTROPY, 0.1f, 1},
    {"cross_entropy", IG_LOSS_CROSS_ENTROPY, 0, 1},
    {"cross_entropy_smoothed", IG_LOSS_CROSS_ENTROPY, 0.1f, 1},
    {"binary_cross_entropy", IG_LOSS_BINARY_CROSS_ENTROPY, 0, 1},
    {"bce_with_logits", IG_LOSS_BCE_WITH_LOGITS, 0, 1},
    {"mse", IG_LOSS_MSE, 0, 1},
    {"mae", IG_LOSS_MAE, 0, 1},
    {"huber", IG_LOSS_HUBER, 0, 1},
    {"huber_small_delta", IG_LOSS_HUBER, 0, 0.1f},
};

static bool is_ce(ig_loss l) { return l == IG_LOSS_SPARSE_CROSS_ENTROPY || l == IG_LOSS_CROSS_ENTROPY; }
static bool is_binary(ig_loss l) { return l == IG_LOSS_BINARY_CROSS_ENTROPY || l == IG_LOSS_BCE_WITH_LOGITS; }
static int outputs_of(ig_loss l) { return is_ce(l) ? C : is_binary(l) ? 1 : R; }

/* x [n, F] and the loss's target for it. */
static void make_batch(ig_ctx *ctx, ig_loss l, int64_t n, uint64_t seed, ig_tensor **x, ig_tensor **y)
{
    int o = outputs_of(l);
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){n, F}, 2, x));
    if (l == IG_LOSS_SPARSE_CROSS_ENTROPY) OK(ig_tensor_create(ctx, IG_I32, (int64_t[]){n}, 1, y));
    else OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){n, o}, 2, y));
    float *xd = ig_tensor_data(*x), *yf = ig_tensor_data(*y);
    for (int64_t i = 0; i < n; i++) {
        float *xr = xd + i * F, z[C];
        for (int j = 0; j < F; j++) xr[j] = upm1(seed, (uint64_t)(i * F + j));
        for (int k = 0; k < C; k++) z[k] = teacher(k, xr);
        if (l == IG_LOSS_SPARSE_CROSS_ENTROPY) ((int32_t *)ig_tensor_data(*y))[i] = argmax(z, C);
        else if (l == IG_LOSS_CROSS_ENTROPY)
            for (int k = 0; k < C; k++) yf[i * C + k] = k == argmax(z, C);
        else if (l == IG_LOSS_BCE_WITH_LOGITS) yf[i] = z[0] > 0;
        else if (l == IG_LOSS_BINARY_CROSS_ENTROPY) yf[i] = 0.5f + 0.35f * tanhf(2.0f * z[0]); /* soft, in (0, 1) */
        else
            for (int k = 0; k < R; k++) yf[i * R + k] = z[k] + 0.1f;
    }
}

/* dense(F → the loss's outputs): a linear model. For BCE on probabilities it starts at
 * weights 0 and bias 0.5, so that its outputs start inside (0, 1). */
static ig_model *linear_model(ig_ctx *ctx, ig_loss l)
{
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){N, F}, 2, &m));
    ig_dense(m, ig_model_input(m), outputs_of(l), true, "fc");
    OK(ig_model_status(m));
    if (l == IG_LOSS_BINARY_CROSS_ENTROPY) {
        float w[F] = {0}, b = 0.5f;
        OK(ig_model_param_set(m, ig_model_param_index(m, "fc.weight"), w, F));
        OK(ig_model_param_set(m, ig_model_param_index(m, "fc.bias"), &b, 1));
    }
    return m;
}

static ig_trainer_config config(const loss_case *c)
{
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.loss = c->loss;
    cfg.label_smoothing = c->smoothing;
    cfg.huber_delta = c->delta;
    cfg.learning_rate = 1e-2f;
    return cfg;
}

/* The least loss a model can reach: 0, but for BCE against soft targets, their mean entropy. */
static double loss_floor(ig_loss l, const ig_tensor *y, int64_t n)
{
    if (l != IG_LOSS_BINARY_CROSS_ENTROPY) return 0;
    const float *t = ig_tensor_data_const(y);
    double h = 0;
    for (int64_t i = 0; i < n; i++) h -= (t[i] * log(t[i]) + (1 - t[i]) * log(1 - t[i])) / (double)n;
    return h;
}

/* Samples right by the documented rule, from the model's predictions. */
static int64_t host_correct(ig_loss l, const ig_tensor *out, const ig_tensor *y, int64_t n)
{
    const float *o = ig_tensor_data_const(out), *t = ig_tensor_data_const(y);
    int64_t hits = 0;
    for (int64_t i = 0; i < n; i++) {
        if (l == IG_LOSS_SPARSE_CROSS_ENTROPY) hits += argmax(o + i * C, C) == ((const int32_t *)t)[i];
        else if (l == IG_LOSS_CROSS_ENTROPY) hits += argmax(o + i * C, C) == argmax(t + i * C, C);
        else if (is_binary(l)) hits += (o[i] > (l == IG_LOSS_BCE_WITH_LOGITS ? 0.0f : 0.5f)) == (t[i] > 0.5f);
    }
    return hits;
}

static void test_training_decreases_each_loss(void **state)
{
    ig_ctx *ctx = *state;
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        const loss_case *c = &cases[k];
        ig_model *m = linear_model(ctx, c->loss);
        ig_trainer_config cfg = config(c);
        ig_trainer *t;
        OK(ig_trainer_create(m, &cfg, &t));
        ig_tensor *x, *y, *out;
        make_batch(ctx, c->loss, N, 1, &x, &y);
        float first = 0, last = 0;
        for (int s = 0; s < 300; s++) {
            OK(ig_train_batch(t, x, y, &last));
            if (s == 0) first = last;
        }
        ig_eval_result r;
        OK(ig_eval_batch(t, x, y, &r));
        OK(ig_predict(m, x, &out));
        int64_t want = host_correct(c->loss, out, y, N);
        double floor = loss_floor(c->loss, y, N);
        print_message("%-24s %.4f -> %.4f (floor %.4f), %lld/%d right\n", c->name, first, last, floor,
                      (long long)r.correct, N);
        assert_true(isfinite(first) && isfinite(last));
        assert_true(last - floor < 0.6 * (first - floor));
        assert_int_equal(r.count, N);
        assert_int_equal(r.correct, want);
        if (is_ce(c->loss) || is_binary(c->loss)) assert_true(r.correct >= N * 8 / 10);
        ig_tensor_release(out);
        ig_tensor_release(x);
        ig_tensor_release(y);
        ig_trainer_destroy(t);
        ig_model_destroy(m);
    }
}

/* ---------------------------------------------------------------- label smoothing */

enum { SB = 2, SF = 2 };
static const float W0[C * SF] = {0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f};
static const float X0[SB * SF] = {1.0f, 2.0f, -0.5f, 0.3f};
static const int32_t LAB[SB] = {0, 2};
static const float EPS = 0.1f;

static ig_model *smoothing_model(ig_ctx *ctx)
{
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){SB, SF}, 2, &m));
    ig_dense(m, ig_model_input(m), C, false, "fc");
    OK(ig_model_status(m));
    OK(ig_model_param_set(m, 0, W0, C * SF));
    return m;
}

/* Closed forms for targets t (rows of C) smoothed to (1 − ε)·t + ε/C: the loss
 * mean_r Σ_j t'_j·(lse_r − z_rj) and one SGD step of rate 1 on W: W − mean_r (softmax_r − t'_r)·x_rᵀ. */
static double smoothed_closed_form(const double *t, float *w_after)
{
    double loss = 0;
    for (int j = 0; j < C * SF; j++) w_after[j] = W0[j];
    for (int r = 0; r < SB; r++) {
        double z[C], mx = -INFINITY, sum = 0;
        for (int k = 0; k < C; k++) {
            z[k] = 0;
            for (int j = 0; j < SF; j++) z[k] += (double)W0[k * SF + j] * X0[r * SF + j];
            mx = fmax(mx, z[k]);
        }
        for (int k = 0; k < C; k++) sum += exp(z[k] - mx);
        double lse = mx + log(sum);
        for (int k = 0; k < C; k++) {
            double ts = (1.0 - EPS) * t[r * C + k] + EPS / C;
            loss += ts * (lse - z[k]) / SB;
            for (int j = 0; j < SF; j++)
                w_after[k * SF + j] -= (float)((exp(z[k] - lse) - ts) * X0[r * SF + j] / SB);
        }
    }
    return loss;
}

static void check_smoothed(ig_ctx *ctx, ig_loss l, const void *target, const double *t)
{
    ig_model *m = smoothing_model(ctx);
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.loss = l;
    cfg.label_smoothing = EPS;
    cfg.optimizer = IG_OPT_SGD;
    cfg.learning_rate = 1.0f;
    ig_trainer *tr;
    OK(ig_trainer_create(m, &cfg, &tr));
    ig_tensor *x, *y;
    OK(ig_tensor_from_data(ctx, IG_F32, (int64_t[]){SB, SF}, 2, X0, sizeof X0, &x));
    if (l == IG_LOSS_SPARSE_CROSS_ENTROPY) OK(ig_tensor_from_data(ctx, IG_I32, (int64_t[]){SB}, 1, target, sizeof LAB, &y));
    else OK(ig_tensor_from_data(ctx, IG_F32, (int64_t[]){SB, C}, 2, target, SB * C * sizeof(float), &y));
    float w_want[C * SF], w_got[C * SF], loss;
    double want = smoothed_closed_form(t, w_want);
    OK(ig_train_batch(tr, x, y, &loss));
    OK(ig_model_param_get(m, 0, w_got, C * SF));
    print_message("smoothed %s: loss %.7f, closed form %.7f\n", l == IG_LOSS_CROSS_ENTROPY ? "dense" : "sparse", loss, want);
    assert_true(fabs(loss - want) <= 1e-6 * fabs(want));
    for (int j = 0; j < C * SF; j++) assert_true(fabsf(w_got[j] - w_want[j]) <= 1e-6f);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_trainer_destroy(tr);
    ig_model_destroy(m);
}

static void test_label_smoothing_closed_form(void **state)
{
    ig_ctx *ctx = *state;
    double onehot[SB * C] = {0};
    float onehot_f[SB * C] = {0};
    for (int r = 0; r < SB; r++) onehot[r * C + LAB[r]] = onehot_f[r * C + LAB[r]] = 1;
    check_smoothed(ctx, IG_LOSS_SPARSE_CROSS_ENTROPY, LAB, onehot);
    check_smoothed(ctx, IG_LOSS_CROSS_ENTROPY, onehot_f, onehot);
    const float probs_f[SB * C] = {0.2f, 0.5f, 0.3f, 0.6f, 0.0f, 0.4f};
    double probs[SB * C];
    for (int j = 0; j < SB * C; j++) probs[j] = probs_f[j];
    check_smoothed(ctx, IG_LOSS_CROSS_ENTROPY, probs_f, probs);
}

/* ---------------------------------------------------------------- refusals */

static void expect_create_error(ig_ctx *ctx, ig_trainer_config cfg, const char *needle)
{
    ig_model *m = linear_model(ctx, cfg.loss);
    ig_trainer *t = NULL;
    ig_status s = ig_trainer_create(m, &cfg, &t);
    print_message("refused: %s\n", ig_last_error());
    assert_int_equal(s, IG_ERR_INVALID_ARGUMENT);
    assert_null(t);
    assert_non_null(strstr(ig_last_error(), needle));
    ig_model_destroy(m);
}

static void test_bad_settings(void **state)
{
    ig_ctx *ctx = *state;
    ig_trainer_config cfg = ig_trainer_defaults();
    assert_true(cfg.huber_delta == 1.0f && cfg.label_smoothing == 0.0f);
    cfg.loss = IG_LOSS_HUBER;
    float deltas[] = {0.0f, -1.0f, NAN};
    for (int i = 0; i < 3; i++) {
        cfg.huber_delta = deltas[i];
        expect_create_error(ctx, cfg, "huber_delta");
    }
    cfg = ig_trainer_defaults();
    float eps[] = {1.0f, -0.1f, NAN};
    for (int i = 0; i < 3; i++) {
        cfg.loss = i ? IG_LOSS_CROSS_ENTROPY : IG_LOSS_SPARSE_CROSS_ENTROPY;
        cfg.label_smoothing = eps[i];
        expect_create_error(ctx, cfg, "label_smoothing");
    }
    cfg.loss = IG_LOSS_MSE;
    cfg.label_smoothing = 0.1f;
    expect_create_error(ctx, cfg, "cross-entropy losses only");
    cfg = ig_trainer_defaults();
    cfg.loss = (ig_loss)99;
    expect_create_error(ctx, cfg, "unknown loss");
}

/* One batch of the loss's trainer with target y; the error's status and a piece of its message. */
static void expect_batch_error(ig_ctx *ctx, ig_loss l, ig_tensor *y, ig_status want, const char *needle)
{
    ig_model *m = linear_model(ctx, l);
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.loss = l;
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    ig_tensor *x;
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){8, F}, 2, &x));
    ig_status s = ig_train_batch(t, x, y, NULL);
    print_message("refused: %s\n", ig_last_error());
    assert_int_equal(s, want);
    assert_non_null(strstr(ig_last_error(), needle));
    assert_int_equal(ig_trainer_step_count(t), 0);
    ig_tensor_release(x);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
}

static void test_bad_targets(void **state)
{
    ig_ctx *ctx = *state;
    ig_tensor *labels, *wide, *probs, *col;
    OK(ig_tensor_create(ctx, IG_I32, (int64_t[]){8}, 1, &labels));
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){8, C + 1}, 2, &wide));
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){8, C}, 2, &probs));
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){8, 1}, 2, &col));
    /* dtype and shape, named in the message */
    expect_batch_error(ctx, IG_LOSS_CROSS_ENTROPY, labels, IG_ERR_SHAPE, "must be f32 [8, 3]");
    expect_batch_error(ctx, IG_LOSS_CROSS_ENTROPY, wide, IG_ERR_SHAPE, "got f32 [8, 4]");
    expect_batch_error(ctx, IG_LOSS_SPARSE_CROSS_ENTROPY, probs, IG_ERR_SHAPE, "must be i32 [8]");
    expect_batch_error(ctx, IG_LOSS_MAE, labels, IG_ERR_SHAPE, "got i32 [8]");
    expect_batch_error(ctx, IG_LOSS_HUBER, probs, IG_ERR_SHAPE, "must be f32 [8, 2]");
    expect_batch_error(ctx, IG_LOSS_BINARY_CROSS_ENTROPY, probs, IG_ERR_SHAPE, "must be f32 [8, 1]");
    /* binary targets outside [0, 1], with the sample named */
    float bad[] = {1.5f, -0.1f, NAN};
    for (int i = 0; i < 3; i++) {
        float *v = ig_tensor_data(col);
        for (int j = 0; j < 8; j++) v[j] = j & 1;
        v[5] = bad[i];
        expect_batch_error(ctx, i == 1 ? IG_LOSS_BCE_WITH_LOGITS : IG_LOSS_BINARY_CROSS_ENTROPY, col,
                           IG_ERR_INVALID_ARGUMENT, "sample 5");
    }
    ig_tensor_release(labels);
    ig_tensor_release(wide);
    ig_tensor_release(probs);
    ig_tensor_release(col);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_training_decreases_each_loss, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_label_smoothing_closed_form, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_bad_settings, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_bad_targets, setup_cpu_ctx, teardown_ctx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
