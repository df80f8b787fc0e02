"""An ONNX file that ingot exports (onnx_tool export MODEL: the cnn_fmnist network, the
resnet18 preset or the zoo of every layer kind) passes the ONNX checker's full check, and
onnxruntime's output on the same input matches ig_predict's within 1e-4 relative, at the
batch size exported and at another (the batch dimension is symbolic).

    onnx_export.py MODEL
"""
import os
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

from onnx_compare import assert_close, tool

BATCH = 4


def main(model):
    with tempfile.TemporaryDirectory() as d:
        path, x_path, y_path = (os.path.join(d, n) for n in ("m.onnx", "x.f32", "y.f32"))
        tool("export", model, BATCH, path, x_path, y_path)
        m = onnx.load(path)
        onnx.checker.check_model(m, full_check=True)
        print(f"{model}: opset {m.opset_import[0].version}, {len(m.graph.node)} nodes, "
              f"{len(m.graph.initializer)} initializers; the checker accepts it")
        dims = m.graph.input[0].type.tensor_type.shape.dim
        assert dims[0].dim_param == "N", dims[0]
        x = np.fromfile(x_path, dtype="<f4").reshape([BATCH] + [v.dim_value for v in dims[1:]])
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        (ref,) = session.run(["output"], {"input": x})
        assert_close(np.fromfile(y_path, dtype="<f4"), ref, f"{model} (batch {BATCH})")
        (one,) = session.run(["output"], {"input": x[:1]})
        assert_close(one, ref[:1], f"{model} (batch 1 against batch {BATCH})")


if __name__ == "__main__":
    main(sys.argv[1])
