/* presets.c — the built-in models: the workloads of bench/WORKLOADS.md, for the command-line
 * tool, the benchmarks and anyone who wants a standard network without writing it out. Layer
 * names follow the usual PyTorch module names, so weights map one to one. */
#include "nn/model.h"

#include <stdio.h>
#include <string.h>

static ig_value mlp(ig_model *m, int64_t classes)
{
    ig_value v = ig_flatten(m, ig_model_input(m), "flatten");
    v = ig_relu(m, ig_dense(m, v, 512, true, "fc1"), "relu1");
    v = ig_relu(m, ig_dense(m, v, 512, true, "fc2"), "relu2");
    return ig_dense(m, v, classes, true, "fc3");
}

static ig_value cnn(ig_model *m, int64_t classes)
{
    ig_value v = ig_relu(m, ig_conv2d(m, ig_model_input(m), 32, 3, 1, 1, true, "conv1"), "relu1");
    v = ig_maxpool2d(m, v, 2, 2, 0, "pool1");
    v = ig_relu(m, ig_conv2d(m, v, 64, 3, 1, 1, true, "conv2"), "relu2");
    v = ig_maxpool2d(m, v, 2, 2, 0, "pool2");
    v = ig_flatten(m, v, "flatten");
    v = ig_relu(m, ig_dense(m, v, 128, true, "fc1"), "relu3");
    return ig_dense(m, v, classes, true, "fc2");
}

/* conv (no bias) → batch norm, named "<prefix><conv>" and "<prefix><bn>". */
static ig_value conv_bn(ig_model *m, ig_value x, int64_t filters, int64_t kernel, int64_t stride, const char *prefix,
                        const char *conv, const char *bn)
{
    char a[IG_NAME_LEN], b[IG_NAME_LEN];
    snprintf(a, sizeof a, "%s%s", prefix, conv);
    snprintf(b, sizeof b, "%s%s", prefix, bn);
    return ig_batchnorm(m, ig_conv2d(m, x, filters, kernel, stride, kernel / 2, false, a), 0.1f, 1e-5f, b);
}

/* A BasicBlock: two 3×3 conv+BN, the first with the stride; a 1×1 conv+BN shortcut where the
 * shape changes; ReLU after the sum. */
static ig_value basic_block(ig_model *m, ig_value x, int64_t filters, int64_t stride, const char *prefix)
{
    int64_t shape[IG_MAX_DIMS] = {0}; /* stays zero after an earlier build error */
    ig_model_value_shape(m, x, shape);
    ig_value y = ig_relu(m, conv_bn(m, x, filters, 3, stride, prefix, "conv1", "bn1"), NULL);
    y = conv_bn(m, y, filters, 3, 1, prefix, "conv2", "bn2");
    ig_value s = stride != 1 || shape[1] != filters ? conv_bn(m, x, filters, 1, stride, prefix, "shortcut.0", "shortcut.1")
                                                    : x;
    return ig_relu(m, ig_add(m, y, s, NULL), NULL);
}

static ig_value resnet18(ig_model *m, int64_t classes)
{
    ig_value v = ig_relu(m, conv_bn(m, ig_model_input(m), 64, 3, 1, "", "conv1", "bn1"), NULL);
    static const int64_t widths[4] = {64, 128, 256, 512};
    for (int stage = 0; stage < 4; stage++)
        for (int block = 0; block < 2; block++) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "layer%d.%d.", stage + 1, block);
            v = basic_block(m, v, widths[stage], stage > 0 && block == 0 ? 2 : 1, prefix);
        }
    return ig_dense(m, ig_global_avgpool(m, v, "pool"), classes, true, "linear");
}

static const struct {
    const char *name;
    int ndim; /* input rank, batch included */
    ig_value (*build)(ig_model *m, int64_t classes);
} presets[] = {{"mlp", 0, mlp}, {"cnn", 4, cnn}, {"resnet18", 4, resnet18}};

ig_status ig_model_create_preset(ig_ctx *ctx, const char *preset, const int64_t *input_shape, int ndim,
                                 int64_t classes, ig_model **out)
{
    if (!out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_create_preset: NULL out");
    *out = NULL;
    if (!preset) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_create_preset: NULL preset name");
    size_t i = 0;
    while (i < sizeof presets / sizeof presets[0] && strcmp(presets[i].name, preset) != 0) i++;
    if (i == sizeof presets / sizeof presets[0])
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_create_preset: unknown preset '%s' (valid: mlp, cnn, resnet18)",
                       preset);
    if (classes < 1)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_create_preset: classes is %lld (must be >= 1)",
                       (long long)classes);
    if (presets[i].ndim && ndim != presets[i].ndim)
        return ig_fail(IG_ERR_SHAPE, "ig_model_create_preset: '%s' takes images [batch, channels, height, width]; the "
                       "input shape has %d dimensions", preset, ndim);
    ig_model *m;
    IG_TRY(ig_model_create(ctx, input_shape, ndim, &m));
    ig_status st = ig_model_set_output(m, presets[i].build(m, classes));
    if (st != IG_OK) {
        ig_model_destroy(m);
        return st;
    }
    *out = m;
    return IG_OK;
}
