/* test_util.h — what the cmocka test files share: a status check that fails with the
 * library's message, and a CPU context as the group state. Include after cmocka.h. */
#ifndef IG_TEST_UTIL_H
#define IG_TEST_UTIL_H

#include <ingot.h>

#include <stdio.h>
#include <stdlib.h>

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

/* GPU test programs start with `if (no_cuda()) return 77;`: ctest reports them as skipped
 * where there is no CUDA device (or no CUDA backend in the build), never as passed. */
static inline bool no_cuda(void)
{
    ig_ctx *ctx;
    if (ig_ctx_create(IG_DEVICE_CUDA, &ctx) != IG_OK) {
        printf("SKIP: no CUDA device or no CUDA backend: %s\n", ig_last_error());
        return true;
    }
    ig_ctx_destroy(ctx);
    return false;
}

/* A CPU context per test and the host memory in use when it started: a test's teardown
 * checks that it freed what it made (failed loads included). Use with
 * cmocka_unit_test_setup_teardown(test, setup_fixture, teardown_fixture). */
typedef struct fixture {
    ig_ctx *ctx;
    size_t host_base;
} fixture;

static inline size_t host_in_use(ig_ctx *ctx)
{
    ig_memory_stats st;
    OK(ig_memory_stats_get(ctx, &st));
    return st.host_in_use;
}

static inline int setup_fixture(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || ig_ctx_create(IG_DEVICE_CPU, &f->ctx) != IG_OK) {
        free(f);
        return -1;
    }
    f->host_base = host_in_use(f->ctx);
    *state = f;
    return 0;
}

static inline int teardown_fixture(void **state)
{
    fixture *f = *state;
    assert_int_equal(host_in_use(f->ctx), f->host_base);
    ig_ctx_destroy(f->ctx);
    free(f);
    return 0;
}

#endif /* IG_TEST_UTIL_H */
