/* csv_reader.h — a streaming reader of CSV rows that knows the line and column of every cell.
 *
 * Our own rather than libcsv (Debian's libcsv-dev): libcsv reports cells through callbacks
 * without their positions, so messages naming a line and column would need a second count
 * of newlines around it, and its upstream has had no release since 2013. RFC 4180 quoting
 * is small enough to get right here. */
#ifndef IG_IO_CSV_READER_H
#define IG_IO_CSV_READER_H

#include "core/core.h"

#include <stdio.h>

/* Cells a row may have (a power of two): keeps the cell count's arithmetic in range. */
#define IG_CSV_MAX_CELLS (1 << 24)

typedef struct ig_csv_reader {
    FILE *f;
    const char *path;
    char delimiter;
    int64_t line;       /* the line of the next character, from 1 */
    char *text;         /* the row's cells, each NUL-terminated */
    size_t len, cap;
    size_t *cell;       /* offsets of the row's cells in text */
    int64_t *cell_line; /* the line each cell starts on */
    int ncells, cells_cap;
    int back[3];        /* characters read ahead and given back, the last on top */
    int nback;
} ig_csv_reader;

/* Opens path (IG_ERR_IO naming it on failure). */
ig_status ig_csv_open(ig_csv_reader *r, const char *path, char delimiter);
void ig_csv_close(ig_csv_reader *r);
/* Reads the next row that is not blank; *got is false at the end of the file. Unquoted
 * cells are trimmed of spaces (and tabs unless they delimit). IG_ERR_FORMAT: an unclosed
 * quote, text after a closing quote; IG_ERR_IO: a read error. */
ig_status ig_csv_next_row(ig_csv_reader *r, bool *got);

static inline const char *ig_csv_cell(const ig_csv_reader *r, int i) { return r->text + r->cell[i]; }

#endif /* IG_IO_CSV_READER_H */
