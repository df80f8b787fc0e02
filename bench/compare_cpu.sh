#!/usr/bin/env bash
# compare_cpu.sh — ingot against PyTorch on this machine's CPU, in one run and with the same
# thread count, for each workload; prints both medians and the ratio.
#
#   bench/compare_cpu.sh     (env: WORKLOADS="mlp_small cnn_small", THREADS=2, REPEAT=3,
#                             BUILD=build, PYTHON=/usr/bin/python3)
#
# PyTorch is Debian's python3-torch (apt-get install python3-torch). Its intra-op thread
# count is set with torch.set_num_threads, ingot's OpenMP team with OMP_NUM_THREADS (in its
# own process). PyTorch is also run at 1 intra-op thread: this build's default, and faster
# here for mlp_small, since at 2 its OpenMP threads and OpenBLAS's contend for the cores. The
# three runs are interleaved REPEAT times, so that a slow spell of a shared machine hits all of
# them, and each figure is the median over the rounds of each run's median window.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
THREADS=${THREADS:-2}
REPEAT=${REPEAT:-3}
PYTHON=${PYTHON:-/usr/bin/python3}
WORKLOADS=${WORKLOADS:-mlp_small cnn_small}
ARGS=(--warmup 20 --steps 50 --windows 7)

[ -f "$BUILD/CMakeCache.txt" ] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target bench_train_step >/dev/null
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
    echo "compare_cpu.sh: $PYTHON cannot import torch (apt-get install python3-torch)" >&2
    exit 1
fi

cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)
for w in $WORKLOADS; do
    args=("${ARGS[@]}")
    [ "$w" = resnet18 ] && args=(--warmup 2 --steps 3 --windows 3)
    echo "$w, CPU: $cpu, $(nproc) cores, $THREADS threads, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
    lines=()
    for _ in $(seq "$REPEAT"); do
        lines+=("$(OMP_NUM_THREADS=$THREADS "$BUILD/bin/bench_train_step" --workload "$w" --device cpu --json "${args[@]}")")
        lines+=("$("$PYTHON" bench/torch_train_step.py --workload "$w" --device cpu --threads "$THREADS" "${args[@]}")")
        lines+=("$("$PYTHON" bench/torch_train_step.py --workload "$w" --device cpu --threads 1 "${args[@]}")")
    done
    printf '%s\n' "${lines[@]}"
    "$PYTHON" - "${lines[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(a) for a in sys.argv[1:]]
ingot, torch_n, torch_1 = runs[0::3], runs[1::3], runs[2::3]
med = lambda rs: statistics.median(r["ms_per_step"] for r in rs)
each = lambda rs: ", ".join(f"{r['ms_per_step']:.3f}" for r in rs)
i, t, t1 = med(ingot), med(torch_n), med(torch_1)
last = ingot[-1]
mib = lambda b: b / 1048576
gflops = last["gflops"] * last["ms_per_step"] / i
print(f"ingot     {i:8.3f} ms/step  ({each(ingot)}), {last['batch'] * 1e3 / i:,.0f} samples/s, {gflops:.0f} GFLOP/s")
print(f"PyTorch   {t:8.3f} ms/step  ({each(torch_n)}), torch {torch_n[0]['version']}, {torch_n[0]['threads']} threads")
print(f"ratio     {t / i:8.2f}x  (PyTorch ms / ingot ms, same thread count)")
print(f"PyTorch   {t1:8.3f} ms/step  ({each(torch_1)}) at 1 intra-op thread: ratio {t1 / i:.2f}x")
planned, unplanned = mib(last["arena_planned_bytes"]), mib(last["arena_unplanned_bytes"])
print(f"memory    arena {planned:.2f} MiB planned vs {unplanned:.2f} MiB unplanned; "
      f"backend peak {mib(last['device_peak_bytes']):.2f} MiB")
PY
done
