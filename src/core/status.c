/* status.c — the thread-local last-error message. */
#include "core.h"

#include <stdio.h>
#include <string.h>

#define IG_ERR_LEN 1024

static _Thread_local char last_error[IG_ERR_LEN];

const char *ig_last_error(void) { return last_error; }

const char *ig_status_name(ig_status s)
{
    switch (s) {
    case IG_OK: return "IG_OK";
    case IG_ERR_INVALID_ARGUMENT: return "IG_ERR_INVALID_ARGUMENT";
    case IG_ERR_SHAPE: return "IG_ERR_SHAPE";
    case IG_ERR_OUT_OF_MEMORY: return "IG_ERR_OUT_OF_MEMORY";
    case IG_ERR_IO: return "IG_ERR_IO";
    case IG_ERR_FORMAT: return "IG_ERR_FORMAT";
    case IG_ERR_UNSUPPORTED: return "IG_ERR_UNSUPPORTED";
    case IG_ERR_STATE: return "IG_ERR_STATE";
    case IG_ERR_DEVICE: return "IG_ERR_DEVICE";
    case IG_ERR_INTERNAL: return "IG_ERR_INTERNAL";
    }
    return "IG_ERR_UNKNOWN";
}

ig_status ig_fail(ig_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

ig_status ig_fail_prefix(ig_status s, const char *fmt, ...)
{
    char prefix[IG_ERR_LEN], old[IG_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    size_t n = strlen(prefix);
    memcpy(last_error, prefix, n);
    snprintf(last_error + n, sizeof last_error - n, "%s", old);
    return s;
}
