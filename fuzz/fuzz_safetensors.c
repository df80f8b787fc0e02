/* fuzz_safetensors.c — the safetensors reader, and weights read from what it accepts into a
 * model with dense and batch-norm layers (shapes, dtype conversions, batch counts). */
#include "fuzz_file.h"

#include "io/safetensors.h"

static ig_model *model(void)
{
    static ig_ctx *ctx;
    static ig_model *m;
    if (m) return m;
    if (ig_ctx_create(IG_DEVICE_CPU, &ctx) != IG_OK || ig_model_create(ctx, (int64_t[]){4, 3}, 2, &m) != IG_OK) abort();
    ig_value v = ig_dense(m, ig_model_input(m), 2, true, "fc");
    ig_model_set_output(m, ig_batchnorm(m, v, 0.1f, 1e-5f, "bn"));
    if (ig_model_status(m) != IG_OK) abort();
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    ig_st_file *f;
    if (ig_st_open(path, &f) == IG_OK) {
        static volatile uint8_t sink;
        for (int i = 0; i < ig_st_count(f); i++) { /* every tensor's bytes are there: read the last */
            const ig_st_tensor *t = ig_st_at(f, i);
            if (t->nbytes) sink ^= ((const uint8_t *)t->data)[t->nbytes - 1];
        }
        ig_st_close(f);
        ig_weights_options lax = {.allow_missing = true, .allow_unexpected = true};
        ig_model_load_weights(model(), path, &lax);
        ig_model_load_weights(model(), path, NULL);
    }
    return 0;
}
