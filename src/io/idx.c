/* idx.c — reads IDX (MNIST-format) files of unsigned bytes through zlib, which also reads
 * plain files. Every header field is checked before anything is allocated. */
#include "idx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_TYPE_U8 0x08
#define IDX_CHUNK ((uint64_t)1 << 30) /* gzread takes an unsigned count and returns an int */
#define IDX_FIRST_CHUNK ((uint64_t)1 << 20)

static const char *idx_type_name(int type)
{
    switch (type) {
    case 0x08: return "u8";
    case 0x09: return "i8";
    case 0x0B: return "i16";
    case 0x0C: return "i32";
    case 0x0D: return "f32";
    case 0x0E: return "f64";
    }
    return "unknown";
}

static ig_status read_error(gzFile f, const char *path)
{
    int err;
    const char *msg = gzerror(f, &err);
    const char *sep = strstr(msg, ": "); /* drop zlib's "<fd:N>: " prefix: we name the path */
    if (sep) msg = sep + 2;
    if (err == Z_ERRNO) return ig_fail(IG_ERR_IO, "%s: read failed: %s", path, strerror(errno));
    if (err == Z_MEM_ERROR) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory while decompressing", path);
    return ig_fail(IG_ERR_FORMAT, "%s: corrupt gzip data: %s", path, msg);
}

/* Reads up to `len` bytes; *got < len only at the end of the data. */
static ig_status read_up_to(gzFile f, const char *path, uint8_t *buf, uint64_t len, uint64_t *got)
{
    uint64_t n = 0;
    while (n < len) {
        uint64_t chunk = len - n < IDX_CHUNK ? len - n : IDX_CHUNK;
        int r = gzread(f, buf + n, (unsigned)chunk);
        if (r < 0) return read_error(f, path);
        if (r == 0) break;
        n += (uint64_t)r;
    }
    *got = n;
    return IG_OK;
}

/* The `total` bytes the header declares, in a buffer grown as they actually arrive: a forged
 * header cannot make us allocate more than about twice what the file holds. */
static ig_status read_payload(gzFile f, const char *path, uint64_t total, uint8_t **out)
{
    uint64_t have = 0, cap = 0;
    uint8_t *data = NULL;
    for (;;) {
        if (have == cap) {
            uint64_t next = cap ? 2 * cap : IDX_FIRST_CHUNK;
            if (next > total) next = total;
            uint8_t *grown = realloc(data, next ? next : 1);
            if (!grown) {
                free(data);
                return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: cannot allocate %llu bytes", path, (unsigned long long)next);
            }
            data = grown;
            cap = next;
        }
        uint64_t want = cap - have, got;
        ig_status s = read_up_to(f, path, data + have, want, &got);
        have += got;
        if (s == IG_OK && have < total && got == want) continue; /* more may follow */
        if (s == IG_OK && have < total)
            s = ig_fail(IG_ERR_FORMAT, "%s: truncated: expected %llu bytes of data, got %llu", path,
                        (unsigned long long)total, (unsigned long long)have);
        if (s != IG_OK) {
            free(data);
            return s;
        }
        *out = data;
        return IG_OK;
    }
}

static ig_status read_idx(gzFile f, const char *path, int expect_ndim, int64_t *dims, uint8_t **data_out)
{
    uint8_t head[4 + 4 * IG_MAX_DIMS];
    uint64_t got;
    IG_TRY(read_up_to(f, path, head, 4, &got));
    if (got < 4)
        return ig_fail(IG_ERR_FORMAT, "%s: truncated: expected a 4-byte IDX magic number, got %llu bytes",
                       path, (unsigned long long)got);
    if (head[0] != 0 || head[1] != 0)
        return ig_fail(IG_ERR_FORMAT, "%s: not an IDX file (magic number 0x%02x%02x%02x%02x)",
                       path, head[0], head[1], head[2], head[3]);
    if (head[2] != IDX_TYPE_U8 || head[3] != expect_ndim)
        return ig_fail(IG_ERR_FORMAT,
                       "%s: expected IDX type 0x08 (u8) with %d dimension%s, found type 0x%02x (%s) with %d dimension%s",
                       path, expect_ndim, expect_ndim == 1 ? "" : "s", head[2], idx_type_name(head[2]),
                       head[3], head[3] == 1 ? "" : "s");

    uint64_t head_len = 4 * (uint64_t)expect_ndim;
    IG_TRY(read_up_to(f, path, head + 4, head_len, &got));
    if (got < head_len)
        return ig_fail(IG_ERR_FORMAT, "%s: truncated: expected %llu bytes of dimensions, got %llu",
                       path, (unsigned long long)head_len, (unsigned long long)got);
    uint64_t total = 1;
    for (int i = 0; i < expect_ndim; i++) {
        const uint8_t *p = head + 4 + 4 * i;
        uint64_t d = (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
        if (d == 0) return ig_fail(IG_ERR_FORMAT, "%s: dimension %d is 0", path, i);
        /* total <= IG_IDX_MAX_BYTES and d < 2^32, so the check itself cannot overflow */
        if (d > IG_IDX_MAX_BYTES / total)
            return ig_fail(IG_ERR_FORMAT, "%s: dimension %d is %llu: the data would exceed the %llu-byte limit",
                           path, i, (unsigned long long)d, (unsigned long long)IG_IDX_MAX_BYTES);
        total *= d;
        dims[i] = (int64_t)d;
    }

    uint8_t *data = NULL;
    ig_status s = read_payload(f, path, total, &data);
    uint8_t extra;
    if (s == IG_OK) s = read_up_to(f, path, &extra, 1, &got);
    if (s == IG_OK && got != 0)
        s = ig_fail(IG_ERR_FORMAT, "%s: trailing data after the %llu bytes the header declares",
                    path, (unsigned long long)total);
    if (s != IG_OK) {
        free(data);
        return s;
    }
    *data_out = data;
    return IG_OK;
}

ig_status ig_idx_read_u8(const char *path, int expect_ndim, int64_t *dims, uint8_t **data_out)
{
    if (!path || !dims || !data_out)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_idx_read_u8: NULL %s", !path ? "path" : !dims ? "dims" : "data_out");
    *data_out = NULL;
    if (expect_ndim < 1 || expect_ndim > IG_MAX_DIMS)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_idx_read_u8: expect_ndim %d out of range 1..%d", expect_ndim, IG_MAX_DIMS);
    /* open() rather than gzopen(): its errno is reliable for the message */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ig_fail(IG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        close(fd);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: cannot set up the gzip reader", path);
    }
    gzbuffer(f, 1 << 17);
    ig_status s = read_idx(f, path, expect_ndim, dims, data_out);
    gzclose(f);
    return s;
}
