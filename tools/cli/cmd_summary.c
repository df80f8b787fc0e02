/* cmd_summary.c — `ingot summary`: a model's layers with their output shapes, parameters, FLOPs and
 * activation memory (ig_model_summary), and the totals for a training step. */
#include "cli.h"
#include "model.h"

#include <stdlib.h>

static struct {
    int64_t batch;
} A = {.batch = 1};

static const cli_opt table[] = {
    {"batch-size", CLI_INT, &A.batch, "N", "the batch the FLOPs and activations are counted for", NULL, 1, 1 << 24},
};
static const cli_group group = CLI_GROUP("summary", table);
static const cli_group *const groups[] = {&cli_model_group, &group};

static int run(void);
const cli_command cmd_summary = {
    "summary", "show a model's layers: output shapes, parameters, FLOPs, activation memory",
    "Prints one row per layer of the model — its kind, output shape, trainable parameters, forward\n"
    "FLOPs and the bytes of its output (activation memory) at --batch-size — then the totals: the\n"
    "parameters' memory, the FLOPs of a training step (three forward passes' worth) and the\n"
    "activations. Without --input, a preset is shown for 1x28x28 inputs and 10 classes.",
    groups, sizeof groups / sizeof groups[0], run};

static int summarize(ig_ctx **ctx, model_desc *d, ig_model **m)
{
    CLI_TRY(model_open(cli_model.model, d));
    CLI_TRY(cli_context(1, ctx)); /* counting needs no accelerator */
    int64_t input[IG_MAX_DIMS], classes;
    int ndim;
    CLI_TRY(model_shape(d, NULL, input, &ndim, &classes));
    CLI_TRY(model_build(d, *ctx, input, ndim, classes, A.batch, 0, m));
    size_t need;
    if (ig_model_summary(*m, NULL, 0, &need) != IG_OK) return cli_lib_fail(NULL);
    char *buf = malloc(need);
    if (!buf) return cli_fail("out of memory");
    if (ig_model_summary(*m, buf, need, NULL) != IG_OK) {
        free(buf);
        return cli_lib_fail(NULL);
    }
    fputs(buf, stdout);
    free(buf);
    double flops;
    int64_t params = ig_model_num_params(*m), bytes = 0;
    if (ig_model_forward_flops(*m, A.batch, &flops) != IG_OK) return cli_lib_fail(NULL);
    for (int i = 0, n = ig_model_layer_count(*m); i < n; i++) {
        ig_layer_info l;
        if (ig_model_layer_info(*m, i, &l) != IG_OK) return cli_lib_fail(NULL);
        bytes += l.activation_bytes;
    }
    printf("parameters: %lld (%.2f MiB as f32; training with Adam holds about 4x that: weights, gradients, 2 moments)\n",
           (long long)params, (double)params * 4 / 1048576.0);
    printf("a training step at batch %lld: %.4g GFLOP (3x the forward pass), %.2f MiB of layer outputs\n",
           (long long)A.batch, 3 * flops * 1e-9, (double)bytes / 1048576.0);
    return CLI_OK;
}

static int run(void)
{
    ig_ctx *ctx = NULL;
    model_desc d = {0};
    ig_model *m = NULL;
    int rc = summarize(&ctx, &d, &m);
    ig_model_destroy(m);
    model_close(&d);
    ig_ctx_destroy(ctx);
    return rc;
}
