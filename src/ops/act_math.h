/* act_math.h — the per-element math of the activations, shared by the CPU and CUDA kernels
 * so that both backends compute the same thing. PyTorch's definitions. */
#ifndef IG_ACT_MATH_H
#define IG_ACT_MATH_H

#include <math.h>

#include "ops/hd.h"

/* Activation kinds. RELU and TANH are ops of their own (and fuse into dense's epilogue:
 * DENSE's attrs.i[1]); the rest are kinds of the ACT op. ACT_GRAD takes any kind. */
typedef enum ig_act {
    IG_ACT_NONE = 0,
    IG_ACT_RELU,
    IG_ACT_TANH,
    IG_ACT_LEAKY_RELU,
    IG_ACT_ELU,
    IG_ACT_SIGMOID,
    IG_ACT_SWISH,
    IG_ACT_GELU,
    IG_ACT_GELU_TANH,
    IG_ACT_KINDS
} ig_act;

static IG_HD inline float ig_sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

/* √(2/π) and the cubic coefficient of GELU's tanh approximation */
#define IG_GELU_K 0.7978845608028654f
#define IG_GELU_C 0.044715f

/* f(x) of activation `act` with parameter p (LeakyReLU's slope, ELU's alpha). */
static IG_HD inline float ig_act_fwd(int act, float p, float x)
{
    switch (act) {
    case IG_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case IG_ACT_TANH: return tanhf(x);
    case IG_ACT_LEAKY_RELU: return x > 0.0f ? x : p * x;
    case IG_ACT_ELU: return x > 0.0f ? x : p * expm1f(x);
    case IG_ACT_SIGMOID: return ig_sigmoidf(x);
    case IG_ACT_SWISH: return x * ig_sigmoidf(x);
    case IG_ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.7071067811865476f));
    case IG_ACT_GELU_TANH: return 0.5f * x * (1.0f + tanhf(IG_GELU_K * (x + IG_GELU_C * x * x * x)));
    default: return x;
    }
}

/* Whether f'(x) is computed from the output y alone; the others need the input x. */
static IG_HD inline int ig_act_grad_from_y(int act)
{
    return act == IG_ACT_RELU || act == IG_ACT_TANH || act == IG_ACT_SIGMOID;
}

/* f'(x), from y = f(x) for the kinds of ig_act_grad_from_y, else from x (y unused). */
static IG_HD inline float ig_act_deriv(int act, float p, float x, float y)
{
    switch (act) {
    case IG_ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
    case IG_ACT_TANH: return 1.0f - y * y;
    case IG_ACT_SIGMOID: return y * (1.0f - y);
    case IG_ACT_LEAKY_RELU: return x > 0.0f ? 1.0f : p;
    case IG_ACT_ELU: return x > 0.0f ? 1.0f : p * expf(x);
    case IG_ACT_SWISH: {
        float s = ig_sigmoidf(x);
        return s * (1.0f + x * (1.0f - s));
    }
    case IG_ACT_GELU:
        /* Φ(x) + x·φ(x) */
        return 0.5f * (1.0f + erff(x * 0.7071067811865476f)) + x * 0.3989422804014327f * expf(-0.5f * x * x);
    case IG_ACT_GELU_TANH: {
        float t = tanhf(IG_GELU_K * (x + IG_GELU_C * x * x * x));
        return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * IG_GELU_K * (1.0f + 3.0f * IG_GELU_C * x * x);
    }
    default: return 1.0f;
    }
}

#endif /* IG_ACT_MATH_H */
