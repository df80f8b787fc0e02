/* test_schedules.c — learning-rate schedules against their closed forms (and against the
 * same rates written by hand: the step program computes them itself), clipping by global
 * norm where it binds, parameter groups (weight decay per parameter), early stopping and
 * reduce-on-plateau on scripted metrics, and the rejection of bad settings. CPU backend. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { D = 6, C = 3, N = 8 };

static void batch(ig_ctx *ctx, uint64_t seed, ig_tensor **x, ig_tensor **y)
{
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){N, D}, 2, x));
    OK(ig_tensor_create(ctx, IG_I32, (int64_t[]){N}, 1, y));
    float *xd = ig_tensor_data(*x);
    int32_t *yd = ig_tensor_data(*y);
    for (int i = 0; i < N * D; i++) xd[i] = (float)((seed * 7919 + (uint64_t)i * 104729) % 1000) / 500.0f - 1.0f;
    for (int i = 0; i < N; i++) yd[i] = (int32_t)((seed + (uint64_t)i) % C);
}

static ig_model *model(ig_ctx *ctx)
{
    ig_model *m;
    OK(ig_model_create(ctx, (int64_t[]){N, D}, 2, &m));
    ig_dense(m, ig_tanh(m, ig_dense(m, ig_model_input(m), 8, true, "fc1"), "t1"), C, true, "fc2");
    OK(ig_model_status(m));
    return m;
}

static ig_trainer *trainer(ig_model *m, const ig_trainer_config *cfg)
{
    ig_trainer *t;
    OK(ig_trainer_create(m, cfg, &t));
    return t;
}

static void step(ig_ctx *ctx, ig_trainer *t, uint64_t seed)
{
    ig_tensor *x, *y;
    batch(ctx, seed, &x, &y);
    OK(ig_train_batch(t, x, y, NULL));
    ig_tensor_release(x);
    ig_tensor_release(y);
}

/* The closed forms, written out again here from PyTorch's documentation. */
static double expected(const ig_trainer_config *c, int64_t t)
{
    const ig_lr_schedule *s = &c->schedule;
    double lr = c->learning_rate, pi = acos(-1.0);
    switch (s->kind) {
    case IG_SCHEDULE_STEP: lr *= pow(s->gamma, (double)(t / s->step_size)); break;
    case IG_SCHEDULE_MULTISTEP:
        for (int i = 0; i < s->n_milestones; i++)
            if (t >= s->milestones[i]) lr *= s->gamma;
        break;
    case IG_SCHEDULE_EXPONENTIAL: lr *= pow(s->gamma, (double)t); break;
    case IG_SCHEDULE_COSINE: lr = s->min_lr + (lr - s->min_lr) * (1 + cos(pi * (double)t / (double)s->total_steps)) / 2; break;
    case IG_SCHEDULE_ONE_CYCLE: {
        double max = s->max_lr, lo = max / s->div_factor, end = lo / s->final_div_factor;
        double up = s->pct_start * (double)s->total_steps - 1, last = (double)s->total_steps - 1;
        if (t <= up) lr = max + (lo - max) / 2 * (1 + cos(pi * (double)t / up));
        else lr = end + (max - end) / 2 * (1 + cos(pi * ((double)t - up) / (last - up)));
        break;
    }
    default: break;
    }
    if (t < s->warmup_steps) lr *= s->warmup_start + (1 - s->warmup_start) * (double)t / (double)s->warmup_steps;
    return lr;
}

static void check_schedule(ig_ctx *ctx, ig_trainer_config cfg, int steps)
{
    ig_model *m = model(ctx);
    ig_trainer *t = trainer(m, &cfg);
    for (int64_t s = 0; s < steps; s++) {
        double want = expected(&cfg, s), got = ig_trainer_current_learning_rate(t);
        if (fabs(got - want) > 1e-6 * fabs(want) + 1e-12)
            fail_msg("schedule %d, step %lld: lr %.9g, expected %.9g", (int)cfg.schedule.kind, (long long)s, got, want);
        step(ctx, t, (uint64_t)s);
    }
    ig_trainer_destroy(t);
    ig_model_destroy(m);
}

static void test_closed_forms(void **state)
{
    ig_ctx *ctx = *state;
    ig_trainer_config c = ig_trainer_defaults();
    c.optimizer = IG_OPT_SGD;
    c.learning_rate = 0.1f;
    c.schedule.kind = IG_SCHEDULE_STEP;
    c.schedule.step_size = 3;
    c.schedule.gamma = 0.5f;
    check_schedule(ctx, c, 10);
    c.schedule.kind = IG_SCHEDULE_MULTISTEP;
    c.schedule.n_milestones = 3;
    memcpy(c.schedule.milestones, (int64_t[]){2, 5, 6}, 3 * sizeof(int64_t));
    check_schedule(ctx, c, 9);
    c.schedule.kind = IG_SCHEDULE_EXPONENTIAL;
    c.schedule.gamma = 0.9f;
    check_schedule(ctx, c, 8);
    c.schedule.kind = IG_SCHEDULE_COSINE;
    c.schedule.total_steps = 6;
    c.schedule.min_lr = 0.01f;
    check_schedule(ctx, c, 9); /* past total_steps the closed form turns up again, as PyTorch's */
    c.schedule.kind = IG_SCHEDULE_ONE_CYCLE;
    c.schedule.total_steps = 20;
    c.schedule.max_lr = 0.5f;
    check_schedule(ctx, c, 20);
    c.schedule.kind = IG_SCHEDULE_COSINE; /* combined with warm-up */
    c.schedule.warmup_steps = 4;
    c.schedule.warmup_start = 0.25f;
    check_schedule(ctx, c, 8);
}

static float *params(ig_model *m, int64_t *n)
{
    *n = ig_model_num_params(m);
    float *p = malloc((size_t)*n * sizeof *p);
    int64_t off = 0;
    for (int i = 0; i < ig_model_param_count(m); i++) {
        int64_t shape[IG_MAX_DIMS], k = 1;
        int nd = ig_model_param_shape(m, i, shape);
        for (int d = 0; d < nd; d++) k *= shape[d];
        OK(ig_model_param_get(m, i, p + off, k));
        off += k;
    }
    return p;
}

/* The step program computes the scheduled rate itself: the same training with the rate
 * written by hand before each step ends in the same parameters, to the bit. */
static void test_schedule_reaches_the_step(void **state)
{
    ig_ctx *ctx = *state;
    ig_trainer_config c = ig_trainer_defaults();
    c.optimizer = IG_OPT_SGD;
    c.learning_rate = 0.2f;
    ig_trainer_config sched = c;
    sched.schedule.kind = IG_SCHEDULE_EXPONENTIAL;
    sched.schedule.gamma = 0.7f;
    ig_model *ma = model(ctx), *mb = model(ctx);
    ig_trainer *ta = trainer(ma, &sched), *tb = trainer(mb, &c);
    for (int s = 0; s < 6; s++) {
        OK(ig_trainer_set_learning_rate(tb, (float)((double)c.learning_rate * pow((double)0.7f, (double)s))));
        step(ctx, ta, (uint64_t)s);
        step(ctx, tb, (uint64_t)s);
    }
    int64_t n;
    float *pa = params(ma, &n), *pb = params(mb, &n);
    assert_memory_equal(pa, pb, (size_t)n * sizeof *pa);
    free(pa);
    free(pb);
    ig_trainer_destroy(ta);
    ig_trainer_destroy(tb);
    ig_model_destroy(ma);
    ig_model_destroy(mb);
}

/* With plain SGD (lr 1) and a tiny max norm the clip binds: the update is the gradient
 * scaled to that norm, so the parameters move by max_grad_norm in L2. */
static void test_clipping_binds(void **state)
{
    ig_ctx *ctx = *state;
    ig_trainer_config c = ig_trainer_defaults();
    c.optimizer = IG_OPT_SGD;
    c.learning_rate = 1.0f;
    c.max_grad_norm = 1e-3f;
    ig_model *m = model(ctx);
    ig_trainer *t = trainer(m, &c);
    int64_t n;
    float *before = params(m, &n);
    step(ctx, t, 3);
    float *after = params(m, &n);
    double moved = 0;
    for (int64_t i = 0; i < n; i++) moved += ((double)after[i] - before[i]) * ((double)after[i] - before[i]);
    moved = sqrt(moved);
    if (fabs(moved - 1e-3) > 1e-3 * 1e-3) fail_msg("the parameters moved by %.9g, expected 1e-3", moved);
    free(before);
    free(after);
    /* a generous norm does not bind: the update equals unclipped SGD's */
    ig_trainer_config loose = c;
    loose.max_grad_norm = 1e6f;
    c.max_grad_norm = 0;
    ig_model *ma = model(ctx), *mb = model(ctx);
    ig_trainer *ta = trainer(ma, &loose), *tb = trainer(mb, &c);
    step(ctx, ta, 4);
    step(ctx, tb, 4);
    float *pa = params(ma, &n), *pb = params(mb, &n);
    for (int64_t i = 0; i < n; i++) assert_true(fabsf(pa[i] - pb[i]) <= 1e-6f * (1 + fabsf(pb[i])));
    free(pa);
    free(pb);
    ig_trainer_destroy(t);
    ig_trainer_destroy(ta);
    ig_trainer_destroy(tb);
    ig_model_destroy(m);
    ig_model_destroy(ma);
    ig_model_destroy(mb);
}

/* Parameter i's values after one step, for one optimizer configuration. */
static float *after_one_step(ig_ctx *ctx, const ig_trainer_config *c, int param, int64_t *n)
{
    ig_model *m = model(ctx);
    ig_trainer *t = trainer(m, c);
    step(ctx, t, 5);
    int64_t shape[IG_MAX_DIMS];
    int nd = ig_model_param_shape(m, param, shape);
    *n = 1;
    for (int d = 0; d < nd; d++) *n *= shape[d];
    float *p = malloc((size_t)*n * sizeof *p);
    OK(ig_model_param_get(m, param, p, *n));
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    return p;
}

/* Parameter groups: with no decay on 1-D parameters, a bias moves exactly as without weight
 * decay and a weight exactly as with it (L2 for SGD, decoupled for AdamW). */
static void test_param_groups(void **state)
{
    ig_ctx *ctx = *state;
    for (int o = 0; o < 2; o++) {
        ig_trainer_config decay = ig_trainer_defaults_for(o ? IG_OPT_ADAMW : IG_OPT_SGD);
        decay.learning_rate = 0.1f;
        decay.weight_decay = 0.5f;
        ig_trainer_config groups = decay, none = decay;
        groups.no_decay_1d = true;
        none.weight_decay = 0;
        int64_t n;
        /* parameters: fc1.weight, fc1.bias, fc2.weight, fc2.bias */
        float *gb = after_one_step(ctx, &groups, 1, &n), *nb = after_one_step(ctx, &none, 1, &n);
        assert_memory_equal(gb, nb, (size_t)n * sizeof *gb);
        float *gw = after_one_step(ctx, &groups, 2, &n), *dw = after_one_step(ctx, &decay, 2, &n);
        assert_memory_equal(gw, dw, (size_t)n * sizeof *gw);
        float *db = after_one_step(ctx, &decay, 1, &n);
        assert_true(memcmp(db, nb, (size_t)n * sizeof *db) != 0); /* decay did reach the bias there */
        free(gb);
        free(nb);
        free(gw);
        free(dw);
        free(db);
    }
    ig_model *m = model(ctx);
    ig_trainer_config c = ig_trainer_defaults();
    ig_trainer *t = trainer(m, &c);
    assert_int_equal(ig_trainer_set_weight_decay_scale(t, 4, 0), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_trainer_set_weight_decay_scale(t, 0, -1), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_trainer_set_weight_decay_scale(NULL, 0, 0), IG_ERR_INVALID_ARGUMENT);
    OK(ig_trainer_set_weight_decay_scale(t, 0, 2.0f));
    ig_trainer_destroy(t);
    ig_model_destroy(m);
}

static void test_early_stopping(void **state)
{
    ig_early_stopping_config c = ig_early_stopping_defaults();
    c.patience = 2;
    c.min_delta = 0.01f;
    ig_early_stopping *es;
    OK(ig_early_stopping_create(&c, &es));
    const float losses[] = {1.0f, 0.9f, 0.895f, 0.893f, 0.85f, 0.86f, 0.87f};
    const bool improved[] = {true, true, false, false, true, false, false};
    const bool stop[] = {false, false, false, true, false, false, true};
    for (int i = 0; i < 7; i++) {
        bool imp, st;
        OK(ig_early_stopping_update(es, losses[i], &imp, &st));
        assert_int_equal(imp, improved[i]);
        assert_int_equal(st, stop[i]);
    }
    ig_early_stopping_destroy(es);
    c.patience = 0;
    assert_int_equal(ig_early_stopping_create(&c, &es), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_early_stopping_update(NULL, 1, NULL, NULL), IG_ERR_INVALID_ARGUMENT);
}

/* PyTorch's ReduceLROnPlateau on the same metrics: patience 1, factor 0.5, cooldown 1. */
static void test_plateau(void **state)
{
    ig_ctx *ctx = *state;
    ig_model *m = model(ctx);
    ig_trainer_config c = ig_trainer_defaults();
    c.learning_rate = 0.1f;
    ig_trainer *t = trainer(m, &c);
    ig_plateau_config pc = ig_plateau_defaults();
    pc.patience = 1;
    pc.factor = 0.5f;
    pc.cooldown = 1;
    pc.min_lr = 0.02f;
    ig_plateau *p;
    OK(ig_plateau_create(&pc, &p));
    const float metric[] = {1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f};
    const float lr_after[] = {0.1f, 0.1f, 0.05f, 0.05f, 0.05f, 0.025f, 0.025f, 0.025f};
    for (int i = 0; i < 8; i++) {
        bool reduced;
        OK(ig_plateau_update(p, t, metric[i], &reduced));
        if (fabsf(ig_trainer_learning_rate(t) - lr_after[i]) > 1e-7f)
            fail_msg("epoch %d: lr %g, expected %g", i, ig_trainer_learning_rate(t), lr_after[i]);
    }
    for (int i = 0; i < 6; i++) OK(ig_plateau_update(p, t, 1.0f, NULL));
    assert_true(fabsf(ig_trainer_learning_rate(t) - 0.02f) < 1e-7f); /* floored at min_lr */
    ig_plateau_destroy(p);
    pc.factor = 1.0f;
    assert_int_equal(ig_plateau_create(&pc, &p), IG_ERR_INVALID_ARGUMENT);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
}

static void rejects(ig_model *m, ig_trainer_config c, const char *needle)
{
    ig_trainer *t = NULL;
    assert_int_equal(ig_trainer_create(m, &c, &t), IG_ERR_INVALID_ARGUMENT);
    if (!strstr(ig_last_error(), needle)) fail_msg("message '%s' lacks '%s'", ig_last_error(), needle);
    assert_null(t);
}

static void test_bad_settings(void **state)
{
    ig_ctx *ctx = *state;
    ig_model *m = model(ctx);
    ig_trainer_config c = ig_trainer_defaults(), b;
    b = c, b.schedule.kind = IG_SCHEDULE_STEP, b.schedule.step_size = 0;
    rejects(m, b, "step_size");
    b = c, b.schedule.kind = IG_SCHEDULE_EXPONENTIAL, b.schedule.gamma = 0;
    rejects(m, b, "gamma");
    b = c, b.schedule.kind = IG_SCHEDULE_MULTISTEP, b.schedule.n_milestones = 2;
    b.schedule.milestones[0] = 5, b.schedule.milestones[1] = 5;
    rejects(m, b, "increasing");
    b = c, b.schedule.kind = IG_SCHEDULE_COSINE, b.schedule.total_steps = 1;
    rejects(m, b, "total_steps");
    b = c, b.schedule.kind = IG_SCHEDULE_ONE_CYCLE, b.schedule.total_steps = 100, b.schedule.pct_start = 1.5f;
    rejects(m, b, "pct_start");
    b = c, b.schedule.warmup_steps = 5, b.schedule.warmup_start = 0;
    rejects(m, b, "warmup");
    b = c, b.schedule.kind = (ig_schedule)42;
    rejects(m, b, "unknown kind");
    b = c, b.max_grad_norm = -1;
    rejects(m, b, "max_grad_norm");
    ig_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_closed_forms, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_schedule_reaches_the_step, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_clipping_binds, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_param_groups, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test(test_early_stopping),
        cmocka_unit_test_setup_teardown(test_plateau, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_bad_settings, setup_cpu_ctx, teardown_ctx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
