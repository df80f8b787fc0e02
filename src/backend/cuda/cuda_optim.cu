/* cuda_optim.cu — optimizer updates over the flat parameter buffer, one launch for every
 * parameter, PyTorch's semantics (as the CPU kernels). Hyperparameters and the step counter
 * are read from device memory, so a captured step never needs new kernel arguments. */
#include "cuda.h"

#include "ops/opt_hyper.h"

#include <math.h>

#define GRID_STRIDE(i, n) for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

static unsigned grid_for(size_t n)
{
    size_t blocks = (n + 255) / 256;
    return (unsigned)(blocks > 2048 ? 2048 : blocks ? blocks : 1);
}

__global__ void sgd_kernel(float *p, const float *g, float *buf, const ig_opt_hyper *h, size_t n)
{
    const float lr = ig_hyper_lr(h, h->step), wd = h->weight_decay, mu = h->momentum, damp = h->dampening;
    const float gs = ig_hyper_grad_scale(h);
    const bool first = h->step == 0, nesterov = h->nesterov;
    GRID_STRIDE(i, n)
    {
        float d = gs * g[i] + wd * p[i];
        if (mu != 0.0f) {
            buf[i] = first ? d : mu * buf[i] + (1.0f - damp) * d;
            d = nesterov ? d + mu * buf[i] : buf[i];
        }
        p[i] -= lr * d;
    }
}

struct adam_coef {
    float b1, b2, eps, l2, shrink, step_size, inv_sqrt_bc2, gs;
};

__device__ static float adam_one(float p, float g, float *m, float *v, const adam_coef &k)
{
    float d = k.gs * g + k.l2 * p;
    *m = k.b1 * *m + (1.0f - k.b1) * d;
    *v = k.b2 * *v + (1.0f - k.b2) * d * d;
    return p * k.shrink - k.step_size * *m / (sqrtf(*v) * k.inv_sqrt_bc2 + k.eps);
}

/* Four elements per thread with 16-byte accesses (the flat buffers are 256-byte aligned; a
 * trainer's is a multiple of 64 floats long, and the last n % 4 of any other go one by one). */
__global__ void adam_kernel(float *pf, const float *gf, float *mf, float *vf, const ig_opt_hyper *h, size_t n)
{
    float4 *p = (float4 *)pf, *m = (float4 *)mf, *v = (float4 *)vf;
    const float4 *g = (const float4 *)gf;
    size_t n4 = n / 4;
    __shared__ adam_coef k;
    if (threadIdx.x == 0) {
        const double t = (double)(h->step + 1);
        const float lr = ig_hyper_lr(h, h->step), wd = h->weight_decay;
        k = adam_coef{h->beta1, h->beta2, h->eps, h->decoupled ? 0.0f : wd, h->decoupled ? 1.0f - lr * wd : 1.0f,
                      (float)(lr / (1.0 - pow((double)h->beta1, t))),
                      (float)(1.0 / sqrt(1.0 - pow((double)h->beta2, t))), ig_hyper_grad_scale(h)};
    }
    __syncthreads();
    GRID_STRIDE(i, n4)
    {
        float4 pi = p[i], gi = g[i], mi = m[i], vi = v[i];
        pi.x = adam_one(pi.x, gi.x, &mi.x, &vi.x, k);
        pi.y = adam_one(pi.y, gi.y, &mi.y, &vi.y, k);
        pi.z = adam_one(pi.z, gi.z, &mi.z, &vi.z, k);
        pi.w = adam_one(pi.w, gi.w, &mi.w, &vi.w, k);
        p[i] = pi;
        m[i] = mi;
        v[i] = vi;
    }
    if (blockIdx.x == 0 && threadIdx.x < n % 4) {
        size_t i = n4 * 4 + threadIdx.x;
        pf[i] = adam_one(pf[i], gf[i], &mf[i], &vf[i], k);
    }
}

/* Separate from the update: every thread of the update must read the same counter. */
__global__ void step_kernel(ig_opt_hyper *h) { h->step++; }

__global__ void record_loss_kernel(const float *loss, const ig_opt_hyper *h, float *ring)
{
    ring[h->step % IG_LOSS_RING] = *loss;
}

extern "C" void ig_cuda_record_loss(const float *loss, const void *hyper, float *ring, cudaStream_t s)
{
    record_loss_kernel<<<1, 1, 0, s>>>(loss, (const ig_opt_hyper *)hyper, ring);
}

extern "C" void ig_cuda_sgd(float *p, const float *g, float *buf, void *hyper, size_t n, cudaStream_t s)
{
    sgd_kernel<<<grid_for(n), 256, 0, s>>>(p, g, buf, (const ig_opt_hyper *)hyper, n);
    step_kernel<<<1, 1, 0, s>>>((ig_opt_hyper *)hyper);
}

extern "C" void ig_cuda_adam(float *p, const float *g, float *m, float *v, void *hyper, size_t n, cudaStream_t s)
{
    adam_kernel<<<grid_for(n / 4), 256, 0, s>>>(p, g, m, v, (const ig_opt_hyper *)hyper, n);
    step_kernel<<<1, 1, 0, s>>>((ig_opt_hyper *)hyper);
}
