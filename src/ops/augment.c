/* augment.c — the host's crop and flip of one sample (the CPU gather's and the loader's). */
#include "ops/augment.h"

#include <string.h>

void ig_augment_planes(int sample_ndim, const int64_t *sample_shape, int64_t *planes, int64_t *h, int64_t *w)
{
    int64_t numel = 1;
    for (int i = 0; i < sample_ndim; i++) numel *= sample_shape[i];
    *h = sample_ndim >= 2 ? sample_shape[sample_ndim - 2] : 1;
    *w = sample_ndim >= 2 ? sample_shape[sample_ndim - 1] : numel;
    *planes = numel / (*h * *w);
}

/* Row by row rather than pixel by pixel (a loader's thread must keep up with a GPU): the
 * columns a row reads are one run, [x0, x1), the rest padding; column x0 reads source column
 * s0 and each next one the column after it, or before it when mirrored. */
void ig_augment_sample(const float *src, float *dst, int64_t planes, int64_t h, int64_t w, const ig_augment_draw *d)
{
    int64_t x0 = 0, x1 = w;
    while (x0 < w && ig_augment_src(x0, w, d->dx, d->flip) < 0) x0++;
    while (x1 > x0 && ig_augment_src(x1 - 1, w, d->dx, d->flip) < 0) x1--;
    int64_t s0 = x0 < x1 ? ig_augment_src(x0, w, d->dx, d->flip) : 0;
    for (int64_t p = 0; p < planes; p++, src += h * w) {
        for (int64_t y = 0; y < h; y++, dst += w) {
            int64_t sy = ig_augment_src(y, h, d->dy, false);
            if (sy < 0 || x0 == x1) {
                memset(dst, 0, (size_t)w * sizeof *dst);
                continue;
            }
            const float *row = src + sy * w + s0;
            for (int64_t x = 0; x < x0; x++) dst[x] = 0.0f;
            if (d->flip)
                for (int64_t x = x0; x < x1; x++) dst[x] = row[x0 - x];
            else
                for (int64_t x = x0; x < x1; x++) dst[x] = row[x - x0];
            for (int64_t x = x1; x < w; x++) dst[x] = 0.0f;
        }
    }
}
