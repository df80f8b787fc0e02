#!/usr/bin/env bash
# compare_gpu.sh — ingot against PyTorch on one GPU, in one run: the mlp_small workload
# (ingot with data resident on the GPU and with host batches; PyTorch eager and whole-step
# CUDA graph, data on the GPU), memory beside PyTorch's max_memory_allocated, whole
# Fashion-MNIST epochs from a resident dataset, and one Adam update over mlp_large's 138 M
# parameters beside PyTorch's fused Adam and the bytes-moved floor. Prints tables last.
#
#   bench/compare_gpu.sh        (BUILD=build-gpu, PYTHON=python3 by default)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-gpu}
PYTHON=${PYTHON:-python3}
ARGS=(--warmup 50 --steps 200 --windows 9)

[ -f "$BUILD/CMakeCache.txt" ] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DINGOT_CUDA=ON >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target bench_mlp_small bench_fmnist_epoch bench_optimizer_update >/dev/null || exit 1

gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n1)
echo "GPU: $gpu"
ingot_res=$("$BUILD/bin/bench_mlp_small" --device cuda --feed resident --json "${ARGS[@]}") || exit 1
ingot_batch=$("$BUILD/bin/bench_mlp_small" --device cuda --feed batch --json "${ARGS[@]}") || exit 1
torch_all=$("$PYTHON" bench/torch_mlp_small.py --device cuda --mode all "${ARGS[@]}") || exit 1
echo "$ingot_res"; echo "$ingot_batch"; echo "$torch_all"
"$BUILD/bin/bench_fmnist_epoch" --device cuda --epochs 8 || exit 1

"$PYTHON" - "$ingot_res" "$ingot_batch" "$torch_all" "$gpu" <<'PY'
import json, sys
res, batch = json.loads(sys.argv[1]), json.loads(sys.argv[2])
torch = [json.loads(l) for l in sys.argv[3].splitlines() if l.strip()]
eager = next(t for t in torch if t["mode"] == "eager")
graph = next(t for t in torch if t["mode"] == "graph")
best = min(eager["ms_per_step"], graph["ms_per_step"])
mib = lambda b: b / 1048576
print(f"\nmlp_small on {sys.argv[4]} (median of {res['windows']} windows of {res['steps']} steps)")
print(f"{'run':34s} {'ms/step':>9s} {'samples/s':>12s} {'vs best PyTorch':>16s}")
for name, r in (("ingot, resident data", res), ("ingot, host batches", batch),
                ("PyTorch eager", eager), ("PyTorch whole-step CUDA graph", graph)):
    print(f"{name:34s} {r['ms_per_step']:9.4f} {r['samples_per_s']:12,.0f} {best / r['ms_per_step']:15.2f}x")
print(f"memory: ingot device peak {mib(res['device_peak_bytes']):.1f} MiB (arena {mib(res['arena_planned_bytes']):.2f} MiB "
      f"planned vs {mib(res['arena_unplanned_bytes']):.2f} unplanned); PyTorch max_memory_allocated "
      f"eager {mib(eager.get('max_memory_allocated', 0)):.1f} MiB, graph {mib(graph.get('max_memory_allocated', 0)):.1f} MiB")
PY

opt_ingot=$("$BUILD/bin/bench_optimizer_update" --device cuda --json) || exit 1
opt_torch=$("$PYTHON" bench/torch_optimizer_update.py) || exit 1
echo "$opt_ingot"; echo "$opt_torch"
"$PYTHON" - "$opt_ingot" "$opt_torch" <<'PY'
import json, sys
i, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
floor = i['bytes_moved'] / (t['copy_gb_per_s'] * 1e6)
print(f"\nAdam update over {i['params']:,} parameters ({i['bytes_moved'] / 1e9:.2f} GB moved); copy bandwidth "
      f"{t['copy_gb_per_s']:.0f} GB/s (read + write), so the floor is {floor:.3f} ms")
print(f"ingot    {i['ms']:.3f} ms  {i['gb_per_s']:.0f} GB/s  {i['ms'] / floor:.2f}x the floor")
print(f"PyTorch  {t['ms']:.3f} ms  {t['gb_per_s']:.0f} GB/s  {t['ms'] / floor:.2f}x the floor (fused Adam, {t['version']})")
PY
