/* kernel_trace.c — a kernel timeline of a CUDA program, for seeing where a captured step's time
 * goes (the machines' nsys could not import its own traces). The CUDA driver loads it through
 * CUDA_INJECTION64_PATH; it asks CUPTI for an activity record of every kernel, those replayed
 * from a CUDA graph included, and writes one line per kernel to $INGOT_KERNEL_TRACE (default
 * kernel_trace.txt): start and end in ns of the GPU's clock, stream, grid x y z, name.
 * bench/kernel_trace.py prints one step of it. Tracing lengthens a step (mlp_small's by about
 * 10% on an H200).
 *
 *   CUDA_INJECTION64_PATH=$PWD/build-gpu/libingot_kernel_trace.so INGOT_KERNEL_TRACE=mlp.txt \
 *     build-gpu/bin/bench_train_step --workload mlp_small --device cuda --warmup 20 --steps 20 --windows 1
 *   python3 bench/kernel_trace.py mlp.txt
 *
 * A tool, not part of the library: CUPTI's callbacks take no user pointer, hence the file's
 * one static. Built with the toolkit it runs with (the record's layout, CUpti_ActivityKernel10,
 * is CUDA 13's). */
#include <cupti.h>
#include <stdio.h>
#include <stdlib.h>

#define BUFFER_BYTES ((size_t)16 << 20)

static FILE *out;

static void check(CUptiResult r, const char *what)
{
    if (r == CUPTI_SUCCESS) return;
    const char *why = "unknown";
    cuptiGetResultString(r, &why);
    fprintf(stderr, "kernel_trace: %s: %s\n", what, why);
}

static void CUPTIAPI give_buffer(uint8_t **buffer, size_t *size, size_t *max_records)
{
    *buffer = aligned_alloc(8, BUFFER_BYTES); /* CUPTI wants 8-byte alignment */
    *size = *buffer ? BUFFER_BYTES : 0;
    *max_records = 0; /* as many as fit */
}

static void CUPTIAPI take_buffer(CUcontext ctx, uint32_t stream, uint8_t *buffer, size_t size, size_t valid)
{
    (void)size;
    CUpti_Activity *r = NULL;
    while (cuptiActivityGetNextRecord(buffer, valid, &r) == CUPTI_SUCCESS) {
        if (r->kind != CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) continue;
        const CUpti_ActivityKernel10 *k = (const CUpti_ActivityKernel10 *)r;
        fprintf(out, "%llu %llu %u %d %d %d %s\n", (unsigned long long)k->start, (unsigned long long)k->end,
                k->streamId, k->gridX, k->gridY, k->gridZ, k->name);
    }
    size_t dropped = 0;
    check(cuptiActivityGetNumDroppedRecords(ctx, stream, &dropped), "counting dropped records");
    if (dropped) fprintf(stderr, "kernel_trace: %zu records dropped\n", dropped);
    free(buffer);
}

static void finish(void)
{
    check(cuptiActivityFlushAll(1), "flushing the records");
    if (fclose(out) != 0) perror("kernel_trace: closing the trace");
}

int InitializeInjection(void)
{
    const char *path = getenv("INGOT_KERNEL_TRACE");
    out = fopen(path ? path : "kernel_trace.txt", "w");
    if (!out) {
        perror("kernel_trace: opening the trace");
        return 0;
    }
    check(cuptiActivityRegisterCallbacks(give_buffer, take_buffer), "registering the buffers");
    check(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL), "enabling kernel records");
    atexit(finish);
    return 1;
}
