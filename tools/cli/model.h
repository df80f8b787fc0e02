/* model.h — what --model names: a preset, a model file in JSON (docs/cli.md has the format), an
 * ONNX file, or a folder that `ingot train --save` or `--checkpoint-dir` wrote; how it is built
 * and how its weights are saved and found again. */
#ifndef INGOT_CLI_MODEL_H
#define INGOT_CLI_MODEL_H

#include "data.h"

#include <cjson/cJSON.h>

/* --model, --input, --classes (every command), --weights and --checkpoint (those that use
 * a trained model). */
typedef struct model_opts {
    const char *model, *input;
    int64_t classes;
    const char *weights, *checkpoint;
} model_opts;

extern model_opts cli_model;
extern const cli_group cli_model_group, cli_weights_group;

typedef struct model_desc {
    cJSON *json;         /* the description: "preset" or "layers", and "input", "classes",
                            "normalize", "class_names" where known; NULL for ONNX */
    char source[4096];   /* the file it came from, or the preset's name */
    char folder[4096];   /* a saved folder's path, "" otherwise */
    char onnx[4096];     /* an ONNX file's path, "" otherwise */
} model_desc;

/* Reads --model's value. Prints what is wrong (an unknown preset with the valid ones, a
 * JSON syntax error with its line and column, a field with its JSON path). */
int model_open(const char *spec, model_desc *d);
void model_close(model_desc *d);
/* A description made from scratch: {"preset": name} (for JSON models, model_open). */
int model_from_preset(const char *preset, model_desc *d);

/* What the description says, where it says it: the sample shape (returns ndim, 0 if absent),
 * the classes (0 if absent), the normalisation (false if absent). */
int model_input(const model_desc *d, int64_t *shape);
int64_t model_classes(const model_desc *d);
bool model_norm(const model_desc *d, norm_spec *out);
/* "preset cnn", "model.json (12 layers)", "model.onnx": for reports. */
const char *model_kind(const model_desc *d, char *buf, size_t n);

/* The sample shape and the classes (outputs) for building: --input and --classes, else the
 * description's, else the data's (ds may be NULL: then 1x28x28 and 10). */
int model_shape(const model_desc *d, const ig_dataset *ds, int64_t *input, int *ndim, int64_t *classes);

/* Builds the model for samples of `input` (ndim dims) at nominal batch `batch`, with
 * `classes` outputs where the description leaves them open (presets). */
int model_build(const model_desc *d, ig_ctx *ctx, const int64_t *input, int ndim, int64_t classes, int64_t batch,
                uint64_t seed, ig_model **out);

/* Writes folder/model.json: the description with the input shape, classes, normalisation and
 * the class names of `names` (may be NULL) filled in. Creates the folder if needed. */
int model_save_desc(const model_desc *d, const char *folder, const int64_t *input, int ndim, int64_t classes,
                    const norm_spec *norm, const ig_dataset *names);

/* Loads weights into m from `weights` (a weights file), `checkpoint` (a checkpoint or a
 * folder of them) or, when both are NULL, from the saved folder the description came from
 * (its weights.safetensors, else its newest checkpoint). Returns CLI_OK having loaded
 * nothing only when there is nothing to load from (a preset or a JSON file): *loaded says. */
int model_load_weights(const model_desc *d, ig_model *m, const char *weights, const char *checkpoint, bool *loaded);

#endif /* INGOT_CLI_MODEL_H */
