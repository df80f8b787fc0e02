/* report.h — `--report DIR`: report.html, one self-contained page (inline CSS and SVG, nothing
 * fetched), and run.json, the same figures for programs. */
#ifndef INGOT_CLI_REPORT_H
#define INGOT_CLI_REPORT_H

#include "evaluation.h"
#include "history.h"

/* The run's configuration as rows of text. */
typedef struct report_config {
    char (*rows)[2][256];
    int n, cap;
} report_config;

void report_config_add(report_config *c, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void report_config_free(report_config *c);

typedef struct report_input {
    const char *title;          /* the page's heading */
    const history *history;     /* NULL: no training curves */
    const evaluation *eval;     /* NULL: no evaluation */
    const char *eval_name;      /* what eval is of: "test", "validation", a path */
    ig_model *model;            /* for the layer table */
    const report_config *config;
} report_input;

/* Writes dir/report.html and dir/run.json (dir made if missing). */
int report_write(const char *dir, const report_input *in);

#endif /* INGOT_CLI_REPORT_H */
