/* test_tensorboard.c — the TensorBoard event writer's bytes: CRC-32C against its check value,
 * TFRecord framing (length, masked CRCs) read back, the Event fields where the protobuf
 * encoding puts them, and its errors. (tests/python/test_cli_tensorboard.py has TensorBoard's
 * own reader load a run's files.) */
#define _GNU_SOURCE
#include "report/tensorboard.h"
#include "test_tmpdir.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_crc32c(void **state)
{
    /* the check value of CRC-32C (iSCSI), and of nothing */
    assert_int_equal(ig_crc32c("123456789", 9), 0xE3069283u);
    assert_int_equal(ig_crc32c("", 0), 0u);
}

static uint32_t masked(const void *p, size_t n)
{
    uint32_t c = ig_crc32c(p, n);
    return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* The payloads of every record of the file, checked for framing on the way. */
static int read_records(const char *path, uint8_t payloads[][256], size_t *sizes, int max)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    int n = 0;
    uint8_t head[12], crc[4];
    while (fread(head, 1, 12, f) == 12) {
        assert_true(n < max);
        uint64_t len = le(head, 8);
        assert_true(len <= 256);
        assert_int_equal(le(head + 8, 4), masked(head, 8));
        assert_int_equal(fread(payloads[n], 1, len, f), len);
        assert_int_equal(fread(crc, 1, 4, f), 4);
        assert_int_equal(le(crc, 4), masked(payloads[n], len));
        sizes[n++] = len;
    }
    fclose(f);
    return n;
}

static bool contains(const uint8_t *p, size_t n, const void *what, size_t m)
{
    return memmem(p, n, what, m) != NULL;
}

static void test_records(void **state)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/logs", tmpdir);
    ig_event_writer *w;
    assert_int_equal(ig_event_writer_create(dir, &w), IG_OK);
    assert_non_null(strstr(ig_event_writer_path(w), "/events.out.tfevents."));
    assert_int_equal(ig_event_writer_add_scalar(w, "loss/train", 7, 0.25f), IG_OK);
    assert_int_equal(ig_event_writer_add_scalar(w, "lr", 300, 1e-3f), IG_OK);
    char path[1024];
    snprintf(path, sizeof path, "%s", ig_event_writer_path(w));
    ig_event_writer_destroy(w);

    static uint8_t rec[8][256];
    size_t size[8];
    assert_int_equal(read_records(path, rec, size, 8), 3);
    /* Event.wall_time (field 1, 64-bit) first; file_version (field 3) in the first record */
    assert_int_equal(rec[0][0], 0x09);
    assert_true(contains(rec[0], size[0], "\x1a\x0d" "brain.Event:2", 15));
    /* step (field 2, varint 7), then summary (field 5) > value (field 1) > tag (field 1) and
     * simple_value (field 2, 32-bit: 0.25f is 00 00 80 3e) */
    assert_int_equal(rec[1][9], 0x10);
    assert_int_equal(rec[1][10], 7);
    assert_int_equal(rec[1][11], 0x2a);
    assert_true(contains(rec[1], size[1], "\x0a\x0aloss/train\x15\x00\x00\x80\x3e", 17));
    /* step 300 as a two-byte varint: ac 02 */
    assert_true(contains(rec[2], size[2], "\x10\xac\x02", 3));
}

static void test_errors(void **state)
{
    ig_event_writer *w = NULL;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/no/such/parent", tmpdir);
    assert_int_equal(ig_event_writer_create(dir, &w), IG_ERR_IO);
    assert_null(w);
    assert_non_null(strstr(ig_last_error(), "no/such/parent"));
    assert_int_equal(ig_event_writer_create(NULL, &w), IG_ERR_INVALID_ARGUMENT);
    snprintf(dir, sizeof dir, "%s/logs2", tmpdir);
    assert_int_equal(ig_event_writer_create(dir, &w), IG_OK);
    assert_int_equal(ig_event_writer_add_scalar(w, "", 1, 1.0f), IG_ERR_INVALID_ARGUMENT);
    char tag[2000];
    memset(tag, 'a', sizeof tag - 1);
    tag[sizeof tag - 1] = '\0';
    assert_int_equal(ig_event_writer_add_scalar(w, tag, 1, 1.0f), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_event_writer_add_scalar(NULL, "x", 1, 1.0f), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_event_writer_flush(w), IG_OK);
    ig_event_writer_destroy(w);
    ig_event_writer_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
