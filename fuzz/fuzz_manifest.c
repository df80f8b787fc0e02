/* fuzz_manifest.c — checkpoint loading from a fuzzed manifest. A real checkpoint of a small
 * model is saved once beside the input; the seed corpus holds its manifest, so mutations
 * reach the checks against the model, the configuration and the tensors file. */
#include "fuzz_file.h"

#include <ingot.h>

#include <string.h>

static char dir[] = "/tmp/ingot_fuzz_manifest_XXXXXX";
static ig_trainer *trainer;

static void cleanup(void)
{
    static const char *const files[] = {"fz.json", "fz.1.safetensors", "in.json"};
    for (int i = 0; i < 3; i++) {
        char path[64];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void setup(void)
{
    ig_ctx *ctx;
    ig_model *m;
    ig_trainer_config cfg = ig_trainer_defaults();
    if (!mkdtemp(dir) || ig_ctx_create(IG_DEVICE_CPU, &ctx) != IG_OK ||
        ig_model_create(ctx, (int64_t[]){4, 3}, 2, &m) != IG_OK)
        abort();
    ig_value v = ig_dropout(m, ig_dense(m, ig_model_input(m), 2, true, "fc"), 0.5f, "drop");
    ig_model_set_output(m, ig_batchnorm(m, v, 0.1f, 1e-5f, "bn"));
    char stem[64];
    snprintf(stem, sizeof stem, "%s/fz", dir);
    if (ig_trainer_create(m, &cfg, &trainer) != IG_OK || ig_checkpoint_save(trainer, stem, NULL) != IG_OK) abort();
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!trainer) setup();
    char path[64];
    snprintf(path, sizeof path, "%s/in.json", dir);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) abort();
    ig_plateau *pl;
    ig_early_stopping *es;
    if (ig_plateau_create(&(ig_plateau_config){.factor = 0.5f}, &pl) != IG_OK ||
        ig_early_stopping_create(&(ig_early_stopping_config){.patience = 1}, &es) != IG_OK)
        abort();
    ig_checkpoint_monitors mon = {.plateau = pl, .early_stopping = es};
    ig_checkpoint_load(trainer, path, size & 1 ? &mon : NULL);
    ig_plateau_destroy(pl);
    ig_early_stopping_destroy(es);
    return 0;
}
