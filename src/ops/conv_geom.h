/* conv_geom.h — a 2-D convolution's sizes (see ops/conv.h), plain C for every backend's
 * kernels. */
#ifndef IG_CONV_GEOM_H
#define IG_CONV_GEOM_H

#include <stdint.h>

typedef struct ig_conv_geom {
    int64_t n, c, h, w;  /* input */
    int64_t f, kh, kw;   /* filters and kernel */
    int64_t oh, ow;      /* output */
    int64_t stride, pad;
} ig_conv_geom;

static inline int64_t ig_conv_out_dim(int64_t in, int64_t k, int64_t stride, int64_t pad)
{
    return (in + 2 * pad - k) / stride + 1;
}

#endif /* IG_CONV_GEOM_H */
