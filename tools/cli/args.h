/* args.h — the command line of every subcommand as tables: each option names where its value
 * goes, its kind and its valid values, so parsing, checking, error messages and --help come
 * from one place. */
#ifndef INGOT_CLI_ARGS_H
#define INGOT_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum cli_kind {
    CLI_FLAG,   /* bool, set by its presence */
    CLI_STRING, /* const char * (points into argv) */
    CLI_INT,    /* int64_t in [min, max] */
    CLI_REAL,   /* double in [min, max], finite */
    CLI_CHOICE, /* int: the index of the value among `choices` */
} cli_kind;

typedef struct cli_opt {
    const char *name;            /* "epochs": given as --epochs V or --epochs=V */
    cli_kind kind;
    void *dest;
    const char *metavar;         /* the value's name in --help ("N", "DIR") */
    const char *help;
    const char *const *choices;  /* CLI_CHOICE: NULL-terminated */
    double min, max;             /* CLI_INT, CLI_REAL */
    const char *shown_default;   /* --help's default when it is not dest's value ("auto") */
} cli_opt;

typedef struct cli_group {
    const char *title;
    const cli_opt *opts;
    int n;
} cli_group;

#define CLI_GROUP(title, table) {title, table, (int)(sizeof table / sizeof table[0])}

typedef struct cli_command {
    const char *name;
    const char *summary;     /* one line, for `ingot --help` */
    const char *description; /* paragraphs after the usage line of `ingot NAME --help` */
    const cli_group *const *groups;
    int n_groups;
    int (*run)(void);        /* after parsing: the exit status */
} cli_command;

/* Exit statuses of the tool. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

/* Parses argv[1..argc) (argv[0] is the subcommand's name) into the groups' destinations.
 * Returns CLI_OK, CLI_USAGE after printing to stderr what was wrong (the argument, and the
 * valid values or the closest option name), or -1 after printing --help to stdout. */
int cli_parse(const cli_command *cmd, int argc, char **argv);
void cli_help(const cli_command *cmd, FILE *f);
/* Whether option `name` of the last cli_parse was given on the command line. */
bool cli_given(const char *name);

/* "did you mean X?" material: the entry of `names` (n of them) closest to `s` by edit
 * distance, if it is close enough to be a likely typo, else NULL. */
const char *cli_closest(const char *s, const char *const *names, int n);

/* The choices of a CLI_CHOICE option joined by ", " into buf. */
const char *cli_join(const char *const *choices, char *buf, size_t n);

#endif /* INGOT_CLI_ARGS_H */
