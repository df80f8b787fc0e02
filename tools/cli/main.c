/* main.c — `ingot`: the command-line tool over the library. `ingot COMMAND --help` documents each
 * command; docs/cli.md all of them. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const cli_command *const commands[] = {&cmd_train, &cmd_eval, &cmd_predict, &cmd_summary, &cmd_export, &cmd_bench};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

static void usage(FILE *f)
{
    fprintf(f, "usage: ingot COMMAND [options]\n\n"
               "Trains, evaluates and inspects neural networks with the ingot library (version %d.%d.%d).\n\n"
               "commands:\n",
            IG_VERSION_MAJOR, IG_VERSION_MINOR, IG_VERSION_PATCH);
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\n`ingot COMMAND --help` lists a command's options. With no options, `ingot train` trains a CNN on\n"
               "Fashion-MNIST from " "/usr/share/datasets/fashion-mnist" ".\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(name, "--version")) {
        printf("ingot %d.%d.%d\n", IG_VERSION_MAJOR, IG_VERSION_MINOR, IG_VERSION_PATCH);
        return CLI_OK;
    }
    const char *names[N_COMMANDS];
    for (int i = 0; i < N_COMMANDS; i++) {
        names[i] = commands[i]->name;
        if (strcmp(name, names[i]) != 0) continue;
        cli_name = name;
        int rc = cli_parse(commands[i], argc - 1, argv + 1);
        if (rc < 0) return CLI_OK; /* --help */
        return rc == CLI_OK ? commands[i]->run() : rc;
    }
    const char *near = cli_closest(name, names, N_COMMANDS);
    fprintf(stderr, "ingot: unknown command \"%s\"%s%s%s; commands: train, eval, predict, summary, export, bench\n", name,
            near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
    return CLI_USAGE;
}
