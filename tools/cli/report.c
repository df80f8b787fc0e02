/* report.c — the HTML report and run.json. */
#include "report.h"
#include "svg.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void report_config_add(report_config *c, const char *key, const char *fmt, ...)
{
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 32;
        void *r = realloc(c->rows, (size_t)cap * sizeof *c->rows);
        if (!r) return; /* a row short: the report loses a line, nothing else */
        c->rows = r;
        c->cap = cap;
    }
    snprintf(c->rows[c->n][0], sizeof c->rows[c->n][0], "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->rows[c->n][1], sizeof c->rows[c->n][1], fmt, ap);
    va_end(ap);
    c->n++;
}

void report_config_free(report_config *c)
{
    free(c->rows);
    memset(c, 0, sizeof *c);
}

static const char style[] =
    "body{font-family:system-ui,'DejaVu Sans',sans-serif;color:#1c2430;background:#fff;margin:24px 32px;max-width:1320px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #e3e6ea;padding-bottom:4px}"
    ".meta{color:#5b6573;font-size:13px;margin:0 0 16px}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #e3e6ea;border-radius:6px;padding:8px 14px;min-width:120px}"
    ".card b{display:block;font-size:20px}.card span{color:#5b6573;font-size:12px}"
    ".grid{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:flex-start}"
    "svg.chart .t{font-size:14px;font-weight:600;fill:#1c2430}svg.chart .k{font-size:11px;fill:#4a5462}"
    "svg.chart .a{font-size:12px;fill:#4a5462}svg.chart .c{font-size:11px}svg.chart .g{stroke:#e6e9ed}"
    "table{border-collapse:collapse;font-size:13px;margin:4px 0}th,td{padding:3px 10px;text-align:right;border-bottom:1px solid #eef0f3}"
    "th{background:#f3f5f7}td:first-child,th:first-child{text-align:left}td.l{text-align:left}"
    ".note{color:#5b6573;font-size:12px}";

static void card(FILE *f, const char *label, const char *fmt, double v)
{
    if (isnan(v)) return;
    fprintf(f, "<div class=\"card\"><b>");
    fprintf(f, fmt, v);
    fprintf(f, "</b><span>%s</span></div>\n", label);
}

/* The x of every step (its number) and of every epoch (the steps taken when it ended). */
static void training_charts(FILE *f, const history *h)
{
    int ne = h->n_epochs;
    double *sx = malloc((size_t)(h->n ? h->n : 1) * sizeof *sx), *sl = malloc((size_t)(h->n ? h->n : 1) * sizeof *sl),
           *sr = malloc((size_t)(h->n ? h->n : 1) * sizeof *sr), *ex = malloc((size_t)(ne ? ne : 1) * 6 * sizeof *ex);
    if (!sx || !sl || !sr || !ex) {
        fputs("<p class=\"note\">(out of memory drawing the training curves)</p>", f);
        free(sx), free(sl), free(sr), free(ex);
        return;
    }
    for (int64_t i = 0; i < h->n; i++) sx[i] = (double)(h->first_step + i + 1), sl[i] = h->loss[i], sr[i] = h->lr[i];
    double *ey[5]; /* per epoch: train loss, train loss (eval), validation loss, train and validation accuracy */
    for (int k = 0; k < 5; k++) ey[k] = ex + (k + 1) * ne;
    for (int i = 0; i < ne; i++) {
        const epoch_record *r = &h->epochs[i];
        ex[i] = (double)r->end_step;
        ey[0][i] = r->train_loss, ey[1][i] = r->train_eval_loss, ey[2][i] = r->val_loss;
        ey[3][i] = r->train_acc, ey[4][i] = r->val_acc;
    }
    char val_loss[64], val_acc[64];
    snprintf(val_loss, sizeof val_loss, "%s loss", h->val_name);
    snprintf(val_acc, sizeof val_acc, "%s accuracy", h->val_name);
    bool have_val = ne && !isnan(ey[2][ne - 1]), have_tr = ne && !isnan(ey[1][ne - 1]);
    svg_series loss[4] = {
        {"train loss (steps)", svg_color(0), sx, sl, h->n, false, false, true},
        {"train loss (epoch)", svg_color(0), ex, ey[0], ne, true, false, false},
    };
    int nl = 2;
    if (have_tr) loss[nl++] = (svg_series){"train loss (eval)", svg_color(2), ex, ey[1], ne, true, true, false};
    if (have_val) loss[nl++] = (svg_series){val_loss, svg_color(1), ex, ey[2], ne, true, false, false};
    fputs("<div class=\"grid\">\n", f);
    svg_axes a = svg_axes_auto("Loss", "step", "loss");
    svg_line_chart(f, &a, loss, nl);
    svg_series acc[2];
    int na = 0;
    /* regression has losses but no accuracies */
    if (ne && !isnan(ey[3][ne - 1])) acc[na++] = (svg_series){"train accuracy", svg_color(2), ex, ey[3], ne, true, true, false};
    if (ne && !isnan(ey[4][ne - 1])) acc[na++] = (svg_series){val_acc, svg_color(1), ex, ey[4], ne, true, false, false};
    if (na) {
        a = svg_axes_auto("Accuracy", "step", "accuracy");
        svg_line_chart(f, &a, acc, na);
    }
    svg_series lr = {"learning rate", svg_color(4), sx, sr, h->n, false, false, false};
    a = svg_axes_auto("Learning rate", "step", "learning rate");
    a.ymin = 0;
    svg_line_chart(f, &a, &lr, 1);
    fputs("</div>\n", f);
    if (h->train_eval_name)
        fprintf(f, "<p class=\"note\">Train accuracy and train loss (eval) are measured after each epoch in evaluation mode on "
                   "%s; the step losses are each training step's.</p>\n", h->train_eval_name);
    free(sx), free(sl), free(sr), free(ex);
}

static const char *class_name(const evaluation *e, int c, char *buf, size_t n)
{
    if (e->names && e->names[c]) return e->names[c];
    snprintf(buf, n, "%d", c);
    return buf;
}

static void curves(FILE *f, const evaluation *e, bool roc)
{
    svg_series *s = calloc((size_t)e->n_curves, sizeof *s);
    char (*labels)[96] = calloc((size_t)e->n_curves, sizeof *labels);
    if (!s || !labels) {
        free(s), free(labels);
        return;
    }
    for (int i = 0; i < e->n_curves; i++) {
        const ig_curve *c = roc ? &e->roc[i] : &e->pr[i];
        int cls = e->curve_class[i];
        char id[16];
        snprintf(labels[i], sizeof labels[i], "%.40s %s %.3f", class_name(e, cls, id, sizeof id), roc ? "AUC" : "AP",
                 roc ? e->auc[cls] : e->ap[cls]);
        s[i] = (svg_series){labels[i], svg_color(i), c->x, c->y, c->points, false, false, false};
    }
    svg_axes a = svg_axes_auto(roc ? (e->classes == 2 ? "ROC curve" : "ROC curves (one-vs-rest)")
                                   : (e->classes == 2 ? "Precision-recall curve" : "Precision-recall curves (one-vs-rest)"),
                               roc ? "false positive rate" : "recall", roc ? "true positive rate" : "precision");
    a.xmin = a.ymin = 0;
    a.xmax = a.ymax = 1;
    a.diagonal = roc;
    svg_line_chart(f, &a, s, e->n_curves);
    free(s);
    free(labels);
}

static void prf_row(FILE *f, const char *name, const ig_prf *p, double auc, double ap)
{
    fputs("<tr><td>", f);
    html_escape(f, name);
    fprintf(f, "</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%lld</td>", p->precision, p->recall, p->f1, (long long)p->support);
    if (isnan(auc)) fputs("<td>-</td>", f);
    else fprintf(f, "<td>%.4f</td>", auc);
    if (isnan(ap)) fputs("<td>-</td></tr>\n", f);
    else fprintf(f, "<td>%.4f</td></tr>\n", ap);
}

static void evaluation_section(FILE *f, const evaluation *e, const char *what)
{
    fputs("<h2>Evaluation on ", f);
    html_escape(f, what);
    fputs("</h2>\n<div class=\"cards\">\n", f);
    if (e->classes == 0) {
        card(f, "MSE", "%.5g", e->reg.mse);
        card(f, "RMSE", "%.5g", e->reg.rmse);
        card(f, "MAE", "%.5g", e->reg.mae);
        card(f, "R²", "%.4f", e->reg.r2);
        fprintf(f, "</div><p class=\"note\">%lld samples.</p>\n", (long long)e->n);
        return;
    }
    card(f, "accuracy", "%.4f", e->accuracy);
    card(f, "top-5 accuracy", "%.4f", e->top5);
    card(f, "macro F1", "%.4f", e->avg.macro.f1);
    card(f, e->classes == 2 ? "ROC AUC" : "ROC AUC (macro, one-vs-rest)", "%.4f", e->auc_avg.macro);
    card(f, "loss", "%.4f", e->loss);
    fprintf(f, "</div><p class=\"note\">%lld samples, %lld classes.</p>\n<div class=\"grid\">\n", (long long)e->n,
            (long long)e->classes);
    svg_heatmap(f, "Confusion matrix", e->confusion, e->classes, e->names);
    if (e->n_curves) {
        curves(f, e, true);
        curves(f, e, false);
    }
    fputs("</div>\n<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th><th>ROC AUC</th>"
          "<th>average precision</th></tr>\n", f);
    char id[16];
    for (int c = 0; c < e->classes; c++) prf_row(f, class_name(e, c, id, sizeof id), &e->per_class[c], e->auc[c], e->ap[c]);
    prf_row(f, "macro average", &e->avg.macro, e->auc_avg.macro, e->ap_avg.macro);
    prf_row(f, "micro average", &e->avg.micro, e->auc_avg.micro, e->ap_avg.micro);
    prf_row(f, "weighted average", &e->avg.weighted, e->auc_avg.weighted, e->ap_avg.weighted);
    fputs("</table>\n", f);
}

static void shape_text(const ig_layer_info *l, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < l->ndim && len < n; i++) len += (size_t)snprintf(buf + len, n - len, "%s%lld", i ? ", " : "", (long long)l->shape[i]);
    if (len < n) snprintf(buf + len, n - len, "]");
}

static void model_section(FILE *f, ig_model *m)
{
    fputs("<h2>Model</h2>\n<table><tr><th>layer</th><th>kind</th><th>output</th><th>parameters</th><th>forward FLOPs</th>"
          "<th>activations (bytes)</th></tr>\n", f);
    int64_t params = 0, bytes = 0;
    double flops = 0;
    for (int i = 0, n = ig_model_layer_count(m); i < n; i++) {
        ig_layer_info l;
        if (ig_model_layer_info(m, i, &l) != IG_OK) break;
        char shape[128];
        shape_text(&l, shape, sizeof shape);
        fputs("<tr><td>", f);
        html_escape(f, l.name);
        fprintf(f, "</td><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%lld</td><td>%.0f</td><td>%lld</td></tr>\n", l.kind, shape,
                (long long)l.params, l.flops, (long long)l.activation_bytes);
        params += l.params, flops += l.flops, bytes += l.activation_bytes;
    }
    fprintf(f, "<tr><th>total</th><th></th><th></th><th>%lld</th><th>%.0f</th><th>%lld</th></tr></table>\n", (long long)params,
            flops, (long long)bytes);
}

static int write_html(const char *path, const report_input *in)
{
    FILE *f = fopen(path, "w");
    if (!f) return cli_fail("%s: cannot write it (%s)", path, strerror(errno));
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&now));
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
    html_escape(f, in->title);
    fprintf(f, "</title><style>%s</style></head>\n<body>\n<h1>", style);
    html_escape(f, in->title);
    fprintf(f, "</h1><p class=\"meta\">written by ingot %d.%d.%d on %s</p>\n", IG_VERSION_MAJOR, IG_VERSION_MINOR,
            IG_VERSION_PATCH, when);
    const history *h = in->history;
    if (h && h->n_epochs) {
        const epoch_record *last = &h->epochs[h->n_epochs - 1];
        double seconds = 0, best = NAN;
        for (int i = 0; i < h->n_epochs; i++) {
            seconds += h->epochs[i].seconds;
            if (!isnan(h->epochs[i].val_acc) && !(h->epochs[i].val_acc <= best)) best = h->epochs[i].val_acc;
        }
        char label[96];
        fputs("<div class=\"cards\">\n", f);
        card(f, "epochs", "%.0f", (double)h->n_epochs);
        card(f, "training time (s)", "%.1f", seconds);
        card(f, "last train loss", "%.4f", last->train_loss);
        snprintf(label, sizeof label, "best %s accuracy", h->val_name);
        card(f, label, "%.4f", best);
        fputs("</div>\n<h2>Training</h2>\n", f);
        training_charts(f, h);
    }
    if (in->eval) evaluation_section(f, in->eval, in->eval_name);
    if (in->model) model_section(f, in->model);
    if (in->config) {
        fputs("<h2>Configuration</h2>\n<table>\n", f);
        for (int i = 0; i < in->config->n; i++) {
            fputs("<tr><td>", f);
            html_escape(f, in->config->rows[i][0]);
            fputs("</td><td class=\"l\">", f);
            html_escape(f, in->config->rows[i][1]);
            fputs("</td></tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    fputs("</body></html>\n", f);
    if (fclose(f) != 0) return cli_fail("%s: cannot write it (%s)", path, strerror(errno));
    return CLI_OK;
}

static cJSON *num_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

static cJSON *history_json(const history *h)
{
    cJSON *o = cJSON_CreateObject(), *loss = cJSON_AddArrayToObject(o, "loss"), *lr = cJSON_AddArrayToObject(o, "learning_rate");
    cJSON_AddNumberToObject(o, "first_step", (double)h->first_step);
    for (int64_t i = 0; i < h->n; i++) {
        cJSON_AddItemToArray(loss, num_or_null(h->loss[i]));
        cJSON_AddItemToArray(lr, num_or_null(h->lr[i]));
    }
    cJSON *ep = cJSON_AddArrayToObject(o, "epochs");
    for (int i = 0; i < h->n_epochs; i++) {
        const epoch_record *r = &h->epochs[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "epoch", r->epoch);
        cJSON_AddNumberToObject(e, "end_step", (double)r->end_step);
        cJSON_AddItemToObject(e, "seconds", num_or_null(r->seconds));
        cJSON_AddItemToObject(e, "samples_per_s", num_or_null(r->samples_per_s));
        cJSON_AddItemToObject(e, "train_loss", num_or_null(r->train_loss));
        cJSON_AddItemToObject(e, "train_eval_loss", num_or_null(r->train_eval_loss));
        cJSON_AddItemToObject(e, "train_accuracy", num_or_null(r->train_acc));
        cJSON_AddItemToObject(e, "val_loss", num_or_null(r->val_loss));
        cJSON_AddItemToObject(e, "val_accuracy", num_or_null(r->val_acc));
        cJSON_AddItemToObject(e, "learning_rate", num_or_null(r->lr));
        cJSON_AddItemToArray(ep, e);
    }
    cJSON_AddStringToObject(o, "val_name", h->val_name ? h->val_name : "");
    return o;
}

static int write_json(const char *path, const report_input *in)
{
    cJSON *o = cJSON_CreateObject(), *cfg = cJSON_AddObjectToObject(o, "config");
    for (int i = 0; in->config && i < in->config->n; i++) cJSON_AddStringToObject(cfg, in->config->rows[i][0], in->config->rows[i][1]);
    if (in->history) cJSON_AddItemToObject(o, "history", history_json(in->history));
    if (in->eval) {
        cJSON *e = evaluation_json(in->eval);
        cJSON_AddStringToObject(e, "of", in->eval_name);
        cJSON_AddItemToObject(o, "evaluation", e);
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    FILE *f = text ? fopen(path, "w") : NULL;
    bool ok = f && fputs(text, f) >= 0;
    ok = (f && fclose(f) == 0) && ok;
    free(text);
    return ok ? CLI_OK : cli_fail("%s: cannot write it (%s)", path, strerror(errno));
}

int report_write(const char *dir, const report_input *in)
{
    CLI_TRY(cli_make_dirs(dir));
    char path[4200];
    snprintf(path, sizeof path, "%s/report.html", dir);
    CLI_TRY(write_html(path, in));
    snprintf(path, sizeof path, "%s/run.json", dir);
    return write_json(path, in);
}
