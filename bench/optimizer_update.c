/* optimizer_update.c — the time of one optimizer update over the mlp_large workload's
 * parameters (138,347,496 floats), alone, beside the bytes it must move: Adam reads the
 * parameters, gradients and both moments and writes three of them back (28 bytes per
 * parameter), so its floor is that over the device's copy bandwidth (bench/compare_gpu.sh
 * measures it in the same run, with PyTorch's copy kernel: cudaMemcpy's device-to-device
 * path reached only about 2.7 TB/s on an H200, less than the update itself moves).
 * Internal API: it builds the one-node program the trainer appends to every step.
 *
 *   bench_optimizer_update [--device cpu|cuda|auto] [--optimizer adam|sgd] [--json]
 */
#include "backend/backend.h"
#include "train/optimizer.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARAMS 138347496ll /* 8·(4096·4096 + 4096) + 4096·1000 + 1000 */

/* Median ms of `windows` windows of `reps` runs, waiting at window edges (a 4-byte read). */
static ig_status time_runs(ig_program *p, void *const *ext, int reps, int windows, double *median)
{
    ig_backend *be = p->ctx->backend;
    double ms[16];
    float probe;
    for (int w = -1; w < windows; w++) { /* window -1 warms up */
        double t0 = bench_now();
        for (int r = 0; r < reps; r++) IG_TRY(ig_program_run_ext(p, ext));
        IG_TRY(be->download(be, &probe, ext[IG_BUF_PARAMS], sizeof probe));
        if (w >= 0) ms[w] = (bench_now() - t0) * 1e3 / reps;
    }
    qsort(ms, (size_t)windows, sizeof *ms, bench_cmp_double);
    *median = ms[windows / 2];
    return IG_OK;
}

int main(int argc, char **argv)
{
    ig_device device = IG_DEVICE_AUTO;
    ig_optimizer opt = IG_OPT_ADAM;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--device") && (!strcmp(v, "cpu") || !strcmp(v, "cuda") || !strcmp(v, "auto"))) {
            device = !strcmp(v, "cpu") ? IG_DEVICE_CPU : !strcmp(v, "cuda") ? IG_DEVICE_CUDA : IG_DEVICE_AUTO;
            i++;
        } else if (!strcmp(a, "--optimizer") && (!strcmp(v, "adam") || !strcmp(v, "sgd"))) {
            opt = !strcmp(v, "adam") ? IG_OPT_ADAM : IG_OPT_SGD;
            i++;
        } else {
            fprintf(stderr, "usage: bench_optimizer_update [--device cpu|cuda|auto] [--optimizer adam|sgd] [--json]\n");
            return 2;
        }
    }
    ig_ctx *ctx = NULL;
    ig_program *update = NULL;
    void *mem[IG_BUF_COUNT] = {NULL};
    size_t bytes = (size_t)PARAMS * sizeof(float), h = ig_align(sizeof(ig_opt_hyper));
    size_t state_bytes = ig_opt_state_bytes(opt, bytes, h);
    int rc = 1;
    ig_status st = ig_ctx_create(device, &ctx);
    ig_backend *be = st == IG_OK ? ctx->backend : NULL;
    if (st == IG_OK) {
        mem[IG_BUF_PARAMS] = be->alloc(be, bytes);
        mem[IG_BUF_GRADS] = be->alloc(be, bytes);
        mem[IG_BUF_STATE] = be->alloc(be, state_bytes);
        if (!mem[IG_BUF_PARAMS] || !mem[IG_BUF_GRADS] || !mem[IG_BUF_STATE])
            st = ig_fail(IG_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes", 2 * bytes + state_bytes);
    }
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.optimizer = opt;
    ig_opt_hyper hyper = ig_opt_hyper_from(&cfg);
    if (st == IG_OK) st = ig_opt_init_state(be, mem[IG_BUF_STATE], opt, bytes, h, &hyper);
    if (st == IG_OK) { /* gradients of some size: zeros would not show a slow path */
        float *g = malloc(bytes);
        if (!g) st = ig_fail(IG_ERR_OUT_OF_MEMORY, "out of host memory");
        for (int64_t i = 0; g && i < PARAMS; i++) g[i] = (float)((i * 2654435761u) % 2001) * 1e-3f - 1.0f;
        if (g) st = be->upload(be, mem[IG_BUF_GRADS], g, bytes);
        free(g);
    }
    ig_graph g;
    if (st == IG_OK) {
        ig_graph_init(&g);
        st = ig_opt_append(&g, opt, bytes, h, 0);
        if (st == IG_OK) st = ig_program_create(ctx, &g, &update);
        else ig_graph_free(&g);
    }
    double upd_ms = 0;
    if (st == IG_OK) st = time_runs(update, mem, 20, 7, &upd_ms);
    if (st != IG_OK) {
        fprintf(stderr, "bench_optimizer_update: %s\n", ig_last_error());
        goto done;
    }
    /* Adam reads p, g, m, v and writes p, m, v; SGD with momentum p, g, buf and writes p, buf */
    double moved = (double)PARAMS * (opt == IG_OPT_ADAM ? 28 : 20);
    const char *dev = ig_device_name(ig_ctx_device(ctx)), *name = opt == IG_OPT_ADAM ? "adam" : "sgd";
    if (json)
        printf("{\"bench\":\"optimizer_update\",\"framework\":\"ingot\",\"device\":\"%s\",\"optimizer\":\"%s\","
               "\"params\":%lld,\"bytes_moved\":%.0f,\"ms\":%.4f,\"gb_per_s\":%.1f}\n", dev, name, PARAMS, moved,
               upd_ms, moved / (upd_ms * 1e6));
    else
        printf("%s update of %lld parameters on %s: %.3f ms, %.0f GB/s of the %.2f GB it must move\n", name, PARAMS, dev,
               upd_ms, moved / (upd_ms * 1e6), moved / 1e9);
    rc = 0;
done:
    ig_program_destroy(update);
    if (be) {
        be->free(be, mem[IG_BUF_PARAMS], bytes);
        be->free(be, mem[IG_BUF_GRADS], bytes);
        be->free(be, mem[IG_BUF_STATE], state_bytes);
    }
    ig_ctx_destroy(ctx);
    return rc;
}
