/* onnx_models.c — see onnx_models.h. */
#include "onnx_models.h"

#include <stdlib.h>
#include <string.h>

/* Every layer kind: conv (with and without bias), batch norm (4-D and 2-D), both poolings
 * (average with padding), global pooling, every activation, reshape, softmax over a 3-D
 * value, flatten, dropout, dense and residual sums. */
static ig_value zoo(ig_model *m)
{
    ig_value c = ig_conv2d(m, ig_model_input(m), 8, 3, 1, 1, true, "conv1");
    c = ig_relu(m, ig_batchnorm(m, c, 0.1f, 1e-5f, "bn1"), "relu1");       /* [8, 8, 8] */
    ig_value p = ig_maxpool2d(m, c, 2, 2, 0, "pool1");                    /* [8, 4, 4] */
    ig_value v = ig_add(m, ig_leaky_relu(m, p, 0.1f, "leaky"), ig_elu(m, p, 0.7f, "elu"), "sum1");
    v = ig_avgpool2d(m, v, 3, 1, 1, "avgpool");                           /* [8, 4, 4] */
    v = ig_conv2d(m, v, 8, 3, 2, 1, false, "conv2");                      /* [8, 2, 2] */
    v = ig_sigmoid(m, ig_tanh(m, ig_swish(m, v, "swish"), "tanh"), "sigmoid");
    v = ig_softmax(m, ig_reshape(m, v, (int64_t[]){8, 4}, 2, "reshape"), "softmax");
    v = ig_dropout(m, ig_flatten(m, v, "flatten"), 0.25f, "dropout");     /* [32] */
    v = ig_gelu(m, ig_dense(m, v, 16, true, "fc1"), false, "gelu");
    v = ig_gelu(m, ig_batchnorm(m, v, 0.1f, 1e-3f, "bn2"), true, "gelu_tanh");
    v = ig_dense(m, v, 10, true, "fc2");
    ig_value g = ig_dense(m, ig_global_avgpool(m, c, "gap"), 10, false, "fc_gap");
    return ig_add(m, v, g, "sum2");
}

static float uniform(uint64_t *s, float lo, float hi)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return lo + (hi - lo) * (float)(*s >> 40) / (float)(1 << 24);
}

static ig_status perturb(ig_model *m)
{
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < ig_model_param_count(m); i++) {
        int64_t shape[IG_MAX_DIMS];
        if (ig_model_param_shape(m, i, shape) != 1) continue;
        const char *name = ig_model_param_name(m, i);
        bool var = strstr(name, "running_var") != NULL;
        float *p = malloc((size_t)shape[0] * sizeof *p);
        if (!p) return IG_ERR_OUT_OF_MEMORY;
        ig_status st = ig_model_param_get(m, i, p, shape[0]);
        for (int64_t j = 0; j < shape[0]; j++) p[j] = var ? uniform(&s, 0.5f, 1.5f) : p[j] + uniform(&s, -0.3f, 0.3f);
        if (st == IG_OK) st = ig_model_param_set(m, i, p, shape[0]);
        free(p);
        if (st != IG_OK) return st;
    }
    return IG_OK;
}

ig_status onnx_test_model(ig_ctx *ctx, const char *which, int64_t batch, ig_model **out)
{
    ig_status st;
    if (strcmp(which, "cnn") == 0) {
        st = ig_model_create_preset(ctx, "cnn", (int64_t[]){batch, 1, 28, 28}, 4, 10, out);
    } else if (strcmp(which, "resnet18") == 0) {
        st = ig_model_create_preset(ctx, "resnet18", (int64_t[]){batch, 3, 16, 16}, 4, 10, out);
    } else {
        st = ig_model_create(ctx, (int64_t[]){batch, 3, 8, 8}, 4, out);
        if (st == IG_OK) st = ig_model_set_output(*out, zoo(*out));
    }
    if (st == IG_OK) st = perturb(*out);
    if (st != IG_OK && *out) {
        ig_model_destroy(*out);
        *out = NULL;
    }
    return st;
}

ig_status onnx_test_input(ig_ctx *ctx, ig_model *m, int64_t batch, uint64_t seed, ig_tensor **out)
{
    int64_t shape[IG_MAX_DIMS];
    int nd = ig_model_value_shape(m, ig_model_input(m), shape);
    shape[0] = batch;
    ig_status st = ig_tensor_create(ctx, IG_F32, shape, nd, out);
    if (st != IG_OK) return st;
    float *x = ig_tensor_data(*out);
    uint64_t s = seed * 0xD1B54A32D192ED03ull + 1;
    for (int64_t i = 0; i < ig_tensor_numel(*out); i++) x[i] = uniform(&s, -2.0f, 2.0f);
    return IG_OK;
}
