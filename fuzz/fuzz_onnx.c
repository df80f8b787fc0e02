/* fuzz_onnx.c — the ONNX importer (decoding within bounds, every operator's checks, the
 * parameters bound from initializers), and a prediction by what it accepts when that is
 * small. */
#include "fuzz_file.h"

#include <ingot.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ig_ctx *ctx;
    if (!ctx && ig_ctx_create(IG_DEVICE_CPU, &ctx) != IG_OK) abort();
    ig_model *m;
    if (ig_model_import_onnx(ctx, fuzz_file(data, size), &m) != IG_OK) return 0;
    int64_t shape[IG_MAX_DIMS], numel = 1;
    int nd = ig_model_value_shape(m, ig_model_input(m), shape);
    shape[0] = 1;
    for (int i = 1; i < nd; i++) numel *= shape[i];
    double flops;
    ig_tensor *x, *y;
    /* the input's size and the work are the file's to choose: run small models only */
    if (numel <= 4096 && ig_model_forward_flops(m, 1, &flops) == IG_OK && flops <= 1e7 &&
        ig_tensor_create(ctx, IG_F32, shape, nd, &x) == IG_OK) {
        if (ig_predict(m, x, &y) == IG_OK) ig_tensor_release(y);
        ig_tensor_release(x);
    }
    ig_model_destroy(m);
    return 0;
}
