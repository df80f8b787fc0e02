/* cpu_optim.c — optimizer updates over the flat parameter buffer, PyTorch's semantics
 * (torch.optim.SGD, Adam, AdamW). The step counter lives in the hyperparameter block. */
#include "backend/cpu/cpu.h"

#include <math.h>

static ig_opt_hyper *hyper_of(const ig_graph *g, const ig_node *n, void *const *bases)
{
    return (ig_opt_hyper *)cpu_ptr(g, n->in[n->n_in - 1], bases);
}

ig_status ig_cpu_sgd(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = ig_shape_numel(&g->vals[n->in[0]].shape);
    float *p = CPU_F32(0), *buf = CPU_F32(2);
    const float *grad = CPU_F32(1);
    ig_opt_hyper *h = hyper_of(g, n, bases);
    const float lr = h->lr, wd = h->weight_decay, mu = h->momentum, damp = h->dampening;
    const bool first = h->step == 0, nesterov = h->nesterov;
    h->step++;
#pragma omp parallel for simd if (len > CPU_PAR_MIN)
    for (size_t i = 0; i < len; i++) {
        float d = grad[i] + wd * p[i];
        if (mu != 0) {
            buf[i] = first ? d : mu * buf[i] + (1 - damp) * d;
            d = nesterov ? d + mu * buf[i] : buf[i];
        }
        p[i] -= lr * d;
    }
    return IG_OK;
}

ig_status ig_cpu_adam(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = ig_shape_numel(&g->vals[n->in[0]].shape);
    float *p = CPU_F32(0), *m = CPU_F32(2), *v = CPU_F32(3);
    const float *grad = CPU_F32(1);
    ig_opt_hyper *h = hyper_of(g, n, bases);
    h->step++;
    const double t = (double)h->step;
    const float lr = h->lr, b1 = h->beta1, b2 = h->beta2, eps = h->eps, wd = h->weight_decay;
    const float step_size = (float)(lr / (1.0 - pow(b1, t)));
    const float inv_sqrt_bc2 = (float)(1.0 / sqrt(1.0 - pow(b2, t)));
    const float l2 = h->decoupled ? 0.0f : wd;
    const float shrink = h->decoupled ? 1.0f - lr * wd : 1.0f;
#pragma omp parallel for simd if (len > CPU_PAR_MIN)
    for (size_t i = 0; i < len; i++) {
        float d = grad[i] + l2 * p[i];
        m[i] = b1 * m[i] + (1 - b1) * d;
        v[i] = b2 * v[i] + (1 - b2) * d * d;
        p[i] = p[i] * shrink - step_size * m[i] / (sqrtf(v[i]) * inv_sqrt_bc2 + eps);
    }
    return IG_OK;
}
