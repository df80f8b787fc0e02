/* cuda.h — the CUDA backend's internals: kernel launchers (.cu files, plain pointers and
 * sizes, no IR) and the per-op dispatch (cuda_ops.c) that maps nodes onto them. */
#ifndef IG_CUDA_H
#define IG_CUDA_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Elementwise. `act`: 1 relu, 2 tanh (ig_act). */
void ig_cuda_act(const float *x, float *y, size_t n, int act, cudaStream_t s);
void ig_cuda_act_grad(const float *dy, const float *y, float *dx, size_t n, int act, cudaStream_t s);
void ig_cuda_add(const float *a, const float *b, float *y, size_t n, cudaStream_t s);
void ig_cuda_scale(const float *x, const float *factor, float *y, size_t n, cudaStream_t s);
void ig_cuda_bias_grad(const float *dz, float *db, int64_t rows, int64_t cols, cudaStream_t s);

/* Losses: one block, fixed reduction order, so results are bit-reproducible. */
void ig_cuda_sparse_ce(const float *logits, const int32_t *labels, float *loss, float *dlogits, int64_t rows,
                       int64_t cols, cudaStream_t s);
void ig_cuda_mse(const float *pred, const float *target, float *loss, float *dpred, size_t n, cudaStream_t s);
void ig_cuda_accuracy(const float *logits, const int32_t *labels, int32_t *hits, int64_t rows, int64_t cols,
                      cudaStream_t s);

/* Optimizers over the flat buffer; `hyper` points at an ig_opt_hyper in device memory.
 * Each ends by advancing the step counter (a second, one-thread kernel). */
void ig_cuda_sgd(float *p, const float *g, float *buf, void *hyper, size_t n, cudaStream_t s);
void ig_cuda_record_loss(const float *loss, const void *hyper, float *ring, cudaStream_t s);
/* Batch j of a resident dataset (see GATHER in src/ops/gather.c); one block per sample. */
void ig_cuda_gather(const void *xs, const void *ys, void *xd, void *yd, int64_t count, size_t row, size_t yrow,
                    int64_t b, int64_t stride, int train, const void *hyper, const void *cursor, cudaStream_t s);
void ig_cuda_eval_accum(const float *loss, const int32_t *correct, void *cursor, int64_t b, cudaStream_t s);
void ig_cuda_adam(float *p, const float *g, float *m, float *v, void *hyper, size_t n, cudaStream_t s);

#ifdef __cplusplus
}
#endif

#endif /* IG_CUDA_H */
