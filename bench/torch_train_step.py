#!/usr/bin/env python3
"""torch_train_step.py — a workload of WORKLOADS.md (mlp_small, cnn_small, resnet18) in
PyTorch, timed the way bench_train_step times ingot: warm-up steps, then windows of steps with
the device synchronised only at window edges, and the median window's ms/step. Prints one JSON
line per mode.

    torch_train_step.py [--workload mlp_small|cnn_small|resnet18] [--device cpu|cuda]
                        [--mode eager|graph|all] [--threads N] [--warmup N] [--steps M] [--windows W]

Modes: eager (the default on the CPU) and, on CUDA, graph: the whole step (forward, loss,
backward, capturable optimizer) captured once as a CUDA graph and replayed. fp32 throughout:
TF32 is off for matmuls and cuDNN convolutions; resnet18 runs channels_last on CUDA.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CLASSES, N_BATCHES = 10, 4


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet18(nn.Module):
    # the CIFAR ResNet-18 of WORKLOADS.md, named as ingot's "resnet18" preset names its layers
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        stages, cin = [], 64
        for i, (cout, stride) in enumerate(((64, 1), (128, 2), (256, 2), (512, 2))):
            stages.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.linear = nn.Linear(512, CLASSES)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def mlp_small():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, CLASSES))


def cnn_small():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, CLASSES))


# name: (model, batch, input shape, optimizer, forward matmul/conv FLOPs per sample)
WORKLOADS = {
    "mlp_small": (mlp_small, 128, (1, 28, 28), "adam", 2.0 * (784 * 512 + 512 * 512 + 512 * 10)),
    "cnn_small": (cnn_small, 128, (1, 28, 28), "adam",
                  2.0 * (28 * 28 * 32 * 9 + 14 * 14 * 64 * 32 * 9 + 3136 * 128 + 128 * 10)),
    "resnet18": (ResNet18, 256, (3, 32, 32), "sgd", None),
}


def conv_flops(model, shape):
    # 2 × multiply-adds of every conv and linear layer for one sample, counted with hooks
    total = [0.0]

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            total[0] += 2.0 * out.numel() * mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1]
        elif isinstance(mod, nn.Linear):
            total[0] += 2.0 * out.numel() * mod.in_features
    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model.eval()(torch.zeros(1, *shape))
    model.train()
    for h in hs:
        h.remove()
    return total[0]


def make_data(device, batch, shape):
    # fixed random batches, made once and cycled: inputs uniform in [-1, 1), labels uniform
    g = torch.Generator().manual_seed(0)
    xs = [(torch.rand(batch, *shape, generator=g) * 2 - 1).to(device) for _ in range(N_BATCHES)]
    ys = [torch.randint(0, CLASSES, (batch,), generator=g).to(device) for _ in range(N_BATCHES)]
    return xs, ys


def make_model(workload, device):
    torch.manual_seed(42)
    model = WORKLOADS[workload][0]().to(device)
    if workload == "resnet18" and device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    return model


def make_optimizer(workload, model, capturable):
    if WORKLOADS[workload][3] == "sgd":
        return torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    return torch.optim.Adam(model.parameters(), lr=1e-3, capturable=capturable)


def eager_stepper(workload, device, xs, ys):
    model = make_model(workload, device)
    opt = make_optimizer(workload, model, False)

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xs[i % N_BATCHES]), ys[i % N_BATCHES])
        loss.backward()
        opt.step()
        return loss

    return step


def graph_stepper(workload, device, xs, ys):
    model = make_model(workload, device)
    opt = make_optimizer(workload, model, True)
    static_x, static_y = xs[0].clone(), ys[0].clone()

    def body():
        loss = F.cross_entropy(model(static_x), static_y)
        loss.backward()
        opt.step()
        return loss

    # warm up on a side stream before capture, as torch.cuda.graphs requires
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            body()
    torch.cuda.current_stream().wait_stream(side)
    # gradients stay allocated (no set_to_none inside the graph): backward writes them in place
    opt.zero_grad(set_to_none=True)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_loss = body()

    def step(i):
        static_x.copy_(xs[i % N_BATCHES])
        static_y.copy_(ys[i % N_BATCHES])
        graph.replay()
        return static_loss

    return step


def run(mode, args):
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    _, batch, shape, _, flops = WORKLOADS[args.workload]
    flops = 3.0 * batch * (flops or conv_flops(WORKLOADS[args.workload][0](), shape))
    xs, ys = make_data(device, batch, shape)
    step = (graph_stepper if mode == "graph" else eager_stepper)(args.workload, device, xs, ys)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    i = 0
    for _ in range(args.warmup):
        step(i)
        i += 1
    sync()
    ms = []
    loss = None
    for _ in range(args.windows):
        t0 = time.perf_counter()
        for _ in range(args.steps):
            loss = step(i)
            i += 1
        sync()
        ms.append((time.perf_counter() - t0) * 1e3 / args.steps)
    median = statistics.median(ms)
    out = {
        "workload": args.workload, "framework": "pytorch", "version": torch.__version__, "device": args.device,
        "mode": mode, "batch": batch, "warmup": args.warmup, "steps": args.steps, "windows": args.windows,
        "ms_per_step": round(median, 4), "ms_per_step_min": round(min(ms), 4),
        "samples_per_s": round(batch * 1e3 / median, 1), "gflops": round(flops / (median * 1e6), 2),
        "final_loss": float(loss.item()),
    }
    if device.type == "cpu":
        out["threads"] = torch.get_num_threads()
        out["openblas_coretype"] = os.environ.get("OPENBLAS_CORETYPE", "")
    else:
        out["gpu"] = torch.cuda.get_device_name()
        out["max_memory_allocated"] = torch.cuda.max_memory_allocated()
    print(json.dumps(out), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workload", choices=sorted(WORKLOADS), default="mlp_small")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--mode", choices=["eager", "graph", "all"], default=None,
                    help="default: eager on the CPU, all on CUDA")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--windows", type=int, default=7)
    args = ap.parse_args()
    if min(args.threads, args.warmup, args.steps, args.windows) < 1:
        ap.error("--threads, --warmup, --steps and --windows must be positive")
    mode = args.mode or ("eager" if args.device == "cpu" else "all")
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_train_step.py: CUDA is not available to this PyTorch")
    if args.device == "cpu" and mode != "eager":
        sys.exit("torch_train_step.py: CUDA graphs need --device cuda")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_num_threads(args.threads)
    for m in (["eager", "graph"] if mode == "all" else [mode]):
        run(m, args)


if __name__ == "__main__":
    main()
