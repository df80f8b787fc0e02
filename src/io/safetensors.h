/* safetensors.h — reading and writing safetensors files: an 8-byte little-endian header
 * length, a JSON header (name -> dtype, shape, data_offsets; an optional "__metadata__" map
 * of strings), then the tensors' bytes, little-endian and packed without gaps.
 *
 * The reader is hardened: every size, offset, dtype and shape is checked (against overflow
 * too) before anything is allocated or read, and what it allocates is bounded by the file's
 * size (the header by the format's 100 MiB limit as well). The same pattern — check the
 * declared sizes against the bytes actually there, then allocate — holds for every reader of
 * the library (IDX, CSV, images, checkpoint manifests), and each has a fuzz target
 * (fuzz/). */
#ifndef IG_IO_SAFETENSORS_H
#define IG_IO_SAFETENSORS_H

#include "core/core.h"

/* The largest JSON header accepted (the format's own limit). */
#define IG_ST_MAX_HEADER ((uint64_t)100 << 20)

/* The element types read and written (others are IG_ERR_UNSUPPORTED on reading). */
typedef enum ig_st_dtype {
    IG_ST_F32 = 0,
    IG_ST_F64,
    IG_ST_F16,
    IG_ST_BF16,
    IG_ST_I32,
    IG_ST_I64,
} ig_st_dtype;

size_t ig_st_dtype_size(ig_st_dtype d);
/* The format's name of a dtype ("F32"). */
const char *ig_st_dtype_name(ig_st_dtype d);

typedef struct ig_st_tensor {
    const char *name;
    ig_st_dtype dtype;
    int ndim; /* 0 (a scalar) .. IG_MAX_DIMS */
    int64_t shape[IG_MAX_DIMS];
    int64_t numel;
    size_t nbytes;
    const void *data; /* host byte order, 64-byte aligned; owned by the file */
} ig_st_tensor;

typedef struct ig_st_file ig_st_file;

/* Reads a whole safetensors file into memory. Everything is checked before data is read:
 * the header length against the file size, the header as JSON, each entry's dtype, its
 * shape (at most IG_MAX_DIMS dims, no overflow) and its data_offsets (inside the data
 * section, exactly dtype size × elements, the tensors tiling the data section without gaps
 * or overlaps), that no name appears twice and that "__metadata__" maps names to strings.
 * IG_ERR_IO: cannot open or read. IG_ERR_FORMAT: malformed or truncated.
 * IG_ERR_UNSUPPORTED: a dtype other than ig_st_dtype's. Messages start with the path and
 * name the tensor at fault. */
ig_status ig_st_open(const char *path, ig_st_file **out);
/* The tensor of that name, or NULL; its index for ig_st_at, or -1. */
const ig_st_tensor *ig_st_get(const ig_st_file *f, const char *name);
int ig_st_index(const ig_st_file *f, const char *name);
/* The tensors, in name order: i in [0, ig_st_count). */
int ig_st_count(const ig_st_file *f);
const ig_st_tensor *ig_st_at(const ig_st_file *f, int i);
/* The file's size and the CRC-32 of all its bytes (computed while reading). */
uint64_t ig_st_file_bytes(const ig_st_file *f);
uint32_t ig_st_file_crc(const ig_st_file *f);
/* Accepts NULL. Every tensor and its data go with the file. */
void ig_st_close(ig_st_file *f);

/* The longest name written, its NUL included (a parameter's name with a prefix and a suffix). */
#define IG_ST_NAME_LEN 96

/* One tensor to write; data holds numel × dtype size bytes in host byte order. */
typedef struct ig_st_entry {
    char name[IG_ST_NAME_LEN];
    ig_st_dtype dtype;
    int ndim;
    int64_t shape[IG_MAX_DIMS];
    const void *data;
} ig_st_entry;

/* A growing list of entries to write. */
typedef struct ig_st_list {
    ig_st_entry *e;
    int n, cap;
} ig_st_list;

/* Appends an entry named printf-style; IG_ERR_INVALID_ARGUMENT if the name is longer than
 * IG_ST_NAME_LEN - 1. */
ig_status ig_st_list_add(ig_st_list *l, ig_st_dtype dtype, int ndim, const int64_t *shape, const void *data,
                         const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void ig_st_list_free(ig_st_list *l);

struct ig_atomic_file;
/* Writes a safetensors file of n entries (names unique, else IG_ERR_INVALID_ARGUMENT) and
 * the metadata pairs meta[0] = meta[1], meta[2] = meta[3], ... (n_meta pairs; may be 0) to
 * an open atomic file (io/atomic_file.h), which the caller commits. Tensors are laid out
 * by decreasing element size, then in the order given, so each is aligned to its element
 * size when the file is mapped. On failure the file is aborted. */
ig_status ig_st_write(struct ig_atomic_file *f, const ig_st_entry *entries, int n, const char *const *meta, int n_meta);

#endif /* IG_IO_SAFETENSORS_H */
