/* csv.c — datasets from CSV files: numeric feature columns and one label or target column. */
#define _GNU_SOURCE /* strtod_l */
#include "csv_reader.h"
#include "dataset.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

ig_csv_options ig_csv_defaults(void)
{
    return (ig_csv_options){.delimiter = ',', .header = IG_CSV_HEADER_AUTO, .label_column = NULL, .label_index = -1,
                            .regression = false};
}

/* The distinct label texts of a classification file, in order of first appearance, found
 * through an open-addressing hash table. */
typedef struct label_set {
    char **text;
    int64_t *line; /* where each first appeared */
    int32_t count, cap;
    int32_t *slot; /* 1 + an index into text; 0: empty */
    size_t nslots; /* a power of two, more than twice count */
} label_set;

static void label_set_free(label_set *s)
{
    for (int32_t i = 0; i < s->count; i++) free(s->text[i]);
    free(s->text);
    free(s->line);
    free(s->slot);
}

static size_t hash_text(const char *t)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (; *t; t++) h = (h ^ (uint8_t)*t) * 0x100000001b3u;
    return (size_t)h;
}

static ig_status label_set_grow(label_set *s)
{
    if (s->cap > INT32_MAX / 8) return ig_fail(IG_ERR_FORMAT, "more than %d distinct labels", s->cap);
    int32_t cap = s->cap ? 2 * s->cap : 64;
    size_t nslots = 4 * (size_t)cap;
    char **text = realloc(s->text, (size_t)cap * sizeof *text);
    if (text) s->text = text;
    int64_t *line = text ? realloc(s->line, (size_t)cap * sizeof *line) : NULL;
    if (line) s->line = line;
    int32_t *slot = line ? calloc(nslots, sizeof *slot) : NULL;
    if (!slot) return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory for %d distinct labels", cap);
    for (int32_t i = 0; i < s->count; i++) {
        size_t k = hash_text(s->text[i]) & (nslots - 1);
        while (slot[k]) k = (k + 1) & (nslots - 1);
        slot[k] = i + 1;
    }
    free(s->slot);
    s->slot = slot;
    s->nslots = nslots;
    s->cap = cap;
    return IG_OK;
}

/* *index: the label's place in s->text, added if new. */
static ig_status label_intern(label_set *s, const char *t, int64_t line, int32_t *index)
{
    if (s->count == INT32_MAX) return ig_fail(IG_ERR_FORMAT, "more than %d distinct labels", INT32_MAX);
    if (s->count == s->cap) IG_TRY(label_set_grow(s));
    size_t k = hash_text(t) & (s->nslots - 1);
    for (; s->slot[k]; k = (k + 1) & (s->nslots - 1))
        if (strcmp(s->text[s->slot[k] - 1], t) == 0) {
            *index = s->slot[k] - 1;
            return IG_OK;
        }
    char *copy = strdup(t);
    if (!copy) return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory for a label");
    s->text[s->count] = copy;
    s->line[s->count] = line;
    s->slot[k] = s->count + 1;
    *index = s->count++;
    return IG_OK;
}

/* Everything a load keeps between rows. */
typedef struct csv_load {
    ig_csv_reader r;
    const ig_csv_options *opt;
    locale_t c_locale; /* numbers are read in the C locale, whatever the program's */
    int ncols, label;  /* columns, and the label column's index */
    int64_t first_line;
    char **names;      /* the header's cells, or NULL */
    float *x;          /* [rows, ncols - 1] */
    float *targets;    /* [rows] (regression) */
    int32_t *label_of; /* [rows]: an index into labels (classification) */
    int64_t rows, cap;
    label_set labels;
} csv_load;

/* "path: line L, column C ("name"): " + the message; returns IG_ERR_FORMAT. */
static ig_status cell_fail(const csv_load *L, int64_t line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static ig_status cell_fail(const csv_load *L, int64_t line, int col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (L->names && col <= L->ncols)
        return ig_fail(IG_ERR_FORMAT, "%s: line %lld, column %d (\"%.64s\"): %s", L->r.path, (long long)line, col,
                       L->names[col - 1], msg);
    return ig_fail(IG_ERR_FORMAT, "%s: line %lld, column %d: %s", L->r.path, (long long)line, col, msg);
}

/* NULL and *out set when t is a number that fits a float; else why it is not one. */
static const char *parse_number(const char *t, locale_t loc, double *out)
{
    if (!*t) return "the cell is empty (a number is needed)";
    char *end;
    double v = strtod_l(t, &end, loc);
    if (end == t || *end) return "is not a number";
    if (!isfinite(v)) return "is not a finite number";
    if (fabs(v) > FLT_MAX) return "is beyond the float range";
    *out = v;
    return NULL;
}

static ig_status number_cell(const csv_load *L, int col, float *out)
{
    const char *t = ig_csv_cell(&L->r, col);
    double v;
    const char *why = parse_number(t, L->c_locale, &v);
    if (why) {
        int64_t line = L->r.cell_line[col];
        return *t ? cell_fail(L, line, col + 1, "\"%.40s\" %s", t, why) : cell_fail(L, line, col + 1, "%s", why);
    }
    *out = (float)v;
    return IG_OK;
}

static ig_status grow_rows(csv_load *L)
{
    int64_t cap = L->cap ? 2 * L->cap : 1024, nfeat = L->ncols - 1;
    float *x = realloc(L->x, (size_t)(cap * nfeat) * sizeof *x);
    if (x) L->x = x;
    void *y = !x ? NULL : L->opt->regression ? realloc(L->targets, (size_t)cap * sizeof *L->targets)
                                              : realloc(L->label_of, (size_t)cap * sizeof *L->label_of);
    if (!y) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory for %lld rows", L->r.path, (long long)cap);
    if (L->opt->regression)
        L->targets = y;
    else
        L->label_of = y;
    L->cap = cap;
    return IG_OK;
}

static ig_status add_row(csv_load *L)
{
    const ig_csv_reader *r = &L->r;
    if (r->ncells < L->ncols)
        return cell_fail(L, r->cell_line[r->ncells - 1], r->ncells + 1, "the row ends after %d cells; line %lld has %d",
                         r->ncells, (long long)L->first_line, L->ncols);
    if (r->ncells > L->ncols)
        return cell_fail(L, r->cell_line[L->ncols], L->ncols + 1, "the row has %d cells; line %lld has %d", r->ncells,
                         (long long)L->first_line, L->ncols);
    if (L->rows == L->cap) IG_TRY(grow_rows(L));
    float *x = L->x + L->rows * (L->ncols - 1);
    for (int j = 0; j < L->ncols; j++)
        if (j != L->label) IG_TRY(number_cell(L, j, x++));
    if (L->opt->regression) {
        IG_TRY(number_cell(L, L->label, &L->targets[L->rows]));
    } else {
        const char *t = ig_csv_cell(r, L->label);
        int64_t line = r->cell_line[L->label];
        if (!*t) return cell_fail(L, line, L->label + 1, "the label is empty");
        ig_status s = label_intern(&L->labels, t, line, &L->label_of[L->rows]);
        if (s != IG_OK) return ig_fail_prefix(s, "%s: line %lld: ", r->path, (long long)line);
    }
    L->rows++;
    return IG_OK;
}

/* From the first row: the label column, and whether that row is a header. */
static ig_status read_layout(csv_load *L, bool *header)
{
    const ig_csv_reader *r = &L->r;
    const ig_csv_options *o = L->opt;
    L->ncols = r->ncells;
    L->first_line = r->cell_line[0];
    if (L->ncols < 2)
        return ig_fail(IG_ERR_FORMAT, "%s: line %lld has one column; a sample needs a feature column besides the label "
                       "(is the delimiter '%c' right?)", r->path, (long long)L->first_line, o->delimiter);
    if (o->label_column) {
        for (L->label = 0; L->label < L->ncols && strcmp(ig_csv_cell(r, L->label), o->label_column); L->label++) {}
        if (L->label == L->ncols)
            return ig_fail(IG_ERR_FORMAT, "%s: the header (line %lld) has no column named \"%s\"", r->path,
                           (long long)L->first_line, o->label_column);
        *header = true;
        return IG_OK;
    }
    L->label = o->label_index < 0 ? L->ncols + o->label_index : o->label_index;
    if (L->label < 0 || L->label >= L->ncols)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: label_index %d is outside the %d columns of line %lld", r->path,
                       o->label_index, L->ncols, (long long)L->first_line);
    *header = o->header == IG_CSV_HEADER_PRESENT;
    for (int j = 0; o->header == IG_CSV_HEADER_AUTO && !*header && j < L->ncols; j++) {
        double v;
        *header = j != L->label && parse_number(ig_csv_cell(r, j), L->c_locale, &v);
    }
    return IG_OK;
}

static ig_status keep_names(csv_load *L)
{
    L->names = calloc((size_t)L->ncols, sizeof *L->names);
    for (int j = 0; L->names && j < L->ncols; j++)
        if (!(L->names[j] = strdup(ig_csv_cell(&L->r, j)))) return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory");
    return L->names ? IG_OK : ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory");
}

static int cmp_text(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The rows' class ids: the labels themselves where they are all integers >= 0; else their
 * ranks among the distinct labels — by value for integers ("1" and "1.0" being one class),
 * by byte order for text — and the dataset keeps the labels as class names. */
static ig_status assign_labels(const csv_load *L, ig_dataset *ds)
{
    const label_set *s = &L->labels;
    size_t k = (size_t)s->count;
    int32_t *map = malloc(k * sizeof *map); /* distinct label -> class id */
    int64_t *value = malloc(k * sizeof *value), *sorted = malloc(k * sizeof *sorted);
    const char **names = malloc(k * sizeof *names);
    char (*digits)[16] = malloc(k * sizeof *digits);
    ig_status st = map && value && sorted && names && digits ? IG_OK
                                                             : ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", L->r.path);
    bool numeric = true, negative = false;
    for (size_t i = 0; st == IG_OK && numeric && i < k; i++) {
        double v;
        numeric = !parse_number(s->text[i], L->c_locale, &v);
        if (numeric && (v != floor(v) || v < INT32_MIN || v > INT32_MAX - 1))
            st = cell_fail(L, s->line[i], L->label + 1, "the label \"%.40s\" is not a class id (an integer below 2^31); "
                           "for a float target set ig_csv_options.regression", s->text[i]);
        value[i] = numeric && st == IG_OK ? (int64_t)v : 0; /* v may be beyond any integer type */
        negative |= numeric && v < 0;
    }
    int32_t count = 0; /* named classes; 0 where the labels are the ids */
    if (st == IG_OK && numeric && !negative) {
        for (size_t i = 0; i < k; i++) map[i] = (int32_t)value[i];
    } else if (st == IG_OK && numeric) {
        memcpy(sorted, value, k * sizeof *sorted);
        qsort(sorted, k, sizeof *sorted, cmp_i64);
        for (size_t i = 0; i < k; i++)
            if (i == 0 || sorted[i] != sorted[count - 1]) sorted[count++] = sorted[i];
        for (size_t i = 0; i < k; i++)
            map[i] = (int32_t)((int64_t *)bsearch(&value[i], sorted, (size_t)count, sizeof *sorted, cmp_i64) - sorted);
        for (int32_t c = 0; c < count; c++) {
            snprintf(digits[c], sizeof *digits, "%lld", (long long)sorted[c]);
            names[c] = digits[c];
        }
    } else if (st == IG_OK) {
        memcpy(names, s->text, k * sizeof *names);
        qsort(names, k, sizeof *names, cmp_text);
        for (size_t i = 0; i < k; i++)
            map[i] = (int32_t)((const char **)bsearch(&s->text[i], names, k, sizeof *names, cmp_text) - names);
        count = (int32_t)k;
    }
    if (st == IG_OK) {
        int32_t max_id = 0;
        for (int64_t i = 0; i < L->rows; i++) {
            ds->y[i] = map[L->label_of[i]];
            if (ds->y[i] > max_id) max_id = ds->y[i];
        }
        ds->num_classes = max_id + 1;
        if (count) st = ig_dataset_set_class_names(ds, names, count, "ig_dataset_load_csv");
    }
    free(map);
    free(value);
    free(sorted);
    free(names);
    free(digits);
    return st;
}

static ig_status build_dataset(const csv_load *L, ig_ctx *ctx, ig_dataset **out)
{
    ig_dataset *ds;
    IG_TRY(ig_dataset_alloc(ctx, L->rows, 1, (int64_t[]){L->ncols - 1}, L->opt->regression ? 1 : 0,
                            "ig_dataset_load_csv", &ds));
    memcpy(ds->x, L->x, (size_t)(L->rows * (L->ncols - 1)) * sizeof *ds->x);
    ig_status s = IG_OK;
    if (L->opt->regression)
        memcpy(ds->targets, L->targets, (size_t)L->rows * sizeof *ds->targets);
    else
        s = assign_labels(L, ds);
    if (s != IG_OK) {
        ig_dataset_destroy(ds);
        return s;
    }
    *out = ds;
    return IG_OK;
}

static ig_status check_options(const ig_csv_options *o)
{
    char d = o->delimiter;
    if (d == '"' || d == '\r' || d == '\n' || d == '\0')
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_dataset_load_csv: the delimiter cannot be %s",
                       d == '"' ? "'\"'" : d == '\0' ? "'\\0'" : "a line end");
    if (o->header != IG_CSV_HEADER_AUTO && o->header != IG_CSV_HEADER_PRESENT && o->header != IG_CSV_HEADER_ABSENT)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_dataset_load_csv: header is %d (not an ig_csv_header)", (int)o->header);
    if (o->label_column && o->header == IG_CSV_HEADER_ABSENT)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_dataset_load_csv: label_column \"%s\" names a header column, but "
                       "header is IG_CSV_HEADER_ABSENT", o->label_column);
    return IG_OK;
}

/* Reads the rows into L. */
static ig_status read_rows(csv_load *L)
{
    bool got, header;
    IG_TRY(ig_csv_next_row(&L->r, &got));
    if (!got) return ig_fail(IG_ERR_FORMAT, "%s: empty file (no rows)", L->r.path);
    IG_TRY(read_layout(L, &header));
    if (header)
        IG_TRY(keep_names(L));
    else
        IG_TRY(add_row(L));
    for (;;) {
        IG_TRY(ig_csv_next_row(&L->r, &got));
        if (!got) break;
        IG_TRY(add_row(L));
    }
    if (L->rows == 0)
        return ig_fail(IG_ERR_FORMAT, "%s: a header (line %lld) but no data rows", L->r.path, (long long)L->first_line);
    return IG_OK;
}

ig_status ig_dataset_load_csv(ig_ctx *ctx, const char *path, const ig_csv_options *opt, ig_dataset **out)
{
    if (out) *out = NULL;
    if (!ctx || !path || !out)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_dataset_load_csv: NULL %s", !ctx ? "ctx" : !path ? "path" : "out");
    ig_csv_options defaults = ig_csv_defaults();
    if (!opt) opt = &defaults;
    IG_TRY(check_options(opt));
    csv_load L = {.opt = opt};
    L.c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!L.c_locale) return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_dataset_load_csv: cannot make the C locale");
    ig_status s = ig_csv_open(&L.r, path, opt->delimiter);
    if (s == IG_OK) s = read_rows(&L);
    if (s == IG_OK) s = build_dataset(&L, ctx, out);
    ig_csv_close(&L.r);
    freelocale(L.c_locale);
    for (int j = 0; L.names && j < L.ncols; j++) free(L.names[j]);
    free(L.names);
    free(L.x);
    free(L.targets);
    free(L.label_of);
    label_set_free(&L.labels);
    return s;
}
