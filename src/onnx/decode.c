/* decode.c — an ONNX file's bytes into protobuf-c messages, with memory and nesting bounded
 * by the file: protobuf-c allocates for what it finds, but a few bytes can ask for a message
 * struct of a hundred, and it recurses into nested messages without a limit. */
#include "onnx/import.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A block's size sits in front of it, so frees give back what the block took. */
typedef union header {
    size_t size;
    max_align_t align;
} header;

void ig_onnx_budget_init(ig_onnx_budget *b, size_t file_size)
{
    *b = (ig_onnx_budget){.used = 0, .exceeded = false};
    b->limit = file_size > (SIZE_MAX - IG_ONNX_BUDGET_SLACK) / IG_ONNX_BUDGET_FACTOR
                   ? SIZE_MAX
                   : file_size * IG_ONNX_BUDGET_FACTOR + IG_ONNX_BUDGET_SLACK;
}

bool ig_onnx_charge(ig_onnx_budget *b, size_t bytes)
{
    if (bytes > b->limit - b->used) {
        b->exceeded = true;
        return false;
    }
    b->used += bytes;
    return true;
}

void *ig_onnx_alloc(ig_onnx_budget *b, size_t bytes)
{
    if (bytes > SIZE_MAX - sizeof(header) || !ig_onnx_charge(b, bytes + sizeof(header))) return NULL;
    header *h = calloc(1, bytes + sizeof(header));
    if (!h) {
        b->used -= bytes + sizeof(header);
        return NULL;
    }
    h->size = bytes + sizeof(header);
    return h + 1;
}

void ig_onnx_free(ig_onnx_budget *b, void *p)
{
    if (!p) return;
    header *h = (header *)p - 1;
    b->used -= h->size;
    free(h);
}

static void *pb_alloc(void *data, size_t size) { return ig_onnx_alloc(data, size); }
static void pb_free(void *data, void *p) { ig_onnx_free(data, p); }

/* A varint at *p (at most 10 bytes, before end); false if truncated or too long. */
static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

/* Walks the wire format of a message of type d, descending into the fields that hold
 * messages, to refuse nesting deeper than IG_ONNX_MAX_DEPTH before protobuf-c's unbounded
 * recursion meets it. Other fields are only skipped; protobuf-c checks them. */
static bool nesting_ok(const uint8_t *p, const uint8_t *end, const ProtobufCMessageDescriptor *d, int depth)
{
    while (p < end) {
        uint64_t key, len;
        if (!varint(&p, end, &key)) return false;
        switch (key & 7) {
        case 0:
            if (!varint(&p, end, &len)) return false;
            break;
        case 1:
        case 5: {
            size_t n = (key & 7) == 1 ? 8 : 4;
            if ((size_t)(end - p) < n) return false;
            p += n;
            break;
        }
        case 2: {
            if (!varint(&p, end, &len) || len > (uint64_t)(end - p)) return false;
            const ProtobufCFieldDescriptor *f =
                key >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3)) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                (depth >= IG_ONNX_MAX_DEPTH || !nesting_ok(p, p + len, f->descriptor, depth + 1)))
                return false;
            p += len;
            break;
        }
        default: return false; /* groups: ONNX has none */
        }
    }
    return true;
}

ig_status ig_onnx_decode(const uint8_t *data, size_t size, ig_onnx_budget *b, Onnx__ModelProto **out)
{
    *out = NULL;
    if (!nesting_ok(data, data + size, &onnx__model_proto__descriptor, 0))
        return ig_fail(IG_ERR_FORMAT, "not an ONNX model: malformed protobuf, or messages nested more than %d deep",
                       IG_ONNX_MAX_DEPTH);
    ProtobufCAllocator a = {.alloc = pb_alloc, .free = pb_free, .allocator_data = b};
    *out = onnx__model_proto__unpack(&a, size, data);
    if (*out) return IG_OK;
    if (b->exceeded)
        return ig_fail(IG_ERR_FORMAT, "not a plausible ONNX model: decoding it would take more than %d times its %zu "
                       "bytes", IG_ONNX_BUDGET_FACTOR, size);
    return ig_fail(IG_ERR_FORMAT, "not an ONNX model: protobuf-c cannot decode it as an onnx.ModelProto");
}

void ig_onnx_decode_free(Onnx__ModelProto *model, ig_onnx_budget *b)
{
    ProtobufCAllocator a = {.alloc = pb_alloc, .free = pb_free, .allocator_data = b};
    if (model) onnx__model_proto__free_unpacked(model, &a);
}
