/* model.c — model descriptions (--model), building them, and where their weights are. */
#include "model.h"
#include "model_json.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const presets[] = {"mlp", "cnn", "resnet18", NULL};

model_opts cli_model = {.model = "cnn"};

static const cli_opt model_table[] = {
    {"model", CLI_STRING, &cli_model.model, "MODEL",
     "a preset (mlp, cnn, resnet18), a model file (.json, see docs/cli.md), an ONNX file, or a folder written by "
     "ingot train --save or --checkpoint-dir"},
    {"input", CLI_STRING, &cli_model.input, "CxHxW", "the shape of one sample", NULL, 0, 0, "the model file's, else the data's"},
    {"classes", CLI_INT, &cli_model.classes, "K", "a preset's outputs", NULL, 1, 1e9, "the model file's, else the data's"},
};
const cli_group cli_model_group = CLI_GROUP("model", model_table);

static const cli_opt weights_table[] = {
    {"weights", CLI_STRING, &cli_model.weights, "FILE", "trained weights (safetensors, as ingot train --save writes them)"},
    {"checkpoint", CLI_STRING, &cli_model.checkpoint, "PATH", "take the weights from a checkpoint, or a folder's newest"},
};
const cli_group cli_weights_group = CLI_GROUP("trained weights (default: those of the --model folder)", weights_table);

int model_shape(const model_desc *d, const ig_dataset *ds, int64_t *input, int *ndim, int64_t *classes)
{
    if (cli_model.input) {
        if ((*ndim = cli_parse_shape(cli_model.input, input, IG_MAX_DIMS - 1)) < 0)
            return cli_usage("--input: \"%s\" is not valid; valid: the sizes of one sample, e.g. 1x28x28 or 3x32x32", cli_model.input);
    } else if (!(*ndim = model_input(d, input))) {
        if (ds) *ndim = ig_dataset_sample_shape(ds, input);
        else input[0] = 1, input[1] = input[2] = 28, *ndim = 3;
    }
    *classes = cli_model.classes;
    if (!*classes) *classes = model_classes(d);
    if (!*classes && ds) *classes = ig_dataset_num_classes(ds) ? ig_dataset_num_classes(ds) : ig_dataset_target_dim(ds);
    if (!*classes) *classes = 10;
    return CLI_OK;
}
/* The keys of a model file. */
static const char *const top_keys[] = {"format", "preset", "layers", "onnx", "output", "input",
                                       "classes", "normalize", "class_names", NULL};

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The whole file as a NUL-terminated string (free it), or NULL with errno set. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *nb = realloc(buf, cap = 2 * cap + 8192);
            if (!nb) break;
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) break;
    }
    bool bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

static int parse_json_file(const char *path, cJSON **out)
{
    char *text = read_text(path);
    if (!text) return cli_fail("%s: cannot read it (%s)", path, strerror(errno));
    const char *end = NULL;
    *out = cJSON_ParseWithOpts(text, &end, true);
    if (!*out) {
        /* the line and column of where the parser stopped */
        const char *at = end && *end ? end : cJSON_GetErrorPtr();
        int line = 1, col = 1;
        for (const char *p = text; at && p < at && *p; p++) {
            if (*p == '\n') line++, col = 1;
            else col++;
        }
        cli_fail("%s: line %d, column %d: not valid JSON", path, line, col);
        free(text);
        return CLI_FAILED;
    }
    free(text);
    return CLI_OK;
}

/* The checks a description gets before anything is built: keys, kinds, the shape fields. */
static int check_desc(const model_desc *d)
{
    const cJSON *j = d->json, *f;
    const char *src = d->source;
    if (!cJSON_IsObject(j)) return cli_fail("%s: must be a JSON object with \"layers\" or \"preset\"", src);
    cJSON_ArrayForEach(f, j)
    {
        bool ok = false;
        for (int i = 0; top_keys[i] && !ok; i++) ok = strcmp(f->string, top_keys[i]) == 0;
        char valid[256];
        if (!ok) return cli_fail("%s: %s: not a field of a model file; valid: %s", src, f->string, cli_join(top_keys, valid, sizeof valid));
    }
    const cJSON *preset = cJSON_GetObjectItemCaseSensitive(j, "preset");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(j, "layers");
    const cJSON *onnx = cJSON_GetObjectItemCaseSensitive(j, "onnx");
    if (!!preset + !!layers + !!onnx != 1) return cli_fail("%s: needs exactly one of \"layers\", \"preset\" and \"onnx\"", src);
    char valid[128];
    if (preset) {
        bool ok = false;
        for (int i = 0; presets[i] && cJSON_IsString(preset) && !ok; i++) ok = strcmp(preset->valuestring, presets[i]) == 0;
        if (!ok) return cli_fail("%s: preset: must be one of %s", src, cli_join(presets, valid, sizeof valid));
    }
    if (onnx && !cJSON_IsString(onnx)) return cli_fail("%s: onnx: must be the ONNX file's path", src);
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(j, "input");
    int n = cJSON_GetArraySize(input);
    if (input && (!cJSON_IsArray(input) || n < 1 || n > IG_MAX_DIMS - 1))
        return cli_fail("%s: input: must be the shape of one sample, a list of 1 to %d sizes (e.g. [1, 28, 28])", src,
                        IG_MAX_DIMS - 1);
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(input, i);
        if (!cJSON_IsNumber(e) || e->valuedouble < 1 || e->valuedouble != floor(e->valuedouble))
            return cli_fail("%s: input[%d]: must be a positive integer", src, i);
    }
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(j, "classes");
    if (classes && (!cJSON_IsNumber(classes) || classes->valuedouble < 1 || classes->valuedouble != floor(classes->valuedouble)))
        return cli_fail("%s: classes: must be a positive integer", src);
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(j, "normalize");
    if (norm) {
        const cJSON *mean = cJSON_GetObjectItemCaseSensitive(norm, "mean"), *std = cJSON_GetObjectItemCaseSensitive(norm, "std");
        if (!cJSON_IsNumber(mean) || !cJSON_IsNumber(std) || !(std->valuedouble > 0))
            return cli_fail("%s: normalize: must be {\"mean\": number, \"std\": number > 0}", src);
    }
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(j, "class_names");
    if (names && !cJSON_IsArray(names)) return cli_fail("%s: class_names: must be a list of strings", src);
    return CLI_OK;
}

int model_from_preset(const char *preset, model_desc *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->source, sizeof d->source, "%s", preset);
    d->json = cJSON_CreateObject();
    if (!d->json || !cJSON_AddStringToObject(d->json, "preset", preset)) return cli_fail("out of memory");
    return CLI_OK;
}

int model_open(const char *spec, model_desc *d)
{
    memset(d, 0, sizeof *d);
    for (int i = 0; presets[i]; i++)
        if (strcmp(spec, presets[i]) == 0) return model_from_preset(spec, d);
    char path[4096];
    snprintf(path, sizeof path, "%s", spec);
    if (cli_is_dir(spec)) {
        snprintf(d->folder, sizeof d->folder, "%s", spec);
        snprintf(path, sizeof path, "%s/model.json", spec);
        if (access(path, R_OK) != 0)
            return cli_fail("--model %s: the folder has no model.json (a folder given as --model is one that ingot train "
                            "--save or --checkpoint-dir wrote)", spec);
    } else if (access(spec, R_OK) != 0) {
        char valid[64];
        return cli_fail("--model %s: not a preset (%s) and no such file or folder", spec, cli_join(presets, valid, sizeof valid));
    }
    snprintf(d->source, sizeof d->source, "%s", path);
    if (ends_with(spec, ".onnx")) {
        snprintf(d->onnx, sizeof d->onnx, "%s", spec);
        return CLI_OK;
    }
    CLI_TRY(parse_json_file(path, &d->json));
    CLI_TRY(check_desc(d));
    const cJSON *onnx = cJSON_GetObjectItemCaseSensitive(d->json, "onnx");
    if (onnx) {
        /* relative to the folder of the model file */
        const char *slash = strrchr(path, '/');
        if (onnx->valuestring[0] == '/' || !slash) snprintf(d->onnx, sizeof d->onnx, "%s", onnx->valuestring);
        else snprintf(d->onnx, sizeof d->onnx, "%.*s/%s", (int)(slash - path), path, onnx->valuestring);
    }
    return CLI_OK;
}

void model_close(model_desc *d)
{
    cJSON_Delete(d->json);
    memset(d, 0, sizeof *d);
}

int model_input(const model_desc *d, int64_t *shape)
{
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(d->json, "input");
    int n = cJSON_GetArraySize(input);
    for (int i = 0; i < n; i++) shape[i] = (int64_t)cJSON_GetArrayItem(input, i)->valuedouble;
    return n;
}

int64_t model_classes(const model_desc *d)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(d->json, "classes");
    return c ? (int64_t)c->valuedouble : 0;
}

bool model_norm(const model_desc *d, norm_spec *out)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(d->json, "normalize");
    if (!n) return false;
    *out = (norm_spec){.on = true,
                       .mean = cJSON_GetObjectItemCaseSensitive(n, "mean")->valuedouble,
                       .std = cJSON_GetObjectItemCaseSensitive(n, "std")->valuedouble};
    return true;
}

const char *model_kind(const model_desc *d, char *buf, size_t n)
{
    const cJSON *preset = cJSON_GetObjectItemCaseSensitive(d->json, "preset");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(d->json, "layers");
    if (preset) snprintf(buf, n, "preset %s", preset->valuestring);
    else if (layers) snprintf(buf, n, "%s (%d layers)", d->source, cJSON_GetArraySize(layers));
    else snprintf(buf, n, "ONNX %s", d->onnx);
    return buf;
}

int model_build(const model_desc *d, ig_ctx *ctx, const int64_t *input, int ndim, int64_t classes, int64_t batch,
                uint64_t seed, ig_model **out)
{
    *out = NULL;
    if (d->onnx[0]) return ig_model_import_onnx(ctx, d->onnx, out) == IG_OK ? CLI_OK : cli_lib_fail(d->onnx);
    int64_t shape[IG_MAX_DIMS] = {batch};
    memcpy(shape + 1, input, (size_t)ndim * sizeof *shape);
    const cJSON *preset = cJSON_GetObjectItemCaseSensitive(d->json, "preset");
    ig_model *m = NULL;
    int rc = CLI_OK;
    if (preset) {
        if (ig_model_create_preset(ctx, preset->valuestring, shape, ndim + 1, classes, &m) != IG_OK) rc = cli_lib_fail(NULL);
    } else if (ig_model_create(ctx, shape, ndim + 1, &m) != IG_OK) {
        rc = cli_lib_fail(d->source);
    } else {
        rc = model_json_build(cJSON_GetObjectItemCaseSensitive(d->json, "layers"),
                              cJSON_GetObjectItemCaseSensitive(d->json, "output"), d->source, m);
    }
    if (rc == CLI_OK && ig_model_set_seed(m, seed) != IG_OK) rc = cli_lib_fail(NULL);
    if (rc != CLI_OK) {
        ig_model_destroy(m);
        return rc;
    }
    *out = m;
    return CLI_OK;
}

int model_save_desc(const model_desc *d, const char *folder, const int64_t *input, int ndim, int64_t classes,
                    const norm_spec *norm, const ig_dataset *names)
{
    CLI_TRY(cli_make_dirs(folder));
    cJSON *j = d->json ? cJSON_Duplicate(d->json, true) : cJSON_CreateObject();
    if (!j) return cli_fail("out of memory");
    char path[4096];
    /* an ONNX model is described by itself; the copy keeps its absolute path */
    if (d->onnx[0]) {
        char *abs = realpath(d->onnx, NULL);
        cJSON_DeleteItemFromObject(j, "onnx");
        cJSON_AddStringToObject(j, "onnx", abs ? abs : d->onnx);
        free(abs);
    }
    const char *replaced[] = {"format", "input", "classes", "normalize", "class_names"};
    for (int i = 0; i < 5; i++) cJSON_DeleteItemFromObject(j, replaced[i]);
    cJSON_AddStringToObject(j, "format", "ingot-model-1");
    int dims[IG_MAX_DIMS];
    for (int i = 0; i < ndim; i++) dims[i] = (int)input[i];
    cJSON_AddItemToObject(j, "input", cJSON_CreateIntArray(dims, ndim));
    if (classes > 0) cJSON_AddNumberToObject(j, "classes", (double)classes);
    if (norm && norm->on) {
        cJSON *n = cJSON_AddObjectToObject(j, "normalize");
        cJSON_AddNumberToObject(n, "mean", norm->mean);
        cJSON_AddNumberToObject(n, "std", norm->std);
    }
    if (names && ig_dataset_class_name(names, 0)) {
        cJSON *a = cJSON_AddArrayToObject(j, "class_names");
        for (int32_t c = 0; c < ig_dataset_num_classes(names); c++)
            cJSON_AddItemToArray(a, cJSON_CreateString(ig_dataset_class_name(names, c)));
    }
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) return cli_fail("out of memory");
    /* written beside, then renamed: a crash never leaves half a file */
    char tmp[4200];
    snprintf(path, sizeof path, "%s/model.json", folder);
    snprintf(tmp, sizeof tmp, "%s/.model.json.tmp", folder);
    FILE *f = fopen(tmp, "w");
    bool ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok = (f && fclose(f) == 0) && ok;
    free(text);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return cli_fail("%s: cannot write it (%s)", path, strerror(errno));
    }
    return CLI_OK;
}

/* The manifest's tensors file ("tensors": {"file": ...}, docs/checkpoints.md). */
static const char *tensors_name(const cJSON *manifest)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(manifest, "tensors"), "file");
    return cJSON_IsString(f) ? f->valuestring : NULL;
}

/* The newest checkpoint manifest of a folder ("ckpt-<12-digit step>.json" sorts by step). */
static bool newest_manifest(const char *dir, char *out, size_t n)
{
    DIR *dp = opendir(dir);
    if (!dp) return false;
    char best[256] = "";
    struct dirent *e;
    while ((e = readdir(dp)))
        if (strncmp(e->d_name, "ckpt-", 5) == 0 && ends_with(e->d_name, ".json") && strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", e->d_name);
    closedir(dp);
    if (!best[0]) return false;
    snprintf(out, n, "%s/%s", dir, best);
    return true;
}

/* Loads the model's weights out of a checkpoint: its tensors file holds them under their own
 * names beside the optimizer's state. */
static int load_checkpoint(ig_model *m, const char *path)
{
    char manifest[4096];
    if (cli_is_dir(path)) {
        if (!newest_manifest(path, manifest, sizeof manifest))
            return cli_fail("--checkpoint %s: the folder holds no checkpoint (ckpt-*.json)", path);
    } else {
        snprintf(manifest, sizeof manifest, ends_with(path, ".json") ? "%s" : "%s.json", path);
    }
    cJSON *j;
    CLI_TRY(parse_json_file(manifest, &j));
    const char *name = tensors_name(j);
    if (!name) {
        cJSON_Delete(j);
        return cli_fail("%s: names no tensors file (\"tensors\": {\"file\": ...}): not a checkpoint manifest", manifest);
    }
    char file[4200];
    const char *slash = strrchr(manifest, '/');
    if (name[0] == '/' || !slash) snprintf(file, sizeof file, "%s", name);
    else snprintf(file, sizeof file, "%.*s/%s", (int)(slash - manifest), manifest, name);
    cJSON_Delete(j);
    ig_weights_options o = ig_weights_defaults();
    o.allow_unexpected = true; /* the optimizer's state */
    return ig_model_load_weights(m, file, &o) == IG_OK ? CLI_OK : cli_lib_fail(NULL);
}

int model_load_weights(const model_desc *d, ig_model *m, const char *weights, const char *checkpoint, bool *loaded)
{
    *loaded = true;
    if (weights) return ig_model_load_weights(m, weights, NULL) == IG_OK ? CLI_OK : cli_lib_fail(NULL);
    if (checkpoint) return load_checkpoint(m, checkpoint);
    if (d->folder[0]) {
        char path[4200];
        snprintf(path, sizeof path, "%s/weights.safetensors", d->folder);
        if (access(path, R_OK) == 0) return ig_model_load_weights(m, path, NULL) == IG_OK ? CLI_OK : cli_lib_fail(NULL);
        if (newest_manifest(d->folder, path, sizeof path)) return load_checkpoint(m, d->folder);
        return cli_fail("--model %s: the folder holds neither weights.safetensors nor a checkpoint", d->folder);
    }
    *loaded = d->onnx[0] != 0; /* an ONNX file carries its weights */
    return CLI_OK;
}
