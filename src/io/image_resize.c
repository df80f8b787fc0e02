/* image_resize.c — an 8-bit RGB image to a float sample: RGB or luma, resized by separable
 * antialiased bilinear resampling (PIL's), scaled to [0, 1]. The channel conversion is
 * linear, so it is applied while reading the pixels, before the resampling: a grey sample
 * resamples one plane, not three. */
#include "image.h"

#include <math.h>
#include <stdlib.h>

/* Output i of an axis reads inputs first[i] .. first[i] + count[i] - 1 with the weights
 * w[i * max ..], which sum to 1. */
typedef struct axis_taps {
    int64_t *first;
    int *count;
    float *w;
    int max;
} axis_taps;

static void taps_free(axis_taps *t)
{
    free(t->first);
    free(t->count);
    free(t->w);
    *t = (axis_taps){0};
}

/* The triangle filter (bilinear) centred on each output pixel's centre mapped into the input
 * ((i + 0.5) · in / out), widened by the scale when shrinking so that it averages every
 * input pixel under the output one rather than skipping some (aliasing). */
static ig_status make_taps(int64_t in, int64_t out, axis_taps *t)
{
    double scale = (double)in / (double)out, support = scale > 1.0 ? scale : 1.0;
    t->max = (int)ceil(2.0 * support) + 2;
    t->first = malloc((size_t)out * sizeof *t->first);
    t->count = malloc((size_t)out * sizeof *t->count);
    t->w = malloc((size_t)out * (size_t)t->max * sizeof *t->w);
    if (!t->first || !t->count || !t->w) {
        taps_free(t);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "image resize: out of memory");
    }
    for (int64_t i = 0; i < out; i++) {
        double center = ((double)i + 0.5) * scale;
        int64_t lo = (int64_t)floor(center - support + 0.5), hi = (int64_t)floor(center + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in) hi = in;
        float *w = t->w + i * t->max;
        double sum = 0.0;
        for (int64_t j = lo; j < hi; j++) {
            double d = 1.0 - fabs(((double)j - center + 0.5) / support);
            w[j - lo] = (float)(d > 0.0 ? d : 0.0);
            sum += w[j - lo];
        }
        for (int64_t j = lo; j < hi; j++) w[j - lo] = (float)(w[j - lo] / sum);
        t->first[i] = lo;
        t->count[i] = (int)(hi - lo);
    }
    return IG_OK;
}

/* Channel c of the output at pixel px (R, G, B bytes). */
static inline float pixel_value(const uint8_t *px, int64_t channels, int64_t c)
{
    if (channels == 3) return px[c];
    return 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2]; /* ITU-R 601 luma, as PIL's "L" */
}

ig_status ig_image_to_sample(const ig_image *img, int64_t channels, int64_t height, int64_t width, float *out)
{
    axis_taps tx = {0}, ty = {0};
    int64_t w_in = img->width, h_in = img->height;
    float *tmp = malloc((size_t)(channels * h_in * width) * sizeof *tmp); /* [channels, h_in, width] */
    ig_status s = tmp ? make_taps(w_in, width, &tx) : ig_fail(IG_ERR_OUT_OF_MEMORY, "image resize: out of memory");
    if (s == IG_OK) s = make_taps(h_in, height, &ty);
    if (s != IG_OK) {
        free(tmp);
        taps_free(&tx);
        return s;
    }
    for (int64_t c = 0; c < channels; c++)
        for (int64_t y = 0; y < h_in; y++) {
            const uint8_t *row = img->rgb + y * w_in * 3;
            for (int64_t x = 0; x < width; x++) {
                const float *w = tx.w + x * tx.max;
                const uint8_t *px = row + tx.first[x] * 3;
                float acc = 0.0f;
                for (int k = 0; k < tx.count[x]; k++) acc += w[k] * pixel_value(px + 3 * k, channels, c);
                tmp[(c * h_in + y) * width + x] = acc;
            }
        }
    for (int64_t c = 0; c < channels; c++)
        for (int64_t y = 0; y < height; y++) {
            const float *w = ty.w + y * ty.max;
            const float *col = tmp + (c * h_in + ty.first[y]) * width;
            float *dst = out + (c * height + y) * width;
            for (int64_t x = 0; x < width; x++) {
                float acc = 0.0f;
                for (int k = 0; k < ty.count[y]; k++) acc += w[k] * col[k * width + x];
                dst[x] = fminf(acc / 255.0f, 1.0f); /* weights sum to 1 up to rounding */
            }
        }
    free(tmp);
    taps_free(&tx);
    taps_free(&ty);
    return IG_OK;
}
