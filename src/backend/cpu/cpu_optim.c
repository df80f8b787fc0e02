/* cpu_optim.c — optimizer updates over the flat parameter buffer, PyTorch's semantics
 * (torch.optim.SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, NAdam; the arithmetic of all
 * but SGD is src/ops/opt_math.h, shared with CUDA). Each kernel computes its coefficients
 * from the hyperparameter block, advances the step counter (ig_opt_advances), then makes one pass over the
 * buffers split over the team. The loops vectorise: this file is built without math errno,
 * so sqrtf is a vector instruction. */
#include "backend/cpu/cpu.h"
#include "ops/opt_math.h"

#include <omp.h>

static ig_opt_hyper *hyper_of(const ig_graph *g, const ig_node *n, void *const *bases)
{
    return (ig_opt_hyper *)cpu_ptr(g, n->in[n->n_in - 1], bases);
}

/* Elements [lo, hi) of an update; s: the moment buffers; ds: the weight-decay scale of each
 * IG_DECAY_CHUNK parameters; k: the coefficients. */
typedef void (*span_fn)(float *p, const float *g, float *const *s, const float *ds, size_t lo, size_t hi,
                        const void *k);

/* Runs a span per thread over a node's inputs: params, grads, moments..., decay scales, hyper. */
static void run_spans(const ig_graph *g, const ig_node *n, void *const *bases, span_fn span, const void *k)
{
    size_t len = ig_shape_numel(&g->vals[n->in[0]].shape);
    float *p = CPU_F32(0), *s[3] = {NULL, NULL, NULL};
    const float *grad = CPU_F32(1), *ds = CPU_F32(n->n_in - 2);
    for (int i = 2; i < n->n_in - 2; i++) s[i - 2] = CPU_F32(i);
#pragma omp parallel if (len > CPU_PAR_MIN)
    {
        size_t lo, hi;
        cpu_share(len, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        span(p, grad, s, ds, lo, hi, k);
    }
}

typedef struct sgd_k {
    float lr, wd, mu, damp, gs;
    bool first, nesterov;
} sgd_k;

CPU_CLONES static void sgd_span(float *p, const float *grad, float *const *s, const float *ds, size_t lo,
                                    size_t hi, const void *kv)
{
    const sgd_k k = *(const sgd_k *)kv;
    float *buf = s[0];
#pragma omp simd
    for (size_t i = lo; i < hi; i++) {
        float d = ig_opt_grad(grad[i], p[i], k.gs, k.wd * ds[i / IG_DECAY_CHUNK]);
        if (k.mu != 0) {
            buf[i] = k.first ? d : k.mu * buf[i] + (1 - k.damp) * d;
            d = k.nesterov ? d + k.mu * buf[i] : buf[i];
        }
        p[i] -= k.lr * d;
    }
}

ig_status ig_cpu_sgd(const ig_graph *g, const ig_node *n, void *const *bases)
{
    ig_opt_hyper *h = hyper_of(g, n, bases);
    const sgd_k k = {ig_hyper_lr(h, h->step), h->weight_decay, h->momentum, h->dampening, ig_hyper_grad_scale(h),
                     h->step == 0, h->nesterov};
    if (ig_opt_advances(n)) h->step++;
    run_spans(g, n, bases, sgd_span, &k);
    return IG_OK;
}

CPU_CLONES static void adam_span(float *p, const float *g, float *const *s, const float *ds, size_t lo,
                                    size_t hi, const void *kv)
{
    const ig_adam_coef k = *(const ig_adam_coef *)kv;
    float *m = s[0], *v = s[1];
#pragma omp simd
    for (size_t i = lo; i < hi; i++) p[i] = ig_adam_one(p[i], g[i], &m[i], &v[i], ds[i / IG_DECAY_CHUNK], &k);
}

ig_status ig_cpu_adam(const ig_graph *g, const ig_node *n, void *const *bases)
{
    ig_opt_hyper *h = hyper_of(g, n, bases);
    const ig_adam_coef k = ig_adam_coefs(h);
    if (ig_opt_advances(n)) h->step++;
    run_spans(g, n, bases, adam_span, &k);
    return IG_OK;
}

ig_status ig_cpu_nadam(const ig_graph *g, const ig_node *n, void *const *bases)
{
    ig_opt_hyper *h = hyper_of(g, n, bases);
    const ig_adam_coef k = ig_nadam_coefs(h);
    if (ig_opt_advances(n)) ig_nadam_advance(h);
    run_spans(g, n, bases, adam_span, &k);
    return IG_OK;
}

CPU_CLONES static void rmsprop_span(float *p, const float *g, float *const *s, const float *ds, size_t lo,
                                    size_t hi, const void *kv)
{
    const ig_rmsprop_coef k = *(const ig_rmsprop_coef *)kv;
    float *sq = s[0], *buf = s[1], *ga = s[2];
#pragma omp simd
    for (size_t i = lo; i < hi; i++) p[i] = ig_rmsprop_one(p[i], g[i], &sq[i], &buf[i], &ga[i], ds[i / IG_DECAY_CHUNK], &k);
}

ig_status ig_cpu_rmsprop(const ig_graph *g, const ig_node *n, void *const *bases)
{
    ig_opt_hyper *h = hyper_of(g, n, bases);
    const ig_rmsprop_coef k = ig_rmsprop_coefs(h);
    if (ig_opt_advances(n)) h->step++;
    run_spans(g, n, bases, rmsprop_span, &k);
    return IG_OK;
}

CPU_CLONES static void adagrad_span(float *p, const float *g, float *const *s, const float *ds, size_t lo,
                                    size_t hi, const void *kv)
{
    const ig_adagrad_coef k = *(const ig_adagrad_coef *)kv;
    float *sum = s[0];
#pragma omp simd
    for (size_t i = lo; i < hi; i++) p[i] = ig_adagrad_one(p[i], g[i], &sum[i], ds[i / IG_DECAY_CHUNK], &k);
}

ig_status ig_cpu_adagrad(const ig_graph *g, const ig_node *n, void *const *bases)
{
    ig_opt_hyper *h = hyper_of(g, n, bases);
    const ig_adagrad_coef k = ig_adagrad_coefs(h);
    if (ig_opt_advances(n)) h->step++;
    run_spans(g, n, bases, adagrad_span, &k);
    return IG_OK;
}

CPU_CLONES static void adadelta_span(float *p, const float *g, float *const *s, const float *ds, size_t lo,
                                    size_t hi, const void *kv)
{
    const ig_adadelta_coef k = *(const ig_adadelta_coef *)kv;
    float *sq = s[0], *acc = s[1];
#pragma omp simd
    for (size_t i = lo; i < hi; i++) p[i] = ig_adadelta_one(p[i], g[i], &sq[i], &acc[i], ds[i / IG_DECAY_CHUNK], &k);
}

ig_status ig_cpu_adadelta(const ig_graph *g, const ig_node *n, void *const *bases)
{
    ig_opt_hyper *h = hyper_of(g, n, bases);
    const ig_adadelta_coef k = ig_adadelta_coefs(h);
    if (ig_opt_advances(n)) h->step++;
    run_spans(g, n, bases, adadelta_span, &k);
    return IG_OK;
}
