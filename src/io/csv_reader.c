/* csv_reader.c — CSV rows read one character at a time, each cell with the line it starts on. */
#include "csv_reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int next_char(ig_csv_reader *r) { return r->nback ? r->back[--r->nback] : getc_unlocked(r->f); }

static void unread(ig_csv_reader *r, int c)
{
    if (c != EOF) r->back[r->nback++] = c;
}

ig_status ig_csv_open(ig_csv_reader *r, const char *path, char delimiter)
{
    *r = (ig_csv_reader){.path = path, .delimiter = delimiter, .line = 1};
    r->f = fopen(path, "rb");
    if (!r->f) return ig_fail(IG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    /* skip a UTF-8 byte-order mark (spreadsheets write one); give anything else back */
    int c[3];
    for (int i = 0; i < 3; i++) c[i] = next_char(r);
    if (c[0] != 0xEF || c[1] != 0xBB || c[2] != 0xBF)
        for (int i = 2; i >= 0; i--) unread(r, c[i]);
    return IG_OK;
}

void ig_csv_close(ig_csv_reader *r)
{
    if (r->f) fclose(r->f);
    free(r->text);
    free(r->cell);
    free(r->cell_line);
    *r = (ig_csv_reader){0};
}

static ig_status add_char(ig_csv_reader *r, char c)
{
    if (r->len == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        char *t = realloc(r->text, cap);
        if (!t) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: line %lld: out of memory for a row of %zu bytes", r->path,
                               (long long)r->line, r->len);
        r->text = t;
        r->cap = cap;
    }
    r->text[r->len++] = c;
    return IG_OK;
}

static ig_status start_cell(ig_csv_reader *r)
{
    if (r->ncells == r->cells_cap) {
        if (r->cells_cap >= IG_CSV_MAX_CELLS)
            return ig_fail(IG_ERR_FORMAT, "%s: line %lld: more than %d cells in a row", r->path, (long long)r->line,
                           IG_CSV_MAX_CELLS);
        int cap = r->cells_cap ? 2 * r->cells_cap : 64;
        size_t *cell = realloc(r->cell, (size_t)cap * sizeof *cell);
        if (cell) r->cell = cell;
        int64_t *line = cell ? realloc(r->cell_line, (size_t)cap * sizeof *line) : NULL;
        if (!line) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: line %lld: out of memory for %d cells", r->path,
                                  (long long)r->line, cap);
        r->cell_line = line;
        r->cells_cap = cap;
    }
    r->cell[r->ncells] = r->len;
    r->cell_line[r->ncells] = r->line;
    r->ncells++;
    return IG_OK;
}

static bool is_space(const ig_csv_reader *r, int c) { return c == ' ' || (c == '\t' && r->delimiter != '\t'); }

/* Where a cell is inside the row being read. */
typedef enum { LEAD, UNQUOTED, QUOTED, CLOSED } cell_state;

static ig_status end_cell(ig_csv_reader *r, cell_state st)
{
    if (st == UNQUOTED)
        while (r->len > r->cell[r->ncells - 1] && is_space(r, r->text[r->len - 1])) r->len--;
    return add_char(r, '\0');
}

/* Reads one row; *blank when it held nothing but spaces; *end is the character that
 * ended it (EOF or a line end). */
static ig_status read_row(ig_csv_reader *r, bool *blank, int *end)
{
    r->len = 0;
    r->ncells = 0;
    *blank = true;
    IG_TRY(start_cell(r));
    cell_state st = LEAD;
    for (;;) {
        int c = next_char(r);
        if (c == EOF && ferror(r->f))
            return ig_fail(IG_ERR_IO, "%s: line %lld: read failed: %s", r->path, (long long)r->line, strerror(errno));
        if (c == '\0')
            return ig_fail(IG_ERR_FORMAT, "%s: line %lld, column %d: a NUL byte (not a text file?)", r->path,
                           (long long)r->line, r->ncells);
        if (st == QUOTED) {
            if (c == EOF)
                return ig_fail(IG_ERR_FORMAT, "%s: line %lld, column %d: the quoted cell is not closed before the end of "
                               "the file", r->path, (long long)r->cell_line[r->ncells - 1], r->ncells);
            if (c == '"') {
                int d = next_char(r);
                if (d == '"') {
                    IG_TRY(add_char(r, '"'));
                    continue;
                }
                unread(r, d);
                st = CLOSED;
                continue;
            }
            if (c == '\n') r->line++;
            IG_TRY(add_char(r, (char)c));
            continue;
        }
        if (c == EOF || c == '\n' || c == '\r') {
            if (c == '\r') {
                int d = next_char(r);
                if (d != '\n') unread(r, d);
            }
            IG_TRY(end_cell(r, st));
            if (c != EOF) r->line++;
            *end = c;
            return IG_OK;
        }
        if (c == r->delimiter) {
            *blank = false;
            IG_TRY(end_cell(r, st));
            IG_TRY(start_cell(r));
            st = LEAD;
            continue;
        }
        if (is_space(r, c) && (st == LEAD || st == CLOSED)) continue;
        if (st == CLOSED)
            return ig_fail(IG_ERR_FORMAT, "%s: line %lld, column %d: '%c' after the closing quote (a quote inside a "
                           "quoted cell is written \"\")", r->path, (long long)r->line, r->ncells, c);
        *blank = false;
        if (c == '"' && st == LEAD) {
            st = QUOTED;
            continue;
        }
        st = UNQUOTED; /* a quote inside an unquoted cell is taken as it is */
        IG_TRY(add_char(r, (char)c));
    }
}

ig_status ig_csv_next_row(ig_csv_reader *r, bool *got)
{
    *got = false;
    for (;;) {
        bool blank;
        int end;
        IG_TRY(read_row(r, &blank, &end));
        if (!blank) {
            *got = true;
            return IG_OK;
        }
        if (end == EOF) return IG_OK;
    }
}
