/* test_presets.c — the built-in models: their sizes match PyTorch's modules of the same
 * architecture, their names follow PyTorch's, they train, and bad requests are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <math.h>
#include <string.h>

static const int64_t IMAGES[4] = {4, 1, 28, 28};

static void test_sizes_match_pytorch(void **state)
{
    /* sum(p.numel() for p in model.parameters()) of bench/torch_train_step.py's modules */
    static const struct {
        const char *preset;
        int64_t shape[4], params;
    } cases[] = {{"mlp", {4, 1, 28, 28}, 669706}, {"cnn", {4, 1, 28, 28}, 421642}, {"resnet18", {4, 3, 32, 32}, 11173962}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ig_model *m;
        OK(ig_model_create_preset(*state, cases[i].preset, cases[i].shape, 4, 10, &m));
        assert_int_equal(ig_model_num_params(m), cases[i].params);
        ig_model_destroy(m);
    }
}

static void test_resnet18_names_and_prediction(void **state)
{
    ig_model *m;
    OK(ig_model_create_preset(*state, "resnet18", (int64_t[]){2, 3, 32, 32}, 4, 10, &m));
    int64_t shape[8];
    int i = ig_model_param_index(m, "layer2.0.shortcut.0.weight");
    assert_true(i >= 0);
    assert_int_equal(ig_model_param_shape(m, i, shape), 4);
    assert_int_equal(shape[0], 128);
    assert_int_equal(shape[1], 64);
    assert_int_equal(shape[2], 1);
    assert_true(ig_model_param_index(m, "layer4.1.bn2.running_var") >= 0);
    assert_true(ig_model_param_index(m, "layer1.0.shortcut.0.weight") < 0); /* same shape: identity */
    i = ig_model_param_index(m, "linear.weight");
    assert_int_equal(ig_model_param_shape(m, i, shape), 2);
    assert_int_equal(shape[0], 10);
    assert_int_equal(shape[1], 512);

    ig_tensor *x, *y;
    OK(ig_tensor_create(*state, IG_F32, (int64_t[]){2, 3, 32, 32}, 4, &x));
    float *xd = ig_tensor_data(x);
    for (int k = 0; k < 2 * 3 * 32 * 32; k++) xd[k] = sinf(0.01f * (float)k);
    OK(ig_predict(m, x, &y));
    assert_int_equal(ig_tensor_ndim(y), 2);
    assert_int_equal(ig_tensor_dim(y, 1), 10);
    const float *yd = ig_tensor_data(y);
    for (int k = 0; k < 20; k++) assert_true(isfinite(yd[k]));
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_model_destroy(m);
}

static void test_cnn_learns_a_batch(void **state)
{
    ig_model *m;
    OK(ig_model_create_preset(*state, "cnn", IMAGES, 4, 10, &m));
    ig_tensor *x, *y;
    OK(ig_tensor_create(*state, IG_F32, IMAGES, 4, &x));
    OK(ig_tensor_create(*state, IG_I32, (int64_t[]){4}, 1, &y));
    float *xd = ig_tensor_data(x);
    int32_t *yd = ig_tensor_data(y);
    for (int k = 0; k < 4 * 28 * 28; k++) xd[k] = cosf(0.37f * (float)k);
    for (int k = 0; k < 4; k++) yd[k] = 3 * k;
    ig_trainer_config cfg = ig_trainer_defaults();
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    float first, loss;
    OK(ig_train_batch(t, x, y, &first));
    for (int k = 0; k < 20; k++) OK(ig_train_batch(t, x, y, &loss));
    assert_true(loss < 0.5f * first);
    ig_trainer_destroy(t);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_model_destroy(m);
}

static void test_bad_requests(void **state)
{
    ig_model *m = (ig_model *)&m;
    assert_int_equal(ig_model_create_preset(*state, "vgg", IMAGES, 4, 10, &m), IG_ERR_INVALID_ARGUMENT);
    assert_null(m);
    assert_non_null(strstr(ig_last_error(), "valid: mlp, cnn, resnet18"));
    assert_int_equal(ig_model_create_preset(*state, "cnn", (int64_t[]){4, 784}, 2, 10, &m), IG_ERR_SHAPE);
    assert_int_equal(ig_model_create_preset(*state, "mlp", IMAGES, 4, 0, &m), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_model_create_preset(*state, NULL, IMAGES, 4, 10, &m), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_model_create_preset(*state, "mlp", IMAGES, 4, 10, NULL), IG_ERR_INVALID_ARGUMENT);
    /* the second 2×2 max-pool does not fit a 2×2 image: the builder's error comes back */
    assert_int_equal(ig_model_create_preset(*state, "cnn", (int64_t[]){1, 1, 2, 2}, 4, 10, &m), IG_ERR_SHAPE);
    assert_non_null(strstr(ig_last_error(), "pool2"));
    assert_null(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_match_pytorch),
        cmocka_unit_test(test_resnet18_names_and_prediction),
        cmocka_unit_test(test_cnn_learns_a_batch),
        cmocka_unit_test(test_bad_requests),
    };
    return cmocka_run_group_tests(tests, setup_cpu_ctx, teardown_ctx);
}
