/* cmd_export.c — `ingot export`: a trained model as an ONNX file (ig_model_export_onnx). */
#include "cli.h"
#include "model.h"

static struct {
    const char *output;
    bool untrained;
} A;

static const cli_opt table[] = {
    {"output", CLI_STRING, &A.output, "FILE", "the ONNX file to write (required)"},
    {"untrained", CLI_FLAG, &A.untrained, NULL, "export a model that has no trained weights with its initial ones"},
};
static const cli_group group = CLI_GROUP("export", table);
static const cli_group *const groups[] = {&cli_model_group, &cli_weights_group, &group};

static int run(void);
const cli_command cmd_export = {
    "export", "write a trained model as ONNX",
    "Writes the model's inference graph with its trained weights as an ONNX file (opset 17; batch\n"
    "dimension free), for onnxruntime and other ONNX tools. The input is named \"input\", the output\n"
    "\"output\". The model's normalisation is not part of the graph: apply it to the inputs.",
    groups, sizeof groups / sizeof groups[0], run};

static int export(ig_ctx **ctx, model_desc *d, ig_model **m)
{
    if (!A.output) return cli_usage("--output FILE is required (the ONNX file to write)");
    CLI_TRY(model_open(cli_model.model, d));
    CLI_TRY(cli_context(1, ctx));
    int64_t input[IG_MAX_DIMS], classes;
    int ndim;
    CLI_TRY(model_shape(d, NULL, input, &ndim, &classes));
    CLI_TRY(model_build(d, *ctx, input, ndim, classes, 1, 0, m));
    bool loaded;
    CLI_TRY(model_load_weights(d, *m, cli_model.weights, cli_model.checkpoint, &loaded));
    if (!loaded && !A.untrained)
        return cli_fail("--model %s has no trained weights: give --weights FILE or --checkpoint PATH, a folder that ingot "
                        "train --save wrote, or --untrained", cli_model.model);
    if (ig_model_export_onnx(*m, A.output) != IG_OK) return cli_lib_fail("--output");
    printf("wrote %s\n", A.output);
    return CLI_OK;
}

static int run(void)
{
    ig_ctx *ctx = NULL;
    model_desc d = {0};
    ig_model *m = NULL;
    int rc = export(&ctx, &d, &m);
    ig_model_destroy(m);
    model_close(&d);
    ig_ctx_destroy(ctx);
    return rc;
}
