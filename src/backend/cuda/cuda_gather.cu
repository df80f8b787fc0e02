/* cuda_gather.cu — a step's batch gathered from the device-resident dataset (one block per
 * sample: the permutation and the augmentation draws are computed once per row), and
 * evaluation totals. */
#include "cuda.h"
#include "cuda_launch.cuh"
#include "ops/augment.h"
#include "ops/opt_hyper.h"
#include "ops/permute.h"

__global__ void gather_kernel(const char *xs, const char *ys, char *xd, char *yd, int64_t count, size_t row,
                              size_t yrow, int64_t stride, int mode, int64_t h, int64_t w,
                              const ig_opt_hyper *hyper, ig_data_cursor *c, int *counter)
{
    ig_grid_enter();
    __shared__ int64_t k, src;
    __shared__ ig_augment_draw d;
    __shared__ bool aug;
    int64_t j = blockIdx.x;
    bool train = mode != IG_GATHER_EVAL;
    if (threadIdx.x == 0) {
        k = mode == IG_GATHER_EVAL ? c->eval_batch : mode == IG_GATHER_AHEAD ? c->ahead : hyper->step - c->first_step;
        src = ig_permute((k * stride + j) % count, count, train ? c->key : 0);
        aug = train && (c->aug_pad > 0 || c->aug_flip > 0);
        if (aug) d = ig_augment_draw_of(c->aug_seed, c->first_step + k, j, c->aug_pad, c->aug_flip);
    }
    __syncthreads();
    const char *from = xs + (size_t)src * row;
    char *to = xd + (size_t)j * row;
    if (aug) { /* f32 samples: each output value reads its source pixel, or is padding */
        const float *f = (const float *)from;
        float *t = (float *)to;
        for (size_t i = threadIdx.x; i < row / sizeof(float); i += blockDim.x) {
            int64_t plane = (int64_t)i / (h * w), y = (int64_t)i / w % h, x = (int64_t)i % w;
            int64_t sy = ig_augment_src(y, h, d.dy, false), sx = ig_augment_src(x, w, d.dx, d.flip);
            t[i] = sy < 0 || sx < 0 ? 0.0f : f[(plane * h + sy) * w + sx];
        }
    } else if (row % 16 == 0 && ((uintptr_t)from | (uintptr_t)to) % 16 == 0) {
        for (size_t i = threadIdx.x; i < row / 16; i += blockDim.x) ((uint4 *)to)[i] = ((const uint4 *)from)[i];
    } else {
        for (size_t i = threadIdx.x; i < row; i += blockDim.x) to[i] = from[i];
    }
    for (size_t i = threadIdx.x; i < yrow; i += blockDim.x) yd[(size_t)j * yrow + i] = ys[(size_t)src * yrow + i];
    /* a TRAIN gather's blocks do not read cursor.ahead; an AHEAD gather's last block advances
     * it once every block has read it */
    if (mode == IG_GATHER_TRAIN && j == 0 && threadIdx.x == 0) c->ahead = k + 1;
    if (mode == IG_GATHER_AHEAD && ig_grid_last_block(counter, (int)gridDim.x, true) && threadIdx.x == 0)
        c->ahead = k + 1;
}

__global__ void eval_accum_kernel(const float *loss, const int32_t *correct, ig_data_cursor *c, int64_t b)
{
    ig_grid_enter();
    c->eval_loss += (double)*loss * (double)b;
    if (correct) c->eval_correct += *correct;
    c->eval_count += b;
    c->eval_batch++;
}

extern "C" void ig_cuda_gather(const void *xs, const void *ys, void *xd, void *yd, int64_t count, size_t row,
                               size_t yrow, int64_t b, int64_t stride, int mode, int64_t h, int64_t w,
                               const void *hyper, void *cursor, int *counter, ig_cuda_queue *q)
{
    ig_launch(q, gather_kernel, (unsigned)b, 256, 0, (const char *)xs, (const char *)ys, (char *)xd, (char *)yd, count, row,
              yrow, stride, mode, h, w, (const ig_opt_hyper *)hyper, (ig_data_cursor *)cursor, counter);
}

extern "C" void ig_cuda_eval_accum(const float *loss, const int32_t *correct, void *cursor, int64_t b, ig_cuda_queue *q)
{
    ig_launch(q, eval_accum_kernel, 1, 1, 0, loss, correct, (ig_data_cursor *)cursor, b);
}
