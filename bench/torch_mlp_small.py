#!/usr/bin/env python3
"""torch_mlp_small.py — the mlp_small workload (bench/WORKLOADS.md) in PyTorch, timed the way
bench_mlp_small times ingot: warm-up steps, then windows of steps with the device synchronised
only at window edges, and the median window's ms/step. Prints one JSON line per mode.

    torch_mlp_small.py [--device cpu|cuda] [--mode eager|graph|all] [--threads N]
                       [--warmup N] [--steps M] [--windows W]

Modes: eager (the default on the CPU) and, on CUDA, graph: the whole step (forward, loss,
backward, capturable Adam) captured once as a CUDA graph and replayed. fp32 throughout: TF32
matmuls are off.
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

BATCH, IN, HID, CLASSES, N_BATCHES = 128, 784, 512, 10, 4
FLOPS = 3.0 * 2.0 * BATCH * (IN * HID + HID * HID + HID * CLASSES)


def make_data(device):
    # fixed random batches, made once and cycled: inputs uniform in [-1, 1), labels uniform
    g = torch.Generator().manual_seed(0)
    xs = [(torch.rand(BATCH, 1, 28, 28, generator=g) * 2 - 1).to(device) for _ in range(N_BATCHES)]
    ys = [torch.randint(0, CLASSES, (BATCH,), generator=g).to(device) for _ in range(N_BATCHES)]
    return xs, ys


def make_model(device):
    torch.manual_seed(42)
    return nn.Sequential(nn.Flatten(), nn.Linear(IN, HID), nn.ReLU(), nn.Linear(HID, HID), nn.ReLU(),
                         nn.Linear(HID, CLASSES)).to(device)


def eager_stepper(device, xs, ys):
    model = make_model(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xs[i % N_BATCHES]), ys[i % N_BATCHES])
        loss.backward()
        opt.step()
        return loss

    return step


def graph_stepper(device, xs, ys):
    model = make_model(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, capturable=True)
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
    xs, ys = make_data(device)
    step = (graph_stepper if mode == "graph" else eager_stepper)(device, xs, ys)
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
        "workload": "mlp_small", "framework": "pytorch", "version": torch.__version__, "device": args.device,
        "mode": mode, "batch": BATCH, "warmup": args.warmup, "steps": args.steps, "windows": args.windows,
        "ms_per_step": round(median, 4), "ms_per_step_min": round(min(ms), 4),
        "samples_per_s": round(BATCH * 1e3 / median, 1), "gflops": round(FLOPS / (median * 1e6), 2),
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
        sys.exit("torch_mlp_small.py: CUDA is not available to this PyTorch")
    if args.device == "cpu" and mode != "eager":
        sys.exit("torch_mlp_small.py: CUDA graphs need --device cuda")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_num_threads(args.threads)
    for m in (["eager", "graph"] if mode == "all" else [mode]):
        run(m, args)


if __name__ == "__main__":
    main()
