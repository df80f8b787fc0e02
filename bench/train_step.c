/* train_step.c — steady-state training-step benchmark of a workload of WORKLOADS.md, fp32,
 * sparse softmax cross-entropy, on a few fixed random batches:
 *   mlp_small  the "mlp" preset on 1×28×28, batch 128, Adam lr 1e-3
 *   cnn_small  the "cnn" preset on 1×28×28, batch 128, Adam lr 1e-3
 *   resnet18   the "resnet18" preset on 3×32×32, batch 256, SGD momentum 0.9 lr 0.05
 *
 *   bench_train_step [--workload mlp_small|cnn_small|resnet18] [--device cpu|cuda|auto]
 *                    [--feed resident|batch] [--warmup N] [--steps M] [--windows W] [--json]
 *
 * --feed resident (default): the batches form a dataset kept on the device and epochs of
 * ig_train_epoch cycle through them, so the data is on the device as the workload defines.
 * --feed batch: ig_train_batch with host tensors, the batch copied in by every step.
 * After N warm-up steps it times W windows of about M steps each, waiting for the device only
 * at window edges, and reports the median window's ms/step (and the fastest), samples/s,
 * GFLOP/s (3 × the forward matmul FLOPs per step) and the memory figures of the context. */
#include <ingot.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum { CLASSES = 10, N_BATCHES = 4 };

typedef struct workload {
    const char *name, *preset;
    int64_t batch, channels, side; /* input [batch, channels, side, side] */
    ig_optimizer opt;
    float lr, momentum;
} workload;

static const workload workloads[] = {
    {"mlp_small", "mlp", 128, 1, 28, IG_OPT_ADAM, 1e-3f, 0.0f},
    {"cnn_small", "cnn", 128, 1, 28, IG_OPT_ADAM, 1e-3f, 0.0f},
    {"resnet18", "resnet18", 256, 3, 32, IG_OPT_SGD, 0.05f, 0.9f},
};

#define CHECK(call)                                                             \
    do {                                                                        \
        if ((call) != IG_OK) {                                                  \
            fprintf(stderr, "bench_train_step: %s\n", ig_last_error());         \
            goto done;                                                          \
        }                                                                       \
    } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int usage(const char *msg)
{
    fprintf(stderr, "bench_train_step: %s\nusage: bench_train_step [--workload mlp_small|cnn_small|resnet18] "
                    "[--device cpu|cuda|auto] [--feed resident|batch] [--warmup N] [--steps M] [--windows W] [--json]\n",
            msg);
    return 2;
}

/* A positive integer option value, or -1. */
static int parse_count(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v > 0 && v <= 1000000 ? (int)v : -1;
}

/* Runs `steps` or a few more steps (whole epochs over the resident dataset) and adds how
 * many ran to *done; returns when they are queued. */
static ig_status run_steps(ig_trainer *t, int64_t batch, bool resident, ig_dataset *ds, ig_tensor *const *xs,
                           ig_tensor *const *ys, int steps, int64_t *done)
{
    if (resident) {
        ig_epoch_config ep = ig_epoch_defaults();
        ep.batch_size = batch;
        ep.shuffle = false;
        ep.drop_last = true;
        for (int64_t n = 0; n < steps;) {
            int64_t k;
            ig_status st = ig_train_epoch(t, ds, &ep, &k);
            if (st != IG_OK) return st;
            n += k;
            *done += k;
        }
        return IG_OK;
    }
    for (int i = 0; i < steps; i++, (*done)++) {
        int b = (int)(*done % N_BATCHES);
        ig_status st = ig_train_batch(t, xs[b], ys[b], NULL);
        if (st != IG_OK) return st;
    }
    return IG_OK;
}

int main(int argc, char **argv)
{
    const workload *wl = &workloads[0];
    ig_device device = IG_DEVICE_AUTO;
    int warmup = 20, steps = 50, windows = 7;
    bool json = false, resident = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = true;
            continue;
        }
        if (!v) return usage("missing option value");
        i++;
        if (!strcmp(a, "--workload")) {
            size_t k = 0;
            while (k < sizeof workloads / sizeof workloads[0] && strcmp(workloads[k].name, v) != 0) k++;
            if (k == sizeof workloads / sizeof workloads[0]) return usage("--workload must be mlp_small, cnn_small or resnet18");
            wl = &workloads[k];
        } else if (!strcmp(a, "--device")) {
            if (!strcmp(v, "cpu")) device = IG_DEVICE_CPU;
            else if (!strcmp(v, "cuda")) device = IG_DEVICE_CUDA;
            else if (!strcmp(v, "auto")) device = IG_DEVICE_AUTO;
            else return usage("--device must be cpu, cuda or auto");
        } else if (!strcmp(a, "--feed")) {
            if (!strcmp(v, "resident")) resident = true;
            else if (!strcmp(v, "batch")) resident = false;
            else return usage("--feed must be resident or batch");
        } else if (!strcmp(a, "--warmup")) {
            if ((warmup = parse_count(v)) < 0) return usage("--warmup needs a positive integer");
        } else if (!strcmp(a, "--steps")) {
            if ((steps = parse_count(v)) < 0) return usage("--steps needs a positive integer");
        } else if (!strcmp(a, "--windows")) {
            if ((windows = parse_count(v)) < 0) return usage("--windows needs a positive integer");
        } else {
            return usage("unknown option");
        }
    }

    int rc = 1;
    ig_ctx *ctx = NULL;
    ig_model *m = NULL;
    ig_trainer *t = NULL;
    ig_dataset *ds = NULL;
    ig_tensor *x_all = NULL, *y_all = NULL, *xs[N_BATCHES] = {NULL}, *ys[N_BATCHES] = {NULL};
    double *ms = malloc((size_t)windows * sizeof *ms);
    if (!ms) {
        fprintf(stderr, "bench_train_step: out of memory\n");
        return 1;
    }

    CHECK(ig_ctx_create(device, &ctx));
    const int64_t batch = wl->batch, in = wl->channels * wl->side * wl->side;
    const int64_t shape[4] = {batch, wl->channels, wl->side, wl->side};
    /* fixed pseudo-random batches (xorshift64): inputs uniform in [-1, 1), labels uniform */
    CHECK(ig_tensor_create(ctx, IG_F32, (int64_t[]){N_BATCHES * batch, wl->channels, wl->side, wl->side}, 4, &x_all));
    CHECK(ig_tensor_create(ctx, IG_I32, (int64_t[]){N_BATCHES * batch}, 1, &y_all));
    float *x = ig_tensor_data(x_all);
    int32_t *y = ig_tensor_data(y_all);
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (int64_t i = 0; i < N_BATCHES * batch * in; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = (float)(s >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
    }
    for (int64_t i = 0; i < N_BATCHES * batch; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        y[i] = (int32_t)(s % CLASSES);
    }
    if (resident) {
        CHECK(ig_dataset_create(ctx, x_all, y_all, &ds));
    } else {
        for (int b = 0; b < N_BATCHES; b++) {
            CHECK(ig_tensor_from_data(ctx, IG_F32, shape, 4, x + (size_t)(b * batch * in),
                                      (size_t)(batch * in) * sizeof *x, &xs[b]));
            CHECK(ig_tensor_from_data(ctx, IG_I32, &batch, 1, y + (size_t)(b * batch), (size_t)batch * sizeof *y,
                                      &ys[b]));
        }
    }

    CHECK(ig_model_create_preset(ctx, wl->preset, shape, 4, CLASSES, &m));
    ig_trainer_config cfg = ig_trainer_defaults_for(wl->opt);
    cfg.learning_rate = wl->lr;
    cfg.momentum = wl->momentum;
    cfg.loss = IG_LOSS_SPARSE_CROSS_ENTROPY;
    CHECK(ig_trainer_create(m, &cfg, &t));

    int64_t done = 0;
    float loss = 0;
    CHECK(run_steps(t, batch, resident, ds, xs, ys, warmup, &done));
    CHECK(ig_trainer_losses(t, ig_trainer_step_count(t) - 1, 1, &loss));
    for (int w = 0; w < windows; w++) {
        int64_t before = done;
        double t0 = now();
        CHECK(run_steps(t, batch, resident, ds, xs, ys, steps, &done));
        /* reading the last step's loss waits for the window's steps to complete */
        CHECK(ig_trainer_losses(t, ig_trainer_step_count(t) - 1, 1, &loss));
        ms[w] = (now() - t0) * 1e3 / (double)(done - before);
    }
    qsort(ms, (size_t)windows, sizeof *ms, cmp_double);
    double median = windows % 2 ? ms[windows / 2] : 0.5 * (ms[windows / 2 - 1] + ms[windows / 2]);
    double flops; /* 3 × the forward pass's, as WORKLOADS.md counts */
    CHECK(ig_model_forward_flops(m, batch, &flops));
    flops *= 3.0;
    ig_memory_stats st;
    CHECK(ig_memory_stats_get(ctx, &st));
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const char *dev = ig_device_name(ig_ctx_device(ctx)), *feed = resident ? "resident" : "batch";

    if (json) {
        printf("{\"workload\":\"%s\",\"framework\":\"ingot\",\"device\":\"%s\",\"feed\":\"%s\",\"batch\":%lld,"
               "\"warmup\":%d,\"steps\":%d,\"windows\":%d,\"ms_per_step\":%.4f,\"ms_per_step_min\":%.4f,"
               "\"samples_per_s\":%.1f,\"gflops\":%.2f,\"final_loss\":%.4g,\"arena_planned_bytes\":%zu,"
               "\"arena_unplanned_bytes\":%zu,\"device_peak_bytes\":%zu,\"host_peak_bytes\":%zu,"
               "\"max_rss_kib\":%ld}\n",
               wl->name, dev, feed, (long long)batch, warmup, steps, windows, median, ms[0], batch * 1e3 / median,
               flops / (median * 1e6),
               loss, st.arena_planned, st.arena_unplanned, st.device_peak, st.host_peak, ru.ru_maxrss);
    } else {
        printf("%s on %s (%s data): batch %lld, %d warm-up steps, %d windows of %d steps\n", wl->name, dev, feed,
               (long long)batch, warmup, windows, steps);
        printf("  ms/step     %.3f median, %.3f min\n", median, ms[0]);
        printf("  samples/s   %.0f\n", batch * 1e3 / median);
        printf("  GFLOP/s     %.1f (%.1f MFLOP/step)\n", flops / (median * 1e6), flops * 1e-6);
        printf("  last loss   %.4g\n", loss);
        printf("  arena       %.2f MiB planned, %.2f MiB unplanned\n", st.arena_planned / 1048576.0,
               st.arena_unplanned / 1048576.0);
        printf("  peak memory %.2f MiB backend, %.2f MiB host, %.1f MiB max RSS\n", st.device_peak / 1048576.0,
               st.host_peak / 1048576.0, ru.ru_maxrss / 1024.0);
    }
    rc = 0;
done:
    for (int b = 0; b < N_BATCHES; b++) {
        ig_tensor_release(xs[b]);
        ig_tensor_release(ys[b]);
    }
    ig_tensor_release(x_all);
    ig_tensor_release(y_all);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_dataset_destroy(ds);
    ig_ctx_destroy(ctx);
    free(ms);
    return rc;
}
