/* safetensors.c — see safetensors.h. The header is fully validated before any tensor data
 * is read. */
#include "io/safetensors.h"
#include "io/atomic_file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c hands out the file's little-endian data as is"
#endif

#define ST_DATA_ALIGN 64
/* JSON numbers are doubles: integers beyond 2^53 would not be exact. */
#define ST_MAX_INT 9007199254740992.0

static const struct {
    const char *name;
    size_t size;
} st_dtypes[] = {
    [IG_ST_F32] = {"F32", 4}, [IG_ST_F64] = {"F64", 8}, [IG_ST_F16] = {"F16", 2},
    [IG_ST_BF16] = {"BF16", 2}, [IG_ST_I32] = {"I32", 4}, [IG_ST_I64] = {"I64", 8},
};
#define ST_NDTYPES ((int)(sizeof st_dtypes / sizeof st_dtypes[0]))

size_t ig_st_dtype_size(ig_st_dtype d) { return st_dtypes[d].size; }
const char *ig_st_dtype_name(ig_st_dtype d) { return st_dtypes[d].name; }

/* A tensor and where its bytes lie in the file's data section. */
typedef struct st_entry {
    ig_st_tensor t;
    uint64_t begin, end;
} st_entry;

struct ig_st_file {
    int n;
    st_entry *entries; /* sorted by name */
    void *data;        /* each tensor's bytes at an ST_DATA_ALIGN-aligned offset */
    uint64_t bytes;
    uint32_t crc;
};

static bool json_uint(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= ST_MAX_INT) || d != (double)(uint64_t)d) return false;
    *out = (uint64_t)d;
    return true;
}

static ig_status parse_dtype(const char *path, const cJSON *e, ig_st_dtype *dtype)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    if (!cJSON_IsString(d)) return ig_fail(IG_ERR_FORMAT, "%s: tensor '%s': no \"dtype\" string", path, e->string);
    for (int i = 0; i < ST_NDTYPES; i++)
        if (strcmp(d->valuestring, st_dtypes[i].name) == 0) {
            *dtype = (ig_st_dtype)i;
            return IG_OK;
        }
    return ig_fail(IG_ERR_UNSUPPORTED, "%s: tensor '%s': dtype '%.32s' is not supported (F32, F64, F16, BF16, I32, I64 are)",
                   path, e->string, d->valuestring);
}

static ig_status parse_shape(const char *path, const cJSON *e, ig_st_tensor *t)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "shape");
    if (!cJSON_IsArray(s)) return ig_fail(IG_ERR_FORMAT, "%s: tensor '%s': no \"shape\" array", path, e->string);
    int ndim = cJSON_GetArraySize(s);
    if (ndim > IG_MAX_DIMS)
        return ig_fail(IG_ERR_UNSUPPORTED, "%s: tensor '%s': %d dimensions, at most %d are supported", path, e->string,
                       ndim, IG_MAX_DIMS);
    uint64_t numel = 1, esize = ig_st_dtype_size(t->dtype);
    const cJSON *d;
    int i = 0;
    cJSON_ArrayForEach(d, s) {
        uint64_t v;
        if (!json_uint(d, &v))
            return ig_fail(IG_ERR_FORMAT, "%s: tensor '%s': dimension %d is not a non-negative integer", path,
                           e->string, i);
        t->shape[i++] = (int64_t)v;
        if (v != 0 && numel > UINT64_MAX / esize / v)
            return ig_fail(IG_ERR_FORMAT, "%s: tensor '%s': the shape's byte size overflows", path, e->string);
        numel *= v;
    }
    t->ndim = ndim;
    t->numel = (int64_t)numel; /* numel * esize fits in 64 bits, so numel fits in 63 */
    t->nbytes = (size_t)(numel * esize);
    if ((uint64_t)t->nbytes != numel * esize)
        return ig_fail(IG_ERR_FORMAT, "%s: tensor '%s': too large for this machine", path, e->string);
    return IG_OK;
}

static ig_status parse_offsets(const char *path, const cJSON *e, uint64_t data_len, st_entry *en)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsArray(o) || cJSON_GetArraySize(o) != 2 || !json_uint(o->child, &en->begin) ||
        !json_uint(o->child->next, &en->end))
        return ig_fail(IG_ERR_FORMAT, "%s: tensor '%s': \"data_offsets\" must be two non-negative integers", path,
                       e->string);
    if (en->begin > en->end || en->end > data_len)
        return ig_fail(IG_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] lie outside the %llu-byte data section",
                       path, e->string, (unsigned long long)en->begin, (unsigned long long)en->end,
                       (unsigned long long)data_len);
    if (en->end - en->begin != (uint64_t)en->t.nbytes)
        return ig_fail(IG_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] hold %llu bytes, its dtype and shape need %zu",
                       path, e->string, (unsigned long long)en->begin, (unsigned long long)en->end,
                       (unsigned long long)(en->end - en->begin), en->t.nbytes);
    return IG_OK;
}

static ig_status check_metadata(const char *path, const cJSON *e)
{
    bool ok = cJSON_IsObject(e);
    const cJSON *v;
    cJSON_ArrayForEach(v, e) ok = ok && cJSON_IsString(v);
    return ok ? IG_OK : ig_fail(IG_ERR_FORMAT, "%s: \"__metadata__\" must map names to strings", path);
}

/* Parses the header's entries into f->entries, in header order. */
static ig_status parse_header(const char *path, const cJSON *root, uint64_t data_len, ig_st_file *f)
{
    if (!cJSON_IsObject(root)) return ig_fail(IG_ERR_FORMAT, "%s: the header is not a JSON object", path);
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, root) n += strcmp(e->string, "__metadata__") != 0;
    f->entries = calloc((size_t)(n ? n : 1), sizeof *f->entries);
    if (!f->entries) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory for %d tensors", path, n);
    cJSON_ArrayForEach(e, root) {
        if (strcmp(e->string, "__metadata__") == 0) {
            IG_TRY(check_metadata(path, e));
            continue;
        }
        if (!cJSON_IsObject(e)) return ig_fail(IG_ERR_FORMAT, "%s: tensor '%s': its entry is not an object", path, e->string);
        st_entry *en = &f->entries[f->n];
        if (!(en->t.name = strdup(e->string))) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        f->n++;
        IG_TRY(parse_dtype(path, e, &en->t.dtype));
        IG_TRY(parse_shape(path, e, &en->t));
        IG_TRY(parse_offsets(path, e, data_len, en));
    }
    return IG_OK;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(((const st_entry *)a)->t.name, ((const st_entry *)b)->t.name);
}

static int offset_cmp(const void *a, const void *b)
{
    const st_entry *x = *(const st_entry *const *)a, *y = *(const st_entry *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static ig_status check_unique(const char *path, const ig_st_file *f)
{
    for (int i = 1; i < f->n; i++)
        if (strcmp(f->entries[i - 1].t.name, f->entries[i].t.name) == 0)
            return ig_fail(IG_ERR_FORMAT, "%s: tensor '%s' appears twice in the header", path, f->entries[i].t.name);
    return IG_OK;
}

/* The tensors must tile the data section, as the format requires: no gap, no overlap,
 * nothing unaccounted for. by_offset: the entries sorted by offset. */
static ig_status check_tiling(const char *path, st_entry *const *by_offset, int n, uint64_t data_len)
{
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        const st_entry *en = by_offset[i];
        if (en->begin != at)
            return ig_fail(IG_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] %s the previous tensor (ending at %llu)",
                           path, en->t.name, (unsigned long long)en->begin, (unsigned long long)en->end,
                           en->begin < at ? "overlap" : "leave a gap after", (unsigned long long)at);
        at = en->end;
    }
    if (at != data_len)
        return ig_fail(IG_ERR_FORMAT, "%s: the last %llu bytes of the data section belong to no tensor", path,
                       (unsigned long long)(data_len - at));
    return IG_OK;
}

/* Reads len bytes at off and adds them to the file's CRC (the file is read once, in order). */
static ig_status read_at(int fd, const char *path, void *buf, size_t len, uint64_t off, ig_st_file *f)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return ig_fail(IG_ERR_IO, "%s: read failed: %s", path, strerror(errno));
        if (r == 0) /* the file shrank since we sized it */
            return ig_fail(IG_ERR_FORMAT, "%s: truncated at byte %llu", path, (unsigned long long)(off + done));
        done += (size_t)r;
    }
    f->crc = ig_crc32(f->crc, buf, len);
    return IG_OK;
}

static size_t padded(size_t n) { return (n + ST_DATA_ALIGN - 1) / ST_DATA_ALIGN * ST_DATA_ALIGN; }

/* Reads every tensor into one block, each at an aligned offset (the file's own offsets need
 * not suit the element size), in file order. */
static ig_status read_data(int fd, const char *path, uint64_t data_start, ig_st_file *f, st_entry *const *by_offset)
{
    size_t total = 0;
    /* the tensors tile the file, so this is at most its size plus the padding */
    for (int i = 0; i < f->n; i++) total += padded(f->entries[i].t.nbytes);
    f->data = aligned_alloc(ST_DATA_ALIGN, total ? total : ST_DATA_ALIGN);
    if (!f->data) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes of tensor data", path, total);
    char *slot = f->data;
    for (int i = 0; i < f->n; i++) {
        st_entry *en = by_offset[i];
        en->t.data = slot;
        IG_TRY(read_at(fd, path, slot, en->t.nbytes, data_start + en->begin, f));
        slot += padded(en->t.nbytes);
    }
    return IG_OK;
}

/* Everything after the header: its entries, their names and offsets, then the data. */
static ig_status load_tensors(int fd, const char *path, const cJSON *root, uint64_t data_start, uint64_t data_len,
                              ig_st_file *f)
{
    IG_TRY(parse_header(path, root, data_len, f));
    qsort(f->entries, (size_t)f->n, sizeof *f->entries, name_cmp);
    IG_TRY(check_unique(path, f));
    st_entry **by_offset = malloc((size_t)(f->n ? f->n : 1) * sizeof *by_offset);
    if (!by_offset) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    for (int i = 0; i < f->n; i++) by_offset[i] = &f->entries[i];
    qsort(by_offset, (size_t)f->n, sizeof *by_offset, offset_cmp);
    ig_status st = check_tiling(path, by_offset, f->n, data_len);
    if (st == IG_OK) st = read_data(fd, path, data_start, f, by_offset);
    free(by_offset);
    return st;
}

static ig_status read_file(int fd, const char *path, ig_st_file *f)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0) return ig_fail(IG_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return ig_fail(IG_ERR_IO, "%s: not a regular file", path);
    uint64_t size = (uint64_t)sb.st_size;
    if (size < 8)
        return ig_fail(IG_ERR_FORMAT, "%s: truncated: %llu bytes, less than the 8-byte header length", path,
                       (unsigned long long)size);
    uint8_t len8[8];
    IG_TRY(read_at(fd, path, len8, 8, 0, f));
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | len8[i];
    if (hlen > size - 8)
        return ig_fail(IG_ERR_FORMAT, "%s: the header length %llu exceeds the %llu bytes after it", path,
                       (unsigned long long)hlen, (unsigned long long)(size - 8));
    if (hlen > IG_ST_MAX_HEADER)
        return ig_fail(IG_ERR_FORMAT, "%s: the header length %llu exceeds the %llu-byte limit", path,
                       (unsigned long long)hlen, (unsigned long long)IG_ST_MAX_HEADER);
    f->bytes = size;

    char *text = malloc((size_t)hlen + 1);
    if (!text) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory for the header", path);
    ig_status st = read_at(fd, path, text, (size_t)hlen, 8, f);
    text[hlen] = '\0';
    if (st == IG_OK && strlen(text) != hlen)
        st = ig_fail(IG_ERR_FORMAT, "%s: the header holds a NUL byte at %zu", path, strlen(text));
    cJSON *root = NULL;
    if (st == IG_OK) {
        const char *end = NULL;
        root = cJSON_ParseWithOpts(text, &end, true);
        if (!root)
            st = ig_fail(IG_ERR_FORMAT, "%s: the header is not valid JSON (at byte %lld of %llu)", path,
                         end ? (long long)(end - text) : -1LL, (unsigned long long)hlen);
    }
    if (st == IG_OK) st = load_tensors(fd, path, root, 8 + hlen, size - 8 - hlen, f);
    cJSON_Delete(root);
    free(text);
    return st;
}

ig_status ig_st_open(const char *path, ig_st_file **out)
{
    if (!path || !out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_st_open: NULL %s", path ? "out" : "path");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ig_fail(IG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    ig_st_file *f = calloc(1, sizeof *f);
    ig_status st = f ? read_file(fd, path, f) : ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    close(fd);
    if (st != IG_OK) {
        ig_st_close(f);
        return st;
    }
    *out = f;
    return IG_OK;
}

int ig_st_index(const ig_st_file *f, const char *name)
{
    if (!f || !name) return -1;
    st_entry key = {.t.name = name};
    const st_entry *en = bsearch(&key, f->entries, (size_t)f->n, sizeof key, name_cmp);
    return en ? (int)(en - f->entries) : -1;
}

const ig_st_tensor *ig_st_get(const ig_st_file *f, const char *name) { return ig_st_at(f, ig_st_index(f, name)); }

int ig_st_count(const ig_st_file *f) { return f ? f->n : 0; }
const ig_st_tensor *ig_st_at(const ig_st_file *f, int i) { return f && i >= 0 && i < f->n ? &f->entries[i].t : NULL; }
uint64_t ig_st_file_bytes(const ig_st_file *f) { return f ? f->bytes : 0; }
uint32_t ig_st_file_crc(const ig_st_file *f) { return f ? f->crc : 0; }

void ig_st_close(ig_st_file *f)
{
    if (!f) return;
    for (int i = 0; i < f->n; i++) free((char *)f->entries[i].t.name);
    free(f->entries);
    free(f->data);
    free(f);
}

/* ---- writing */

ig_status ig_st_list_add(ig_st_list *l, ig_st_dtype dtype, int ndim, const int64_t *shape, const void *data,
                         const char *fmt, ...)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        ig_st_entry *e = realloc(l->e, (size_t)cap * sizeof *e);
        if (!e) return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory for %d tensors", cap);
        l->e = e;
        l->cap = cap;
    }
    ig_st_entry *e = &l->e[l->n];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(e->name, sizeof e->name, fmt, ap);
    va_end(ap);
    if (len < 0 || len >= (int)sizeof e->name)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "tensor name '%s...' is longer than %d characters", e->name,
                       IG_ST_NAME_LEN - 1);
    e->dtype = dtype;
    e->ndim = ndim;
    for (int d = 0; d < ndim; d++) e->shape[d] = shape[d];
    e->data = data;
    l->n++;
    return IG_OK;
}

void ig_st_list_free(ig_st_list *l)
{
    free(l->e);
    *l = (ig_st_list){0};
}

static size_t entry_bytes(const ig_st_entry *e)
{
    size_t n = ig_st_dtype_size(e->dtype);
    for (int d = 0; d < e->ndim; d++) n *= (size_t)e->shape[d];
    return n;
}

static int str_ptr_cmp(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static ig_status check_names(const char *path, const ig_st_entry *entries, int n)
{
    const char **names = malloc((size_t)(n ? n : 1) * sizeof *names);
    if (!names) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    for (int i = 0; i < n; i++) names[i] = entries[i].name;
    qsort(names, (size_t)n, sizeof *names, str_ptr_cmp);
    ig_status st = IG_OK;
    for (int i = 1; i < n && st == IG_OK; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            st = ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: two tensors are named '%s'", path, names[i]);
    free(names);
    return st;
}

/* The header text, padded with spaces to a multiple of 8 bytes (as the reference
 * implementation does, so the data section starts aligned); order[] the layout. */
static ig_status make_header(const ig_st_entry *entries, const int *order, int n, const char *const *meta, int n_meta,
                             char **text, size_t *len)
{
    cJSON *root = cJSON_CreateObject();
    bool ok = root != NULL;
    if (ok && n_meta > 0) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        ok = m != NULL;
        for (int i = 0; ok && i < n_meta; i++) ok = cJSON_AddStringToObject(m, meta[2 * i], meta[2 * i + 1]) != NULL;
    }
    uint64_t at = 0;
    for (int k = 0; ok && k < n; k++) {
        const ig_st_entry *e = &entries[order[k]];
        cJSON *t = cJSON_AddObjectToObject(root, e->name);
        cJSON *shape = t ? cJSON_AddArrayToObject(t, "shape") : NULL;
        cJSON *offs = shape ? cJSON_AddArrayToObject(t, "data_offsets") : NULL;
        ok = offs && cJSON_AddStringToObject(t, "dtype", ig_st_dtype_name(e->dtype));
        for (int d = 0; ok && d < e->ndim; d++) ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)e->shape[d]));
        uint64_t end = at + entry_bytes(e);
        ok = ok && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)at)) &&
             cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)end));
        at = end;
    }
    char *s = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!s) return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory for a safetensors header");
    size_t l = strlen(s), padded_len = (l + 7) / 8 * 8;
    char *p = realloc(s, padded_len + 1);
    if (!p) {
        free(s);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory for a safetensors header");
    }
    memset(p + l, ' ', padded_len - l);
    p[padded_len] = '\0';
    *text = p;
    *len = padded_len;
    return IG_OK;
}

ig_status ig_st_write(ig_atomic_file *f, const ig_st_entry *entries, int n, const char *const *meta, int n_meta)
{
    ig_status st = check_names(f->path, entries, n);
    int *order = st == IG_OK ? malloc((size_t)(n ? n : 1) * sizeof *order) : NULL;
    if (st == IG_OK && !order) st = ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", f->path);
    if (st != IG_OK) {
        ig_atomic_abort(f);
        return st;
    }
    /* larger elements first, each group in the order given (a stable order by size) */
    int k = 0;
    for (size_t size = 8; size >= 1; size /= 2)
        for (int i = 0; i < n; i++)
            if (ig_st_dtype_size(entries[i].dtype) == size) order[k++] = i;
    char *text = NULL;
    size_t len = 0;
    st = make_header(entries, order, n, meta, n_meta, &text, &len);
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)len >> (8 * i));
    if (st == IG_OK) st = ig_atomic_write(f, len8, sizeof len8);
    if (st == IG_OK) st = ig_atomic_write(f, text, len);
    for (int i = 0; st == IG_OK && i < n; i++) st = ig_atomic_write(f, entries[order[i]].data, entry_bytes(&entries[order[i]]));
    if (st != IG_OK) ig_atomic_abort(f);
    free(text);
    free(order);
    return st;
}
