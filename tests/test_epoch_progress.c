/* test_epoch_progress.c — what the ingot tool's progress and summary stand on: ig_train_epoch's
 * progress callback (when it is called, and that losses read inside it are the steps' own),
 * ig_trainer_learning_rate_at, and ig_model_layer_info. */
#include <ingot.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#define OK(call) assert_int_equal((call), IG_OK)

enum { N = 100, IN = 6, CLASSES = 3, BATCH = 16 };

typedef struct calls {
    ig_trainer *t;
    int64_t first, done[16], total[16];
    float loss[N];
    int n;
} calls;

static void record(void *user, int64_t done, int64_t total)
{
    calls *c = user;
    c->done[c->n] = done;
    c->total[c->n++] = total;
    /* the losses of every step queued so far can be read here */
    assert_int_equal(ig_trainer_step_count(c->t), c->first + done);
    OK(ig_trainer_losses(c->t, c->first, done, c->loss));
}

static ig_dataset *dataset(ig_ctx *ctx)
{
    float x[N * IN];
    int32_t y[N];
    for (int i = 0; i < N * IN; i++) x[i] = (float)((i * 37) % 11) / 11.0f - 0.5f;
    for (int i = 0; i < N; i++) y[i] = i % CLASSES;
    ig_tensor *tx, *ty;
    OK(ig_tensor_from_data(ctx, IG_F32, (int64_t[]){N, IN}, 2, x, sizeof x, &tx));
    OK(ig_tensor_from_data(ctx, IG_I32, (int64_t[]){N}, 1, y, sizeof y, &ty));
    ig_dataset *ds;
    OK(ig_dataset_create(ctx, tx, ty, &ds));
    ig_tensor_release(tx);
    ig_tensor_release(ty);
    return ds;
}

static ig_model *model(ig_ctx *ctx)
{
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){BATCH, IN}, 2, &m));
    ig_value v = ig_relu(m, ig_dense(m, ig_model_input(m), 5, true, "fc1"), "act");
    ig_dense(m, v, CLASSES, true, "fc2");
    return m;
}

static void test_progress(void **state)
{
    ig_ctx *ctx;
    OK(ig_ctx_create(IG_DEVICE_CPU, &ctx));
    ig_dataset *ds = dataset(ctx);
    ig_model *m = model(ctx);
    ig_trainer_config cfg = ig_trainer_defaults();
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    ig_epoch_config ep = ig_epoch_defaults();
    ep.batch_size = BATCH;
    calls c = {.t = t};
    ep.progress = record;
    ep.progress_user = &c;
    ep.progress_every = 3;
    int64_t steps;
    OK(ig_train_epoch(t, ds, &ep, &steps));
    /* 7 steps (6 of 16 and one of 4): called after steps 3 and 6 and after the last */
    assert_int_equal(steps, 7);
    assert_int_equal(c.n, 3);
    int64_t want[] = {3, 6, 7};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(c.done[i], want[i]);
        assert_int_equal(c.total[i], 7);
    }
    float after[7];
    OK(ig_trainer_losses(t, 0, 7, after));
    assert_memory_equal(after, c.loss, sizeof after);
    /* progress_every below 1 counts as 1: a call per step */
    c.n = 0;
    c.first = ig_trainer_step_count(t);
    ep.progress_every = 0;
    OK(ig_train_epoch(t, ds, &ep, NULL));
    assert_int_equal(c.n, 7);
    assert_int_equal(c.done[6], 7);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_dataset_destroy(ds);
    ig_ctx_destroy(ctx);
}

static void test_learning_rate_at(void **state)
{
    ig_ctx *ctx;
    OK(ig_ctx_create(IG_DEVICE_CPU, &ctx));
    ig_model *m = model(ctx);
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_SGD);
    cfg.learning_rate = 0.4f;
    cfg.schedule.kind = IG_SCHEDULE_STEP;
    cfg.schedule.step_size = 2;
    cfg.schedule.gamma = 0.5f;
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    assert_float_equal(ig_trainer_learning_rate_at(t, 0), 0.4f, 1e-7);
    assert_float_equal(ig_trainer_learning_rate_at(t, 1), 0.4f, 1e-7);
    assert_float_equal(ig_trainer_learning_rate_at(t, 2), 0.2f, 1e-7);
    assert_float_equal(ig_trainer_learning_rate_at(t, 5), 0.1f, 1e-7);
    assert_float_equal(ig_trainer_learning_rate_at(t, 0), ig_trainer_current_learning_rate(t), 0);
    assert_float_equal(ig_trainer_learning_rate_at(t, -1), 0.0f, 0);
    assert_float_equal(ig_trainer_learning_rate_at(NULL, 1), 0.0f, 0);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_ctx_destroy(ctx);
}

static void test_layer_info(void **state)
{
    ig_ctx *ctx;
    OK(ig_ctx_create(IG_DEVICE_CPU, &ctx));
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){8, 2, 3, 3}, 4, &m));
    ig_value v = ig_flatten(m, ig_model_input(m), "flat");
    v = ig_batchnorm(m, v, 0.1f, 1e-5f, "bn");
    ig_dense(m, v, 4, true, "fc");
    assert_int_equal(ig_model_layer_count(m), 3);
    ig_layer_info l;
    OK(ig_model_layer_info(m, 0, &l));
    assert_string_equal(l.name, "flat");
    assert_int_equal(l.ndim, 2);
    assert_int_equal(l.shape[1], 18);
    assert_int_equal(l.activation_bytes, 0); /* a view of its input */
    OK(ig_model_layer_info(m, 1, &l));
    assert_string_equal(l.kind, "batchnorm");
    assert_int_equal(l.params, 2 * 18); /* gamma and beta; the running statistics are buffers */
    assert_true(l.activation_bytes >= 8 * 18 * 4);
    OK(ig_model_layer_info(m, 2, &l));
    assert_string_equal(l.name, "fc");
    assert_string_equal(l.kind, "dense");
    assert_int_equal(l.params, 18 * 4 + 4);
    assert_int_equal(l.activation_bytes, 8 * 4 * 4);
    assert_true(l.flops >= 2.0 * 8 * 18 * 4);
    assert_int_equal(ig_model_layer_info(m, 3, &l), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_model_layer_info(m, -1, &l), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_model_layer_info(NULL, 0, &l), IG_ERR_INVALID_ARGUMENT);
    char buf[2048];
    OK(ig_model_summary(m, buf, sizeof buf, NULL));
    assert_non_null(strstr(buf, "activations"));
    assert_non_null(strstr(buf, "128 B")); /* fc's output: 8 × 4 floats */
    ig_model_destroy(m);
    ig_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress),
        cmocka_unit_test(test_learning_rate_at),
        cmocka_unit_test(test_layer_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
