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
    const float lr = h->lr, wd = h->weight_decay, mu = h->momentum, damp = h->dampening;
    const bool first = h->step == 0, nesterov = h->nesterov;
    GRID_STRIDE(i, n)
    {
        float d = g[i] + wd * p[i];
        if (mu != 0.0f) {
            buf[i] = first ? d : mu * buf[i] + (1.0f - damp) * d;
            d = nesterov ? d + mu * buf[i] : buf[i];
        }
        p[i] -= lr * d;
    }
}

__global__ void adam_kernel(float *p, const float *g, float *m, float *v, const ig_opt_hyper *h, size_t n)
{
    const double t = (double)(h->step + 1);
    const float lr = h->lr, b1 = h->beta1, b2 = h->beta2, eps = h->eps, wd = h->weight_decay;
    const float step_size = (float)(lr / (1.0 - pow((double)b1, t)));
    const float inv_sqrt_bc2 = (float)(1.0 / sqrt(1.0 - pow((double)b2, t)));
    const float l2 = h->decoupled ? 0.0f : wd;
    const float shrink = h->decoupled ? 1.0f - lr * wd : 1.0f;
    GRID_STRIDE(i, n)
    {
        float d = g[i] + l2 * p[i];
        float mi = b1 * m[i] + (1.0f - b1) * d;
        float vi = b2 * v[i] + (1.0f - b2) * d * d;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * shrink - step_size * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
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
    adam_kernel<<<grid_for(n), 256, 0, s>>>(p, g, m, v, (const ig_opt_hyper *)hyper, n);
    step_kernel<<<1, 1, 0, s>>>((ig_opt_hyper *)hyper);
}
