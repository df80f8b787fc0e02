/* cuda_impl.h — the CUDA backend's host-side state and the helpers its C files share. */
#ifndef IG_CUDA_IMPL_H
#define IG_CUDA_IMPL_H

#include "backend/backend.h"
#include "backend/cuda/cuda.h"
#include "ops/ops.h"

#include <cublasLt.h>
#include <cudnn.h>
#include <pthread.h>

#define IG_CUDA_STAGING 4
#define IG_CUDA_COUNTERS 65536 /* per stream: ints, zero between kernels, for reductions' finishing blocks */
#define IG_CUDA_WORKSPACE ((size_t)32 << 20) /* a stream's workspace at first, and cuBLASLt's: Hopper wants 32 MiB */

typedef struct ig_cuda_staging {
    void *host; /* pinned */
    size_t cap;
    cudaEvent_t done; /* the copy out of it has completed */
} ig_cuda_staging;

/* A buffer from pinned_alloc: copies read it directly; `done` follows the last one queued. */
typedef struct ig_cuda_pinned {
    void *host;
    size_t bytes;
    cudaEvent_t done;
} ig_cuda_pinned;

typedef struct ig_cuda {
    int device;
    /* Stream 0 runs the step's critical path; stream 1 the weight-gradient GEMMs, which
     * overlap with it (see ig_schedule_streams). Each has one workspace, shared by the
     * library calls and kernels on it, which run one at a time: IG_CUDA_WORKSPACE at first,
     * grown by ig_cuda_workspace_reserve to the largest cuDNN plan's need. */
    ig_cuda_queue queue[2];
    cudaStream_t copy; /* batches into IO blocks, overlapping the runs */
    void *workspace[2];
    size_t workspace_bytes[2]; /* never below IG_CUDA_WORKSPACE */
    int *counters[2]; /* IG_CUDA_COUNTERS + 1 each, all zero between kernels; the extra int of
                       * stream 0's: a split optimizer update's (ig_cuda_opt_sync.group) */
    cudaEvent_t forked; /* main -> side before a side node (side -> main: ig_cuda_prog.side_done) */
    int cur;                    /* the stream the node being launched goes to */
    cublasLtHandle_t lt;
    cudnnHandle_t dnn;       /* made on first use (ig_cuda_dnn), so MLPs never load cuDNN */
    cudaStream_t dnn_stream; /* the stream dnn is bound to */
    ig_ctx *ctx;             /* for memory accounting */
    ig_cuda_staging staging[IG_CUDA_STAGING];
    int next_staging;
    /* pinned buffers; a loader's thread makes and waits for them too, hence the lock */
    pthread_mutex_t pinned_lock;
    ig_cuda_pinned *pinned;
    int n_pinned, cap_pinned;
    int sms;         /* multiprocessors, for our GEMM's split */
    bool own_gemm;   /* false: cuBLASLt for every GEMM (INGOT_CUDA_GEMM=cublaslt), for comparison */
    bool use_graphs; /* false: eager launches (INGOT_CUDA_GRAPHS=0), for debugging */
    bool profile;    /* INGOT_CUDA_PROFILE=1: eager, each node timed, a table on stderr */
} ig_cuda;

/* Per-program state: a GEMM plan per node and the captured graph. */
typedef struct ig_cuda_gemm {
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t a, b, c;
    cublasLtMatmulAlgo_t algo;
    ig_sgemm_plan own; /* our kernel's plan, used when own_kernel is set */
    bool own_kernel;
    bool ready;
    bool fused_bgrad; /* the bias gradient asked for comes from the epilogue (else: caller's kernel) */
    bool fused_loss;  /* a loss asked for comes from the epilogue (else: caller's kernel) */
} ig_cuda_gemm;

/* What a GEMM's epilogue adds: a bias and an activation (an ig_act kind and its parameter) in
 * the forward pass, or a fused SPARSE_CE on the logits (labels, smoothing eps, loss and
 * dlogits; a DENSE's IG_DENSE_LOSS); in the backward pass the row sums of op(a) (the bias
 * gradient, cuBLASLt's BGRADB), or the factor f'(·) of activation `dact` taken from its output
 * dact_y (a fused ACT_GRAD). */
typedef struct ig_cuda_epilogue {
    const float *bias;
    int act;
    float act_p;
    float *bgrad;
    int dact;
    const float *dact_y;
    const int32_t *labels;
    float eps;
    float *loss, *dlogits;
} ig_cuda_epilogue;

/* A convolution's cuDNN execution plan (cuda_conv.c), with every descriptor it was built
 * from, made in a program's first (eager) run. It runs on its stream's shared workspace. */
typedef struct ig_cuda_conv {
    cudnnBackendDescriptor_t tensor[3], conv, op, graph, cfg, plan; /* tensors: x, w, y roles */
    size_t turned_offset; /* a data gradient run forward: its turned filters' place in the workspace */
} ig_cuda_conv;

typedef struct ig_cuda_prog {
    ig_cuda_gemm *gemm; /* indexed by node */
    ig_cuda_conv *conv; /* indexed by node */
    cudaEvent_t *side_done; /* indexed by node: a side node's work is done (made on its first run) */
    int runs;           /* runs so far: the first is eager, later ones replay a capture */
    /* one captured graph per IO slot, and per slot another without the lead nodes (index
     * 2 + slot, for continuing runs), with the buffers and the streams' workspaces it was
     * captured with */
    cudaGraphExec_t exec[4];
    void *bases[4][IG_BUF_COUNT];
    void *workspaces[4][2];
    /* per IO slot: its copy is done / the last run reading it is done */
    cudaEvent_t copied[2], used[2];
    bool copy_pending[2];
    cudaEvent_t *marks;        /* profiling: an event before each node and one after the last */
    double *node_ms;           /* profiling: time summed per node */
    int profiled_runs;
} ig_cuda_prog;

ig_status ig_cuda_check(cudaError_t e, const char *what, const char *file, int line);
ig_status ig_cublas_check(cublasStatus_t e, const char *what, const char *file, int line);
#define CU_TRY(call) IG_TRY(ig_cuda_check((call), #call, __FILE__, __LINE__))
#define LT_TRY(call) IG_TRY(ig_cublas_check((call), #call, __FILE__, __LINE__))
ig_status ig_cudnn_check(cudnnStatus_t e, const char *what, const char *file, int line);
#define DNN_TRY(call) IG_TRY(ig_cudnn_check((call), #call, __FILE__, __LINE__))

/* Grows stream `stream`'s workspace to at least `bytes` (outside stream capture only); graphs
 * captured before hold the old address, and cuda_run captures them again. */
ig_status ig_cuda_workspace_reserve(ig_cuda *cu, int stream, size_t bytes);

/* Launches the node's kernels on the backend's stream (eagerly or under capture). */
ig_status ig_cuda_launch_node(ig_cuda *cu, ig_cuda_prog *cp, const ig_graph *g, int i, void *const *bases);
/* c = op(a)·op(b) in row-major terms, with an epilogue (cuda_gemm.c). A bias gradient the
 * epilogue cannot give is left to the caller (plan->fused_bgrad false). */
ig_status ig_cuda_gemm_run(ig_cuda *cu, ig_cuda_gemm *plan, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                           const float *a, int64_t lda, const float *b, int64_t ldb, float *c,
                           const ig_cuda_epilogue *epi);
void ig_cuda_gemm_free(ig_cuda_gemm *plan);
/* The backend's cuDNN handle, bound to the stream of the node being launched. */
ig_status ig_cuda_dnn(ig_cuda *cu, cudnnHandle_t *out);
/* CONV2D (cuDNN, then its bias and activation), CONV2D_DGRAD or CONV2D_WGRAD on the node's
 * operands a = in[0], b = in[1], out = out[0] (bias: CONV2D's in[2] or NULL; bgrad: a
 * CONV2D_WGRAD's folded bias gradient, out[1], or NULL). The plan is made by the first call,
 * which must not be under stream capture. */
ig_status ig_cuda_conv_run(ig_cuda *cu, ig_cuda_conv *plan, const ig_graph *g, const ig_node *n, void *a, void *b,
                           void *out, const float *bias, float *bgrad);
void ig_cuda_conv_free(ig_cuda *cu, ig_cuda_conv *plan);

#endif /* IG_CUDA_IMPL_H */
