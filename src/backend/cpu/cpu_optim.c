/* cpu_optim.c — optimizer updates over the flat parameter buffer, PyTorch's semantics
 * (torch.optim.SGD, Adam, AdamW). The step counter lives in the hyperparameter block.
 * Adam is one pass over params, grads and both moments, split over the team. */
#include "backend/cpu/cpu.h"

#include <math.h>
#include <omp.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static ig_opt_hyper *hyper_of(const ig_graph *g, const ig_node *n, void *const *bases)
{
    return (ig_opt_hyper *)cpu_ptr(g, n->in[n->n_in - 1], bases);
}

typedef struct sgd_k {
    float lr, wd, mu, damp, gs;
    bool first, nesterov;
} sgd_k;

CPU_CLONES static void sgd_span(float *p, const float *grad, float *buf, size_t n, const sgd_k *k)
{
    const float lr = k->lr, wd = k->wd, mu = k->mu, damp = k->damp, gs = k->gs;
    const bool first = k->first, nesterov = k->nesterov;
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float d = gs * grad[i] + wd * p[i];
        if (mu != 0) {
            buf[i] = first ? d : mu * buf[i] + (1 - damp) * d;
            d = nesterov ? d + mu * buf[i] : buf[i];
        }
        p[i] -= lr * d;
    }
}

ig_status ig_cpu_sgd(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = ig_shape_numel(&g->vals[n->in[0]].shape);
    float *p = CPU_F32(0), *buf = CPU_F32(2);
    const float *grad = CPU_F32(1);
    ig_opt_hyper *h = hyper_of(g, n, bases);
    const sgd_k k = {ig_hyper_lr(h, h->step), h->weight_decay, h->momentum, h->dampening, ig_hyper_grad_scale(h),
                     h->step == 0, h->nesterov};
    h->step++;
#pragma omp parallel if (len > CPU_PAR_MIN)
    {
        size_t lo, hi;
        cpu_share(len, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        sgd_span(p + lo, grad + lo, buf + lo, hi - lo, &k);
    }
    return IG_OK;
}

typedef struct adam_k {
    float b1, b2, eps, l2, shrink, step_size, inv_sqrt_bc2, gs;
} adam_k;

static void adam_span(float *p, const float *grad, float *m, float *v, size_t n, const adam_k *k)
{
    for (size_t i = 0; i < n; i++) {
        float d = k->gs * grad[i] + k->l2 * p[i];
        m[i] = k->b1 * m[i] + (1 - k->b1) * d;
        v[i] = k->b2 * v[i] + (1 - k->b2) * d * d;
        p[i] = p[i] * k->shrink - k->step_size * m[i] / (sqrtf(v[i]) * k->inv_sqrt_bc2 + k->eps);
    }
}

#if defined(__x86_64__)
/* adam_span with 16 lanes: written out because sqrtf, which may set errno, keeps the
 * compiler from vectorising the plain loop. */
__attribute__((target("avx512f"))) static void adam_span_avx512(float *p, const float *grad, float *m, float *v,
                                                                size_t n, const adam_k *k)
{
    const __m512 b1 = _mm512_set1_ps(k->b1), c1 = _mm512_set1_ps(1 - k->b1);
    const __m512 b2 = _mm512_set1_ps(k->b2), c2 = _mm512_set1_ps(1 - k->b2);
    const __m512 l2 = _mm512_set1_ps(k->l2), shrink = _mm512_set1_ps(k->shrink);
    const __m512 step = _mm512_set1_ps(k->step_size), inv = _mm512_set1_ps(k->inv_sqrt_bc2);
    const __m512 eps = _mm512_set1_ps(k->eps), gs = _mm512_set1_ps(k->gs);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 mk = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 pi = _mm512_maskz_loadu_ps(mk, p + i);
        __m512 d = _mm512_fmadd_ps(l2, pi, _mm512_mul_ps(gs, _mm512_maskz_loadu_ps(mk, grad + i)));
        __m512 mi = _mm512_fmadd_ps(b1, _mm512_maskz_loadu_ps(mk, m + i), _mm512_mul_ps(c1, d));
        __m512 vi = _mm512_fmadd_ps(b2, _mm512_maskz_loadu_ps(mk, v + i), _mm512_mul_ps(_mm512_mul_ps(c2, d), d));
        __m512 den = _mm512_fmadd_ps(_mm512_sqrt_ps(vi), inv, eps);
        pi = _mm512_fnmadd_ps(step, _mm512_div_ps(mi, den), _mm512_mul_ps(pi, shrink));
        _mm512_mask_storeu_ps(m + i, mk, mi);
        _mm512_mask_storeu_ps(v + i, mk, vi);
        _mm512_mask_storeu_ps(p + i, mk, pi);
    }
}
#endif

ig_status ig_cpu_adam(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = ig_shape_numel(&g->vals[n->in[0]].shape);
    float *p = CPU_F32(0), *m = CPU_F32(2), *v = CPU_F32(3);
    const float *grad = CPU_F32(1);
    ig_opt_hyper *h = hyper_of(g, n, bases);
    const float lr = ig_hyper_lr(h, h->step), wd = h->weight_decay;
    h->step++;
    const double t = (double)h->step;
    const adam_k k = {
        .b1 = h->beta1,
        .b2 = h->beta2,
        .eps = h->eps,
        .l2 = h->decoupled ? 0.0f : wd,
        .shrink = h->decoupled ? 1.0f - lr * wd : 1.0f,
        .step_size = (float)(lr / (1.0 - pow(h->beta1, t))),
        .inv_sqrt_bc2 = (float)(1.0 / sqrt(1.0 - pow(h->beta2, t))),
        .gs = ig_hyper_grad_scale(h),
    };
    void (*span)(float *, const float *, float *, float *, size_t, const adam_k *) = adam_span;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) span = adam_span_avx512;
#endif
#pragma omp parallel if (len > CPU_PAR_MIN)
    {
        size_t lo, hi;
        cpu_share(len, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        span(p + lo, grad + lo, m + lo, v + lo, hi - lo, &k);
    }
    return IG_OK;
}
