/* cuda.h — the CUDA backend's internals: kernel launchers (.cu files, plain pointers and
 * sizes, no IR) and the per-op dispatch (cuda_ops.c) that maps nodes onto them. */
#ifndef IG_CUDA_H
#define IG_CUDA_H

#include <cuda_runtime_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/bn_math.h"
#include "ops/conv_geom.h"
#include "ops/pool_math.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a launcher queues its kernels: a stream, and whether what was queued on it last is a
 * kernel of ours, which lets the next one launch before that one ends (cuda_launch.cuh). A
 * cuBLASLt or cuDNN call, a copy or a memset queued on the stream clears the flag: our blocks
 * resident beside a cuDNN kernel slow it (on an H200, cnn_small took 0.262 ms with every kernel
 * of ours launched early, 0.253 with none, 0.245 with this rule). A wait for an event does not
 * clear it: the kernel then waits for both, and the side stream's kernels gain from it. */
typedef struct ig_cuda_queue {
    cudaStream_t s;
    bool after_own;
    bool early; /* the device launches early at all (compute capability 9.0 on) */
} ig_cuda_queue;

/* Elementwise. `act`: an ig_act kind, `p` its parameter (src/ops/act_math.h); x (the
 * input) is NULL for the kinds whose derivative comes from the output y. */
void ig_cuda_act(const float *x, float *y, size_t n, int act, float p, ig_cuda_queue *q);
void ig_cuda_act_grad(const float *dy, const float *y, const float *x, float *dx, size_t n, int act, float p,
                      ig_cuda_queue *q);
/* Softmax over rows of w values, and its gradient from the output y. */
void ig_cuda_softmax(const float *x, float *y, int64_t rows, int64_t w, ig_cuda_queue *q);
void ig_cuda_softmax_grad(const float *dy, const float *y, float *dx, int64_t rows, int64_t w, ig_cuda_queue *q);
void ig_cuda_add(const float *a, const float *b, float *y, size_t n, ig_cuda_queue *q);
void ig_cuda_scale(const float *x, const float *factor, float *y, size_t n, ig_cuda_queue *q);
/* Dropout (src/ops/dropout.c): the mask's key from seed, salt and the step counter of the
 * ig_opt_hyper block at `hyper`, read on the device. */
void ig_cuda_dropout(const float *x, float *y, size_t n, float p, uint64_t seed, uint64_t salt, const void *hyper,
                     ig_cuda_queue *q);
void ig_cuda_bias_grad(const float *dz, float *db, int64_t rows, int64_t cols, ig_cuda_queue *q);

/* Losses: fixed reduction orders, so results are bit-reproducible. */
/* Cross-entropy on logits [rows, cols] against labels [rows] or (labels NULL) probability
 * rows, targets smoothed by eps; each row's loss passes through row_loss (rows doubles), and
 * `counter` (one int, zero before and after) elects the block that adds them. */
void ig_cuda_cross_entropy(const float *logits, const int32_t *labels, const float *probs, float eps, float *loss,
                           float *dlogits, int64_t rows, int64_t cols, double *row_loss, int *counter,
                           ig_cuda_queue *q);
/* Mean of a per-element loss (kind: IG_ELEM_*, delta: Huber's); the blocks' partial sums
 * park in `parts` (at most 1024 doubles) and `counter` elects the block that adds them, as
 * for the cross-entropy. */
void ig_cuda_elem_loss(const float *pred, const float *target, float *loss, float *dpred, size_t n, int kind,
                       float delta, double *parts, int *counter, ig_cuda_queue *q);
/* Samples right out of rows of `width` values (mode: IG_ACC_*); parts and counter as above. */
void ig_cuda_accuracy(const float *pred, const void *target, int32_t *hits, int64_t rows, int64_t width, int mode,
                      float threshold, double *parts, int *counter, ig_cuda_queue *q);

/* Optimizers over the flat buffer; `ds` is the weight-decay scale of each IG_DECAY_CHUNK
 * parameters; `hyper` points at an ig_opt_hyper in device memory. Each kernel elects its last
 * block through `counter` (one int of its stream) and, when the update is split over `parts`
 * nodes on two streams (ig_opt_advances), the last of those through `group` (one int both
 * share): that block advances the step counter, once every block of the update has read it.
 * Both ints are zero before and after. */
typedef struct ig_cuda_opt_sync {
    int *counter, *group;
    int parts;
} ig_cuda_opt_sync;
void ig_cuda_sgd(float *p, const float *g, float *buf, const float *ds, void *hyper, size_t n, ig_cuda_opt_sync sync,
                 ig_cuda_queue *q);
void ig_cuda_record_loss(const float *loss, const void *hyper, float *ring, ig_cuda_queue *q);
/* Batch j of a resident dataset (see GATHER in src/ops/gather.c); one block per sample.
 * Samples are planes of h × w (ig_augment_planes) for the augmentation of training batches.
 * An AHEAD gather's last block, elected through `counter` (one int, zero before and after),
 * advances the cursor. */
void ig_cuda_gather(const void *xs, const void *ys, void *xd, void *yd, int64_t count, size_t row, size_t yrow,
                    int64_t b, int64_t stride, int mode, int64_t h, int64_t w, const void *hyper, void *cursor,
                    int *counter, ig_cuda_queue *q);
void ig_cuda_eval_accum(const float *loss, const int32_t *correct, void *cursor, int64_t b, ig_cuda_queue *q);
/* Clipping by global norm: the factor lands in the hyperparameter block (src/ops/clip.c). */
void ig_cuda_clip_grad_norm(const float *g, size_t n, float *partials, int n_partials, float max_norm, void *hyper,
                            ig_cuda_queue *q);
void ig_cuda_adam(float *p, const float *g, float *m, float *v, const float *ds, void *hyper, size_t n, ig_cuda_opt_sync sync,
                  ig_cuda_queue *q);
void ig_cuda_nadam(float *p, const float *g, float *m, float *v, const float *ds, void *hyper, size_t n, ig_cuda_opt_sync sync,
                   ig_cuda_queue *q);
void ig_cuda_rmsprop(float *p, const float *g, float *sq, float *buf, float *ga, const float *ds, void *hyper, size_t n,
                     ig_cuda_opt_sync sync, ig_cuda_queue *q);
void ig_cuda_adagrad(float *p, const float *g, float *sum, const float *ds, void *hyper, size_t n, ig_cuda_opt_sync sync,
                     ig_cuda_queue *q);
void ig_cuda_adadelta(float *p, const float *g, float *sq, float *acc, const float *ds, void *hyper, size_t n,
                      ig_cuda_opt_sync sync, ig_cuda_queue *q);

/* Our GEMM for small products (cuda_sgemm.cu): c[m, n] = act(op(a)·op(b) + bias) in
 * row-major terms (op transposes when ta / tb; bias, indexed by column, may be NULL), or
 * op(a)·op(b)·f'(·) of activation dact from its output dact_y, and, when bgrad is set,
 * bgrad[i] = Σ_k op(a)[i, k]. Split over k; the parts meet in `partials`
 * (plan.partial_floats floats) and `counters` (plan.tiles ints, zero between launches). With
 * labels (n ≤ IG_SGEMM_LOSS_CLASSES, no activation): c are logits, and the kernel also takes
 * their sparse softmax cross-entropy (SPARSE_CE's loss and dlogits [m, n], smoothing eps), the
 * rows' losses meeting in row_loss (m doubles) and counters[plan.tiles]. The same bits every
 * run. */
#define IG_SGEMM_LOSS_CLASSES 16
typedef struct ig_sgemm_plan {
    int splits, kchunk, tiles;
    size_t partial_floats;
} ig_sgemm_plan;
typedef struct ig_sgemm_args {
    const float *a, *b, *bias;
    float *c, *bgrad;
    int m, n, k, lda, ldb, ldc;
    bool ta, tb;
    int act, dact; /* dact: times f'(·) of that activation, from its output dact_y [m, n] */
    float act_p;
    const float *dact_y;
    float *partials;
    int *counters;
    const int32_t *labels;
    float eps;
    float *loss, *dlogits;
    double *row_loss;
    /* set by ig_cuda_sgemm from the plan */
    int splits, kchunk;
    size_t row_part;
} ig_sgemm_args;
/* The split of an m × n × k product on `sms` multiprocessors; false when the sizes are beyond
 * the kernel's 32-bit indexing. */
bool ig_cuda_sgemm_plan(int64_t m, int64_t n, int64_t k, int sms, ig_sgemm_plan *p);
void ig_cuda_sgemm(const ig_sgemm_plan *p, ig_sgemm_args args, ig_cuda_queue *q);

/* POOL2D over `planes` NCHW planes, and its gradient (src/ops/pool.c). */
void ig_cuda_pool2d(const float *x, float *y, int64_t planes, const ig_pool_geom *g, ig_cuda_queue *q);
void ig_cuda_pool2d_grad(const float *dy, const float *x, float *dx, int64_t planes, const ig_pool_geom *g,
                         ig_cuda_queue *q);

/* A convolution's own kernel (cuda_conv.cu): y [n, c, hw] = act(y + b[c]) in place (b may be
 * NULL). */
void ig_cuda_bias_act(float *y, const float *b, int64_t n, int64_t c, int64_t hw, int act, float p, ig_cuda_queue *q);
/* wt [c, f, k] = w [f, c, k reversed]: filters of k = kh·kw taps turned half a turn, in and
 * out channels swapped (a stride-1 data gradient as a forward convolution); f·c·k < 2^31. */
void ig_cuda_conv_turn(const float *w, float *wt, int64_t f, int64_t c, int64_t k, ig_cuda_queue *q);
/* Direct kernels for a first layer's 3×3 convolution over 1 or 3 input channels (all weights
 * ≤ IG_CONV_DIRECT_WEIGHTS floats, so they fit in shared memory), where cuDNN's engines have
 * too short a reduction: the forward pass with bias and activation, and the weight gradient
 * (with the bias gradient when db is not NULL), reduced in a fixed order through `scratch`
 * (at most 2 · IG_CONV_DIRECT_WEIGHTS · IG_CONV_DIRECT_PARTS floats) and `counters` (one int
 * per chunk of filters, zero before and after). */
#define IG_CONV_DIRECT_WEIGHTS 8192
#define IG_CONV_DIRECT_PARTS 64
bool ig_cuda_conv_direct_fits(const ig_conv_geom *q);
void ig_cuda_conv_direct_fwd(const float *x, const float *w, const float *b, float *y, const ig_conv_geom *geo, int act,
                             float p, ig_cuda_queue *q);
void ig_cuda_conv_direct_wgrad(const float *dy, const float *x, float *dw, float *db, const ig_conv_geom *geo,
                               float *scratch, int *counters, ig_cuda_queue *q);

/* Batch normalisation (src/ops/batchnorm.c) over x of geometry g; deterministic (fixed
 * reduction orders). `scratch` holds ig_cuda_bn_scratch(g) bytes for per-block partial
 * results, on the stream's shared workspace; `counters`, g->c ints that are zero before and
 * after, elect each channel's finishing block. ig_cuda_batchnorm updates rmean and rvar in
 * training; dgamma and dbeta are NULL for an evaluation-mode dx. */
size_t ig_cuda_bn_scratch(const ig_bn_geom *g);
void ig_cuda_batchnorm(const float *x, const float *gamma, const float *beta, float *rmean, float *rvar, float *y,
                       float *saved, const ig_bn_geom *g, int training, float momentum, float eps, float *scratch,
                       int *counters, ig_cuda_queue *q);
void ig_cuda_batchnorm_grad(const float *dy, const float *x, const float *saved, float *dgamma, float *dbeta,
                            const ig_bn_geom *g, float *scratch, int *counters, ig_cuda_queue *q);
/* CHANNEL_SUM: the sum of x over every axis but the channel's, by the same reduction as the
 * statistics (scratch: ig_cuda_bn_scratch(g) bytes). */
void ig_cuda_channel_sum(const float *x, float *sum, const ig_bn_geom *g, float *scratch, int *counters,
                         ig_cuda_queue *q);
void ig_cuda_batchnorm_dx(const float *dy, const float *x, const float *gamma, const float *saved,
                          const float *dgamma, const float *dbeta, float *dx, const ig_bn_geom *g, ig_cuda_queue *q);

#ifdef __cplusplus
}
#endif

#endif /* IG_CUDA_H */
