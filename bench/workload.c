/* workload.c — the benchmark workloads and the timing of their training step. */
#include "workload.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

enum { CLASSES = 10, N_BATCHES = 4 };

const bench_workload bench_workloads[] = {
    {"mlp_small", "mlp", 128, 1, 28, IG_OPT_ADAM, 1e-3f, 0.0f},
    {"cnn_small", "cnn", 128, 1, 28, IG_OPT_ADAM, 1e-3f, 0.0f},
    {"resnet18", "resnet18", 256, 3, 32, IG_OPT_SGD, 0.05f, 0.9f},
};
const int bench_n_workloads = sizeof bench_workloads / sizeof bench_workloads[0];
const char *const bench_feed_names[] = {"resident", "batch", "loader", NULL};

const bench_workload *bench_find(const char *name)
{
    for (int i = 0; i < bench_n_workloads; i++)
        if (strcmp(bench_workloads[i].name, name) == 0) return &bench_workloads[i];
    return NULL;
}

bench_options bench_defaults(void)
{
    return (bench_options){.device = IG_DEVICE_AUTO, .feed = BENCH_RESIDENT, .prefetch = 2, .warmup = 20, .steps = 50, .windows = 7};
}

/* Where the steps' batches come from. */
typedef struct source {
    bench_feed feed;
    ig_dataset *ds;              /* resident */
    ig_augment augment;          /* resident */
    ig_loader *ld;               /* loader */
    ig_tensor *xs[N_BATCHES], *ys[N_BATCHES]; /* batch */
} source;

/* Runs `steps` or a few more steps (whole epochs over the resident dataset) and adds how
 * many ran to *done; returns when they are queued. */
static ig_status run_steps(ig_trainer *t, int64_t batch, const source *src, int steps, int64_t *done)
{
    if (src->feed == BENCH_RESIDENT) {
        ig_epoch_config ep = ig_epoch_defaults();
        ep.batch_size = batch;
        ep.shuffle = false;
        ep.drop_last = true;
        ep.augment = src->augment;
        for (int64_t n = 0; n < steps;) {
            int64_t k;
            ig_status st = ig_train_epoch(t, src->ds, &ep, &k);
            if (st != IG_OK) return st;
            n += k;
            *done += k;
        }
        return IG_OK;
    }
    for (int i = 0; i < steps; i++, (*done)++) {
        ig_tensor *x, *y;
        ig_status st = IG_OK;
        if (src->feed == BENCH_LOADER) {
            st = ig_loader_next(src->ld, &x, &y);
            if (st == IG_OK && !x) st = ig_loader_next(src->ld, &x, &y); /* an epoch ended: the next begins */
        } else {
            x = src->xs[*done % N_BATCHES];
            y = src->ys[*done % N_BATCHES];
        }
        if (st == IG_OK) st = ig_train_batch(t, x, y, NULL);
        if (st != IG_OK) return st;
    }
    return IG_OK;
}

/* Fixed pseudo-random samples (xorshift64): inputs uniform in [-1, 1), labels uniform. */
static void fill(float *x, int64_t nx, int32_t *y, int64_t ny)
{
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (int64_t i = 0; i < nx; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = (float)(s >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
    }
    for (int64_t i = 0; i < ny; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        y[i] = (int32_t)(s % CLASSES);
    }
}

#define CHECK(call)                                                      \
    do {                                                                 \
        if ((call) != IG_OK) {                                           \
            snprintf(r->error, sizeof r->error, "%s", ig_last_error());  \
            goto done;                                                   \
        }                                                                \
    } while (0)

bool bench_run(const bench_workload *wl, const bench_options *o, bench_result *r)
{
    memset(r, 0, sizeof *r);
    bool ok = false;
    ig_ctx *ctx = NULL;
    ig_model *m = NULL;
    ig_trainer *t = NULL;
    source src = {.feed = o->feed};
    ig_tensor *x_all = NULL, *y_all = NULL;
    double *ms = malloc((size_t)o->windows * sizeof *ms);
    if (!ms) {
        snprintf(r->error, sizeof r->error, "out of memory");
        return false;
    }

    CHECK(ig_ctx_create(o->device, &ctx));
    r->device = ig_device_name(ig_ctx_device(ctx));
    const int64_t batch = wl->batch, in = wl->channels * wl->side * wl->side;
    const int64_t shape[4] = {batch, wl->channels, wl->side, wl->side};
    const int64_t n = o->feed == BENCH_BATCH || o->samples == 0 ? N_BATCHES * batch : o->samples;
    r->samples = n;
    if (n < batch) {
        snprintf(r->error, sizeof r->error, "%lld samples are less than a batch (%lld)", (long long)n, (long long)batch);
        goto done;
    }
    CHECK(ig_tensor_create(ctx, IG_F32, (int64_t[]){n, wl->channels, wl->side, wl->side}, 4, &x_all));
    CHECK(ig_tensor_create(ctx, IG_I32, (int64_t[]){n}, 1, &y_all));
    float *x = ig_tensor_data(x_all);
    int32_t *y = ig_tensor_data(y_all);
    fill(x, n * in, y, n);
    ig_augment aug = ig_augment_defaults();
    if (o->augment) aug = (ig_augment){.crop_padding = 4, .flip_probability = 0.5f, .seed = 1};
    if (o->feed == BENCH_BATCH) {
        for (int b = 0; b < N_BATCHES; b++) {
            CHECK(ig_tensor_from_data(ctx, IG_F32, shape, 4, x + (size_t)(b * batch * in),
                                      (size_t)(batch * in) * sizeof *x, &src.xs[b]));
            CHECK(ig_tensor_from_data(ctx, IG_I32, &batch, 1, y + (size_t)(b * batch), (size_t)batch * sizeof *y,
                                      &src.ys[b]));
        }
    } else {
        CHECK(ig_dataset_create(ctx, x_all, y_all, &src.ds));
        src.augment = aug;
    }
    if (o->feed == BENCH_LOADER) {
        ig_loader_options lo = ig_loader_defaults();
        lo.batch_size = batch;
        lo.drop_last = true; /* every step the same shape, as the other feeds */
        lo.seed = 1;
        lo.prefetch = o->prefetch;
        lo.augment = aug;
        CHECK(ig_loader_create_with(src.ds, &lo, &src.ld));
    }

    CHECK(ig_model_create_preset(ctx, wl->preset, shape, 4, CLASSES, &m));
    ig_trainer_config cfg = ig_trainer_defaults_for(wl->opt);
    cfg.learning_rate = wl->lr;
    cfg.momentum = wl->momentum;
    cfg.loss = IG_LOSS_SPARSE_CROSS_ENTROPY;
    CHECK(ig_trainer_create(m, &cfg, &t));

    int64_t done = 0;
    CHECK(run_steps(t, batch, &src, o->warmup, &done));
    CHECK(ig_trainer_losses(t, ig_trainer_step_count(t) - 1, 1, &r->loss));
    for (int w = 0; w < o->windows; w++) {
        int64_t before = done;
        double t0 = bench_now();
        CHECK(run_steps(t, batch, &src, o->steps, &done));
        /* reading the last step's loss waits for the window's steps to complete */
        CHECK(ig_trainer_losses(t, ig_trainer_step_count(t) - 1, 1, &r->loss));
        ms[w] = (bench_now() - t0) * 1e3 / (double)(done - before);
    }
    qsort(ms, (size_t)o->windows, sizeof *ms, bench_cmp_double);
    int nw = o->windows;
    r->ms_median = nw % 2 ? ms[nw / 2] : 0.5 * (ms[nw / 2 - 1] + ms[nw / 2]);
    r->ms_min = ms[0];
    r->samples_per_s = (double)batch * 1e3 / r->ms_median;
    double flops; /* 3 × the forward pass's, as WORKLOADS.md counts */
    CHECK(ig_model_forward_flops(m, batch, &flops));
    r->mflop_per_step = 3.0 * flops * 1e-6;
    r->gflops = 3.0 * flops / (r->ms_median * 1e6);
    CHECK(ig_memory_stats_get(ctx, &r->mem));
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r->max_rss_kib = ru.ru_maxrss;
    ok = true;
done:
    for (int b = 0; b < N_BATCHES; b++) {
        ig_tensor_release(src.xs[b]);
        ig_tensor_release(src.ys[b]);
    }
    ig_loader_destroy(src.ld);
    ig_tensor_release(x_all);
    ig_tensor_release(y_all);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_dataset_destroy(src.ds);
    ig_ctx_destroy(ctx);
    free(ms);
    return ok;
}

void bench_print(FILE *f, const bench_workload *wl, const bench_options *o, const bench_result *r, bool json)
{
    bool augment = o->augment && o->feed != BENCH_BATCH;
    int prefetch = o->feed == BENCH_LOADER ? o->prefetch : 0;
    const ig_memory_stats *st = &r->mem;
    if (json) {
        fprintf(f, "{\"workload\":\"%s\",\"framework\":\"ingot\",\"device\":\"%s\",\"feed\":\"%s\",\"augment\":%s,"
                   "\"prefetch\":%d,\"samples\":%lld,\"batch\":%lld,\"warmup\":%d,\"steps\":%d,\"windows\":%d,"
                   "\"ms_per_step\":%.4f,\"ms_per_step_min\":%.4f,\"samples_per_s\":%.1f,\"gflops\":%.2f,\"final_loss\":%.4g,"
                   "\"arena_planned_bytes\":%zu,\"arena_unplanned_bytes\":%zu,\"device_peak_bytes\":%zu,"
                   "\"host_peak_bytes\":%zu,\"max_rss_kib\":%ld}\n",
                wl->name, r->device, bench_feed_names[o->feed], augment ? "true" : "false", prefetch, (long long)r->samples,
                (long long)wl->batch, o->warmup, o->steps, o->windows, r->ms_median, r->ms_min, r->samples_per_s, r->gflops,
                r->loss, st->arena_planned, st->arena_unplanned, st->device_peak, st->host_peak, r->max_rss_kib);
        return;
    }
    char feed[64];
    int len = snprintf(feed, sizeof feed, "%s%s", bench_feed_names[o->feed], augment ? "+augment" : "");
    if (o->feed == BENCH_LOADER) snprintf(feed + len, sizeof feed - (size_t)len, ", prefetch %d", prefetch);
    fprintf(f, "%s on %s (%s data, %lld samples): batch %lld, %d warm-up steps, %d windows of %d steps\n", wl->name,
            r->device, feed, (long long)r->samples, (long long)wl->batch, o->warmup, o->windows, o->steps);
    fprintf(f, "  ms/step     %.3f median, %.3f min\n", r->ms_median, r->ms_min);
    fprintf(f, "  samples/s   %.0f\n", r->samples_per_s);
    fprintf(f, "  GFLOP/s     %.1f (%.1f MFLOP/step)\n", r->gflops, r->mflop_per_step);
    fprintf(f, "  last loss   %.4g\n", r->loss);
    fprintf(f, "  arena       %.2f MiB planned, %.2f MiB unplanned\n", st->arena_planned / 1048576.0,
            st->arena_unplanned / 1048576.0);
    fprintf(f, "  peak memory %.2f MiB backend, %.2f MiB host, %.1f MiB max RSS\n", st->device_peak / 1048576.0,
            st->host_peak / 1048576.0, r->max_rss_kib / 1024.0);
}
