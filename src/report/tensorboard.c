/* tensorboard.c — scalars as TensorBoard event files, written without TensorFlow or protobuf.
 *
 * A file is a sequence of TFRecords: the payload's length (uint64, little-endian), the masked
 * CRC-32C of those 8 bytes (uint32), the payload, the masked CRC-32C of the payload. Each
 * payload is a serialised tensorflow.Event, of which we write these fields (protobuf wire
 * format, encoded by hand below):
 *
 *   Event    1 wall_time    double   (wire type 1: 8 bytes)       seconds since the epoch
 *            2 step         int64    (wire type 0: varint)
 *            3 file_version string   (wire type 2)                "brain.Event:2", first record only
 *            5 summary      Summary  (wire type 2)
 *   Summary  1 value        repeated Summary.Value (wire type 2)
 *   Value    1 tag          string   (wire type 2)
 *            2 simple_value float    (wire type 5: 4 bytes)
 *
 * (tensorflow/core/util/event.proto and tensorflow/core/framework/summary.proto.) */
#include "report/tensorboard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct ig_event_writer {
    FILE *f;
    char path[4096];
};

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit: records are a few dozen
 * bytes, and no table means no shared state. */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    }
    return ~c;
}

/* TFRecord's mask: rotate right by 15 and add a constant, so that CRCs of data holding CRCs
 * do not degenerate. */
static uint32_t masked_crc(const uint8_t *p, size_t n)
{
    uint32_t c = crc32c(p, n);
    return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

uint32_t ig_crc32c(const void *data, size_t n) { return crc32c(data, n); }

/* A protobuf message under construction in a fixed buffer. */
typedef struct pb {
    uint8_t b[1024];
    size_t n;
    bool overflow;
} pb;

static void pb_bytes(pb *m, const void *p, size_t n)
{
    if (m->n + n > sizeof m->b) {
        m->overflow = true;
        return;
    }
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void pb_varint(pb *m, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n++] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
        v >>= 7;
    } while (v);
    pb_bytes(m, b, n);
}

static void pb_key(pb *m, int field, int wire) { pb_varint(m, (uint64_t)field << 3 | (uint64_t)wire); }

static void pb_le(pb *m, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++) b[i] = (uint8_t)(v >> (8 * i));
    pb_bytes(m, b, (size_t)bytes);
}

static void pb_len(pb *m, int field, const void *p, size_t n)
{
    pb_key(m, field, 2);
    pb_varint(m, n);
    pb_bytes(m, p, n);
}

static ig_status write_record(ig_event_writer *w, const pb *ev)
{
    if (ev->overflow) return ig_fail(IG_ERR_INVALID_ARGUMENT, "event writer: the event is too large (a tag of over 900 bytes?)");
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)ev->n >> (8 * i));
    uint32_t c1 = masked_crc(len, 8), c2 = masked_crc(ev->b, ev->n);
    uint8_t crc1[4], crc2[4];
    for (int i = 0; i < 4; i++) crc1[i] = (uint8_t)(c1 >> (8 * i)), crc2[i] = (uint8_t)(c2 >> (8 * i));
    if (fwrite(len, 8, 1, w->f) != 1 || fwrite(crc1, 4, 1, w->f) != 1 || fwrite(ev->b, ev->n, 1, w->f) != 1 ||
        fwrite(crc2, 4, 1, w->f) != 1)
        return ig_fail(IG_ERR_IO, "%s: cannot write (%s)", w->path, strerror(errno));
    return IG_OK;
}

/* The Event's head: wall time and step. */
static void event_head(pb *ev, int64_t step)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double t = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    pb_key(ev, 1, 1);
    pb_le(ev, bits, 8);
    pb_key(ev, 2, 0);
    pb_varint(ev, (uint64_t)step); /* int64: two's complement, as protobuf encodes negatives */
}

ig_status ig_event_writer_create(const char *logdir, ig_event_writer **out)
{
    if (!logdir || !out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_event_writer_create: NULL %s", logdir ? "out" : "logdir");
    *out = NULL;
    if (mkdir(logdir, 0777) != 0 && errno != EEXIST)
        return ig_fail(IG_ERR_IO, "%s: cannot make the folder (%s)", logdir, strerror(errno));
    ig_event_writer *w = calloc(1, sizeof *w);
    if (!w) return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_event_writer_create: out of memory");
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* TensorBoard reads every file with "tfevents" in its name; the nanoseconds and the pid
     * keep two writers' files apart */
    snprintf(w->path, sizeof w->path, "%s/events.out.tfevents.%lld.%s.%d.%09ld", logdir, (long long)ts.tv_sec, host,
             (int)getpid(), (long)ts.tv_nsec);
    int fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 || !(w->f = fdopen(fd, "wb"))) {
        ig_status s = ig_fail(IG_ERR_IO, "%s: cannot create (%s)", w->path, strerror(errno));
        if (fd >= 0) close(fd);
        free(w);
        return s;
    }
    pb ev = {.n = 0};
    event_head(&ev, 0);
    static const char version[] = "brain.Event:2";
    pb_len(&ev, 3, version, sizeof version - 1);
    ig_status s = write_record(w, &ev);
    if (s == IG_OK && fflush(w->f) != 0) s = ig_fail(IG_ERR_IO, "%s: cannot write (%s)", w->path, strerror(errno));
    if (s != IG_OK) {
        ig_event_writer_destroy(w);
        return s;
    }
    *out = w;
    return IG_OK;
}

ig_status ig_event_writer_add_scalar(ig_event_writer *w, const char *tag, int64_t step, float value)
{
    if (!w || !tag || !*tag) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_event_writer_add_scalar: %s", w ? "empty tag" : "NULL writer");
    pb val = {.n = 0}, sum = {.n = 0}, ev = {.n = 0};
    pb_len(&val, 1, tag, strlen(tag));
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    pb_key(&val, 2, 5);
    pb_le(&val, bits, 4);
    pb_len(&sum, 1, val.b, val.n);
    event_head(&ev, step);
    pb_len(&ev, 5, sum.b, sum.n);
    ev.overflow |= val.overflow || sum.overflow;
    return write_record(w, &ev);
}

ig_status ig_event_writer_flush(ig_event_writer *w)
{
    if (!w) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_event_writer_flush: NULL writer");
    return fflush(w->f) == 0 ? IG_OK : ig_fail(IG_ERR_IO, "%s: cannot write (%s)", w->path, strerror(errno));
}

const char *ig_event_writer_path(const ig_event_writer *w) { return w ? w->path : NULL; }

void ig_event_writer_destroy(ig_event_writer *w)
{
    if (!w) return;
    if (w->f) fclose(w->f);
    free(w);
}
