"""The importer's other paths, on graphs made with onnx.helper, against onnxruntime: MatMul +
Add as a dense layer, Gemm with transB=0 and alpha/beta, GlobalAveragePool without a Flatten,
Reshape by a Constant with -1 and 0, Identity, Dropout with a ratio input, AveragePool with
ceil_mode where it changes nothing, 2-D batch norm, LeakyRelu's default slope, Softmax along
axis 1 of a 2-D value, and opset 20's Gelu. ingot's outputs (onnx_tool predict)
must match onnxruntime's within 1e-4 relative."""
import os
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from onnx_compare import assert_close, tool

BATCH = 3
rng = np.random.default_rng(0)


def const(name, shape, scale=0.5):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def model(nodes, inits, in_shape, out_dim, opset):
    graph = helper.make_graph(
        nodes, "ops", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", *in_shape])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", out_dim])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                             ir_version=9 if opset >= 19 else 7)


def convolutional():
    """conv → AveragePool (ceil_mode, exact) → GlobalAveragePool → Reshape [0, -1] via an
    Identity of a Constant → Dropout(ratio input) → MatMul + Add → LeakyRelu → Gemm (transB=0,
    alpha, beta) → BatchNormalization 2-D → Softmax (axis 1 of the 2-D value)."""
    nodes = [
        helper.make_node("Conv", ["input", "cw", "cb"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("AveragePool", ["c"], ["p"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        helper.make_node("GlobalAveragePool", ["p"], ["g"]),
        helper.make_node("Constant", [], ["shape0"], value=numpy_helper.from_array(np.array([0, -1], np.int64))),
        helper.make_node("Identity", ["shape0"], ["shape"]),
        helper.make_node("Reshape", ["g", "shape"], ["r"]),
        helper.make_node("Dropout", ["r", "ratio"], ["d"]),
        helper.make_node("MatMul", ["d", "mw"], ["mm"]),
        helper.make_node("Add", ["mm", "mb"], ["dense"]),
        helper.make_node("LeakyRelu", ["dense"], ["l"]),
        helper.make_node("Gemm", ["l", "gw", "gb"], ["gemm"], alpha=0.7, beta=1.3),
        helper.make_node("BatchNormalization", ["gemm", "s", "b", "mean", "var"], ["bn"], epsilon=1e-3),
        helper.make_node("Softmax", ["bn"], ["output"], axis=1),
    ]
    inits = [const("cw", [6, 2, 3, 3]), const("cb", [6]), numpy_helper.from_array(np.array(0.3, np.float32), "ratio"),
             const("mw", [6, 5]), const("mb", [5]), const("gw", [5, 4]), const("gb", [4]), const("s", [4]),
             const("b", [4]), const("mean", [4]),
             numpy_helper.from_array(rng.uniform(0.5, 2, [4]).astype(np.float32), "var")]
    return model(nodes, inits, [2, 6, 6], 4, 13)


def gelu20():
    """Opset 20's Gelu, both forms, between dense layers."""
    nodes = [
        helper.make_node("Gemm", ["input", "w1"], ["h"], transB=1),
        helper.make_node("Gelu", ["h"], ["g1"]),
        helper.make_node("Gelu", ["g1"], ["g2"], approximate="tanh"),
        helper.make_node("Gemm", ["g2", "w2", "b2"], ["output"], transB=1),
    ]
    return model(nodes, [const("w1", [8, 5]), const("w2", [3, 8]), const("b2", [3])], [5], 3, 20)


def main():
    with tempfile.TemporaryDirectory() as d:
        for name, m, check in (("convolutional", convolutional(), True), ("gelu20", gelu20(), False)):
            if check:  # Debian's onnx 1.12 does not know opset 20
                onnx.checker.check_model(m, full_check=True)
            path, x_path, y_path = (os.path.join(d, n) for n in (f"{name}.onnx", "x.f32", "y.f32"))
            onnx.save(m, path)
            shape = [BATCH] + [v.dim_value for v in m.graph.input[0].type.tensor_type.shape.dim[1:]]
            x = rng.uniform(-2, 2, shape).astype(np.float32)
            x.tofile(x_path)
            (ref,) = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"input": x})
            tool("predict", path, x_path, BATCH, y_path)
            assert_close(np.fromfile(y_path, dtype="<f4"), ref, name)


if __name__ == "__main__":
    main()
