/* test_cuda.c — the CUDA backend against the CPU backend: the same models with the same
 * parameters and batches must give the same losses, predictions and parameters (to fp32
 * rounding), captured graphs must match eager launches bit for bit, and the asynchronous
 * loss ring must hold what synchronous reads return. Without a GPU the test is skipped
 * (exit 77, which ctest reports as skipped, never as passed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ingot.h>

#include "test_util.h"

#include "backend/backend.h"
#include "ops/loss_math.h"
#include "ops/pool_math.h"
#include "train/loss.h"
#include "resume_harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IN 20
#define HID 32
#define OUT 5
#define BATCH 16

static float frand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xFFFFFF) / 16777216.0f * 2.0f - 1.0f;
}

static ig_tensor *random_x(ig_ctx *ctx, int64_t n, uint64_t seed)
{
    ig_tensor *x;
    assert_int_equal(ig_tensor_create(ctx, IG_F32, (int64_t[]){n, IN}, 2, &x), IG_OK);
    float *d = ig_tensor_data(x);
    for (int64_t i = 0; i < n * IN; i++) d[i] = frand(&seed);
    return x;
}

static ig_tensor *random_labels(ig_ctx *ctx, int64_t n, uint64_t seed)
{
    ig_tensor *y;
    assert_int_equal(ig_tensor_create(ctx, IG_I32, (int64_t[]){n}, 1, &y), IG_OK);
    int32_t *d = ig_tensor_data(y);
    for (int64_t i = 0; i < n; i++) d[i] = (int32_t)((frand(&seed) + 1.0f) * 0.5f * OUT) % OUT;
    return y;
}

static ig_tensor *random_targets(ig_ctx *ctx, int64_t n, uint64_t seed)
{
    ig_tensor *y;
    assert_int_equal(ig_tensor_create(ctx, IG_F32, (int64_t[]){n, OUT}, 2, &y), IG_OK);
    float *d = ig_tensor_data(y);
    for (int64_t i = 0; i < n * OUT; i++) d[i] = frand(&seed);
    return y;
}

/* flatten → dense+relu → dense+tanh → residual add → dense: every op the backend has */
static ig_model *build(ig_ctx *ctx)
{
    ig_model *m;
    assert_int_equal(ig_model_create(ctx, (int64_t[]){BATCH, IN}, 2, &m), IG_OK);
    ig_value v = ig_flatten(m, ig_model_input(m), "flat");
    v = ig_relu(m, ig_dense(m, v, HID, true, "fc1"), "relu1");
    ig_value h = ig_tanh(m, ig_dense(m, v, HID, true, "fc2"), "tanh2");
    v = ig_add(m, v, h, "res");
    v = ig_dense(m, ig_relu(m, v, "relu3"), OUT, false, "fc3");
    assert_int_equal(ig_model_set_output(m, v), IG_OK);
    assert_int_equal(ig_model_status(m), IG_OK);
    return m;
}

static double rel_err(const float *got, const float *want, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        num += ((double)got[i] - want[i]) * ((double)got[i] - want[i]);
        den += (double)want[i] * want[i];
    }
    return sqrt(num) / (sqrt(den) + 1e-30);
}

/* Parameters of b set from a, so both start equal whatever the backends' init. */
static void copy_params(ig_model *from, ig_model *to)
{
    for (int i = 0; i < ig_model_param_count(from); i++) {
        int64_t shape[IG_MAX_DIMS], n = 1;
        int nd = ig_model_param_shape(from, i, shape);
        for (int k = 0; k < nd; k++) n *= shape[k];
        float *buf = malloc((size_t)n * sizeof *buf);
        assert_int_equal(ig_model_param_get(from, i, buf, n), IG_OK);
        assert_int_equal(ig_model_param_set(to, i, buf, n), IG_OK);
        free(buf);
    }
}

static double params_rel_err(ig_model *a, ig_model *b)
{
    double worst = 0;
    for (int i = 0; i < ig_model_param_count(a); i++) {
        int64_t shape[IG_MAX_DIMS], n = 1;
        int nd = ig_model_param_shape(a, i, shape);
        for (int k = 0; k < nd; k++) n *= shape[k];
        float *pa = malloc((size_t)n * sizeof *pa), *pb = malloc((size_t)n * sizeof *pb);
        assert_int_equal(ig_model_param_get(a, i, pa, n), IG_OK);
        assert_int_equal(ig_model_param_get(b, i, pb, n), IG_OK);
        double e = rel_err(pb, pa, n);
        worst = e > worst ? e : worst;
        free(pa);
        free(pb);
    }
    return worst;
}

static bool params_identical(ig_model *a, ig_model *b)
{
    bool same = true;
    for (int i = 0; i < ig_model_param_count(a); i++) {
        int64_t shape[IG_MAX_DIMS], n = 1;
        int nd = ig_model_param_shape(a, i, shape);
        for (int k = 0; k < nd; k++) n *= shape[k];
        float *pa = malloc((size_t)n * sizeof *pa), *pb = malloc((size_t)n * sizeof *pb);
        assert_int_equal(ig_model_param_get(a, i, pa, n), IG_OK);
        assert_int_equal(ig_model_param_get(b, i, pb, n), IG_OK);
        same &= memcmp(pa, pb, (size_t)n * sizeof *pa) == 0;
        free(pa);
        free(pb);
    }
    return same;
}

typedef struct pair {
    ig_ctx *cpu, *gpu;
    ig_model *mc, *mg;
    ig_trainer *tc, *tg;
} pair;

static void pair_make(pair *p, ig_trainer_config cfg)
{
    assert_int_equal(ig_ctx_create(IG_DEVICE_CPU, &p->cpu), IG_OK);
    assert_int_equal(ig_ctx_create(IG_DEVICE_CUDA, &p->gpu), IG_OK);
    assert_int_equal(ig_ctx_device(p->gpu), IG_DEVICE_CUDA);
    p->mc = build(p->cpu);
    p->mg = build(p->gpu);
    copy_params(p->mc, p->mg);
    assert_int_equal(ig_trainer_create(p->mc, &cfg, &p->tc), IG_OK);
    assert_int_equal(ig_trainer_create(p->mg, &cfg, &p->tg), IG_OK);
}

static void pair_free(pair *p)
{
    ig_trainer_destroy(p->tc);
    ig_trainer_destroy(p->tg);
    ig_model_destroy(p->mc);
    ig_model_destroy(p->mg);
    ig_ctx_destroy(p->cpu);
    ig_ctx_destroy(p->gpu);
}

/* Trains both for `steps` steps (batch sizes alternate, so two programs per side) and
 * compares every loss, then predictions, evaluation and parameters. */
static void run_trajectory(ig_trainer_config cfg, int steps)
{
    pair p;
    pair_make(&p, cfg);
    for (int s = 0; s < steps; s++) {
        int64_t n = s % 3 == 2 ? 7 : BATCH;
        ig_tensor *xc = random_x(p.cpu, n, 100 + s), *xg = random_x(p.gpu, n, 100 + s);
        bool ce = cfg.loss == IG_LOSS_SPARSE_CROSS_ENTROPY;
        ig_tensor *yc = ce ? random_labels(p.cpu, n, 200 + s) : random_targets(p.cpu, n, 200 + s);
        ig_tensor *yg = ce ? random_labels(p.gpu, n, 200 + s) : random_targets(p.gpu, n, 200 + s);
        float lc, lg;
        assert_int_equal(ig_train_batch(p.tc, xc, yc, &lc), IG_OK);
        assert_int_equal(ig_train_batch(p.tg, xg, yg, &lg), IG_OK);
        if (fabsf(lc - lg) > 1e-4f * fabsf(lc) + 1e-6f) fail_msg("step %d: cpu loss %.8f, cuda loss %.8f", s, lc, lg);
        ig_tensor_release(xc);
        ig_tensor_release(xg);
        ig_tensor_release(yc);
        ig_tensor_release(yg);
    }
    double e = params_rel_err(p.mc, p.mg);
    if (e > 1e-4) fail_msg("parameters after %d steps differ: rel err %.3g", steps, e);

    ig_tensor *xc = random_x(p.cpu, 33, 7), *xg = random_x(p.gpu, 33, 7), *oc, *og;
    assert_int_equal(ig_predict(p.mc, xc, &oc), IG_OK);
    assert_int_equal(ig_predict(p.mg, xg, &og), IG_OK);
    assert_true(rel_err(ig_tensor_data(og), ig_tensor_data(oc), ig_tensor_numel(oc)) < 1e-5);
    if (cfg.loss == IG_LOSS_SPARSE_CROSS_ENTROPY) {
        ig_tensor *yc = random_labels(p.cpu, 33, 8), *yg = random_labels(p.gpu, 33, 8);
        ig_eval_result rc, rg;
        assert_int_equal(ig_eval_batch(p.tc, xc, yc, &rc), IG_OK);
        assert_int_equal(ig_eval_batch(p.tg, xg, yg, &rg), IG_OK);
        assert_int_equal(rc.correct, rg.correct);
        assert_true(fabsf(rc.loss - rg.loss) <= 1e-5f * fabsf(rc.loss));
        ig_tensor_release(yc);
        ig_tensor_release(yg);
    }
    ig_tensor_release(xc);
    ig_tensor_release(xg);
    ig_tensor_release(oc);
    ig_tensor_release(og);
    pair_free(&p);
}

static void test_adam_matches_cpu(void **state)
{
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.learning_rate = 1e-2f;
    cfg.weight_decay = 1e-3f;
    run_trajectory(cfg, 30);
}

static void test_adamw_matches_cpu(void **state)
{
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.optimizer = IG_OPT_ADAMW;
    cfg.learning_rate = 1e-2f;
    cfg.weight_decay = 0.1f;
    run_trajectory(cfg, 20);
}

static void test_sgd_nesterov_matches_cpu(void **state)
{
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.optimizer = IG_OPT_SGD;
    cfg.learning_rate = 0.05f;
    cfg.momentum = 0.9f;
    cfg.nesterov = true;
    cfg.weight_decay = 1e-3f;
    run_trajectory(cfg, 30);
}

/* Every optional state buffer in use: the centered average and the momentum buffer. */
static void test_rmsprop_matches_cpu(void **state)
{
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_RMSPROP);
    cfg.learning_rate = 1e-3f;
    cfg.momentum = 0.5f;
    cfg.centered = true;
    cfg.weight_decay = 1e-3f;
    run_trajectory(cfg, 30);
}

static void test_adagrad_matches_cpu(void **state)
{
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_ADAGRAD);
    cfg.lr_decay = 0.01f;
    cfg.initial_accumulator_value = 0.1f;
    cfg.weight_decay = 1e-3f;
    run_trajectory(cfg, 30);
}

static void test_adadelta_matches_cpu(void **state)
{
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_ADADELTA);
    cfg.weight_decay = 1e-3f;
    run_trajectory(cfg, 30);
}

/* Past the captured step's replays too: the μ product must advance on the device. */
static void test_nadam_matches_cpu(void **state)
{
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_NADAM);
    cfg.learning_rate = 1e-2f;
    cfg.weight_decay = 1e-3f;
    run_trajectory(cfg, 30);
}

/* L-BFGS runs its closure program from the host several times a step: the CUDA side's
 * captured replays, alternating IO blocks and uploads between runs must give the CPU's
 * trajectory (at the conformance tolerance for trajectories: L-BFGS amplifies rounding). */
static void test_lbfgs_matches_cpu(void **state)
{
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_LBFGS);
    cfg.lbfgs_max_iter = 5;
    cfg.lbfgs_history = 4;
    cfg.lbfgs_line_search = IG_LINE_SEARCH_STRONG_WOLFE;
    pair p;
    pair_make(&p, cfg);
    ig_tensor *xc = random_x(p.cpu, BATCH, 100), *xg = random_x(p.gpu, BATCH, 100);
    ig_tensor *yc = random_labels(p.cpu, BATCH, 200), *yg = random_labels(p.gpu, BATCH, 200);
    for (int s = 0; s < 3; s++) {
        float lc, lg;
        assert_int_equal(ig_train_batch(p.tc, xc, yc, &lc), IG_OK);
        assert_int_equal(ig_train_batch(p.tg, xg, yg, &lg), IG_OK);
        if (fabsf(lc - lg) > 1e-3f * fabsf(lc)) fail_msg("step %d: cpu loss %.8f, cuda loss %.8f", s, lc, lg);
    }
    double e = params_rel_err(p.mc, p.mg);
    if (e > 1e-3) fail_msg("parameters after 3 L-BFGS steps differ: rel err %.3g", e);
    ig_tensor_release(xc);
    ig_tensor_release(xg);
    ig_tensor_release(yc);
    ig_tensor_release(yg);
    pair_free(&p);
}

static void test_mse_matches_cpu(void **state)
{
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.loss = IG_LOSS_MSE;
    cfg.optimizer = IG_OPT_SGD;
    cfg.learning_rate = 0.05f;
    cfg.momentum = 0.5f;
    cfg.dampening = 0.1f;
    run_trajectory(cfg, 30);
}

/* The loss node of `cfg` and its accuracy node (classification losses) on pred [rows, cols]
 * and a target drawn for the loss, run on ctx: loss, gradient and hits. */
static void run_loss_node(ig_ctx *ctx, const ig_trainer_config *cfg, int64_t rows, int64_t cols, float *loss,
                          float *grad, int32_t *hits)
{
    ig_graph g;
    ig_graph_init(&g);
    ig_shape ps = {.ndim = 2, .d = {rows, cols}}, ts = ig_loss_target_shape(cfg->loss, &ps);
    ig_dtype tt = ig_loss_target_dtype(cfg->loss);
    int pv = ig_graph_leaf(&g, &ps, IG_F32, "pred"), tv = ig_graph_leaf(&g, &ts, tt, "target"), outs[2], hv;
    assert_true(pv >= 0 && tv >= 0);
    g.vals[pv].buf = g.vals[tv].buf = IG_BUF_IO;
    assert_int_equal(ig_loss_append(&g, cfg, pv, tv, outs), IG_OK);
    assert_int_equal(ig_loss_accuracy_append(&g, cfg->loss, pv, tv, &hv), IG_OK);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(ig_graph_materialize(&g, outs[k], &outs[k]), IG_OK);
        g.vals[outs[k]].buf = IG_BUF_IO;
    }
    if (hv >= 0) g.vals[hv].buf = IG_BUF_IO;
    size_t n = (size_t)(rows * cols), nt = ig_shape_numel(&ts);
    float *pred = malloc(n * sizeof *pred), *target = malloc(nt * sizeof *target);
    uint64_t seed = 5;
    bool probs = cfg->loss == IG_LOSS_BINARY_CROSS_ENTROPY;
    for (size_t i = 0; i < n; i++) pred[i] = probs ? 0.5f + 0.48f * frand(&seed) : 3.0f * frand(&seed);
    for (size_t i = 0; i < nt; i++) {
        float u = frand(&seed);
        if (tt == IG_I32) ((int32_t *)target)[i] = (int32_t)((u + 1.0f) * 0.5f * (float)cols) % (int32_t)cols;
        else target[i] = cfg->loss == IG_LOSS_MSE || cfg->loss == IG_LOSS_MAE || cfg->loss == IG_LOSS_HUBER ? u : 0.5f + 0.5f * u;
    }
    ig_program *p;
    assert_int_equal(ig_program_create(ctx, &g, &p), IG_OK);
    assert_int_equal(ig_program_write(p, pv, pred, n * sizeof *pred), IG_OK);
    assert_int_equal(ig_program_write(p, tv, target, nt * sizeof *target), IG_OK);
    assert_int_equal(ig_program_run(p, NULL, NULL, NULL), IG_OK);
    assert_int_equal(ig_program_read(p, outs[0], loss, sizeof *loss), IG_OK);
    assert_int_equal(ig_program_read(p, outs[1], grad, n * sizeof *grad), IG_OK);
    *hits = -1;
    if (hv >= 0) assert_int_equal(ig_program_read(p, hv, hits, sizeof *hits), IG_OK);
    ig_program_destroy(p);
    ig_graph_free(&g);
    free(pred);
    free(target);
}

/* Every loss kernel (and its accuracy) against the CPU's, on rows that fill the block's warps
 * several times over, on rows wider than a warp, and on enough values for the elementwise
 * losses and the accuracy to run over many blocks; twice on the GPU, bit for bit. */
static void test_loss_kernels_match_cpu(void **state)
{
    static const struct {
        ig_loss loss;
        float smoothing, delta;
    } losses[] = {
        {IG_LOSS_SPARSE_CROSS_ENTROPY, 0, 1}, {IG_LOSS_SPARSE_CROSS_ENTROPY, 0.1f, 1}, {IG_LOSS_CROSS_ENTROPY, 0, 1},
        {IG_LOSS_CROSS_ENTROPY, 0.2f, 1},     {IG_LOSS_BINARY_CROSS_ENTROPY, 0, 1},    {IG_LOSS_BCE_WITH_LOGITS, 0, 1},
        {IG_LOSS_MSE, 0, 1},                  {IG_LOSS_MAE, 0, 1},                     {IG_LOSS_HUBER, 0, 0.5f},
    };
    static const int64_t shapes[][2] = {{100, 5}, {9, 70}, {5000, 40}};
    ig_ctx *cpu, *gpu;
    assert_int_equal(ig_ctx_create(IG_DEVICE_CPU, &cpu), IG_OK);
    assert_int_equal(ig_ctx_create(IG_DEVICE_CUDA, &gpu), IG_OK);
    for (size_t k = 0; k < sizeof losses / sizeof *losses; k++)
        for (int s = 0; s < 3; s++) {
            ig_trainer_config cfg = ig_trainer_defaults();
            cfg.loss = losses[k].loss;
            cfg.label_smoothing = losses[k].smoothing;
            cfg.huber_delta = losses[k].delta;
            int64_t rows = shapes[s][0], cols = shapes[s][1];
            size_t n = (size_t)(rows * cols);
            float lc, lg, lg2, *gc = malloc(n * sizeof *gc), *gg = malloc(n * sizeof *gg);
            int32_t hc, hg, hg2;
            run_loss_node(cpu, &cfg, rows, cols, &lc, gc, &hc);
            run_loss_node(gpu, &cfg, rows, cols, &lg, gg, &hg);
            double e = rel_err(gg, gc, (int64_t)n);
            if (!(fabsf(lc - lg) <= 1e-5f * fabsf(lc)) || !(e < 1e-5) || hc != hg)
                fail_msg("loss %d (smoothing %g) [%lld, %lld]: cpu %.8f cuda %.8f, gradient rel err %.3g, hits %d vs %d",
                         (int)cfg.loss, cfg.label_smoothing, (long long)rows, (long long)cols, lc, lg, e, hc, hg);
            run_loss_node(gpu, &cfg, rows, cols, &lg2, gg, &hg2);
            assert_memory_equal(&lg, &lg2, sizeof lg);
            free(gc);
            free(gg);
        }
    ig_ctx_destroy(cpu);
    ig_ctx_destroy(gpu);
}

/* The accuracy's arg-max on the GPU (a warp per row) is the CPU's serial scan to the index:
 * ties anywhere in a row (the first wins), NaNs (never larger, but one at index 0 stays),
 * -inf rows, rows of one value, of fewer values than a warp and of many more. Each row's label
 * is the CPU's arg-max, so one disagreeing row changes the count. */
static void test_accuracy_argmax_matches_cpu(void **state)
{
    static const int64_t widths[] = {3, 32, 70, 1000};
    enum { ROWS = 40 };
    ig_ctx *ctx[2];
    assert_int_equal(ig_ctx_create(IG_DEVICE_CPU, &ctx[0]), IG_OK);
    assert_int_equal(ig_ctx_create(IG_DEVICE_CUDA, &ctx[1]), IG_OK);
    for (size_t k = 0; k < sizeof widths / sizeof *widths; k++) {
        int64_t w = widths[k];
        float *x = malloc((size_t)(ROWS * w) * sizeof *x);
        int32_t labels[ROWS];
        uint64_t seed = 11;
        for (int64_t r = 0; r < ROWS; r++) {
            float *xr = x + r * w;
            for (int64_t j = 0; j < w; j++) xr[j] = (float)(int)(4.0f * frand(&seed)); /* many ties */
            switch (r % 8) {
            case 1: xr[0] = NAN; break;
            case 2: xr[w / 2] = NAN; break;
            case 3: for (int64_t j = 0; j < w; j++) xr[j] = -INFINITY; break;
            case 4: for (int64_t j = 0; j < w; j++) xr[j] = 1.0f; break;
            case 5: xr[w - 1] = 9.0f, xr[w / 3] = 9.0f; break;
            case 6: xr[0] = -0.0f, xr[w - 1] = 0.0f; break;
            }
            labels[r] = (int32_t)ig_argmax(xr, w);
        }
        int32_t hits[2];
        for (int d = 0; d < 2; d++) {
            ig_graph g;
            ig_graph_init(&g);
            ig_shape ps = ig_shape_make(2, (int64_t[]){ROWS, w}), ls = ig_shape_make(1, (int64_t[]){ROWS});
            int pv = ig_graph_leaf(&g, &ps, IG_F32, "pred"), lv = ig_graph_leaf(&g, &ls, IG_I32, "labels"), hv;
            g.vals[pv].buf = g.vals[lv].buf = IG_BUF_IO;
            assert_int_equal(ig_loss_accuracy_append(&g, IG_LOSS_SPARSE_CROSS_ENTROPY, pv, lv, &hv), IG_OK);
            g.vals[hv].buf = IG_BUF_IO;
            ig_program *p;
            assert_int_equal(ig_program_create(ctx[d], &g, &p), IG_OK);
            assert_int_equal(ig_program_write(p, pv, x, (size_t)(ROWS * w) * sizeof *x), IG_OK);
            assert_int_equal(ig_program_write(p, lv, labels, sizeof labels), IG_OK);
            assert_int_equal(ig_program_run(p, NULL, NULL, NULL), IG_OK);
            assert_int_equal(ig_program_read(p, hv, &hits[d], sizeof hits[d]), IG_OK);
            ig_program_destroy(p);
        }
        if (hits[0] != ROWS || hits[1] != ROWS) fail_msg("width %lld: cpu %d, cuda %d of %d rows", (long long)w, hits[0], hits[1], ROWS);
        free(x);
    }
    ig_ctx_destroy(ctx[0]);
    ig_ctx_destroy(ctx[1]);
}

/* A captured step and the same step launched eagerly run the same kernels in the same
 * order: their results must agree to the bit. The learning rate changed mid-run must reach
 * the captured step (it lives in device memory). */
static void test_graph_equals_eager(void **state)
{
    ig_trainer_config cfg = ig_trainer_defaults();
    ig_ctx *graph_ctx, *eager_ctx;
    assert_int_equal(ig_ctx_create(IG_DEVICE_CUDA, &graph_ctx), IG_OK);
    setenv("INGOT_CUDA_GRAPHS", "0", 1);
    assert_int_equal(ig_ctx_create(IG_DEVICE_CUDA, &eager_ctx), IG_OK);
    unsetenv("INGOT_CUDA_GRAPHS");
    /* g: captured, e: eager, n: captured but keeps its learning rate */
    ig_model *mg = build(graph_ctx), *me = build(eager_ctx), *mn = build(graph_ctx);
    copy_params(mg, me);
    copy_params(mg, mn);
    ig_trainer *tg, *te, *tn;
    assert_int_equal(ig_trainer_create(mg, &cfg, &tg), IG_OK);
    assert_int_equal(ig_trainer_create(me, &cfg, &te), IG_OK);
    assert_int_equal(ig_trainer_create(mn, &cfg, &tn), IG_OK);
    for (int s = 0; s < 40; s++) {
        if (s == 20) {
            assert_int_equal(ig_trainer_set_learning_rate(tg, 3e-2f), IG_OK);
            assert_int_equal(ig_trainer_set_learning_rate(te, 3e-2f), IG_OK);
        }
        ig_tensor *x = random_x(graph_ctx, BATCH, s), *y = random_labels(graph_ctx, BATCH, s + 1000);
        assert_int_equal(ig_train_batch(tg, x, y, NULL), IG_OK);
        assert_int_equal(ig_train_batch(te, x, y, NULL), IG_OK);
        assert_int_equal(ig_train_batch(tn, x, y, NULL), IG_OK);
        ig_tensor_release(x);
        ig_tensor_release(y);
    }
    float lg[40], le[40], ln[40];
    assert_int_equal(ig_trainer_losses(tg, 0, 40, lg), IG_OK);
    assert_int_equal(ig_trainer_losses(te, 0, 40, le), IG_OK);
    assert_int_equal(ig_trainer_losses(tn, 0, 40, ln), IG_OK);
    assert_memory_equal(lg, le, sizeof lg);
    assert_true(params_identical(mg, me));
    assert_int_equal(ig_trainer_step_count(tg), 40);
    /* the new learning rate reached the captured step: the runs part after step 20 */
    assert_memory_equal(lg, ln, 21 * sizeof *lg);
    assert_true(memcmp(lg + 21, ln + 21, 19 * sizeof *lg) != 0);
    assert_false(params_identical(mg, mn));
    ig_trainer_destroy(tg);
    ig_trainer_destroy(te);
    ig_trainer_destroy(tn);
    ig_model_destroy(mg);
    ig_model_destroy(me);
    ig_model_destroy(mn);
    ig_ctx_destroy(graph_ctx);
    ig_ctx_destroy(eager_ctx);
}

/* Asynchronous steps leave their losses in the ring; reading them afterwards gives what a
 * synchronous read after each step gives (two identical trainers, bit for bit). Device
 * memory is accounted. */
static void test_loss_ring_and_memory(void **state)
{
    ig_trainer_config cfg = ig_trainer_defaults();
    ig_ctx *ctx;
    assert_int_equal(ig_ctx_create(IG_DEVICE_CUDA, &ctx), IG_OK);
    ig_model *ma = build(ctx), *ms = build(ctx);
    copy_params(ma, ms);
    ig_trainer *ta, *ts;
    assert_int_equal(ig_trainer_create(ma, &cfg, &ta), IG_OK);
    assert_int_equal(ig_trainer_create(ms, &cfg, &ts), IG_OK);
    enum { STEPS = 1100 }; /* more than the ring holds */
    static float sync_loss[STEPS];
    for (int s = 0; s < STEPS; s++) {
        ig_tensor *x = random_x(ctx, BATCH, s), *y = random_labels(ctx, BATCH, s + 7);
        assert_int_equal(ig_train_batch(ta, x, y, NULL), IG_OK);
        assert_int_equal(ig_train_batch(ts, x, y, &sync_loss[s]), IG_OK);
        ig_tensor_release(x);
        ig_tensor_release(y);
    }
    float ring[IG_LOSS_HISTORY];
    int64_t first = STEPS - IG_LOSS_HISTORY;
    assert_int_equal(ig_trainer_losses(ta, first, IG_LOSS_HISTORY, ring), IG_OK);
    assert_memory_equal(ring, sync_loss + first, sizeof ring);
    assert_int_equal(ig_trainer_losses(ta, 0, 1, ring), IG_ERR_INVALID_ARGUMENT);     /* overwritten */
    assert_int_equal(ig_trainer_losses(ta, STEPS, 1, ring), IG_ERR_INVALID_ARGUMENT); /* not taken yet */

    ig_memory_stats st;
    assert_int_equal(ig_memory_stats_get(ctx, &st), IG_OK);
    assert_true(st.device_in_use > 0);
    assert_true(st.pinned_in_use > 0); /* the staging ring holds the batches on their way */
    assert_true(st.arena_planned > 0 && st.arena_planned <= st.arena_unplanned);
    ig_trainer_destroy(ta);
    ig_trainer_destroy(ts);
    ig_model_destroy(ma);
    ig_model_destroy(ms);
    ig_ctx_destroy(ctx);
}

/* An epoch over a resident dataset (gathered and shuffled on the device) and a whole-dataset
 * evaluation give the CPU backend's results. */
static void test_resident_epoch_matches_cpu(void **state)
{
    ig_trainer_config cfg = ig_trainer_defaults();
    pair p;
    pair_make(&p, cfg);
    enum { N = 300 };
    ig_tensor *xc = random_x(p.cpu, N, 41), *yc = random_labels(p.cpu, N, 42);
    ig_dataset *dc, *dg;
    assert_int_equal(ig_dataset_create(p.cpu, xc, yc, &dc), IG_OK);
    assert_int_equal(ig_dataset_create(p.gpu, xc, yc, &dg), IG_OK);
    ig_epoch_config ep = ig_epoch_defaults();
    ep.batch_size = 64;
    ep.seed = 3;
    for (int e = 0; e < 3; e++) {
        int64_t sc, sg;
        assert_int_equal(ig_train_epoch(p.tc, dc, &ep, &sc), IG_OK);
        assert_int_equal(ig_train_epoch(p.tg, dg, &ep, &sg), IG_OK);
        assert_int_equal(sc, 5);
        assert_int_equal(sg, 5);
    }
    float lc[15], lg[15];
    assert_int_equal(ig_trainer_losses(p.tc, 0, 15, lc), IG_OK);
    assert_int_equal(ig_trainer_losses(p.tg, 0, 15, lg), IG_OK);
    assert_true(rel_err(lg, lc, 15) < 1e-5);
    assert_true(params_rel_err(p.mc, p.mg) < 1e-4);
    ig_eval_result rc, rg;
    assert_int_equal(ig_evaluate(p.tc, dc, 128, &rc), IG_OK);
    assert_int_equal(ig_evaluate(p.tg, dg, 128, &rg), IG_OK);
    assert_int_equal(rc.count, N);
    assert_int_equal(rg.count, N);
    assert_int_equal(rc.correct, rg.correct);
    assert_true(fabsf(rc.loss - rg.loss) <= 1e-5f * fabsf(rc.loss));
    ig_dataset_destroy(dc);
    ig_dataset_destroy(dg);
    ig_tensor_release(xc);
    ig_tensor_release(yc);
    pair_free(&p);
}

/* ---------------------------------------------------------------- GEMMs */

/* The GEMM-shaped nodes: a MATMUL (ta, tb), a DENSE with bias + ReLU or + tanh (a [m, k],
 * b [n, k]), a DENSE_WGRAD (dz [k, m], x [k, n] -> dw [m, n] and the bias gradient [m]). */
enum { GEMM_MATMUL, GEMM_DENSE_RELU, GEMM_DENSE_TANH, GEMM_WGRAD };

/* One such node of the shapes of a batch-128 step, run three times on ctx (eager, captured,
 * replayed): its outputs (m·n values, then for GEMM_WGRAD the m of the bias gradient) of the
 * last run, and whether all three agree bit for bit. */
static bool run_gemm_node(ig_ctx *ctx, int kind, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float *c)
{
    ig_graph g;
    ig_graph_init(&g);
    bool dense = kind == GEMM_DENSE_RELU || kind == GEMM_DENSE_TANH;
    if (kind == GEMM_WGRAD) ta = true, tb = false;
    if (dense) ta = false, tb = true;
    ig_shape as = {.ndim = 2, .d = {ta ? k : m, ta ? m : k}}, bs = {.ndim = 2, .d = {tb ? n : k, tb ? k : n}};
    ig_shape bias_s = {.ndim = 1, .d = {n}};
    int in[3] = {ig_graph_leaf(&g, &as, IG_F32, "a"), ig_graph_leaf(&g, &bs, IG_F32, "b"),
                 ig_graph_leaf(&g, &bias_s, IG_F32, "bias")};
    for (int i = 0; i < 3; i++) g.vals[in[i]].buf = IG_BUF_IO;
    ig_attrs at = {.i = {ta, tb}};
    if (dense) at = (ig_attrs){.i = {1, kind == GEMM_DENSE_RELU ? IG_ACT_RELU : IG_ACT_TANH}};
    int out[2], n_out = kind == GEMM_WGRAD ? 2 : 1;
    int op = dense ? IG_OP_DENSE : kind == GEMM_WGRAD ? IG_OP_DENSE_WGRAD : IG_OP_MATMUL;
    assert_int_equal(ig_graph_node(&g, op, in, dense ? 3 : 2, &at, "gemm", out), IG_OK);
    for (int o = 0; o < n_out; o++) g.vals[out[o]].buf = IG_BUF_IO;
    size_t na = (size_t)(m * k), nb = (size_t)(n * k), nc = (size_t)(m * n) + (kind == GEMM_WGRAD ? (size_t)m : 0);
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *bias = malloc((size_t)n * sizeof *bias);
    float *first = malloc(nc * sizeof *first);
    uint64_t seed = 5;
    for (size_t i = 0; i < na; i++) a[i] = frand(&seed);
    for (size_t i = 0; i < nb; i++) b[i] = frand(&seed);
    for (int64_t i = 0; i < n; i++) bias[i] = frand(&seed);
    ig_program *p;
    assert_int_equal(ig_program_create(ctx, &g, &p), IG_OK);
    bool same = true;
    for (int run = 0; run < 3; run++) {
        assert_int_equal(ig_program_write(p, in[0], a, na * sizeof *a), IG_OK);
        assert_int_equal(ig_program_write(p, in[1], b, nb * sizeof *b), IG_OK);
        if (dense) assert_int_equal(ig_program_write(p, in[2], bias, (size_t)n * sizeof *bias), IG_OK);
        assert_int_equal(ig_program_run(p, NULL, NULL, NULL), IG_OK);
        float *dst = run ? c : first;
        assert_int_equal(ig_program_read(p, out[0], dst, (size_t)(m * n) * sizeof *c), IG_OK);
        if (n_out == 2) assert_int_equal(ig_program_read(p, out[1], dst + m * n, (size_t)m * sizeof *c), IG_OK);
        if (run) same &= memcmp(c, first, nc * sizeof *c) == 0;
    }
    ig_program_destroy(p);
    ig_graph_free(&g);
    free(a), free(b), free(bias), free(first);
    return same;
}

/* The GEMMs against the CPU's — each transpose, ragged sizes, the fused epilogues, products
 * split over k and not — through our kernel and, with INGOT_CUDA_GEMM=cublaslt, through
 * cuBLASLt; the same bits on every run (eager, captured, replayed). */
static void test_gemm_matches_cpu(void **state)
{
    static const struct {
        int kind;
        bool ta, tb;
        int64_t m, n, k;
    } cases[] = {
        {GEMM_DENSE_RELU, 0, 0, 128, 512, 784}, {GEMM_MATMUL, false, false, 128, 512, 512},
        {GEMM_MATMUL, true, false, 100, 70, 290}, {GEMM_MATMUL, true, true, 37, 129, 1000},
        {GEMM_MATMUL, false, true, 128, 10, 512}, {GEMM_MATMUL, false, false, 256, 64, 16},
        {GEMM_DENSE_TANH, 0, 0, 128, 128, 3136}, {GEMM_DENSE_RELU, 0, 0, 3, 5, 7},
        {GEMM_WGRAD, 0, 0, 512, 784, 128},      {GEMM_WGRAD, 0, 0, 10, 128, 128},
        {GEMM_WGRAD, 0, 0, 33, 65, 900},        {GEMM_MATMUL, false, false, 1024, 640, 256},
        {GEMM_DENSE_TANH, 0, 0, 64, 10, 300},   {GEMM_DENSE_RELU, 0, 0, 128, 300, 200},
        {GEMM_WGRAD, 0, 0, 300, 200, 128},
    };
    ig_ctx *cpu;
    assert_int_equal(ig_ctx_create(IG_DEVICE_CPU, &cpu), IG_OK);
    for (int lt = 0; lt < 2; lt++) {
        ig_ctx *gpu;
        if (lt) assert_int_equal(setenv("INGOT_CUDA_GEMM", "cublaslt", 1), 0);
        assert_int_equal(ig_ctx_create(IG_DEVICE_CUDA, &gpu), IG_OK);
        unsetenv("INGOT_CUDA_GEMM");
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            int64_t m = cases[i].m, n = cases[i].n, k = cases[i].k;
            size_t nc = (size_t)(m * n + m);
            float *cc = malloc(nc * sizeof *cc), *cg = malloc(nc * sizeof *cg);
            run_gemm_node(cpu, cases[i].kind, cases[i].ta, cases[i].tb, m, n, k, cc);
            bool same = run_gemm_node(gpu, cases[i].kind, cases[i].ta, cases[i].tb, m, n, k, cg);
            double e = rel_err(cg, cc, m * n + (cases[i].kind == GEMM_WGRAD ? m : 0));
            if (e > 1e-5 || !same)
                fail_msg("gemm case %zu (%s): rel err %.3g, runs %s", i, lt ? "cuBLASLt" : "ours", e,
                         same ? "agree" : "differ");
            free(cc), free(cg);
        }
        ig_ctx_destroy(gpu);
    }
    ig_ctx_destroy(cpu);
}

/* ---------------------------------------------------------------- pooling */

/* One POOL2D node (attrs {mode, kernel, stride, padding}) on x [6, 3, h, w] and its
 * gradient for a seed dy, run on ctx: y and dx. */
static void run_pool_node(ig_ctx *ctx, const int64_t *at, int64_t h, int64_t w, float *y, size_t ny, float *dx,
                          size_t nx)
{
    ig_graph g;
    ig_graph_init(&g);
    ig_shape xs = {.ndim = 4, .d = {6, 3, h, w}};
    int xv = ig_graph_leaf(&g, &xs, IG_F32, "x"), yv, dyv, dxv;
    assert_true(xv >= 0);
    g.vals[xv].buf = IG_BUF_IO;
    ig_attrs attrs = {.i = {at[0], at[1], at[2], at[3]}};
    assert_int_equal(ig_graph_node(&g, IG_OP_POOL2D, &xv, 1, &attrs, "pool", &yv), IG_OK);
    assert_int_equal(ig_shape_numel(&g.vals[yv].shape), ny);
    dyv = ig_graph_leaf(&g, &g.vals[yv].shape, IG_F32, "dy");
    assert_true(dyv >= 0);
    g.vals[dyv].buf = IG_BUF_IO;
    assert_int_equal(ig_autodiff(&g, 1, &yv, &dyv, 1, &xv, &dxv), IG_OK);
    assert_int_equal(ig_graph_materialize(&g, yv, &yv), IG_OK);
    assert_int_equal(ig_graph_materialize(&g, dxv, &dxv), IG_OK);
    g.vals[yv].buf = g.vals[dxv].buf = IG_BUF_IO;
    float *x = malloc(nx * sizeof *x), *dy = malloc(ny * sizeof *dy);
    uint64_t seed = 11;
    /* a coarse grid of values, so max windows meet ties (the first maximum must win) */
    for (size_t i = 0; i < nx; i++) x[i] = roundf(4.0f * frand(&seed)) / 4.0f;
    for (size_t i = 0; i < ny; i++) dy[i] = frand(&seed);
    ig_program *p;
    assert_int_equal(ig_program_create(ctx, &g, &p), IG_OK);
    assert_int_equal(ig_program_write(p, xv, x, nx * sizeof *x), IG_OK);
    assert_int_equal(ig_program_write(p, dyv, dy, ny * sizeof *dy), IG_OK);
    assert_int_equal(ig_program_run(p, NULL, NULL, NULL), IG_OK);
    assert_int_equal(ig_program_read(p, yv, y, ny * sizeof *y), IG_OK);
    assert_int_equal(ig_program_read(p, dxv, dx, nx * sizeof *dx), IG_OK);
    ig_program_destroy(p);
    ig_graph_free(&g);
    free(x);
    free(dy);
}

/* Each pooling's forward and backward against the CPU's (1e-5), and twice on the GPU, bit
 * for bit: the backward pass gathers per input (or, for windows that tile the plane, writes
 * per window), so it needs no atomics. Planes of 9 × 8 and of 8 × 6, which 2 × 2 windows tile. */
static void test_pool_kernels_match_cpu(void **state)
{
    static const int64_t cases[][4] = {
        {IG_POOL_MAX, 2, 2, 0}, {IG_POOL_MAX, 3, 2, 1}, {IG_POOL_MAX, 2, 1, 0}, {IG_POOL_AVG, 3, 2, 1},
        {IG_POOL_AVG, 2, 1, 1}, {IG_POOL_GLOBAL_AVG, 0, 0, 0}, {IG_POOL_AVG, 2, 2, 0},
    };
    static const int64_t sides[][2] = {{9, 8}, {8, 6}};
    ig_ctx *cpu, *gpu;
    assert_int_equal(ig_ctx_create(IG_DEVICE_CPU, &cpu), IG_OK);
    assert_int_equal(ig_ctx_create(IG_DEVICE_CUDA, &gpu), IG_OK);
    for (size_t c = 0; c < 2 * sizeof cases / sizeof *cases; c++) {
        const int64_t *at = cases[c / 2], h = sides[c % 2][0], w = sides[c % 2][1];
        int64_t oh = 1, ow = 1;
        if (at[0] != IG_POOL_GLOBAL_AVG) {
            oh = (h + 2 * at[3] - at[1]) / at[2] + 1;
            ow = (w + 2 * at[3] - at[1]) / at[2] + 1;
        }
        size_t ny = (size_t)(6 * 3 * oh * ow), nx = (size_t)(6 * 3 * h * w);
        float *yc = malloc(ny * sizeof(float)), *yg = malloc(ny * sizeof(float)), *yg2 = malloc(ny * sizeof(float));
        float *dc = malloc(nx * sizeof(float)), *dg = malloc(nx * sizeof(float)), *dg2 = malloc(nx * sizeof(float));
        run_pool_node(cpu, at, h, w, yc, ny, dc, nx);
        run_pool_node(gpu, at, h, w, yg, ny, dg, nx);
        run_pool_node(gpu, at, h, w, yg2, ny, dg2, nx);
        double ey = rel_err(yg, yc, (int64_t)ny), ed = rel_err(dg, dc, (int64_t)nx);
        if (ey > 1e-5 || ed > 1e-5) fail_msg("pool case %zu: y rel err %.3g, dx rel err %.3g", c, ey, ed);
        assert_memory_equal(yg, yg2, ny * sizeof(float));
        assert_memory_equal(dg, dg2, nx * sizeof(float));
        free(yc), free(yg), free(yg2), free(dc), free(dg), free(dg2);
    }
    ig_ctx_destroy(cpu);
    ig_ctx_destroy(gpu);
}

/* image → pool → flatten → dense trained a few steps on both backends: losses, parameters
 * and predictions agree (1e-5). */
static ig_model *build_pool_model(ig_ctx *ctx, int kind)
{
    ig_model *m;
    assert_int_equal(ig_model_create(ctx, (int64_t[]){BATCH, 2, 7, 6}, 4, &m), IG_OK);
    ig_value v = ig_model_input(m);
    if (kind == 0) v = ig_flatten(m, ig_maxpool2d(m, v, 3, 2, 1, "pool"), "flat");
    else if (kind == 1) v = ig_flatten(m, ig_avgpool2d(m, v, 2, 1, 0, "pool"), "flat");
    else v = ig_global_avgpool(m, v, "pool");
    ig_dense(m, v, OUT, true, "fc");
    assert_int_equal(ig_model_status(m), IG_OK);
    return m;
}

static ig_tensor *random_images(ig_ctx *ctx, int64_t n, uint64_t seed)
{
    ig_tensor *x;
    assert_int_equal(ig_tensor_create(ctx, IG_F32, (int64_t[]){n, 2, 7, 6}, 4, &x), IG_OK);
    float *d = ig_tensor_data(x);
    for (int64_t i = 0; i < n * 2 * 7 * 6; i++) d[i] = frand(&seed);
    return x;
}

typedef ig_model *(*model_fn)(ig_ctx *ctx, int kind);
typedef ig_tensor *(*input_fn)(ig_ctx *ctx, int64_t n, uint64_t seed);

/* Trains model `kind` of `build` 5 steps on both backends from the same parameters: losses,
 * parameters (so the backward kernels) and predictions agree to 1e-5. */
static void compare_on_both(model_fn build, input_fn input, int kind, const char *what)
{
    ig_ctx *cpu, *gpu;
    assert_int_equal(ig_ctx_create(IG_DEVICE_CPU, &cpu), IG_OK);
    assert_int_equal(ig_ctx_create(IG_DEVICE_CUDA, &gpu), IG_OK);
    ig_model *mc = build(cpu, kind), *mg = build(gpu, kind);
    copy_params(mc, mg);
    ig_trainer_config cfg = ig_trainer_defaults();
    ig_trainer *tc, *tg;
    assert_int_equal(ig_trainer_create(mc, &cfg, &tc), IG_OK);
    assert_int_equal(ig_trainer_create(mg, &cfg, &tg), IG_OK);
    for (int s = 0; s < 5; s++) {
        ig_tensor *xc = input(cpu, BATCH, 300 + s), *xg = input(gpu, BATCH, 300 + s);
        ig_tensor *yc = random_labels(cpu, BATCH, 400 + s), *yg = random_labels(gpu, BATCH, 400 + s);
        float lc, lg;
        assert_int_equal(ig_train_batch(tc, xc, yc, &lc), IG_OK);
        assert_int_equal(ig_train_batch(tg, xg, yg, &lg), IG_OK);
        if (fabsf(lc - lg) > 1e-5f * fabsf(lc)) fail_msg("%s %d step %d: cpu %.8f, cuda %.8f", what, kind, s, lc, lg);
        ig_tensor_release(xc), ig_tensor_release(xg), ig_tensor_release(yc), ig_tensor_release(yg);
    }
    double e = params_rel_err(mc, mg);
    if (e > 1e-5) fail_msg("%s %d: parameters differ, rel err %.3g", what, kind, e);
    ig_tensor *xc = input(cpu, 33, 9), *xg = input(gpu, 33, 9), *oc, *og;
    assert_int_equal(ig_predict(mc, xc, &oc), IG_OK);
    assert_int_equal(ig_predict(mg, xg, &og), IG_OK);
    double ep = rel_err(ig_tensor_data(og), ig_tensor_data(oc), ig_tensor_numel(oc));
    if (ep > 1e-5) fail_msg("%s %d: predictions differ, rel err %.3g", what, kind, ep);
    ig_tensor_release(xc), ig_tensor_release(xg), ig_tensor_release(oc), ig_tensor_release(og);
    ig_trainer_destroy(tc);
    ig_trainer_destroy(tg);
    ig_model_destroy(mc);
    ig_model_destroy(mg);
    ig_ctx_destroy(cpu);
    ig_ctx_destroy(gpu);
}

/* dense(24) → ReLU → dense(classes) trained with the sparse cross-entropy on both backends,
 * through both CUDA paths of the fused classifier loss: the last layer's GEMM takes the loss when
 * the classes fit one tile of our kernel (5 and 16, with and without a bias; with label
 * smoothing), a cross-entropy kernel after it when they do not (20). Each step's loss and the
 * trained parameters agree (1e-5). */
static void test_classifier_heads_match_cpu(void **state)
{
    static const struct { int classes; bool bias; float smoothing; } heads[] = {
        {5, true, 0.0f}, {5, false, 0.1f}, {16, true, 0.0f}, {20, true, 0.1f}, {20, false, 0.0f}};
    for (size_t h = 0; h < sizeof heads / sizeof *heads; h++) {
        ig_ctx *ctx[2];
        ig_model *m[2];
        ig_trainer *t[2];
        ig_trainer_config cfg = ig_trainer_defaults();
        cfg.label_smoothing = heads[h].smoothing;
        for (int d = 0; d < 2; d++) {
            assert_int_equal(ig_ctx_create(d ? IG_DEVICE_CUDA : IG_DEVICE_CPU, &ctx[d]), IG_OK);
            assert_int_equal(ig_model_create(ctx[d], (int64_t[]){BATCH, IN}, 2, &m[d]), IG_OK);
            ig_value v = ig_relu(m[d], ig_dense(m[d], ig_model_input(m[d]), 24, true, "fc1"), "relu");
            ig_dense(m[d], v, heads[h].classes, heads[h].bias, "head");
            assert_int_equal(ig_model_status(m[d]), IG_OK);
        }
        copy_params(m[0], m[1]);
        for (int d = 0; d < 2; d++) assert_int_equal(ig_trainer_create(m[d], &cfg, &t[d]), IG_OK);
        for (int s = 0; s < 5; s++) {
            float loss[2];
            for (int d = 0; d < 2; d++) {
                ig_tensor *x = random_x(ctx[d], BATCH, 700 + s), *y;
                assert_int_equal(ig_tensor_create(ctx[d], IG_I32, (int64_t[]){BATCH}, 1, &y), IG_OK);
                int32_t *labels = ig_tensor_data(y);
                for (int i = 0; i < BATCH; i++) labels[i] = (i * 7 + s) % heads[h].classes;
                assert_int_equal(ig_train_batch(t[d], x, y, &loss[d]), IG_OK);
                ig_tensor_release(x), ig_tensor_release(y);
            }
            if (fabsf(loss[0] - loss[1]) > 1e-5f * fabsf(loss[0]))
                fail_msg("head %zu step %d: cpu %.8f, cuda %.8f", h, s, loss[0], loss[1]);
        }
        double e = params_rel_err(m[0], m[1]);
        if (e > 1e-5) fail_msg("head %zu: parameters differ, rel err %.3g", h, e);
        for (int d = 0; d < 2; d++) {
            ig_trainer_destroy(t[d]);
            ig_model_destroy(m[d]);
            ig_ctx_destroy(ctx[d]);
        }
    }
}

static void test_pool_models_match_cpu(void **state)
{
    for (int kind = 0; kind < 3; kind++) compare_on_both(build_pool_model, random_images, kind, "pool model");
}

/* dense(70) → activation → dense on both backends, a few training steps: losses, parameters
 * (so the backward kernels) and predictions agree (1e-5). 70 units: softmax rows longer than
 * a warp, with a ragged end. */
static ig_model *build_act_model(ig_ctx *ctx, int kind)
{
    ig_model *m;
    assert_int_equal(ig_model_create(ctx, (int64_t[]){BATCH, IN}, 2, &m), IG_OK);
    ig_value v = ig_dense(m, ig_model_input(m), 70, true, "fc1");
    switch (kind) {
    case 0: v = ig_leaky_relu(m, v, 0.2f, "act"); break;
    case 1: v = ig_elu(m, v, 1.3f, "act"); break;
    case 2: v = ig_sigmoid(m, v, "act"); break;
    case 3: v = ig_swish(m, v, "act"); break;
    case 4: v = ig_gelu(m, v, false, "act"); break;
    case 5: v = ig_gelu(m, v, true, "act"); break;
    default: v = ig_softmax(m, v, "act"); break;
    }
    ig_dense(m, v, OUT, true, "fc2");
    assert_int_equal(ig_model_status(m), IG_OK);
    return m;
}

static void test_activation_models_match_cpu(void **state)
{
    for (int kind = 0; kind < 7; kind++) compare_on_both(build_act_model, random_x, kind, "activation");
}

/* dense(70) → dropout → dense: both backends draw the same masks (the hash is shared and
 * keyed by seed, layer and the step counter on the device), so the training losses and
 * parameters agree as without dropout; predictions (dropout off) too. */
static ig_model *build_dropout_model(ig_ctx *ctx, int kind)
{
    ig_model *m;
    assert_int_equal(ig_model_create(ctx, (int64_t[]){BATCH, IN}, 2, &m), IG_OK);
    ig_value v = ig_relu(m, ig_dense(m, ig_model_input(m), 70, true, "fc1"), "relu");
    v = ig_dropout(m, v, kind == 0 ? 0.3f : 0.75f, "drop");
    ig_dense(m, v, OUT, true, "fc2");
    assert_int_equal(ig_model_status(m), IG_OK);
    return m;
}

static void test_dropout_models_match_cpu(void **state)
{
    for (int kind = 0; kind < 2; kind++) compare_on_both(build_dropout_model, random_x, kind, "dropout");
}

/* ---------------------------------------------------------------- convolution */

typedef struct conv_case {
    int64_t n, c, h, w, f, k, stride, pad;
    bool bias;
    int act; /* fused into the node, as the fusion pass does */
} conv_case;

enum { CONV_Y, CONV_DX, CONV_DW, CONV_DB, CONV_OUTS };

/* One CONV2D node and the gradients of its inputs for a seed dy (so CONV2D_DGRAD,
 * CONV2D_WGRAD and, with a bias, CHANNEL_SUM), run three times on ctx (eager, captured,
 * replayed; the IO blocks alternate, so the plans meet other addresses): out[k] (allocated
 * here; db NULL without a bias) of the last run, and whether the three runs agree bit for bit. */
static bool run_conv_node(ig_ctx *ctx, const conv_case *cc, float *out[CONV_OUTS], size_t len[CONV_OUTS])
{
    ig_graph g;
    ig_graph_init(&g);
    const ig_shape shapes[3] = {{.ndim = 4, .d = {cc->n, cc->c, cc->h, cc->w}},
                                {.ndim = 4, .d = {cc->f, cc->c, cc->k, cc->k}},
                                {.ndim = 1, .d = {cc->f}}};
    static const char *names[3] = {"x", "w", "b"};
    int n_in = cc->bias ? 3 : 2, in[4], vals[CONV_OUTS] = {-1, -1, -1, -1};
    for (int i = 0; i < n_in; i++) {
        in[i] = ig_graph_leaf(&g, &shapes[i], IG_F32, names[i]);
        assert_true(in[i] >= 0);
        g.vals[in[i]].buf = IG_BUF_IO;
    }
    ig_attrs at = {.i = {cc->stride, cc->pad, cc->act}};
    assert_int_equal(ig_graph_node(&g, IG_OP_CONV2D, in, n_in, &at, "conv", &vals[CONV_Y]), IG_OK);
    in[n_in] = ig_graph_leaf(&g, &g.vals[vals[CONV_Y]].shape, IG_F32, "dy");
    assert_true(in[n_in] >= 0);
    g.vals[in[n_in]].buf = IG_BUF_IO;
    assert_int_equal(ig_autodiff(&g, 1, &vals[CONV_Y], &in[n_in], n_in, in, &vals[CONV_DX]), IG_OK);
    float *data[4], *first[CONV_OUTS] = {0};
    size_t bytes[4]; /* g belongs to the program once it is made */
    uint64_t seed = 21;
    for (int i = 0; i <= n_in; i++) {
        bytes[i] = ig_val_bytes(&g.vals[in[i]]);
        data[i] = malloc(bytes[i]);
        for (size_t j = 0; j < bytes[i] / sizeof(float); j++) data[i][j] = frand(&seed);
    }
    for (int k = 0; k < CONV_OUTS; k++) {
        out[k] = NULL;
        len[k] = 0;
        if (vals[k] < 0) continue;
        assert_int_equal(ig_graph_materialize(&g, vals[k], &vals[k]), IG_OK);
        g.vals[vals[k]].buf = IG_BUF_IO;
        len[k] = ig_shape_numel(&g.vals[vals[k]].shape);
        out[k] = malloc(len[k] * sizeof(float));
        first[k] = malloc(len[k] * sizeof(float));
    }
    ig_program *p;
    assert_int_equal(ig_program_create(ctx, &g, &p), IG_OK);
    bool same = true;
    for (int run = 0; run < 3; run++) {
        for (int i = 0; i <= n_in; i++)
            assert_int_equal(ig_program_write(p, in[i], data[i], bytes[i]), IG_OK);
        assert_int_equal(ig_program_run(p, NULL, NULL, NULL), IG_OK);
        for (int k = 0; k < CONV_OUTS; k++) {
            if (!out[k]) continue;
            assert_int_equal(ig_program_read(p, vals[k], run ? out[k] : first[k], len[k] * sizeof(float)), IG_OK);
            if (run) same &= memcmp(out[k], first[k], len[k] * sizeof(float)) == 0;
        }
    }
    ig_program_destroy(p);
    ig_graph_free(&g);
    for (int i = 0; i <= n_in; i++) free(data[i]);
    for (int k = 0; k < CONV_OUTS; k++) free(first[k]);
    return same;
}

/* The forward pass (with bias and fused ReLU or not), the data and weight gradients and the
 * bias gradient against the CPU's (1e-4), over 3×3, 1×1 and 5×5 kernels, strides 1 and 2 (with
 * rows left over), paddings 0 to 2, and channel counts where cuDNN picks other engines; the
 * same bits on every GPU run (deterministic engines only, captured as eager). */
static void test_conv_kernels_match_cpu(void **state)
{
    static const conv_case cases[] = {
        {2, 3, 9, 8, 4, 3, 1, 1, true, IG_ACT_NONE},  {2, 3, 9, 8, 5, 3, 2, 1, true, IG_ACT_RELU},
        {3, 4, 7, 7, 6, 1, 1, 0, false, IG_ACT_NONE}, {4, 8, 9, 9, 16, 1, 2, 0, false, IG_ACT_NONE},
        {2, 2, 8, 9, 3, 5, 1, 2, true, IG_ACT_RELU},  {2, 5, 10, 11, 4, 3, 2, 0, false, IG_ACT_NONE},
        {8, 16, 16, 16, 32, 3, 1, 1, true, IG_ACT_RELU}, {4, 1, 28, 28, 32, 3, 1, 1, true, IG_ACT_RELU},
    };
    static const char *what[CONV_OUTS] = {"y", "dx", "dw", "db"};
    ig_ctx *cpu, *gpu;
    assert_int_equal(ig_ctx_create(IG_DEVICE_CPU, &cpu), IG_OK);
    assert_int_equal(ig_ctx_create(IG_DEVICE_CUDA, &gpu), IG_OK);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        float *oc[CONV_OUTS], *og[CONV_OUTS];
        size_t len[CONV_OUTS];
        run_conv_node(cpu, &cases[c], oc, len);
        bool same = run_conv_node(gpu, &cases[c], og, len);
        for (int k = 0; k < CONV_OUTS; k++) {
            if (!oc[k]) continue;
            double e = rel_err(og[k], oc[k], (int64_t)len[k]);
            if (!(e <= 1e-4)) fail_msg("conv case %zu: %s rel err %.3g", c, what[k], e);
            free(oc[k]), free(og[k]);
        }
        if (!same) fail_msg("conv case %zu: GPU runs differ", c);
    }
    ig_ctx_destroy(cpu);
    ig_ctx_destroy(gpu);
}

/* conv → ReLU (fused) → conv (stride 2, no bias) → flatten → dense, and conv 1×1 → Tanh
 * (fused) → global average pooling → dense, on images [BATCH, 2, 7, 6]. */
static ig_model *build_conv_model(ig_ctx *ctx, int kind)
{
    ig_model *m;
    assert_int_equal(ig_model_create(ctx, (int64_t[]){BATCH, 2, 7, 6}, 4, &m), IG_OK);
    ig_value v = ig_model_input(m);
    if (kind == 0) {
        v = ig_relu(m, ig_conv2d(m, v, 4, 3, 1, 1, true, "conv1"), "relu1");
        v = ig_flatten(m, ig_conv2d(m, v, 6, 3, 2, 1, false, "conv2"), "flat");
    } else {
        v = ig_global_avgpool(m, ig_tanh(m, ig_conv2d(m, v, 5, 1, 1, 0, true, "conv1"), "tanh1"), "pool");
    }
    ig_dense(m, v, OUT, true, "fc");
    assert_int_equal(ig_model_status(m), IG_OK);
    return m;
}

static void test_conv_models_match_cpu(void **state)
{
    for (int kind = 0; kind < 2; kind++) compare_on_both(build_conv_model, random_images, kind, "conv model");
}

/* A conv model trained with captured steps and with eager launches: the same losses and
 * parameters, bit for bit (the plans are made in the eager first run and reused by the
 * capture; the engines are deterministic). */
static void test_conv_graph_equals_eager(void **state)
{
    ig_ctx *graph_ctx, *eager_ctx;
    assert_int_equal(ig_ctx_create(IG_DEVICE_CUDA, &graph_ctx), IG_OK);
    setenv("INGOT_CUDA_GRAPHS", "0", 1);
    assert_int_equal(ig_ctx_create(IG_DEVICE_CUDA, &eager_ctx), IG_OK);
    unsetenv("INGOT_CUDA_GRAPHS");
    ig_model *mg = build_conv_model(graph_ctx, 0), *me = build_conv_model(eager_ctx, 0);
    copy_params(mg, me);
    ig_trainer_config cfg = ig_trainer_defaults();
    ig_trainer *tg, *te;
    assert_int_equal(ig_trainer_create(mg, &cfg, &tg), IG_OK);
    assert_int_equal(ig_trainer_create(me, &cfg, &te), IG_OK);
    enum { STEPS = 12 };
    for (int s = 0; s < STEPS; s++) {
        ig_tensor *x = random_images(graph_ctx, BATCH, 500 + s), *y = random_labels(graph_ctx, BATCH, 600 + s);
        assert_int_equal(ig_train_batch(tg, x, y, NULL), IG_OK);
        assert_int_equal(ig_train_batch(te, x, y, NULL), IG_OK);
        ig_tensor_release(x);
        ig_tensor_release(y);
    }
    float lg[STEPS], le[STEPS];
    assert_int_equal(ig_trainer_losses(tg, 0, STEPS, lg), IG_OK);
    assert_int_equal(ig_trainer_losses(te, 0, STEPS, le), IG_OK);
    assert_memory_equal(lg, le, sizeof lg);
    assert_true(params_identical(mg, me));
    ig_trainer_destroy(tg);
    ig_trainer_destroy(te);
    ig_model_destroy(mg);
    ig_model_destroy(me);
    ig_ctx_destroy(graph_ctx);
    ig_ctx_destroy(eager_ctx);
}

/* ---------------------------------------------------------------- batch normalisation */

typedef struct bn_case {
    int ndim;
    int64_t d[4];
    bool training;
} bn_case;

enum { BN_Y, BN_DX, BN_DGAMMA, BN_DBETA, BN_RMEAN, BN_RVAR, BN_OUTS };

/* One BATCHNORM node and the gradients of x, γ and β for a seed dy, run three times on ctx
 * (eager, captured, replayed), each run from the same running statistics: out[k] (allocated
 * here) of the last run, the running statistics as the run left them, and whether the three
 * runs agree bit for bit. Channels sit at different levels (up to 14 from 0) and spreads. */
static bool run_bn_node(ig_ctx *ctx, const bn_case *bc, float *out[BN_OUTS], size_t len[BN_OUTS])
{
    ig_graph g;
    ig_graph_init(&g);
    int64_t c = bc->d[1];
    const ig_shape xs = {.ndim = bc->ndim, .d = {bc->d[0], bc->d[1], bc->d[2], bc->d[3]}}, cs = {.ndim = 1, .d = {c}};
    static const char *names[6] = {"x", "gamma", "beta", "running_mean", "running_var", "dy"};
    int in[6], vals[BN_OUTS];
    for (int i = 0; i < 6; i++) {
        in[i] = ig_graph_leaf(&g, i == 0 || i == 5 ? &xs : &cs, IG_F32, names[i]);
        assert_true(in[i] >= 0);
        g.vals[in[i]].buf = IG_BUF_IO;
    }
    ig_attrs at = {.i = {bc->training}, .f = {0.1f, 1e-5f}};
    assert_int_equal(ig_graph_node(&g, IG_OP_BATCHNORM, in, 5, &at, "bn", vals), IG_OK);
    assert_int_equal(ig_autodiff(&g, 1, &vals[BN_Y], &in[5], 3, in, &vals[BN_DX]), IG_OK);
    vals[BN_RMEAN] = in[3];
    vals[BN_RVAR] = in[4];
    float *data[6];
    size_t bytes[6]; /* g belongs to the program once it is made */
    uint64_t seed = 31;
    int64_t hw = bc->ndim == 4 ? bc->d[2] * bc->d[3] : 1;
    for (int i = 0; i < 6; i++) {
        bytes[i] = ig_val_bytes(&g.vals[in[i]]);
        data[i] = malloc(bytes[i]);
        for (size_t j = 0; j < bytes[i] / sizeof(float); j++) {
            float r = frand(&seed);
            int64_t ch = (int64_t)j / hw % c;
            data[i][j] = i == 0 ? 3.0f * (float)(ch % 5) + (1.0f + (float)(ch % 3)) * r : i == 4 ? 1.0f + 0.5f * r : r;
        }
    }
    float *first[BN_OUTS];
    for (int k = 0; k < BN_OUTS; k++) {
        if (k < BN_RMEAN) {
            assert_int_equal(ig_graph_materialize(&g, vals[k], &vals[k]), IG_OK);
            g.vals[vals[k]].buf = IG_BUF_IO;
        }
        len[k] = ig_shape_numel(&g.vals[vals[k]].shape);
        out[k] = malloc(len[k] * sizeof(float));
        first[k] = malloc(len[k] * sizeof(float));
    }
    ig_program *p;
    assert_int_equal(ig_program_create(ctx, &g, &p), IG_OK);
    bool same = true;
    for (int run = 0; run < 3; run++) {
        for (int i = 0; i < 6; i++) assert_int_equal(ig_program_write(p, in[i], data[i], bytes[i]), IG_OK);
        assert_int_equal(ig_program_run(p, NULL, NULL, NULL), IG_OK);
        for (int k = 0; k < BN_OUTS; k++) {
            assert_int_equal(ig_program_read(p, vals[k], run ? out[k] : first[k], len[k] * sizeof(float)), IG_OK);
            if (run) same &= memcmp(out[k], first[k], len[k] * sizeof(float)) == 0;
        }
    }
    ig_program_destroy(p);
    ig_graph_free(&g);
    for (int i = 0; i < 6; i++) free(data[i]);
    for (int k = 0; k < BN_OUTS; k++) free(first[k]);
    return same;
}

/* Forward (y and the running statistics it leaves) and backward against the CPU's (1e-5), in
 * both modes, 4-D planes whose length is a multiple of 4 (float4 accesses) or not, and 2-D;
 * channels from a few values to some split over several blocks; the same bits on every GPU
 * run (fixed reduction orders, captured as eager). */
static void test_batchnorm_kernels_match_cpu(void **state)
{
    static const bn_case cases[] = {
        {4, {8, 5, 7, 9}, true},     {4, {8, 5, 7, 9}, false},  {4, {512, 3, 8, 8}, true},
        {4, {64, 6, 12, 12}, true},  {4, {2, 512, 4, 4}, true}, {4, {16, 4, 4, 4}, false},
        {2, {300, 7}, true},         {2, {300, 7}, false},      {2, {40000, 3}, true},
    };
    static const char *what[BN_OUTS] = {"y", "dx", "dgamma", "dbeta", "running_mean", "running_var"};
    ig_ctx *cpu, *gpu;
    assert_int_equal(ig_ctx_create(IG_DEVICE_CPU, &cpu), IG_OK);
    assert_int_equal(ig_ctx_create(IG_DEVICE_CUDA, &gpu), IG_OK);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        float *oc[BN_OUTS], *og[BN_OUTS];
        size_t len[BN_OUTS];
        run_bn_node(cpu, &cases[c], oc, len);
        bool same = run_bn_node(gpu, &cases[c], og, len);
        for (int k = 0; k < BN_OUTS; k++) {
            double e = rel_err(og[k], oc[k], (int64_t)len[k]);
            if (!(e <= 1e-5)) fail_msg("batchnorm case %zu: %s rel err %.3g", c, what[k], e);
            free(oc[k]), free(og[k]);
        }
        if (!same) fail_msg("batchnorm case %zu: GPU runs differ", c);
    }
    ig_ctx_destroy(cpu);
    ig_ctx_destroy(gpu);
}

/* image → batchnorm → ReLU → flatten → dense; dense(70, no bias: batch norm removes it, so
 * its gradient would be rounding noise, which Adam's normalisation magnifies into updates
 * that differ by backend) → batchnorm (2-D) → ReLU → dense;
 * conv (no bias) → batchnorm → ReLU → global average pooling → dense. compare_on_both also
 * compares the running statistics (parameters of the model, as buffers) and predictions,
 * which normalise with them. */
static ig_model *build_bn_model(ig_ctx *ctx, int kind)
{
    ig_model *m;
    if (kind == 1) assert_int_equal(ig_model_create(ctx, (int64_t[]){BATCH, IN}, 2, &m), IG_OK);
    else assert_int_equal(ig_model_create(ctx, (int64_t[]){BATCH, 2, 7, 6}, 4, &m), IG_OK);
    ig_value v = ig_model_input(m);
    if (kind == 0) {
        v = ig_flatten(m, ig_relu(m, ig_batchnorm(m, v, 0.1f, 1e-5f, "bn"), "relu"), "flat");
    } else if (kind == 1) {
        v = ig_relu(m, ig_batchnorm(m, ig_dense(m, v, 70, false, "fc1"), 0.2f, 1e-3f, "bn"), "relu");
    } else {
        v = ig_batchnorm(m, ig_conv2d(m, v, 6, 3, 1, 1, false, "conv"), 0.1f, 1e-5f, "bn");
        v = ig_global_avgpool(m, ig_relu(m, v, "relu"), "pool");
    }
    ig_dense(m, v, OUT, true, "fc");
    assert_int_equal(ig_model_status(m), IG_OK);
    return m;
}

static void test_batchnorm_models_match_cpu(void **state)
{
    compare_on_both(build_bn_model, random_images, 0, "batchnorm model");
    compare_on_both(build_bn_model, random_x, 1, "batchnorm model");
    compare_on_both(build_bn_model, random_images, 2, "batchnorm model");
}

/* ---------------------------------------------------------------- checkpoints */

/* Exact resume on CUDA: N units on a fresh context, a checkpoint, M more on another fresh
 * context from it, that checkpoint loaded into a third: the state of an uninterrupted
 * N+M-unit run bit for bit, for every scenario of resume_harness.c (each optimizer, a
 * schedule with clipping, dropout, batch norm, epochs with shuffling and monitors). */
static void test_exact_resume(void **state)
{
    char dir[] = "/tmp/ingot_cuda_resume_XXXXXX";
    assert_non_null(mkdtemp(dir));
    for (int i = 0; i < resume_n_scenarios; i++) {
        const resume_scenario *sc = &resume_scenarios[i];
        int n = sc->epochs ? 2 : 3, m = n;
        char a[128], b[128], why[256] = "";
        snprintf(a, sizeof a, "%s/%s-a", dir, sc->name);
        snprintf(b, sizeof b, "%s/%s-b", dir, sc->name);
        if (resume_segment(sc, IG_DEVICE_CUDA, NULL, a, 0, n) != IG_OK ||
            resume_segment(sc, IG_DEVICE_CUDA, a, b, n, m) != IG_OK)
            fail_msg("%s: %s", sc->name, ig_last_error());
        resume_run full, resumed;
        assert_int_equal(resume_open(sc, IG_DEVICE_CUDA, &full), IG_OK);
        assert_int_equal(resume_train(&full, 0, n + m), IG_OK);
        assert_int_equal(resume_open(sc, IG_DEVICE_CUDA, &resumed), IG_OK);
        ig_checkpoint_monitors mon = resume_monitors(&resumed);
        if (ig_checkpoint_load(resumed.t, b, &mon) != IG_OK) fail_msg("%s: %s", sc->name, ig_last_error());
        if (!resume_same(&full, &resumed, why, sizeof why)) fail_msg("%s: the resumed run differs: %s", sc->name, why);
        resume_close(&full);
        resume_close(&resumed);
    }
    assert_int_equal(resume_remove_dir(dir), IG_OK);
}

int main(void)
{
    if (no_cuda()) return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam_matches_cpu),
        cmocka_unit_test(test_adamw_matches_cpu),
        cmocka_unit_test(test_sgd_nesterov_matches_cpu),
        cmocka_unit_test(test_rmsprop_matches_cpu),
        cmocka_unit_test(test_adagrad_matches_cpu),
        cmocka_unit_test(test_adadelta_matches_cpu),
        cmocka_unit_test(test_nadam_matches_cpu),
        cmocka_unit_test(test_lbfgs_matches_cpu),
        cmocka_unit_test(test_mse_matches_cpu),
        cmocka_unit_test(test_accuracy_argmax_matches_cpu),
        cmocka_unit_test(test_loss_kernels_match_cpu),
        cmocka_unit_test(test_graph_equals_eager),
        cmocka_unit_test(test_loss_ring_and_memory),
        cmocka_unit_test(test_resident_epoch_matches_cpu),
        cmocka_unit_test(test_gemm_matches_cpu),
        cmocka_unit_test(test_pool_kernels_match_cpu),
        cmocka_unit_test(test_pool_models_match_cpu),
        cmocka_unit_test(test_classifier_heads_match_cpu),
        cmocka_unit_test(test_activation_models_match_cpu),
        cmocka_unit_test(test_dropout_models_match_cpu),
        cmocka_unit_test(test_conv_kernels_match_cpu),
        cmocka_unit_test(test_conv_models_match_cpu),
        cmocka_unit_test(test_conv_graph_equals_eager),
        cmocka_unit_test(test_batchnorm_kernels_match_cpu),
        cmocka_unit_test(test_batchnorm_models_match_cpu),
        cmocka_unit_test(test_exact_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
