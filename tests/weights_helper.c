/* weights_helper.c — ingot's side of tests/python/weights_torch.py: a preset's weights saved,
 * loaded and run on an input, so that PyTorch can check both directions.
 *
 *   weights_helper save PRESET OUT STEPS       seeded weights, trained STEPS SGD steps on
 *                                              random data (batch norm's statistics move)
 *   weights_helper predict PRESET WEIGHTS X Y  loads WEIGHTS (strict), predicts on the
 *                                              tensor "x" of X, writes "y" to Y
 *   weights_helper resave PRESET IN OUT        loads IN (strict), saves OUT */
#include "io/atomic_file.h"
#include "io/safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLASSES 10

static ig_status make(ig_ctx *ctx, const char *preset, ig_model **m)
{
    int64_t images[4] = {2, 1, 28, 28}, cifar[4] = {2, 3, 32, 32};
    IG_TRY(ig_model_create_preset(ctx, preset, strcmp(preset, "resnet18") ? images : cifar, 4, CLASSES, m));
    return ig_model_set_seed(*m, 7);
}

/* STEPS SGD steps on a batch of uniform inputs: the weights and running statistics move. */
static ig_status train(ig_ctx *ctx, ig_model *m, int steps)
{
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_SGD);
    cfg.learning_rate = 0.01f;
    ig_trainer *t;
    IG_TRY(ig_trainer_create(m, &cfg, &t));
    int64_t shape[IG_MAX_DIMS];
    int nd = ig_model_value_shape(m, ig_model_input(m), shape);
    ig_tensor *x = NULL, *y = NULL;
    ig_status st = ig_tensor_create(ctx, IG_F32, shape, nd, &x);
    if (st == IG_OK) st = ig_tensor_create(ctx, IG_I32, shape, 1, &y);
    for (int64_t i = 0; st == IG_OK && i < ig_tensor_numel(x); i++)
        ((float *)ig_tensor_data(x))[i] = ig_rng_uniform(3, (uint64_t)i);
    for (int64_t i = 0; st == IG_OK && i < shape[0]; i++) ((int32_t *)ig_tensor_data(y))[i] = (int32_t)(i % CLASSES);
    for (int s = 0; st == IG_OK && s < steps; s++) st = ig_train_batch(t, x, y, NULL);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_trainer_destroy(t);
    return st;
}

static ig_status predict(ig_ctx *ctx, ig_model *m, const char *in, const char *out)
{
    ig_st_file *f;
    IG_TRY(ig_st_open(in, &f));
    const ig_st_tensor *xt = ig_st_get(f, "x");
    ig_tensor *x = NULL, *y = NULL;
    ig_status st = xt && xt->dtype == IG_ST_F32 ? IG_OK : ig_fail(IG_ERR_FORMAT, "%s: no F32 tensor \"x\"", in);
    if (st == IG_OK) st = ig_tensor_from_data(ctx, IG_F32, xt->shape, xt->ndim, xt->data, xt->nbytes, &x);
    if (st == IG_OK) st = ig_predict(m, x, &y);
    ig_st_list l = {0};
    ig_atomic_file af;
    if (st == IG_OK) st = ig_st_list_add(&l, IG_ST_F32, ig_tensor_ndim(y), (int64_t[]){ig_tensor_dim(y, 0), ig_tensor_dim(y, 1)},
                                         ig_tensor_data(y), "y");
    if (st == IG_OK) st = ig_atomic_open(&af, out);
    if (st == IG_OK) st = ig_st_write(&af, l.e, l.n, NULL, 0);
    if (st == IG_OK) st = ig_atomic_commit(&af);
    ig_st_list_free(&l);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_st_close(f);
    return st;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: weights_helper save|predict|resave PRESET ...\n");
        return 2;
    }
    ig_ctx *ctx;
    ig_model *m = NULL;
    ig_status st = ig_ctx_create(IG_DEVICE_CPU, &ctx);
    if (st == IG_OK) st = make(ctx, argv[2], &m);
    if (st == IG_OK && strcmp(argv[1], "save") == 0) {
        st = train(ctx, m, atoi(argv[4]));
        if (st == IG_OK) st = ig_model_save_weights(m, argv[3]);
    } else if (st == IG_OK && strcmp(argv[1], "predict") == 0 && argc == 6) {
        st = ig_model_load_weights(m, argv[3], NULL);
        if (st == IG_OK) st = predict(ctx, m, argv[4], argv[5]);
    } else if (st == IG_OK && strcmp(argv[1], "resave") == 0) {
        st = ig_model_load_weights(m, argv[3], NULL);
        if (st == IG_OK) st = ig_model_save_weights(m, argv[4]);
    } else if (st == IG_OK) {
        st = ig_fail(IG_ERR_INVALID_ARGUMENT, "unknown command '%s' or wrong arguments", argv[1]);
    }
    if (st != IG_OK) fprintf(stderr, "weights_helper: %s\n", ig_last_error());
    ig_model_destroy(m);
    ig_ctx_destroy(ctx);
    return st == IG_OK ? 0 : 1;
}
