/* checkpoint.c — a trainer's whole state to and from a checkpoint: a safetensors file of the
 * model's weights and every state tensor, and a JSON manifest of everything else, written
 * last so that it commits the pair (docs/checkpoints.md). */
#define _GNU_SOURCE /* strndup */
#include "train/checkpoint.h"
#include "io/atomic_file.h"
#include "nn/weights.h"
#include "ops/opt_math.h"
#include "ops/ops.h"
#include "train/manifest.h"
#include "train/monitor.h"
#include "train/optimizer.h"
#include "train/trainer.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CKPT_FORMAT "ingot-checkpoint"
#define CKPT_VERSION 1
#define MAX_PARAMS (1 << 20) /* bounds a manifest's parameter list */

/* Prefixes of the tensors that are not the model's (weights files read with
 * allow_unexpected skip them). */
static const char *const own_prefixes[] = {"optimizer/", "trainer/", "lbfgs/"};

/* Each optimizer's moments, named as PyTorch's optimizer state names them. */
static const char *const moment_keys[][3] = {
    [IG_OPT_SGD] = {"momentum_buffer"},
    [IG_OPT_ADAM] = {"exp_avg", "exp_avg_sq"},
    [IG_OPT_ADAMW] = {"exp_avg", "exp_avg_sq"},
    [IG_OPT_RMSPROP] = {"square_avg", "momentum_buffer", "grad_avg"},
    [IG_OPT_ADAGRAD] = {"sum"},
    [IG_OPT_ADADELTA] = {"square_avg", "acc_delta"},
    [IG_OPT_NADAM] = {"exp_avg", "exp_avg_sq"},
    [IG_OPT_LBFGS] = {NULL},
};

static size_t moment_at(const ig_trainer *t, int k)
{
    return ig_trainer_moments_offset() + (size_t)k * ig_align(t->m->params_bytes);
}

static size_t decay_at(const ig_trainer *t)
{
    return ig_opt_decay_at(t->cfg.optimizer, t->m->params_bytes, ig_trainer_moments_offset());
}

static int trainable_count(const ig_model *m)
{
    int n = 0;
    for (int i = 0; i < m->n_params; i++) n += m->params[i].trainable;
    return n;
}

/* ---- paths */

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* "<dir of stem>/<name>", malloc'd. */
static char *beside(const char *stem, const char *name)
{
    size_t dlen = (size_t)(base_of(stem) - stem), len = dlen + strlen(name) + 1;
    char *p = malloc(len);
    if (p) snprintf(p, len, "%.*s%s", (int)dlen, stem, name);
    return p;
}

static char *with_suffix(const char *stem, const char *suffix)
{
    size_t len = strlen(stem) + strlen(suffix) + 1;
    char *p = malloc(len);
    if (p) snprintf(p, len, "%s%s", stem, suffix);
    return p;
}

/* s past prefix, or NULL. */
static const char *after(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* A generation number: decimal digits, then `rest`; the value, or -1. */
static int64_t generation_of(const char *s, const char *rest)
{
    int64_t g = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9' && p - s < 15; p++) g = g * 10 + (*p - '0');
    return p > s && strcmp(p, rest) == 0 ? g : -1;
}

bool ig_ckpt_owns_file(const char *base, const char *name)
{
    const char *r = after(name, base);
    if (r && *r == '.' && generation_of(r + 1, ".safetensors") >= 0) return true;
    if (!ig_atomic_is_temp(name) || !(r = after(name + 1, base)) || *r != '.') return false;
    const char *tag = strstr(r, IG_ATOMIC_TMP_TAG);
    char kind[64];
    snprintf(kind, sizeof kind, "%.*s", (int)(tag - r - 1), r + 1);
    return strcmp(kind, "json") == 0 || generation_of(kind, ".safetensors") >= 0;
}

/* Calls fn(dir_path, name, arg) for every entry of the stem's directory that the stem owns. */
static void for_owned(const char *stem, void (*fn)(const char *path, const char *name, void *arg), void *arg)
{
    char *dir = beside(stem, ".");
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (ig_ckpt_owns_file(base_of(stem), e->d_name)) {
            char *p = beside(stem, e->d_name);
            if (p) fn(p, e->d_name, arg);
            free(p);
        }
    if (d) closedir(d);
    free(dir);
}

/* The highest generation among the tensors files of a stem. */
typedef struct generations {
    const char *base;
    int64_t max;
} generations;

static void max_generation(const char *path, const char *name, void *arg)
{
    generations *g = arg;
    if (ig_atomic_is_temp(name)) return;
    int64_t v = generation_of(name + strlen(g->base) + 1, ".safetensors"); /* "<base>.<g>.safetensors" */
    if (v > g->max) g->max = v;
}

/* Removes what the stem owns besides the tensors file `keep` (older generations, the
 * temporary files of crashed saves). */
static void remove_stale(const char *path, const char *name, void *keep)
{
    if (strcmp(name, keep) != 0) unlink(path);
}

/* ---- saving */

/* Host images of the model's and the trainer's memory, and the entries pointing into them. */
typedef struct snapshot {
    float *params;
    char *state;
    float *scales;
    double *ro;
    ig_st_list l;
} snapshot;

static void snapshot_free(snapshot *s)
{
    free(s->params);
    free(s->state);
    free(s->scales);
    free(s->ro);
    ig_st_list_free(&s->l);
}

static ig_status take_snapshot(ig_trainer *t, snapshot *s)
{
    ig_model *m = t->m;
    ig_backend *be = t->ctx->backend;
    IG_TRY(ig_weights_download(m, &s->params));
    s->state = malloc(t->state_bytes);
    s->scales = malloc((size_t)(trainable_count(m) + 1) * sizeof *s->scales);
    if (!s->state || !s->scales) return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory for the trainer's state");
    IG_TRY(be->download(be, s->state, t->state, t->state_bytes));
    IG_TRY(ig_weights_entries(m, s->params, &m->bn_batches, &s->l));
    const float *scales = (const float *)(s->state + decay_at(t));
    int n = 0;
    for (int i = 0; i < m->n_params; i++) {
        const ig_param *p = &m->params[i];
        if (!p->trainable) continue;
        const ig_val *v = &m->g.vals[p->val];
        for (int k = 0; k < ig_opt_moments(t->cfg.optimizer); k++)
            IG_TRY(ig_st_list_add(&s->l, IG_ST_F32, v->shape.ndim, v->shape.d, s->state + moment_at(t, k) + v->offset,
                                  "optimizer/%s/%s", p->name, moment_keys[t->cfg.optimizer][k]));
        s->scales[n++] = scales[v->offset / sizeof(float) / IG_DECAY_CHUNK];
    }
    IG_TRY(ig_st_list_add(&s->l, IG_ST_F32, 1, (int64_t[]){n}, s->scales, "trainer/weight_decay_scale"));
    IG_TRY(ig_st_list_add(&s->l, IG_ST_F32, 1, (int64_t[]){IG_LOSS_RING}, s->state + ig_trainer_ring_offset(),
                          "trainer/loss_ring"));
    if (!t->lbfgs) return IG_OK;
    ig_lbfgs_state ls = ig_lbfgs_get_state(t->lbfgs);
    int64_t n64 = (int64_t)ls.n;
    IG_TRY(ig_st_list_add(&s->l, IG_ST_F64, 1, &n64, ls.d, "lbfgs/d"));
    IG_TRY(ig_st_list_add(&s->l, IG_ST_F64, 1, &n64, ls.prev_g, "lbfgs/prev_g"));
    if (!(s->ro = malloc((size_t)(ls.count + 1) * sizeof *s->ro))) return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory");
    for (int k = 0; k < ls.count; k++)
        IG_TRY(ig_st_list_add(&s->l, IG_ST_F64, 2, (int64_t[]){2, n64}, ig_lbfgs_pair(t->lbfgs, k, &s->ro[k]),
                              "lbfgs/pair.%d", k));
    return ig_st_list_add(&s->l, IG_ST_F64, 1, (int64_t[]){ls.count}, s->ro, "lbfgs/ro");
}

static bool add_shape(cJSON *o, const char *key, const int64_t *d, int ndim)
{
    cJSON *a = cJSON_AddArrayToObject(o, key);
    bool ok = a != NULL;
    for (int i = 0; ok && i < ndim; i++) ok = cJSON_AddItemToArray(a, cJSON_CreateNumber((double)d[i]));
    return ok;
}

static bool add_model(cJSON *root, const ig_model *m)
{
    cJSON *o = cJSON_AddObjectToObject(root, "model");
    const ig_shape *in = &m->g.vals[m->input].shape;
    bool ok = o && add_shape(o, "input_shape", in->d, in->ndim) && ig_json_add_u64(o, "seed", m->seed) &&
              cJSON_AddNumberToObject(o, "batches_tracked", (double)m->bn_batches);
    cJSON *ps = ok ? cJSON_AddArrayToObject(o, "parameters") : NULL, *ls = ps ? cJSON_AddArrayToObject(o, "layers") : NULL;
    ok = ls != NULL;
    for (int i = 0; ok && i < m->n_params; i++) {
        const ig_shape *s = &m->g.vals[m->params[i].val].shape;
        cJSON *p = cJSON_CreateObject();
        ok = p && cJSON_AddItemToArray(ps, p) && cJSON_AddStringToObject(p, "name", m->params[i].name) &&
             add_shape(p, "shape", s->d, s->ndim) && cJSON_AddBoolToObject(p, "trainable", m->params[i].trainable);
    }
    /* for a reader's information: what the model is, layer by layer */
    for (int i = 0; ok && i < m->g.n_nodes; i++) {
        cJSON *l = cJSON_CreateObject();
        ok = l && cJSON_AddItemToArray(ls, l) && cJSON_AddStringToObject(l, "name", m->g.nodes[i].name) &&
             cJSON_AddStringToObject(l, "op", ig_op_get(m->g.nodes[i].op)->name);
    }
    return ok;
}

static bool add_monitors(cJSON *root, const ig_checkpoint_monitors *mon)
{
    bool ok = true;
    if (mon && mon->plateau) {
        const struct ig_plateau *p = mon->plateau;
        cJSON *o = cJSON_AddObjectToObject(root, "plateau");
        ok = o && ig_json_add_float(o, "best", p->best) && cJSON_AddBoolToObject(o, "seen", p->seen) &&
             cJSON_AddNumberToObject(o, "bad", p->bad) && cJSON_AddNumberToObject(o, "cooldown_left", p->cooldown_left);
    }
    if (ok && mon && mon->early_stopping) {
        const struct ig_early_stopping *e = mon->early_stopping;
        cJSON *o = cJSON_AddObjectToObject(root, "early_stopping");
        ok = o && ig_json_add_float(o, "best", e->best) && cJSON_AddBoolToObject(o, "seen", e->seen) &&
             cJSON_AddNumberToObject(o, "wait", e->wait);
    }
    return ok;
}

/* The manifest of a checkpoint whose tensors went to `file`. */
static char *manifest_text(const ig_trainer *t, const snapshot *s, int64_t gen, const char *file, uint64_t bytes,
                           uint32_t crc, const ig_checkpoint_monitors *mon, const float *metric)
{
    ig_opt_hyper h;
    memcpy(&h, s->state, sizeof h);
    char version[32];
    snprintf(version, sizeof version, "%d.%d.%d", IG_VERSION_MAJOR, IG_VERSION_MINOR, IG_VERSION_PATCH);
    cJSON *root = cJSON_CreateObject(), *tens = NULL, *state = NULL, *cfg = ig_config_to_json(&t->cfg);
    bool ok = root && cfg && cJSON_AddStringToObject(root, "format", CKPT_FORMAT) &&
              cJSON_AddNumberToObject(root, "version", CKPT_VERSION) &&
              cJSON_AddStringToObject(root, "ingot_version", version) &&
              cJSON_AddStringToObject(root, "device", ig_device_name(t->ctx->device)) &&
              cJSON_AddNumberToObject(root, "generation", (double)gen) &&
              (tens = cJSON_AddObjectToObject(root, "tensors")) && cJSON_AddStringToObject(tens, "file", file) &&
              cJSON_AddNumberToObject(tens, "bytes", (double)bytes) && cJSON_AddNumberToObject(tens, "crc32", crc) &&
              add_model(root, t->m);
    if (ok) {
        cJSON_AddItemToObject(root, "trainer", cfg);
        cfg = NULL;
    }
    ok = ok && (state = cJSON_AddObjectToObject(root, "state")) && cJSON_AddNumberToObject(state, "step", (double)h.step) &&
         cJSON_AddNumberToObject(state, "epoch", (double)t->epochs) &&
         ig_json_add_float(state, "learning_rate", h.lr) && ig_json_add_float(state, "mu_product", h.mu_product) &&
         ig_json_add_float(state, "grad_scale", h.sched.grad_scale) && add_monitors(root, mon);
    if (ok && t->lbfgs) {
        ig_lbfgs_state ls = ig_lbfgs_get_state(t->lbfgs);
        cJSON *o = cJSON_AddObjectToObject(root, "lbfgs");
        ok = o && cJSON_AddNumberToObject(o, "n_iter", (double)ls.n_iter) && ig_json_add_float(o, "t", ls.t) &&
             ig_json_add_float(o, "h_diag", ls.h_diag) && cJSON_AddNumberToObject(o, "pairs", ls.count);
    }
    if (ok && metric) ok = ig_json_add_float(root, "metric", *metric);
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    cJSON_Delete(cfg);
    return text;
}

ig_status ig_ckpt_save(ig_trainer *t, const char *stem, const ig_checkpoint_monitors *mon, const float *metric)
{
    snapshot s = {0};
    ig_status st = take_snapshot(t, &s);
    generations seen = {base_of(stem), 0};
    for_owned(stem, max_generation, &seen);
    int64_t gen = seen.max + 1;
    char name[64], *file = NULL, *tensors = NULL, *manifest = NULL, *text = NULL;
    snprintf(name, sizeof name, ".%" PRId64 ".safetensors", gen);
    file = with_suffix(base_of(stem), name);
    tensors = with_suffix(stem, name);
    manifest = with_suffix(stem, ".json");
    if (st == IG_OK && (!file || !tensors || !manifest)) st = ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory");
    ig_atomic_file af;
    uint64_t bytes = 0;
    uint32_t crc = 0;
    if (st == IG_OK) st = ig_atomic_open(&af, tensors);
    if (st == IG_OK) st = ig_st_write(&af, s.l.e, s.l.n, (const char *const[]){"format", CKPT_FORMAT}, 1);
    if (st == IG_OK) {
        bytes = af.bytes;
        crc = af.crc;
        st = ig_atomic_commit(&af);
    }
    /* the tensors are on disk under their final name: the manifest may now name them */
    if (st == IG_OK && !(text = manifest_text(t, &s, gen, file, bytes, crc, mon, metric)))
        st = ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory for the manifest");
    if (st == IG_OK) st = ig_atomic_open(&af, manifest);
    if (st == IG_OK) st = ig_atomic_write(&af, text, strlen(text));
    if (st == IG_OK) st = ig_atomic_commit(&af);
    if (st == IG_OK) for_owned(stem, remove_stale, file);
    else if (tensors) unlink(tensors); /* not named by any manifest */
    snapshot_free(&s);
    free(file);
    free(tensors);
    free(manifest);
    cJSON_free(text);
    return st;
}

/* ---- loading */

/* Everything read from a checkpoint, checked, before any of it is applied. */
typedef struct loaded {
    const char *path; /* the manifest, for messages */
    cJSON *root;
    ig_st_file *f;
    char *tensors_path;
    float *params;
    char *state;
    ig_opt_hyper hyper;
    int64_t epoch, batches;
    uint64_t seed;
    ig_lbfgs_state lbfgs;
    const double **pairs;
    double *ro;
    struct ig_plateau plateau;
    struct ig_early_stopping early;
} loaded;

static void loaded_free(loaded *L)
{
    cJSON_Delete(L->root);
    ig_st_close(L->f);
    free(L->tensors_path);
    free(L->params);
    free(L->state);
    free(L->pairs);
    free(L->ro);
}

static bool shape_is(const cJSON *a, const int64_t *d, int ndim)
{
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != ndim) return false;
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, a) if (!cJSON_IsNumber(v) || v->valuedouble != (double)d[i++]) return false;
    return true;
}

/* A saved shape as "[a, b]" ("?" where it is not an array of numbers). */
static const char *json_shape_str(const cJSON *a, char *buf, size_t size)
{
    size_t len = (size_t)snprintf(buf, size, cJSON_IsArray(a) ? "[" : "?");
    const cJSON *v, *items = cJSON_IsArray(a) ? a : NULL;
    int i = 0;
    cJSON_ArrayForEach(v, items) {
        if (len >= size) break;
        len += (size_t)snprintf(buf + len, size - len, i++ ? ", %.0f" : "%.0f", cJSON_IsNumber(v) ? v->valuedouble : -1.0);
    }
    if (cJSON_IsArray(a) && len < size) snprintf(buf + len, size - len, "]");
    return buf;
}

static ig_status check_model(loaded *L, const ig_model *m)
{
    const cJSON *mo, *in, *ps;
    IG_TRY(ig_json_object(L->path, L->root, "model", &mo));
    IG_TRY(ig_json_array(L->path, mo, "input_shape", IG_MAX_DIMS, &in));
    IG_TRY(ig_json_array(L->path, mo, "parameters", MAX_PARAMS, &ps));
    IG_TRY(ig_json_u64(L->path, mo, "seed", &L->seed));
    IG_TRY(ig_json_int(L->path, mo, "batches_tracked", 0, INT64_MAX / 2, &L->batches));
    ig_shape want = m->g.vals[m->input].shape;
    const cJSON *first = cJSON_GetArrayItem(in, 0);
    if (cJSON_IsNumber(first) && first->valuedouble >= 1 && first->valuedouble <= 1e15)
        want.d[0] = (int64_t)first->valuedouble; /* the nominal batch may differ */
    char a[96], b[96];
    if (!shape_is(in, want.d, want.ndim))
        return ig_fail(IG_ERR_SHAPE, "%s: the checkpoint's model takes other inputs than this one (%s here)", L->path,
                       ig_shape_str(&m->g.vals[m->input].shape, a, sizeof a));
    if (cJSON_GetArraySize(ps) != m->n_params)
        return ig_fail(IG_ERR_SHAPE, "%s: the checkpoint's model has %d parameters and buffers, this one %d", L->path,
                       cJSON_GetArraySize(ps), m->n_params);
    int i = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, ps) {
        const ig_param *mp = &m->params[i];
        const ig_shape *s = &m->g.vals[mp->val].shape;
        const char *name;
        bool trainable;
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(p, "shape");
        IG_TRY(ig_json_string(L->path, p, "name", &name));
        IG_TRY(ig_json_bool(L->path, p, "trainable", &trainable));
        if (strcmp(name, mp->name) != 0 || trainable != mp->trainable || !shape_is(shape, s->d, s->ndim))
            return ig_fail(IG_ERR_SHAPE, "%s: the checkpoint's model differs from this one at parameter %d: '%.64s' %s%s "
                           "there, '%s' %s%s here", L->path, i, name, json_shape_str(shape, a, sizeof a),
                           trainable ? "" : " (a buffer)", mp->name, ig_shape_str(s, b, sizeof b),
                           mp->trainable ? "" : " (a buffer)");
        i++;
    }
    return IG_OK;
}

static ig_status check_state(loaded *L, ig_trainer *t)
{
    const cJSON *so, *cfg;
    IG_TRY(ig_json_object(L->path, L->root, "trainer", &cfg));
    IG_TRY(ig_config_compare(L->path, cfg, &t->cfg));
    IG_TRY(ig_json_object(L->path, L->root, "state", &so));
    int64_t step;
    double lr, mu, scale;
    IG_TRY(ig_json_int(L->path, so, "step", 0, INT64_MAX / 2, &step));
    IG_TRY(ig_json_int(L->path, so, "epoch", 0, INT64_MAX / 2, &L->epoch));
    IG_TRY(ig_json_float(L->path, so, "learning_rate", &lr));
    IG_TRY(ig_json_float(L->path, so, "mu_product", &mu));
    IG_TRY(ig_json_float(L->path, so, "grad_scale", &scale));
    if (!(lr > 0 && isfinite(lr) && (float)lr > 0) || !isfinite(mu) || !(scale >= 0 && scale <= 1))
        return ig_fail(IG_ERR_FORMAT, "%s: learning_rate %g, mu_product %g or grad_scale %g out of range", L->path, lr, mu,
                       scale);
    /* the configuration's block with the counters the steps advanced and the rate a
     * plateau may have lowered */
    L->hyper = ig_opt_hyper_from(&t->cfg);
    L->hyper.step = step;
    L->hyper.lr = (float)lr;
    L->hyper.mu_product = mu;
    L->hyper.sched.grad_scale = (float)scale;
    memcpy(L->state, &L->hyper, sizeof L->hyper);
    /* the data cursor is not saved: ig_train_epoch writes it at each epoch's start, from the
     * step counter and the epoch count, which are */
    return IG_OK;
}

/* The tensor `name` of the checkpoint's file, which must be dtype and ndim/shape. */
static ig_status need(const loaded *L, const char *name, ig_st_dtype dtype, int ndim, const int64_t *shape,
                      const ig_st_tensor **out)
{
    const ig_st_tensor *t = ig_st_get(L->f, name);
    ig_shape want = ig_shape_make(ndim, shape), got;
    char a[96], b[96];
    if (!t) return ig_fail(IG_ERR_FORMAT, "%s: tensor '%s' is missing", L->tensors_path, name);
    got = ig_shape_make(t->ndim, t->shape);
    if (t->dtype != dtype || !ig_shape_eq(&got, &want))
        return ig_fail(IG_ERR_FORMAT, "%s: tensor '%s' is %s %s, it must be %s %s", L->tensors_path, name,
                       ig_st_dtype_name(t->dtype), ig_shape_str(&got, a, sizeof a), ig_st_dtype_name(dtype),
                       ig_shape_str(&want, b, sizeof b));
    *out = t;
    return IG_OK;
}

/* The optimizer's moments, the weight-decay scales and the loss history into L->state. */
static ig_status read_state_tensors(loaded *L, const ig_trainer *t)
{
    const ig_model *m = t->m;
    const ig_st_tensor *ts;
    int n = trainable_count(m);
    IG_TRY(need(L, "trainer/loss_ring", IG_ST_F32, 1, (int64_t[]){IG_LOSS_RING}, &ts));
    memcpy(L->state + ig_trainer_ring_offset(), ts->data, ts->nbytes);
    const ig_st_tensor *scales;
    IG_TRY(need(L, "trainer/weight_decay_scale", IG_ST_F32, 1, (int64_t[]){n}, &scales));
    float *chunk = (float *)(L->state + decay_at(t));
    int j = 0;
    for (int i = 0; i < m->n_params; i++) {
        const ig_param *p = &m->params[i];
        if (!p->trainable) continue;
        const ig_val *v = &m->g.vals[p->val];
        for (int k = 0; k < ig_opt_moments(t->cfg.optimizer); k++) {
            char name[IG_ST_NAME_LEN];
            snprintf(name, sizeof name, "optimizer/%s/%s", p->name, moment_keys[t->cfg.optimizer][k]);
            IG_TRY(need(L, name, IG_ST_F32, v->shape.ndim, v->shape.d, &ts));
            memcpy(L->state + moment_at(t, k) + v->offset, ts->data, ts->nbytes);
        }
        float scale = ((const float *)scales->data)[j++];
        if (!(scale >= 0) || !isfinite(scale))
            return ig_fail(IG_ERR_FORMAT, "%s: the weight-decay scale of '%s' is %g", L->tensors_path, p->name, scale);
        size_t first = v->offset / sizeof(float) / IG_DECAY_CHUNK, count = ig_opt_decay_count(ig_val_bytes(v));
        for (size_t c = 0; c < count; c++) chunk[first + c] = scale;
    }
    return IG_OK;
}

static ig_status read_lbfgs(loaded *L, const ig_trainer *t)
{
    if (!t->lbfgs) return IG_OK;
    const cJSON *o;
    IG_TRY(ig_json_object(L->path, L->root, "lbfgs", &o));
    int64_t count;
    L->lbfgs = ig_lbfgs_get_state(t->lbfgs);
    IG_TRY(ig_json_int(L->path, o, "n_iter", 0, INT64_MAX / 2, &L->lbfgs.n_iter));
    IG_TRY(ig_json_int(L->path, o, "pairs", 0, t->cfg.lbfgs_history, &count));
    IG_TRY(ig_json_float(L->path, o, "t", &L->lbfgs.t));
    IG_TRY(ig_json_float(L->path, o, "h_diag", &L->lbfgs.h_diag));
    L->lbfgs.count = (int)count;
    int64_t n = (int64_t)L->lbfgs.n;
    const ig_st_tensor *ts;
    IG_TRY(need(L, "lbfgs/d", IG_ST_F64, 1, &n, &ts));
    L->lbfgs.d = ts->data;
    IG_TRY(need(L, "lbfgs/prev_g", IG_ST_F64, 1, &n, &ts));
    L->lbfgs.prev_g = ts->data;
    IG_TRY(need(L, "lbfgs/ro", IG_ST_F64, 1, &count, &ts));
    L->pairs = malloc((size_t)(count + 1) * sizeof *L->pairs);
    L->ro = malloc((size_t)(count + 1) * sizeof *L->ro);
    if (!L->pairs || !L->ro) return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory for L-BFGS's history");
    memcpy(L->ro, ts->data, ts->nbytes);
    for (int k = 0; k < count; k++) {
        char name[32];
        snprintf(name, sizeof name, "lbfgs/pair.%d", k);
        IG_TRY(need(L, name, IG_ST_F64, 2, (int64_t[]){2, n}, &ts));
        L->pairs[k] = ts->data;
    }
    return IG_OK;
}

static ig_status read_monitors(loaded *L, const ig_checkpoint_monitors *mon)
{
    const cJSON *o;
    double best;
    int64_t a, b;
    if (mon && mon->plateau) {
        if (!cJSON_GetObjectItemCaseSensitive(L->root, "plateau"))
            return ig_fail(IG_ERR_STATE, "%s: the checkpoint holds no reduce-on-plateau state", L->path);
        IG_TRY(ig_json_object(L->path, L->root, "plateau", &o));
        L->plateau = *mon->plateau;
        IG_TRY(ig_json_float(L->path, o, "best", &best));
        IG_TRY(ig_json_bool(L->path, o, "seen", &L->plateau.seen));
        IG_TRY(ig_json_int(L->path, o, "bad", 0, INT32_MAX, &a));
        IG_TRY(ig_json_int(L->path, o, "cooldown_left", 0, INT32_MAX, &b));
        L->plateau.best = (float)best;
        L->plateau.bad = (int)a;
        L->plateau.cooldown_left = (int)b;
    }
    if (mon && mon->early_stopping) {
        if (!cJSON_GetObjectItemCaseSensitive(L->root, "early_stopping"))
            return ig_fail(IG_ERR_STATE, "%s: the checkpoint holds no early-stopping state", L->path);
        IG_TRY(ig_json_object(L->path, L->root, "early_stopping", &o));
        L->early = *mon->early_stopping;
        IG_TRY(ig_json_float(L->path, o, "best", &best));
        IG_TRY(ig_json_bool(L->path, o, "seen", &L->early.seen));
        IG_TRY(ig_json_int(L->path, o, "wait", 0, INT32_MAX, &a));
        L->early.best = (float)best;
        L->early.wait = (int)a;
    }
    return IG_OK;
}

/* Opens the tensors file the manifest names (beside it) and checks its size and CRC-32. */
static ig_status open_tensors(loaded *L, const char *stem)
{
    const cJSON *o;
    const char *file;
    int64_t bytes, crc;
    IG_TRY(ig_json_object(L->path, L->root, "tensors", &o));
    IG_TRY(ig_json_string(L->path, o, "file", &file));
    IG_TRY(ig_json_int(L->path, o, "bytes", 0, INT64_MAX / 2, &bytes));
    IG_TRY(ig_json_int(L->path, o, "crc32", 0, UINT32_MAX, &crc));
    if (!*file || strchr(file, '/') || strcmp(file, ".") == 0 || strcmp(file, "..") == 0)
        return ig_fail(IG_ERR_FORMAT, "%s: the tensors file '%.64s' is not a file name in the manifest's directory",
                       L->path, file);
    if (!(L->tensors_path = beside(stem, file))) return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory");
    IG_TRY(ig_st_open(L->tensors_path, &L->f));
    if (ig_st_file_bytes(L->f) != (uint64_t)bytes || ig_st_file_crc(L->f) != (uint32_t)crc)
        return ig_fail(IG_ERR_FORMAT, "%s: %llu bytes with CRC-32 %08x, the manifest %s says %lld bytes with CRC-32 %08x "
                       "(a damaged or replaced file)", L->tensors_path, (unsigned long long)ig_st_file_bytes(L->f),
                       ig_st_file_crc(L->f), L->path, (long long)bytes, (uint32_t)crc);
    return IG_OK;
}

/* Reads and checks everything of the checkpoint `stem` against t; changes nothing. */
static ig_status read_checkpoint(loaded *L, ig_trainer *t, const char *stem, const ig_checkpoint_monitors *mon)
{
    const char *format;
    int64_t version;
    IG_TRY(ig_json_read_file(L->path, &L->root));
    IG_TRY(ig_json_string(L->path, L->root, "format", &format));
    if (strcmp(format, CKPT_FORMAT) != 0)
        return ig_fail(IG_ERR_FORMAT, "%s: not an ingot checkpoint (format '%.32s')", L->path, format);
    IG_TRY(ig_json_int(L->path, L->root, "version", 1, INT32_MAX, &version));
    if (version != CKPT_VERSION)
        return ig_fail(IG_ERR_UNSUPPORTED, "%s: checkpoint format version %lld; this ingot reads version %d", L->path,
                       (long long)version, CKPT_VERSION);
    IG_TRY(check_model(L, t->m));
    ig_backend *be = t->ctx->backend;
    if (!(L->state = malloc(t->state_bytes))) return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory");
    IG_TRY(be->download(be, L->state, t->state, t->state_bytes));
    IG_TRY(check_state(L, t));
    IG_TRY(read_monitors(L, mon));
    IG_TRY(open_tensors(L, stem));
    IG_TRY(ig_weights_download(t->m, &L->params));
    IG_TRY(ig_weights_read(t->m, L->f, L->tensors_path, NULL, own_prefixes, 3, L->params, &L->batches));
    IG_TRY(read_state_tensors(L, t));
    return read_lbfgs(L, t);
}

static ig_status apply(loaded *L, ig_trainer *t, const ig_checkpoint_monitors *mon)
{
    ig_model *m = t->m;
    ig_backend *be = t->ctx->backend;
    IG_TRY(be->upload(be, m->param_mem, L->params, m->params_bytes + m->buffers_bytes));
    IG_TRY(be->upload(be, t->state, L->state, t->state_bytes));
    if (t->lbfgs) IG_TRY(ig_lbfgs_set_state(t->lbfgs, &L->lbfgs, L->pairs, L->ro));
    t->hyper = L->hyper;
    t->epochs = L->epoch;
    t->ahead = NULL; /* a step of ig_train_epoch that follows gathers its batch afresh */
    m->bn_batches = L->batches;
    if (m->seed != L->seed) { /* dropout's programs hold the seed: build them again */
        m->seed = L->seed;
        ig_program_cache_clear(&t->step);
        ig_program_cache_clear(&t->step_ds);
    }
    if (mon && mon->plateau) *mon->plateau = L->plateau;
    if (mon && mon->early_stopping) *mon->early_stopping = L->early;
    return IG_OK;
}

static ig_status load_stem(ig_trainer *t, const char *stem, const ig_checkpoint_monitors *mon)
{
    loaded L = {0};
    char *manifest = with_suffix(stem, ".json");
    if (!manifest) return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory");
    L.path = manifest;
    ig_status st = read_checkpoint(&L, t, stem, mon);
    if (st == IG_OK) st = apply(&L, t, mon);
    loaded_free(&L);
    free(manifest);
    return st;
}

/* The stem of a checkpoint path given with or without ".json", malloc'd. */
static char *stem_of(const char *path)
{
    size_t n = strlen(path);
    return n > 5 && strcmp(path + n - 5, ".json") == 0 ? strndup(path, n - 5) : strdup(path);
}

ig_status ig_checkpoint_save(ig_trainer *t, const char *path, const ig_checkpoint_monitors *mon)
{
    if (!t || !path) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_checkpoint_save: NULL %s", t ? "path" : "trainer");
    char *stem = stem_of(path);
    ig_status st = stem ? ig_ckpt_save(t, stem, mon, NULL) : ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory");
    free(stem);
    return st == IG_OK ? IG_OK : ig_fail_prefix(st, "ig_checkpoint_save: ");
}

/* The newest checkpoint of dir that loads; only unreadable ones are passed over. */
static ig_status load_newest(ig_trainer *t, const char *dir, const ig_checkpoint_monitors *mon)
{
    ig_ckpt_info *list;
    int n;
    IG_TRY(ig_ckpt_scan(dir, &list, &n));
    ig_status st = n ? IG_OK : ig_fail(IG_ERR_IO, "%s: no checkpoint in the directory", dir);
    char first_error[512] = "";
    for (int i = n - 1; i >= 0; i--) {
        st = load_stem(t, list[i].stem, mon);
        if (st == IG_OK || (st != IG_ERR_IO && st != IG_ERR_FORMAT)) break;
        if (!first_error[0]) snprintf(first_error, sizeof first_error, "%s", ig_last_error());
    }
    if (st == IG_ERR_IO || st == IG_ERR_FORMAT)
        if (n) ig_fail(st, "no checkpoint of %s loads; the newest: %s", dir, first_error);
    ig_ckpt_list_free(list, n);
    return st;
}

ig_status ig_checkpoint_load(ig_trainer *t, const char *path, const ig_checkpoint_monitors *mon)
{
    if (!t || !path) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_checkpoint_load: NULL %s", t ? "path" : "trainer");
    struct stat sb;
    ig_status st;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        st = load_newest(t, path, mon);
    } else {
        char *stem = stem_of(path);
        st = stem ? load_stem(t, stem, mon) : ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory");
        free(stem);
    }
    return st == IG_OK ? IG_OK : ig_fail_prefix(st, "ig_checkpoint_load: ");
}

/* ---- the checkpoints of a directory */

static int info_cmp(const void *a, const void *b)
{
    const ig_ckpt_info *x = a, *y = b;
    if (x->step != y->step) return x->step < y->step ? -1 : 1;
    return (x->generation > y->generation) - (x->generation < y->generation);
}

/* What a listing needs from the manifest at `path`; false when it is no checkpoint. */
static bool read_info(const char *path, ig_ckpt_info *c)
{
    cJSON *root;
    const cJSON *so, *to;
    const char *format, *file;
    bool ok = ig_json_read_file(path, &root) == IG_OK && ig_json_string(path, root, "format", &format) == IG_OK &&
              strcmp(format, CKPT_FORMAT) == 0 && ig_json_object(path, root, "state", &so) == IG_OK &&
              ig_json_int(path, so, "step", 0, INT64_MAX / 2, &c->step) == IG_OK &&
              ig_json_int(path, root, "generation", 0, INT64_MAX / 2, &c->generation) == IG_OK &&
              ig_json_object(path, root, "tensors", &to) == IG_OK && ig_json_string(path, to, "file", &file) == IG_OK;
    c->metric = NAN;
    if (ok && cJSON_GetObjectItemCaseSensitive(root, "metric")) ok = ig_json_float(path, root, "metric", &c->metric) == IG_OK;
    if (ok) {
        c->stem = strndup(path, strlen(path) - 5);
        c->tensors = strdup(file);
        ok = c->stem && c->tensors;
    }
    cJSON_Delete(root);
    return ok;
}

ig_status ig_ckpt_scan(const char *dir, ig_ckpt_info **list, int *n)
{
    *list = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return ig_fail(IG_ERR_IO, "%s: cannot open the directory: %s", dir, strerror(errno));
    int cap = 0;
    ig_status st = IG_OK;
    struct dirent *e;
    while (st == IG_OK && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0 || ig_atomic_is_temp(e->d_name)) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            ig_ckpt_info *l = realloc(*list, (size_t)cap * sizeof *l);
            if (!l) {
                st = ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory");
                break;
            }
            *list = l;
        }
        size_t plen = strlen(dir) + len + 2;
        char *path = malloc(plen);
        if (!path) {
            st = ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory");
            break;
        }
        snprintf(path, plen, "%s/%s", dir, e->d_name);
        ig_ckpt_info c = {0};
        if (read_info(path, &c)) (*list)[(*n)++] = c;
        else free(c.stem), free(c.tensors);
        free(path);
    }
    closedir(d);
    if (st != IG_OK) {
        ig_ckpt_list_free(*list, *n);
        *list = NULL;
        *n = 0;
        return st;
    }
    if (*n > 1) qsort(*list, (size_t)*n, sizeof **list, info_cmp);
    return IG_OK;
}

void ig_ckpt_list_free(ig_ckpt_info *list, int n)
{
    for (int i = 0; i < n; i++) {
        free(list[i].stem);
        free(list[i].tensors);
    }
    free(list);
}

ig_status ig_ckpt_remove(const ig_ckpt_info *c)
{
    char *manifest = with_suffix(c->stem, ".json"), *tensors = beside(c->stem, c->tensors);
    ig_status st = manifest && tensors ? IG_OK : ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory");
    if (st == IG_OK && unlink(manifest) != 0 && errno != ENOENT)
        st = ig_fail(IG_ERR_IO, "%s: cannot remove: %s", manifest, strerror(errno));
    if (st == IG_OK) st = ig_fsync_dir_of(manifest); /* gone before its tensors go */
    if (st == IG_OK) unlink(tensors);
    free(manifest);
    free(tensors);
    return st;
}
