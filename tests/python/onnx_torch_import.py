"""The cnn_small network exported by PyTorch's torch.onnx.export (Debian's torch 1.13) imports
into ingot and gives PyTorch's outputs within 1e-4 relative; the imported model trains. Two
exports: torch.flatten with a symbolic batch (Flatten), and x.view(-1, ...) with a fixed one
(Constant + Reshape). Then PyTorch's node chains for GELU (both forms) and SiLU at opset 17,
with batch norm kept apart from its convolution."""
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn

from onnx_compare import assert_close, tool

BATCH = 4


class CnnSmall(nn.Module):
    """ingot's "cnn" preset: conv 32 → ReLU → max-pool 2 → conv 64 → ReLU → max-pool 2 →
    flatten → dense 128 → ReLU → dense 10."""

    def __init__(self, view):
        super().__init__()
        self.view = view
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = x.view(-1, 64 * 7 * 7) if self.view else torch.flatten(x, 1)
        return self.fc2(torch.relu(self.fc1(x)))


class Activations(nn.Module):
    """conv → batch norm → GELU → SiLU → GELU (tanh) → dense → softmax."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 26 * 26, 10)
        self.bn.running_mean.uniform_(-1, 1)
        self.bn.running_var.uniform_(0.5, 2)

    def forward(self, x):
        x = nn.functional.silu(nn.functional.gelu(self.bn(self.conv(x))))
        x = nn.functional.gelu(x, approximate="tanh")
        return torch.softmax(self.fc(torch.flatten(x, 1)), -1)


def check(net, x, path, x_path, y_path, train, **export):
    with torch.no_grad():
        ref = net(x).numpy()
    torch.onnx.export(net, x, path, input_names=["input"], output_names=["output"], **export)
    tool("predict", path, x_path, BATCH, y_path)
    assert_close(np.fromfile(y_path, dtype="<f4"), ref, os.path.basename(path))
    if train:
        print(tool("train", path, x_path, BATCH, 5).strip().splitlines()[-1])


def main():
    torch.manual_seed(0)
    x = torch.randn(BATCH, 1, 28, 28)
    with tempfile.TemporaryDirectory() as d:
        x_path, y_path = os.path.join(d, "x.f32"), os.path.join(d, "y.f32")
        x.numpy().astype("<f4").tofile(x_path)
        batch_axis = {"input": {0: "batch"}, "output": {0: "batch"}}
        check(CnnSmall(False).eval(), x, os.path.join(d, "cnn_flatten.onnx"), x_path, y_path, True,
              dynamic_axes=batch_axis)
        check(CnnSmall(True).eval(), x, os.path.join(d, "cnn_view.onnx"), x_path, y_path, True)
        check(Activations().eval(), x, os.path.join(d, "activations.onnx"), x_path, y_path, False,
              dynamic_axes=batch_axis, opset_version=17, do_constant_folding=False)


if __name__ == "__main__":
    main()
