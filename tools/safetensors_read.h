/* safetensors_read.h — a hardened reader of safetensors files holding F32 and I64 tensors. */
#ifndef IG_SAFETENSORS_READ_H
#define IG_SAFETENSORS_READ_H

#include "core/core.h"

/* The largest JSON header accepted (the format's own limit): bounds what a corrupt header
 * can make us allocate before anything is checked. */
#define IG_ST_MAX_HEADER ((uint64_t)100 << 20)

typedef struct ig_st_tensor {
    const char *name;
    ig_dtype dtype; /* IG_F32 or IG_I64 */
    int ndim;       /* 0 (a scalar) .. IG_MAX_DIMS */
    int64_t shape[IG_MAX_DIMS];
    int64_t numel;
    size_t nbytes;
    const void *data; /* host byte order, 64-byte aligned; owned by the file */
} ig_st_tensor;

typedef struct ig_st_file ig_st_file;

/* Reads a whole safetensors file into memory. Everything is checked before data is read:
 * the header length against the file size, the header as JSON, each entry's dtype (F32 or
 * I64, else IG_ERR_UNSUPPORTED), its shape (at most IG_MAX_DIMS dims, no overflow) and its
 * data_offsets (inside the data section, exactly dtype size × elements, the tensors tiling
 * the data section without gaps or overlaps), and that no name appears twice.
 * IG_ERR_IO: cannot open or read. IG_ERR_FORMAT: malformed or truncated. Messages start with
 * the path and name the tensor at fault. */
ig_status ig_st_open(const char *path, ig_st_file **out);
/* The tensor of that name, or NULL. */
const ig_st_tensor *ig_st_get(const ig_st_file *f, const char *name);
/* Accepts NULL. Every tensor and its data go with the file. */
void ig_st_close(ig_st_file *f);

#endif /* IG_SAFETENSORS_READ_H */
