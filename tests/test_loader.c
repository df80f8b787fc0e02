/* test_loader.c — the loader's options: prefetching must give exactly the batches made
 * without it; crops and flips must move pixels as torchvision's RandomCrop(padding) and
 * RandomHorizontalFlip do, reproducibly from the seed and the batch count, and the same in
 * the host loader as in the step's gather over a resident dataset; normalisation per
 * channel; destroying a loader mid-epoch; bad options. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include "io/prefetch.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

enum { C = 2, H = 6, W = 5, NUMEL = C * H * W, CLASSES = 3 };

/* Pixel (c, y, x) of sample `id`: distinct, non-zero and exact in f32. */
static float pixel(int64_t id, int64_t c, int64_t y, int64_t x) { return (float)(id * 1000 + c * 100 + y * 10 + x + 1); }

/* n images [C, H, W] with class labels id % CLASSES, or (targets > 0) f32 targets [n, targets]. */
static ig_dataset *images(ig_ctx *ctx, int64_t n, int64_t targets)
{
    ig_tensor *x, *y;
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){n, C, H, W}, 4, &x));
    float *xd = ig_tensor_data(x);
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t r = 0; r < H; r++)
                for (int64_t q = 0; q < W; q++) xd[((i * C + c) * H + r) * W + q] = pixel(i, c, r, q);
    if (targets) {
        OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){n, targets}, 2, &y));
        float *yd = ig_tensor_data(y);
        for (int64_t i = 0; i < n * targets; i++) yd[i] = 0.5f * (float)i;
    } else {
        OK(ig_tensor_create(ctx, IG_I32, (int64_t[]){n}, 1, &y));
        int32_t *yd = ig_tensor_data(y);
        for (int64_t i = 0; i < n; i++) yd[i] = (int32_t)(i % CLASSES);
    }
    ig_dataset *ds;
    OK(ig_dataset_create(ctx, x, y, &ds));
    ig_tensor_release(x);
    ig_tensor_release(y);
    return ds;
}

/* ---------------------------------------------------------------- prefetch */

/* Two loaders over ds, one without and one with a prefetch thread, must give the same
 * batches (values, shapes, epoch ends) for `epochs` epochs. */
static void assert_same_batches(ig_dataset *ds, ig_loader_options opt, int epochs)
{
    ig_loader *a, *b;
    opt.prefetch = 0;
    OK(ig_loader_create_with(ds, &opt, &a));
    opt.prefetch = opt.batch_size % 3 + 1; /* 1, 2 or 3 */
    OK(ig_loader_create_with(ds, &opt, &b));
    int ends = 0, batches = 0;
    while (ends < epochs) {
        ig_tensor *xa, *ya, *xb, *yb;
        OK(ig_loader_next(a, &xa, &ya));
        OK(ig_loader_next(b, &xb, &yb));
        if (!xa) {
            assert_null(xb);
            assert_null(yb);
            ends++;
            continue;
        }
        assert_non_null(xb);
        batches++;
        assert_int_equal(ig_tensor_ndim(xa), ig_tensor_ndim(xb));
        for (int d = 0; d < ig_tensor_ndim(xa); d++) assert_int_equal(ig_tensor_dim(xa, d), ig_tensor_dim(xb, d));
        assert_int_equal(ig_tensor_dtype(ya), ig_tensor_dtype(yb));
        assert_int_equal(ig_tensor_nbytes(ya), ig_tensor_nbytes(yb));
        assert_memory_equal(ig_tensor_data(xa), ig_tensor_data(xb), ig_tensor_nbytes(xa));
        assert_memory_equal(ig_tensor_data(ya), ig_tensor_data(yb), ig_tensor_nbytes(ya));
    }
    assert_int_equal(batches, epochs * ig_loader_num_batches(a));
    ig_loader_destroy(a);
    ig_loader_destroy(b);
}

static void test_prefetch_equals_synchronous(void **state)
{
    fixture *f = *state;
    ig_dataset *labels = images(f->ctx, 23, 0), *targets = images(f->ctx, 23, 2);
    const float mean[C] = {100.0f, 200.0f}, std[C] = {4.0f, 8.0f};
    for (int k = 0; k < 16; k++) {
        ig_loader_options opt = ig_loader_defaults();
        opt.batch_size = (int64_t[]){5, 4, 23, 30}[k % 4];
        opt.shuffle = k & 1;
        opt.drop_last = k & 2;
        opt.seed = (uint64_t)k;
        if (k & 4) {
            opt.norm_channels = C;
            opt.mean = mean;
            opt.std = std;
        }
        if (k & 8) opt.augment = (ig_augment){.crop_padding = 2, .flip_probability = 0.5f, .seed = 7};
        assert_same_batches(labels, opt, 3);
        assert_same_batches(targets, opt, 3);
    }
    ig_dataset_destroy(labels);
    ig_dataset_destroy(targets);
}

/* A regression dataset keeps its float targets, paired with their samples. */
static void test_prefetch_regression_targets(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = images(f->ctx, 10, 3);
    ig_loader_options opt = ig_loader_defaults();
    opt.batch_size = 4;
    opt.seed = 3;
    ig_loader *ld;
    OK(ig_loader_create_with(ds, &opt, &ld));
    int64_t seen = 0;
    for (ig_tensor *x, *y;;) {
        OK(ig_loader_next(ld, &x, &y));
        if (!x) break;
        int64_t b = ig_tensor_dim(x, 0);
        assert_int_equal(ig_tensor_dtype(y), IG_F32);
        assert_int_equal(ig_tensor_dim(y, 0), b);
        assert_int_equal(ig_tensor_dim(y, 1), 3);
        const float *xd = ig_tensor_data(x), *yd = ig_tensor_data(y);
        for (int64_t j = 0; j < b; j++) {
            int64_t id = (int64_t)xd[j * NUMEL] / 1000;
            for (int t = 0; t < 3; t++) assert_true(yd[j * 3 + t] == 0.5f * (float)(id * 3 + t));
        }
        seen += b;
    }
    assert_int_equal(seen, 10);
    ig_loader_destroy(ld);
    ig_dataset_destroy(ds);
}

/* Destroying a loader whose thread is ahead of the caller, or has just started, stops it
 * cleanly; a batch the caller retained outlives the loader. The fixture checks that all
 * host memory came back. */
static void test_destroy_mid_epoch(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = images(f->ctx, 40, 0);
    ig_loader_options opt = ig_loader_defaults();
    opt.batch_size = 3;
    opt.prefetch = 4;
    opt.augment.flip_probability = 0.5f;
    for (int taken = 0; taken < 4; taken++) {
        ig_loader *ld;
        OK(ig_loader_create_with(ds, &opt, &ld));
        for (int i = 0; i < taken; i++) {
            ig_tensor *x, *y;
            OK(ig_loader_next(ld, &x, &y));
            assert_non_null(x);
        }
        ig_loader_destroy(ld);
    }
    ig_loader *ld;
    OK(ig_loader_create_with(ds, &opt, &ld));
    ig_tensor *x, *y, *x2, *y2;
    OK(ig_loader_next(ld, &x, &y));
    ig_tensor_retain(x);
    float kept[3 * NUMEL];
    memcpy(kept, ig_tensor_data(x), sizeof kept);
    for (int i = 0; i < 10; i++) { /* past the 5 slots: x's comes round again, with a new tensor */
        OK(ig_loader_next(ld, &x2, &y2));
        assert_ptr_not_equal(x2, x);
    }
    assert_memory_equal(kept, ig_tensor_data(x), sizeof kept);
    ig_loader_destroy(ld);
    assert_memory_equal(kept, ig_tensor_data(x), sizeof kept);
    ig_tensor_release(x);
    ig_dataset_destroy(ds);
}

/* The thread's ring on its own: items come in order; a failed fill comes out, with the
 * thread's message, in its turn and at every later take; stopping waits for a fill under
 * way. */
typedef struct items {
    int64_t made, fail_at, value[4];
    useconds_t delay;
} items;

static ig_status fill_item(void *arg, int slot)
{
    items *it = arg;
    if (it->delay) usleep(it->delay);
    if (it->made == it->fail_at) return ig_fail(IG_ERR_OUT_OF_MEMORY, "item %lld could not be made", (long long)it->made);
    it->value[slot] = it->made++;
    return IG_OK;
}

static void test_prefetch_thread(void **state)
{
    fixture *f = *state;
    items it = {.fail_at = 5};
    ig_prefetch *pf;
    OK(ig_prefetch_start(f->ctx, 3, fill_item, &it, &pf));
    for (int64_t k = 0; k < 5; k++) {
        int slot = -1;
        OK(ig_prefetch_take(pf, &slot));
        assert_int_equal(it.value[slot], k);
    }
    for (int again = 0; again < 2; again++) {
        int slot;
        assert_int_equal(ig_prefetch_take(pf, &slot), IG_ERR_OUT_OF_MEMORY);
        assert_string_equal(ig_last_error(), "item 5 could not be made");
    }
    ig_prefetch_stop(pf);

    it = (items){.fail_at = -1, .delay = 20000};
    OK(ig_prefetch_start(f->ctx, 2, fill_item, &it, &pf));
    int slot;
    OK(ig_prefetch_take(pf, &slot));
    ig_prefetch_stop(pf); /* the thread is filling the next item, or waiting for a free slot */
    assert_true(it.made >= 1 && it.made <= 2);
}

/* ---------------------------------------------------------------- augmentation */

typedef struct placement {
    int dy, dx, flip;
} placement;

static bool same_placement(placement a, placement b) { return a.dy == b.dy && a.dx == b.dx && a.flip == b.flip; }

/* How `out` (one sample) was made from sample `id`: the offsets and flip under which it
 * equals torchvision's crop of the zero-padded image, then flip; fails unless exactly one
 * placement fits. */
static placement placement_of(const float *out, int64_t id, int pad)
{
    placement found = {0};
    int matches = 0;
    for (int flip = 0; flip < 2; flip++)
        for (int dy = -pad; dy <= pad; dy++)
            for (int dx = -pad; dx <= pad; dx++) {
                bool fits = true;
                for (int64_t c = 0; c < C && fits; c++)
                    for (int64_t y = 0; y < H && fits; y++)
                        for (int64_t x = 0; x < W && fits; x++) {
                            int64_t sy = y + dy, sx = (flip ? W - 1 - x : x) + dx;
                            float want = sy >= 0 && sy < H && sx >= 0 && sx < W ? pixel(id, c, sy, sx) : 0.0f;
                            fits = out[(c * H + y) * W + x] == want;
                        }
                if (fits) {
                    found = (placement){dy, dx, flip};
                    matches++;
                }
            }
    if (matches != 1) fail_msg("sample %lld: %d placements fit", (long long)id, matches);
    return found;
}

/* The placements of `epochs` epochs of an unshuffled loader over ds (batch 4). */
static int placements(ig_dataset *ds, ig_augment aug, int epochs, int prefetch, uint64_t shuffle_seed, placement *out)
{
    ig_loader_options opt = ig_loader_defaults();
    opt.batch_size = 4;
    opt.shuffle = shuffle_seed != 0;
    opt.seed = shuffle_seed;
    opt.prefetch = prefetch;
    opt.augment = aug;
    ig_loader *ld;
    OK(ig_loader_create_with(ds, &opt, &ld));
    int n = 0;
    for (int e = 0; e < epochs;) {
        ig_tensor *x, *y;
        OK(ig_loader_next(ld, &x, &y));
        if (!x) {
            e++;
            continue;
        }
        const float *xd = ig_tensor_data(x);
        for (int64_t j = 0; j < ig_tensor_dim(x, 0); j++) {
            int64_t id = -1; /* any pixel but padding names its sample */
            for (int64_t i = 0; i < NUMEL && id < 0; i++)
                if (xd[j * NUMEL + i] != 0.0f) id = (int64_t)xd[j * NUMEL + i] / 1000;
            assert_true(id >= 0);
            assert_int_equal(((const int32_t *)ig_tensor_data(y))[j], id % CLASSES);
            out[n++] = placement_of(xd + j * NUMEL, id, (int)aug.crop_padding);
        }
    }
    ig_loader_destroy(ld);
    return n;
}

/* Crops with padding 2: every sample is its image shifted by some (dy, dx) in [−2, 2]², the
 * uncovered border zero; all 25 offsets occur; nothing is flipped. */
static void test_crop_moves_pixels(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = images(f->ctx, 60, 0);
    placement p[240];
    assert_int_equal(placements(ds, (ig_augment){.crop_padding = 2, .seed = 1}, 4, 2, 0, p), 240);
    int seen[5][5] = {{0}}, moved = 0;
    for (int i = 0; i < 240; i++) {
        assert_false(p[i].flip);
        seen[p[i].dy + 2][p[i].dx + 2]++;
        moved += p[i].dy != 0 || p[i].dx != 0;
    }
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++) assert_true(seen[a][b] > 0);
    assert_true(moved > 200);
    ig_dataset_destroy(ds);
}

/* Flips: probability 1 mirrors every sample, 0.5 about half of them, and none is moved. */
static void test_flip_mirrors(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = images(f->ctx, 60, 0);
    placement p[240];
    assert_int_equal(placements(ds, (ig_augment){.flip_probability = 1.0f, .seed = 2}, 1, 0, 0, p), 60);
    for (int i = 0; i < 60; i++) assert_true(p[i].flip && p[i].dy == 0 && p[i].dx == 0);
    assert_int_equal(placements(ds, (ig_augment){.flip_probability = 0.5f, .seed = 2}, 4, 1, 0, p), 240);
    int flipped = 0;
    for (int i = 0; i < 240; i++) flipped += p[i].flip;
    assert_in_range(flipped, 84, 156); /* 120 ± 4.6 standard deviations */
    /* both: the crop, then the flip of the cropped image */
    assert_int_equal(placements(ds, (ig_augment){.crop_padding = 1, .flip_probability = 1.0f, .seed = 3}, 1, 2, 0, p),
                     60);
    int moved = 0;
    for (int i = 0; i < 60; i++) moved += p[i].flip && (p[i].dy || p[i].dx);
    assert_true(moved > 30);
    ig_dataset_destroy(ds);
}

/* The draws of sample j of the loader's k-th batch are a function of (seed, k, j): the same
 * whatever the shuffle, with or without prefetch; another seed draws others. */
static void test_augment_reproducible(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = images(f->ctx, 24, 0);
    ig_augment aug = {.crop_padding = 2, .flip_probability = 0.5f, .seed = 11};
    placement a[72], b[72], c[72];
    assert_int_equal(placements(ds, aug, 3, 0, 0, a), 72);
    assert_int_equal(placements(ds, aug, 3, 3, 99, b), 72); /* shuffled: other samples, same draws */
    for (int i = 0; i < 72; i++) assert_true(same_placement(a[i], b[i]));
    aug.seed = 12;
    assert_int_equal(placements(ds, aug, 3, 0, 0, c), 72);
    int differ = 0;
    for (int i = 0; i < 72; i++) differ += !same_placement(a[i], c[i]);
    assert_true(differ > 36);
    ig_dataset_destroy(ds);
}

/* ---------------------------------------------------------------- normalisation */

/* Per-channel normalisation of the batches equals normalising the dataset in place, and the
 * crop's padding is 0 in the normalised values. */
static void test_normalize_per_channel(void **state)
{
    fixture *f = *state;
    const float mean[C] = {500.0f, -3.0f}, std[C] = {250.0f, 0.5f};
    ig_dataset *raw = images(f->ctx, 12, 0), *normed = images(f->ctx, 12, 0);
    OK(ig_dataset_normalize_channels(normed, C, mean, std));
    ig_tensor *all;
    OK(ig_dataset_tensors(normed, &all, NULL));
    const float *ad = ig_tensor_data(all);
    for (int64_t i = 0; i < 12; i++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t k = 0; k < H * W; k++)
                assert_true(ad[(i * C + c) * H * W + k] == (pixel(i, c, k / W, k % W) - mean[c]) / std[c]);
    ig_tensor_release(all);
    for (int aug = 0; aug < 2; aug++) {
        ig_loader_options opt = ig_loader_defaults();
        opt.batch_size = 5;
        opt.seed = 4;
        if (aug) opt.augment = (ig_augment){.crop_padding = 2, .flip_probability = 0.5f, .seed = 5};
        ig_loader *on_raw, *on_normed;
        OK(ig_loader_create_with(normed, &opt, &on_normed));
        opt.norm_channels = C;
        opt.mean = mean;
        opt.std = std;
        OK(ig_loader_create_with(raw, &opt, &on_raw));
        for (int i = 0; i < 8; i++) {
            ig_tensor *xa, *ya, *xb, *yb;
            OK(ig_loader_next(on_raw, &xa, &ya));
            OK(ig_loader_next(on_normed, &xb, &yb));
            assert_true((xa == NULL) == (xb == NULL));
            if (xa) assert_memory_equal(ig_tensor_data(xa), ig_tensor_data(xb), ig_tensor_nbytes(xa));
        }
        ig_loader_destroy(on_raw);
        ig_loader_destroy(on_normed);
    }
    /* one mean and std for every value */
    OK(ig_dataset_normalize_channels(raw, 1, (float[]){1.0f}, (float[]){2.0f}));
    OK(ig_dataset_tensors(raw, &all, NULL));
    assert_true(((const float *)ig_tensor_data(all))[NUMEL + 7] == (pixel(1, 0, 1, 2) - 1.0f) / 2.0f);
    ig_tensor_release(all);
    ig_dataset_destroy(raw);
    ig_dataset_destroy(normed);
}

/* ---------------------------------------------------------------- resident datasets */

static ig_trainer *small_model(ig_ctx *ctx, ig_model **m)
{
    OK(ig_model_create(ctx, (int64_t[]){8, C, H, W}, 4, m));
    ig_value v = ig_flatten(*m, ig_model_input(*m), "flat");
    v = ig_relu(*m, ig_dense(*m, v, 16, true, "fc1"), "relu");
    ig_dense(*m, v, CLASSES, true, "fc2");
    OK(ig_model_status(*m));
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.learning_rate = 1e-3f;
    ig_trainer *t;
    OK(ig_trainer_create(*m, &cfg, &t));
    return t;
}

/* The step's gather augments a resident dataset exactly as the loader does: epochs of
 * ig_train_epoch train bit for bit as the same augmentation's loader batches through
 * ig_train_batch (in order, so both see the same samples at the same steps). Evaluation
 * after them sees the samples as they are. */
static void test_resident_augment_equals_loader(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = images(f->ctx, 30, 0);
    const float mean[1] = {3000.0f}, std[1] = {2000.0f};
    OK(ig_dataset_normalize_channels(ds, 1, mean, std)); /* keeps the model's inputs small */
    ig_augment aug = {.crop_padding = 2, .flip_probability = 0.5f, .seed = 21};
    ig_model *ma, *mb;
    ig_trainer *ta = small_model(f->ctx, &ma), *tb = small_model(f->ctx, &mb);
    ig_epoch_config ep = ig_epoch_defaults();
    ep.batch_size = 8;
    ep.shuffle = false;
    ep.augment = aug;
    ig_loader_options opt = ig_loader_defaults();
    opt.batch_size = 8;
    opt.shuffle = false;
    opt.augment = aug;
    ig_loader *ld;
    OK(ig_loader_create_with(ds, &opt, &ld));
    float loss_b[12];
    int steps = 0;
    for (int e = 0; e < 3; e++) {
        int64_t n;
        OK(ig_train_epoch(ta, ds, &ep, &n));
        assert_int_equal(n, 4); /* 8, 8, 8 and the last 6 */
        for (ig_tensor *x, *y;;) {
            OK(ig_loader_next(ld, &x, &y));
            if (!x) break;
            OK(ig_train_batch(tb, x, y, &loss_b[steps++]));
        }
    }
    assert_int_equal(steps, 12);
    float loss_a[12];
    OK(ig_trainer_losses(ta, 0, 12, loss_a));
    assert_memory_equal(loss_a, loss_b, sizeof loss_a);
    ig_eval_result whole, batch;
    OK(ig_evaluate(ta, ds, 30, &whole));
    ig_tensor *x, *y;
    OK(ig_dataset_tensors(ds, &x, &y));
    OK(ig_eval_batch(ta, x, y, &batch));
    assert_int_equal(whole.correct, batch.correct);
    assert_float_equal(whole.loss, batch.loss, 1e-6 * fabsf(batch.loss));
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_loader_destroy(ld);
    ig_trainer_destroy(ta);
    ig_trainer_destroy(tb);
    ig_model_destroy(ma);
    ig_model_destroy(mb);
    ig_dataset_destroy(ds);
}

/* ---------------------------------------------------------------- errors */

static void expect_error(ig_dataset *ds, const ig_loader_options *opt, ig_status want, const char *words)
{
    ig_loader *ld = (ig_loader *)&ld;
    assert_int_equal(ig_loader_create_with(ds, opt, &ld), want);
    assert_null(ld);
    if (!strstr(ig_last_error(), words)) fail_msg("\"%s\" lacks \"%s\"", ig_last_error(), words);
}

static void test_bad_options(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = images(f->ctx, 10, 0);
    const float mean[2] = {0.0f, 0.0f}, std[2] = {1.0f, 1.0f}, zero[2] = {1.0f, 0.0f}, inf[2] = {INFINITY, 0.0f};
    ig_loader_options o = ig_loader_defaults();
    ig_loader *ld;
    assert_int_equal(ig_loader_create_with(NULL, &o, &ld), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_loader_create_with(ds, NULL, &ld), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_loader_create_with(ds, &o, NULL), IG_ERR_INVALID_ARGUMENT);
    o.batch_size = 0;
    expect_error(ds, &o, IG_ERR_INVALID_ARGUMENT, "batch_size is 0");
    o = ig_loader_defaults();
    o.prefetch = -1;
    expect_error(ds, &o, IG_ERR_INVALID_ARGUMENT, "prefetch is -1");
    o.prefetch = 65;
    expect_error(ds, &o, IG_ERR_INVALID_ARGUMENT, "prefetch is 65");
    o = ig_loader_defaults();
    o.norm_channels = 3;
    o.mean = mean;
    o.std = std;
    expect_error(ds, &o, IG_ERR_INVALID_ARGUMENT, "3 channels");
    o.norm_channels = 2;
    o.std = NULL;
    expect_error(ds, &o, IG_ERR_INVALID_ARGUMENT, "NULL std");
    o.std = zero;
    expect_error(ds, &o, IG_ERR_INVALID_ARGUMENT, "std[1] is 0");
    o.std = std;
    o.mean = inf;
    expect_error(ds, &o, IG_ERR_INVALID_ARGUMENT, "mean[0] is inf");
    o = ig_loader_defaults();
    o.augment.crop_padding = -1;
    expect_error(ds, &o, IG_ERR_INVALID_ARGUMENT, "crop_padding -1");
    o.augment.crop_padding = 6; /* W is 5 */
    expect_error(ds, &o, IG_ERR_INVALID_ARGUMENT, "exceeds the samples' height 6 or width 5");
    o.augment.crop_padding = 0;
    const float bad_p[] = {-0.1f, 1.5f, NAN};
    for (int i = 0; i < 3; i++) {
        o.augment.flip_probability = bad_p[i];
        expect_error(ds, &o, IG_ERR_INVALID_ARGUMENT, "flip_probability");
    }

    /* samples of one dimension (CSV rows) normalise per feature but neither crop nor flip */
    ig_tensor *x, *y;
    OK(ig_tensor_create(f->ctx, IG_F32, (int64_t[]){4, 3}, 2, &x));
    OK(ig_tensor_create(f->ctx, IG_F32, (int64_t[]){4, 1}, 2, &y));
    ig_dataset *rows;
    OK(ig_dataset_create(f->ctx, x, y, &rows));
    o = ig_loader_defaults();
    o.augment.flip_probability = 0.5f;
    expect_error(rows, &o, IG_ERR_INVALID_ARGUMENT, "one dimension");
    o = ig_loader_defaults();
    o.norm_channels = 3;
    o.mean = (float[]){1, 2, 3};
    o.std = (float[]){1, 1, 1};
    OK(ig_loader_create_with(rows, &o, &ld));
    ig_tensor *bx, *by;
    OK(ig_loader_next(ld, &bx, &by));
    assert_true(((const float *)ig_tensor_data(bx))[2] == -3.0f);
    ig_loader_destroy(ld);

    /* the same checks guard the dataset's normalisation and resident epochs */
    assert_int_equal(ig_dataset_normalize_channels(ds, 2, mean, zero), IG_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(ig_last_error(), "ig_dataset_normalize_channels: std[1]"));
    assert_int_equal(ig_dataset_normalize_channels(NULL, 1, mean, std), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_dataset_normalize_channels(ds, 5, mean, std), IG_ERR_INVALID_ARGUMENT);
    ig_model *m;
    ig_trainer *t = small_model(f->ctx, &m);
    ig_epoch_config ep = ig_epoch_defaults();
    ep.augment.crop_padding = 7;
    assert_int_equal(ig_train_epoch(t, ds, &ep, NULL), IG_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(ig_last_error(), "ig_train_epoch: augment.crop_padding 7"));
    assert_int_equal(ig_trainer_step_count(t), 0);
    ig_trainer_destroy(t);
    ig_model_destroy(m);

    ig_dataset_destroy(rows);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_dataset_destroy(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prefetch_equals_synchronous, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_prefetch_regression_targets, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_destroy_mid_epoch, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_prefetch_thread, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_crop_moves_pixels, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_flip_mirrors, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_augment_reproducible, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_normalize_per_channel, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_resident_augment_equals_loader, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_bad_options, setup_fixture, teardown_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
