/* train_step.c — steady-state training-step benchmark of a workload of WORKLOADS.md, fp32,
 * sparse softmax cross-entropy, on a few fixed random batches:
 *   mlp_small  the "mlp" preset on 1×28×28, batch 128, Adam lr 1e-3
 *   cnn_small  the "cnn" preset on 1×28×28, batch 128, Adam lr 1e-3
 *   resnet18   the "resnet18" preset on 3×32×32, batch 256, SGD momentum 0.9 lr 0.05
 *
 *   bench_train_step [--workload mlp_small|cnn_small|resnet18] [--device cpu|cuda|auto]
 *                    [--feed resident|batch|loader] [--augment] [--prefetch P] [--samples S]
 *                    [--warmup N] [--steps M] [--windows W] [--json]
 *
 * --feed resident (default): the batches form a dataset kept on the device and epochs of
 * ig_train_epoch cycle through them, so the data is on the device as the workload defines.
 * --feed batch: ig_train_batch with host tensors, the batch copied in by every step.
 * --feed loader: ig_train_batch over the batches of a shuffling ig_loader whose thread
 * makes P batches ahead (--prefetch, default 2; 0: made inside ig_loader_next).
 * --augment: random crops with padding 4 and horizontal flips with probability 0.5 — in the
 * step's gather for resident data, in the loader's thread for the loader.
 * --samples: the dataset's size for resident and loader feeds (default 4 batches).
 * After N warm-up steps it times W windows of about M steps each, waiting for the device only
 * at window edges, and reports the median window's ms/step (and the fastest), samples/s,
 * GFLOP/s (3 × the forward matmul FLOPs per step) and the memory figures of the context.
 * The workloads and their timing are bench/workload.c's, which `ingot bench` runs too. */
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(const char *msg)
{
    fprintf(stderr, "bench_train_step: %s\nusage: bench_train_step [--workload mlp_small|cnn_small|resnet18] "
                    "[--device cpu|cuda|auto] [--feed resident|batch|loader] [--augment] [--prefetch P] [--samples S] "
                    "[--warmup N] [--steps M] [--windows W] [--json]\n",
            msg);
    return 2;
}

/* An integer option value in [least, 1000000], or -1. */
static int parse_count(const char *s, int least)
{
    char *end;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v >= least && v <= 1000000 ? (int)v : -1;
}

int main(int argc, char **argv)
{
    const bench_workload *wl = &bench_workloads[0];
    bench_options o = bench_defaults();
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = true;
            continue;
        }
        if (!strcmp(a, "--augment")) {
            o.augment = true;
            continue;
        }
        if (!v) return usage("missing option value");
        i++;
        if (!strcmp(a, "--workload")) {
            if (!(wl = bench_find(v))) return usage("--workload must be mlp_small, cnn_small or resnet18");
        } else if (!strcmp(a, "--device")) {
            if (!strcmp(v, "cpu")) o.device = IG_DEVICE_CPU;
            else if (!strcmp(v, "cuda")) o.device = IG_DEVICE_CUDA;
            else if (!strcmp(v, "auto")) o.device = IG_DEVICE_AUTO;
            else return usage("--device must be cpu, cuda or auto");
        } else if (!strcmp(a, "--feed")) {
            size_t k = 0;
            while (k < 3 && strcmp(bench_feed_names[k], v) != 0) k++;
            if (k == 3) return usage("--feed must be resident, batch or loader");
            o.feed = (bench_feed)k;
        } else if (!strcmp(a, "--prefetch")) {
            if ((o.prefetch = parse_count(v, 0)) < 0 || o.prefetch > 64) return usage("--prefetch needs an integer in 0..64");
        } else if (!strcmp(a, "--samples")) {
            if ((o.samples = parse_count(v, 1)) < 0) return usage("--samples needs a positive integer");
        } else if (!strcmp(a, "--warmup")) {
            if ((o.warmup = parse_count(v, 1)) < 0) return usage("--warmup needs a positive integer");
        } else if (!strcmp(a, "--steps")) {
            if ((o.steps = parse_count(v, 1)) < 0) return usage("--steps needs a positive integer");
        } else if (!strcmp(a, "--windows")) {
            if ((o.windows = parse_count(v, 1)) < 0) return usage("--windows needs a positive integer");
        } else {
            return usage("unknown option");
        }
    }

    bench_result r;
    if (!bench_run(wl, &o, &r)) {
        fprintf(stderr, "bench_train_step: %s\n", r.error);
        return 1;
    }
    bench_print(stdout, wl, &o, &r, json);
    return 0;
}
