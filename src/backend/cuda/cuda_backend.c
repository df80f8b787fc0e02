/* cuda_backend.c — the CUDA backend: device memory, pinned staging for uploads, two streams,
 * and runs. A program's first run is eager (it makes the cuBLASLt plans and loads the
 * modules); its second run is captured into a CUDA graph, and from then on each run is one
 * cudaGraphLaunch. Nothing here waits for the device except download, and a stream's
 * workspace growing: each stream has one, 32 MiB at first, grown outside capture to the
 * largest cuDNN plan's need, after which graphs captured with the old one are captured again. */
#include "backend/cuda/cuda_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ig_status ig_cuda_check(cudaError_t e, const char *what, const char *file, int line)
{
    if (e == cudaSuccess) return IG_OK;
    ig_status s = e == cudaErrorMemoryAllocation ? IG_ERR_OUT_OF_MEMORY : IG_ERR_DEVICE;
    return ig_fail(s, "cuda: %s failed (%s:%d): %s", what, file, line, cudaGetErrorString(e));
}

ig_status ig_cublas_check(cublasStatus_t e, const char *what, const char *file, int line)
{
    if (e == CUBLAS_STATUS_SUCCESS) return IG_OK;
    return ig_fail(IG_ERR_DEVICE, "cublasLt: %s failed (%s:%d): %s", what, file, line, cublasLtGetStatusString(e));
}

ig_status ig_cudnn_check(cudnnStatus_t e, const char *what, const char *file, int line)
{
    if (e == CUDNN_STATUS_SUCCESS) return IG_OK;
    char detail[512] = ""; /* what cuDNN says went wrong, beyond the status */
    cudnnGetLastErrorString(detail, sizeof detail);
    ig_status s = e == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED ||
                          e == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED
                      ? IG_ERR_OUT_OF_MEMORY
                      : IG_ERR_DEVICE;
    return ig_fail(s, "cudnn: %s failed (%s:%d): %s%s%s", what, file, line, cudnnGetErrorString(e),
                   detail[0] ? ": " : "", detail);
}

/* Made on the first convolution plan (an eager run), so that models without convolutions
 * never load cuDNN; bound again only when the node's stream differs from the last one. */
ig_status ig_cuda_dnn(ig_cuda *cu, cudnnHandle_t *out)
{
    if (!cu->dnn) {
        cudnnHandle_t h;
        DNN_TRY(cudnnCreate(&h));
        cu->dnn = h;
    }
    cudaStream_t s = cu->queue[cu->cur].s;
    if (cu->dnn_stream != s) {
        DNN_TRY(cudnnSetStream(cu->dnn, s));
        cu->dnn_stream = s;
    }
    *out = cu->dnn;
    return IG_OK;
}

/* Plans are made in a program's first run, which is eager; work queued before may still use
 * the old buffer, hence the device-wide wait, a one-time cost of planning. The old buffer is
 * freed only once the new one is had, so a failed growth leaves the backend usable. */
ig_status ig_cuda_workspace_reserve(ig_cuda *cu, int stream, size_t bytes)
{
    if (bytes <= cu->workspace_bytes[stream]) return IG_OK;
    enum cudaStreamCaptureStatus capturing;
    CU_TRY(cudaStreamIsCapturing(cu->queue[stream].s, &capturing));
    if (capturing != cudaStreamCaptureStatusNone)
        return ig_fail(IG_ERR_INTERNAL, "cuda: stream %d's workspace must grow to %zu bytes under stream capture",
                       stream, bytes);
    CU_TRY(cudaDeviceSynchronize());
    void *grown = NULL;
    cudaError_t e = cudaMalloc(&grown, bytes);
    if (e != cudaSuccess) {
        cudaGetLastError(); /* clear it, or the next launch check would report it again */
        return ig_fail_prefix(ig_cuda_check(e, "cudaMalloc", __FILE__, __LINE__),
                              "growing stream %d's workspace from %zu to %zu bytes: ", stream,
                              cu->workspace_bytes[stream], bytes);
    }
    e = cudaFree(cu->workspace[stream]);
    if (e != cudaSuccess) {
        cudaFree(grown);
        return ig_cuda_check(e, "cudaFree (a stream's workspace)", __FILE__, __LINE__);
    }
    ig_stats_device(cu->ctx, (ptrdiff_t)bytes - (ptrdiff_t)cu->workspace_bytes[stream]);
    cu->workspace[stream] = grown;
    cu->workspace_bytes[stream] = bytes;
    return IG_OK;
}

static ig_cuda *impl(ig_backend *be) { return be->impl; }

static void *cuda_alloc(ig_backend *be, size_t bytes)
{
    size_t n = ig_align(bytes ? bytes : 1);
    void *p = NULL;
    if (cudaMalloc(&p, n) != cudaSuccess) {
        cudaGetLastError(); /* clear the sticky error of a failed allocation */
        return NULL;
    }
    /* completed before it returns: the copy stream writes IO blocks without waiting for the
     * main stream, and must not race a pending memset */
    if (cudaMemsetAsync(p, 0, n, impl(be)->queue[0].s) != cudaSuccess ||
        cudaStreamSynchronize(impl(be)->queue[0].s) != cudaSuccess) {
        cudaFree(p);
        return NULL;
    }
    ig_stats_device(be->ctx, (ptrdiff_t)n);
    return p;
}

static void cuda_free(ig_backend *be, void *p, size_t bytes)
{
    if (!p) return;
    /* a run or a copy may still use it */
    cudaStreamSynchronize(impl(be)->copy);
    cudaStreamSynchronize(impl(be)->queue[0].s);
    cudaFree(p);
    ig_stats_device(be->ctx, -(ptrdiff_t)ig_align(bytes ? bytes : 1));
}

/* Copies `src` into the next pinned slot of the staging ring (once its last copy is done),
 * so the caller's memory is free as soon as this returns. */
static ig_status stage(ig_backend *be, const void *src, size_t bytes, ig_cuda_staging **out)
{
    ig_cuda *cu = impl(be);
    ig_cuda_staging *st = &cu->staging[cu->next_staging];
    cu->next_staging = (cu->next_staging + 1) % IG_CUDA_STAGING;
    CU_TRY(cudaEventSynchronize(st->done));
    if (st->cap < bytes) {
        size_t cap = bytes > 2 * st->cap ? bytes : 2 * st->cap;
        if (st->host) CU_TRY(cudaFreeHost(st->host));
        ig_stats_pinned(be->ctx, -(ptrdiff_t)st->cap);
        st->host = NULL;
        st->cap = 0;
        CU_TRY(cudaHostAlloc(&st->host, cap, cudaHostAllocDefault));
        st->cap = cap;
        ig_stats_pinned(be->ctx, (ptrdiff_t)cap);
    }
    memcpy(st->host, src, bytes);
    *out = st;
    return IG_OK;
}

/* The pinned buffer holding [p, p + bytes), or NULL; the caller holds pinned_lock. */
static ig_cuda_pinned *pinned_find(ig_cuda *cu, const void *p, size_t bytes)
{
    const char *c = p;
    for (int i = 0; i < cu->n_pinned; i++) {
        const char *h = cu->pinned[i].host, *end = h + cu->pinned[i].bytes;
        if (c >= h && c < end && c + bytes <= end) return &cu->pinned[i];
    }
    return NULL;
}

/* Host -> device on stream s: straight from pinned memory (its event then follows the copy),
 * else through the staging ring. */
static ig_status copy_in(ig_backend *be, void *dst, const void *src, size_t bytes, cudaStream_t s)
{
    ig_cuda *cu = impl(be);
    pthread_mutex_lock(&cu->pinned_lock);
    ig_cuda_pinned *pb = pinned_find(cu, src, bytes);
    cudaEvent_t done = pb ? pb->done : NULL;
    pthread_mutex_unlock(&cu->pinned_lock);
    if (!done) {
        ig_cuda_staging *st;
        IG_TRY(stage(be, src, bytes, &st));
        src = st->host;
        done = st->done;
    }
    CU_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s));
    CU_TRY(cudaEventRecord(done, s));
    return IG_OK;
}

/* Stream-ordered on the main stream, before every later run. */
static ig_status cuda_upload(ig_backend *be, void *dst, const void *src, size_t bytes)
{
    return copy_in(be, dst, src, bytes, impl(be)->queue[0].s);
}

static void *cuda_pinned_alloc(ig_backend *be, size_t bytes)
{
    ig_cuda *cu = impl(be);
    void *host = NULL;
    cudaEvent_t done = NULL;
    /* a loader's thread calls this too: the event must belong to the context's device */
    bool ok = cudaSetDevice(cu->device) == cudaSuccess &&
              cudaHostAlloc(&host, bytes ? bytes : 1, cudaHostAllocPortable) == cudaSuccess &&
              cudaEventCreateWithFlags(&done, cudaEventDisableTiming) == cudaSuccess;
    pthread_mutex_lock(&cu->pinned_lock);
    if (ok && cu->n_pinned == cu->cap_pinned) {
        int cap = cu->cap_pinned ? 2 * cu->cap_pinned : 16;
        ig_cuda_pinned *grown = realloc(cu->pinned, (size_t)cap * sizeof *grown);
        ok = grown != NULL;
        if (ok) {
            cu->pinned = grown;
            cu->cap_pinned = cap;
        }
    }
    if (ok) cu->pinned[cu->n_pinned++] = (ig_cuda_pinned){host, bytes, done};
    pthread_mutex_unlock(&cu->pinned_lock);
    if (!ok) {
        if (done) cudaEventDestroy(done);
        if (host) cudaFreeHost(host);
        cudaGetLastError(); /* clear a failed allocation's error */
        return NULL;
    }
    memset(host, 0, bytes);
    ig_stats_pinned(be->ctx, (ptrdiff_t)bytes);
    return host;
}

static void cuda_pinned_free(ig_backend *be, void *p)
{
    ig_cuda *cu = impl(be);
    pthread_mutex_lock(&cu->pinned_lock);
    ig_cuda_pinned *pb = pinned_find(cu, p, 0);
    ig_cuda_pinned gone = pb ? *pb : (ig_cuda_pinned){0};
    if (pb) *pb = cu->pinned[--cu->n_pinned];
    pthread_mutex_unlock(&cu->pinned_lock);
    if (!gone.host) return;
    cudaEventSynchronize(gone.done); /* a copy may still read it */
    cudaEventDestroy(gone.done);
    cudaFreeHost(gone.host);
    ig_stats_pinned(be->ctx, -(ptrdiff_t)gone.bytes);
}

static ig_status cuda_pinned_wait(ig_backend *be, const void *p)
{
    ig_cuda *cu = impl(be);
    pthread_mutex_lock(&cu->pinned_lock);
    ig_cuda_pinned *pb = pinned_find(cu, p, 0);
    cudaEvent_t done = pb ? pb->done : NULL;
    pthread_mutex_unlock(&cu->pinned_lock);
    if (!done) return ig_fail(IG_ERR_INTERNAL, "cuda: %p is not pinned memory of this context", p);
    CU_TRY(cudaEventSynchronize(done));
    return IG_OK;
}

static ig_status cuda_download(ig_backend *be, void *dst, const void *src, size_t bytes)
{
    ig_cuda *cu = impl(be);
    CU_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cu->queue[0].s));
    CU_TRY(cudaStreamSynchronize(cu->queue[0].s));
    return IG_OK;
}

static ig_status prog_state(ig_program *p, ig_cuda_prog **out);

/* On the copy stream: after the last run that read this IO slot, before the next that will
 * (the run waits for `copied`), so the copy overlaps the run on the other slot. */
static ig_status cuda_upload_io(ig_backend *be, ig_program *p, int slot, void *dst, const void *src, size_t bytes)
{
    ig_cuda *cu = impl(be);
    ig_cuda_prog *cp = NULL;
    IG_TRY(prog_state(p, &cp));
    CU_TRY(cudaStreamWaitEvent(cu->copy, cp->used[slot], 0));
    IG_TRY(copy_in(be, dst, src, bytes, cu->copy));
    CU_TRY(cudaEventRecord(cp->copied[slot], cu->copy));
    cp->copy_pending[slot] = true;
    return IG_OK;
}

static bool cuda_supports(ig_backend *be, const ig_node *n) { return n->op > IG_OP_NOP && n->op < IG_OP_COUNT; }

static ig_status prog_state(ig_program *p, ig_cuda_prog **out)
{
    if (!p->be_state) {
        ig_cuda_prog *cp = calloc(1, sizeof *cp);
        if (cp) cp->gemm = calloc((size_t)(p->g.n_nodes ? p->g.n_nodes : 1), sizeof *cp->gemm);
        if (cp) cp->conv = calloc((size_t)(p->g.n_nodes ? p->g.n_nodes : 1), sizeof *cp->conv);
        if (cp) cp->side_done = calloc((size_t)(p->g.n_nodes ? p->g.n_nodes : 1), sizeof *cp->side_done);
        if (!cp || !cp->gemm || !cp->conv || !cp->side_done) {
            if (cp) free(cp->gemm), free(cp->conv), free(cp->side_done);
            free(cp);
            return ig_fail(IG_ERR_OUT_OF_MEMORY, "cuda: out of memory");
        }
        p->be_state = cp;
        for (int i = 0; i < 2; i++) {
            CU_TRY(cudaEventCreateWithFlags(&cp->copied[i], cudaEventDisableTiming));
            CU_TRY(cudaEventCreateWithFlags(&cp->used[i], cudaEventDisableTiming));
        }
    }
    *out = p->be_state;
    return IG_OK;
}

/* Main stream waits for the side nodes whose join is node `at` (n_nodes: the program's end). */
static ig_status join_side_nodes(ig_cuda *cu, ig_cuda_prog *cp, const ig_graph *g, int at)
{
    for (int s = 0; s < g->n_nodes && s < at; s++)
        if (g->nodes[s].op != IG_OP_NOP && g->nodes[s].stream && g->nodes[s].join == at)
            CU_TRY(cudaStreamWaitEvent(cu->queue[0].s, cp->side_done[s], 0));
    return IG_OK;
}

/* Side-stream nodes start after everything queued on the main stream before them; a main
 * node waits for just the side nodes it joins (a split optimizer update's first part, on the
 * side, runs beside the last gradients and the second part), and the end for the rest (a
 * capture must end on the stream it began on). */
static ig_status launch_all(ig_cuda *cu, ig_cuda_prog *cp, ig_program *p, void *const *bases, bool continues)
{
    const ig_graph *g = &p->g;
    for (int i = 0; i < g->n_nodes; i++) {
        const ig_node *n = &g->nodes[i];
        if (n->op == IG_OP_NOP || (continues && n->lead)) continue;
        if (n->stream) {
            if (!cp->side_done[i]) CU_TRY(cudaEventCreateWithFlags(&cp->side_done[i], cudaEventDisableTiming));
            CU_TRY(cudaEventRecord(cu->forked, cu->queue[0].s));
            CU_TRY(cudaStreamWaitEvent(cu->queue[1].s, cu->forked, 0));
            cu->cur = 1;
            ig_status st = ig_cuda_launch_node(cu, cp, g, i, bases);
            cu->cur = 0;
            IG_TRY(st);
            CU_TRY(cudaEventRecord(cp->side_done[i], cu->queue[1].s));
            continue;
        }
        IG_TRY(join_side_nodes(cu, cp, g, i));
        IG_TRY(ig_cuda_launch_node(cu, cp, g, i, bases));
    }
    return join_side_nodes(cu, cp, g, g->n_nodes);
}

/* A debugging aid, on request only: every node between two events, times summed per node
 * (the run waits for itself, so profiled runs are slower than real ones). */
static ig_status launch_profiled(ig_cuda *cu, ig_cuda_prog *cp, ig_program *p, void *const *bases, bool continues)
{
    int n = p->g.n_nodes;
    if (!cp->marks) {
        cp->marks = calloc((size_t)n + 1, sizeof *cp->marks);
        cp->node_ms = calloc((size_t)n, sizeof *cp->node_ms);
        if (!cp->marks || !cp->node_ms) return ig_fail(IG_ERR_OUT_OF_MEMORY, "cuda: out of memory");
        for (int i = 0; i <= n; i++) CU_TRY(cudaEventCreate(&cp->marks[i]));
    }
    for (int i = 0; i < n; i++) {
        CU_TRY(cudaEventRecord(cp->marks[i], cu->queue[0].s));
        cu->queue[0].after_own = false; /* each node timed alone */
        if (!continues || !p->g.nodes[i].lead) IG_TRY(ig_cuda_launch_node(cu, cp, &p->g, i, bases));
    }
    CU_TRY(cudaEventRecord(cp->marks[n], cu->queue[0].s));
    CU_TRY(cudaEventSynchronize(cp->marks[n]));
    for (int i = 0; i < n; i++) {
        float ms;
        CU_TRY(cudaEventElapsedTime(&ms, cp->marks[i], cp->marks[i + 1]));
        if (cp->profiled_runs > 0) cp->node_ms[i] += ms; /* the first run makes plans: not counted */
    }
    cp->profiled_runs++;
    return IG_OK;
}

static void profile_report(ig_cuda_prog *cp, const ig_program *p)
{
    int runs = cp->profiled_runs - 1;
    if (runs < 1) return;
    double total = 0;
    for (int i = 0; i < p->g.n_nodes; i++) total += cp->node_ms[i];
    fprintf(stderr, "ingot cuda profile: %d nodes, %d runs, %.2f us per run\n", p->g.n_nodes, runs, 1e3 * total / runs);
    for (int i = 0; i < p->g.n_nodes; i++) {
        const ig_node *nd = &p->g.nodes[i];
        if (nd->op == IG_OP_NOP) continue;
        char gemm[96] = "";
        if (cp->gemm[i].ready) {
            int tile = 0, splitk = 0;
            cublasLtMatmulAlgoConfigGetAttribute(&cp->gemm[i].algo, CUBLASLT_ALGO_CONFIG_TILE_ID, &tile, sizeof tile, NULL);
            cublasLtMatmulAlgoConfigGetAttribute(&cp->gemm[i].algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &splitk,
                                                 sizeof splitk, NULL);
            snprintf(gemm, sizeof gemm, "  [tile %d, split-k %d%s]", tile, splitk,
                     cp->gemm[i].fused_bgrad ? ", bias grad fused" : "");
        }
        fprintf(stderr, "  %3d %-14s %-20s %8.2f us %5.1f%%%s\n", i, ig_op_get(nd->op)->name, nd->name,
                1e3 * cp->node_ms[i] / runs, 100.0 * cp->node_ms[i] / total, gemm);
    }
}

static ig_status capture(ig_cuda *cu, ig_cuda_prog *cp, ig_program *p, void *const *bases, bool continues,
                         cudaGraphExec_t *exec)
{
    cudaGraph_t graph = NULL;
    CU_TRY(cudaStreamBeginCapture(cu->queue[0].s, cudaStreamCaptureModeThreadLocal));
    ig_status st = launch_all(cu, cp, p, bases, continues);
    cudaError_t e = cudaStreamEndCapture(cu->queue[0].s, &graph);
    if (st == IG_OK) st = ig_cuda_check(e, "cudaStreamEndCapture", __FILE__, __LINE__);
    if (st == IG_OK) st = ig_cuda_check(cudaGraphInstantiate(exec, graph, 0), "cudaGraphInstantiate", __FILE__, __LINE__);
    if (graph) cudaGraphDestroy(graph);
    return st;
}

/* The run of a program, on the main stream: after its IO slot's copy, eagerly the first time
 * (plans, module loads), then as the captured graph of its IO slot (and of continuing). */
static ig_status cuda_run(ig_backend *be, ig_program *p, void *const *bases, bool continues)
{
    ig_cuda *cu = impl(be);
    ig_cuda_prog *cp = NULL;
    IG_TRY(prog_state(p, &cp));
    int slot = bases[IG_BUF_IO] == p->io[1];
    if (cp->copy_pending[slot]) {
        CU_TRY(cudaStreamWaitEvent(cu->queue[0].s, cp->copied[slot], 0));
        cp->copy_pending[slot] = false;
    }
    int v = slot + 2 * continues;
    if (cu->profile) IG_TRY(launch_profiled(cu, cp, p, bases, continues));
    else if (!cu->use_graphs || cp->runs++ == 0) IG_TRY(launch_all(cu, cp, p, bases, continues));
    else {
        if (cp->exec[v] && (memcmp(cp->bases[v], bases, sizeof cp->bases[v]) != 0 ||
                            memcmp(cp->workspaces[v], cu->workspace, sizeof cu->workspace) != 0)) {
            /* the program now runs on other buffers, or another program's plans grew a
             * stream's workspace: the captured addresses are stale */
            CU_TRY(cudaGraphExecDestroy(cp->exec[v]));
            cp->exec[v] = NULL;
        }
        if (!cp->exec[v]) {
            IG_TRY(capture(cu, cp, p, bases, continues, &cp->exec[v]));
            memcpy(cp->bases[v], bases, sizeof cp->bases[v]);
            memcpy(cp->workspaces[v], cu->workspace, sizeof cu->workspace);
        }
        CU_TRY(cudaGraphLaunch(cp->exec[v], cu->queue[0].s));
    }
    CU_TRY(cudaEventRecord(cp->used[slot], cu->queue[0].s));
    return IG_OK;
}

static void cuda_program_release(ig_backend *be, ig_program *p)
{
    ig_cuda_prog *cp = p->be_state;
    if (!cp) return;
    cudaStreamSynchronize(impl(be)->copy);
    cudaStreamSynchronize(impl(be)->queue[0].s);
    if (cp->marks) {
        profile_report(cp, p);
        for (int i = 0; i <= p->g.n_nodes; i++) cudaEventDestroy(cp->marks[i]);
        free(cp->marks);
        free(cp->node_ms);
    }
    for (size_t i = 0; i < sizeof cp->exec / sizeof *cp->exec; i++)
        if (cp->exec[i]) cudaGraphExecDestroy(cp->exec[i]);
    for (int i = 0; i < 2; i++) {
        if (cp->copied[i]) cudaEventDestroy(cp->copied[i]);
        if (cp->used[i]) cudaEventDestroy(cp->used[i]);
    }
    for (int i = 0; i < p->g.n_nodes; i++) {
        ig_cuda_gemm_free(&cp->gemm[i]);
        ig_cuda_conv_free(impl(be), &cp->conv[i]);
        if (cp->side_done[i]) cudaEventDestroy(cp->side_done[i]);
    }
    free(cp->gemm);
    free(cp->conv);
    free(cp->side_done);
    free(cp);
    p->be_state = NULL;
}

static void cuda_destroy(ig_backend *be)
{
    ig_cuda *cu = impl(be);
    if (cu) {
        if (cu->queue[0].s) cudaStreamSynchronize(cu->queue[0].s);
        if (cu->dnn) cudnnDestroy(cu->dnn); /* before the stream it is bound to */
        if (cu->copy) {
            cudaStreamSynchronize(cu->copy);
            cudaStreamDestroy(cu->copy);
        }
        if (cu->forked) cudaEventDestroy(cu->forked);
        while (cu->n_pinned > 0) cuda_pinned_free(be, cu->pinned[0].host); /* tensors released too late */
        free(cu->pinned);
        pthread_mutex_destroy(&cu->pinned_lock);
        for (int i = 0; i < IG_CUDA_STAGING; i++) {
            if (cu->staging[i].host) cudaFreeHost(cu->staging[i].host);
            ig_stats_pinned(be->ctx, -(ptrdiff_t)cu->staging[i].cap);
            if (cu->staging[i].done) cudaEventDestroy(cu->staging[i].done);
        }
        for (int i = 0; i < 2; i++) {
            if (cu->workspace[i]) {
                cudaFree(cu->workspace[i]);
                ig_stats_device(be->ctx, -(ptrdiff_t)cu->workspace_bytes[i]);
            }
            if (cu->counters[i]) {
                cudaFree(cu->counters[i]);
                ig_stats_device(be->ctx, -(ptrdiff_t)((IG_CUDA_COUNTERS + 1) * sizeof(int)));
            }
            if (cu->queue[i].s) cudaStreamDestroy(cu->queue[i].s);
        }
        if (cu->lt) cublasLtDestroy(cu->lt);
        free(cu);
    }
    free(be);
}

bool ig_cuda_available(void)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();
        return false;
    }
    return n > 0;
}

static ig_status init(ig_backend *be)
{
    ig_cuda *cu = impl(be);
    const char *env = getenv("INGOT_CUDA_GRAPHS");
    cu->use_graphs = !(env && strcmp(env, "0") == 0);
    env = getenv("INGOT_CUDA_PROFILE");
    cu->profile = env && strcmp(env, "1") == 0;
    env = getenv("INGOT_CUDA_GEMM");
    cu->own_gemm = !(env && strcmp(env, "cublaslt") == 0);
    cu->ctx = be->ctx;
    CU_TRY(cudaGetDevice(&cu->device));
    CU_TRY(cudaDeviceGetAttribute(&cu->sms, cudaDevAttrMultiProcessorCount, cu->device));
    int major;
    CU_TRY(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, cu->device));
    for (int i = 0; i < 2; i++) {
        CU_TRY(cudaStreamCreateWithFlags(&cu->queue[i].s, cudaStreamNonBlocking));
        cu->queue[i].early = major >= 9; /* Programmatic Dependent Launch: Hopper on */
        CU_TRY(cudaMalloc(&cu->workspace[i], IG_CUDA_WORKSPACE));
        cu->workspace_bytes[i] = IG_CUDA_WORKSPACE;
        ig_stats_device(be->ctx, (ptrdiff_t)IG_CUDA_WORKSPACE);
        CU_TRY(cudaMalloc((void **)&cu->counters[i], (IG_CUDA_COUNTERS + 1) * sizeof(int)));
        ig_stats_device(be->ctx, (ptrdiff_t)((IG_CUDA_COUNTERS + 1) * sizeof(int)));
        CU_TRY(cudaMemsetAsync(cu->counters[i], 0, (IG_CUDA_COUNTERS + 1) * sizeof(int), cu->queue[i].s));
    }
    CU_TRY(cudaStreamCreateWithFlags(&cu->copy, cudaStreamNonBlocking));
    CU_TRY(cudaEventCreateWithFlags(&cu->forked, cudaEventDisableTiming));
    LT_TRY(cublasLtCreate(&cu->lt));
    for (int i = 0; i < IG_CUDA_STAGING; i++)
        CU_TRY(cudaEventCreateWithFlags(&cu->staging[i].done, cudaEventDisableTiming));
    return IG_OK;
}

ig_status ig_backend_cuda_create(ig_ctx *ctx, ig_backend **out)
{
    if (!ig_cuda_available()) return ig_fail(IG_ERR_UNSUPPORTED, "ig_ctx_create: no CUDA device is present");
    ig_backend *be = calloc(1, sizeof *be);
    ig_cuda *cu = calloc(1, sizeof *cu);
    if (!be || !cu) {
        free(be);
        free(cu);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "cuda backend: out of memory");
    }
    pthread_mutex_init(&cu->pinned_lock, NULL);
    *be = (ig_backend){
        .name = "cuda",
        .device = IG_DEVICE_CUDA,
        .streams = 2,
        .ctx = ctx,
        .alloc = cuda_alloc,
        .free = cuda_free,
        .upload = cuda_upload,
        .upload_io = cuda_upload_io,
        .pinned_alloc = cuda_pinned_alloc,
        .pinned_free = cuda_pinned_free,
        .pinned_wait = cuda_pinned_wait,
        .download = cuda_download,
        .supports = cuda_supports,
        .run = cuda_run,
        .program_release = cuda_program_release,
        .destroy = cuda_destroy,
        .impl = cu,
    };
    ig_status st = init(be);
    if (st != IG_OK) {
        cuda_destroy(be);
        return st;
    }
    *out = be;
    return IG_OK;
}
