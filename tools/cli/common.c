/* common.c — messages, clocks, devices and shapes for every subcommand. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

const char *cli_name = "";

static int vreport(int status, const char *fmt, va_list ap)
{
    fprintf(stderr, "ingot %s: ", cli_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    return status;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vreport(CLI_FAILED, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vreport(CLI_USAGE, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_lib_fail(const char *what)
{
    return what ? cli_fail("%s: %s", what, ig_last_error()) : cli_fail("%s", ig_last_error());
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *const cli_devices[] = {"auto", "cpu", "cuda", NULL};

ig_device cli_device(int choice)
{
    return choice == 1 ? IG_DEVICE_CPU : choice == 2 ? IG_DEVICE_CUDA : IG_DEVICE_AUTO;
}

int cli_context(int device_choice, ig_ctx **out)
{
    if (ig_ctx_create(cli_device(device_choice), out) == IG_OK) return CLI_OK;
    return cli_fail("--device %s: %s", cli_devices[device_choice], ig_last_error());
}

int cli_parse_shape(const char *s, int64_t *dims, int max)
{
    int n = 0;
    while (*s) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s || v < 1 || n == max) return -1;
        dims[n++] = v;
        if (*end == '\0') break;
        if (*end != 'x' && *end != ',') return -1;
        s = end + 1;
        if (!*s) return -1;
    }
    return n ? n : -1;
}

bool cli_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cli_make_dirs(const char *path)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    for (char *c = p + 1;; c++) {
        if (*c != '/' && *c) continue;
        char keep = *c;
        *c = '\0';
        if (mkdir(p, 0777) != 0 && !(errno == EEXIST && cli_is_dir(p)))
            return cli_fail("%s: cannot make the folder (%s)", p, strerror(errno));
        if (!keep) return CLI_OK;
        *c = keep;
    }
}
