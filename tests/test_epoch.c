/* test_epoch.c — epochs over a dataset kept on the device (CPU backend here): the gathered,
 * shuffled batches of ig_train_epoch must train exactly as the same batches handed to
 * ig_train_batch; ig_evaluate must equal batch-wise evaluation; the loss ring must return
 * the losses of the steps; bad input must be refused with a clear error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include "core/core.h"
#include "ops/permute.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


enum { N = 100, D = 12, C = 3, BATCH = 32 };


static void make_data(ig_ctx *ctx, ig_tensor **x, ig_tensor **y)
{
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){N, D}, 2, x));
    OK(ig_tensor_create(ctx, IG_I32, (int64_t[]){N}, 1, y));
    float *xd = ig_tensor_data(*x);
    int32_t *yd = ig_tensor_data(*y);
    for (int i = 0; i < N; i++) {
        yd[i] = (int32_t)(ig_rng_u64(5, (uint64_t)i) % C);
        for (int j = 0; j < D; j++) xd[i * D + j] = ig_rng_uniform(6, (uint64_t)(i * D + j)) + (j % C == yd[i]);
    }
}

static ig_model *mlp(ig_ctx *ctx)
{
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){BATCH, D}, 2, &m));
    ig_value v = ig_relu(m, ig_dense(m, ig_model_input(m), 16, true, "fc1"), "relu1");
    ig_dense(m, v, C, true, "fc2");
    OK(ig_model_status(m));
    return m;
}

static ig_trainer *adam(ig_model *m)
{
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.learning_rate = 1e-2f;
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    return t;
}

static void test_permute_is_a_bijection(void **state)
{
    for (int64_t n = 1; n < 300; n += 7) {
        for (uint64_t key = 0; key < 4; key++) {
            bool *seen = calloc((size_t)n, 1);
            int64_t moved = 0;
            for (int64_t i = 0; i < n; i++) {
                int64_t p = ig_permute(i, n, key * 0x9E3779B97F4A7C15ull);
                assert_true(p >= 0 && p < n);
                assert_false(seen[p]);
                seen[p] = true;
                moved += p != i;
            }
            if (key == 0) assert_int_equal(moved, 0);
            else if (n > 10) assert_true(moved > n / 2);
            free(seen);
        }
    }
}

/* The batches an epoch gathers, handed in by hand: the same training, bit for bit. */
static void test_epoch_equals_manual_batches(void **state)
{
    ig_ctx *ctx = *state;
    ig_tensor *x, *y;
    make_data(ctx, &x, &y);
    ig_dataset *ds;
    OK(ig_dataset_create(ctx, x, y, &ds));
    assert_int_equal(ig_dataset_size(ds), N);
    assert_int_equal(ig_dataset_num_classes(ds), C);
    ig_model *ma = mlp(ctx), *mb = mlp(ctx);
    ig_trainer *ta = adam(ma), *tb = adam(mb);
    ig_epoch_config ep = ig_epoch_defaults();
    ep.batch_size = BATCH;
    ep.seed = 9;
    const float *xd = ig_tensor_data(x);
    const int32_t *yd = ig_tensor_data(y);
    float manual[8], ring[8];
    int step = 0;
    for (int64_t epoch = 0; epoch < 2; epoch++) {
        int64_t steps;
        OK(ig_train_epoch(ta, ds, &ep, &steps));
        assert_int_equal(steps, 4); /* 32, 32, 32 and the last 4 */
        uint64_t key = ig_rng_u64(ep.seed, (uint64_t)epoch) | 1;
        for (int64_t s = 0; s < steps; s++) {
            int64_t b = s < 3 ? BATCH : N - 3 * BATCH;
            ig_tensor *bx, *by;
            OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){b, D}, 2, &bx));
            OK(ig_tensor_create(ctx, IG_I32, (int64_t[]){b}, 1, &by));
            for (int64_t j = 0; j < b; j++) {
                int64_t src = ig_permute(s * BATCH + j, N, key);
                memcpy((float *)ig_tensor_data(bx) + j * D, xd + src * D, D * sizeof(float));
                ((int32_t *)ig_tensor_data(by))[j] = yd[src];
            }
            OK(ig_train_batch(tb, bx, by, &manual[step++]));
            ig_tensor_release(bx);
            ig_tensor_release(by);
        }
    }
    assert_int_equal(ig_trainer_step_count(ta), 8);
    OK(ig_trainer_losses(ta, 0, 8, ring));
    assert_memory_equal(ring, manual, sizeof ring);
    for (int i = 0; i < ig_model_param_count(ma); i++) {
        int64_t shape[IG_MAX_DIMS], n = 1;
        int nd = ig_model_param_shape(ma, i, shape);
        for (int k = 0; k < nd; k++) n *= shape[k];
        float *pa = malloc((size_t)n * sizeof *pa), *pb = malloc((size_t)n * sizeof *pb);
        OK(ig_model_param_get(ma, i, pa, n));
        OK(ig_model_param_get(mb, i, pb, n));
        assert_memory_equal(pa, pb, (size_t)n * sizeof *pa);
        free(pa);
        free(pb);
    }
    /* drop_last leaves the short batch out */
    ep.drop_last = true;
    int64_t steps;
    OK(ig_train_epoch(ta, ds, &ep, &steps));
    assert_int_equal(steps, 3);
    ig_trainer_destroy(ta);
    ig_trainer_destroy(tb);
    ig_model_destroy(ma);
    ig_model_destroy(mb);
    ig_dataset_destroy(ds);
    ig_tensor_release(x);
    ig_tensor_release(y);
}

/* ig_evaluate over the dataset equals the sample-weighted sum of ig_eval_batch results. */
static void test_evaluate_equals_batches(void **state)
{
    ig_ctx *ctx = *state;
    ig_tensor *x, *y;
    make_data(ctx, &x, &y);
    ig_dataset *ds;
    OK(ig_dataset_create(ctx, x, y, &ds));
    ig_model *m = mlp(ctx);
    ig_trainer *t = adam(m);
    ig_epoch_config ep = ig_epoch_defaults();
    OK(ig_train_epoch(t, ds, &ep, NULL));
    ig_eval_result all;
    OK(ig_evaluate(t, ds, 30, &all));
    assert_int_equal(all.count, N);
    double loss = 0;
    int64_t correct = 0;
    for (int64_t at = 0; at < N; at += 30) {
        int64_t b = N - at < 30 ? N - at : 30;
        ig_tensor *bx, *by;
        OK(ig_tensor_from_data(ctx, IG_F32, (int64_t[]){b, D}, 2, (float *)ig_tensor_data(x) + at * D,
                               (size_t)(b * D) * sizeof(float), &bx));
        OK(ig_tensor_from_data(ctx, IG_I32, (int64_t[]){b}, 1, (int32_t *)ig_tensor_data(y) + at,
                               (size_t)b * sizeof(int32_t), &by));
        ig_eval_result r;
        OK(ig_eval_batch(t, bx, by, &r));
        loss += (double)r.loss * (double)b;
        correct += r.correct;
        ig_tensor_release(bx);
        ig_tensor_release(by);
    }
    assert_int_equal(all.correct, correct);
    assert_true(fabs(all.loss - loss / N) <= 1e-6 * fabs(loss / N));
    /* a second evaluation starts from zero again */
    ig_eval_result again;
    OK(ig_evaluate(t, ds, 30, &again));
    assert_int_equal(again.count, N);
    assert_int_equal(again.correct, all.correct);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_dataset_destroy(ds);
    ig_tensor_release(x);
    ig_tensor_release(y);
}

static void test_errors(void **state)
{
    ig_ctx *ctx = *state;
    ig_tensor *x, *y;
    make_data(ctx, &x, &y);
    ig_dataset *ds;
    OK(ig_dataset_create(ctx, x, y, &ds));
    ig_model *m = mlp(ctx);
    ig_trainer *t = adam(m);
    ig_epoch_config ep = ig_epoch_defaults();

    assert_int_equal(ig_train_epoch(NULL, ds, &ep, NULL), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_train_epoch(t, NULL, &ep, NULL), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_train_epoch(t, ds, NULL, NULL), IG_ERR_INVALID_ARGUMENT);
    ep.batch_size = 0;
    assert_int_equal(ig_train_epoch(t, ds, &ep, NULL), IG_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(ig_last_error(), "batch_size"));
    assert_int_equal(ig_evaluate(t, ds, 0, &(ig_eval_result){0}), IG_ERR_INVALID_ARGUMENT);

    /* samples of another shape */
    ig_tensor *x3;
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){N, D + 1}, 2, &x3));
    ig_dataset *wrong;
    OK(ig_dataset_create(ctx, x3, y, &wrong));
    ep = ig_epoch_defaults();
    assert_int_equal(ig_train_epoch(t, wrong, &ep, NULL), IG_ERR_SHAPE);
    assert_non_null(strstr(ig_last_error(), "[13]"));
    ig_dataset_destroy(wrong);

    /* labels beyond the model's classes */
    ((int32_t *)ig_tensor_data(y))[7] = C;
    OK(ig_dataset_create(ctx, x, y, &wrong));
    assert_int_equal(ig_train_epoch(t, wrong, &ep, NULL), IG_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(ig_last_error(), "labels up to 3"));
    ig_dataset_destroy(wrong);

    /* ig_dataset_create checks its arrays */
    ((int32_t *)ig_tensor_data(y))[7] = -1;
    assert_int_equal(ig_dataset_create(ctx, x, y, &wrong), IG_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(ig_last_error(), "sample 7"));
    assert_int_equal(ig_dataset_create(ctx, y, x, &wrong), IG_ERR_SHAPE); /* samples must be f32 [n, ...] */
    assert_int_equal(ig_dataset_create(NULL, x, y, &wrong), IG_ERR_INVALID_ARGUMENT);

    /* the loss ring only has steps that were taken */
    float l;
    assert_int_equal(ig_trainer_losses(t, 0, 1, &l), IG_ERR_INVALID_ARGUMENT);
    OK(ig_train_epoch(t, ds, &ep, NULL));
    OK(ig_trainer_losses(t, 0, 1, &l));
    assert_int_equal(ig_trainer_losses(t, 0, 0, &l), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_trainer_losses(t, -1, 1, &l), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_trainer_losses(t, 0, 2, &l), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_trainer_losses(t, 0, 1, NULL), IG_ERR_INVALID_ARGUMENT);

    /* an MSE trainer cannot use class labels */
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.loss = IG_LOSS_MSE;
    ig_trainer *tm;
    OK(ig_trainer_create(m, &cfg, &tm));
    assert_int_equal(ig_train_epoch(tm, ds, &ep, NULL), IG_ERR_UNSUPPORTED);
    ig_trainer_destroy(tm);

    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_dataset_destroy(ds);
    ig_tensor_release(x);
    ig_tensor_release(x3);
    ig_tensor_release(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_permute_is_a_bijection),
        cmocka_unit_test_setup_teardown(test_epoch_equals_manual_batches, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_evaluate_equals_batches, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_errors, setup_cpu_ctx, teardown_ctx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
