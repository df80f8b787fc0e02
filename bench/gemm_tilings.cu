/* gemm_tilings.cu — our GEMM (src/backend/cuda/cuda_sgemm.cu) in 12 tilings and splits of k
 * from 1 to 32, against cuBLASLt's heuristic first choice and its best candidate, for each
 * GEMM of mlp_small, cnn_small and resnet18's classifier (fp32, the library's epilogues). Each
 * figure: 40 launches captured in a CUDA graph, the median of 7 replays, per launch, in µs;
 * ours are checked against cuBLASLt's output (relative error < 1e-5) before they count. One
 * line per product: cuBLASLt first / best | each tiling's best time / its split | the best.
 * The measurements behind OWN_MAX_MACS (cuda_gemm.c) and the 16 × 16 tiling (bench/RESULTS.md).
 *
 *   build/bin/bench_gemm_tilings        (a CUDA build, on a machine with a GPU) */
#include "backend/cuda/cuda_sgemm.cu"
#include <cublasLt.h>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <vector>
#include <algorithm>
#include <functional>

#define CK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { printf("CUDA %s: %s line %d\n", #x, cudaGetErrorString(e_), __LINE__); exit(1); } } while (0)
#define LK(x) do { cublasStatus_t s_ = (x); if (s_ != CUBLAS_STATUS_SUCCESS) { printf("LT %s: %d\n", #x, (int)s_); exit(1); } } while (0)

struct shape_t { const char *name; int ta, tb; int m, n, k; cublasLtEpilogue_t epi; };
static cudaStream_t st;
static void *ws;
static const size_t WS = 32u << 20;

static float time_graph(std::function<void()> f)
{
    f(); CK(cudaStreamSynchronize(st)); CK(cudaGetLastError());
    cudaGraph_t g; cudaGraphExec_t ge; const int reps = 40;
    CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
    for (int j = 0; j < reps; j++) f();
    CK(cudaStreamEndCapture(st, &g));
    CK(cudaGraphInstantiate(&ge, g, 0));
    CK(cudaGraphLaunch(ge, st));
    cudaEvent_t e0, e1; CK(cudaEventCreate(&e0)); CK(cudaEventCreate(&e1));
    float t[7];
    for (int w = 0; w < 7; w++) { CK(cudaEventRecord(e0, st)); CK(cudaGraphLaunch(ge, st)); CK(cudaEventRecord(e1, st)); CK(cudaEventSynchronize(e1)); CK(cudaEventElapsedTime(&t[w], e0, e1)); }
    std::sort(t, t + 7);
    cudaGraphExecDestroy(ge); cudaGraphDestroy(g); cudaEventDestroy(e0); cudaEventDestroy(e1);
    return t[3] * 1000 / reps;
}

template <int BM, int BN, int TM, int TN, int BK>
static void launch(ig_sgemm_args g, int splits)
{
    g.splits = splits;
    g.kchunk = (g.k + splits - 1) / splits;
    g.kchunk = (g.kchunk + BK - 1) / BK * BK;
    g.splits = (g.k + g.kchunk - 1) / g.kchunk;
    int tn = (g.n + BN - 1) / BN, tm = (g.m + BM - 1) / BM;
    g.row_part = (size_t)tn * tm * g.splits * BM * BN;
    dim3 grid(tn, tm, g.splits);
    sgemm_kernel<BM, BN, TM, TN, BK><<<grid, tile_cfg<BM, BN, TM, TN, BK>::THREADS, 0, st>>>(g);
}

struct variant { const char *name; void (*fn)(ig_sgemm_args, int); };
static const variant variants[] = {
    {"a 32x32 2x2 k32", launch<32, 32, 2, 2, 32>}, {"b 32x32 2x2 k16", launch<32, 32, 2, 2, 16>},
    {"c 32x32 2x2 k64", launch<32, 32, 2, 2, 64>}, {"d 64x32 2x2 k32", launch<64, 32, 2, 2, 32>},
    {"e 32x64 2x2 k32", launch<32, 64, 2, 2, 32>}, {"f 16x32 2x2 k32", launch<16, 32, 2, 2, 32>},
    {"g 32x16 2x2 k32", launch<32, 16, 2, 2, 32>}, {"h 16x16 1x1 k32", launch<16, 16, 1, 1, 32>},
    {"i 32x32 1x2 k32", launch<32, 32, 1, 2, 32>}, {"j 64x64 4x2 k32", launch<64, 64, 4, 2, 32>},
    {"k 64x64 2x4 k32", launch<64, 64, 2, 4, 32>}, {"l 32x32 2x1 k32", launch<32, 32, 2, 1, 32>},
};

int main()
{
    CK(cudaStreamCreate(&st));
    cublasLtHandle_t lt; LK(cublasLtCreate(&lt));
    CK(cudaMalloc(&ws, WS));
    int *cnt; CK(cudaMalloc((void **)&cnt, 1 << 20)); CK(cudaMemset(cnt, 0, 1 << 20));
    float *part; CK(cudaMalloc((void **)&part, 64 << 20));
    const shape_t shapes[] = {
        {"mlp fwd1", 0, 1, 128, 512, 784, CUBLASLT_EPILOGUE_RELU_BIAS}, {"mlp fwd2", 0, 1, 128, 512, 512, CUBLASLT_EPILOGUE_RELU_BIAS},
        {"mlp fwd3", 0, 1, 128, 10, 512, CUBLASLT_EPILOGUE_BIAS},       {"mlp dW3", 1, 0, 10, 512, 128, CUBLASLT_EPILOGUE_BGRADB},
        {"mlp dH2", 0, 0, 128, 512, 10, CUBLASLT_EPILOGUE_DEFAULT},     {"mlp dW2", 1, 0, 512, 512, 128, CUBLASLT_EPILOGUE_BGRADB},
        {"mlp dH1", 0, 0, 128, 512, 512, CUBLASLT_EPILOGUE_DEFAULT},    {"mlp dW1", 1, 0, 512, 784, 128, CUBLASLT_EPILOGUE_BGRADB},
        {"cnn fc1", 0, 1, 128, 128, 3136, CUBLASLT_EPILOGUE_RELU_BIAS}, {"cnn fc1 dW", 1, 0, 128, 3136, 128, CUBLASLT_EPILOGUE_BGRADB},
        {"cnn fc1 dX", 0, 0, 128, 3136, 128, CUBLASLT_EPILOGUE_DEFAULT}, {"cnn fc2", 0, 1, 128, 10, 128, CUBLASLT_EPILOGUE_BIAS},
        {"cnn fc2 dW", 1, 0, 10, 128, 128, CUBLASLT_EPILOGUE_BGRADB},   {"cnn fc2 dX", 0, 0, 128, 128, 10, CUBLASLT_EPILOGUE_DEFAULT},
        {"r18 fc", 0, 1, 256, 10, 512, CUBLASLT_EPILOGUE_BIAS},          {"r18 fc dW", 1, 0, 10, 512, 256, CUBLASLT_EPILOGUE_BGRADB},
    };
    for (const shape_t &s : shapes) {
        int m = s.m, n = s.n, k = s.k;
        int lda = s.ta ? m : k, ldb = s.tb ? k : n;
        cublasLtMatmulDesc_t d; cublasLtMatrixLayout_t la, lb, lc;
        cublasOperation_t opb = s.tb ? CUBLAS_OP_T : CUBLAS_OP_N, opa = s.ta ? CUBLAS_OP_T : CUBLAS_OP_N;
        LK(cublasLtMatmulDescCreate(&d, CUBLAS_COMPUTE_32F, CUDA_R_32F));
        LK(cublasLtMatmulDescSetAttribute(d, CUBLASLT_MATMUL_DESC_TRANSA, &opb, sizeof opb));
        LK(cublasLtMatmulDescSetAttribute(d, CUBLASLT_MATMUL_DESC_TRANSB, &opa, sizeof opa));
        LK(cublasLtMatmulDescSetAttribute(d, CUBLASLT_MATMUL_DESC_EPILOGUE, &s.epi, sizeof s.epi));
        LK(cublasLtMatrixLayoutCreate(&la, CUDA_R_32F, s.tb ? k : n, s.tb ? n : k, ldb));
        LK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_32F, s.ta ? m : k, s.ta ? k : m, lda));
        LK(cublasLtMatrixLayoutCreate(&lc, CUDA_R_32F, n, m, n));
        float *A, *B, *C, *V, *C2, *V2;
        size_t big = (size_t)std::max(m, n) * k;
        CK(cudaMalloc((void **)&A, (size_t)m * k * 4)); CK(cudaMalloc((void **)&B, (size_t)n * k * 4));
        CK(cudaMalloc((void **)&C, (size_t)m * n * 4)); CK(cudaMalloc((void **)&C2, (size_t)m * n * 4));
        CK(cudaMalloc((void **)&V, std::max(m, n) * 4)); CK(cudaMalloc((void **)&V2, std::max(m, n) * 4));
        std::vector<float> h(big);
        for (auto &x : h) x = (float)rand() / RAND_MAX - 0.5f;
        CK(cudaMemcpy(A, h.data(), (size_t)m * k * 4, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(B, h.data(), (size_t)n * k * 4, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(V, h.data(), std::max(m, n) * 4, cudaMemcpyHostToDevice));
        if (s.epi != CUBLASLT_EPILOGUE_DEFAULT) LK(cublasLtMatmulDescSetAttribute(d, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &V, sizeof V));
        cublasLtMatmulPreference_t pref; LK(cublasLtMatmulPreferenceCreate(&pref));
        LK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &WS, sizeof WS));
        cublasLtMatmulHeuristicResult_t res[16]; int found = 0;
        LK(cublasLtMatmulAlgoGetHeuristic(lt, d, la, lb, lc, lc, pref, 16, res, &found));
        const float alpha = 1, beta = 0;
        float t0 = 0, tbest = 1e9;
        for (int i = 0; i < found; i++) {
            float t = time_graph([&] { LK(cublasLtMatmul(lt, d, &alpha, B, la, A, lb, &beta, C, lc, C, lc, &res[i].algo, ws, WS, st)); });
            if (i == 0) t0 = t;
            tbest = std::min(tbest, t);
        }
        LK(cublasLtMatmul(lt, d, &alpha, B, la, A, lb, &beta, C, lc, C, lc, &res[0].algo, ws, WS, st));
        CK(cudaStreamSynchronize(st));
        std::vector<float> ref((size_t)m * n), got((size_t)m * n), refv(m), gotv(m);
        CK(cudaMemcpy(ref.data(), C, ref.size() * 4, cudaMemcpyDeviceToHost));
        bool bg = s.epi == CUBLASLT_EPILOGUE_BGRADB;
        if (bg) CK(cudaMemcpy(refv.data(), V, m * 4, cudaMemcpyDeviceToHost));
        printf("%-11s %4dx%4dx%4d  cublasLt #0 %6.2f best %6.2f |", s.name, m, n, k, t0, tbest);
        float our_best = 1e9; const char *bname = ""; int bs = 0;
        for (const variant &v : variants) {
            float vbest = 1e9; int vs = 0;
            for (int splits : {1, 2, 3, 4, 6, 8, 12, 16, 24, 32}) {
                if (splits > 1 && k / splits < 16) break;
                ig_sgemm_args ga = {};
                ga.a = A; ga.b = B; ga.bias = (s.epi == CUBLASLT_EPILOGUE_BIAS || s.epi == CUBLASLT_EPILOGUE_RELU_BIAS) ? V : nullptr;
                ga.c = C2; ga.bgrad = bg ? V2 : nullptr; ga.m = m; ga.n = n; ga.k = k; ga.lda = lda; ga.ldb = ldb; ga.ldc = n;
                ga.ta = s.ta; ga.tb = s.tb; ga.act = s.epi == CUBLASLT_EPILOGUE_RELU_BIAS ? 1 : 0; ga.partials = part; ga.counters = cnt;
                CK(cudaMemset(C2, 0xff, (size_t)m * n * 4));
                float t = time_graph([&] { v.fn(ga, splits); });
                CK(cudaMemcpy(got.data(), C2, got.size() * 4, cudaMemcpyDeviceToHost));
                double num = 0, den = 0;
                for (size_t i = 0; i < got.size(); i++) { double e = got[i] - ref[i]; num += e * e; den += (double)ref[i] * ref[i]; }
                if (bg) { CK(cudaMemcpy(gotv.data(), V2, m * 4, cudaMemcpyDeviceToHost)); for (int i = 0; i < m; i++) { double e = gotv[i] - refv[i]; num += e * e; den += (double)refv[i] * refv[i]; } }
                if (!(sqrt(num / den) < 1e-5)) { printf(" [%s s%d WRONG %.2e]", v.name, splits, sqrt(num / den)); continue; }
                if (t < vbest) { vbest = t; vs = splits; }
            }
            printf(" %.2f/s%d", vbest, vs);
            if (vbest < our_best) { our_best = vbest; bname = v.name; bs = vs; }
        }
        printf(" | ours best %6.2f (%s, splits %d)\n", our_best, bname, bs);
        cudaFree(A); cudaFree(B); cudaFree(C); cudaFree(C2); cudaFree(V); cudaFree(V2);
        cublasLtMatmulPreferenceDestroy(pref); cublasLtMatrixLayoutDestroy(la); cublasLtMatrixLayoutDestroy(lb); cublasLtMatrixLayoutDestroy(lc); cublasLtMatmulDescDestroy(d);
    }
    printf("variants:"); for (const variant &v : variants) printf(" [%s]", v.name); printf("\n");
    return 0;
}
