/* cpu_pool.c — POOL2D and its gradient: the team splits the n·c planes; the per-element
 * math is src/ops/pool_math.h's, as on the GPU. */
#include "backend/cpu/cpu.h"
#include "ops/pool.h"

ig_status ig_cpu_pool2d(const ig_graph *g, const ig_node *n, void *const *bases)
{
    int64_t planes;
    ig_pool_geom geo = ig_pool_geom_of(g, n, &planes);
    const float *x = CPU_F32(0);
    float *y = CPU_OUT(0);
    int64_t in = geo.h * geo.w, out = geo.oh * geo.ow;
#pragma omp parallel for if (planes * in > CPU_PAR_MIN)
    for (int64_t c = 0; c < planes; c++)
        for (int64_t oy = 0; oy < geo.oh; oy++)
            for (int64_t ox = 0; ox < geo.ow; ox++) y[c * out + oy * geo.ow + ox] = ig_pool_out(x + c * in, &geo, oy, ox);
    return IG_OK;
}

ig_status ig_cpu_pool2d_grad(const ig_graph *g, const ig_node *n, void *const *bases)
{
    int64_t planes;
    ig_pool_geom geo = ig_pool_geom_of(g, n, &planes);
    const float *dy = CPU_F32(0), *x = CPU_F32(1);
    float *dx = CPU_OUT(0);
    int64_t in = geo.h * geo.w, out = geo.oh * geo.ow;
#pragma omp parallel for if (planes * in > CPU_PAR_MIN)
    for (int64_t c = 0; c < planes; c++)
        for (int64_t iy = 0; iy < geo.h; iy++)
            for (int64_t ix = 0; ix < geo.w; ix++)
                dx[c * in + iy * geo.w + ix] = ig_pool_grad(dy + c * out, x + c * in, &geo, iy, ix);
    return IG_OK;
}
