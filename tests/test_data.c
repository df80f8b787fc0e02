/* test_data.c — tests of the IDX reader, ig_dataset and ig_loader. */
#define _GNU_SOURCE /* nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "test_util.h"
#include "test_tmpdir.h"
#include "io/dataset.h"

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/* ---------------------------------------------------------------- IDX files */

static const char *tmp_path(char *buf, const char *name)
{
    snprintf(buf, PATH_MAX, "%s/%s", tmpdir, name);
    return buf;
}

static void write_file(const char *path, const uint8_t *bytes, size_t len, bool gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(gzwrite(f, bytes, (unsigned)len), (int)len);
        assert_int_equal(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(bytes, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
    }
}

/* An IDX file: magic 00 00 type ndim, big-endian u32 dims, then `data_len` bytes of data. */
static void write_idx(const char *path, int type, int ndim, const uint32_t *dims,
                      const uint8_t *data, size_t data_len, bool gz)
{
    size_t len = 4 + 4 * (size_t)ndim + data_len;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    buf[0] = 0;
    buf[1] = 0;
    buf[2] = (uint8_t)type;
    buf[3] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        uint8_t *p = buf + 4 + 4 * i;
        p[0] = (uint8_t)(dims[i] >> 24);
        p[1] = (uint8_t)(dims[i] >> 16);
        p[2] = (uint8_t)(dims[i] >> 8);
        p[3] = (uint8_t)dims[i];
    }
    if (data_len) memcpy(buf + 4 + 4 * ndim, data, data_len);
    write_file(path, buf, len, gz);
    free(buf);
}

/* Pixel k of sample i: pixel 0 is the sample's index so batches can be traced back to
 * samples; sample 0 also holds both extremes, 0 and 255. */
static uint8_t pixel_of(int64_t i, int64_t k, int64_t numel)
{
    if (k == 0) return (uint8_t)i;
    if (i == 0 && k == numel - 1) return 255;
    return (uint8_t)((i * 7 + k * 13) & 0xFF);
}

static int32_t label_of(int64_t i) { return (int32_t)(i * 5 % 7); }

/* Writes images (n, rows, cols) — of which only `n_data` samples are actually present —
 * and `n_labels` labels. */
static void write_set(const char *images, const char *labels, uint32_t n, uint32_t n_data,
                      uint32_t n_labels, uint32_t rows, uint32_t cols, bool gz)
{
    size_t numel = (size_t)rows * cols;
    uint8_t *px = malloc(n_data * numel), *lb = malloc(n_labels);
    assert_non_null(px);
    assert_non_null(lb);
    for (uint32_t i = 0; i < n_data; i++)
        for (size_t k = 0; k < numel; k++) px[i * numel + k] = pixel_of(i, (int64_t)k, (int64_t)numel);
    for (uint32_t i = 0; i < n_labels; i++) lb[i] = (uint8_t)label_of(i);
    write_idx(images, 0x08, 3, (uint32_t[]){n, rows, cols}, px, n_data * numel, gz);
    write_idx(labels, 0x08, 1, (uint32_t[]){n_labels}, lb, n_labels, gz);
    free(px);
    free(lb);
}

/* Writes a consistent set of n samples under `stem` and loads it. */
static ig_dataset *make_dataset(ig_ctx *ctx, const char *stem, uint32_t n, uint32_t rows, uint32_t cols, bool gz)
{
    char ip[PATH_MAX], lp[PATH_MAX], name[64];
    snprintf(name, sizeof name, "%s-images", stem);
    tmp_path(ip, name);
    snprintf(name, sizeof name, "%s-labels", stem);
    tmp_path(lp, name);
    write_set(ip, lp, n, n, n, rows, cols, gz);
    ig_dataset *ds = NULL;
    ig_status s = ig_dataset_load_idx(ctx, ip, lp, &ds);
    if (s != IG_OK) fail_msg("loading %s: %s", ip, ig_last_error());
    return ds;
}

/* Loads an image and a label file that must fail with `want`; the message must contain
 * every non-NULL needle. */
static void expect_load_error(ig_ctx *ctx, const char *images, const char *labels, ig_status want,
                              const char *needle1, const char *needle2)
{
    ig_dataset *ds = (ig_dataset *)&ds; /* not NULL: the call must clear it */
    ig_status s = ig_dataset_load_idx(ctx, images, labels, &ds);
    if (s != want) fail_msg("expected %s, got %s: %s", ig_status_name(want), ig_status_name(s), ig_last_error());
    assert_null(ds);
    if (needle1 && !strstr(ig_last_error(), needle1)) fail_msg("'%s' lacks '%s'", ig_last_error(), needle1);
    if (needle2 && !strstr(ig_last_error(), needle2)) fail_msg("'%s' lacks '%s'", ig_last_error(), needle2);
}

static void check_dataset(const ig_dataset *ds, int64_t n, int64_t rows, int64_t cols)
{
    assert_int_equal(ig_dataset_size(ds), n);
    int64_t shape[IG_MAX_DIMS];
    assert_int_equal(ig_dataset_sample_shape(ds, shape), 3);
    assert_int_equal(shape[0], 1);
    assert_int_equal(shape[1], rows);
    assert_int_equal(shape[2], cols);
    assert_int_equal(ig_dataset_num_classes(ds), 7);
    int64_t numel = rows * cols;
    for (int64_t i = 0; i < n; i++) {
        assert_int_equal(ds->y[i], label_of(i));
        for (int64_t k = 0; k < numel; k++)
            assert_true(ds->x[i * numel + k] == (float)pixel_of(i, k, numel) / 255.0f);
    }
    assert_true(ds->x[numel - 1] == 1.0f);
    assert_true(ds->x[0] == 0.0f);
}

/* ---------------------------------------------------------------- loading */

static void test_load_plain(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = make_dataset(f->ctx, "plain", 5, 2, 3, false);
    check_dataset(ds, 5, 2, 3);
    ig_dataset_destroy(ds);
}

static void test_load_gzip(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = make_dataset(f->ctx, "gz", 9, 4, 3, true);
    check_dataset(ds, 9, 4, 3);
    ig_dataset_destroy(ds);
}

static void test_normalize(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = make_dataset(f->ctx, "norm", 5, 2, 3, false);
    assert_int_equal(ig_dataset_normalize(ds, 0.5f, 0.25f), IG_OK);
    for (int64_t i = 0; i < 5 * 6; i++) {
        float want = ((float)pixel_of(i / 6, i % 6, 6) / 255.0f - 0.5f) / 0.25f;
        assert_float_equal(ds->x[i], want, 1e-6);
    }
    const float bad_std[] = {0.0f, -1.0f, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad_std / sizeof *bad_std; i++) {
        assert_int_equal(ig_dataset_normalize(ds, 0.0f, bad_std[i]), IG_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(ig_last_error(), "std"));
    }
    assert_int_equal(ig_dataset_normalize(ds, NAN, 1.0f), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_dataset_normalize(NULL, 0.0f, 1.0f), IG_ERR_INVALID_ARGUMENT);
    ig_dataset_destroy(ds);
}

/* ---------------------------------------------------------------- loader */

/* Runs one epoch; fills ids (the sample index of each position) and sizes (of each batch);
 * returns the number of batches. Checks shapes, dtypes and that labels match samples. */
static int run_epoch(ig_loader *ld, const ig_dataset *ds, int64_t *ids, int64_t *sizes)
{
    int64_t numel = ds->sample_numel, pos = 0;
    int nb = 0;
    for (;;) {
        ig_tensor *x = (ig_tensor *)&x, *y = (ig_tensor *)&y;
        assert_int_equal(ig_loader_next(ld, &x, &y), IG_OK);
        if (!x) {
            assert_null(y);
            return nb;
        }
        int64_t b = ig_tensor_dim(x, 0);
        assert_int_equal(ig_tensor_dtype(x), IG_F32);
        assert_int_equal(ig_tensor_ndim(x), 4);
        assert_int_equal(ig_tensor_dim(x, 1), 1);
        assert_int_equal(ig_tensor_dim(x, 2), ds->sample_shape[1]);
        assert_int_equal(ig_tensor_dim(x, 3), ds->sample_shape[2]);
        assert_int_equal(ig_tensor_dtype(y), IG_I32);
        assert_int_equal(ig_tensor_ndim(y), 1);
        assert_int_equal(ig_tensor_dim(y, 0), b);
        const float *xd = ig_tensor_data_const(x);
        const int32_t *yd = ig_tensor_data_const(y);
        for (int64_t k = 0; k < b; k++) {
            int64_t id = lroundf(xd[k * numel] * 255.0f);
            assert_int_equal(yd[k], label_of(id));
            assert_memory_equal(xd + k * numel, ds->x + id * numel, (size_t)numel * sizeof(float));
            ids[pos++] = id;
        }
        sizes[nb++] = b;
    }
}

/* Each of ids[0..n) is distinct and below `size`. */
static void assert_distinct(const int64_t *ids, int64_t n, int64_t size)
{
    bool seen[256] = {false};
    for (int64_t i = 0; i < n; i++) {
        assert_in_range(ids[i], 0, size - 1);
        assert_false(seen[ids[i]]);
        seen[ids[i]] = true;
    }
}

static void test_loader_sequential(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = make_dataset(f->ctx, "seq", 23, 2, 3, false);
    ig_loader *ld;
    assert_int_equal(ig_loader_create(ds, 5, false, 0, false, &ld), IG_OK);
    assert_int_equal(ig_loader_num_batches(ld), 5);
    for (int epoch = 0; epoch < 2; epoch++) {
        int64_t ids[23], sizes[32];
        assert_int_equal(run_epoch(ld, ds, ids, sizes), 5);
        for (int64_t i = 0; i < 23; i++) assert_int_equal(ids[i], i);
        for (int b = 0; b < 4; b++) assert_int_equal(sizes[b], 5);
        assert_int_equal(sizes[4], 3);
    }
    ig_loader_destroy(ld);
    ig_dataset_destroy(ds);
}

static void test_loader_shuffle(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = make_dataset(f->ctx, "shuf", 23, 2, 3, false);
    ig_loader *a, *b, *c;
    assert_int_equal(ig_loader_create(ds, 4, true, 1234, false, &a), IG_OK);
    assert_int_equal(ig_loader_create(ds, 4, true, 1234, false, &b), IG_OK);
    assert_int_equal(ig_loader_create(ds, 4, true, 99, false, &c), IG_OK);
    int64_t ia[3][23], ib[3][23], ic[23], sizes[32];
    for (int e = 0; e < 3; e++) {
        assert_int_equal(run_epoch(a, ds, ia[e], sizes), 6);
        assert_int_equal(sizes[5], 3);
        assert_distinct(ia[e], 23, 23); /* 23 distinct ids below 23: every sample once */
        assert_int_equal(run_epoch(b, ds, ib[e], sizes), 6);
        assert_memory_equal(ia[e], ib[e], sizeof ia[e]);
    }
    assert_memory_not_equal(ia[0], ia[1], sizeof ia[0]);
    assert_memory_not_equal(ia[1], ia[2], sizeof ia[0]);
    assert_memory_not_equal(ia[0], ia[2], sizeof ia[0]);
    bool identity = true;
    for (int64_t i = 0; i < 23; i++) identity &= ia[0][i] == i;
    assert_false(identity);
    assert_int_equal(run_epoch(c, ds, ic, sizes), 6);
    assert_memory_not_equal(ia[0], ic, sizeof ic);
    ig_loader_destroy(a);
    ig_loader_destroy(b);
    ig_loader_destroy(c);
    ig_dataset_destroy(ds);
}

static void test_loader_drop_last(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = make_dataset(f->ctx, "drop", 23, 2, 3, false);
    int64_t ids[23], sizes[32];
    ig_loader *ld;

    assert_int_equal(ig_loader_create(ds, 5, true, 7, true, &ld), IG_OK);
    assert_int_equal(ig_loader_num_batches(ld), 4);
    for (int e = 0; e < 2; e++) {
        assert_int_equal(run_epoch(ld, ds, ids, sizes), 4);
        for (int b = 0; b < 4; b++) assert_int_equal(sizes[b], 5);
        assert_distinct(ids, 20, 23);
    }
    ig_loader_destroy(ld);

    /* a batch larger than the dataset: no batch with drop_last, one smaller batch without */
    assert_int_equal(ig_loader_create(ds, 30, false, 0, true, &ld), IG_OK);
    assert_int_equal(ig_loader_num_batches(ld), 0);
    assert_int_equal(run_epoch(ld, ds, ids, sizes), 0);
    assert_int_equal(run_epoch(ld, ds, ids, sizes), 0);
    ig_loader_destroy(ld);
    assert_int_equal(ig_loader_create(ds, 30, true, 0, false, &ld), IG_OK);
    assert_int_equal(ig_loader_num_batches(ld), 1);
    assert_int_equal(run_epoch(ld, ds, ids, sizes), 1);
    assert_int_equal(sizes[0], 23);
    assert_distinct(ids, 23, 23);
    ig_loader_destroy(ld);

    /* batches that divide the dataset exactly: drop_last changes nothing */
    assert_int_equal(ig_loader_create(ds, 1, false, 0, true, &ld), IG_OK);
    assert_int_equal(ig_loader_num_batches(ld), 23);
    assert_int_equal(run_epoch(ld, ds, ids, sizes), 23);
    ig_loader_destroy(ld);
    ig_dataset_destroy(ds);
}

/* The loader reuses its batch tensors (one for full batches, one for the last smaller one)
 * across steps and epochs, except where the caller retained one. */
static void test_loader_tensor_reuse(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = make_dataset(f->ctx, "reuse", 7, 2, 2, false);
    ig_loader *ld;
    assert_int_equal(ig_loader_create(ds, 3, true, 5, false, &ld), IG_OK);
    ig_tensor *x[2][3], *y[2][3], *end_x, *end_y;
    for (int e = 0; e < 2; e++) {
        for (int b = 0; b < 3; b++) assert_int_equal(ig_loader_next(ld, &x[e][b], &y[e][b]), IG_OK);
        assert_int_equal(ig_loader_next(ld, &end_x, &end_y), IG_OK);
        assert_null(end_x);
        assert_null(end_y);
    }
    assert_ptr_equal(x[0][0], x[0][1]);
    assert_ptr_equal(x[0][0], x[1][0]);
    assert_ptr_equal(y[0][0], y[1][1]);
    assert_ptr_not_equal(x[0][0], x[0][2]);
    assert_ptr_equal(x[0][2], x[1][2]);
    assert_ptr_equal(y[0][2], y[1][2]);
    assert_int_equal(ig_tensor_dim(x[1][2], 0), 1);

    /* a retained batch keeps its contents; the loader moves on to a fresh tensor */
    ig_tensor *kx, *ky, *nx, *ny;
    assert_int_equal(ig_loader_next(ld, &kx, &ky), IG_OK);
    ig_tensor_retain(kx);
    float saved[3 * 4];
    memcpy(saved, ig_tensor_data(kx), sizeof saved);
    assert_int_equal(ig_loader_next(ld, &nx, &ny), IG_OK);
    assert_ptr_not_equal(nx, kx);
    assert_ptr_equal(ny, ky);
    assert_memory_equal(saved, ig_tensor_data(kx), sizeof saved);
    ig_tensor_release(kx);
    ig_loader_destroy(ld);
    ig_dataset_destroy(ds);
}

/* ---------------------------------------------------------------- errors */

static void test_missing_file(void **state)
{
    fixture *f = *state;
    char ip[PATH_MAX], lp[PATH_MAX], missing[PATH_MAX];
    write_set(tmp_path(ip, "miss-images"), tmp_path(lp, "miss-labels"), 3, 3, 3, 2, 2, false);
    tmp_path(missing, "no-such-file.gz");
    expect_load_error(f->ctx, missing, lp, IG_ERR_IO, missing, "No such file");
    expect_load_error(f->ctx, ip, missing, IG_ERR_IO, missing, "ig_dataset_load_idx");
    expect_load_error(f->ctx, tmpdir, lp, IG_ERR_IO, tmpdir, NULL); /* a directory */
}

static void test_truncated(void **state)
{
    fixture *f = *state;
    char ip[PATH_MAX], lp[PATH_MAX], gp[PATH_MAX];
    /* 5 images of 2x3 declared, 4 present */
    write_set(tmp_path(ip, "trunc-images"), tmp_path(lp, "trunc-labels"), 5, 4, 5, 2, 3, false);
    expect_load_error(f->ctx, ip, lp, IG_ERR_FORMAT, ip, "truncated: expected 30 bytes of data, got 24");
    write_set(tmp_path(ip, "trunc-images.gz"), tmp_path(lp, "trunc-labels.gz"), 5, 4, 5, 2, 3, true);
    expect_load_error(f->ctx, ip, lp, IG_ERR_FORMAT, ip, "truncated: expected 30 bytes of data, got 24");

    /* a cut header */
    write_file(tmp_path(gp, "trunc-magic"), (const uint8_t[]){0, 0}, 2, false);
    expect_load_error(f->ctx, gp, lp, IG_ERR_FORMAT, gp, "truncated");
    write_file(gp, (const uint8_t[]){0, 0, 8, 3, 0, 0, 0, 5, 0, 0}, 10, false);
    expect_load_error(f->ctx, gp, lp, IG_ERR_FORMAT, gp, "truncated");

    /* a gzip stream cut in the middle */
    uint8_t big[4000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 2654435761u >> 13);
    write_idx(tmp_path(gp, "cut.gz"), 0x08, 3, (uint32_t[]){40, 10, 10}, big, sizeof big, true);
    struct stat st;
    assert_int_equal(stat(gp, &st), 0);
    assert_int_equal(truncate(gp, st.st_size / 2), 0);
    expect_load_error(f->ctx, gp, lp, IG_ERR_FORMAT, gp, "truncated");
}

static void test_bad_header(void **state)
{
    fixture *f = *state;
    char ip[PATH_MAX], lp[PATH_MAX], bp[PATH_MAX];
    write_set(tmp_path(ip, "hdr-images"), tmp_path(lp, "hdr-labels"), 3, 3, 3, 2, 2, false);
    tmp_path(bp, "hdr-bad");

    write_file(bp, (const uint8_t *)"GIF89a and more bytes", 21, false);
    expect_load_error(f->ctx, bp, lp, IG_ERR_FORMAT, bp, "not an IDX file");
    /* float data */
    write_idx(bp, 0x0D, 3, (uint32_t[]){1, 1, 1}, (const uint8_t[]){0, 0, 0, 0}, 4, false);
    expect_load_error(f->ctx, bp, lp, IG_ERR_FORMAT, bp, "type 0x0d (f32)");
    /* labels and images swapped: wrong number of dimensions */
    expect_load_error(f->ctx, lp, ip, IG_ERR_FORMAT, lp, "with 1 dimension");
    /* a zero dimension */
    write_idx(bp, 0x08, 3, (uint32_t[]){3, 0, 2}, NULL, 0, false);
    expect_load_error(f->ctx, bp, lp, IG_ERR_FORMAT, bp, "dimension 1 is 0");
    /* dimensions whose product overflows 64 bits: refused before allocating */
    write_idx(bp, 0x08, 3, (uint32_t[]){0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, NULL, 0, false);
    expect_load_error(f->ctx, bp, lp, IG_ERR_FORMAT, bp, "limit");
    write_idx(bp, 0x08, 3, (uint32_t[]){70000, 200, 200}, NULL, 0, true);
    expect_load_error(f->ctx, bp, lp, IG_ERR_FORMAT, bp, "limit");
    /* more data than the header declares */
    write_idx(bp, 0x08, 1, (uint32_t[]){3}, (const uint8_t[]){1, 2, 3, 4}, 4, false);
    expect_load_error(f->ctx, ip, bp, IG_ERR_FORMAT, bp, "trailing data");
    /* a gzip header followed by garbage */
    uint8_t junk[64] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    memset(junk + 10, 0xFF, sizeof junk - 10);
    write_file(bp, junk, sizeof junk, false);
    expect_load_error(f->ctx, bp, lp, IG_ERR_FORMAT, bp, NULL);
}

static void test_count_mismatch(void **state)
{
    fixture *f = *state;
    char ip[PATH_MAX], lp[PATH_MAX];
    write_set(tmp_path(ip, "cnt-images"), tmp_path(lp, "cnt-labels"), 5, 5, 4, 2, 2, false);
    expect_load_error(f->ctx, ip, lp, IG_ERR_FORMAT, "5 images", "4 labels");
}

static void test_null_args(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = make_dataset(f->ctx, "null", 4, 2, 2, false);
    char ip[PATH_MAX], lp[PATH_MAX];
    tmp_path(ip, "null-images");
    tmp_path(lp, "null-labels");
    ig_dataset *out;
    assert_int_equal(ig_dataset_load_idx(NULL, ip, lp, &out), IG_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(ig_last_error(), "ctx"));
    assert_int_equal(ig_dataset_load_idx(f->ctx, NULL, lp, &out), IG_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(ig_last_error(), "images_path"));
    assert_int_equal(ig_dataset_load_idx(f->ctx, ip, NULL, &out), IG_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(ig_last_error(), "labels_path"));
    assert_int_equal(ig_dataset_load_idx(f->ctx, ip, lp, NULL), IG_ERR_INVALID_ARGUMENT);

    ig_loader *ld = (ig_loader *)&ld;
    assert_int_equal(ig_loader_create(NULL, 2, false, 0, false, &ld), IG_ERR_INVALID_ARGUMENT);
    assert_null(ld);
    assert_int_equal(ig_loader_create(ds, 2, false, 0, false, NULL), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_loader_create(ds, 0, false, 0, false, &ld), IG_ERR_INVALID_ARGUMENT);
    assert_string_equal(ig_last_error(), "ig_loader_create: batch_size is 0 (must be >= 1)");
    assert_int_equal(ig_loader_create(ds, -3, false, 0, false, &ld), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_loader_create(ds, 2, false, 0, false, &ld), IG_OK);
    ig_tensor *x, *y;
    assert_int_equal(ig_loader_next(NULL, &x, &y), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_loader_next(ld, NULL, &y), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_loader_next(ld, &x, NULL), IG_ERR_INVALID_ARGUMENT);

    int64_t shape[IG_MAX_DIMS];
    assert_int_equal(ig_dataset_size(NULL), 0);
    assert_int_equal(ig_dataset_sample_shape(NULL, shape), -1);
    assert_int_equal(ig_dataset_sample_shape(ds, NULL), -1);
    assert_int_equal(ig_dataset_num_classes(NULL), 0);
    assert_int_equal(ig_loader_num_batches(NULL), 0);
    ig_loader_destroy(NULL);
    ig_dataset_destroy(NULL);
    ig_loader_destroy(ld);
    ig_dataset_destroy(ds);
}

/* ---------------------------------------------------------------- Fashion-MNIST */

/* The CI installs the dataset package; a missing dataset is a failure, not a skip. */
static void test_fashion_mnist(void **state)
{
    fixture *f = *state;
    const char *ip = FMNIST_DIR "/t10k-images-idx3-ubyte.gz", *lp = FMNIST_DIR "/t10k-labels-idx1-ubyte.gz";
    if (access(ip, R_OK) != 0 || access(lp, R_OK) != 0)
        fail_msg("Fashion-MNIST not found under " FMNIST_DIR " (install the dataset-fashion-mnist package)");
    ig_dataset *ds;
    if (ig_dataset_load_idx(f->ctx, ip, lp, &ds) != IG_OK) fail_msg("%s", ig_last_error());
    assert_int_equal(ig_dataset_size(ds), 10000);
    int64_t shape[IG_MAX_DIMS];
    assert_int_equal(ig_dataset_sample_shape(ds, shape), 3);
    assert_int_equal(shape[0], 1);
    assert_int_equal(shape[1], 28);
    assert_int_equal(shape[2], 28);
    assert_int_equal(ig_dataset_num_classes(ds), 10);
    /* the first test images: an ankle boot (9), a pullover (2), two trousers (1) */
    assert_int_equal(ds->y[0], 9);
    assert_int_equal(ds->y[1], 2);
    assert_int_equal(ds->y[2], 1);
    assert_int_equal(ds->y[3], 1);
    double sum0 = 0;
    for (int k = 0; k < 784; k++) sum0 += ds->x[k];
    assert_float_equal(sum0, 33456.0 / 255.0, 1e-3); /* the first image's pixel sum */
    for (int64_t i = 0; i < 10000 * 784; i++) assert_true(ds->x[i] >= 0.0f && ds->x[i] <= 1.0f);

    ig_loader *ld;
    assert_int_equal(ig_loader_create(ds, 128, true, 1, false, &ld), IG_OK);
    assert_int_equal(ig_loader_num_batches(ld), 79);
    int64_t total = 0;
    ig_tensor *x, *y;
    for (;;) {
        assert_int_equal(ig_loader_next(ld, &x, &y), IG_OK);
        if (!x) break;
        total += ig_tensor_dim(x, 0);
    }
    assert_int_equal(total, 10000);
    ig_loader_destroy(ld);
    ig_dataset_destroy(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_plain, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_load_gzip, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_normalize, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_loader_sequential, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_loader_shuffle, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_loader_drop_last, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_loader_tensor_reuse, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_missing_file, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_truncated, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_bad_header, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_count_mismatch, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_null_args, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_fashion_mnist, setup_fixture, teardown_fixture),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
