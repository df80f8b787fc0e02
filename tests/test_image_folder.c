/* test_image_folder.c — datasets from root/<class>/<image> folders. The PNG and JPEG files
 * are written here (libpng, libjpeg) into a temporary folder, none is committed. */
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

#include <jpeglib.h>
#include <png.h>

#include "test_util.h"
#include "test_tmpdir.h"
#include "io/dataset.h"

/* ---------------------------------------------------------------- fixtures */


/* ---------------------------------------------------------------- writing test images */

/* tmpdir/rel; its parent folders are made. A static buffer. */
static const char *path_of(const char *rel)
{
    static char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    for (char *p = path + strlen(tmpdir) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    return path;
}

/* An image of w × h pixels of `channels` bytes (1 grey, 3 RGB, 4 RGBA). */
static void write_png(const char *rel, const uint8_t *px, int w, int h, int channels)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = channels == 1 ? PNG_FORMAT_GRAY : channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_RGBA;
    if (!png_image_write_to_file(&img, path_of(rel), 0, px, 0, NULL)) fail_msg("writing %s: %s", rel, img.message);
}

static void write_jpeg(const char *rel, const uint8_t *rgb, int w, int h)
{
    FILE *f = fopen(path_of(rel), "wb");
    assert_non_null(f);
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)c.next_scanline * (size_t)w * 3);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    assert_int_equal(fclose(f), 0);
}

static void write_bytes(const char *rel, const void *bytes, size_t len)
{
    FILE *f = fopen(path_of(rel), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* The first `percent` % of src's bytes, written as dst. */
static void write_truncated(const char *src, const char *dst, size_t percent)
{
    char from[PATH_MAX];
    snprintf(from, sizeof from, "%s", path_of(src));
    FILE *f = fopen(from, "rb");
    assert_non_null(f);
    uint8_t buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(len < sizeof buf);
    write_bytes(dst, buf, len * percent / 100);
}

/* w × h pixels of one RGB colour. */
static uint8_t *solid(int w, int h, uint8_t r, uint8_t g, uint8_t b)
{
    uint8_t *px = malloc((size_t)w * (size_t)h * 3);
    assert_non_null(px);
    for (int i = 0; i < w * h; i++) {
        px[3 * i] = r;
        px[3 * i + 1] = g;
        px[3 * i + 2] = b;
    }
    return px;
}

static ig_dataset *load(ig_ctx *ctx, const char *rel, int64_t c, int64_t h, int64_t w, bool skip, int64_t *skipped)
{
    ig_image_folder_options o = ig_image_folder_defaults();
    o.channels = c;
    o.height = h;
    o.width = w;
    o.skip_unreadable = skip;
    char root[PATH_MAX];
    snprintf(root, sizeof root, "%s/%s", tmpdir, rel);
    ig_dataset *ds = NULL;
    OK(ig_dataset_load_image_folder(ctx, root, &o, &ds, skipped));
    return ds;
}

static void expect_error(ig_ctx *ctx, const char *rel, bool skip, ig_status want, const char *needle1,
                         const char *needle2)
{
    ig_image_folder_options o = ig_image_folder_defaults();
    o.skip_unreadable = skip;
    char root[PATH_MAX];
    snprintf(root, sizeof root, "%s/%s", tmpdir, rel);
    ig_dataset *ds = (ig_dataset *)&ds;
    int64_t skipped = -1;
    ig_status s = ig_dataset_load_image_folder(ctx, root, &o, &ds, &skipped);
    if (s != want) fail_msg("expected %s, got %s: %s", ig_status_name(want), ig_status_name(s), ig_last_error());
    assert_null(ds);
    assert_int_equal(skipped, 0);
    if (needle1 && !strstr(ig_last_error(), needle1)) fail_msg("'%s' lacks '%s'", ig_last_error(), needle1);
    if (needle2 && !strstr(ig_last_error(), needle2)) fail_msg("'%s' lacks '%s'", ig_last_error(), needle2);
}

/* Every value of sample i, channel c is want (within tol). */
static void assert_plane(const ig_dataset *ds, int64_t i, int64_t c, float want, float tol)
{
    int64_t hw = ds->sample_shape[1] * ds->sample_shape[2];
    const float *p = ds->x + i * ds->sample_numel + c * hw;
    for (int64_t k = 0; k < hw; k++)
        if (fabsf(p[k] - want) > tol) fail_msg("sample %lld channel %lld [%lld]: %g, want %g", (long long)i, (long long)c,
                                               (long long)k, (double)p[k], (double)want);
}

/* ---------------------------------------------------------------- tests */

static void test_classes_and_formats(void **state)
{
    fixture *f = *state;
    uint8_t *red = solid(20, 10, 200, 100, 50), *blue = solid(20, 10, 10, 20, 250); /* also 7 × 9 */
    write_png("pets/cats/a.png", red, 20, 10, 3);
    write_jpeg("pets/cats/b.jpg", blue, 7, 9);
    write_jpeg("pets/dogs/c.JPEG", red, 7, 9);
    write_png("pets/dogs/d.Png", blue, 20, 10, 3);
    /* ignored: hidden folders and files, other files, files directly in root */
    write_png("pets/.cache/x.png", red, 2, 2, 3);
    write_png("pets/dogs/.e.png", red, 2, 2, 3);
    write_bytes("pets/dogs/notes.txt", "hello", 5);
    write_png("pets/stray.png", red, 2, 2, 3);

    int64_t skipped = -1;
    ig_dataset *ds = load(f->ctx, "pets", 3, 6, 5, false, &skipped);
    assert_int_equal(skipped, 0);
    assert_int_equal(ig_dataset_size(ds), 4);
    int64_t shape[IG_MAX_DIMS];
    assert_int_equal(ig_dataset_sample_shape(ds, shape), 3);
    assert_true(shape[0] == 3 && shape[1] == 6 && shape[2] == 5);
    assert_int_equal(ig_dataset_num_classes(ds), 2);
    assert_string_equal(ig_dataset_class_name(ds, 0), "cats");
    assert_string_equal(ig_dataset_class_name(ds, 1), "dogs");
    const int32_t want_y[4] = {0, 0, 1, 1};
    assert_memory_equal(ds->y, want_y, sizeof want_y);
    /* a solid colour stays itself at any size; JPEG is lossy by a few levels */
    const float tol_png = 1e-6f, tol_jpeg = 4.0f / 255;
    const uint8_t rgb[2][3] = {{200, 100, 50}, {10, 20, 250}};
    const int colour[4] = {0, 1, 0, 1};
    for (int i = 0; i < 4; i++)
        for (int c = 0; c < 3; c++)
            assert_plane(ds, i, c, rgb[colour[i]][c] / 255.0f, i == 0 || i == 3 ? tol_png : tol_jpeg);
    ig_dataset_destroy(ds);

    /* grayscale: ITU-R 601 luma */
    ds = load(f->ctx, "pets", 1, 3, 3, false, NULL);
    assert_int_equal(ds->sample_shape[0], 1);
    assert_plane(ds, 0, 0, (0.299f * 200 + 0.587f * 100 + 0.114f * 50) / 255, 1e-5f);
    assert_plane(ds, 3, 0, (0.299f * 10 + 0.587f * 20 + 0.114f * 250) / 255, 1e-5f);
    ig_dataset_destroy(ds);
    free(red);
    free(blue);
}

static void test_channel_conversions(void **state)
{
    fixture *f = *state;
    /* grey PNG to RGB: replicated; RGBA: the colour kept under any alpha */
    const uint8_t grey[4] = {0, 85, 170, 255};
    write_png("conv/grey/g.png", grey, 2, 2, 1);
    const uint8_t rgba[16] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 128};
    write_png("conv/rgba/r.png", rgba, 2, 2, 4);
    ig_dataset *ds = load(f->ctx, "conv", 3, 2, 2, false, NULL);
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 4; k++) assert_float_equal(ds->x[c * 4 + k], grey[k] / 255.0, 1e-6);
    const float *r = ds->x + ds->sample_numel;
    for (int k = 0; k < 4; k++) {
        assert_float_equal(r[k], 1.0, 1e-6);
        assert_float_equal(r[4 + k], 0.0, 1e-6);
    }
    ig_dataset_destroy(ds);
}

static void test_resize(void **state)
{
    fixture *f = *state;
    /* a 2 × 2 image of 0 | 255 columns */
    const uint8_t half[4] = {0, 255, 0, 255};
    write_png("resize/a/half.png", half, 2, 2, 1);
    /* enlarging is plain bilinear with pixel centres at +0.5 (torch's align_corners=False) */
    ig_dataset *ds = load(f->ctx, "resize", 1, 1, 4, false, NULL);
    const float up[4] = {0.0f, 0.25f, 0.75f, 1.0f};
    for (int k = 0; k < 4; k++) assert_float_equal(ds->x[k], up[k], 1e-6);
    ig_dataset_destroy(ds);

    /* shrinking 4 columns to 2 widens the triangle to cover two pixels each side: output 0
     * (centre 1.0) weighs pixels 0, 1, 2 by 0.75, 0.75, 0.25 */
    const uint8_t cols[4] = {0, 0, 255, 255};
    write_png("shrink/a/cols.png", cols, 4, 1, 1);
    ds = load(f->ctx, "shrink", 1, 1, 2, false, NULL);
    assert_float_equal(ds->x[0], 0.25 / 1.75, 1e-6);
    assert_float_equal(ds->x[1], 1.0 - 0.25 / 1.75, 1e-6);
    ig_dataset_destroy(ds);
}

static void test_unreadable_files(void **state)
{
    fixture *f = *state;
    uint8_t *px = solid(16, 16, 30, 60, 90);
    write_png("bad/a/1.png", px, 16, 16, 3);
    /* a noisy JPEG, so that most of its bytes are image data rather than header */
    uint8_t *noise = malloc(64 * 64 * 3);
    assert_non_null(noise);
    for (int i = 0; i < 64 * 64 * 3; i++) noise[i] = (uint8_t)(i * 2654435761u >> 24);
    write_jpeg("bad/a/2.jpg", noise, 64, 64);
    free(noise);
    write_truncated("bad/a/2.jpg", "bad/a/3.jpg", 80); /* the image data cut short */
    write_bytes("bad/b/4.png", "this is not a PNG", 17);
    write_truncated("bad/a/1.png", "bad/b/5.png", 60);
    write_truncated("bad/a/2.jpg", "bad/b/50.jpg", 10); /* even the header */
    write_png("bad/b/6.png", px, 16, 16, 3);
    write_bytes("bad/b/7.jpeg", "", 0);
    free(px);

    /* the first bad file in order fails the load, named */
    expect_error(f->ctx, "bad", false, IG_ERR_FORMAT, "bad/a/3.jpg: truncated JPEG", NULL);
    /* skipped and counted */
    int64_t skipped = -1;
    ig_dataset *ds = load(f->ctx, "bad", 3, 4, 4, true, &skipped);
    assert_int_equal(skipped, 5);
    assert_int_equal(ig_dataset_size(ds), 3);
    const int32_t want_y[3] = {0, 0, 1};
    assert_memory_equal(ds->y, want_y, sizeof want_y);
    assert_plane(ds, 2, 1, 60 / 255.0f, 1e-6f);
    assert_int_equal(ig_dataset_num_classes(ds), 2);
    ig_dataset_destroy(ds);

    write_bytes("allbad/a/x.png", "garbage", 7);
    write_bytes("allbad/b/y.jpg", "\xFF\xD8\xFF", 3);
    expect_error(f->ctx, "allbad", true, IG_ERR_FORMAT, "none of the 2 image files could be read",
                 "allbad/a/x.png: not a PNG or JPEG file");
    expect_error(f->ctx, "allbad", false, IG_ERR_FORMAT, "allbad/a/x.png", NULL);
    write_bytes("onlybad/b/y.jpg", "\xFF\xD8\xFF", 3);
    expect_error(f->ctx, "onlybad", false, IG_ERR_FORMAT, "onlybad/b/y.jpg: corrupt JPEG", NULL);
}

static void test_folder_errors(void **state)
{
    fixture *f = *state;
    ig_ctx *ctx = f->ctx;
    expect_error(ctx, "nowhere", false, IG_ERR_IO, "nowhere: cannot open", "No such file");
    mkdir(path_of("emptyroot"), 0755);
    expect_error(ctx, "emptyroot", false, IG_ERR_FORMAT, "no class folders", NULL);
    uint8_t px[3] = {1, 2, 3};
    write_png("hollow/full/a.png", px, 1, 1, 3);
    mkdir(path_of("hollow/empty"), 0755);
    expect_error(ctx, "hollow", false, IG_ERR_FORMAT, "hollow/empty: no PNG or JPEG files", NULL);
    write_bytes("texts/a/readme.md", "#", 1);
    expect_error(ctx, "texts", false, IG_ERR_FORMAT, "texts/a: no PNG or JPEG files", NULL);

    ig_image_folder_options o = ig_image_folder_defaults();
    ig_dataset *ds;
    const char *root = path_of("hollow");
    o.channels = 2;
    assert_int_equal(ig_dataset_load_image_folder(ctx, root, &o, &ds, NULL), IG_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(ig_last_error(), "channels is 2"));
    o = ig_image_folder_defaults();
    o.height = 0;
    assert_int_equal(ig_dataset_load_image_folder(ctx, root, &o, &ds, NULL), IG_ERR_INVALID_ARGUMENT);
    o.height = 8;
    o.width = 70000;
    assert_int_equal(ig_dataset_load_image_folder(ctx, root, &o, &ds, NULL), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_dataset_load_image_folder(NULL, root, NULL, &ds, NULL), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_dataset_load_image_folder(ctx, NULL, NULL, &ds, NULL), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_dataset_load_image_folder(ctx, root, NULL, NULL, NULL), IG_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_classes_and_formats, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_channel_conversions, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_resize, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_unreadable_files, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_folder_errors, setup_fixture, teardown_fixture),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
