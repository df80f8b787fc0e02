/* test_cuda_loader.c — data feeding on the CUDA backend against the CPU backend: the step's
 * gather must crop and flip a resident dataset bit for bit as the CPU's does, resident
 * epochs with augmentation must train as on the CPU, and a prefetching loader's page-locked
 * batches, copied to the device without staging, must train exactly as the batches of a
 * loader without a thread. Skipped (exit 77) without a GPU, like test_cuda. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include "backend/backend.h"
#include "io/dataset.h"
#include "ops/ops.h"
#include "train/optimizer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { N = 50, C = 3, H = 7, W = 9, NUMEL = C * H * W, CLASSES = 4 };

static ig_dataset *images(ig_ctx *ctx)
{
    ig_tensor *x, *y;
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){N, C, H, W}, 4, &x));
    OK(ig_tensor_create(ctx, IG_I32, (int64_t[]){N}, 1, &y));
    float *xd = ig_tensor_data(x);
    int32_t *yd = ig_tensor_data(y);
    for (int64_t i = 0; i < N * NUMEL; i++) xd[i] = ig_rng_uniform(1, (uint64_t)i) * 2.0f - 1.0f;
    for (int64_t i = 0; i < N; i++) yd[i] = (int32_t)(ig_rng_u64(2, (uint64_t)i) % CLASSES);
    ig_dataset *ds;
    OK(ig_dataset_create(ctx, x, y, &ds));
    ig_tensor_release(x);
    ig_tensor_release(y);
    return ds;
}

/* One GATHER node of batch b over ds's samples at step `step` with cursor `cur`, on ctx:
 * the batch's samples and labels. */
static void gather(ig_ctx *ctx, ig_dataset *ds, int64_t b, int mode, int64_t step, const ig_data_cursor *cur,
                   float *x, int32_t *y)
{
    ig_graph g;
    ig_graph_init(&g);
    ig_shape xs = {.ndim = 4, .d = {N, C, H, W}}, ys = {.ndim = 1, .d = {N}};
    int xa = ig_graph_leaf(&g, &xs, IG_F32, "data_x"), ya = ig_graph_leaf(&g, &ys, IG_I32, "data_y");
    size_t cur_at = ig_align(sizeof(ig_opt_hyper));
    int hy = ig_flat_leaf(&g, sizeof(ig_opt_hyper), IG_BUF_STATE, 0, "hyper");
    int cv = ig_flat_leaf(&g, sizeof(ig_data_cursor), IG_BUF_STATE, cur_at, "cursor");
    g.vals[xa].buf = IG_BUF_DATA_X;
    g.vals[ya].buf = IG_BUF_DATA_Y;
    int outs[2];
    ig_attrs at = {.i = {b, b, mode}};
    OK(ig_graph_node(&g, IG_OP_GATHER, (int[]){xa, ya, hy, cv}, 4, &at, "gather", outs));
    g.vals[outs[0]].buf = g.vals[outs[1]].buf = IG_BUF_IO;
    ig_program *p;
    OK(ig_program_create(ctx, &g, &p));
    ig_backend *be = ctx->backend;
    size_t state_bytes = cur_at + sizeof *cur;
    void *ext[IG_BUF_COUNT] = {NULL};
    ext[IG_BUF_STATE] = be->alloc(be, state_bytes);
    assert_non_null(ext[IG_BUF_STATE]);
    ig_opt_hyper h = {.step = step};
    OK(be->upload(be, ext[IG_BUF_STATE], &h, sizeof h));
    OK(be->upload(be, (char *)ext[IG_BUF_STATE] + cur_at, cur, sizeof *cur));
    OK(ig_dataset_resident(ds, &ext[IG_BUF_DATA_X], &ext[IG_BUF_DATA_Y]));
    OK(ig_program_run_ext(p, ext));
    OK(ig_program_read(p, outs[0], x, (size_t)(b * NUMEL) * sizeof *x));
    OK(ig_program_read(p, outs[1], y, (size_t)b * sizeof *y));
    be->free(be, ext[IG_BUF_STATE], state_bytes);
    ig_program_destroy(p);
}

/* The gather's crops and flips (and plain gathers, and evaluation, which never augments)
 * on the GPU equal the CPU's bit for bit, shuffled or not, at several steps. */
static void test_gather_augment_matches_cpu(void **state)
{
    ig_ctx *cpu, *gpu;
    OK(ig_ctx_create(IG_DEVICE_CPU, &cpu));
    OK(ig_ctx_create(IG_DEVICE_CUDA, &gpu));
    ig_dataset *dc = images(cpu), *dg = images(gpu);
    enum { B = 16 };
    float xc[B * NUMEL], xg[B * NUMEL];
    int32_t yc[B], yg[B];
    for (int k = 0; k < 12; k++) {
        ig_data_cursor cur = {.first_step = 3, .key = k & 1 ? 0x9E3779B97F4A7C15ull : 0, .aug_seed = (uint64_t)k,
                              .aug_pad = (int64_t[]){0, 1, 3, 7}[k % 4], .aug_flip = (float[]){0.0f, 0.5f, 1.0f}[k % 3],
                              .eval_batch = 1};
        int mode = k == 11 ? IG_GATHER_EVAL : IG_GATHER_TRAIN;
        gather(cpu, dc, B, mode, 3 + k % 3, &cur, xc, yc);
        gather(gpu, dg, B, mode, 3 + k % 3, &cur, xg, yg);
        if (memcmp(xc, xg, sizeof xc) != 0 || memcmp(yc, yg, sizeof yc) != 0) fail_msg("case %d: batches differ", k);
    }
    ig_dataset_destroy(dc);
    ig_dataset_destroy(dg);
    ig_ctx_destroy(cpu);
    ig_ctx_destroy(gpu);
}

static ig_trainer *conv_model(ig_ctx *ctx, ig_model **m)
{
    OK(ig_model_create(ctx, (int64_t[]){8, C, H, W}, 4, m));
    ig_value v = ig_relu(*m, ig_conv2d(*m, ig_model_input(*m), 8, 3, 1, 1, true, "conv"), "relu");
    v = ig_dense(*m, ig_flatten(*m, v, "flat"), CLASSES, true, "fc");
    OK(ig_model_status(*m));
    ig_trainer_config cfg = ig_trainer_defaults();
    ig_trainer *t;
    OK(ig_trainer_create(*m, &cfg, &t));
    return t;
}

static void same_params(ig_model *from, ig_model *to)
{
    for (int i = 0; i < ig_model_param_count(from); i++) {
        int64_t shape[IG_MAX_DIMS], n = 1;
        int nd = ig_model_param_shape(from, i, shape);
        for (int k = 0; k < nd; k++) n *= shape[k];
        float *buf = malloc((size_t)n * sizeof *buf);
        OK(ig_model_param_get(from, i, buf, n));
        OK(ig_model_param_set(to, i, buf, n));
        free(buf);
    }
}

/* Resident epochs with crops and flips train on the GPU as on the CPU. */
static void test_resident_augment_matches_cpu(void **state)
{
    ig_ctx *cpu, *gpu;
    OK(ig_ctx_create(IG_DEVICE_CPU, &cpu));
    OK(ig_ctx_create(IG_DEVICE_CUDA, &gpu));
    ig_dataset *dc = images(cpu), *dg = images(gpu);
    ig_model *mc, *mg;
    ig_trainer *tc = conv_model(cpu, &mc), *tg = conv_model(gpu, &mg);
    same_params(mc, mg);
    ig_epoch_config ep = ig_epoch_defaults();
    ep.batch_size = 16;
    ep.seed = 5;
    ep.augment = (ig_augment){.crop_padding = 2, .flip_probability = 0.5f, .seed = 6};
    for (int e = 0; e < 3; e++) {
        OK(ig_train_epoch(tc, dc, &ep, NULL));
        OK(ig_train_epoch(tg, dg, &ep, NULL));
    }
    float lc[12], lg[12];
    OK(ig_trainer_losses(tc, 0, 12, lc));
    OK(ig_trainer_losses(tg, 0, 12, lg));
    for (int i = 0; i < 12; i++)
        if (fabsf(lc[i] - lg[i]) > 1e-4f * fabsf(lc[i])) fail_msg("step %d: cpu %.8f, cuda %.8f", i, lc[i], lg[i]);
    ig_trainer_destroy(tc);
    ig_trainer_destroy(tg);
    ig_model_destroy(mc);
    ig_model_destroy(mg);
    ig_dataset_destroy(dc);
    ig_dataset_destroy(dg);
    ig_ctx_destroy(cpu);
    ig_ctx_destroy(gpu);
}

static size_t pinned(ig_ctx *ctx)
{
    ig_memory_stats st;
    OK(ig_memory_stats_get(ctx, &st));
    return st.pinned_in_use;
}

/* A prefetching loader's page-locked batches go to the device without staging, the thread
 * refilling a batch only once its copy is done: many steps queued without waiting train as
 * the same batches of a loader without a thread do (a batch overwritten before its copy
 * would show as a different loss, not as rounding: the two trainers' programs may pick
 * different GEMM algorithms). A retained batch outlives the loader; its page-locked memory
 * is freed with it. */
static void test_prefetch_pinned_trains_as_synchronous(void **state)
{
    ig_ctx *gpu;
    OK(ig_ctx_create(IG_DEVICE_CUDA, &gpu));
    ig_dataset *ds = images(gpu);
    ig_model *ma, *mb;
    ig_trainer *ta = conv_model(gpu, &ma), *tb = conv_model(gpu, &mb);
    same_params(ma, mb);
    ig_loader_options opt = ig_loader_defaults();
    opt.batch_size = 8;
    opt.seed = 7;
    opt.augment = (ig_augment){.crop_padding = 1, .flip_probability = 0.5f, .seed = 8};
    ig_loader *sync, *pre;
    opt.prefetch = 0;
    OK(ig_loader_create_with(ds, &opt, &sync));
    opt.prefetch = 3;
    OK(ig_loader_create_with(ds, &opt, &pre));
    enum { STEPS = 200 };
    ig_tensor *kept = NULL;
    for (int s = 0; s < STEPS;) {
        ig_tensor *xa, *ya, *xb, *yb;
        OK(ig_loader_next(sync, &xa, &ya));
        OK(ig_loader_next(pre, &xb, &yb));
        assert_true((xa == NULL) == (xb == NULL));
        if (!xa) continue;
        assert_memory_equal(ig_tensor_data(xa), ig_tensor_data(xb), ig_tensor_nbytes(xa));
        assert_memory_equal(ig_tensor_data(ya), ig_tensor_data(yb), ig_tensor_nbytes(ya));
        OK(ig_train_batch(ta, xa, ya, NULL));
        OK(ig_train_batch(tb, xb, yb, NULL)); /* returns before the copy: the thread must wait for it */
        if (s++ == 5) kept = ig_tensor_retain(xb);
    }
    float la[STEPS], lb[STEPS];
    OK(ig_trainer_losses(ta, 0, STEPS, la));
    OK(ig_trainer_losses(tb, 0, STEPS, lb));
    for (int i = 0; i < STEPS; i++)
        if (fabsf(la[i] - lb[i]) > 1e-4f * fabsf(la[i]))
            fail_msg("step %d: %.8f without a thread, %.8f with", i, la[i], lb[i]);
    size_t with_loader = pinned(gpu);
    ig_loader_destroy(pre);
    size_t after = pinned(gpu);
    assert_true(after < with_loader);
    float loss;
    ig_tensor *labels;
    OK(ig_tensor_create(gpu, IG_I32, (int64_t[]){8}, 1, &labels));
    OK(ig_train_batch(tb, kept, labels, &loss)); /* still a valid batch */
    assert_true(isfinite(loss));
    ig_tensor_release(labels);
    size_t kept_bytes = ig_tensor_nbytes(kept);
    ig_tensor_release(kept);
    assert_int_equal(pinned(gpu), after - kept_bytes);
    ig_loader_destroy(sync);
    ig_trainer_destroy(ta);
    ig_trainer_destroy(tb);
    ig_model_destroy(ma);
    ig_model_destroy(mb);
    ig_dataset_destroy(ds);
    ig_ctx_destroy(gpu);
}

int main(void)
{
    if (no_cuda()) return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gather_augment_matches_cpu),
        cmocka_unit_test(test_resident_augment_matches_cpu),
        cmocka_unit_test(test_prefetch_pinned_trains_as_synchronous),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
