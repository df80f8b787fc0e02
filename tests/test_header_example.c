/* test_header_example.c — compiles and runs the example at the top of include/ingot.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "ingot.h"

/* The header's example, verbatim between the markers (the header_example_in_sync test,
 * check_header_example.cmake, fails when they drift apart), after a batch of 64 random
 * samples x and labels y from a context of their own: the example makes and destroys its
 * own. Returns the example's return value, or 0 and the step's loss. */
static int header_example(float *loss_out)
{
    ig_ctx *data_ctx;
    ig_tensor *x, *y;
    if (ig_ctx_create(IG_DEVICE_CPU, &data_ctx) != IG_OK ||
        ig_tensor_create(data_ctx, IG_F32, (int64_t[]){64, 1, 28, 28}, 4, &x) != IG_OK ||
        ig_tensor_create(data_ctx, IG_I32, (int64_t[]){64}, 1, &y) != IG_OK)
        return 2;
    float *xd = ig_tensor_data(x);
    int32_t *yd = ig_tensor_data(y);
    uint32_t r = 12345;
    for (int64_t i = 0; i < 64 * 28 * 28; i++) {
        r = r * 1664525u + 1013904223u;
        xd[i] = (float)(r >> 8) / 16777216.0f;
    }
    for (int i = 0; i < 64; i++) yd[i] = (int32_t)((i * 7) % 10);

    /* ---- include/ingot.h's example */
    ig_ctx *ctx = NULL;
    ig_model *m = NULL;
    ig_trainer *t = NULL;
    if (ig_ctx_create(IG_DEVICE_AUTO, &ctx) != IG_OK) { puts(ig_last_error()); return 1; }
    ig_model_create(ctx, (int64_t[]){64, 1, 28, 28}, 4, &m);   // nominal batch of 64
    ig_value v = ig_model_input(m);
    v = ig_flatten(m, v, "flatten");
    v = ig_dense(m, v, 128, true, "fc1");
    v = ig_relu(m, v, "relu1");
    v = ig_dense(m, v, 10, true, "fc2");
    ig_model_set_output(m, v);
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.optimizer = IG_OPT_ADAM;
    cfg.learning_rate = 1e-3f;
    cfg.loss = IG_LOSS_SPARSE_CROSS_ENTROPY;
    if (ig_trainer_create(m, &cfg, &t) != IG_OK) { puts(ig_last_error()); return 1; }
    // x: f32 [n, 1, 28, 28], y: i32 [n] class ids; any n up to the memory you have
    float loss;
    ig_train_batch(t, x, y, &loss);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_ctx_destroy(ctx);
    /* ---- end of the example */

    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_ctx_destroy(data_ctx);
    /* the example ignores some statuses; a failing call would have set the message */
    if (*ig_last_error()) return 3;
    *loss_out = loss;
    return 0;
}

static void test_header_example(void **state)
{
    assert_string_equal(ig_last_error(), ""); /* so that the example's success shows in it */
    float loss = NAN;
    int rc = header_example(&loss);
    if (rc != 0) fail_msg("the example returned %d: %s", rc, ig_last_error());
    /* an untrained 10-class model on random data: about ln 10 */
    print_message("the example's loss: %.4f\n", loss);
    assert_true(loss > 1.5f && loss < 3.5f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
