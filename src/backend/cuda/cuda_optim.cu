/* cuda_optim.cu — optimizer updates over the flat parameter buffer, one launch for every
 * parameter, PyTorch's semantics (the arithmetic of all but SGD is src/ops/opt_math.h, shared
 * with the CPU kernels). Hyperparameters and the step counter are read from device memory,
 * so a captured step never needs new kernel arguments. */
#include "cuda.h"
#include "cuda_launch.cuh"

#include "ops/opt_math.h"

#include <math.h>

#define GRID_STRIDE(i, n) for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

static unsigned grid_for(size_t n)
{
    size_t blocks = (n + 255) / 256;
    return (unsigned)(blocks > 2048 ? 2048 : blocks ? blocks : 1);
}

/* Every update ends here: the step counter (and NAdam's momentum product) advances in the
 * last block to finish (of the last node, for an update split in two), after every thread of
 * every block has read it, so the update is one launch. No results are handed on, so no
 * fences: the blocks only need to have read the counter. */
static __device__ void advance_step(ig_opt_hyper *h, ig_cuda_opt_sync sync, bool nadam)
{
    if (!ig_grid_last_block(sync.counter, (int)gridDim.x, false) || threadIdx.x != 0) return;
    if (sync.parts > 1) {
        if (atomicAdd(sync.group, 1) != sync.parts - 1) return;
        *sync.group = 0;
    }
    if (nadam) ig_nadam_advance(h);
    else h->step++;
}

__global__ void sgd_kernel(float *p, const float *g, float *buf, const float *ds, ig_opt_hyper *h, size_t n,
                           ig_cuda_opt_sync sync)
{
    ig_grid_enter();
    const float lr = ig_hyper_lr(h, h->step), wd = h->weight_decay, mu = h->momentum, damp = h->dampening;
    const float gs = ig_hyper_grad_scale(h);
    const bool first = h->step == 0, nesterov = h->nesterov;
    GRID_STRIDE(i, n)
    {
        float d = ig_opt_grad(g[i], p[i], gs, wd * ds[i / IG_DECAY_CHUNK]);
        if (mu != 0.0f) {
            buf[i] = first ? d : mu * buf[i] + (1.0f - damp) * d;
            d = nesterov ? d + mu * buf[i] : buf[i];
        }
        p[i] -= lr * d;
    }
    advance_step(h, sync, false);
}

/* Four elements per thread with 16-byte accesses (the flat buffers are 256-byte aligned; a
 * trainer's is a multiple of 64 floats long, and the last n % 4 of any other go one by one).
 * Adam(W) and NAdam differ only in their coefficients (src/ops/opt_math.h). */
__global__ void adam_kernel(float *pf, const float *gf, float *mf, float *vf, const float *ds, ig_opt_hyper *h,
                            size_t n, bool nadam, ig_cuda_opt_sync sync)
{
    ig_grid_enter();
    float4 *p = (float4 *)pf, *m = (float4 *)mf, *v = (float4 *)vf;
    const float4 *g = (const float4 *)gf;
    size_t n4 = n / 4;
    __shared__ ig_adam_coef k;
    if (threadIdx.x == 0) k = nadam ? ig_nadam_coefs(h) : ig_adam_coefs(h);
    __syncthreads();
    GRID_STRIDE(i, n4)
    {
        float4 pi = p[i], gi = g[i], mi = m[i], vi = v[i];
        const float d = ds[i / (IG_DECAY_CHUNK / 4)]; /* a float4 never straddles two chunks */
        pi.x = ig_adam_one(pi.x, gi.x, &mi.x, &vi.x, d, &k);
        pi.y = ig_adam_one(pi.y, gi.y, &mi.y, &vi.y, d, &k);
        pi.z = ig_adam_one(pi.z, gi.z, &mi.z, &vi.z, d, &k);
        pi.w = ig_adam_one(pi.w, gi.w, &mi.w, &vi.w, d, &k);
        p[i] = pi;
        m[i] = mi;
        v[i] = vi;
    }
    if (blockIdx.x == 0 && threadIdx.x < n % 4) {
        size_t i = n4 * 4 + threadIdx.x;
        pf[i] = ig_adam_one(pf[i], gf[i], &mf[i], &vf[i], ds[i / IG_DECAY_CHUNK], &k);
    }
    advance_step(h, sync, nadam);
}

/* The optimizers below: coefficients once per block from the device hyperparameter block,
 * then one element per thread (the arithmetic is src/ops/opt_math.h's). */
__global__ void rmsprop_kernel(float *p, const float *g, float *sq, float *buf, float *ga, const float *ds,
                               ig_opt_hyper *h, size_t n, ig_cuda_opt_sync sync)
{
    ig_grid_enter();
    __shared__ ig_rmsprop_coef k;
    if (threadIdx.x == 0) k = ig_rmsprop_coefs(h);
    __syncthreads();
    GRID_STRIDE(i, n) p[i] = ig_rmsprop_one(p[i], g[i], &sq[i], &buf[i], &ga[i], ds[i / IG_DECAY_CHUNK], &k);
    advance_step(h, sync, false);
}

__global__ void adagrad_kernel(float *p, const float *g, float *sum, const float *ds, ig_opt_hyper *h, size_t n,
                           ig_cuda_opt_sync sync)
{
    ig_grid_enter();
    __shared__ ig_adagrad_coef k;
    if (threadIdx.x == 0) k = ig_adagrad_coefs(h);
    __syncthreads();
    GRID_STRIDE(i, n) p[i] = ig_adagrad_one(p[i], g[i], &sum[i], ds[i / IG_DECAY_CHUNK], &k);
    advance_step(h, sync, false);
}

__global__ void adadelta_kernel(float *p, const float *g, float *sq, float *acc, const float *ds, ig_opt_hyper *h,
                                size_t n, ig_cuda_opt_sync sync)
{
    ig_grid_enter();
    __shared__ ig_adadelta_coef k;
    if (threadIdx.x == 0) k = ig_adadelta_coefs(h);
    __syncthreads();
    GRID_STRIDE(i, n) p[i] = ig_adadelta_one(p[i], g[i], &sq[i], &acc[i], ds[i / IG_DECAY_CHUNK], &k);
    advance_step(h, sync, false);
}

__global__ void record_loss_kernel(const float *loss, const ig_opt_hyper *h, float *ring)
{
    ig_grid_enter();
    ring[h->step % IG_LOSS_RING] = *loss;
}

extern "C" void ig_cuda_record_loss(const float *loss, const void *hyper, float *ring, ig_cuda_queue *q)
{
    ig_launch(q, record_loss_kernel, 1, 1, 0, loss, (const ig_opt_hyper *)hyper, ring);
}

extern "C" void ig_cuda_sgd(float *p, const float *g, float *buf, const float *ds, void *hyper, size_t n, ig_cuda_opt_sync sync,
                            ig_cuda_queue *q)
{
    ig_launch(q, sgd_kernel, grid_for(n), 256, 0, p, g, buf, ds, (ig_opt_hyper *)hyper, n, sync);
}

extern "C" void ig_cuda_adam(float *p, const float *g, float *m, float *v, const float *ds, void *hyper, size_t n,
                             ig_cuda_opt_sync sync, ig_cuda_queue *q)
{
    ig_launch(q, adam_kernel, grid_for(n / 4), 256, 0, p, g, m, v, ds, (ig_opt_hyper *)hyper, n, false, sync);
}

extern "C" void ig_cuda_nadam(float *p, const float *g, float *m, float *v, const float *ds, void *hyper, size_t n,
                              ig_cuda_opt_sync sync, ig_cuda_queue *q)
{
    ig_launch(q, adam_kernel, grid_for(n / 4), 256, 0, p, g, m, v, ds, (ig_opt_hyper *)hyper, n, true, sync);
}

extern "C" void ig_cuda_rmsprop(float *p, const float *g, float *sq, float *buf, float *ga, const float *ds, void *hyper,
                                size_t n, ig_cuda_opt_sync sync, ig_cuda_queue *q)
{
    ig_launch(q, rmsprop_kernel, grid_for(n), 256, 0, p, g, sq, buf, ga, ds, (ig_opt_hyper *)hyper, n, sync);
}

extern "C" void ig_cuda_adagrad(float *p, const float *g, float *sum, const float *ds, void *hyper, size_t n,
                                ig_cuda_opt_sync sync, ig_cuda_queue *q)
{
    ig_launch(q, adagrad_kernel, grid_for(n), 256, 0, p, g, sum, ds, (ig_opt_hyper *)hyper, n, sync);
}

extern "C" void ig_cuda_adadelta(float *p, const float *g, float *sq, float *acc, const float *ds, void *hyper, size_t n,
                                 ig_cuda_opt_sync sync, ig_cuda_queue *q)
{
    ig_launch(q, adadelta_kernel, grid_for(n), 256, 0, p, g, sq, acc, ds, (ig_opt_hyper *)hyper, n, sync);
}
