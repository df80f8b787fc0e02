#!/usr/bin/env bash
# compare_gpu.sh — ingot against PyTorch on one GPU, in one run: each workload (mlp_small,
# cnn_small, resnet18; ingot with data resident on the GPU, mlp_small also with host batches;
# PyTorch eager and whole-step CUDA graph, data on the GPU), memory beside PyTorch's
# max_memory_allocated, whole Fashion-MNIST epochs from a resident dataset, and one Adam update
# over mlp_large's 138 M parameters beside PyTorch's fused Adam and the bytes-moved floor.
#
#   bench/compare_gpu.sh        (BUILD=build-gpu, PYTHON=python3, WORKLOADS="mlp_small cnn_small resnet18")
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-gpu}
PYTHON=${PYTHON:-python3}
WORKLOADS=${WORKLOADS:-mlp_small cnn_small resnet18}

[ -f "$BUILD/CMakeCache.txt" ] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DINGOT_CUDA=ON >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target bench_train_step bench_fmnist_epoch bench_optimizer_update >/dev/null || exit 1

gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n1)
echo "GPU: $gpu"
for w in $WORKLOADS; do
    args=(--warmup 50 --steps 200 --windows 9)
    [ "$w" = resnet18 ] && args=(--warmup 10 --steps 20 --windows 7)
    # resident: epochs of the 4 fixed batches, as PyTorch cycles them; resident60k: epochs of
    # a Fashion-MNIST-sized dataset (468 full batches and one of 96)
    feeds=(resident resident60k)
    [ "$w" = mlp_small ] && feeds=(resident resident60k batch)
    [ "$w" = resnet18 ] && feeds=(resident)
    lines=()
    for f in "${feeds[@]}"; do
        case $f in
        resident) feed=(--feed resident) label="resident data" ;;
        resident60k) feed=(--feed resident --samples 60000) label="resident, 60000 samples" ;;
        *) feed=(--feed "$f") label="host batches" ;;
        esac
        out=$("$BUILD/bin/bench_train_step" --workload "$w" --device cuda "${feed[@]}" --json "${args[@]}") || exit 1
        lines+=("$label|$out")
    done
    torch_all=$("$PYTHON" bench/torch_train_step.py --workload "$w" --device cuda --mode all "${args[@]}") || exit 1
    printf '%s\n' "${lines[@]}" "$torch_all"
    "$PYTHON" - "$gpu" "$torch_all" "${lines[@]}" <<'PY'
import json, sys
torch = [json.loads(l) for l in sys.argv[2].splitlines() if l.strip()]
ours = [(a.split("|", 1)[0], json.loads(a.split("|", 1)[1])) for a in sys.argv[3:]]
eager = next(t for t in torch if t["mode"] == "eager")
graph = next(t for t in torch if t["mode"] == "graph")
best = min(eager["ms_per_step"], graph["ms_per_step"])
mib = lambda b: b / 1048576
res = ours[0][1]
print(f"\n{res['workload']} on {sys.argv[1]} (median of {res['windows']} windows of {res['steps']} steps)")
print(f"{'run':34s} {'ms/step':>9s} {'samples/s':>12s} {'GFLOP/s':>9s} {'vs best PyTorch':>16s}")
rows = [(f"ingot, {label}", r) for label, r in ours]
rows += [("PyTorch eager", eager), ("PyTorch whole-step CUDA graph", graph)]
for name, r in rows:
    print(f"{name:34s} {r['ms_per_step']:9.4f} {r['samples_per_s']:12,.0f} {r['gflops']:9.0f} {best / r['ms_per_step']:15.2f}x")
print(f"memory: ingot device peak {mib(res['device_peak_bytes']):.1f} MiB (arena {mib(res['arena_planned_bytes']):.2f} MiB "
      f"planned vs {mib(res['arena_unplanned_bytes']):.2f} unplanned); PyTorch max_memory_allocated "
      f"eager {mib(eager.get('max_memory_allocated', 0)):.1f} MiB, graph {mib(graph.get('max_memory_allocated', 0)):.1f} MiB")
PY
done
for p in mlp cnn; do "$BUILD/bin/bench_fmnist_epoch" --preset $p --device cuda --epochs 8 || exit 1; done

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
