/* args.c — the table-driven option parser and --help of every subcommand. */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_GIVEN = 128 };
static const char *given[MAX_GIVEN];
static int n_given;

bool cli_given(const char *name)
{
    for (int i = 0; i < n_given; i++)
        if (strcmp(given[i], name) == 0) return true;
    return false;
}

const char *cli_join(const char *const *choices, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; choices[i] && len < n; i++) len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", choices[i]);
    return buf;
}

/* Levenshtein distance, capped: options are short. */
static int distance(const char *a, const char *b)
{
    enum { MAX = 64 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= MAX || lb >= MAX) return MAX;
    int prev[MAX + 1], cur[MAX + 1];
    for (size_t j = 0; j <= lb; j++) prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]), del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

const char *cli_closest(const char *s, const char *const *names, int n)
{
    const char *best = NULL;
    int best_d = 0;
    for (int i = 0; i < n; i++) {
        int d = distance(s, names[i]);
        if (!best || d < best_d) best = names[i], best_d = d;
    }
    /* a typo changes a letter or two; a prefix of a long name counts too */
    size_t len = strlen(s);
    for (int i = 0; i < n; i++)
        if (len >= 3 && strncmp(names[i], s, len) == 0) return names[i];
    return best && best_d <= 2 && best_d < (int)len ? best : NULL;
}

static const cli_opt *find(const cli_command *cmd, const char *name, size_t len)
{
    for (int g = 0; g < cmd->n_groups; g++)
        for (int i = 0; i < cmd->groups[g]->n; i++) {
            const cli_opt *o = &cmd->groups[g]->opts[i];
            if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) return o;
        }
    return NULL;
}

static int unknown(const cli_command *cmd, const char *arg, size_t len)
{
    const char *names[MAX_GIVEN];
    int n = 0;
    for (int g = 0; g < cmd->n_groups; g++)
        for (int i = 0; i < cmd->groups[g]->n && n < MAX_GIVEN; i++) names[n++] = cmd->groups[g]->opts[i].name;
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)(len < sizeof key ? len : sizeof key - 1), arg);
    const char *near = cli_closest(key, names, n);
    if (near)
        fprintf(stderr, "ingot %s: unknown option --%s; did you mean --%s?\n", cmd->name, key, near);
    else
        fprintf(stderr, "ingot %s: unknown option --%s (ingot %s --help lists the options)\n", cmd->name, key, cmd->name);
    return CLI_USAGE;
}

static void range_text(const cli_opt *o, char *buf, size_t n)
{
    const char *what = o->kind == CLI_INT ? "an integer" : "a number";
    if (o->max >= 1e300) snprintf(buf, n, "%s >= %g", what, o->min);
    else snprintf(buf, n, "%s from %g to %g", what, o->min, o->max);
}

/* Stores v into o's destination, or explains why it is not valid. */
static int set_value(const cli_command *cmd, const cli_opt *o, const char *v)
{
    char valid[512];
    switch (o->kind) {
    case CLI_FLAG: *(bool *)o->dest = true; return CLI_OK;
    case CLI_STRING:
        if (!*v) {
            fprintf(stderr, "ingot %s: --%s: the value is empty\n", cmd->name, o->name);
            return CLI_USAGE;
        }
        *(const char **)o->dest = v;
        return CLI_OK;
    case CLI_CHOICE:
        for (int i = 0; o->choices[i]; i++)
            if (strcmp(o->choices[i], v) == 0) {
                *(int *)o->dest = i;
                return CLI_OK;
            }
        fprintf(stderr, "ingot %s: --%s: \"%s\" is not valid; valid: %s\n", cmd->name, o->name, v,
                cli_join(o->choices, valid, sizeof valid));
        return CLI_USAGE;
    case CLI_INT:
    case CLI_REAL: {
        char *end;
        errno = 0;
        double x = o->kind == CLI_INT ? (double)strtoll(v, &end, 10) : strtod(v, &end);
        range_text(o, valid, sizeof valid);
        if (end == v || *end || errno || !isfinite(x) || x < o->min || x > o->max) {
            fprintf(stderr, "ingot %s: --%s: \"%s\" is not valid; valid: %s\n", cmd->name, o->name, v, valid);
            return CLI_USAGE;
        }
        if (o->kind == CLI_INT) *(int64_t *)o->dest = (int64_t)x;
        else *(double *)o->dest = x;
        return CLI_OK;
    }
    }
    return CLI_USAGE;
}

int cli_parse(const cli_command *cmd, int argc, char **argv)
{
    n_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_help(cmd, stdout);
            return -1;
        }
        if (strncmp(a, "--", 2) != 0 || !a[2]) {
            fprintf(stderr, "ingot %s: unexpected argument \"%s\" (options start with --; ingot %s --help lists them)\n",
                    cmd->name, a, cmd->name);
            return CLI_USAGE;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const cli_opt *o = find(cmd, name, len);
        if (!o) return unknown(cmd, name, len);
        const char *v = eq ? eq + 1 : NULL;
        if (o->kind == CLI_FLAG && v) {
            fprintf(stderr, "ingot %s: --%s takes no value\n", cmd->name, o->name);
            return CLI_USAGE;
        }
        if (o->kind != CLI_FLAG && !v) {
            if (i + 1 >= argc) {
                fprintf(stderr, "ingot %s: --%s needs a value (%s)\n", cmd->name, o->name, o->metavar);
                return CLI_USAGE;
            }
            v = argv[++i];
        }
        int rc = set_value(cmd, o, v);
        if (rc != CLI_OK) return rc;
        if (n_given < MAX_GIVEN) given[n_given++] = o->name;
    }
    return CLI_OK;
}

/* "  --name VALUE   help text" with the text wrapped at 100 columns under its first line; a
 * head too long for its column puts the text on the next line. */
static void print_option(FILE *f, const char *head, const char *text)
{
    enum { INDENT = 30, WIDTH = 100 };
    int col = fprintf(f, "  %s", head);
    if (col >= INDENT) {
        fputc('\n', f);
        col = 0;
    }
    fprintf(f, "%*s", INDENT - col, "");
    col = INDENT;
    for (const char *p = text; *p;) {
        size_t word = strcspn(p, " ");
        if (col > INDENT && col + 1 + (int)word > WIDTH) {
            fprintf(f, "\n%*s", INDENT, "");
            col = INDENT;
        } else if (col > INDENT) {
            fputc(' ', f);
            col++;
        }
        col += fprintf(f, "%.*s", (int)word, p);
        p += word;
        while (*p == ' ') p++;
    }
    fputc('\n', f);
}

/* The default shown in --help: the destination's value before parsing. */
static void default_text(const cli_opt *o, char *buf, size_t n)
{
    buf[0] = '\0';
    if (o->shown_default) snprintf(buf, n, "%s", o->shown_default);
    else if (o->kind == CLI_STRING && *(const char **)o->dest) snprintf(buf, n, "%s", *(const char **)o->dest);
    else if (o->kind == CLI_INT) snprintf(buf, n, "%lld", (long long)*(int64_t *)o->dest);
    else if (o->kind == CLI_REAL) snprintf(buf, n, "%g", *(double *)o->dest);
    else if (o->kind == CLI_CHOICE) snprintf(buf, n, "%s", o->choices[*(int *)o->dest]);
}

void cli_help(const cli_command *cmd, FILE *f)
{
    fprintf(f, "usage: ingot %s [options]\n\n%s\n", cmd->name, cmd->description);
    for (int g = 0; g < cmd->n_groups; g++) {
        fprintf(f, "\n%s:\n", cmd->groups[g]->title);
        for (int i = 0; i < cmd->groups[g]->n; i++) {
            const cli_opt *o = &cmd->groups[g]->opts[i];
            char head[96], def[256], valid[512];
            if (o->kind == CLI_FLAG) snprintf(head, sizeof head, "--%s", o->name);
            else snprintf(head, sizeof head, "--%s %s", o->name, o->metavar);
            default_text(o, def, sizeof def);
            char text[2048];
            int len = snprintf(text, sizeof text, "%s", o->help);
            if (o->kind == CLI_CHOICE) len += snprintf(text + len, sizeof text - (size_t)len, " (%s)", cli_join(o->choices, valid, sizeof valid));
            if (def[0]) snprintf(text + len, sizeof text - (size_t)len, " [%s]", def);
            print_option(f, head, text);
        }
    }
    print_option(f, "--help", "this text");
}
