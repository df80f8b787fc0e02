/* onnx_format.h — what the ONNX exporter and importer share: the protobuf-c types generated
 * from Debian's onnx.proto at build time, the opset written, and the node chains that stand
 * for activations the opset has no operator for. docs/onnx.md describes the mapping. */
#ifndef IG_ONNX_FORMAT_H
#define IG_ONNX_FORMAT_H

#include "onnx.pb-c.h"

/* Opset 17 is the newest that Debian 12's onnx (1.12) knows, so its checker and tools accept
 * what ingot writes; IR version 8 goes with it. It has no Gelu (opset 20) and no SiLU: both
 * are written as chains of elementwise nodes, the ones torch.onnx.export writes. */
#define IG_ONNX_OPSET 17
#define IG_ONNX_IR_VERSION 8

/* The operand of a chain step besides the previous step's result. */
typedef enum ig_onnx_operand {
    IG_ONNX_UNARY = 0, /* none: a unary op of the previous result */
    IG_ONNX_X,         /* the chain's input x */
    IG_ONNX_CONST,     /* a scalar f32 constant */
} ig_onnx_operand;

typedef struct ig_onnx_step {
    const char *op; /* Div takes the previous result first; Add and Mul take either order */
    ig_onnx_operand operand;
    float value; /* of IG_ONNX_CONST */
} ig_onnx_step;

#define IG_ONNX_MAX_STEPS 9

/* f(x) as nodes, each applied to the previous one's result (x for the first). */
typedef struct ig_onnx_chain {
    int act; /* ig_act */
    int n_steps;
    ig_onnx_step steps[IG_ONNX_MAX_STEPS];
} ig_onnx_chain;

/* Swish (x·σ(x)), GELU (0.5·x·(1 + erf(x/√2))) and GELU's tanh approximation. */
#define IG_ONNX_N_CHAINS 3
extern const ig_onnx_chain ig_onnx_chains[IG_ONNX_N_CHAINS];

/* The chain of activation kind `act`, or NULL where the opset has an operator for it. */
const ig_onnx_chain *ig_onnx_chain_of(int act);

#endif /* IG_ONNX_FORMAT_H */
