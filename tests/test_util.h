/* test_util.h — what the cmocka test files share: a status check that fails with the
 * library's message, and a CPU context as the group state. Include after cmocka.h. */
#ifndef IG_TEST_UTIL_H
#define IG_TEST_UTIL_H

#include <ingot.h>

#define OK(expr)                                                                                  \
    do {                                                                                          \
        ig_status ok_s_ = (expr);                                                                 \
        if (ok_s_ != IG_OK) fail_msg("%s: %s: %s", #expr, ig_status_name(ok_s_), ig_last_error()); \
    } while (0)

static inline int setup_cpu_ctx(void **state)
{
    ig_ctx *ctx;
    if (ig_ctx_create(IG_DEVICE_CPU, &ctx) != IG_OK) return -1;
    *state = ctx;
    return 0;
}

static inline int teardown_ctx(void **state)
{
    ig_ctx_destroy(*state);
    return 0;
}

#endif /* IG_TEST_UTIL_H */
