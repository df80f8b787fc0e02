/* tensorboard.h — internals of the TensorBoard event writer, for its tests. */
#ifndef IG_REPORT_TENSORBOARD_H
#define IG_REPORT_TENSORBOARD_H

#include "core/core.h"

/* CRC-32C (Castagnoli) of n bytes, as TFRecord framing uses it before masking. */
uint32_t ig_crc32c(const void *data, size_t n);

#endif /* IG_REPORT_TENSORBOARD_H */
