/* cmd_eval.c — `ingot eval` (the metrics of a trained model on a dataset) and `ingot predict`
 * (its predictions, one CSV row per sample). Both load the model, its weights and the data the
 * same way. */
#include "cli.h"
#include "data.h"
#include "evaluation.h"
#include "model.h"
#include "report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const splits[] = {"test", "train", NULL};

static struct {
    int device, split;
    int64_t batch, top;
    bool json, probabilities;
    const char *report, *output;
} A = {.batch = 1000, .top = 1};

static const cli_opt eval_table[] = {
    {"split", CLI_CHOICE, &A.split, "PART",
     "test: an IDX folder's t10k-* files, else --test-data if given, else --data; train: --data", splits},
    {"batch-size", CLI_INT, &A.batch, "N", "samples per forward pass", NULL, 1, 1 << 24},
    CLI_DEVICE_OPT(&A.device),
    {"json", CLI_FLAG, &A.json, NULL, "print the metrics as JSON"},
    {"report", CLI_STRING, &A.report, "DIR", "write report.html (confusion matrix, ROC/PR curves, model) and run.json"},
};
static const cli_opt predict_table[] = {
    {"split", CLI_CHOICE, &A.split, "PART", "as for eval", splits},
    {"batch-size", CLI_INT, &A.batch, "N", "samples per forward pass", NULL, 1, 1 << 24},
    CLI_DEVICE_OPT(&A.device),
    {"output", CLI_STRING, &A.output, "FILE", "write the CSV there", NULL, 0, 0, "standard output"},
    {"top", CLI_INT, &A.top, "K", "the K most likely classes of each sample, with their probabilities", NULL, 1, 1000},
    {"probabilities", CLI_FLAG, &A.probabilities, NULL, "add every class's probability"},
};
static const cli_group eval_group = CLI_GROUP("evaluation", eval_table), predict_group = CLI_GROUP("prediction", predict_table);
static const cli_group *const eval_groups[] = {&cli_model_group, &cli_weights_group, &cli_data_group, &eval_group};
static const cli_group *const predict_groups[] = {&cli_model_group, &cli_weights_group, &cli_data_group, &predict_group};

static int run_eval(void);
static int run_predict(void);
const cli_command cmd_eval = {
    "eval", "evaluate a trained model on a dataset",
    "Evaluates a trained model: loss, accuracy, top-5 accuracy, per-class and macro/micro/weighted\n"
    "precision, recall and F1, one-vs-rest ROC AUC and average precision, and the confusion matrix\n"
    "(MSE, RMSE, MAE and R2 for float targets). The model is --model with its weights: a folder from\n"
    "ingot train --save or --checkpoint-dir carries both; otherwise give --weights or --checkpoint.",
    eval_groups, sizeof eval_groups / sizeof eval_groups[0], run_eval};
const cli_command cmd_predict = {
    "predict", "write a trained model's predictions as CSV",
    "Runs a trained model over a dataset and writes one CSV row per sample: its index, the predicted\n"
    "class (its name where the data or the model has names) with its probability, the true label,\n"
    "and with --top or --probabilities more classes. For float targets: the outputs and the targets.",
    predict_groups, sizeof predict_groups / sizeof predict_groups[0], run_predict};

typedef struct session {
    ig_ctx *ctx;
    ig_dataset *ds;
    ig_model *m;
    model_desc desc;
    const char **names; /* the model file's class names (NULL where it has none) */
} session;

static void close_session(session *s)
{
    free(s->names);
    ig_model_destroy(s->m);
    model_close(&s->desc);
    ig_dataset_destroy(s->ds);
    ig_ctx_destroy(s->ctx);
}

/* The model (with its trained weights) and the data, normalised as the model was trained. */
static int open_session(session *s)
{
    memset(s, 0, sizeof *s);
    CLI_TRY(model_open(cli_model.model, &s->desc));
    CLI_TRY(cli_context(A.device, &s->ctx));
    bool idx = data_resolved_kind() == DATA_IDX, test = A.split == 0 && (idx || cli_data.test_path);
    CLI_TRY(data_load(s->ctx, test, 0, &s->ds));
    if (!s->ds) return cli_fail("--data %s: no test part (t10k-* files); use --split train", cli_data.path);
    norm_spec norm = {0};
    if (cli_data.normalize) CLI_TRY(data_parse_normalize(cli_data.normalize, &norm));
    else model_norm(&s->desc, &norm);
    if (norm.automatic) CLI_TRY(data_stats(s->ds, &norm.mean, &norm.std));
    if (norm.on && ig_dataset_normalize(s->ds, (float)norm.mean, (float)norm.std) != IG_OK) return cli_lib_fail("--normalize");
    int64_t input[IG_MAX_DIMS], classes;
    int ndim;
    CLI_TRY(model_shape(&s->desc, s->ds, input, &ndim, &classes));
    CLI_TRY(model_build(&s->desc, s->ctx, input, ndim, classes, A.batch, 0, &s->m));
    bool loaded;
    CLI_TRY(model_load_weights(&s->desc, s->m, cli_model.weights, cli_model.checkpoint, &loaded));
    if (!loaded)
        return cli_fail("--model %s has no trained weights: give --weights FILE or --checkpoint PATH, or a folder that "
                        "ingot train --save wrote", cli_model.model);
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(s->desc.json, "class_names");
    int n = cJSON_GetArraySize(names);
    if (n && (s->names = calloc((size_t)(n > classes ? n : classes), sizeof *s->names)))
        for (int i = 0; i < n; i++)
            if (cJSON_IsString(cJSON_GetArrayItem(names, i))) s->names[i] = cJSON_GetArrayItem(names, i)->valuestring;
    return CLI_OK;
}

static int eval(session *s)
{
    CLI_TRY(open_session(s));
    evaluation e;
    int rc = evaluate_model(s->m, s->ds, A.batch, s->names, &e);
    if (rc != CLI_OK) return rc;
    char what[4200];
    snprintf(what, sizeof what, "%s (%s)", cli_data.test_path && A.split == 0 ? cli_data.test_path : cli_data.path,
             splits[A.split]);
    if (A.json) {
        cJSON *j = evaluation_json(&e);
        char *text = cJSON_Print(j);
        if (text) puts(text);
        free(text);
        cJSON_Delete(j);
    } else {
        evaluation_print(stdout, &e, what);
    }
    if (A.report) {
        report_config cfg = {0};
        char kind[512];
        report_config_add(&cfg, "model", "%s", model_kind(&s->desc, kind, sizeof kind));
        report_config_add(&cfg, "weights", "%s", cli_model.weights ? cli_model.weights : cli_model.checkpoint ? cli_model.checkpoint : s->desc.folder);
        report_config_add(&cfg, "data", "%s", what);
        report_config_add(&cfg, "device", "%s", ig_device_name(ig_ctx_device(s->ctx)));
        report_input in = {"ingot evaluation report", NULL, &e, what, s->m, &cfg};
        rc = report_write(A.report, &in);
        report_config_free(&cfg);
        if (rc == CLI_OK && !A.json) printf("wrote %s/report.html\n", A.report);
    }
    evaluation_free(&e);
    return rc;
}

static void csv_text(FILE *f, const char *s)
{
    /* RFC 4180: quoted when it holds a delimiter, a quote or a line break */
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void class_cell(FILE *f, const session *s, int64_t c)
{
    const char *name = ig_dataset_class_name(s->ds, (int32_t)c);
    if (!name && s->names) name = s->names[c];
    if (name) csv_text(f, name);
    else fprintf(f, "%lld", (long long)c);
}

static void write_predictions(FILE *f, const session *s, const float *scores, int64_t k, const ig_tensor *targets)
{
    int64_t n = ig_dataset_size(s->ds), top = A.top < k ? A.top : k;
    bool classes = ig_dataset_num_classes(s->ds) > 0;
    if (!classes) {
        fputs("index", f);
        for (int64_t j = 0; j < k; j++) fprintf(f, ",output_%lld", (long long)j);
        for (int64_t j = 0; j < k; j++) fprintf(f, ",target_%lld", (long long)j);
        fputc('\n', f);
        const float *t = ig_tensor_data_const(targets);
        for (int64_t i = 0; i < n; i++) {
            fprintf(f, "%lld", (long long)i);
            for (int64_t j = 0; j < k; j++) fprintf(f, ",%.9g", scores[i * k + j]);
            for (int64_t j = 0; j < k; j++) fprintf(f, ",%.9g", t[i * k + j]);
            fputc('\n', f);
        }
        return;
    }
    float *p = malloc((size_t)k * sizeof *p);
    int64_t *order = malloc((size_t)k * sizeof *order);
    if (!p || !order) {
        free(p), free(order);
        return;
    }
    fputs("index,label", f);
    if (top == 1) fputs(",predicted,probability", f);
    for (int64_t r = 0; top > 1 && r < top; r++) fprintf(f, ",predicted_%lld,probability_%lld", (long long)r + 1, (long long)r + 1);
    for (int64_t j = 0; A.probabilities && j < k; j++) fprintf(f, ",p_%lld", (long long)j);
    fputc('\n', f);
    const int32_t *labels = ig_tensor_data_const(targets);
    for (int64_t i = 0; i < n; i++) {
        softmax_rows(scores + i * k, 1, k, p);
        /* the top classes by selection: K is small */
        for (int64_t j = 0; j < k; j++) order[j] = j;
        for (int64_t r = 0; r < top; r++)
            for (int64_t j = r + 1; j < k; j++)
                if (p[order[j]] > p[order[r]]) {
                    int64_t t = order[r];
                    order[r] = order[j], order[j] = t;
                }
        fprintf(f, "%lld,", (long long)i);
        class_cell(f, s, labels[i]);
        for (int64_t r = 0; r < top; r++) {
            fputc(',', f);
            class_cell(f, s, order[r]);
            fprintf(f, ",%.6f", p[order[r]]);
        }
        for (int64_t j = 0; A.probabilities && j < k; j++) fprintf(f, ",%.6f", p[j]);
        fputc('\n', f);
    }
    free(p);
    free(order);
}

static int predict(session *s)
{
    CLI_TRY(open_session(s));
    float *scores;
    int64_t k;
    ig_tensor *targets;
    CLI_TRY(predict_all(s->m, s->ds, A.batch, &scores, &k, &targets));
    FILE *f = A.output ? fopen(A.output, "w") : stdout;
    int rc = CLI_OK;
    if (!f) rc = cli_fail("--output %s: cannot write it (%s)", A.output, strerror(errno));
    else {
        write_predictions(f, s, scores, k, targets);
        if ((A.output ? fclose(f) : fflush(f)) != 0) rc = cli_fail("%s: cannot write it (%s)", A.output ? A.output : "standard output", strerror(errno));
    }
    free(scores);
    ig_tensor_release(targets);
    return rc;
}

static int run_eval(void)
{
    session s;
    int rc = eval(&s);
    close_session(&s);
    return rc;
}

static int run_predict(void)
{
    session s;
    int rc = predict(&s);
    close_session(&s);
    return rc;
}
