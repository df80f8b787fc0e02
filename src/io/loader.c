/* loader.c — batches of a dataset: seeded shuffling, batching, drop-last, normalisation and
 * augmentation, made in ig_loader_next or ahead of it by a prefetch thread. Both make the
 * same sequence with the same code (make_next); only who calls it differs. */
#include "io/dataset.h"
#include "io/prefetch.h"
#include "backend/backend.h"
#include "ops/augment.h"

#include <string.h>

#define MAX_PREFETCH 64

/* One batch (or the end of an epoch) as handed out. Its tensors are reused from batch to
 * batch unless the caller still holds one. */
typedef struct slot {
    ig_tensor *x[2], *y[2]; /* [0]: full batches, [1]: the smaller last one; made on first use */
    int which;              /* index into x and y; -1 for the end of an epoch */
} slot;

/* The loader reads the dataset at every batch, so the dataset must outlive it; ctx, size and
 * numel are kept so that destroying the loader never touches the dataset. */
struct ig_loader {
    ig_dataset *ds;
    ig_ctx *ctx;
    int64_t size, numel;
    ig_loader_options opt; /* mean and std point into `norm` */
    float *norm;           /* norm_channels means, then as many standard deviations */
    float *scratch;        /* one normalised sample on its way to the augmentation */
    int64_t planes, h, w;  /* the samples as the augmentation sees them */
    /* the sequence of batches, advanced only by whoever makes them */
    int64_t *order; /* this epoch's sample order */
    uint64_t epoch; /* epochs finished */
    int64_t pos;    /* next position in order; -1 before the epoch starts */
    int64_t made;   /* batches made so far: the augmentation's step */
    slot *slots;    /* prefetch + 1 of them (the caller holds one), or 1 */
    int n_slots;
    ig_prefetch *pf; /* NULL without prefetch */
};

ig_augment ig_augment_defaults(void) { return (ig_augment){0}; }

ig_loader_options ig_loader_defaults(void)
{
    return (ig_loader_options){.batch_size = 128, .shuffle = true, .prefetch = 2};
}

static bool augments(const ig_augment *a) { return a->crop_padding > 0 || a->flip_probability > 0; }

ig_status ig_augment_check(const ig_augment *a, const ig_dataset *ds, const char *fn)
{
    if (!(a->flip_probability >= 0 && a->flip_probability <= 1))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: augment.flip_probability %g must be in [0, 1]", fn,
                       (double)a->flip_probability);
    if (a->crop_padding < 0)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: augment.crop_padding %lld must be >= 0", fn,
                       (long long)a->crop_padding);
    if (!augments(a)) return IG_OK;
    if (ds->sample_ndim < 2)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: crop and flip take images [..., height, width]; these samples have "
                       "one dimension (%lld values)", fn, (long long)ds->sample_numel);
    int64_t h = ds->sample_shape[ds->sample_ndim - 2], w = ds->sample_shape[ds->sample_ndim - 1];
    if (a->crop_padding > h || a->crop_padding > w)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: augment.crop_padding %lld exceeds the samples' height %lld or width "
                       "%lld", fn, (long long)a->crop_padding, (long long)h, (long long)w);
    return IG_OK;
}

static ig_status check_options(const ig_dataset *ds, const ig_loader_options *o, const char *fn)
{
    if (o->batch_size < 1)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: batch_size is %lld (must be >= 1)", fn, (long long)o->batch_size);
    if (o->prefetch < 0 || o->prefetch > MAX_PREFETCH)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: prefetch is %d (must be in 0..%d)", fn, o->prefetch, MAX_PREFETCH);
    if (ds->sample_ndim + 1 > IG_MAX_DIMS)
        return ig_fail(IG_ERR_SHAPE, "%s: samples of %d dimensions leave no room for the batch dimension", fn,
                       ds->sample_ndim);
    if (o->norm_channels != 0) IG_TRY(ig_normalize_check(ds, o->norm_channels, o->mean, o->std, fn));
    return ig_augment_check(&o->augment, ds, fn);
}

void ig_loader_destroy(ig_loader *ld)
{
    if (!ld) return;
    ig_prefetch_stop(ld->pf); /* first: the thread writes into the slots */
    for (int i = 0; ld->slots && i < ld->n_slots; i++)
        for (int k = 0; k < 2; k++) {
            ig_tensor_release(ld->slots[i].x[k]);
            ig_tensor_release(ld->slots[i].y[k]);
        }
    ig_host_free(ld->ctx, ld->slots, (size_t)ld->n_slots * sizeof *ld->slots);
    ig_host_free(ld->ctx, ld->order, (size_t)ld->size * sizeof *ld->order);
    ig_host_free(ld->ctx, ld->norm, 2 * (size_t)ld->opt.norm_channels * sizeof *ld->norm);
    ig_host_free(ld->ctx, ld->scratch, (size_t)ld->numel * sizeof *ld->scratch);
    ig_host_free(ld->ctx, ld, sizeof *ld);
}

static ig_status fill_slot(void *arg, int i);

static ig_status create(ig_dataset *ds, const ig_loader_options *opt, const char *fn, ig_loader **out)
{
    if (out) *out = NULL;
    if (!ds || !opt || !out)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, !ds ? "ds" : !opt ? "opt" : "out");
    IG_TRY(check_options(ds, opt, fn));
    ig_loader *ld = ig_host_alloc(ds->ctx, sizeof *ld);
    if (!ld) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of host memory", fn);
    *ld = (ig_loader){.ds = ds, .ctx = ds->ctx, .size = ds->size, .numel = ds->sample_numel, .opt = *opt, .pos = -1,
                      .n_slots = opt->prefetch ? opt->prefetch + 1 : 1};
    ig_augment_planes(ds->sample_ndim, ds->sample_shape, &ld->planes, &ld->h, &ld->w);
    int64_t nc = opt->norm_channels;
    ld->order = ig_host_alloc(ds->ctx, (size_t)ds->size * sizeof *ld->order);
    ld->slots = ig_host_alloc(ds->ctx, (size_t)ld->n_slots * sizeof *ld->slots);
    if (ld->slots) memset(ld->slots, 0, (size_t)ld->n_slots * sizeof *ld->slots);
    ld->norm = ig_host_alloc(ds->ctx, 2 * (size_t)nc * sizeof *ld->norm);
    ld->scratch = ig_host_alloc(ds->ctx, (size_t)ld->numel * sizeof *ld->scratch);
    ig_status st = ld->order && ld->slots && ld->norm && ld->scratch
                       ? IG_OK
                       : ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of host memory", fn);
    if (st == IG_OK) {
        if (nc) {
            memcpy(ld->norm, opt->mean, (size_t)nc * sizeof *ld->norm);
            memcpy(ld->norm + nc, opt->std, (size_t)nc * sizeof *ld->norm);
        }
        ld->opt.mean = ld->norm;
        ld->opt.std = ld->norm + nc;
        if (opt->prefetch) st = ig_prefetch_start(ds->ctx, ld->n_slots, fill_slot, ld, &ld->pf);
    }
    if (st != IG_OK) {
        ig_loader_destroy(ld);
        return st;
    }
    *out = ld;
    return IG_OK;
}

ig_status ig_loader_create_with(ig_dataset *ds, const ig_loader_options *opt, ig_loader **out)
{
    return create(ds, opt, "ig_loader_create_with", out);
}

ig_status ig_loader_create(ig_dataset *ds, int64_t batch_size, bool shuffle, uint64_t seed, bool drop_last,
                           ig_loader **out)
{
    ig_loader_options opt = ig_loader_defaults();
    opt.batch_size = batch_size;
    opt.shuffle = shuffle;
    opt.seed = seed;
    opt.drop_last = drop_last;
    opt.prefetch = 0;
    return create(ds, &opt, "ig_loader_create", out);
}

int64_t ig_loader_num_batches(const ig_loader *ld)
{
    if (!ld) return 0;
    int64_t n = ld->size, b = ld->opt.batch_size;
    return ld->opt.drop_last ? n / b : n / b + (n % b != 0);
}

/* Identity order, or a Fisher–Yates shuffle whose draws are a pure function of (seed, epoch),
 * so every epoch differs and a seed replays the same sequence of epochs. */
static void start_epoch(ig_loader *ld)
{
    int64_t n = ld->size;
    for (int64_t i = 0; i < n; i++) ld->order[i] = i;
    if (ld->opt.shuffle) {
        uint64_t base = ld->epoch * (uint64_t)n; /* each epoch takes the next n counters */
        for (int64_t i = n - 1; i > 0; i--) {
            /* modulo bias is at most n / 2^64: negligible */
            int64_t j = (int64_t)(ig_rng_u64(ld->opt.seed, base + (uint64_t)i) % (uint64_t)(i + 1));
            int64_t t = ld->order[i];
            ld->order[i] = ld->order[j];
            ld->order[j] = t;
        }
    }
    ld->pos = 0;
}

/* The slot's tensor in *t, reused unless the caller still holds a reference to it. With a
 * prefetch thread, batches are page-locked where the backend has such memory, and a reused
 * one may still be read by the copy of the step it fed. */
static ig_status batch_tensor(ig_loader *ld, ig_tensor **t, ig_dtype dtype, const int64_t *shape, int ndim)
{
    ig_backend *be = ld->ctx->backend;
    if (*t && __atomic_load_n(&(*t)->refs, __ATOMIC_ACQUIRE) == 1)
        return (*t)->pinned ? be->pinned_wait(be, (*t)->data) : IG_OK;
    ig_tensor_release(*t);
    *t = NULL;
    return ld->opt.prefetch ? ig_tensor_create_pinned(ld->ctx, dtype, shape, ndim, t)
                            : ig_tensor_create(ld->ctx, dtype, shape, ndim, t);
}

/* Samples idx[0..b) into x and their targets into y: each normalised, then augmented with
 * the draws of batch `step`. */
static void fill_batch(ig_loader *ld, const int64_t *idx, int64_t b, int64_t step, float *x, void *y)
{
    const ig_dataset *ds = ld->ds;
    const ig_loader_options *o = &ld->opt;
    int64_t numel = ld->numel, td = ds->target_dim;
    bool aug = augments(&o->augment);
    for (int64_t k = 0; k < b; k++) {
        const float *src = ds->x + idx[k] * numel;
        float *dst = x + k * numel;
        if (o->norm_channels) {
            float *to = aug ? ld->scratch : dst;
            ig_normalize_sample(src, to, numel, o->norm_channels, o->mean, o->std);
            src = to;
        }
        if (aug) {
            ig_augment_draw d = ig_augment_draw_of(o->augment.seed, step, k, o->augment.crop_padding,
                                                   o->augment.flip_probability);
            ig_augment_sample(src, dst, ld->planes, ld->h, ld->w, &d);
        } else if (src != dst) {
            memcpy(dst, src, (size_t)numel * sizeof *dst);
        }
        if (td)
            memcpy((float *)y + k * td, ds->targets + idx[k] * td, (size_t)td * sizeof(float));
        else
            ((int32_t *)y)[k] = ds->y[idx[k]];
    }
}

/* The next batch of the sequence (or the end of the epoch) into s. */
static ig_status make_next(ig_loader *ld, slot *s)
{
    const ig_dataset *ds = ld->ds;
    if (ld->pos < 0) start_epoch(ld);
    int64_t left = ld->size - ld->pos, full = ld->opt.batch_size;
    int64_t b = left < full ? left : full;
    if (b == 0 || (ld->opt.drop_last && b < full)) {
        ld->epoch++;
        ld->pos = -1;
        s->which = -1;
        return IG_OK;
    }
    int which = b != full;
    int64_t shape[IG_MAX_DIMS] = {b};
    memcpy(shape + 1, ds->sample_shape, (size_t)ds->sample_ndim * sizeof *shape);
    IG_TRY(batch_tensor(ld, &s->x[which], IG_F32, shape, ds->sample_ndim + 1));
    if (ds->target_dim)
        IG_TRY(batch_tensor(ld, &s->y[which], IG_F32, (int64_t[]){b, ds->target_dim}, 2));
    else
        IG_TRY(batch_tensor(ld, &s->y[which], IG_I32, shape, 1));
    fill_batch(ld, ld->order + ld->pos, b, ld->made, s->x[which]->data, s->y[which]->data);
    ld->pos += b;
    ld->made++;
    s->which = which;
    return IG_OK;
}

/* The prefetch thread's side. */
static ig_status fill_slot(void *arg, int i)
{
    ig_loader *ld = arg;
    return make_next(ld, &ld->slots[i]);
}

ig_status ig_loader_next(ig_loader *ld, ig_tensor **x, ig_tensor **y)
{
    if (x) *x = NULL;
    if (y) *y = NULL;
    if (!ld || !x || !y)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_loader_next: NULL %s", !ld ? "ld" : !x ? "x" : "y");
    int i = 0;
    if (ld->pf) IG_TRY(ig_prefetch_take(ld->pf, &i));
    else IG_TRY(make_next(ld, &ld->slots[0]));
    const slot *s = &ld->slots[i];
    if (s->which >= 0) {
        *x = s->x[s->which];
        *y = s->y[s->which];
    }
    return IG_OK;
}
