/* idx.h — a hardened reader of IDX (MNIST-format) files of unsigned bytes, gzip'd or plain. */
#ifndef IG_IO_IDX_H
#define IG_IO_IDX_H

#include "core/core.h"

/* The largest payload accepted: bounds what a corrupt or hostile header can make us
 * allocate (the float copy of a dataset is four times this). */
#define IG_IDX_MAX_BYTES ((uint64_t)1 << 31)

/* Reads an IDX file of unsigned bytes (type 0x08) with exactly `expect_ndim` dimensions
 * (1..IG_MAX_DIMS). On success dims[0..expect_ndim) holds the dimensions (each >= 1) and
 * *data_out a malloc'd buffer of their product in bytes, which the caller frees.
 * IG_ERR_IO: the file cannot be opened or read. IG_ERR_FORMAT: a bad magic number, another
 * type or dimension count, a zero or oversized dimension, corrupt gzip data, truncated or
 * trailing data. Messages start with the path. */
ig_status ig_idx_read_u8(const char *path, int expect_ndim, int64_t *dims, uint8_t **data_out);

#endif /* IG_IO_IDX_H */
