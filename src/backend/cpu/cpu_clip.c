/* cpu_clip.c — clipping by global norm (see src/ops/clip.c). */
#include "backend/cpu/cpu.h"

#include <math.h>

ig_status ig_cpu_clip_grad_norm(const ig_graph *g, const ig_node *n, void *const *bases)
{
    size_t len = ig_shape_numel(&g->vals[n->in[0]].shape);
    const float *grad = CPU_F32(0);
    ig_opt_hyper *h = cpu_ptr(g, n->in[1], bases);
    double sum = 0;
#pragma omp parallel for simd reduction(+ : sum) if (len > CPU_PAR_MIN)
    for (size_t i = 0; i < len; i++) sum += (double)grad[i] * grad[i];
    double norm = sqrt(sum), scale = n->attrs.f[0] / (norm + 1e-6);
    CPU_OUT(0)[0] = (float)norm;
    h->sched.grad_scale = scale < 1.0 ? (float)scale : 1.0f;
    return IG_OK;
}
