/* cuda_gemm.c — a node's GEMM: small products through our own kernel (cuda_sgemm.cu), the rest
 * through cuBLASLt with fused epilogues (bias, bias + ReLU, bias gradient), fp32 with TF32 off.
 * ingot's matrices are row-major and cuBLASLt's column-major, so a row-major
 * C = op(A)·op(B) is issued as the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: operands swapped, each
 * read as its own transpose. The plan (descriptors and the heuristic's first algorithm, the
 * same in every process, so a checkpoint resumes bit for bit) is made once per node, in a
 * program's first (eager) run, and reused, so nothing is chosen inside a captured step.
 * Timing the heuristic's other candidates and keeping one over 1.5× faster made cnn_small's
 * step 6% faster (mostly its 10 × 128 × 128 weight gradient, 60 → 12 µs, which our kernel now
 * takes in 4) but let the choice, hence the rounding, differ between processes: a resumed run
 * then drifted from an uninterrupted one. */
#include "backend/cuda/cuda_impl.h"

#include <string.h>

static ig_status make_plan(ig_cuda *cu, ig_cuda_gemm *p, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                           int64_t lda, int64_t ldb, cublasLtEpilogue_t epi)
{
    cublasOperation_t op_b = tb ? CUBLAS_OP_T : CUBLAS_OP_N, op_a = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
    LT_TRY(cublasLtMatmulDescCreate(&p->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    /* column-major operand 1 is B (rows of its col-major view = its row-major columns) */
    LT_TRY(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_b, sizeof op_b));
    LT_TRY(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_a, sizeof op_a));
    LT_TRY(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
    /* row-major X [r, c] with leading dim ld is column-major [c, r] with ld */
    int64_t b_rows = tb ? k : n, b_cols = tb ? n : k; /* col-major dims of B's storage */
    int64_t a_rows = ta ? m : k, a_cols = ta ? k : m;
    LT_TRY(cublasLtMatrixLayoutCreate(&p->a, CUDA_R_32F, (uint64_t)b_rows, (uint64_t)b_cols, ldb));
    LT_TRY(cublasLtMatrixLayoutCreate(&p->b, CUDA_R_32F, (uint64_t)a_rows, (uint64_t)a_cols, lda));
    LT_TRY(cublasLtMatrixLayoutCreate(&p->c, CUDA_R_32F, (uint64_t)n, (uint64_t)m, n));

    cublasLtMatmulPreference_t pref;
    LT_TRY(cublasLtMatmulPreferenceCreate(&pref));
    size_t ws = IG_CUDA_WORKSPACE;
    cublasStatus_t st = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    cublasLtMatmulHeuristicResult_t res;
    int found = 0;
    if (st == CUBLAS_STATUS_SUCCESS)
        st = cublasLtMatmulAlgoGetHeuristic(cu->lt, p->desc, p->a, p->b, p->c, p->c, pref, 1, &res, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    LT_TRY(st);
    if (found < 1)
        return ig_fail(IG_ERR_UNSUPPORTED, "cuBLASLt has no algorithm for a %lldx%lldx%lld fp32 GEMM", (long long)m,
                       (long long)n, (long long)k);
    p->algo = res.algo;
    p->ready = true;
    return IG_OK;
}

static cublasStatus_t matmul(ig_cuda *cu, ig_cuda_gemm *plan, const float *a, const float *b, float *c)
{
    const float alpha = 1.0f, beta = 0.0f;
    cu->queue[cu->cur].after_own = false;
    return cublasLtMatmul(cu->lt, plan->desc, &alpha, b, plan->a, a, plan->b, &beta, c, plan->c, c, plan->c, &plan->algo,
                          cu->workspace[cu->cur], IG_CUDA_WORKSPACE, cu->queue[cu->cur].s);
}

/* The epilogue's bias or bias-gradient pointer, which may differ from run to run. */
static ig_status set_vector(ig_cuda_gemm *plan, const ig_cuda_epilogue *epi)
{
    const float *vec = epi->bias ? epi->bias : plan->fused_bgrad ? epi->bgrad : NULL;
    if (vec) LT_TRY(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &vec, sizeof vec));
    return IG_OK;
}

/* Our kernel for products of at most this many multiply-adds (a classifier's last layer, at
 * most 10 outputs by 512 inputs for 256 samples); above, cuBLASLt's kernels are faster (as
 * measured on an H200 for mlp_small's and cnn_small's products; bench/RESULTS.md). */
#define OWN_MAX_MACS ((int64_t)1 << 21)

/* Where a fused loss's rows meet in the workspace: after the split partials (its blocks'
 * count goes after the tiles' counters). */
static size_t loss_offset(const ig_sgemm_plan *p) { return (p->partial_floats * sizeof(float) + 7) / 8 * 8; }

ig_status ig_cuda_gemm_run(ig_cuda *cu, ig_cuda_gemm *plan, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                           const float *a, int64_t lda, const float *b, int64_t ldb, float *c,
                           const ig_cuda_epilogue *epi)
{
    ig_cuda_queue *q = &cu->queue[cu->cur];
    /* on the side stream, half the blocks: split four ways beside the main stream's kernels,
     * mlp_small's last weight gradient made the step 12 µs slower (H200), two ways did not */
    int blocks = cu->cur ? cu->sms / 2 : cu->sms;
    if (!plan->ready && cu->own_gemm && m * n * k <= OWN_MAX_MACS && ig_cuda_sgemm_plan(m, n, k, blocks, &plan->own) &&
        plan->own.partial_floats * sizeof(float) <= IG_CUDA_WORKSPACE && plan->own.tiles < IG_CUDA_COUNTERS) {
        plan->ready = plan->own_kernel = plan->fused_bgrad = true;
        plan->fused_loss = epi->labels && n <= IG_SGEMM_LOSS_CLASSES &&
                           loss_offset(&plan->own) + (size_t)m * sizeof(double) <= IG_CUDA_WORKSPACE;
    }
    if (plan->own_kernel) {
        ig_sgemm_args args = {.a = a, .b = b, .bias = epi->bias, .c = c, .bgrad = epi->bgrad, .m = (int)m, .n = (int)n,
                              .k = (int)k, .lda = (int)lda, .ldb = (int)ldb, .ldc = (int)n, .ta = ta, .tb = tb,
                              .act = epi->act, .act_p = epi->act_p, .dact = epi->dact, .dact_y = epi->dact_y,
                              .partials = cu->workspace[cu->cur], .counters = cu->counters[cu->cur]};
        if (plan->fused_loss)
            args.labels = epi->labels, args.eps = epi->eps, args.loss = epi->loss, args.dlogits = epi->dlogits,
            args.row_loss = (double *)((char *)cu->workspace[cu->cur] + loss_offset(&plan->own));
        ig_cuda_sgemm(&plan->own, args, q);
        return IG_OK;
    }
    /* cuBLASLt's epilogues fuse ReLU; another activation is a pass of its own */
    bool relu = epi->act == IG_ACT_RELU;
    if (!plan->ready) {
        cublasLtEpilogue_t e = epi->bias ? (relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS)
                               : relu    ? CUBLASLT_EPILOGUE_RELU
                               : epi->bgrad ? CUBLASLT_EPILOGUE_BGRADB
                                            : CUBLASLT_EPILOGUE_DEFAULT;
        ig_status st = make_plan(cu, plan, ta, tb, m, n, k, lda, ldb, e);
        plan->fused_bgrad = e == CUBLASLT_EPILOGUE_BGRADB && st == IG_OK;
        if (st != IG_OK && e == CUBLASLT_EPILOGUE_BGRADB) {
            /* no fp32 kernel with this epilogue here: plain GEMM, the caller sums the bias */
            ig_cuda_gemm_free(plan);
            st = make_plan(cu, plan, ta, tb, m, n, k, lda, ldb, CUBLASLT_EPILOGUE_DEFAULT);
        }
        IG_TRY(st);
    }
    IG_TRY(set_vector(plan, epi));
    LT_TRY(matmul(cu, plan, a, b, c));
    if (epi->act != IG_ACT_NONE && !relu) ig_cuda_act(c, c, (size_t)(m * n), epi->act, epi->act_p, q);
    if (epi->dact != IG_ACT_NONE) ig_cuda_act_grad(c, epi->dact_y, NULL, c, (size_t)(m * n), epi->dact, epi->act_p, q);
    return IG_OK;
}

void ig_cuda_gemm_free(ig_cuda_gemm *plan)
{
    /* also after a plan failed halfway: destroy whatever was created */
    if (plan->a) cublasLtMatrixLayoutDestroy(plan->a);
    if (plan->b) cublasLtMatrixLayoutDestroy(plan->b);
    if (plan->c) cublasLtMatrixLayoutDestroy(plan->c);
    if (plan->desc) cublasLtMatmulDescDestroy(plan->desc);
    memset(plan, 0, sizeof *plan);
}
