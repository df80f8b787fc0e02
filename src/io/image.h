/* image.h — decoding PNG and JPEG files to 8-bit RGB, and turning such an image into a
 * resized float sample (src/io/image_decode.c, src/io/image_resize.c). */
#ifndef IG_IO_IMAGE_H
#define IG_IO_IMAGE_H

#include "core/core.h"

/* Bounds what a hostile header can make a decoder allocate. */
#define IG_IMAGE_MAX_PIXELS ((int64_t)1 << 28)

typedef struct ig_image {
    int64_t width, height;
    uint8_t *rgb; /* height rows of width pixels of R, G, B; malloc'd */
} ig_image;

/* Decodes the PNG or JPEG file at path (by its first bytes, whatever its name). IG_ERR_IO:
 * it cannot be opened or read; IG_ERR_FORMAT: neither format, corrupt or truncated, more
 * than IG_IMAGE_MAX_PIXELS. Messages start with the path. Safe to call from several
 * threads at once. */
ig_status ig_image_decode(const char *path, ig_image *out);
void ig_image_free(ig_image *img);

/* out [channels, height, width] in [0, 1]: img converted to RGB (channels 3) or luma
 * (channels 1) and resized with the antialiased bilinear filter that ingot.h describes. */
ig_status ig_image_to_sample(const ig_image *img, int64_t channels, int64_t height, int64_t width, float *out);

#endif /* IG_IO_IMAGE_H */
