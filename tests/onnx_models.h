/* onnx_models.h — the models the ONNX tests export and import (tests/test_onnx.c and the
 * onnx_tool program behind tests/python/onnx_*.py): the benchmark presets and a "zoo" with
 * every layer kind ingot exports. */
#ifndef IG_TEST_ONNX_MODELS_H
#define IG_TEST_ONNX_MODELS_H

#include <ingot.h>

/* "cnn" (examples/cnn_fmnist's network, [n, 1, 28, 28]), "resnet18" (the preset at
 * [n, 3, 16, 16] to keep tests fast) or "zoo" ([n, 3, 8, 8]), 10 classes, at nominal batch
 * `batch`. Batch-norm statistics and the 1-D parameters (biases, γ, β) are moved off their
 * initial values, so that exporting them is tested too. */
ig_status onnx_test_model(ig_ctx *ctx, const char *which, int64_t batch, ig_model **out);

/* A deterministic input for the model: f32 [batch, input shape...], values in [-2, 2). */
ig_status onnx_test_input(ig_ctx *ctx, ig_model *m, int64_t batch, uint64_t seed, ig_tensor **out);

#endif /* IG_TEST_ONNX_MODELS_H */
