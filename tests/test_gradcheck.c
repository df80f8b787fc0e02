/* test_gradcheck.c — finite-difference checks of every differentiable op's VJP rule, and of a whole MLP. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "nn/model.h"
#include "ops/loss_math.h"
#include "ops/ops.h"
#include "ops/pool_math.h"

/* Error model. The numerical gradient of L at x is (L(x+h) − L(x−h)) / 2h with h the step
 * actually taken in f32 (eps = 1e-2 rounded at x). Two errors add up:
 *   - truncation: h²/6 · |L'''|, about 2e-5 for the smooth ops here (|L'''| = O(1));
 *   - rounding: the forward runs in f32, so each output carries a relative error of a few
 *     u = 6e-8; L = Σ y·r is summed in double, so |ΔL| ≈ c·u·Σ|y·r| and the quotient is
 *     off by ≈ c·u·Σ|y·r| / h ≈ 1e-4 for Σ|y·r| ≈ 10.
 * Gradients here have norms of O(0.1..1), so a correct VJP lands near 1e-4 relative
 * error while a wrong one (a missing term, a transposed operand, a sign) lands near 1.
 * Ops that are linear in their inputs carry no truncation error and get a tighter bound. */
#define EPS 1e-2f
#define TOL_SMOOTH 1e-2
#define TOL_LINEAR 1e-3

/* Inputs that the perturbation must not push across a kink stay this far from it. */
#define KINK_MARGIN (2.0 * EPS)

#define S1(a) {.ndim = 1, .d = {a}}
#define S2(a, b) {.ndim = 2, .d = {a, b}}
#define S3(a, b, c) {.ndim = 3, .d = {a, b, c}}
#define S4(a, b, c, e) {.ndim = 4, .d = {a, b, c, e}}

/* Where an op has a kink (relu's at 0), a central difference that straddles it measures
 * neither one-sided slope. Inputs are redrawn until the kink's argument is at least
 * KINK_MARGIN from 0; a perturbation of EPS moves it by at most EPS·max|coefficient| ≤ EPS
 * (all draws lie in [-1, 1]). */
typedef enum kink {
    KINK_NONE,
    KINK_INPUT, /* the kink's argument is input 0 (standalone relu) */
    KINK_DENSE, /* the kink's argument is the pre-activation x·wᵀ + b (dense with fused relu) */
    KINK_DIFF,  /* elementwise losses: at input 0 − input 1 = 0 (mae) and = ±attrs.f[0] (huber) */
    KINK_TIES,  /* max pooling: where two values of a window are equal; input 0 is drawn as a
                 * shuffle of values 2/n apart (n ≤ 100: more than EPS), so no step makes a tie */
    KINK_CONV,  /* the kink's argument is a convolution's pre-activation (conv with fused relu) */
} kink;

typedef struct gc_case {
    const char *name;
    ig_op op;
    int n_in;
    ig_shape shape[IG_MAX_IN];
    ig_dtype dtype[IG_MAX_IN]; /* i32 inputs are class labels in [0, input 0's last dim) */
    ig_attrs attrs;
    unsigned refused; /* inputs (bit k = input k) whose gradient the op must refuse, not fake */
    bool unit_seed;   /* scalar loss: the unit seed, L = output 0 */
    double tol;
    kink kinks;
    const char *note;
} gc_case;

#define F32x3 {IG_F32, IG_F32, IG_F32}

static const gc_case cases[] = {
    {"dense", IG_OP_DENSE, 2, {S2(4, 3), S2(5, 3)}, F32x3, {.i = {0, IG_ACT_NONE}}, 0, false, TOL_SMOOTH, KINK_NONE,
     "bilinear in x and w"},
    {"dense_bias", IG_OP_DENSE, 3, {S2(4, 3), S2(5, 3), S1(5)}, F32x3, {.i = {1, IG_ACT_NONE}}, 0, false, TOL_SMOOTH,
     KINK_NONE, "bias gradient is a column sum"},
    {"dense_bias_relu", IG_OP_DENSE, 3, {S2(4, 3), S2(5, 3), S1(5)}, F32x3, {.i = {1, IG_ACT_RELU}}, 0, false,
     TOL_SMOOTH, KINK_DENSE, "kink at pre-activation 0: redrawn away from it"},
    {"dense_relu", IG_OP_DENSE, 2, {S2(4, 3), S2(5, 3)}, F32x3, {.i = {0, IG_ACT_RELU}}, 0, false, TOL_SMOOTH,
     KINK_DENSE, "kink at pre-activation 0: redrawn away from it"},
    {"dense_bias_tanh", IG_OP_DENSE, 3, {S2(4, 3), S2(5, 3), S1(5)}, F32x3, {.i = {1, IG_ACT_TANH}}, 0, false,
     TOL_SMOOTH, KINK_NONE, "smooth"},
    {"relu", IG_OP_RELU, 1, {S2(3, 5)}, F32x3, {.i = {0}}, 0, false, TOL_SMOOTH, KINK_INPUT,
     "kink at 0: inputs redrawn away from it"},
    {"tanh", IG_OP_TANH, 1, {S2(3, 5)}, F32x3, {.i = {0}}, 0, false, TOL_SMOOTH, KINK_NONE, "smooth"},
    {"leaky_relu", IG_OP_ACT, 1, {S2(3, 5)}, F32x3, {.i = {IG_ACT_LEAKY_RELU}, .f = {0.1f}}, 0, false, TOL_SMOOTH,
     KINK_INPUT, "slope 0.1; kink at 0: inputs redrawn away from it"},
    {"leaky_relu_negative", IG_OP_ACT, 1, {S2(3, 5)}, F32x3, {.i = {IG_ACT_LEAKY_RELU}, .f = {-0.5f}}, 0, false,
     TOL_SMOOTH, KINK_INPUT, "a negative slope: the derivative's side follows x, not y"},
    {"elu", IG_OP_ACT, 1, {S2(3, 5)}, F32x3, {.i = {IG_ACT_ELU}, .f = {1.5f}}, 0, false, TOL_SMOOTH, KINK_INPUT,
     "alpha 1.5: the slope jumps at 0, inputs redrawn away from it"},
    {"sigmoid", IG_OP_ACT, 1, {S2(3, 5)}, F32x3, {.i = {IG_ACT_SIGMOID}}, 0, false, TOL_SMOOTH, KINK_NONE,
     "smooth, derivative from the output"},
    {"swish", IG_OP_ACT, 1, {S2(3, 5)}, F32x3, {.i = {IG_ACT_SWISH}}, 0, false, TOL_SMOOTH, KINK_NONE, "smooth"},
    {"gelu", IG_OP_ACT, 1, {S2(3, 5)}, F32x3, {.i = {IG_ACT_GELU}}, 0, false, TOL_SMOOTH, KINK_NONE, "erf form"},
    {"gelu_tanh", IG_OP_ACT, 1, {S2(3, 5)}, F32x3, {.i = {IG_ACT_GELU_TANH}}, 0, false, TOL_SMOOTH, KINK_NONE,
     "tanh approximation"},
    {"softmax", IG_OP_SOFTMAX, 1, {S3(2, 3, 5)}, F32x3, {.i = {0}}, 0, false, TOL_SMOOTH, KINK_NONE,
     "rows of the last axis of a 3-D input"},
    {"reshape_flatten", IG_OP_RESHAPE, 1, {S3(2, 3, 4)}, F32x3, {.shape = {.ndim = 1, .d = {12}}}, 0, false,
     TOL_LINEAR, KINK_NONE, "a view: the gradient is the seed reshaped back"},
    {"reshape_unflatten", IG_OP_RESHAPE, 1, {S2(2, 12)}, F32x3, {.shape = {.ndim = 2, .d = {3, 4}}}, 0, false,
     TOL_LINEAR, KINK_NONE, "a view"},
    {"add", IG_OP_ADD, 2, {S2(3, 4), S2(3, 4)}, F32x3, {.i = {0}}, 0, false, TOL_LINEAR, KINK_NONE, "linear"},
    {"scale", IG_OP_SCALE, 2, {S2(3, 4), S1(1)}, F32x3, {.i = {0}}, 1u << 1, false, TOL_LINEAR, KINK_NONE,
     "no gradient for the factor (a constant loss scale)"},
    {"copy", IG_OP_COPY, 1, {S2(3, 4)}, F32x3, {.i = {0}}, 0, false, TOL_LINEAR, KINK_NONE, "identity"},
    {"sparse_ce", IG_OP_SPARSE_CE, 2, {S2(6, 4), S1(6)}, {IG_F32, IG_I32}, {.i = {0}}, 0, true, TOL_SMOOTH, KINK_NONE,
     "labels are i32: no gradient; loss is a batch mean"},
    {"sparse_ce_seeded", IG_OP_SPARSE_CE, 2, {S2(6, 4), S1(6)}, {IG_F32, IG_I32}, {.i = {0}}, 0, false, TOL_SMOOTH,
     KINK_NONE, "an upstream scalar seed: the fused gradient is scaled"},
    {"sparse_ce_smoothed", IG_OP_SPARSE_CE, 2, {S2(6, 4), S1(6)}, {IG_F32, IG_I32}, {.f = {0.2f}}, 0, true, TOL_SMOOTH,
     KINK_NONE, "label smoothing 0.2"},
    {"cross_entropy", IG_OP_CROSS_ENTROPY, 2, {S2(6, 4), S2(6, 4)}, F32x3, {.f = {0}}, 1u << 1, true, TOL_SMOOTH,
     KINK_NONE, "probability targets; rows need not sum to 1 (the gradient keeps Σt)"},
    {"cross_entropy_smoothed", IG_OP_CROSS_ENTROPY, 2, {S2(6, 4), S2(6, 4)}, F32x3, {.f = {0.1f}}, 1u << 1, false,
     TOL_SMOOTH, KINK_NONE, "label smoothing 0.1, an upstream scalar seed"},
    {"mse", IG_OP_ELEM_LOSS, 2, {S2(3, 4), S2(3, 4)}, F32x3, {.i = {IG_ELEM_MSE}}, 1u << 1, true, TOL_SMOOTH,
     KINK_NONE, "no gradient for the target (data)"},
    {"mse_seeded", IG_OP_ELEM_LOSS, 2, {S2(3, 4), S2(3, 4)}, F32x3, {.i = {IG_ELEM_MSE}}, 1u << 1, false, TOL_SMOOTH,
     KINK_NONE, "an upstream scalar seed"},
    {"mae", IG_OP_ELEM_LOSS, 2, {S2(3, 4), S2(3, 4)}, F32x3, {.i = {IG_ELEM_MAE}}, 1u << 1, true, TOL_LINEAR,
     KINK_DIFF, "kink at pred = target: redrawn away from it"},
    {"huber", IG_OP_ELEM_LOSS, 2, {S2(3, 4), S2(3, 4)}, F32x3, {.i = {IG_ELEM_HUBER}, .f = {0.5f}}, 1u << 1, true,
     TOL_SMOOTH, KINK_DIFF, "delta 0.5: quadratic and linear elements, away from |d| = delta"},
    {"bce", IG_OP_ELEM_LOSS, 2, {S2(3, 4), S2(3, 4)}, F32x3, {.i = {IG_ELEM_BCE}}, 1u << 1, true, TOL_SMOOTH,
     KINK_NONE, "probabilities and targets in [0.1, 0.9]"},
    {"bce_with_logits", IG_OP_ELEM_LOSS, 2, {S2(3, 4), S2(3, 4)}, F32x3, {.i = {IG_ELEM_BCE_LOGITS}}, 1u << 1, false,
     TOL_SMOOTH, KINK_NONE, "logits; targets in [0.1, 0.9]; an upstream scalar seed"},
    {"maxpool", IG_OP_POOL2D, 1, {S4(2, 2, 5, 5)}, F32x3, {.i = {IG_POOL_MAX, 3, 2, 1}}, 0, false, TOL_LINEAR,
     KINK_TIES, "kernel 3, stride 2, padding 1: overlapping windows, one maximum each"},
    {"maxpool_s1", IG_OP_POOL2D, 1, {S4(1, 2, 4, 5)}, F32x3, {.i = {IG_POOL_MAX, 2, 1, 0}}, 0, false, TOL_LINEAR,
     KINK_TIES, "kernel 2, stride 1: an input is the maximum of up to four windows"},
    {"avgpool", IG_OP_POOL2D, 1, {S4(2, 2, 5, 5)}, F32x3, {.i = {IG_POOL_AVG, 3, 2, 1}}, 0, false, TOL_LINEAR,
     KINK_NONE, "linear; padding counts in the divisor"},
    {"avgpool_floor", IG_OP_POOL2D, 1, {S4(2, 3, 5, 4)}, F32x3, {.i = {IG_POOL_AVG, 2, 2, 0}}, 0, false, TOL_LINEAR,
     KINK_NONE, "the last row is outside every window (floor output size)"},
    {"global_avgpool", IG_OP_POOL2D, 1, {S4(2, 3, 4, 5)}, F32x3, {.i = {IG_POOL_GLOBAL_AVG}}, 0, false, TOL_LINEAR,
     KINK_NONE, "linear: [n, c, h, w] -> [n, c]"},
    /* CONV2D: x, w [f, c, kh, kw], b; attrs stride, padding, fused activation */
    {"conv", IG_OP_CONV2D, 3, {S4(2, 3, 5, 5), S4(4, 3, 3, 3), S1(4)}, F32x3, {.i = {1, 1, IG_ACT_NONE}}, 0, false,
     TOL_LINEAR, KINK_NONE, "3x3, padding 1, bias: linear in each input"},
    {"conv_s2", IG_OP_CONV2D, 2, {S4(3, 2, 6, 5), S4(3, 2, 3, 3)}, F32x3, {.i = {2, 0, IG_ACT_NONE}}, 0, false,
     TOL_LINEAR, KINK_NONE, "stride 2, padding 0, no bias, non-square input: the last column is in no window; "
     "3 images, split unevenly over the threads"},
    {"conv_p2", IG_OP_CONV2D, 3, {S4(1, 2, 4, 4), S4(2, 2, 3, 3), S1(2)}, F32x3, {.i = {1, 2, IG_ACT_NONE}}, 0,
     false, TOL_LINEAR, KINK_NONE, "padding 2: the output is larger than the input"},
    {"conv_1x1", IG_OP_CONV2D, 3, {S4(2, 4, 3, 5), S4(3, 4, 1, 1), S1(3)}, F32x3, {.i = {1, 0, IG_ACT_NONE}}, 0,
     false, TOL_LINEAR, KINK_NONE, "1x1, stride 1: the image is its own column matrix"},
    {"conv_1x1_s2", IG_OP_CONV2D, 2, {S4(2, 3, 5, 4), S4(2, 3, 1, 1)}, F32x3, {.i = {2, 0, IG_ACT_NONE}}, 0, false,
     TOL_LINEAR, KINK_NONE, "1x1, stride 2: inputs between the samples get no gradient"},
    {"conv_rect_kernel", IG_OP_CONV2D, 3, {S4(1, 2, 5, 4), S4(2, 2, 2, 3), S1(2)}, F32x3, {.i = {1, 1, IG_ACT_NONE}},
     0, false, TOL_LINEAR, KINK_NONE, "a 2x3 kernel (the op takes any kh, kw)"},
    {"conv_relu", IG_OP_CONV2D, 3, {S4(2, 2, 5, 5), S4(3, 2, 3, 3), S1(3)}, F32x3, {.i = {1, 1, IG_ACT_RELU}}, 0,
     false, TOL_SMOOTH, KINK_CONV, "fused relu; kink at pre-activation 0: redrawn away from it"},
    {"conv_tanh", IG_OP_CONV2D, 3, {S4(1, 3, 5, 6), S4(2, 3, 3, 3), S1(2)}, F32x3, {.i = {2, 1, IG_ACT_TANH}}, 0,
     false, TOL_SMOOTH, KINK_NONE, "fused tanh, stride 2, padding 1"},
    /* input 1 is the hyperparameter block; its drawn bytes give some step, and the mask,
     * a function of (seed, salt, step) alone, stays fixed while x is perturbed */
    {"dropout", IG_OP_DROPOUT, 2, {S2(4, 8), S1((sizeof(ig_opt_hyper) + 3) / 4)}, F32x3, {.i = {7, 3}, .f = {0.5f}},
     1u << 1, false, TOL_LINEAR, KINK_NONE, "linear in x under a fixed mask"},
    /* BATCHNORM: x, gamma, beta, running mean, running variance (drawn positive); attrs
     * {training}, {momentum, eps}. The running statistics are buffers: no gradient. */
    {"batchnorm_train_2d", IG_OP_BATCHNORM, 5, {S2(6, 3), S1(3), S1(3), S1(3), S1(3)}, F32x3,
     {.i = {1}, .f = {0.1f, 1e-5f}}, 3u << 3, false, TOL_SMOOTH, KINK_NONE,
     "batch statistics: every x of a channel moves its mean and variance"},
    {"batchnorm_train_4d", IG_OP_BATCHNORM, 5, {S4(2, 3, 3, 2), S1(3), S1(3), S1(3), S1(3)}, F32x3,
     {.i = {1}, .f = {0.1f, 1e-5f}}, 3u << 3, false, TOL_SMOOTH, KINK_NONE, "NCHW: a channel spans samples and planes"},
    {"batchnorm_eval_2d", IG_OP_BATCHNORM, 5, {S2(4, 3), S1(3), S1(3), S1(3), S1(3)}, F32x3,
     {.i = {0}, .f = {0.1f, 1e-5f}}, 3u << 3, false, TOL_LINEAR, KINK_NONE, "running statistics: affine in x"},
    {"batchnorm_eval_4d", IG_OP_BATCHNORM, 5, {S4(2, 3, 2, 3), S1(3), S1(3), S1(3), S1(3)}, F32x3,
     {.i = {0}, .f = {0.1f, 1e-5f}}, 3u << 3, false, TOL_LINEAR, KINK_NONE, "running statistics: affine in x"},
};
#define N_CASES ((int)(sizeof cases / sizeof *cases))

/* ---------------------------------------------------------------- helpers */



static float uniform_pm1(uint64_t seed, uint64_t i) { return 2.0f * ig_rng_uniform(seed, i) - 1.0f; }

static int io_leaf(ig_graph *g, ig_shape s, ig_dtype dt, const char *name)
{
    int v = ig_graph_leaf(g, &s, dt, name);
    assert_true(v >= 0);
    g->vals[v].buf = IG_BUF_IO;
    return v;
}

/* Host inputs of one case: f32 in [-1, 1] (probabilities in [0.1, 0.9]), i32 labels in
 * [0, classes). */
typedef struct inputs {
    void *data[IG_MAX_IN];
    size_t numel[IG_MAX_IN], bytes[IG_MAX_IN];
} inputs;

/* Inputs drawn in [0.1, 0.9]: the probabilities the binary cross-entropies take (BCE's
 * prediction, and both targets), and batch norm's running variance, which must be positive. */
static bool is_probability(const gc_case *c, int k)
{
    int64_t kind = c->attrs.i[0];
    return (c->op == IG_OP_ELEM_LOSS && (kind == IG_ELEM_BCE || (k == 1 && kind == IG_ELEM_BCE_LOGITS))) ||
           (c->op == IG_OP_BATCHNORM && k == 4);
}

static void draw_inputs(const gc_case *c, uint64_t seed, inputs *in)
{
    for (int k = 0; k < c->n_in; k++) {
        size_t n = ig_shape_numel(&c->shape[k]);
        in->numel[k] = n;
        in->bytes[k] = n * ig_dtype_size(c->dtype[k]);
        in->data[k] = malloc(in->bytes[k]);
        assert_non_null(in->data[k]);
        uint64_t s = seed * 16 + (uint64_t)k;
        if (c->dtype[k] == IG_I32) {
            int64_t classes = c->shape[0].d[c->shape[0].ndim - 1];
            for (size_t j = 0; j < n; j++) ((int32_t *)in->data[k])[j] = (int32_t)(ig_rng_u64(s, j) % (uint64_t)classes);
        } else if (c->kinks == KINK_TIES && k == 0) {
            float *x = in->data[k];
            for (size_t j = 0; j < n; j++) x[j] = -1.0f + 2.0f * ((float)j + 0.5f) / (float)n;
            for (size_t j = n - 1; j > 0; j--) { /* Fisher–Yates */
                size_t i = (size_t)(ig_rng_u64(s, j) % (j + 1));
                float t = x[i];
                x[i] = x[j];
                x[j] = t;
            }
        } else {
            bool prob = is_probability(c, k);
            for (size_t j = 0; j < n; j++)
                ((float *)in->data[k])[j] = prob ? 0.1f + 0.8f * ig_rng_uniform(s, j) : uniform_pm1(s, j);
        }
    }
}

static void free_inputs(const gc_case *c, inputs *in)
{
    for (int k = 0; k < c->n_in; k++) free(in->data[k]);
}

/* Whether the kink's argument stays KINK_MARGIN away from 0 for these inputs. */
static bool kink_free(const gc_case *c, const inputs *in)
{
    if (c->kinks == KINK_INPUT) {
        const float *x = in->data[0];
        for (size_t j = 0; j < in->numel[0]; j++)
            if (fabs(x[j]) < KINK_MARGIN) return false;
    } else if (c->kinks == KINK_DIFF) {
        const float *p = in->data[0], *t = in->data[1];
        for (size_t j = 0; j < in->numel[0]; j++) {
            double d = fabs((double)p[j] - t[j]);
            if (d < KINK_MARGIN || fabs(d - c->attrs.f[0]) < KINK_MARGIN) return false;
        }
    } else if (c->kinks == KINK_DENSE) {
        const float *x = in->data[0], *w = in->data[1], *b = c->n_in == 3 ? in->data[2] : NULL;
        int64_t rows = c->shape[0].d[0], k = c->shape[0].d[1], m = c->shape[1].d[0];
        for (int64_t r = 0; r < rows; r++)
            for (int64_t o = 0; o < m; o++) {
                double z = b ? b[o] : 0.0;
                for (int64_t j = 0; j < k; j++) z += (double)x[r * k + j] * w[o * k + j];
                if (fabs(z) < KINK_MARGIN) return false;
            }
    } else if (c->kinks == KINK_CONV) {
        const float *x = in->data[0], *w = in->data[1], *b = c->n_in == 3 ? in->data[2] : NULL;
        const int64_t *xd = c->shape[0].d, *wd = c->shape[1].d, s = c->attrs.i[0], p = c->attrs.i[1];
        int64_t oh = (xd[2] + 2 * p - wd[2]) / s + 1, ow = (xd[3] + 2 * p - wd[3]) / s + 1;
        for (int64_t n = 0; n < xd[0]; n++)
            for (int64_t f = 0; f < wd[0]; f++)
                for (int64_t oy = 0; oy < oh; oy++)
                    for (int64_t ox = 0; ox < ow; ox++) {
                        double z = b ? b[f] : 0.0;
                        for (int64_t ch = 0; ch < xd[1]; ch++)
                            for (int64_t ky = 0; ky < wd[2]; ky++)
                                for (int64_t kx = 0; kx < wd[3]; kx++) {
                                    int64_t iy = oy * s + ky - p, ix = ox * s + kx - p;
                                    if (iy < 0 || iy >= xd[2] || ix < 0 || ix >= xd[3]) continue;
                                    z += (double)x[((n * xd[1] + ch) * xd[2] + iy) * xd[3] + ix] *
                                         w[((f * wd[1] + ch) * wd[2] + ky) * wd[3] + kx];
                                }
                        if (fabs(z) < KINK_MARGIN) return false;
                    }
    }
    return true;
}

/* The graph of one case: input leaves (IO) and the node. */
static void build_case(const gc_case *c, ig_graph *g, int *in, int *out)
{
    ig_graph_init(g);
    for (int k = 0; k < c->n_in; k++) {
        char name[16];
        snprintf(name, sizeof name, "in%d", k);
        in[k] = io_leaf(g, c->shape[k], c->dtype[k], name);
    }
    OK(ig_graph_node(g, c->op, in, c->n_in, &c->attrs, c->name, out));
}

static bool differentiated(const gc_case *c, int k) { return c->dtype[k] == IG_F32 && !(c->refused & (1u << k)); }

/* L = Σ y·r over output 0, in double, for the inputs as they are now. */
static double forward_loss(ig_program *p, const gc_case *c, const int *in, int y, const inputs *x, const float *r)
{
    for (int k = 0; k < c->n_in; k++) OK(ig_program_write(p, in[k], x->data[k], x->bytes[k]));
    OK(ig_program_run(p, NULL, NULL, NULL));
    size_t n = ig_shape_numel(&p->g.vals[y].shape);
    float *yv = malloc(n * sizeof *yv);
    assert_non_null(yv);
    OK(ig_program_read(p, y, yv, n * sizeof *yv));
    double L = 0;
    for (size_t j = 0; j < n; j++) L += (double)yv[j] * r[j];
    free(yv);
    return L;
}

/* Autodiff with respect to a refused input must fail loudly: a -1 ("does not depend on
 * it") would be a silently wrong gradient. */
static void check_refusals(const gc_case *c)
{
    for (int k = 0; k < c->n_in; k++) {
        if (!(c->refused & (1u << k))) continue;
        ig_graph g;
        int in[IG_MAX_IN], out[IG_MAX_OUT], grad;
        build_case(c, &g, in, out);
        int seed = -1;
        if (!c->unit_seed) seed = io_leaf(&g, g.vals[out[0]].shape, IG_F32, "seed");
        ig_status s = ig_autodiff(&g, 1, &out[0], &seed, 1, &in[k], &grad);
        if (s != IG_ERR_UNSUPPORTED)
            fail_msg("%s: autodiff with respect to input %d gave %s (grad %d), expected IG_ERR_UNSUPPORTED", c->name, k,
                     ig_status_name(s), s == IG_OK ? grad : -1);
        ig_graph_free(&g);
    }
}

static void check_case(ig_ctx *ctx, const gc_case *c)
{
    inputs x;
    uint64_t seed = 1;
    for (;; seed++) {
        draw_inputs(c, seed, &x);
        if (kink_free(c, &x)) break;
        free_inputs(c, &x);
        if (seed == 200) fail_msg("%s: no kink-free draw in 200 tries", c->name);
    }

    /* analytic: the VJP graph, seeded with r (or the unit seed of a scalar loss) */
    ig_graph g;
    int in[IG_MAX_IN], out[IG_MAX_OUT], wrt[IG_MAX_IN], grads[IG_MAX_IN], wk[IG_MAX_IN], n_wrt = 0;
    build_case(c, &g, in, out);
    size_t n_out = ig_shape_numel(&g.vals[out[0]].shape);
    float *r = malloc(n_out * sizeof *r);
    assert_non_null(r);
    for (size_t j = 0; j < n_out; j++) r[j] = c->unit_seed ? 1.0f : uniform_pm1(seed * 16 + 15, j);
    int seed_v = c->unit_seed ? -1 : io_leaf(&g, g.vals[out[0]].shape, IG_F32, "seed");
    for (int k = 0; k < c->n_in; k++)
        if (differentiated(c, k)) {
            wk[n_wrt] = k;
            wrt[n_wrt++] = in[k];
        }
    assert_true(n_wrt > 0);
    OK(ig_autodiff(&g, 1, &out[0], &seed_v, n_wrt, wrt, grads));
    for (int i = 0; i < n_wrt; i++) {
        if (grads[i] < 0) fail_msg("%s: no gradient for input %d", c->name, wk[i]);
        OK(ig_graph_materialize(&g, grads[i], &grads[i]));
        g.vals[grads[i]].buf = IG_BUF_IO;
    }
    ig_program *pa;
    OK(ig_program_create(ctx, &g, &pa));
    for (int k = 0; k < c->n_in; k++) OK(ig_program_write(pa, in[k], x.data[k], x.bytes[k]));
    if (seed_v >= 0) OK(ig_program_write(pa, seed_v, r, n_out * sizeof *r));
    OK(ig_program_run(pa, NULL, NULL, NULL));

    /* numerical: central differences of L through a forward-only program */
    ig_graph f;
    int fin[IG_MAX_IN], fout[IG_MAX_OUT], y;
    build_case(c, &f, fin, fout);
    OK(ig_graph_materialize(&f, fout[0], &y));
    f.vals[y].buf = IG_BUF_IO;
    ig_program *pf;
    OK(ig_program_create(ctx, &f, &pf));

    for (int i = 0; i < n_wrt; i++) {
        int k = wk[i];
        size_t n = x.numel[k];
        float *ana = malloc(n * sizeof *ana), *xv = x.data[k];
        assert_non_null(ana);
        OK(ig_program_read(pa, grads[i], ana, n * sizeof *ana));
        double diff2 = 0, ana2 = 0;
        for (size_t j = 0; j < n; j++) {
            float orig = xv[j], hi = orig + EPS, lo = orig - EPS;
            xv[j] = hi;
            double Lp = forward_loss(pf, c, fin, y, &x, r);
            xv[j] = lo;
            double Lm = forward_loss(pf, c, fin, y, &x, r);
            xv[j] = orig;
            double num = (Lp - Lm) / ((double)hi - (double)lo);
            diff2 += (num - ana[j]) * (num - ana[j]);
            ana2 += (double)ana[j] * ana[j];
        }
        double rel = sqrt(diff2) / sqrt(ana2);
        print_message("%-18s input %d: |ana| %.3e, relative error %.2e (tol %.0e)\n", c->name, k, sqrt(ana2), rel,
                      c->tol);
        if (!(sqrt(ana2) > 1e-3)) fail_msg("%s input %d: analytic gradient is (near) zero, nothing checked", c->name, k);
        if (!(rel < c->tol))
            fail_msg("%s input %d: relative error %.3e >= %.0e (%s)", c->name, k, rel, c->tol, c->note);
        free(ana);
    }
    ig_program_destroy(pa);
    ig_program_destroy(pf);
    free(r);
    free_inputs(c, &x);
}

/* ---------------------------------------------------------------- tests */

/* Every op with a VJP rule has a row: a new differentiable op fails here until it has one. */
static void test_table_covers_every_op(void **state)
{
    for (int op = IG_OP_NOP + 1; op < IG_OP_COUNT; op++) {
        const ig_op_def *def = ig_op_get((ig_op)op);
        if (!def) fail_msg("op %d has no entry in the op table", op);
        if (!def->vjp) continue;
        bool found = false;
        for (int i = 0; i < N_CASES; i++) found |= cases[i].op == (ig_op)op;
        if (!found) fail_msg("op %s has a VJP rule but no row in the gradient-check table", def->name);
    }
    /* and every row is a differentiable op */
    for (int i = 0; i < N_CASES; i++) {
        const ig_op_def *def = ig_op_get(cases[i].op);
        assert_non_null(def);
        assert_non_null(def->vjp);
    }
}

static void test_ops(void **state)
{
    for (int i = 0; i < N_CASES; i++) {
        check_case(*state, &cases[i]);
        check_refusals(&cases[i]);
    }
}

/* CHANNEL_SUM is a gradient op (a conv's bias gradient, checked through the conv rows) with no
 * VJP of its own; here its values on other ranks, and on an input large enough to be split
 * over threads, against sums in double. */
static void test_channel_sum(void **state)
{
    const ig_shape shapes[] = {S2(3, 5), S3(2, 4, 7), S4(8, 3, 40, 40)};
    for (int k = 0; k < 3; k++) {
        ig_graph g;
        ig_graph_init(&g);
        int x = io_leaf(&g, shapes[k], IG_F32, "x"), y;
        OK(ig_graph_node(&g, IG_OP_CHANNEL_SUM, &x, 1, NULL, "db", &y));
        g.vals[y].buf = IG_BUF_IO;
        int64_t outer = shapes[k].d[0], ch = shapes[k].d[1];
        size_t numel = ig_shape_numel(&shapes[k]), inner = numel / (size_t)(outer * ch);
        float *xv = malloc(numel * sizeof *xv), got[8];
        assert_non_null(xv);
        for (size_t j = 0; j < numel; j++) xv[j] = uniform_pm1(5, j);
        ig_program *p;
        OK(ig_program_create(*state, &g, &p));
        OK(ig_program_write(p, x, xv, numel * sizeof *xv));
        OK(ig_program_run(p, NULL, NULL, NULL));
        OK(ig_program_read(p, y, got, (size_t)ch * sizeof *got));
        for (int64_t c = 0; c < ch; c++) {
            double want = 0;
            for (int64_t i = 0; i < outer; i++)
                for (size_t j = 0; j < inner; j++) want += xv[((size_t)(i * ch + c)) * inner + j];
            if (fabs(got[c] - want) > 1e-5 * (1 + fabs(want)))
                fail_msg("channel_sum over %d-D input, channel %lld: %.7g, want %.7g", shapes[k].ndim, (long long)c,
                         got[c], want);
        }
        ig_program_destroy(p);
        free(xv);
    }
}

/* ---------------------------------------------------------------- whole model */

enum { MB = 8, MD = 5, MH = 7, MC = 3 };

typedef struct mlp {
    ig_model *m;
    ig_value pre; /* the relu's input: the only kink */
    int n_params;
    int64_t total;
    float x[MB * MD];
    int32_t labels[MB];
} mlp;

static void mlp_build(ig_ctx *ctx, mlp *net)
{
    OK(ig_model_create(ctx, (int64_t[]){MB, MD}, 2, &net->m));
    ig_model *m = net->m;
    OK(ig_model_set_seed(m, 3));
    ig_value v = ig_dense(m, ig_model_input(m), MH, true, "fc1");
    v = ig_tanh(m, v, "tanh1");
    net->pre = ig_dense(m, v, MH, true, "fc2");
    v = ig_relu(m, net->pre, "relu2");
    ig_dense(m, v, MC, true, "fc3");
    OK(ig_model_status(m));
    OK(ig_model_finalize(m));
    net->n_params = ig_model_param_count(m);
    net->total = ig_model_num_params(m);
    for (int i = 0; i < MB * MD; i++) net->x[i] = 2.0f * uniform_pm1(77, (uint64_t)i);
    for (int i = 0; i < MB; i++) net->labels[i] = (int32_t)(ig_rng_u64(78, (uint64_t)i) % MC);
}

/* The model's forward graph at batch MB with labels and cross-entropy, as the trainer
 * builds it (activations fused); `pre` stays unfused so that it can be read. */
static void mlp_loss_graph(const mlp *net, ig_graph *g, int *labels, int *loss, bool keep_pre)
{
    ig_model *m = net->m;
    OK(ig_model_instantiate(m, MB, false, g));
    *labels = io_leaf(g, (ig_shape)S1(MB), IG_I32, "labels");
    g->vals[m->input].buf = IG_BUF_IO;
    int outs[2];
    OK(ig_graph_node(g, IG_OP_SPARSE_CE, (int[]){m->output, *labels}, 2, NULL, "loss", outs));
    *loss = outs[0];
    g->vals[*loss].buf = IG_BUF_IO;
    if (keep_pre) g->vals[net->pre].buf = IG_BUF_IO;
    OK(ig_fuse_activations(g, keep_pre ? &net->pre : NULL, keep_pre ? 1 : 0));
}

static void mlp_set_params(mlp *net, const float *flat)
{
    int64_t off = 0;
    for (int i = 0; i < net->n_params; i++) {
        int64_t shape[IG_MAX_DIMS], n = 1;
        int nd = ig_model_param_shape(net->m, i, shape);
        for (int d = 0; d < nd; d++) n *= shape[d];
        OK(ig_model_param_set(net->m, i, flat + off, n));
        off += n;
    }
}

static void mlp_get_params(mlp *net, float *flat)
{
    int64_t off = 0;
    for (int i = 0; i < net->n_params; i++) {
        int64_t shape[IG_MAX_DIMS], n = 1;
        int nd = ig_model_param_shape(net->m, i, shape);
        for (int d = 0; d < nd; d++) n *= shape[d];
        OK(ig_model_param_get(net->m, i, flat + off, n));
        off += n;
    }
}

static double mlp_forward(mlp *net, ig_program *p, int labels, int loss, float *pre)
{
    OK(ig_program_write(p, net->m->input, net->x, sizeof net->x));
    OK(ig_program_write(p, labels, net->labels, sizeof net->labels));
    OK(ig_program_run(p, net->m->param_mem, NULL, NULL));
    float L;
    OK(ig_program_read(p, loss, &L, sizeof L));
    OK(ig_program_read(p, net->pre, pre, MB * MH * sizeof *pre));
    return L;
}

/* dense→tanh→dense→relu→dense + cross-entropy: the autodiff gradient with respect to all
 * parameters, projected on random unit directions d, against (L(p+hd) − L(p−hd)) / 2h.
 * The error is measured relative to |∇L| (|d| = 1), which a correct gradient meets to
 * ~1e-4 (the error model above, with L ≈ 1 and h = 1e-2); directions whose ±h steps flip
 * the sign of a relu input are redrawn. */
static void test_mlp_directional(void **state)
{
    ig_ctx *ctx = *state;
    mlp net;
    mlp_build(ctx, &net);
    ig_model *m = net.m;

    ig_graph g;
    int labels, loss;
    mlp_loss_graph(&net, &g, &labels, &loss, false);
    int wrt[16], grads[16];
    assert_true(net.n_params <= 16);
    for (int i = 0; i < net.n_params; i++) wrt[i] = m->params[i].val;
    OK(ig_autodiff(&g, 1, &loss, (int[]){-1}, net.n_params, wrt, grads));
    for (int i = 0; i < net.n_params; i++) {
        assert_true(grads[i] >= 0);
        OK(ig_graph_materialize(&g, grads[i], &grads[i]));
        g.vals[grads[i]].buf = IG_BUF_IO;
    }
    ig_program *pa, *pf;
    OK(ig_program_create(ctx, &g, &pa));
    OK(ig_program_write(pa, m->input, net.x, sizeof net.x));
    OK(ig_program_write(pa, labels, net.labels, sizeof net.labels));
    OK(ig_program_run(pa, m->param_mem, NULL, NULL));
    float *grad = malloc((size_t)net.total * sizeof *grad), *p0 = malloc((size_t)net.total * sizeof *p0);
    float *p = malloc((size_t)net.total * sizeof *p);
    double *d = malloc((size_t)net.total * sizeof *d);
    assert_true(grad && p0 && p && d);
    int64_t off = 0;
    for (int i = 0; i < net.n_params; i++) {
        size_t n = ig_shape_numel(&pa->g.vals[grads[i]].shape);
        OK(ig_program_read(pa, grads[i], grad + off, n * sizeof *grad));
        off += (int64_t)n;
    }
    assert_int_equal(off, net.total);
    double gnorm = 0;
    for (int64_t j = 0; j < net.total; j++) gnorm += (double)grad[j] * grad[j];
    gnorm = sqrt(gnorm);
    assert_true(gnorm > 1e-2);

    mlp_loss_graph(&net, &g, &labels, &loss, true);
    OK(ig_program_create(ctx, &g, &pf));
    mlp_get_params(&net, p0);
    const float h = 1e-2f;
    int checked = 0;
    for (uint64_t dir = 0; checked < 4; dir++) {
        if (dir == 40) fail_msg("no kink-free direction in 40 tries");
        double dn = 0;
        for (int64_t j = 0; j < net.total; j++) {
            d[j] = uniform_pm1(1000 + dir, (uint64_t)j);
            dn += d[j] * d[j];
        }
        dn = sqrt(dn);
        for (int64_t j = 0; j < net.total; j++) d[j] /= dn;
        float pre_hi[MB * MH], pre_lo[MB * MH];
        for (int64_t j = 0; j < net.total; j++) p[j] = p0[j] + (float)(h * d[j]);
        mlp_set_params(&net, p);
        double L_hi = mlp_forward(&net, pf, labels, loss, pre_hi);
        /* the step actually taken, after rounding p ± h·d to f32 */
        double ana = 0, len2 = 0;
        for (int64_t j = 0; j < net.total; j++) {
            float lo = p0[j] - (float)(h * d[j]);
            double dj = (double)p[j] - (double)lo;
            ana += grad[j] * dj;
            len2 += dj * dj;
            p[j] = lo;
        }
        mlp_set_params(&net, p);
        double L_lo = mlp_forward(&net, pf, labels, loss, pre_lo);
        bool crosses = false;
        for (int j = 0; j < MB * MH; j++) crosses |= (pre_hi[j] > 0) != (pre_lo[j] > 0);
        if (crosses) continue;
        double len = sqrt(len2), num = (L_hi - L_lo) / len;
        ana /= len;
        double err = fabs(num - ana) / gnorm;
        print_message("direction %d: analytic %+.6f numerical %+.6f, error / |grad| %.2e\n", checked, ana, num, err);
        if (!(err < 1e-2)) fail_msg("direction %d: error %.3e relative to |grad| %.3e", checked, err, gnorm);
        checked++;
    }
    mlp_set_params(&net, p0);
    ig_program_destroy(pa);
    ig_program_destroy(pf);
    free(grad);
    free(p0);
    free(p);
    free(d);
    ig_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_covers_every_op),
        cmocka_unit_test_setup_teardown(test_ops, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_channel_sum, setup_cpu_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_mlp_directional, setup_cpu_ctx, teardown_ctx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
