/* chains.c — the elementwise node chains that stand for Swish and GELU in opset 17, in the
 * order torch.onnx.export writes them, so that the importer reads PyTorch's files and ingot's
 * alike with one matcher. */
#include "onnx/onnx_format.h"
#include "ops/act_math.h"

#include <stddef.h>

const ig_onnx_chain ig_onnx_chains[IG_ONNX_N_CHAINS] = {
    {IG_ACT_SWISH, 2, {{"Sigmoid", IG_ONNX_UNARY, 0}, {"Mul", IG_ONNX_X, 0}}},
    {IG_ACT_GELU, 5,
     {{"Div", IG_ONNX_CONST, 1.41421356f},
      {"Erf", IG_ONNX_UNARY, 0},
      {"Add", IG_ONNX_CONST, 1.0f},
      {"Mul", IG_ONNX_X, 0},
      {"Mul", IG_ONNX_CONST, 0.5f}}},
    {IG_ACT_GELU_TANH, 9,
     {{"Mul", IG_ONNX_X, 0},
      {"Mul", IG_ONNX_X, 0},
      {"Mul", IG_ONNX_CONST, IG_GELU_C},
      {"Add", IG_ONNX_X, 0},
      {"Mul", IG_ONNX_CONST, IG_GELU_K},
      {"Tanh", IG_ONNX_UNARY, 0},
      {"Add", IG_ONNX_CONST, 1.0f},
      {"Mul", IG_ONNX_X, 0},
      {"Mul", IG_ONNX_CONST, 0.5f}}},
};

const ig_onnx_chain *ig_onnx_chain_of(int act)
{
    for (int i = 0; i < IG_ONNX_N_CHAINS; i++)
        if (ig_onnx_chains[i].act == act) return &ig_onnx_chains[i];
    return NULL;
}
