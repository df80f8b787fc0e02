#!/usr/bin/env python3
"""weights_torch.py — safetensors weights between ingot and PyTorch, both ways, for the presets
(mlp, cnn, resnet18) and their PyTorch twins whose submodules are named as ingot names its
layers: ingot's file loads with load_state_dict(strict=True) and the two give the same outputs
on a fixed input; a PyTorch state_dict saved with safetensors loads into ingot (strict) and
gives PyTorch's outputs; ingot saves it again unchanged (num_batches_tracked included).
ingot's side is $INGOT_BIN/weights_helper."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
from torch_train_step import ResNet18  # noqa: E402  (the benchmark's twin of the preset)

HELPER = os.path.join(os.environ["INGOT_BIN"], "weights_helper")
TOL = 1e-5


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 512), nn.Linear(512, 512), nn.Linear(512, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 32, 3, padding=1), nn.Conv2d(32, 64, 3, padding=1)
        self.fc1, self.fc2 = nn.Linear(3136, 128), nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


PRESETS = {"mlp": (MLP, (1, 28, 28)), "cnn": (CNN, (1, 28, 28)), "resnet18": (ResNet18, (3, 32, 32))}


def helper(*args):
    subprocess.run([HELPER, *args], check=True)


def close(name, got, want):
    err = (got - want).abs().max().item()
    scale = max(1.0, want.abs().max().item())
    print(f"{name}: max |ingot - torch| = {err:.3g} (outputs up to {scale:.3g})")
    assert err <= TOL * scale, f"{name}: outputs differ by {err}"


def check(preset, tmp):
    module, shape = PRESETS[preset]
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((2, *shape)).astype(np.float32))
    xs = os.path.join(tmp, "x.safetensors")
    save_file({"x": x.contiguous()}, xs)

    # ingot -> torch
    a, ya = (os.path.join(tmp, f"{preset}_{n}.safetensors") for n in ("ingot", "ingot_y"))
    helper("save", preset, a, "2")
    model = module()
    model.load_state_dict(load_file(a), strict=True)
    model.eval()
    helper("predict", preset, a, xs, ya)
    with torch.no_grad():
        close(f"{preset}: ingot's weights in torch", load_file(ya)["y"], model(x))

    # torch -> ingot, running statistics and batch counts made non-trivial
    torch.manual_seed(1)
    model = module()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
            m.num_batches_tracked.fill_(3)
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    b, yb, c = (os.path.join(tmp, f"{preset}_{n}.safetensors") for n in ("torch", "torch_y", "resaved"))
    save_file(sd, b)
    model.eval()
    helper("predict", preset, b, xs, yb)
    with torch.no_grad():
        close(f"{preset}: torch's weights in ingot", load_file(yb)["y"], model(x))
    helper("resave", preset, b, c)
    back = load_file(c)
    assert back.keys() == sd.keys(), f"{preset}: names differ: {sorted(set(back) ^ set(sd))}"
    for k, v in sd.items():
        assert back[k].dtype == v.dtype and torch.equal(back[k], v), f"{preset}: {k} changed on the way"
    model.load_state_dict(back, strict=True)


def main():
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        for preset in PRESETS:
            check(preset, tmp)
    print("weights travel both ways")


if __name__ == "__main__":
    main()
