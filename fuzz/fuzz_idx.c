/* fuzz_idx.c — the IDX reader (plain and gzip'd), with the dimension count the header names. */
#include "fuzz_file.h"

#include "io/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int ndim = size > 3 && data[3] >= 1 && data[3] <= 3 ? data[3] : 1;
    int64_t dims[IG_MAX_DIMS];
    uint8_t *out = NULL;
    if (ig_idx_read_u8(fuzz_file(data, size), ndim, dims, &out) == IG_OK) free(out);
    return 0;
}
