/* image_decode.c — PNG (libpng's simplified API) and JPEG (libjpeg-turbo) files to 8-bit RGB. */
#include "image.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#define IMAGE_MAX_FILE_BYTES ((long)1 << 30)

void ig_image_free(ig_image *img)
{
    if (!img) return;
    free(img->rgb);
    *img = (ig_image){0};
}

static ig_status read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ig_fail(IG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    ig_status s = IG_OK;
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0)
        s = ig_fail(IG_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    else if (len > IMAGE_MAX_FILE_BYTES)
        s = ig_fail(IG_ERR_FORMAT, "%s: %ld bytes, more than an image file may have (%ld)", path, len, IMAGE_MAX_FILE_BYTES);
    uint8_t *buf = s == IG_OK ? malloc(len ? (size_t)len : 1) : NULL;
    if (s == IG_OK && !buf) s = ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: cannot allocate %ld bytes", path, len);
    if (s == IG_OK && fread(buf, 1, (size_t)len, f) != (size_t)len)
        s = ig_fail(IG_ERR_IO, "%s: read failed: %s", path, ferror(f) ? strerror(errno) : "the file shrank");
    fclose(f);
    if (s != IG_OK) {
        free(buf);
        return s;
    }
    *data = buf;
    *size = (size_t)len;
    return IG_OK;
}

static ig_status too_large(const char *path, int64_t w, int64_t h)
{
    return ig_fail(IG_ERR_FORMAT, "%s: %lld x %lld pixels, more than the %lld an image may have", path, (long long)w,
                   (long long)h, (long long)IG_IMAGE_MAX_PIXELS);
}

/* A header whose image the compressed data cannot hold: the bytes could not be there, so
 * nothing is allocated for them. */
static ig_status cannot_hold(const char *path, const char *format, int64_t w, int64_t h, size_t size)
{
    return ig_fail(IG_ERR_FORMAT, "%s: the %s header claims %lld x %lld pixels, more than its %zu bytes can hold", path,
                   format, (long long)w, (long long)h, size);
}

/* deflate expands at most 1032:1; the smallest PNG row is one bit a pixel and a filter byte */
#define PNG_MAX_RATIO 1032

static ig_status decode_png(const char *path, const uint8_t *data, size_t size, ig_image *out)
{
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&png, data, size))
        return ig_fail(IG_ERR_FORMAT, "%s: corrupt PNG: %s", path, png.message);
    if ((int64_t)png.width * png.height > IG_IMAGE_MAX_PIXELS) {
        png_image_free(&png);
        return too_large(path, png.width, png.height);
    }
    if ((uint64_t)png.height * (1 + ((uint64_t)png.width + 7) / 8) > (uint64_t)PNG_MAX_RATIO * size) {
        png_image_free(&png);
        return cannot_hold(path, "PNG", png.width, png.height, size);
    }
    /* RGBA, then the alpha dropped below: PIL's convert("RGB") keeps the colour under
     * transparency, where libpng's RGB would composite it onto a background */
    png.format = PNG_FORMAT_RGBA;
    /* 16-bit samples are sRGB-encoded like 8-bit ones: scale them, don't re-encode them */
    png.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    size_t pixels = (size_t)png.width * png.height;
    uint8_t *px = malloc(PNG_IMAGE_SIZE(png));
    if (!px) {
        png_image_free(&png);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu pixels", path, pixels);
    }
    if (!png_image_finish_read(&png, NULL, px, 0, NULL)) { /* it frees png either way */
        free(px);
        return ig_fail(IG_ERR_FORMAT, "%s: corrupt PNG: %s", path, png.message);
    }
    for (size_t i = 0; i < pixels; i++) memmove(px + 3 * i, px + 4 * i, 3);
    *out = (ig_image){.width = png.width, .height = png.height, .rgb = px};
    return IG_OK;
}

/* libjpeg reports errors through a callback that must not return: it jumps back into
 * decode_jpeg. Warnings are dropped (the library prints nothing), except that data ended
 * early, which libjpeg would paper over with grey. */
typedef struct jpeg_failure {
    struct jpeg_error_mgr mgr; /* first: libjpeg hands back a pointer to it */
    jmp_buf jump;
    bool truncated;
} jpeg_failure;

static void jpeg_on_error(j_common_ptr c) { longjmp(((jpeg_failure *)c->err)->jump, 1); }

static void jpeg_on_message(j_common_ptr c, int level)
{
    if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) ((jpeg_failure *)c->err)->truncated = true;
}

static ig_status decode_jpeg(const char *path, const uint8_t *data, size_t size, ig_image *out)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_failure fail = {.truncated = false};
    cinfo.err = jpeg_std_error(&fail.mgr);
    fail.mgr.error_exit = jpeg_on_error;
    fail.mgr.emit_message = jpeg_on_message;
    uint8_t *volatile rgb = NULL; /* volatile: read after the longjmp */
    if (setjmp(fail.jump)) {
        char msg[JMSG_LENGTH_MAX];
        fail.mgr.format_message((j_common_ptr)&cinfo, msg);
        jpeg_destroy_decompress(&cinfo);
        free(rgb);
        return ig_fail(IG_ERR_FORMAT, "%s: corrupt JPEG: %s", path, msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if ((int64_t)cinfo.image_width * cinfo.image_height > IG_IMAGE_MAX_PIXELS) {
        jpeg_destroy_decompress(&cinfo);
        return too_large(path, cinfo.image_width, cinfo.image_height);
    }
    /* Huffman coding spends at least a bit on every 8 × 8 block of a scan's component, whose
     * blocks cover at most 32 × 32 pixels (sampling factors up to 4); arithmetic coding can
     * spend less, and has only the pixel limit */
    uint64_t blocks = ((uint64_t)cinfo.image_width + 31) / 32 * (((uint64_t)cinfo.image_height + 31) / 32);
    if (!cinfo.arith_code && blocks > 8 * (uint64_t)size) {
        jpeg_destroy_decompress(&cinfo);
        return cannot_hold(path, "JPEG", cinfo.image_width, cinfo.image_height, size);
    }
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * 3;
    rgb = malloc(stride * cinfo.output_height);
    if (!rgb) {
        jpeg_destroy_decompress(&cinfo);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", path, stride * cinfo.output_height);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = rgb + cinfo.output_scanline * stride;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    if (fail.truncated) {
        free(rgb);
        return ig_fail(IG_ERR_FORMAT, "%s: truncated JPEG: the data ends before the image does", path);
    }
    *out = (ig_image){.width = cinfo.output_width, .height = cinfo.output_height, .rgb = rgb};
    return IG_OK;
}

ig_status ig_image_decode(const char *path, ig_image *out)
{
    *out = (ig_image){0};
    uint8_t *data = NULL;
    size_t size = 0;
    IG_TRY(read_file(path, &data, &size));
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    ig_status s;
    if (size >= 8 && memcmp(data, png_magic, 8) == 0)
        s = decode_png(path, data, size, out);
    else if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        s = decode_jpeg(path, data, size, out);
    else
        s = ig_fail(IG_ERR_FORMAT, "%s: not a PNG or JPEG file (%s)", path, size ? "unknown first bytes" : "empty");
    free(data);
    return s;
}
