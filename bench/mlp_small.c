/* mlp_small.c — steady-state training-step benchmark of the mlp_small workload
 * (bench/WORKLOADS.md): Flatten → Dense 784→512 → ReLU → Dense 512→512 → ReLU → Dense 512→10,
 * batch 128, sparse softmax cross-entropy, Adam lr 1e-3, fp32, on a few fixed random batches.
 *
 *   bench_mlp_small [--device cpu|cuda|auto] [--feed resident|batch] [--warmup N] [--steps M]
 *                   [--windows W] [--json]
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

enum { BATCH = 128, IN = 784, HID = 512, CLASSES = 10, N_BATCHES = 4 };

#define CHECK(call)                                                             \
    do {                                                                        \
        if ((call) != IG_OK) {                                                  \
            fprintf(stderr, "bench_mlp_small: %s\n", ig_last_error());          \
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
    fprintf(stderr, "bench_mlp_small: %s\nusage: bench_mlp_small [--device cpu|cuda|auto] [--feed resident|batch] "
                    "[--warmup N] [--steps M] [--windows W] [--json]\n", msg);
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
static ig_status run_steps(ig_trainer *t, bool resident, ig_dataset *ds, ig_tensor *const *xs, ig_tensor *const *ys,
                           int steps, int64_t *done)
{
    if (resident) {
        ig_epoch_config ep = ig_epoch_defaults();
        ep.batch_size = BATCH;
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
        if (!strcmp(a, "--device")) {
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
        fprintf(stderr, "bench_mlp_small: out of memory\n");
        return 1;
    }

    CHECK(ig_ctx_create(device, &ctx));
    /* fixed pseudo-random batches (xorshift64): inputs uniform in [-1, 1), labels uniform */
    CHECK(ig_tensor_create(ctx, IG_F32, (int64_t[]){N_BATCHES * BATCH, 1, 28, 28}, 4, &x_all));
    CHECK(ig_tensor_create(ctx, IG_I32, (int64_t[]){N_BATCHES * BATCH}, 1, &y_all));
    float *x = ig_tensor_data(x_all);
    int32_t *y = ig_tensor_data(y_all);
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < N_BATCHES * BATCH * IN; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = (float)(s >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
    }
    for (int i = 0; i < N_BATCHES * BATCH; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        y[i] = (int32_t)(s % CLASSES);
    }
    if (resident) {
        CHECK(ig_dataset_create(ctx, x_all, y_all, &ds));
    } else {
        for (int b = 0; b < N_BATCHES; b++) {
            CHECK(ig_tensor_from_data(ctx, IG_F32, (int64_t[]){BATCH, 1, 28, 28}, 4, x + (size_t)b * BATCH * IN,
                                      (size_t)BATCH * IN * sizeof *x, &xs[b]));
            CHECK(ig_tensor_from_data(ctx, IG_I32, (int64_t[]){BATCH}, 1, y + (size_t)b * BATCH,
                                      (size_t)BATCH * sizeof *y, &ys[b]));
        }
    }

    CHECK(ig_model_create(ctx, (int64_t[]){BATCH, 1, 28, 28}, 4, &m));
    ig_value v = ig_flatten(m, ig_model_input(m), "flatten");
    v = ig_relu(m, ig_dense(m, v, HID, true, "fc1"), "relu1");
    v = ig_relu(m, ig_dense(m, v, HID, true, "fc2"), "relu2");
    v = ig_dense(m, v, CLASSES, true, "fc3");
    CHECK(ig_model_set_output(m, v));
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.optimizer = IG_OPT_ADAM;
    cfg.learning_rate = 1e-3f;
    cfg.loss = IG_LOSS_SPARSE_CROSS_ENTROPY;
    CHECK(ig_trainer_create(m, &cfg, &t));

    int64_t done = 0;
    float loss = 0;
    CHECK(run_steps(t, resident, ds, xs, ys, warmup, &done));
    CHECK(ig_trainer_losses(t, ig_trainer_step_count(t) - 1, 1, &loss));
    for (int w = 0; w < windows; w++) {
        int64_t before = done;
        double t0 = now();
        CHECK(run_steps(t, resident, ds, xs, ys, steps, &done));
        /* reading the last step's loss waits for the window's steps to complete */
        CHECK(ig_trainer_losses(t, ig_trainer_step_count(t) - 1, 1, &loss));
        ms[w] = (now() - t0) * 1e3 / (double)(done - before);
    }
    qsort(ms, (size_t)windows, sizeof *ms, cmp_double);
    double median = windows % 2 ? ms[windows / 2] : 0.5 * (ms[windows / 2 - 1] + ms[windows / 2]);
    double flops; /* 3 × the forward pass's, as WORKLOADS.md counts */
    CHECK(ig_model_forward_flops(m, BATCH, &flops));
    flops *= 3.0;
    ig_memory_stats st;
    CHECK(ig_memory_stats_get(ctx, &st));
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const char *dev = ig_device_name(ig_ctx_device(ctx)), *feed = resident ? "resident" : "batch";

    if (json) {
        printf("{\"workload\":\"mlp_small\",\"framework\":\"ingot\",\"device\":\"%s\",\"feed\":\"%s\",\"batch\":%d,"
               "\"warmup\":%d,\"steps\":%d,\"windows\":%d,\"ms_per_step\":%.4f,\"ms_per_step_min\":%.4f,"
               "\"samples_per_s\":%.1f,\"gflops\":%.2f,\"final_loss\":%.4g,\"arena_planned_bytes\":%zu,"
               "\"arena_unplanned_bytes\":%zu,\"device_peak_bytes\":%zu,\"host_peak_bytes\":%zu,"
               "\"max_rss_kib\":%ld}\n",
               dev, feed, BATCH, warmup, steps, windows, median, ms[0], BATCH * 1e3 / median, flops / (median * 1e6),
               loss, st.arena_planned, st.arena_unplanned, st.device_peak, st.host_peak, ru.ru_maxrss);
    } else {
        printf("mlp_small on %s (%s data): batch %d, %d warm-up steps, %d windows of %d steps\n", dev, feed, BATCH,
               warmup, windows, steps);
        printf("  ms/step     %.3f median, %.3f min\n", median, ms[0]);
        printf("  samples/s   %.0f\n", BATCH * 1e3 / median);
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
