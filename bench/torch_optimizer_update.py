#!/usr/bin/env python3
"""torch_optimizer_update.py — PyTorch's fused Adam (torch.optim.Adam(fused=True)) over the
mlp_large workload's parameters (its 18 tensors, 138,347,496 floats), the step alone, timed
as bench_optimizer_update times ingot's: median of 7 windows of 20 steps after a warm-up
window, synchronised at window edges; and the device's copy bandwidth (torch's copy of a
1 GiB tensor, read + write counted, median of 7 windows) that the floor is measured with.
One JSON line."""
import json
import statistics
import time

import torch


def main():
    dev = torch.device("cuda")
    shapes = []
    for _ in range(8):
        shapes += [(4096, 4096), (4096,)]
    shapes += [(1000, 4096), (1000,)]
    params = [torch.zeros(s, device=dev, requires_grad=True) for s in shapes]
    g = torch.Generator(device=dev).manual_seed(0)
    for p in params:
        p.grad = torch.rand(p.shape, device=dev, generator=g) * 2 - 1
    opt = torch.optim.Adam(params, lr=1e-3, fused=True)
    ms = []
    for w in range(-1, 7):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(20):
            opt.step()
        torch.cuda.synchronize()
        if w >= 0:
            ms.append((time.perf_counter() - t0) * 1e3 / 20)
    n = sum(p.numel() for p in params)
    med = statistics.median(ms)
    src = torch.rand(1 << 28, device=dev, generator=g)
    dst = torch.empty_like(src)
    copy_ms = []
    for w in range(-1, 7):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(20):
            dst.copy_(src)
        torch.cuda.synchronize()
        if w >= 0:
            copy_ms.append((time.perf_counter() - t0) * 1e3 / 20)
    copy_gbs = 2 * src.numel() * 4 / (statistics.median(copy_ms) * 1e6)
    print(json.dumps({"bench": "optimizer_update", "framework": "pytorch", "version": torch.__version__,
                      "optimizer": "adam fused", "params": n, "ms": round(med, 4),
                      "gb_per_s": round(28 * n / (med * 1e6), 1), "copy_gb_per_s": round(copy_gbs, 1),
                      "gpu": torch.cuda.get_device_name()}))


if __name__ == "__main__":
    main()
