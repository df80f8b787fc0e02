/* cli.h — what the subcommands of the `ingot` tool share: messages, the option groups for the
 * model, the data and the device, and the commands themselves. */
#ifndef INGOT_CLI_H
#define INGOT_CLI_H

#include "args.h"

#include <ingot.h>

/* Returns from the calling function when a CLI_* status is not CLI_OK. */
#define CLI_TRY(call)                  \
    do {                               \
        int cli_rc_ = (call);          \
        if (cli_rc_ != CLI_OK) return cli_rc_; \
    } while (0)

/* The subcommand running, for messages ("ingot train: ..."). */
extern const char *cli_name;

/* Prints "ingot <command>: <message>" to stderr; returns CLI_FAILED (or the given status). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A library call failed: its message (ig_last_error()), after `what` when given. */
int cli_lib_fail(const char *what);

/* Seconds on a monotonic clock. */
double cli_now(void);

/* --device, shared by every command that runs a model. */
extern const char *const cli_devices[]; /* auto, cpu, cuda */
ig_device cli_device(int choice);
/* The --device option of a command's table, storing into an int. */
#define CLI_DEVICE_OPT(dest) {"device", CLI_CHOICE, dest, "DEVICE", "where to run; auto: CUDA when there is a GPU", cli_devices}
/* A context on the chosen device; prints the failure. */
int cli_context(int device_choice, ig_ctx **out);

bool cli_is_dir(const char *path);
/* mkdir -p: the folder and the missing ones above it. */
int cli_make_dirs(const char *path);

/* Parses "1x28x28" (or "1,28,28") into dims; returns ndim, or -1. */
int cli_parse_shape(const char *s, int64_t *dims, int max);

/* The commands (tools/cli/cmd_*.c). */
extern const cli_command cmd_train, cmd_eval, cmd_predict, cmd_summary, cmd_export, cmd_bench;

#endif /* INGOT_CLI_H */
