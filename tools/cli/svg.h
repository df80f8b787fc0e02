/* svg.h — charts as inline SVG for the HTML report: line charts (curves, per-step series) and
 * a heatmap (the confusion matrix). Plot areas have the fill SVG_PLOT_FILL, which nothing else
 * on the page uses, so a screenshot test can find them. */
#ifndef INGOT_CLI_SVG_H
#define INGOT_CLI_SVG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SVG_PLOT_FILL "#f7f8fa"

typedef struct svg_series {
    const char *label;
    const char *color;
    const double *x, *y;
    int64_t n;
    bool markers;  /* a dot at each point (few points: per-epoch figures) */
    bool dashed;
    bool faint;    /* thin and translucent (raw per-step values under a summary line) */
} svg_series;

typedef struct svg_axes {
    const char *title, *xlabel, *ylabel;
    double xmin, xmax, ymin, ymax; /* NaN: from the data */
    bool diagonal;                 /* the chance line y = x (ROC curves) */
} svg_axes;

/* The axes' ranges all NaN. */
svg_axes svg_axes_auto(const char *title, const char *xlabel, const char *ylabel);
void svg_line_chart(FILE *f, const svg_axes *a, const svg_series *s, int n);
/* counts[t·k + p] in a k × k grid, each row shaded by its share of the row's total. */
void svg_heatmap(FILE *f, const char *title, const int64_t *counts, int64_t k, const char *const *labels);
/* The i-th colour of the series palette. */
const char *svg_color(int i);
/* Writes s with &, <, > and " escaped. */
void html_escape(FILE *f, const char *s);

#endif /* INGOT_CLI_SVG_H */
