/* onnx_tool.c — ingot's side of the Python ONNX tests (tests/python/onnx_*.py):
 *
 *   onnx_tool export MODEL N OUT.onnx IN.f32 PRED.f32
 *       builds a test model (onnx_models.h: cnn, resnet18, zoo), exports it, and writes a
 *       deterministic input of batch N and ig_predict's output for it
 *   onnx_tool predict MODEL.onnx IN.f32 N PRED.f32
 *       imports a model and writes ig_predict's output for the input
 *   onnx_tool train MODEL.onnx IN.f32 N STEPS
 *       imports a model and trains it on the input (labels i mod outputs, SGD), printing the
 *       losses; fails unless the last is below the first
 *
 * .f32 files hold raw float32 values (the host's order, little-endian here), row-major. */
#include "onnx_models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                  \
    do {                                                             \
        if ((call) != IG_OK) {                                       \
            fprintf(stderr, "onnx_tool: %s\n", ig_last_error());     \
            goto done;                                               \
        }                                                            \
    } while (0)

static ig_status write_f32(const char *path, const ig_tensor *t)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(ig_tensor_data_const(t), 1, ig_tensor_nbytes(t), f) == ig_tensor_nbytes(t);
    if (f && fclose(f) != 0) ok = false;
    if (!ok) fprintf(stderr, "onnx_tool: cannot write %s\n", path);
    return ok ? IG_OK : IG_ERR_IO;
}

/* An input of batch n for m, read from path. */
static ig_status read_input(ig_ctx *ctx, ig_model *m, const char *path, int64_t n, ig_tensor **x)
{
    int64_t shape[IG_MAX_DIMS];
    int nd = ig_model_value_shape(m, ig_model_input(m), shape);
    shape[0] = n;
    ig_status st = ig_tensor_create(ctx, IG_F32, shape, nd, x);
    if (st != IG_OK) return st;
    FILE *f = fopen(path, "rb");
    size_t want = ig_tensor_nbytes(*x);
    bool ok = f && fread(ig_tensor_data(*x), 1, want, f) == want && fgetc(f) == EOF;
    if (f) fclose(f);
    if (ok) return IG_OK;
    fprintf(stderr, "onnx_tool: %s does not hold %zu bytes of input\n", path, want);
    return IG_ERR_IO;
}

/* Steps of SGD on x with labels i mod the outputs; prints the losses, and any failure. */
static ig_status train(ig_ctx *ctx, ig_model *m, ig_tensor *x, int steps)
{
    ig_tensor *out = NULL, *labels = NULL;
    ig_trainer *t = NULL;
    int64_t n = ig_tensor_dim(x, 0);
    ig_status st = ig_predict(m, x, &out);
    if (st == IG_OK) st = ig_tensor_create(ctx, IG_I32, &n, 1, &labels);
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_SGD);
    if (st == IG_OK) st = ig_trainer_create(m, &cfg, &t);
    float first = 0, loss = 0;
    for (int64_t i = 0; st == IG_OK && i < n; i++)
        ((int32_t *)ig_tensor_data(labels))[i] = (int32_t)(i % ig_tensor_dim(out, 1));
    for (int s = 0; st == IG_OK && s < steps; s++) {
        st = ig_train_batch(t, x, labels, &loss);
        if (s == 0) first = loss;
        printf("step %d loss %.6f\n", s, loss);
    }
    if (st != IG_OK) {
        fprintf(stderr, "onnx_tool: %s\n", ig_last_error());
    } else if (!(loss < first)) {
        fprintf(stderr, "onnx_tool: the loss went from %g to %g\n", first, loss);
        st = IG_ERR_STATE;
    }
    ig_trainer_destroy(t);
    ig_tensor_release(labels);
    ig_tensor_release(out);
    return st;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    bool export = strcmp(cmd, "export") == 0 && argc == 7, predict = strcmp(cmd, "predict") == 0 && argc == 6,
         fit = strcmp(cmd, "train") == 0 && argc == 6;
    if (!export && !predict && !fit) {
        fprintf(stderr, "usage: onnx_tool export MODEL N OUT.onnx IN.f32 PRED.f32 | predict MODEL.onnx IN.f32 N "
                        "PRED.f32 | train MODEL.onnx IN.f32 N STEPS\n");
        return 2;
    }
    int64_t n = atoll(export ? argv[3] : argv[4]);
    ig_ctx *ctx = NULL;
    ig_model *m = NULL;
    ig_tensor *x = NULL, *y = NULL;
    int rc = 1;
    CHECK(ig_ctx_create(IG_DEVICE_CPU, &ctx));
    if (export) {
        CHECK(onnx_test_model(ctx, argv[2], n, &m));
        CHECK(ig_model_export_onnx(m, argv[4]));
        CHECK(onnx_test_input(ctx, m, n, 1, &x));
        CHECK(write_f32(argv[5], x));
    } else {
        CHECK(ig_model_import_onnx(ctx, argv[2], &m));
        CHECK(read_input(ctx, m, argv[3], n, &x));
    }
    if (fit) {
        if (train(ctx, m, x, atoi(argv[5])) != IG_OK) goto done;
    } else {
        CHECK(ig_predict(m, x, &y));
        CHECK(write_f32(export ? argv[6] : argv[5], y));
    }
    rc = 0;
done:
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_model_destroy(m);
    ig_ctx_destroy(ctx);
    return rc;
}
