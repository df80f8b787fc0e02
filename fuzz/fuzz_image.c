/* fuzz_image.c — PNG and JPEG decoding (libpng, libjpeg-turbo) behind ingot's checks, and the
 * resize of what decodes. */
#include "fuzz_file.h"

#include "io/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ig_image img;
    if (ig_image_decode(fuzz_file(data, size), &img) == IG_OK) {
        float out[3 * 5 * 7];
        ig_image_to_sample(&img, 3, 5, 7, out);
        ig_image_free(&img);
    }
    return 0;
}
