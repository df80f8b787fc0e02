/* loss_node.c — the time of a loss alone: the fused loss node the trainer appends (loss and
 * gradient) and, for the classification losses, its accuracy node, over predictions of
 * [rows, cols] resident on the device, run back to back. The elementwise losses of a large
 * regression output are what it was written for (one block summed them before; bench/RESULTS.md).
 * Internal API: it builds the program the trainer's loss part would be.
 *
 *   bench_loss_node [--device cpu|cuda|auto] [--loss mse|mae|huber|bce|bce_logits|ce|sparse_ce]
 *                   [--rows R] [--cols C] [--json]      (default: mse over 1024 × 1024)
 */
#include "backend/backend.h"
#include "train/loss.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    ig_loss loss;
} losses[] = {{"mse", IG_LOSS_MSE},
              {"mae", IG_LOSS_MAE},
              {"huber", IG_LOSS_HUBER},
              {"bce", IG_LOSS_BINARY_CROSS_ENTROPY},
              {"bce_logits", IG_LOSS_BCE_WITH_LOGITS},
              {"ce", IG_LOSS_CROSS_ENTROPY},
              {"sparse_ce", IG_LOSS_SPARSE_CROSS_ENTROPY}};

static int usage(void)
{
    fprintf(stderr, "usage: bench_loss_node [--device cpu|cuda|auto] [--loss mse|mae|huber|bce|bce_logits|ce|sparse_ce] "
                    "[--rows R] [--cols C] [--json]\n");
    return 2;
}

/* Predictions and a target the loss accepts (probabilities for BCE's, rows summing to one for
 * CE's, class ids for sparse CE), placed in one PARAMS block: pred at 0, the target after. */
static ig_status upload_inputs(ig_backend *be, void *mem, ig_loss l, int64_t rows, int64_t cols, size_t target_at)
{
    size_t n = (size_t)(rows * cols);
    float *host = malloc(target_at + n * sizeof(float));
    if (!host) return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of host memory");
    float *pred = host, *target = (float *)((char *)host + target_at);
    for (size_t i = 0; i < n; i++) {
        float u = (float)((i * 2654435761u) % 1000) / 1000.0f; /* in [0, 1) */
        pred[i] = l == IG_LOSS_BINARY_CROSS_ENTROPY ? 0.02f + 0.96f * u : 4.0f * u - 2.0f;
        target[i] = l == IG_LOSS_CROSS_ENTROPY ? 1.0f / (float)cols : (float)((i * 40503u) % 1000) / 1000.0f;
    }
    if (l == IG_LOSS_SPARSE_CROSS_ENTROPY)
        for (int64_t r = 0; r < rows; r++) ((int32_t *)target)[r] = (int32_t)((r * 7) % cols);
    ig_status st = be->upload(be, mem, host, target_at + n * sizeof(float));
    free(host);
    return st;
}

int main(int argc, char **argv)
{
    ig_device device = IG_DEVICE_AUTO;
    ig_loss loss = IG_LOSS_MSE;
    const char *loss_name = "mse";
    int64_t rows = 1024, cols = 1024;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        bool known = false;
        if (!strcmp(a, "--json")) {
            json = known = true;
        } else if (!strcmp(a, "--device") && (!strcmp(v, "cpu") || !strcmp(v, "cuda") || !strcmp(v, "auto"))) {
            device = !strcmp(v, "cpu") ? IG_DEVICE_CPU : !strcmp(v, "cuda") ? IG_DEVICE_CUDA : IG_DEVICE_AUTO;
            known = true, i++;
        } else if (!strcmp(a, "--loss")) {
            for (size_t k = 0; k < sizeof losses / sizeof *losses; k++)
                if (!strcmp(v, losses[k].name)) loss = losses[k].loss, loss_name = losses[k].name, known = true;
            i++;
        } else if (!strcmp(a, "--rows") || !strcmp(a, "--cols")) {
            long long x = atoll(v);
            if (x >= 1 && x <= (1 << 24)) *(a[2] == 'r' ? &rows : &cols) = x, known = true;
            i++;
        }
        if (!known) return usage();
    }
    ig_ctx *ctx = NULL;
    ig_program *p = NULL;
    void *mem[IG_BUF_COUNT] = {NULL};
    size_t n = (size_t)(rows * cols), target_at = ig_align(n * sizeof(float)), bytes = target_at + n * sizeof(float);
    int rc = 1;
    ig_status st = ig_ctx_create(device, &ctx);
    ig_backend *be = st == IG_OK ? ctx->backend : NULL;
    if (st == IG_OK && !(mem[IG_BUF_PARAMS] = be->alloc(be, bytes)))
        st = ig_fail(IG_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes", bytes);
    if (st == IG_OK) st = upload_inputs(be, mem[IG_BUF_PARAMS], loss, rows, cols, target_at);
    if (st == IG_OK) {
        ig_graph g;
        ig_graph_init(&g);
        ig_trainer_config cfg = ig_trainer_defaults();
        cfg.loss = loss;
        ig_shape ps = ig_shape_make(2, (int64_t[]){rows, cols}), ts = ig_loss_target_shape(loss, &ps);
        int pv = ig_graph_leaf(&g, &ps, IG_F32, "pred"), tv = ig_graph_leaf(&g, &ts, ig_loss_target_dtype(loss), "target");
        int outs[2], hits;
        st = pv < 0 || tv < 0 ? ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory") : IG_OK;
        if (st == IG_OK) {
            g.vals[pv].buf = g.vals[tv].buf = IG_BUF_PARAMS;
            g.vals[tv].offset = target_at;
            st = ig_loss_append(&g, &cfg, pv, tv, outs);
        }
        if (st == IG_OK) st = ig_loss_accuracy_append(&g, loss, pv, tv, &hits);
        if (st == IG_OK) st = ig_program_create(ctx, &g, &p);
        else ig_graph_free(&g);
    }
    double ms[7];
    float probe;
    for (int w = -1; w < 7 && st == IG_OK; w++) { /* window -1 warms up */
        double t0 = bench_now();
        for (int r = 0; r < 50 && st == IG_OK; r++) st = ig_program_run_ext(p, mem);
        if (st == IG_OK) st = be->download(be, &probe, mem[IG_BUF_PARAMS], sizeof probe);
        if (w >= 0) ms[w] = (bench_now() - t0) * 1e3 / 50;
    }
    if (st != IG_OK) {
        fprintf(stderr, "bench_loss_node: %s\n", ig_last_error());
        goto done;
    }
    qsort(ms, 7, sizeof *ms, bench_cmp_double);
    const char *dev = ig_device_name(ig_ctx_device(ctx));
    if (json)
        printf("{\"bench\":\"loss_node\",\"framework\":\"ingot\",\"device\":\"%s\",\"loss\":\"%s\",\"rows\":%lld,"
               "\"cols\":%lld,\"ms\":%.4f}\n", dev, loss_name, (long long)rows, (long long)cols, ms[3]);
    else
        printf("%s over [%lld, %lld] on %s: %.4f ms per run (loss, gradient%s)\n", loss_name, (long long)rows,
               (long long)cols, dev, ms[3], ig_loss_is_ce(loss) || ig_loss_is_binary(loss) ? ", accuracy" : "");
    rc = 0;
done:
    ig_program_destroy(p);
    if (be && mem[IG_BUF_PARAMS]) be->free(be, mem[IG_BUF_PARAMS], bytes);
    ig_ctx_destroy(ctx);
    return rc;
}
