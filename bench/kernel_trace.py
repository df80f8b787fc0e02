#!/usr/bin/env python3
"""One step of a kernel trace (bench/kernel_trace.c): each kernel's start relative to the step's
first kernel, its duration, its gap after the kernel before it on the same stream (negative: it
was launched early and waited), its stream, grid and name. A step starts at each kernel whose
name contains --first (by default the resident batch's gather, which runs once a step: first,
or at the end when the step fetches the next one's batch); the last whole step is shown."""
import argparse
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("trace")
    ap.add_argument("--first", default="gather_kernel", help="a name part of the step's first kernel")
    ap.add_argument("--width", type=int, default=90, help="characters of each name shown")
    a = ap.parse_args()
    rows = []
    with open(a.trace) as f:
        for line in f:
            start, end, stream, gx, gy, gz, name = line.rstrip("\n").split(" ", 6)
            rows.append((int(start), int(end), int(stream), f"{gx}x{gy}x{gz}", name))
    rows.sort()
    starts = [i for i, r in enumerate(rows) if a.first in r[4]]
    if len(starts) < 2:
        sys.exit(f"kernel_trace.py: fewer than two kernels named like '{a.first}' in {a.trace}")
    lo, hi = starts[-2], starts[-1]
    t0 = rows[lo][0]
    print(f"step: {(rows[hi][0] - t0) / 1e3:.2f} us, {hi - lo} kernels")
    print(f"{'start':>8s} {'us':>7s} {'gap':>7s} {'stream':>6s} {'grid':12s} name")
    last_end = {}
    for start, end, stream, grid, name in rows[lo:hi]:
        gap = (start - last_end[stream]) / 1e3 if stream in last_end else 0.0
        last_end[stream] = end
        print(f"{(start - t0) / 1e3:8.2f} {(end - start) / 1e3:7.2f} {gap:7.2f} {stream:6d} {grid:12s} {name[:a.width]}")


if __name__ == "__main__":
    main()
