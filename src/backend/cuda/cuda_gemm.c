/* cuda_gemm.c — GEMMs through cuBLASLt with fused epilogues (bias, bias + ReLU), fp32 with
 * TF32 off. ingot's matrices are row-major and cuBLASLt's column-major, so a row-major
 * C = op(A)·op(B) is issued as the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: operands swapped, each
 * read as its own transpose. The plan (descriptors and the heuristic's first algorithm, the
 * same in every process, so a checkpoint resumes bit for bit) is made once per node, in a
 * program's first (eager) run, and reused, so nothing is chosen inside a captured step.
 * Timing the heuristic's other candidates and keeping one over 1.5× faster made cnn_small's
 * step 6% faster (its 128 × 3136 weight gradient: 65 → 12 µs) but let the choice, hence the
 * rounding, differ between processes: a resumed run then drifted from an uninterrupted one. */
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

static cublasStatus_t matmul(ig_cuda *cu, ig_cuda_gemm *plan, const float *a, const float *b, float *c, float beta)
{
    const float alpha = 1.0f;
    return cublasLtMatmul(cu->lt, plan->desc, &alpha, b, plan->a, a, plan->b, &beta, c, plan->c, c, plan->c, &plan->algo,
                          cu->workspace[cu->cur], IG_CUDA_WORKSPACE, cu->stream[cu->cur]);
}

/* The epilogue's bias or bias-gradient pointer, which may differ from run to run. */
static ig_status set_vector(ig_cuda_gemm *plan, const ig_cuda_epilogue *epi)
{
    const float *vec = epi->bias ? epi->bias : plan->fused_bgrad ? epi->bgrad : NULL;
    if (vec) LT_TRY(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &vec, sizeof vec));
    return IG_OK;
}

ig_status ig_cuda_gemm_run(ig_cuda *cu, ig_cuda_gemm *plan, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                           const float *a, int64_t lda, const float *b, int64_t ldb, float *c,
                           const ig_cuda_epilogue *epi, float beta)
{
    if (!plan->ready) {
        cublasLtEpilogue_t e = epi->bias ? (epi->relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS)
                               : epi->relu ? CUBLASLT_EPILOGUE_RELU
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
    LT_TRY(matmul(cu, plan, a, b, c, beta));
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
