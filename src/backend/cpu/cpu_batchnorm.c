/* cpu_batchnorm.c — BATCHNORM and its gradients (src/ops/batchnorm.c). A channel's sums run
 * on one thread, in element order and in double, so they do not depend on the team's size;
 * the elementwise parts split the n·c planes. The math is src/ops/bn_math.h's, as on the GPU. */
#include "backend/cpu/cpu.h"
#include "ops/batchnorm.h"

/* Channels summed by one thread together: where planes are short (a [n, c] input's are one
 * value), a block of them fills a cache line of each sample. */
#define BN_BLOCK 16

static int64_t block_of(ig_bn_geom geo) { return geo.hw >= BN_BLOCK ? 1 : (BN_BLOCK + geo.hw - 1) / geo.hw; }

/* Over the nc ≤ BN_BLOCK channels from c0, in one pass: s1[k] = Σ (a − sa[k]) and
 * s2[k] = Σ (a − sa[k])·(b − sb[k]) over channel c0 + k, each in element order. */
static void channel_sums(const float *a, const double *sa, const float *b, const double *sb, ig_bn_geom geo,
                         int64_t c0, int64_t nc, double *s1, double *s2)
{
    for (int64_t k = 0; k < nc; k++) s1[k] = s2[k] = 0;
    for (int64_t i = 0; i < geo.n; i++)
        for (int64_t k = 0; k < nc; k++) {
            int64_t at = (i * geo.c + c0 + k) * geo.hw;
            double t1 = s1[k], t2 = s2[k];
            for (int64_t j = 0; j < geo.hw; j++) {
                double d = (double)a[at + j] - sa[k];
                t1 += d;
                t2 += d * ((double)b[at + j] - sb[k]);
            }
            s1[k] = t1;
            s2[k] = t2;
        }
}

/* Each element of plane p (sample p / c, channel p % c) from the channel's scalars; the
 * output may be the input (the planner runs both ops in place). */
CPU_CLONES static void bn_y_span(const float *x, float *y, int64_t len, float mean, float invstd, float gamma,
                                 float beta)
{
#pragma omp simd
    for (int64_t j = 0; j < len; j++) y[j] = ig_bn_y(x[j], mean, invstd, gamma, beta);
}

CPU_CLONES static void bn_dx_span(const float *dy, const float *x, float *dx, int64_t len, float mean, float invstd,
                                  float gamma, float dgamma, float dbeta, int64_t count, int training)
{
#pragma omp simd
    for (int64_t j = 0; j < len; j++) dx[j] = ig_bn_dx(dy[j], x[j], mean, invstd, gamma, dgamma, dbeta, count, training);
}

/* Training: the batch's mean and 1/std into saved, the running statistics moved towards the
 * batch's. */
static void batch_stats(const float *x, ig_bn_geom geo, float momentum, float eps, float *saved, float *rmean,
                        float *rvar)
{
    int64_t count = geo.n * geo.hw, block = block_of(geo);
#pragma omp parallel for if (count * geo.c > CPU_PAR_MIN)
    for (int64_t c0 = 0; c0 < geo.c; c0 += block) {
        int64_t nc = geo.c - c0 < block ? geo.c - c0 : block;
        double zero[BN_BLOCK] = {0}, sum[BN_BLOCK], sq[BN_BLOCK], mean[BN_BLOCK], dev[BN_BLOCK];
        channel_sums(x, zero, x, zero, geo, c0, nc, sum, sq);
        for (int64_t k = 0; k < nc; k++) mean[k] = sum[k] / (double)count;
        channel_sums(x, mean, x, mean, geo, c0, nc, dev, sq);
        for (int64_t k = 0, ch = c0; k < nc; k++, ch++) {
            /* two passes, the second corrected by what rounding left in Σ (x − mean) */
            float var = (float)((sq[k] - dev[k] * dev[k] / (double)count) / (double)count);
            saved[ch] = (float)mean[k];
            saved[geo.c + ch] = ig_bn_invstd(var, eps);
            rmean[ch] = ig_bn_running(rmean[ch], (float)mean[k], momentum);
            rvar[ch] = ig_bn_running(rvar[ch], ig_bn_unbiased(var, count), momentum);
        }
    }
}

ig_status ig_cpu_batchnorm(const ig_graph *g, const ig_node *n, void *const *bases)
{
    ig_bn_geom geo = ig_bn_geom_of(g, n);
    const float *x = CPU_F32(0), *gamma = CPU_F32(1), *beta = CPU_F32(2);
    float *rmean = CPU_F32(3), *rvar = CPU_F32(4); /* updated in place in training */
    float *y = CPU_OUT(0), *saved = CPU_OUT(1);
    float eps = n->attrs.f[1];
    if (n->attrs.i[0]) {
        batch_stats(x, geo, n->attrs.f[0], eps, saved, rmean, rvar);
    } else {
        for (int64_t ch = 0; ch < geo.c; ch++) {
            saved[ch] = rmean[ch];
            saved[geo.c + ch] = ig_bn_invstd(rvar[ch], eps);
        }
    }
#pragma omp parallel for if (geo.n * geo.c * geo.hw > CPU_PAR_MIN)
    for (int64_t p = 0; p < geo.n * geo.c; p++) {
        int64_t ch = p % geo.c;
        bn_y_span(x + p * geo.hw, y + p * geo.hw, geo.hw, saved[ch], saved[geo.c + ch], gamma[ch], beta[ch]);
    }
    return IG_OK;
}

ig_status ig_cpu_batchnorm_grad(const ig_graph *g, const ig_node *n, void *const *bases)
{
    ig_bn_geom geo = ig_bn_geom_of(g, n);
    const float *dy = CPU_F32(0), *x = CPU_F32(1), *saved = CPU_F32(2);
    float *dgamma = CPU_OUT(0), *dbeta = CPU_OUT(1);
    int64_t block = block_of(geo);
#pragma omp parallel for if (geo.n * geo.hw * geo.c > CPU_PAR_MIN)
    for (int64_t c0 = 0; c0 < geo.c; c0 += block) {
        int64_t nc = geo.c - c0 < block ? geo.c - c0 : block;
        double zero[BN_BLOCK] = {0}, mean[BN_BLOCK], sum_dy[BN_BLOCK], sum_dy_xc[BN_BLOCK]; /* Σ dy, Σ dy·(x − mean) */
        for (int64_t k = 0; k < nc; k++) mean[k] = saved[c0 + k];
        channel_sums(dy, zero, x, mean, geo, c0, nc, sum_dy, sum_dy_xc);
        for (int64_t k = 0, ch = c0; k < nc; k++, ch++) {
            dbeta[ch] = (float)sum_dy[k];
            dgamma[ch] = (float)(sum_dy_xc[k] * saved[geo.c + ch]);
        }
    }
    return IG_OK;
}

ig_status ig_cpu_batchnorm_dx(const ig_graph *g, const ig_node *n, void *const *bases)
{
    ig_bn_geom geo = ig_bn_geom_of(g, n);
    const float *dy = CPU_F32(0), *x = CPU_F32(1), *gamma = CPU_F32(2), *saved = CPU_F32(3);
    int training = (int)n->attrs.i[0];
    const float *dgamma = training ? CPU_F32(4) : NULL, *dbeta = training ? CPU_F32(5) : NULL;
    float *dx = CPU_OUT(0);
    int64_t count = geo.n * geo.hw;
#pragma omp parallel for if (count * geo.c > CPU_PAR_MIN)
    for (int64_t p = 0; p < geo.n * geo.c; p++) {
        int64_t ch = p % geo.c, at = p * geo.hw;
        bn_dx_span(dy + at, x + at, dx + at, geo.hw, saved[ch], saved[geo.c + ch], gamma[ch],
                   training ? dgamma[ch] : 0.0f, training ? dbeta[ch] : 0.0f, count, training);
    }
    return IG_OK;
}
