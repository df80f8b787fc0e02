/* test_safetensors.c — the safetensors reader and writer (round trips of every dtype, forged
 * headers refused with messages naming the fault) and weights files (exact round trips,
 * strictness, dtype conversion, batch norm's num_batches_tracked). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_tmpdir.h"
#include "test_util.h"

#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "nn/model.h"

#include <dirent.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void tmp_path(char *buf, size_t size, const char *name) { snprintf(buf, size, "%s/%s", tmpdir, name); }

/* A file of the 8-byte length, the header text, and `data` bytes. */
static void write_raw(const char *path, const char *header, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint64_t len = strlen(header);
    fwrite(&len, 8, 1, f);
    fputs(header, f);
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

static void test_round_trip_every_dtype(void **state)
{
    char path[512];
    tmp_path(path, sizeof path, "all.safetensors");
    float f32[6] = {1, -2, 3.5f, 0, 1e-30f, -7};
    double f64[2] = {0.1, -1e300};
    uint16_t f16[3] = {0x3c00, 0xc000, 0x0001}, bf16[2] = {0x3f80, 0xff80};
    int32_t i32[2] = {-5, 1 << 30};
    int64_t i64 = 1234567890123ll;
    ig_st_list l = {0};
    OK(ig_st_list_add(&l, IG_ST_F32, 2, (int64_t[]){2, 3}, f32, "w"));
    OK(ig_st_list_add(&l, IG_ST_F64, 1, (int64_t[]){2}, f64, "d"));
    OK(ig_st_list_add(&l, IG_ST_F16, 1, (int64_t[]){3}, f16, "h"));
    OK(ig_st_list_add(&l, IG_ST_BF16, 1, (int64_t[]){2}, bf16, "b"));
    OK(ig_st_list_add(&l, IG_ST_I32, 1, (int64_t[]){2}, i32, "i"));
    OK(ig_st_list_add(&l, IG_ST_I64, 0, NULL, &i64, "scalar"));
    OK(ig_st_list_add(&l, IG_ST_F32, 2, (int64_t[]){0, 4}, NULL, "empty"));
    ig_atomic_file af;
    OK(ig_atomic_open(&af, path));
    OK(ig_st_write(&af, l.e, l.n, (const char *const[]){"format", "pt"}, 1));
    uint32_t crc = af.crc;
    OK(ig_atomic_commit(&af));
    ig_st_list_free(&l);

    ig_st_file *f;
    OK(ig_st_open(path, &f));
    assert_int_equal(ig_st_count(f), 7);
    assert_int_equal(ig_st_file_crc(f), crc);
    const ig_st_tensor *t = ig_st_get(f, "w");
    assert_int_equal(t->dtype, IG_ST_F32);
    assert_int_equal(t->ndim, 2);
    assert_memory_equal(t->data, f32, sizeof f32);
    assert_memory_equal(ig_st_get(f, "d")->data, f64, sizeof f64);
    assert_memory_equal(ig_st_get(f, "h")->data, f16, sizeof f16);
    assert_memory_equal(ig_st_get(f, "b")->data, bf16, sizeof bf16);
    assert_memory_equal(ig_st_get(f, "i")->data, i32, sizeof i32);
    assert_int_equal(ig_st_get(f, "scalar")->ndim, 0);
    assert_memory_equal(ig_st_get(f, "scalar")->data, &i64, sizeof i64);
    assert_int_equal(ig_st_get(f, "empty")->numel, 0);
    assert_null(ig_st_get(f, "nope"));
    ig_st_close(f);
}

static void test_duplicate_names_refused_on_writing(void **state)
{
    char path[512];
    tmp_path(path, sizeof path, "dup.safetensors");
    float x = 1;
    ig_st_list l = {0};
    OK(ig_st_list_add(&l, IG_ST_F32, 0, NULL, &x, "a"));
    OK(ig_st_list_add(&l, IG_ST_F32, 0, NULL, &x, "a"));
    ig_atomic_file af;
    OK(ig_atomic_open(&af, path));
    assert_int_equal(ig_st_write(&af, l.e, l.n, NULL, 0), IG_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(ig_last_error(), "two tensors are named 'a'"));
    ig_st_list_free(&l);
    assert_int_equal(access(path, F_OK), -1); /* nothing left behind */
}

/* Forged files: each is refused with its status and a message holding the needle. */
static void test_forged_headers(void **state)
{
    static const struct {
        const char *header;
        size_t data;
        ig_status want;
        const char *needle;
    } cases[] = {
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, IG_ERR_FORMAT, "outside the 4-byte"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, IG_ERR_FORMAT, "need 12"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4503599627370496,4096],\"data_offsets\":[0,8]}}", 8, IG_ERR_FORMAT,
         "overflows"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0, IG_ERR_FORMAT, "not a non-negative"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,0]}}", 0, IG_ERR_FORMAT, "dimension 0"},
        {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, IG_ERR_UNSUPPORTED, "'U8'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, IG_ERR_UNSUPPORTED,
         "7 dimensions"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, IG_ERR_FORMAT, "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, IG_ERR_FORMAT, "gap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12, IG_ERR_FORMAT, "belong to no tensor"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, IG_ERR_FORMAT, "appears twice"},
        {"{\"__metadata__\":{\"k\":1}}", 0, IG_ERR_FORMAT, "__metadata__"},
        {"[1, 2]", 0, IG_ERR_FORMAT, "not a JSON object"},
        {"{\"a\":", 0, IG_ERR_FORMAT, "not valid JSON"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, IG_ERR_FORMAT, "data_offsets"},
    };
    char path[512];
    tmp_path(path, sizeof path, "forged.safetensors");
    uint8_t zeros[16] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_raw(path, cases[i].header, zeros, cases[i].data);
        ig_st_file *f = NULL;
        ig_status st = ig_st_open(path, &f);
        if (st != cases[i].want || !strstr(ig_last_error(), cases[i].needle))
            fail_msg("case %zu: %s: %s (expected %s with '%s')", i, ig_status_name(st), ig_last_error(),
                     ig_status_name(cases[i].want), cases[i].needle);
        assert_null(f);
    }
    /* a header length beyond the file, and a file shorter than the length field */
    FILE *fp = fopen(path, "wb");
    uint64_t huge = (uint64_t)1 << 60;
    fwrite(&huge, 8, 1, fp);
    fputs("{}", fp);
    fclose(fp);
    ig_st_file *f;
    assert_int_equal(ig_st_open(path, &f), IG_ERR_FORMAT);
    assert_non_null(strstr(ig_last_error(), "exceeds the 2 bytes"));
    fp = fopen(path, "wb");
    fputs("abc", fp);
    fclose(fp);
    assert_int_equal(ig_st_open(path, &f), IG_ERR_FORMAT);
    assert_non_null(strstr(ig_last_error(), "truncated"));
}

/* ---------------------------------------------------------------- weights files */

/* dense → batch norm → dense: parameters, buffers and a batch count */
static ig_model *bn_model(ig_ctx *ctx, uint64_t seed)
{
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){4, 6}, 2, &m));
    OK(ig_model_set_seed(m, seed));
    ig_value v = ig_batchnorm(m, ig_dense(m, ig_model_input(m), 5, true, "fc1"), 0.1f, 1e-5f, "bn");
    ig_model_set_output(m, ig_dense(m, ig_relu(m, v, "relu"), 3, false, "fc2"));
    OK(ig_model_status(m));
    return m;
}

static void get_all(ig_model *m, float *buf, int64_t cap)
{
    int64_t at = 0;
    for (int i = 0; i < ig_model_param_count(m); i++) {
        int64_t shape[IG_MAX_DIMS], n = 1;
        int nd = ig_model_param_shape(m, i, shape);
        for (int k = 0; k < nd; k++) n *= shape[k];
        assert_true(at + n <= cap);
        OK(ig_model_param_get(m, i, buf + at, n));
        at += n;
    }
}

static void test_weights_round_trip(void **state)
{
    fixture *fx = *state;
    char path[512];
    tmp_path(path, sizeof path, "w.safetensors");
    ig_model *a = bn_model(fx->ctx, 1), *b = bn_model(fx->ctx, 2);
    float running[5] = {0.5f, -1, 2, 3, 4};
    OK(ig_model_param_set(a, ig_model_param_index(a, "bn.running_mean"), running, 5));
    a->bn_batches = 17;
    OK(ig_model_save_weights(a, path));
    OK(ig_model_load_weights(b, path, NULL));
    float wa[128] = {0}, wb[128] = {0};
    get_all(a, wa, 128);
    get_all(b, wb, 128);
    assert_memory_equal(wa, wb, sizeof wa);
    assert_int_equal(b->bn_batches, 17);
    /* the file: every entry F32 in PyTorch's layout, the count an I64 scalar */
    ig_st_file *f;
    OK(ig_st_open(path, &f));
    assert_int_equal(ig_st_count(f), ig_model_param_count(a) + 1);
    const ig_st_tensor *w = ig_st_get(f, "fc1.weight"), *c = ig_st_get(f, "bn.num_batches_tracked");
    assert_int_equal(w->dtype, IG_ST_F32);
    assert_int_equal(w->shape[0], 5);
    assert_int_equal(w->shape[1], 6);
    assert_int_equal(c->dtype, IG_ST_I64);
    assert_int_equal(c->ndim, 0);
    ig_st_close(f);
    ig_model_destroy(a);
    ig_model_destroy(b);
}

static void test_weights_strictness(void **state)
{
    fixture *fx = *state;
    char path[512];
    tmp_path(path, sizeof path, "strict.safetensors");
    float w1[30] = {0}, b1[5] = {0}, extra[2] = {0};
    ig_st_list l = {0};
    OK(ig_st_list_add(&l, IG_ST_F32, 2, (int64_t[]){5, 6}, w1, "fc1.weight"));
    OK(ig_st_list_add(&l, IG_ST_F32, 1, (int64_t[]){5}, b1, "fc1.bias"));
    OK(ig_st_list_add(&l, IG_ST_F32, 1, (int64_t[]){2}, extra, "head.bias"));
    ig_atomic_file af;
    OK(ig_atomic_open(&af, path));
    OK(ig_st_write(&af, l.e, l.n, NULL, 0));
    OK(ig_atomic_commit(&af));
    ig_model *m = bn_model(fx->ctx, 3);
    float before[128] = {0}, after[128] = {0};
    get_all(m, before, 128);
    assert_int_equal(ig_model_load_weights(m, path, NULL), IG_ERR_STATE);
    assert_non_null(strstr(ig_last_error(), "bn.weight, bn.bias, bn.running_mean, bn.running_var, fc2.weight are not in"));
    get_all(m, after, 128);
    assert_memory_equal(before, after, sizeof before); /* nothing changed */
    ig_weights_options o = ig_weights_defaults();
    o.allow_missing = true;
    assert_int_equal(ig_model_load_weights(m, path, &o), IG_ERR_STATE);
    assert_non_null(strstr(ig_last_error(), "the file's head.bias is no parameter"));
    o.allow_unexpected = true;
    OK(ig_model_load_weights(m, path, &o));
    get_all(m, after, 128);
    for (int i = 0; i < 35; i++) assert_true(after[i] == 0.0f); /* fc1 came from the file */
    assert_memory_equal(before + 35, after + 35, sizeof before - 35 * sizeof(float)); /* the rest kept */

    /* a shape that differs is always an error, naming the tensor */
    ig_st_list_free(&l);
    OK(ig_st_list_add(&l, IG_ST_F32, 2, (int64_t[]){6, 5}, w1, "fc1.weight"));
    OK(ig_atomic_open(&af, path));
    OK(ig_st_write(&af, l.e, l.n, NULL, 0));
    OK(ig_atomic_commit(&af));
    assert_int_equal(ig_model_load_weights(m, path, &o), IG_ERR_SHAPE);
    assert_non_null(strstr(ig_last_error(), "tensor 'fc1.weight' is [6, 5], the model's parameter is [5, 6]"));
    ig_st_list_free(&l);
    ig_model_destroy(m);
}

/* Half, bfloat16 and double weights become float; a count of another type is refused. */
static void test_weights_conversions(void **state)
{
    fixture *fx = *state;
    char path[512];
    tmp_path(path, sizeof path, "conv.safetensors");
    ig_model *m = bn_model(fx->ctx, 4);
    double w1[30];
    uint16_t b1[5] = {0x3c00, 0xc000, 0x0001, 0x7bff, 0x8000}; /* 1, -2, 2^-24, 65504, -0 */
    uint16_t g[5] = {0x3f80, 0x4000, 0xbf80, 0x3e80, 0x0000};  /* 1, 2, -1, 0.25, 0 */
    for (int i = 0; i < 30; i++) w1[i] = 0.1 * i;
    int64_t count = 9;
    ig_st_list l = {0};
    OK(ig_st_list_add(&l, IG_ST_F64, 2, (int64_t[]){5, 6}, w1, "fc1.weight"));
    OK(ig_st_list_add(&l, IG_ST_F16, 1, (int64_t[]){5}, b1, "fc1.bias"));
    OK(ig_st_list_add(&l, IG_ST_BF16, 1, (int64_t[]){5}, g, "bn.weight"));
    OK(ig_st_list_add(&l, IG_ST_I64, 1, (int64_t[]){1}, &count, "bn.num_batches_tracked"));
    ig_atomic_file af;
    OK(ig_atomic_open(&af, path));
    OK(ig_st_write(&af, l.e, l.n, NULL, 0));
    OK(ig_atomic_commit(&af));
    ig_weights_options o = {.allow_missing = true};
    OK(ig_model_load_weights(m, path, &o));
    float w[30], b[5], gamma[5];
    OK(ig_model_param_get(m, 0, w, 30));
    OK(ig_model_param_get(m, 1, b, 5));
    OK(ig_model_param_get(m, 2, gamma, 5));
    for (int i = 0; i < 30; i++) assert_true(w[i] == (float)(0.1 * i));
    assert_true(b[0] == 1.0f && b[1] == -2.0f && b[2] == 0x1p-24f && b[3] == 65504.0f && b[4] == 0.0f && signbit(b[4]));
    assert_true(gamma[0] == 1.0f && gamma[1] == 2.0f && gamma[2] == -1.0f && gamma[3] == 0.25f && gamma[4] == 0.0f);
    assert_int_equal(m->bn_batches, 9);

    ig_st_list_free(&l);
    float not_a_count = 1;
    OK(ig_st_list_add(&l, IG_ST_F32, 0, NULL, &not_a_count, "bn.num_batches_tracked"));
    OK(ig_atomic_open(&af, path));
    OK(ig_st_write(&af, l.e, l.n, NULL, 0));
    OK(ig_atomic_commit(&af));
    assert_int_equal(ig_model_load_weights(m, path, &o), IG_ERR_FORMAT);
    assert_non_null(strstr(ig_last_error(), "a batch count is one integer"));
    ig_st_list_free(&l);
    int32_t ids[30] = {0};
    OK(ig_st_list_add(&l, IG_ST_I32, 2, (int64_t[]){5, 6}, ids, "fc1.weight"));
    OK(ig_atomic_open(&af, path));
    OK(ig_st_write(&af, l.e, l.n, NULL, 0));
    OK(ig_atomic_commit(&af));
    assert_int_equal(ig_model_load_weights(m, path, &o), IG_ERR_UNSUPPORTED);
    assert_non_null(strstr(ig_last_error(), "needs a floating-point dtype"));
    ig_st_list_free(&l);
    ig_model_destroy(m);
}

/* A save that cannot complete leaves the previous file as it was. */
static void test_weights_save_is_atomic(void **state)
{
    fixture *fx = *state;
    char path[512];
    tmp_path(path, sizeof path, "atomic.safetensors");
    ig_model *m = bn_model(fx->ctx, 5);
    OK(ig_model_save_weights(m, path));
    assert_int_equal(ig_model_save_weights(m, "/nonexistent-dir/w.safetensors"), IG_ERR_IO);
    assert_non_null(strstr(ig_last_error(), "/nonexistent-dir/w.safetensors"));
    /* a directory where the file should go: the rename fails, the temporary file goes */
    char dir[512];
    tmp_path(dir, sizeof dir, "adir");
    assert_int_equal(mkdir(dir, 0777), 0);
    assert_int_equal(ig_model_save_weights(m, dir), IG_ERR_IO);
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while ((e = readdir(d))) assert_false(ig_atomic_is_temp(e->d_name));
    closedir(d);
    OK(ig_model_load_weights(m, path, NULL));
    ig_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_dtype),
        cmocka_unit_test(test_duplicate_names_refused_on_writing),
        cmocka_unit_test(test_forged_headers),
        cmocka_unit_test_setup_teardown(test_weights_round_trip, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_weights_strictness, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_weights_conversions, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_weights_save_is_atomic, setup_fixture, teardown_fixture),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
