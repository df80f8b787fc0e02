/* model_json.c — builds a model from the "layers" list of a model file: one object per builder
 * call, its parameters by the builder's names, inputs by reference to earlier layers' names.
 * Every error names the JSON path of the field at fault. */
#include "model_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { P_INT, P_REAL, P_BOOL, P_SHAPE, P_ENUM };
enum { MAX_PARAMS = 5, MAX_REFS = 1024 };

typedef struct param {
    const char *key;
    int type;
    bool required;
    double def, min;                /* P_INT, P_REAL: the default and the least valid value */
    const char *const *values;      /* P_ENUM: valid strings; the value is the index */
} param;

/* A layer's parameters after reading: numbers in p[] in the order of its table, the shape of
 * "reshape" in shape[]. */
typedef struct args {
    double p[MAX_PARAMS];
    int64_t shape[IG_MAX_DIMS];
    int ndim;
} args;

typedef struct kind {
    const char *type;
    int inputs; /* 1, or 2 for add (given as "inputs") */
    param params[MAX_PARAMS];
    ig_value (*build)(ig_model *m, const ig_value *in, const args *a, const char *name);
} kind;

static const char *const gelu_modes[] = {"none", "tanh", NULL};

#define I(p) ((int64_t)a->p)
static ig_value b_dense(ig_model *m, const ig_value *in, const args *a, const char *n) { return ig_dense(m, in[0], I(p[0]), a->p[1] != 0, n); }
static ig_value b_conv(ig_model *m, const ig_value *in, const args *a, const char *n)
{
    return ig_conv2d(m, in[0], I(p[0]), I(p[1]), I(p[2]), I(p[3]), a->p[4] != 0, n);
}
/* pooling's stride defaults to its kernel (-1 in the table) */
static ig_value b_maxpool(ig_model *m, const ig_value *in, const args *a, const char *n)
{
    return ig_maxpool2d(m, in[0], I(p[0]), a->p[1] < 0 ? I(p[0]) : I(p[1]), I(p[2]), n);
}
static ig_value b_avgpool(ig_model *m, const ig_value *in, const args *a, const char *n)
{
    return ig_avgpool2d(m, in[0], I(p[0]), a->p[1] < 0 ? I(p[0]) : I(p[1]), I(p[2]), n);
}
static ig_value b_relu(ig_model *m, const ig_value *in, const args *a, const char *n) { return ig_relu(m, in[0], n); }
static ig_value b_tanh(ig_model *m, const ig_value *in, const args *a, const char *n) { return ig_tanh(m, in[0], n); }
static ig_value b_sigmoid(ig_model *m, const ig_value *in, const args *a, const char *n) { return ig_sigmoid(m, in[0], n); }
static ig_value b_swish(ig_model *m, const ig_value *in, const args *a, const char *n) { return ig_swish(m, in[0], n); }
static ig_value b_softmax(ig_model *m, const ig_value *in, const args *a, const char *n) { return ig_softmax(m, in[0], n); }
static ig_value b_leaky(ig_model *m, const ig_value *in, const args *a, const char *n) { return ig_leaky_relu(m, in[0], (float)a->p[0], n); }
static ig_value b_elu(ig_model *m, const ig_value *in, const args *a, const char *n) { return ig_elu(m, in[0], (float)a->p[0], n); }
static ig_value b_gelu(ig_model *m, const ig_value *in, const args *a, const char *n) { return ig_gelu(m, in[0], a->p[0] == 1, n); }
static ig_value b_flatten(ig_model *m, const ig_value *in, const args *a, const char *n) { return ig_flatten(m, in[0], n); }
static ig_value b_reshape(ig_model *m, const ig_value *in, const args *a, const char *n) { return ig_reshape(m, in[0], a->shape, a->ndim, n); }
static ig_value b_dropout(ig_model *m, const ig_value *in, const args *a, const char *n) { return ig_dropout(m, in[0], (float)a->p[0], n); }
static ig_value b_gap(ig_model *m, const ig_value *in, const args *a, const char *n) { return ig_global_avgpool(m, in[0], n); }
static ig_value b_bn(ig_model *m, const ig_value *in, const args *a, const char *n) { return ig_batchnorm(m, in[0], (float)a->p[0], (float)a->p[1], n); }
static ig_value b_add(ig_model *m, const ig_value *in, const args *a, const char *n) { return ig_add(m, in[0], in[1], n); }
#undef I

#define POOL {{"kernel", P_INT, true, 0, 1}, {"stride", P_INT, false, -1, 1}, {"padding", P_INT, false, 0, 0}}
static const kind kinds[] = {
    {"dense", 1, {{"units", P_INT, true, 0, 1}, {"bias", P_BOOL, false, 1}}, b_dense},
    {"conv2d", 1,
     {{"filters", P_INT, true, 0, 1}, {"kernel", P_INT, true, 0, 1}, {"stride", P_INT, false, 1, 1},
      {"padding", P_INT, false, 0, 0}, {"bias", P_BOOL, false, 1}},
     b_conv},
    {"maxpool2d", 1, POOL, b_maxpool},
    {"avgpool2d", 1, POOL, b_avgpool},
    {"global_avgpool", 1, {{0}}, b_gap},
    {"batchnorm", 1, {{"momentum", P_REAL, false, 0.1, 0}, {"eps", P_REAL, false, 1e-5, 0}}, b_bn},
    {"relu", 1, {{0}}, b_relu},
    {"tanh", 1, {{0}}, b_tanh},
    {"sigmoid", 1, {{0}}, b_sigmoid},
    {"swish", 1, {{0}}, b_swish},
    {"softmax", 1, {{0}}, b_softmax},
    {"leaky_relu", 1, {{"slope", P_REAL, false, 0.01, -INFINITY}}, b_leaky},
    {"elu", 1, {{"alpha", P_REAL, false, 1, -INFINITY}}, b_elu},
    {"gelu", 1, {{"approximate", P_ENUM, false, 0, 0, gelu_modes}}, b_gelu},
    {"dropout", 1, {{"p", P_REAL, true, 0, 0}}, b_dropout},
    {"flatten", 1, {{0}}, b_flatten},
    {"reshape", 1, {{"shape", P_SHAPE, true}}, b_reshape},
    {"add", 2, {{0}}, b_add},
};
#undef POOL
enum { N_KINDS = sizeof kinds / sizeof kinds[0] };

/* Named values a layer can refer to: "input" and every layer given a name. */
typedef struct refs {
    const char *name[MAX_REFS];
    ig_value val[MAX_REFS];
    int n;
} refs;

static ig_value lookup(const refs *r, const char *name)
{
    for (int i = r->n - 1; i >= 0; i--)
        if (strcmp(r->name[i], name) == 0) return r->val[i];
    return IG_NO_VALUE;
}

static const char *type_names(char *buf, size_t n)
{
    const char *names[N_KINDS + 1];
    for (int i = 0; i < N_KINDS; i++) names[i] = kinds[i].type;
    names[N_KINDS] = NULL;
    return cli_join(names, buf, n);
}

/* Reads parameter p of layer `at` (the JSON path "layers[i]") into *out. */
static int read_param(const char *src, const char *at, const param *p, const cJSON *v, args *a, double *out)
{
    char valid[256];
    if (!v) {
        if (p->required) return cli_fail("%s: %s: \"%s\" is missing", src, at, p->key);
        *out = p->def;
        return CLI_OK;
    }
    switch (p->type) {
    case P_BOOL:
        if (!cJSON_IsBool(v)) return cli_fail("%s: %s.%s: must be true or false", src, at, p->key);
        *out = cJSON_IsTrue(v);
        return CLI_OK;
    case P_ENUM:
        for (int i = 0; cJSON_IsString(v) && p->values[i]; i++)
            if (strcmp(v->valuestring, p->values[i]) == 0) {
                *out = i;
                return CLI_OK;
            }
        return cli_fail("%s: %s.%s: must be one of %s", src, at, p->key, cli_join(p->values, valid, sizeof valid));
    case P_SHAPE: {
        int n = cJSON_GetArraySize(v);
        if (!cJSON_IsArray(v) || n < 1 || n > IG_MAX_DIMS - 1)
            return cli_fail("%s: %s.%s: must be a list of 1 to %d sizes (the batch dimension left out)", src, at, p->key,
                            IG_MAX_DIMS - 1);
        for (int i = 0; i < n; i++) {
            const cJSON *e = cJSON_GetArrayItem(v, i);
            if (!cJSON_IsNumber(e) || e->valuedouble < 1 || e->valuedouble != floor(e->valuedouble))
                return cli_fail("%s: %s.%s[%d]: must be a positive integer", src, at, p->key, i);
            a->shape[i] = (int64_t)e->valuedouble;
        }
        a->ndim = n;
        return CLI_OK;
    }
    default: {
        bool integer = p->type == P_INT;
        if (!cJSON_IsNumber(v) || (integer && v->valuedouble != floor(v->valuedouble)) || v->valuedouble < p->min)
            return cli_fail("%s: %s.%s: must be %s >= %g", src, at, p->key, integer ? "an integer" : "a number", p->min);
        *out = v->valuedouble;
        return CLI_OK;
    }
    }
}

/* The input(s) of layer `at`: "input"/"inputs" references, else the previous layer. */
static int read_inputs(const char *src, const char *at, const kind *k, const cJSON *layer, const refs *r, ig_value prev,
                       ig_value *in)
{
    const cJSON *one = cJSON_GetObjectItemCaseSensitive(layer, "input");
    const cJSON *many = cJSON_GetObjectItemCaseSensitive(layer, "inputs");
    if (k->inputs == 2) {
        if (one) return cli_fail("%s: %s.input: an add layer takes \"inputs\": [\"a\", \"b\"]", src, at);
        if (!cJSON_IsArray(many) || cJSON_GetArraySize(many) != 2)
            return cli_fail("%s: %s.inputs: must be a list of two layer names", src, at);
    } else {
        if (many) return cli_fail("%s: %s.inputs: a %s layer takes one \"input\"", src, at, k->type);
        if (!one) {
            in[0] = prev;
            return CLI_OK;
        }
    }
    for (int i = 0; i < k->inputs; i++) {
        const cJSON *ref = k->inputs == 2 ? cJSON_GetArrayItem(many, i) : one;
        char path[96];
        if (k->inputs == 2) snprintf(path, sizeof path, "%s.inputs[%d]", at, i);
        else snprintf(path, sizeof path, "%s.input", at);
        if (!cJSON_IsString(ref)) return cli_fail("%s: %s: must be a layer's name or \"input\"", src, path);
        in[i] = lookup(r, ref->valuestring);
        if (in[i] == IG_NO_VALUE)
            return cli_fail("%s: %s: no earlier layer is named \"%s\" (refer to \"input\" or to a layer before this one "
                            "by its \"name\")", src, path, ref->valuestring);
    }
    return CLI_OK;
}

/* Every key of a layer is its "type", "name", its inputs or one of its parameters. */
static int check_keys(const char *src, const char *at, const kind *k, const cJSON *layer)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, layer)
    {
        const char *key = f->string;
        bool ok = !strcmp(key, "type") || !strcmp(key, "name") || !strcmp(key, "input") || !strcmp(key, "inputs");
        for (int i = 0; !ok && i < MAX_PARAMS && k->params[i].key; i++) ok = !strcmp(key, k->params[i].key);
        if (ok) continue;
        char valid[256] = "";
        size_t len = 0;
        for (int i = 0; i < MAX_PARAMS && k->params[i].key; i++)
            len += (size_t)snprintf(valid + len, sizeof valid - len, "%s\"%s\"", len ? ", " : "", k->params[i].key);
        return cli_fail("%s: %s.%s: a %s layer has no such field (%s%s\"type\", \"name\", \"input%s\")", src, at, key,
                        k->type, valid, len ? ", " : "", k->inputs == 2 ? "s" : "");
    }
    return CLI_OK;
}

int model_json_build(const cJSON *layers, const cJSON *output, const char *src, ig_model *m)
{
    if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) < 1)
        return cli_fail("%s: layers: must be a non-empty list of layer objects", src);
    refs r;
    r.n = 0;
    r.name[r.n] = "input";
    r.val[r.n++] = ig_model_input(m);
    ig_value prev = ig_model_input(m);
    int i = 0;
    const cJSON *layer;
    cJSON_ArrayForEach(layer, layers)
    {
        char at[32], valid[512];
        snprintf(at, sizeof at, "layers[%d]", i++);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(layer, "type");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(layer, "name");
        if (!cJSON_IsObject(layer)) return cli_fail("%s: %s: must be an object with a \"type\"", src, at);
        if (!cJSON_IsString(type)) return cli_fail("%s: %s.type: missing; valid: %s", src, at, type_names(valid, sizeof valid));
        if (name && (!cJSON_IsString(name) || !*name->valuestring))
            return cli_fail("%s: %s.name: must be a non-empty string", src, at);
        const kind *k = NULL;
        for (int j = 0; j < N_KINDS && !k; j++)
            if (strcmp(kinds[j].type, type->valuestring) == 0) k = &kinds[j];
        if (!k)
            return cli_fail("%s: %s.type: \"%s\" is not a layer type; valid: %s", src, at, type->valuestring,
                            type_names(valid, sizeof valid));
        CLI_TRY(check_keys(src, at, k, layer));
        args a = {{0}};
        for (int j = 0; j < MAX_PARAMS && k->params[j].key; j++)
            CLI_TRY(read_param(src, at, &k->params[j], cJSON_GetObjectItemCaseSensitive(layer, k->params[j].key), &a, &a.p[j]));
        ig_value in[2];
        CLI_TRY(read_inputs(src, at, k, layer, &r, prev, in));
        const char *nm = name ? name->valuestring : NULL;
        if (nm && lookup(&r, nm) != IG_NO_VALUE)
            return cli_fail("%s: %s.name: \"%s\" is taken by an earlier layer (or is \"input\")", src, at, nm);
        if (nm && r.n == MAX_REFS) return cli_fail("%s: %s.name: more than %d named layers", src, at, MAX_REFS);
        prev = k->build(m, in, &a, nm);
        if (prev == IG_NO_VALUE) return cli_fail("%s: %s (%s): %s", src, at, k->type, ig_last_error());
        if (nm) {
            r.name[r.n] = nm;
            r.val[r.n++] = prev;
        }
    }
    if (output) {
        if (!cJSON_IsString(output) || (prev = lookup(&r, output->valuestring)) == IG_NO_VALUE)
            return cli_fail("%s: output: must be the name of a layer", src);
    }
    return ig_model_set_output(m, prev) == IG_OK ? CLI_OK : cli_lib_fail(src);
}
