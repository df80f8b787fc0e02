/* svg.c — the report's charts, drawn as SVG text. */
#include "svg.h"

#include <math.h>
#include <string.h>

/* Chart geometry (px): the plot area sits inside margins for the title, the tick labels and
 * the axis names, with the legend in a column on the right. */
enum { W = 600, H = 330, LEFT = 62, TOP = 34, BOTTOM = 46, LEGEND = 150 };
enum { PLOT_W = W - LEFT - LEGEND - 12, PLOT_H = H - TOP - BOTTOM };
/* Longer series are averaged into this many points: the picture is the same, the page smaller. */
enum { MAX_POINTS = 1200 };

static const char *const palette[] = {"#1f6fb4", "#e8772e", "#2b9e4a", "#cf3a3c", "#8b62b8",
                                      "#8a5a44", "#d663ae", "#6f6f6f", "#a9a928", "#1fb1c2"};

const char *svg_color(int i) { return palette[i % 10]; }

void html_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '&') fputs("&amp;", f);
        else if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

svg_axes svg_axes_auto(const char *title, const char *xlabel, const char *ylabel)
{
    return (svg_axes){title, xlabel, ylabel, NAN, NAN, NAN, NAN, false};
}

/* A tick spacing of 1, 2 or 5 times a power of ten giving about five ticks over the range. */
static double tick_step(double range)
{
    double raw = range / 5, p = pow(10, floor(log10(raw))), m = raw / p;
    return p * (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10);
}

static void open_svg(FILE *f, const char *title, int w, int h)
{
    fprintf(f, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "role=\"img\" aria-label=\"", w, h, w, h);
    html_escape(f, title);
    fputs("\"><title>", f);
    html_escape(f, title);
    fprintf(f, "</title><text class=\"t\" x=\"%d\" y=\"20\">", LEFT);
    html_escape(f, title);
    fputs("</text>\n", f);
}

static void ranges(const svg_axes *a, const svg_series *s, int n, double r[4])
{
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (int i = 0; i < n; i++)
        for (int64_t j = 0; j < s[i].n; j++) {
            double v[2] = {s[i].x[j], s[i].y[j]};
            for (int d = 0; d < 2; d++)
                if (isfinite(v[d])) lo[d] = fmin(lo[d], v[d]), hi[d] = fmax(hi[d], v[d]);
        }
    double given[4] = {a->xmin, a->xmax, a->ymin, a->ymax};
    for (int d = 0; d < 2; d++) {
        if (!isfinite(lo[d])) lo[d] = 0, hi[d] = 1;
        if (hi[d] - lo[d] < 1e-12 * fmax(1, fabs(hi[d]))) {
            /* one value: a band around it */
            double pad = fabs(hi[d]) > 0 ? fabs(hi[d]) * 0.1 : 1;
            lo[d] -= pad, hi[d] += pad;
        } else if (d == 1) {
            double pad = (hi[d] - lo[d]) * 0.05;
            lo[d] -= pad, hi[d] += pad;
        }
        r[2 * d] = isnan(given[2 * d]) ? lo[d] : given[2 * d];
        r[2 * d + 1] = isnan(given[2 * d + 1]) ? hi[d] : given[2 * d + 1];
    }
}

static void axis_ticks(FILE *f, const double r[4])
{
    for (int d = 0; d < 2; d++) {
        double lo = r[2 * d], hi = r[2 * d + 1], step = tick_step(hi - lo);
        for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
            double t = (v - lo) / (hi - lo);
            double shown = fabs(v) < step * 1e-6 ? 0 : v;
            if (d == 0) {
                double x = LEFT + t * PLOT_W;
                fprintf(f, "<line class=\"g\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                           "<text class=\"k\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                        x, TOP, x, TOP + PLOT_H, x, TOP + PLOT_H + 16, shown);
            } else {
                double y = TOP + (1 - t) * PLOT_H;
                fprintf(f, "<line class=\"g\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
                           "<text class=\"k\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n",
                        LEFT, y, LEFT + PLOT_W, y, LEFT - 6, y + 4, shown);
            }
        }
    }
}

static void point(double x, double y, const double r[4], double *px, double *py)
{
    *px = LEFT + (x - r[0]) / (r[1] - r[0]) * PLOT_W;
    *py = TOP + (1 - (y - r[2]) / (r[3] - r[2])) * PLOT_H;
}

static void draw_series(FILE *f, const svg_series *s, const double r[4])
{
    int64_t bucket = s->n > MAX_POINTS ? (s->n + MAX_POINTS - 1) / MAX_POINTS : 1;
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s%s points=\"", s->color,
            s->faint ? "1" : "2", s->faint ? " stroke-opacity=\"0.35\"" : "", s->dashed ? " stroke-dasharray=\"6 4\"" : "");
    for (int64_t j = 0; j < s->n; j += bucket) {
        double x = 0, y = 0;
        int64_t m = 0;
        for (int64_t k = j; k < j + bucket && k < s->n; k++)
            if (isfinite(s->y[k])) x += s->x[k], y += s->y[k], m++;
        if (!m) continue;
        double px, py;
        point(x / (double)m, y / (double)m, r, &px, &py);
        fprintf(f, "%.1f,%.1f ", px, py);
    }
    fputs("\"/>\n", f);
    for (int64_t j = 0; s->markers && j < s->n; j++) {
        if (!isfinite(s->y[j])) continue;
        double px, py;
        point(s->x[j], s->y[j], r, &px, &py);
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n", px, py, s->color);
    }
}

void svg_line_chart(FILE *f, const svg_axes *a, const svg_series *s, int n)
{
    double r[4];
    ranges(a, s, n, r);
    open_svg(f, a->title, W, H);
    fprintf(f, "<rect class=\"plot\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"" SVG_PLOT_FILL "\"/>\n", LEFT, TOP,
            PLOT_W, PLOT_H);
    axis_ticks(f, r);
    fprintf(f, "<svg x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" viewBox=\"%d %d %d %d\">\n", LEFT, TOP, PLOT_W, PLOT_H,
            LEFT, TOP, PLOT_W, PLOT_H); /* clips lines to the plot area */
    if (a->diagonal) {
        double x0, y0, x1, y1;
        point(0, 0, r, &x0, &y0);
        point(1, 1, r, &x1, &y1);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9aa0a8\" stroke-dasharray=\"4 4\"/>\n", x0, y0,
                x1, y1);
    }
    for (int i = 0; i < n; i++) draw_series(f, &s[i], r);
    fputs("</svg>\n", f);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#c9ced6\"/>\n", LEFT, TOP, PLOT_W,
            PLOT_H);
    fprintf(f, "<text class=\"a\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", LEFT + PLOT_W / 2, H - 8);
    html_escape(f, a->xlabel);
    fprintf(f, "</text><text class=\"a\" transform=\"translate(14 %d) rotate(-90)\" text-anchor=\"middle\">", TOP + PLOT_H / 2);
    html_escape(f, a->ylabel);
    fputs("</text>\n", f);
    int row = 0;
    for (int i = 0; i < n; i++) {
        if (!s[i].label) continue;
        int y = TOP + 8 + 18 * row++;
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"%s/>"
                   "<text class=\"k\" x=\"%d\" y=\"%d\">",
                W - LEGEND, y, W - LEGEND + 18, y, s[i].color, s[i].dashed ? " stroke-dasharray=\"6 4\"" : "",
                W - LEGEND + 24, y + 4);
        html_escape(f, s[i].label);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
}

void svg_heatmap(FILE *f, const char *title, const int64_t *counts, int64_t k, const char *const *labels)
{
    int cell = k <= 10 ? 34 : k <= 20 ? 18 : (int)(360 / k > 4 ? 360 / k : 4);
    int label_w = 90, pad = 4, grid = cell * (int)k;
    int x0 = label_w + pad, y0 = TOP + 20 + pad, w = x0 + grid + pad + 16, h = y0 + grid + pad + 44;
    open_svg(f, title, w < 320 ? 320 : w, h);
    fprintf(f, "<rect class=\"plot\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"" SVG_PLOT_FILL "\"/>\n", x0 - pad,
            y0 - pad, grid + 2 * pad, grid + 2 * pad);
    for (int64_t t = 0; t < k; t++) {
        int64_t total = 0;
        for (int64_t p = 0; p < k; p++) total += counts[t * k + p];
        for (int64_t p = 0; p < k; p++) {
            int64_t c = counts[t * k + p];
            double share = total ? (double)c / (double)total : 0;
            /* white to a deep blue */
            int rr = (int)(255 - share * (255 - 22)), gg = (int)(255 - share * (255 - 84)), bb = (int)(255 - share * (255 - 160));
            int x = x0 + (int)p * cell, y = y0 + (int)t * cell;
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"rgb(%d,%d,%d)\" stroke=\"#ffffff\"><title>true %lld, "
                       "predicted %lld: %lld</title></rect>",
                    x, y, cell, cell, rr, gg, bb, (long long)t, (long long)p, (long long)c);
            if (cell >= 28)
                fprintf(f, "<text class=\"c\" x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\">%lld</text>", x + cell / 2,
                        y + cell / 2 + 4, share > 0.5 ? "#ffffff" : "#1c2430", (long long)c);
            fputc('\n', f);
        }
    }
    /* class names: rows on the left, columns under the grid (ids when names would not fit) */
    for (int64_t i = 0; i < k && cell >= 12; i++) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)i);
        const char *name = labels && labels[i] ? labels[i] : id;
        fprintf(f, "<text class=\"k\" x=\"%d\" y=\"%d\" text-anchor=\"end\">", x0 - pad - 4, y0 + (int)i * cell + cell / 2 + 4);
        html_escape(f, name);
        fprintf(f, "</text><text class=\"k\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", x0 + (int)i * cell + cell / 2,
                y0 + grid + pad + 14);
        html_escape(f, cell >= 28 || !labels ? name : id);
        fputs("</text>\n", f);
    }
    fprintf(f, "<text class=\"a\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">predicted class</text>", x0 + grid / 2, h - 8);
    fprintf(f, "<text class=\"a\" x=\"%d\" y=\"%d\">rows: true class</text>\n", x0 - pad, TOP + 12);
    fputs("</svg>\n", f);
}
