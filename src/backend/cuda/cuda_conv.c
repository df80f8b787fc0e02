/* cuda_conv.c — 2-D convolutions through cuDNN 9's backend (graph) API: fp32, NCHW,
 * cross-correlation. The forward pass, the data gradient and the weight gradient are one
 * convolution operation each, described by the same three tensors in different roles, so one
 * function builds every plan: tensor, convolution and operation descriptors, a graph of that
 * one operation, then the engine configurations the heuristics rank (mode INSTANT, then
 * FALLBACK; mode B's picks made cnn_small's step 7% faster on an H200, but it leaves device
 * memory of an internal cuDNN handle allocated, which compute-sanitizer reports), tried best
 * first; the first whose engine is plain fp32 and
 * deterministic and that finalizes into an execution plan is kept. Plans are made in a
 * program's first (eager) run, which grows the stream's shared workspace to the plan's need
 * (plans on one stream never run at once, so one buffer serves them all); later runs,
 * captured ones included, only bind pointers and execute. Convolutions over few input
 * channels (a first layer) take our own direct kernels instead (cuda_conv.cu); stride-1 data
 * gradients run as forward convolutions (dgrad_as_forward). */
#include "backend/cuda/cuda_impl.h"
#include "ops/conv.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The tensors' roles: x or dx, w or dw, y or dy. A tensor's unique id is its role + 1. */
enum { ROLE_X, ROLE_W, ROLE_Y, ROLES };

/* One direction: its cuDNN operation, the operation's attributes, and the roles of the node's
 * in[0], in[1] and out[0] (see ops/conv.h). */
typedef struct conv_kind {
    cudnnBackendDescriptorType_t op;
    cudnnBackendAttributeName_t tensor[ROLES], conv, alpha, beta;
    int role[3];
} conv_kind;

_Static_assert((size_t)2 * IG_CONV_DIRECT_WEIGHTS * IG_CONV_DIRECT_PARTS * sizeof(float) <= IG_CUDA_WORKSPACE,
               "the direct weight gradient's partial sums fit a stream's workspace");
_Static_assert(IG_OP_CONV2D_DGRAD == IG_OP_CONV2D + 1 && IG_OP_CONV2D_WGRAD == IG_OP_CONV2D + 2,
               "kinds[] is indexed by op - IG_OP_CONV2D");

static const conv_kind kinds[3] = {
    {CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR,
     {CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W,
      CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y},
     CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA,
     CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, {ROLE_X, ROLE_W, ROLE_Y}},
    {CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR,
     {CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W,
      CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY},
     CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA,
     CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA, {ROLE_Y, ROLE_W, ROLE_X}},
    {CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR,
     {CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW,
      CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY},
     CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_ALPHA,
     CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_BETA, {ROLE_Y, ROLE_X, ROLE_W}},
};

#define SET(d, name, type, count, value) DNN_TRY(cudnnBackendSetAttribute(d, name, type, count, value))
/* for functions that must release what they made before returning an error */
#define DNN_GOTO(call)                                                                       \
    do {                                                                                     \
        if ((st = ig_cudnn_check((call), #call, __FILE__, __LINE__)) != IG_OK) goto done; \
    } while (0)

/* A packed NCHW fp32 tensor. Its byte alignment is that of the address it has now, up to 256:
 * every buffer starts 256-byte aligned and a value keeps its offset, so every run's address
 * has it too. */
static ig_status make_tensor(cudnnBackendDescriptor_t *t, int64_t uid, const int64_t dims[4], const void *addr)
{
    int64_t strides[4] = {dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1}, align = 256;
    while ((uintptr_t)addr % (uintptr_t)align) align /= 2;
    cudnnDataType_t type = CUDNN_DATA_FLOAT;
    DNN_TRY(cudnnBackendCreateDescriptor(CUDNN_BACKEND_TENSOR_DESCRIPTOR, t));
    SET(*t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type);
    SET(*t, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims);
    SET(*t, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides);
    SET(*t, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid);
    SET(*t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &align);
    DNN_TRY(cudnnBackendFinalize(*t));
    return IG_OK;
}

/* Symmetric padding, dilation 1, fp32 accumulation. */
static ig_status make_conv(cudnnBackendDescriptor_t *d, int64_t stride, int64_t pad)
{
    int64_t spatial = 2, strides[2] = {stride, stride}, pads[2] = {pad, pad}, dilations[2] = {1, 1};
    cudnnDataType_t comp = CUDNN_DATA_FLOAT;
    cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
    DNN_TRY(cudnnBackendCreateDescriptor(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR, d));
    SET(*d, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &comp);
    SET(*d, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode);
    SET(*d, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &spatial);
    SET(*d, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, strides);
    SET(*d, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, pads);
    SET(*d, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, pads);
    SET(*d, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, dilations);
    DNN_TRY(cudnnBackendFinalize(*d));
    return IG_OK;
}

/* Whether the engine of `cfg` computes in plain fp32 (tensor cores would mean TF32, which
 * misses the CPU backend's results by ~1e-3; nor down-converted inputs or reduced-precision
 * sums) and deterministically (reruns, and captured against eager runs, agree to the bit). */
static ig_status engine_acceptable(cudnnBackendDescriptor_t cfg, bool *ok)
{
    cudnnBackendDescriptor_t engine;
    cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
    int64_t count = 0;
    DNN_TRY(cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &engine));
    cudnnStatus_t e =
        cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &count, &engine);
    if (e == CUDNN_STATUS_SUCCESS)
        e = cudnnBackendGetAttribute(engine, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                                     CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &count, notes);
    cudnnBackendDestroyDescriptor(engine);
    IG_TRY(ig_cudnn_check(e, "reading an engine's numerical notes", __FILE__, __LINE__));
    *ok = true;
    for (int64_t i = 0; i < count; i++)
        switch (notes[i]) {
        case CUDNN_NUMERICAL_NOTE_TENSOR_CORE:
        case CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS:
        case CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION:
        case CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC: *ok = false; break;
        default: break;
        }
    return IG_OK;
}

/* Tries the engine configurations the heuristic of `mode` ranks for p->graph, best first, and
 * keeps the first acceptable one that finalizes into a plan (p->cfg, p->plan). A heuristic or
 * a plan that cuDNN declines is no error: *declined keeps its status for the message in case
 * no plan is found at all. */
static ig_status pick_engine(cudnnHandle_t h, ig_cuda_conv *p, cudnnBackendHeurMode_t mode, cudnnStatus_t *declined)
{
    ig_status st = IG_OK;
    cudnnBackendDescriptor_t heur = NULL, plan = NULL, *cfgs = NULL;
    cudnnStatus_t e;
    int64_t count = 0, got = 0;
    DNN_TRY(cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, &heur));
    DNN_GOTO(cudnnBackendSetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
                                      &p->graph));
    DNN_GOTO(cudnnBackendSetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode));
    if ((e = cudnnBackendFinalize(heur)) != CUDNN_STATUS_SUCCESS) {
        *declined = e;
        goto done;
    }
    DNN_GOTO(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count,
                                      NULL));
    if (count <= 0) goto done;
    cfgs = calloc((size_t)count, sizeof *cfgs);
    if (!cfgs) {
        st = ig_fail(IG_ERR_OUT_OF_MEMORY, "cuda: out of memory");
        goto done;
    }
    for (int64_t i = 0; i < count; i++)
        DNN_GOTO(cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &cfgs[i]));
    DNN_GOTO(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &got,
                                      cfgs));
    for (int64_t i = 0; i < got && !p->plan; i++) {
        bool ok;
        if ((st = engine_acceptable(cfgs[i], &ok)) != IG_OK) goto done;
        if (!ok) continue;
        DNN_GOTO(cudnnBackendCreateDescriptor(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, &plan));
        DNN_GOTO(cudnnBackendSetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &h));
        DNN_GOTO(cudnnBackendSetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG,
                                          CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cfgs[i]));
        if ((e = cudnnBackendFinalize(plan)) == CUDNN_STATUS_SUCCESS) {
            p->plan = plan, p->cfg = cfgs[i];
            plan = cfgs[i] = NULL;
        } else {
            *declined = e;
            cudnnBackendDestroyDescriptor(plan);
            plan = NULL;
        }
    }
done:
    if (plan) cudnnBackendDestroyDescriptor(plan);
    for (int64_t i = 0; cfgs && i < count; i++)
        if (cfgs[i]) cudnnBackendDestroyDescriptor(cfgs[i]);
    free(cfgs);
    cudnnBackendDestroyDescriptor(heur);
    return st;
}

/* Whether a data gradient runs as the forward convolution of dy with the filters turned half
 * a turn and their in/out channels swapped: for stride 1, where that convolution with padding
 * k − 1 − pad gives exactly dx. cuDNN's fp32 forward engines beat its data-gradient ones there
 * (H200: cnn_small's 32 → 64 layer 78 → 46 µs, its step 0.305 → 0.273 ms; resnet18's step
 * 37.5 → 35.9 ms), the filters' turn costing one small kernel. */
static bool dgrad_as_forward(const ig_node *n, const ig_conv_geom *q)
{
    return n->op == IG_OP_CONV2D_DGRAD && q->stride == 1 && q->kh == q->kw && q->pad <= q->kh - 1 &&
           q->f * q->c * q->kh * q->kw < INT_MAX; /* ig_cuda_conv_turn's 32-bit indices */
}

/* The plan of a CONV2D, CONV2D_DGRAD or CONV2D_WGRAD node, whose operands have the addresses
 * ptrs[role]; the workspace of the stream it runs on grows to what the plan needs (and, for a
 * data gradient run forward, the turned filters after it). */
static ig_status make_plan(ig_cuda *cu, ig_cuda_conv *p, const ig_graph *g, const ig_node *n, void *const *ptrs)
{
    ig_conv_geom q = ig_conv_geom_of(g, n);
    bool turned = dgrad_as_forward(n, &q);
    const conv_kind *k = &kinds[turned ? 0 : n->op - IG_OP_CONV2D];
    int64_t dims[ROLES][4] = {{q.n, q.c, q.h, q.w}, {q.f, q.c, q.kh, q.kw}, {q.n, q.f, q.oh, q.ow}};
    if (turned) { /* x: dy, w: the turned filters, y: dx */
        const int64_t t[ROLES][4] = {{q.n, q.f, q.oh, q.ow}, {q.c, q.f, q.kh, q.kw}, {q.n, q.c, q.h, q.w}};
        memcpy(dims, t, sizeof dims);
    }
    cudnnHandle_t h;
    IG_TRY(ig_cuda_dnn(cu, &h));
    for (int r = 0; r < ROLES; r++) IG_TRY(make_tensor(&p->tensor[r], r + 1, dims[r], ptrs[r]));
    IG_TRY(make_conv(&p->conv, q.stride, turned ? q.kh - 1 - q.pad : q.pad));

    float alpha = 1.0f, beta = 0.0f; /* the attribute type matches the fp32 tensors */
    DNN_TRY(cudnnBackendCreateDescriptor(k->op, &p->op));
    for (int r = 0; r < ROLES; r++) SET(p->op, k->tensor[r], CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &p->tensor[r]);
    SET(p->op, k->conv, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &p->conv);
    SET(p->op, k->alpha, CUDNN_TYPE_FLOAT, 1, &alpha);
    SET(p->op, k->beta, CUDNN_TYPE_FLOAT, 1, &beta);
    DNN_TRY(cudnnBackendFinalize(p->op));

    DNN_TRY(cudnnBackendCreateDescriptor(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, &p->graph));
    SET(p->graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &p->op);
    SET(p->graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h);
    DNN_TRY(cudnnBackendFinalize(p->graph));

    cudnnStatus_t declined = CUDNN_STATUS_NOT_SUPPORTED;
    IG_TRY(pick_engine(h, p, CUDNN_HEUR_MODE_INSTANT, &declined));
    if (!p->plan) IG_TRY(pick_engine(h, p, CUDNN_HEUR_MODE_FALLBACK, &declined));
    if (!p->plan) {
        char detail[256] = "";
        cudnnGetLastErrorString(detail, sizeof detail);
        return ig_fail(IG_ERR_UNSUPPORTED,
                       "cudnn offers no deterministic fp32 engine without tensor cores for it (last refusal: %s%s%s)",
                       cudnnGetErrorString(declined), detail[0] ? ": " : "", detail);
    }

    int64_t bytes = 0, count = 0;
    DNN_TRY(cudnnBackendGetAttribute(p->plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &count,
                                     &bytes));
    if (!turned) return ig_cuda_workspace_reserve(cu, cu->cur, (size_t)bytes);
    p->turned_offset = ((size_t)bytes + 255) / 256 * 256;
    return ig_cuda_workspace_reserve(cu, cu->cur, p->turned_offset + (size_t)(q.f * q.c * q.kh * q.kw) * sizeof(float));
}

/* Binds this run's pointers and the workspace (the variant pack: host work only, so it is
 * built every time, capture or not) and queues the plan on the node's stream. */
static ig_status execute(ig_cuda *cu, const ig_cuda_conv *p, void *const *ptrs)
{
    static const int64_t uids[ROLES] = {ROLE_X + 1, ROLE_W + 1, ROLE_Y + 1};
    void *workspace = cu->workspace[cu->cur];
    cudnnHandle_t h;
    IG_TRY(ig_cuda_dnn(cu, &h));
    ig_status st = IG_OK;
    cudnnBackendDescriptor_t pack;
    DNN_TRY(cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &pack));
    DNN_GOTO(cudnnBackendSetAttribute(pack, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, ROLES, uids));
    DNN_GOTO(cudnnBackendSetAttribute(pack, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, ROLES, ptrs));
    DNN_GOTO(cudnnBackendSetAttribute(pack, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &workspace));
    DNN_GOTO(cudnnBackendFinalize(pack));
    cu->queue[cu->cur].after_own = false;
    DNN_GOTO(cudnnBackendExecute(h, p->plan, pack));
done:
    cudnnBackendDestroyDescriptor(pack);
    return st;
}

ig_status ig_cuda_conv_run(ig_cuda *cu, ig_cuda_conv *plan, const ig_graph *g, const ig_node *n, void *a, void *b,
                           void *out, const float *bias, float *bgrad)
{
    ig_conv_geom q = ig_conv_geom_of(g, n);
    ig_cuda_queue *queue = &cu->queue[cu->cur];
    ig_bn_geom per_channel = {q.n, q.f, q.oh * q.ow}; /* a folded bias gradient's reduction */
    if (bgrad && (ig_cuda_bn_scratch(&per_channel) > IG_CUDA_WORKSPACE || q.f > IG_CUDA_COUNTERS))
        return ig_fail(IG_ERR_UNSUPPORTED, "conv '%s': %lld filters are more than the CUDA backend's workspace holds",
                       n->name, (long long)q.f);
    if (n->op != IG_OP_CONV2D_DGRAD && ig_cuda_conv_direct_fits(&q)) {
        /* few input channels: our direct kernels (the scratch, ≤ 4 MiB, fits the workspace) */
        if (n->op == IG_OP_CONV2D) ig_cuda_conv_direct_fwd(a, b, bias, out, &q, (int)n->attrs.i[2], n->attrs.f[0], queue);
        else ig_cuda_conv_direct_wgrad(a, b, out, bgrad, &q, cu->workspace[cu->cur], cu->counters[cu->cur], queue);
        return IG_OK;
    }
    const conv_kind *k = &kinds[n->op - IG_OP_CONV2D];
    bool turned = dgrad_as_forward(n, &q);
    void *ptrs[ROLES];
    if (turned) ptrs[ROLE_X] = a, ptrs[ROLE_W] = b, ptrs[ROLE_Y] = out; /* w: for its alignment, at planning */
    else ptrs[k->role[0]] = a, ptrs[k->role[1]] = b, ptrs[k->role[2]] = out;
    if (!plan->plan) {
        enum cudaStreamCaptureStatus capturing;
        CU_TRY(cudaStreamIsCapturing(cu->queue[cu->cur].s, &capturing));
        if (capturing != cudaStreamCaptureStatusNone)
            return ig_fail(IG_ERR_INTERNAL, "conv '%s': no plan made before the capture", n->name);
        ig_status st = make_plan(cu, plan, g, n, ptrs);
        if (st != IG_OK) {
            ig_cuda_conv_free(cu, plan);
            return ig_fail_prefix(st, "conv '%s' (%s): ", n->name, ig_op_get(n->op)->name);
        }
    }
    if (turned) {
        ptrs[ROLE_W] = (char *)cu->workspace[cu->cur] + plan->turned_offset;
        ig_cuda_conv_turn(b, ptrs[ROLE_W], q.f, q.c, q.kh * q.kw, queue);
    }
    IG_TRY(execute(cu, plan, ptrs));
    if (bgrad) ig_cuda_channel_sum(a, bgrad, &per_channel, cu->workspace[cu->cur], cu->counters[cu->cur], queue);
    int act = n->op == IG_OP_CONV2D ? (int)n->attrs.i[2] : IG_ACT_NONE;
    if (bias || act != IG_ACT_NONE) ig_cuda_bias_act(out, bias, q.n, q.f, q.oh * q.ow, act, n->attrs.f[0], queue);
    return IG_OK;
}

void ig_cuda_conv_free(ig_cuda *cu, ig_cuda_conv *plan)
{
    /* also after a plan failed halfway: destroy whatever was made */
    cudnnBackendDescriptor_t made[] = {plan->plan,      plan->cfg,       plan->graph,     plan->op,
                                       plan->conv,      plan->tensor[0], plan->tensor[1], plan->tensor[2]};
    for (size_t i = 0; i < sizeof made / sizeof *made; i++)
        if (made[i]) cudnnBackendDestroyDescriptor(made[i]);
    *plan = (ig_cuda_conv){0};
}
