/* workload.h — the training-step workloads of WORKLOADS.md on the library's presets, and their
 * steady-state timing: shared by bench_train_step and `ingot bench`. */
#ifndef INGOT_BENCH_WORKLOAD_H
#define INGOT_BENCH_WORKLOAD_H

#include <ingot.h>

#include <stdio.h>

typedef struct bench_workload {
    const char *name, *preset;
    int64_t batch, channels, side; /* input [batch, channels, side, side] */
    ig_optimizer opt;
    float lr, momentum;
} bench_workload;

/* mlp_small, cnn_small, resnet18 (fp32: mlp_large needs bf16, which ingot does not compute in). */
extern const bench_workload bench_workloads[];
extern const int bench_n_workloads;
/* The workload of that name, or NULL. */
const bench_workload *bench_find(const char *name);

typedef enum bench_feed { BENCH_RESIDENT, BENCH_BATCH, BENCH_LOADER } bench_feed;
extern const char *const bench_feed_names[]; /* resident, batch, loader */

typedef struct bench_options {
    ig_device device;
    /* resident: a dataset kept on the device, epochs of ig_train_epoch over it; batch:
     * ig_train_batch on host tensors, copied in by every step; loader: ig_train_batch over a
     * shuffling loader's batches, `prefetch` made ahead by its thread */
    bench_feed feed;
    bool augment;  /* crops with padding 4 and flips with probability 0.5 (resident, loader) */
    int prefetch;  /* loader: batches made ahead (0: inside ig_loader_next) */
    int samples;   /* the dataset's size for resident and loader feeds (0: 4 batches) */
    int warmup, steps, windows;
} bench_options;

/* resident on the default device, no augmentation, prefetch 2, 20 warm-up steps, 7 windows
 * of 50 steps. */
bench_options bench_defaults(void);

typedef struct bench_result {
    const char *device;
    int64_t samples;
    double ms_median, ms_min, samples_per_s, gflops, mflop_per_step;
    float loss;
    ig_memory_stats mem;
    long max_rss_kib;
    char error[512]; /* why it failed */
} bench_result;

/* Times the workload: after the warm-up steps, windows of about `steps` steps each with the
 * device waited for only at their edges; the median window's ms/step and the fastest.
 * Returns false, with r->error, on failure. */
bool bench_run(const bench_workload *w, const bench_options *o, bench_result *r);
/* One workload's figures, as text or as a JSON line. */
void bench_print(FILE *f, const bench_workload *w, const bench_options *o, const bench_result *r, bool json);

#endif /* INGOT_BENCH_WORKLOAD_H */
