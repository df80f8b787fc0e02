/* test_cli_args.c — the ingot tool's option parser (tools/cli/args.c): values into their
 * destinations, ranges and choices checked, mistakes answered with the option and what is
 * valid, --help from the same table. */
#define _GNU_SOURCE
#include "../tools/cli/args.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *const colours[] = {"red", "green", "blue", NULL};
static struct {
    int64_t epochs;
    double lr;
    int colour;
    bool quiet;
    const char *out;
} V;

static const cli_opt table[] = {
    {"epochs", CLI_INT, &V.epochs, "N", "epochs", NULL, 1, 100},
    {"lr", CLI_REAL, &V.lr, "RATE", "learning rate", NULL, 1e-9, 1, "auto"},
    {"colour", CLI_CHOICE, &V.colour, "C", "a colour", colours},
    {"quiet", CLI_FLAG, &V.quiet, NULL, "say less"},
    {"out", CLI_STRING, &V.out, "FILE", "where to write"},
};
static const cli_group group = CLI_GROUP("things", table);
static const cli_group *const groups[] = {&group};
static const cli_command cmd = {"demo", "a command", "Does things.", groups, 1, NULL};

static int parse(const char *line)
{
    V.epochs = 3, V.lr = NAN, V.colour = 0, V.quiet = false, V.out = NULL;
    /* static: parsed strings (V.out) point into it until the next parse */
    static char buf[256];
    char *argv[16] = {"demo"};
    int argc = 1;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *save, *t = strtok_r(buf, " ", &save); t && argc < 16; t = strtok_r(NULL, " ", &save)) argv[argc++] = t;
    int rc = cli_parse(&cmd, argc, argv);
    return rc;
}

static void test_values(void **state)
{
    assert_int_equal(parse("--epochs 7 --lr=0.5 --colour blue --quiet --out x.txt"), CLI_OK);
    assert_int_equal(V.epochs, 7);
    assert_true(V.lr == 0.5);
    assert_int_equal(V.colour, 2);
    assert_true(V.quiet);
    assert_string_equal(V.out, "x.txt");
    assert_true(cli_given("lr") && cli_given("quiet"));
    assert_int_equal(parse(""), CLI_OK);
    assert_int_equal(V.epochs, 3);
    assert_false(cli_given("lr"));
}

static void test_mistakes(void **state)
{
    const char *bad[] = {"--epochs 0",   "--epochs 101", "--epochs 2.5",  "--epochs x",  "--lr 2",      "--lr nan",
                         "--colour pink", "--epochs",    "--quiet=yes",   "--epoch 3",   "stray",       "--out=",
                         "-x",            "--"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse(bad[i]) != CLI_USAGE) fail_msg("\"%s\" was accepted", bad[i]);
    assert_int_equal(parse("--help"), -1);
}

static void test_closest(void **state)
{
    const char *names[] = {"epochs", "batch-size", "optimizer", "lr"};
    assert_string_equal(cli_closest("epoch", names, 4), "epochs");
    assert_string_equal(cli_closest("optimiser", names, 4), "optimizer");
    assert_string_equal(cli_closest("batch", names, 4), "batch-size");
    assert_null(cli_closest("seed", names, 4));
    assert_null(cli_closest("x", names, 4));
}

static void test_help(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    V.epochs = 3;
    V.colour = 1;
    cli_help(&cmd, f);
    fclose(f);
    assert_non_null(strstr(text, "usage: ingot demo [options]"));
    assert_non_null(strstr(text, "things:"));
    assert_non_null(strstr(text, "--epochs N"));
    assert_non_null(strstr(text, "[3]"));                   /* the default, from the destination */
    assert_non_null(strstr(text, "[auto]"));                /* a default given in words */
    assert_non_null(strstr(text, "(red, green, blue) [green]"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_mistakes),
        cmocka_unit_test(test_closest),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
