/* test_lbfgs.c — L-BFGS through ig_train_batch: convergence on a convex problem with and
 * without the strong-Wolfe line search, state carried from step to step, bad settings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N = 32, D = 4, H = 8, C = 3 };

static float urand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)(*s >> 40) / 16777216.0f - 0.5f;
}

/* x [N, D] uniform, y = x·w + 0.5 exactly: least squares reaches zero loss. */
static void regression_batch(ig_ctx *ctx, ig_tensor **x, ig_tensor **y)
{
    static const float w[D] = {1.5f, -2.0f, 0.25f, 3.0f};
    uint64_t s = 42;
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){N, D}, 2, x));
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){N, 1}, 2, y));
    float *xd = ig_tensor_data(*x), *yd = ig_tensor_data(*y);
    for (int i = 0; i < N; i++) {
        yd[i] = 0.5f;
        for (int j = 0; j < D; j++) yd[i] += w[j] * (xd[i * D + j] = 2 * urand(&s));
    }
}

static ig_model *linear(ig_ctx *ctx)
{
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){N, D}, 2, &m));
    ig_dense(m, ig_model_input(m), 1, true, "fc");
    OK(ig_model_status(m));
    return m;
}

static void converges(ig_ctx *ctx, ig_line_search ls)
{
    ig_tensor *x, *y;
    regression_batch(ctx, &x, &y);
    ig_model *m = linear(ctx);
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_LBFGS);
    cfg.loss = IG_LOSS_MSE;
    cfg.lbfgs_line_search = ls;
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    float loss[4];
    for (int s = 0; s < 4; s++) OK(ig_train_batch(t, x, y, &loss[s]));
    assert_int_equal(ig_trainer_step_count(t), 4);
    /* the losses reported are the ring's, and they are each step's first evaluation */
    float ring[4];
    OK(ig_trainer_losses(t, 0, 4, ring));
    assert_memory_equal(ring, loss, sizeof loss);
    assert_true(loss[0] > 1.0f);
    ig_eval_result r;
    OK(ig_eval_batch(t, x, y, &r));
    if (!(r.loss < 1e-8f)) fail_msg("loss %g after 4 steps (first %g)", r.loss, loss[0]);
    float w[D], b;
    OK(ig_model_param_get(m, 0, w, D));
    OK(ig_model_param_get(m, 1, &b, 1));
    assert_true(fabsf(w[3] - 3.0f) < 1e-3f && fabsf(b - 0.5f) < 1e-3f);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_tensor_release(x);
    ig_tensor_release(y);
}

static void test_converges_fixed_step(void **state) { converges(*state, IG_LINE_SEARCH_NONE); }
static void test_converges_strong_wolfe(void **state) { converges(*state, IG_LINE_SEARCH_STRONG_WOLFE); }

/* dense(8) → tanh → dense(3) classifying N random samples, every model with the same start */
static ig_model *mlp(ig_ctx *ctx)
{
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){N, D}, 2, &m));
    OK(ig_model_set_seed(m, 7));
    ig_value v = ig_dense(m, ig_model_input(m), H, true, "fc1");
    v = ig_tanh(m, v, "tanh");
    ig_dense(m, v, C, true, "fc2");
    OK(ig_model_status(m));
    return m;
}

static void classes_batch(ig_ctx *ctx, ig_tensor **x, ig_tensor **y)
{
    uint64_t s = 9;
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){N, D}, 2, x));
    OK(ig_tensor_create(ctx, IG_I32, (int64_t[]){N}, 1, y));
    float *xd = ig_tensor_data(*x);
    int32_t *yd = ig_tensor_data(*y);
    for (int i = 0; i < N * D; i++) xd[i] = 4 * urand(&s);
    for (int i = 0; i < N; i++) yd[i] = (int32_t)((urand(&s) + 0.5f) * C) % C;
}

/* Trains a fresh MLP with `steps` steps of max_iter iterations; returns fc1's weights. */
static void mlp_steps(ig_ctx *ctx, int steps, int max_iter, ig_line_search ls, float *w)
{
    ig_tensor *x, *y;
    classes_batch(ctx, &x, &y);
    ig_model *m = mlp(ctx);
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_LBFGS);
    cfg.lbfgs_max_iter = max_iter;
    cfg.lbfgs_max_eval = 100;
    cfg.lbfgs_history = 3;
    cfg.lbfgs_line_search = ls;
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    for (int s = 0; s < steps; s++) OK(ig_train_batch(t, x, y, NULL));
    OK(ig_model_param_get(m, 0, w, D * H));
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_tensor_release(x);
    ig_tensor_release(y);
}

/* Without a line search, a step's last iteration leaves its point to be evaluated by the
 * next step, so two steps of 3 iterations are one step of 6 exactly when the direction,
 * step length, history and previous gradient carry over; a restart would differ. */
static void test_state_persists(void **state)
{
    float two[D * H], one[D * H], first[D * H];
    mlp_steps(*state, 2, 3, IG_LINE_SEARCH_NONE, two);
    mlp_steps(*state, 1, 6, IG_LINE_SEARCH_NONE, one);
    mlp_steps(*state, 1, 3, IG_LINE_SEARCH_NONE, first);
    double diff = 0, moved = 0;
    for (int i = 0; i < D * H; i++) {
        diff = fmax(diff, fabs(two[i] - one[i]));
        moved = fmax(moved, fabs(two[i] - first[i]));
    }
    if (!(diff < 1e-6)) fail_msg("two steps of 3 iterations differ from one of 6 by %g", diff);
    assert_true(moved > 1e-3); /* the second step did move */
}

static void refused(ig_ctx *ctx, ig_trainer_config cfg, const char *words)
{
    ig_model *m = linear(ctx);
    ig_trainer *t = NULL;
    assert_int_equal(ig_trainer_create(m, &cfg, &t), IG_ERR_INVALID_ARGUMENT);
    assert_null(t);
    if (!strstr(ig_last_error(), words)) fail_msg("message '%s' lacks '%s'", ig_last_error(), words);
    ig_model_destroy(m);
}

static void test_bad_settings(void **state)
{
    const ig_trainer_config d = ig_trainer_defaults_for(IG_OPT_LBFGS);
    assert_true(d.learning_rate == 1.0f && d.lbfgs_max_iter == 20 && d.lbfgs_history == 100 &&
                d.lbfgs_max_eval == 0 && d.lbfgs_tolerance_grad == 1e-7f && d.lbfgs_tolerance_change == 1e-9f &&
                d.lbfgs_line_search == IG_LINE_SEARCH_NONE);
    ig_trainer_config c = d;
    c.lbfgs_history = 0;
    refused(*state, c, "L-BFGS history 0");
    c = d, c.lbfgs_max_iter = 0;
    refused(*state, c, "max_iter 0");
    c = d, c.lbfgs_max_eval = -1;
    refused(*state, c, "max_eval -1");
    c = d, c.lbfgs_tolerance_grad = -1;
    refused(*state, c, "tolerance_grad");
    c = d, c.lbfgs_tolerance_change = NAN;
    refused(*state, c, "tolerance_change");
    c = d, c.lbfgs_line_search = (ig_line_search)5;
    refused(*state, c, "line search 5");
    c = d, c.weight_decay = 0.1f;
    refused(*state, c, "weight_decay");
    c = d, c.max_grad_norm = 1;
    refused(*state, c, "max_grad_norm");
}

/* Epochs over a resident dataset run device steps back to back: refused, saying why. */
static void test_epoch_refused(void **state)
{
    ig_ctx *ctx = *state;
    ig_tensor *x, *y;
    classes_batch(ctx, &x, &y);
    ig_dataset *ds;
    OK(ig_dataset_create(ctx, x, y, &ds));
    ig_model *m = mlp(ctx);
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_LBFGS);
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    ig_epoch_config ep = ig_epoch_defaults();
    assert_int_equal(ig_train_epoch(t, ds, &ep, NULL), IG_ERR_UNSUPPORTED);
    assert_non_null(strstr(ig_last_error(), "L-BFGS"));
    ig_eval_result r; /* evaluation needs no optimizer and still works */
    OK(ig_evaluate(t, ds, 16, &r));
    assert_int_equal(r.count, N);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_dataset_destroy(ds);
    ig_tensor_release(x);
    ig_tensor_release(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_converges_fixed_step),
        cmocka_unit_test(test_converges_strong_wolfe),
        cmocka_unit_test(test_state_persists),
        cmocka_unit_test(test_bad_settings),
        cmocka_unit_test(test_epoch_refused),
    };
    return cmocka_run_group_tests(tests, setup_cpu_ctx, teardown_ctx);
}
