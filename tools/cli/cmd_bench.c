/* cmd_bench.c — `ingot bench`: the training-step workloads of WORKLOADS.md (bench/workload.c,
 * which bench_train_step runs too). */
#include "cli.h"

#include "workload.h"

#include <string.h>

static struct {
    const char *workloads;
    int device, feed;
    int64_t warmup, steps, windows;
    bool json;
} A = {.workloads = "mlp_small,cnn_small", .warmup = 20, .steps = 50, .windows = 7};

static const cli_opt table[] = {
    {"workload", CLI_STRING, &A.workloads, "NAMES",
     "comma-separated: mlp_small, cnn_small, resnet18, or all (mlp_large needs bf16, which this build lacks)"},
    CLI_DEVICE_OPT(&A.device),
    {"feed", CLI_CHOICE, &A.feed, "FEED",
     "resident: data kept on the device (the workloads' definition); batch: a host batch copied in per step; loader: "
     "a prefetching loader's batches", bench_feed_names},
    {"warmup", CLI_INT, &A.warmup, "N", "steps before timing", NULL, 1, 1e6},
    {"steps", CLI_INT, &A.steps, "N", "steps per timed window", NULL, 1, 1e6},
    {"windows", CLI_INT, &A.windows, "N", "timed windows (the median is reported)", NULL, 1, 1000},
    {"json", CLI_FLAG, &A.json, NULL, "one JSON line per workload"},
};
static const cli_group group = CLI_GROUP("benchmark", table);
static const cli_group *const groups[] = {&group};

static int run(void);
const cli_command cmd_bench = {
    "bench", "time the training step of the benchmark workloads",
    "Times one full training step (forward, loss, backward, optimizer update) of the workloads of\n"
    "WORKLOADS.md in fp32 on random data: mlp_small and cnn_small (batch 128, Adam) and resnet18\n"
    "(batch 256, SGD with momentum), each built by ig_model_create_preset. Steady state: warm-up steps,\n"
    "then windows of steps with the device waited for only at their edges; the median window counts.",
    groups, sizeof groups / sizeof groups[0], run};

static int run(void)
{
    const bench_workload *chosen[8];
    int n = 0;
    char list[256];
    snprintf(list, sizeof list, "%s", A.workloads);
    for (char *save, *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        if (strcmp(name, "all") == 0) {
            for (int i = 0; i < bench_n_workloads && n < 8; i++) chosen[n++] = &bench_workloads[i];
            continue;
        }
        const bench_workload *w = bench_find(name);
        if (!w && strcmp(name, "mlp_large") == 0)
            return cli_fail("--workload mlp_large: not available in this build yet: it computes in bf16, and ingot computes in "
                            "fp32 only today");
        if (!w) return cli_usage("--workload: \"%s\" is not valid; valid: mlp_small, cnn_small, resnet18, all", name);
        if (n < 8) chosen[n++] = w;
    }
    if (!n) return cli_usage("--workload: give at least one of mlp_small, cnn_small, resnet18, all");
    bench_options o = bench_defaults();
    o.device = cli_device(A.device);
    o.feed = (bench_feed)A.feed;
    o.warmup = (int)A.warmup;
    o.steps = (int)A.steps;
    o.windows = (int)A.windows;
    for (int i = 0; i < n; i++) {
        bench_result r;
        if (!bench_run(chosen[i], &o, &r)) return cli_fail("%s: %s", chosen[i]->name, r.error);
        bench_print(stdout, chosen[i], &o, &r, A.json);
        fflush(stdout);
    }
    return CLI_OK;
}
