/* weights.c — the model's parameters and buffers to and from safetensors files, in
 * PyTorch's names and layouts (docs/checkpoints.md). */
#include "nn/weights.h"
#include "io/atomic_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Names listed in a message before "and N more". */
#define LIST_MAX 8

ig_weights_options ig_weights_defaults(void) { return (ig_weights_options){.allow_missing = false, .allow_unexpected = false}; }

/* Where a batch-norm layer's count goes: PyTorch's name for it. */
static void batches_name(const ig_node *n, char *buf, size_t size) { snprintf(buf, size, "%s.num_batches_tracked", n->name); }

ig_status ig_weights_entries(const ig_model *m, const float *host, const int64_t *batches, ig_st_list *l)
{
    for (int i = 0; i < m->n_params; i++) {
        const ig_val *v = &m->g.vals[m->params[i].val];
        IG_TRY(ig_st_list_add(l, IG_ST_F32, v->shape.ndim, v->shape.d, host + v->offset / sizeof(float), "%s",
                              m->params[i].name));
    }
    for (int i = 0; i < m->g.n_nodes; i++)
        if (m->g.nodes[i].op == IG_OP_BATCHNORM)
            IG_TRY(ig_st_list_add(l, IG_ST_I64, 0, NULL, batches, "%s.num_batches_tracked", m->g.nodes[i].name));
    return IG_OK;
}

ig_status ig_weights_download(ig_model *m, float **host)
{
    IG_TRY(ig_model_finalize(m));
    size_t bytes = m->params_bytes + m->buffers_bytes;
    *host = malloc(bytes ? bytes : 1);
    if (!*host) return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory for %zu bytes of parameters", bytes);
    ig_backend *be = m->ctx->backend;
    ig_status st = be->download(be, *host, m->param_mem, bytes);
    if (st != IG_OK) {
        free(*host);
        *host = NULL;
    }
    return st;
}

/* IEEE half and bfloat16 to float: both exact. */
static float from_f16(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, bits;
    if (exp == 0 && mant == 0) {
        bits = sign;
    } else if (exp == 0) { /* subnormal: normalise it */
        exp = 127 - 15 + 1;
        while (!(mant & 0x400u)) {
            mant <<= 1;
            exp--;
        }
        bits = sign | exp << 23 | (mant & 0x3ffu) << 13;
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | mant << 13;
    } else {
        bits = sign | (exp + 127 - 15) << 23 | mant << 13;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static float from_bf16(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* A parameter's values from a tensor of a floating-point dtype. */
static ig_status to_f32(const ig_st_tensor *t, const char *path, float *dst)
{
    const char *src = t->data;
    size_t n = (size_t)t->numel;
    switch (t->dtype) {
    case IG_ST_F32: memcpy(dst, src, n * sizeof *dst); return IG_OK;
    case IG_ST_F64:
        for (size_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, src + 8 * i, sizeof d);
            dst[i] = (float)d;
        }
        return IG_OK;
    case IG_ST_F16:
    case IG_ST_BF16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, sizeof h);
            dst[i] = t->dtype == IG_ST_F16 ? from_f16(h) : from_bf16(h);
        }
        return IG_OK;
    default:
        return ig_fail(IG_ERR_UNSUPPORTED, "%s: tensor '%s' is %s; a parameter needs a floating-point dtype", path,
                       t->name, ig_st_dtype_name(t->dtype));
    }
}

/* A batch-norm count: one integer ≥ 0 (PyTorch's is an I64 scalar). */
static ig_status to_count(const ig_st_tensor *t, const char *path, int64_t *out)
{
    if ((t->dtype != IG_ST_I64 && t->dtype != IG_ST_I32) || t->numel != 1 || t->ndim > 1)
        return ig_fail(IG_ERR_FORMAT, "%s: tensor '%s' is %s with %lld elements; a batch count is one integer", path,
                       t->name, ig_st_dtype_name(t->dtype), (long long)t->numel);
    int64_t v;
    if (t->dtype == IG_ST_I64) {
        memcpy(&v, t->data, sizeof v);
    } else {
        int32_t w;
        memcpy(&w, t->data, sizeof w);
        v = w;
    }
    if (v < 0) return ig_fail(IG_ERR_FORMAT, "%s: tensor '%s' is %lld; a batch count is >= 0", path, t->name, (long long)v);
    *out = v;
    return IG_OK;
}

/* Names collected for one message: "a, b and 3 more". */
typedef struct name_list {
    char text[LIST_MAX * 64];
    int count;
} name_list;

static void name_list_add(name_list *l, const char *name)
{
    size_t len = strlen(l->text);
    if (l->count < LIST_MAX)
        snprintf(l->text + len, sizeof l->text - len, "%s%s", l->count ? ", " : "", name);
    l->count++;
}

static const char *name_list_more(const name_list *l, char *buf, size_t size)
{
    if (l->count > LIST_MAX) snprintf(buf, size, " and %d more", l->count - LIST_MAX);
    else buf[0] = '\0';
    return buf;
}

static bool has_prefix(const char *name, const char *const *own, int n_own)
{
    for (int k = 0; k < n_own; k++)
        if (strncmp(name, own[k], strlen(own[k])) == 0) return true;
    return false;
}

ig_status ig_weights_read(const ig_model *m, const ig_st_file *f, const char *path, const ig_weights_options *opt,
                          const char *const *own, int n_own, float *host, int64_t *batches)
{
    int nf = ig_st_count(f);
    bool *used = calloc((size_t)(nf ? nf : 1), sizeof *used);
    if (!used) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    name_list missing = {.count = 0}, unexpected = {.count = 0};
    ig_status st = IG_OK;
    for (int i = 0; st == IG_OK && i < m->n_params; i++) {
        const ig_val *v = &m->g.vals[m->params[i].val];
        int k = ig_st_index(f, m->params[i].name);
        if (k < 0) {
            name_list_add(&missing, m->params[i].name);
            continue;
        }
        used[k] = true;
        const ig_st_tensor *t = ig_st_at(f, k);
        ig_shape ts = ig_shape_make(t->ndim, t->shape);
        if (!ig_shape_eq(&ts, &v->shape)) {
            char a[96], b[96];
            st = ig_fail(IG_ERR_SHAPE, "%s: tensor '%s' is %s, the model's parameter is %s", path, t->name,
                         ig_shape_str(&ts, a, sizeof a), ig_shape_str(&v->shape, b, sizeof b));
        } else {
            st = to_f32(t, path, host + v->offset / sizeof(float));
        }
    }
    bool counted = false; /* one count serves every layer (ingot's layers all see each pass) */
    for (int i = 0; st == IG_OK && i < m->g.n_nodes; i++) {
        if (m->g.nodes[i].op != IG_OP_BATCHNORM) continue;
        char name[IG_ST_NAME_LEN];
        batches_name(&m->g.nodes[i], name, sizeof name);
        int k = ig_st_index(f, name);
        if (k < 0) continue; /* optional: not every writer keeps one */
        used[k] = true;
        int64_t v = 0;
        st = to_count(ig_st_at(f, k), path, &v);
        if (st == IG_OK && !counted) *batches = v;
        counted = true;
    }
    for (int k = 0; st == IG_OK && k < nf; k++)
        if (!used[k] && !has_prefix(ig_st_at(f, k)->name, own, n_own)) name_list_add(&unexpected, ig_st_at(f, k)->name);
    free(used);
    IG_TRY(st);
    char more[32];
    bool allow_missing = opt && opt->allow_missing, allow_unexpected = opt && opt->allow_unexpected;
    if (missing.count && !allow_missing)
        return ig_fail(IG_ERR_STATE, "%s: the model's %s%s %s not in the file (ig_weights_options.allow_missing keeps "
                       "their values)", path, missing.text, name_list_more(&missing, more, sizeof more),
                       missing.count == 1 ? "is" : "are");
    if (unexpected.count && !allow_unexpected)
        return ig_fail(IG_ERR_STATE, "%s: the file's %s%s %s no parameter of the model (ig_weights_options."
                       "allow_unexpected ignores them)", path, unexpected.text, name_list_more(&unexpected, more, sizeof more),
                       unexpected.count == 1 ? "is" : "are");
    return IG_OK;
}

ig_status ig_model_save_weights(ig_model *m, const char *path)
{
    if (!m || !path) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_save_weights: NULL %s", m ? "path" : "model");
    float *host;
    IG_TRY(ig_weights_download(m, &host));
    ig_st_list l = {0};
    ig_atomic_file af;
    static const char *const meta[] = {"format", "pt"}; /* what safetensors' PyTorch helpers write */
    ig_status st = ig_weights_entries(m, host, &m->bn_batches, &l);
    if (st == IG_OK) st = ig_atomic_open(&af, path);
    if (st == IG_OK) st = ig_st_write(&af, l.e, l.n, meta, 1);
    if (st == IG_OK) st = ig_atomic_commit(&af);
    ig_st_list_free(&l);
    free(host);
    return st == IG_OK ? IG_OK : ig_fail_prefix(st, "ig_model_save_weights: ");
}

ig_status ig_model_load_weights(ig_model *m, const char *path, const ig_weights_options *opt)
{
    if (!m || !path) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_model_load_weights: NULL %s", m ? "path" : "model");
    ig_st_file *f = NULL;
    float *host = NULL;
    int64_t batches = m->bn_batches;
    ig_status st = ig_st_open(path, &f);
    if (st == IG_OK) st = ig_weights_download(m, &host);
    if (st == IG_OK) st = ig_weights_read(m, f, path, opt, NULL, 0, host, &batches);
    if (st == IG_OK) {
        ig_backend *be = m->ctx->backend;
        st = be->upload(be, m->param_mem, host, m->params_bytes + m->buffers_bytes);
    }
    if (st == IG_OK) m->bn_batches = batches;
    free(host);
    ig_st_close(f);
    return st == IG_OK ? IG_OK : ig_fail_prefix(st, "ig_model_load_weights: ");
}
