"""What the ONNX tests share: ingot's onnx_tool (tests/onnx_tool.c) and the tolerance."""
import os
import subprocess

import numpy as np

RTOL = 1e-4


def tool(*args):
    """Runs onnx_tool with the arguments; fails the test with its output if it fails."""
    exe = os.path.join(os.environ["INGOT_BIN"], "onnx_tool")
    r = subprocess.run([exe, *map(str, args)], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"onnx_tool {' '.join(map(str, args))} failed:\n{r.stdout}{r.stderr}")
    return r.stdout


def assert_close(ours, ref, what):
    """Within RTOL of the reference, relative to each value and, for values near 0, to the
    largest one (a difference of rounding in a sum near 0 is not 1e-4 of that 0)."""
    ours = np.asarray(ours, dtype=np.float64).reshape(ref.shape)
    ref = np.asarray(ref, dtype=np.float64)
    err = np.abs(ours - ref) / (np.abs(ref) + 1e-2 * np.abs(ref).max())
    worst = float(err.max())
    print(f"{what}: largest relative difference {worst:.2e} over {ref.size} values")
    if not worst <= RTOL:
        raise SystemExit(f"{what}: differs by {worst:.2e} relative (> {RTOL})")
