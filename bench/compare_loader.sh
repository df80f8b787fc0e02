#!/usr/bin/env bash
# compare_loader.sh — issue 7's loader target: the cnn_small step fed by the prefetching loader
# (host batches made by its thread, copied in by each step), with and without augmentation,
# beside the same step gathering its batch from a dataset kept on the device (with and
# without augmentation in the gather). Prints samples/s and each feed against resident data.
#
#   bench/compare_loader.sh   (env: DEVICE=cuda, WORKLOAD=cnn_small, SAMPLES=60000, PREFETCH=2,
#                              REPEAT=3, BUILD=build, ARGS="--warmup 50 --steps 200 --windows 9")
#
# The runs are interleaved REPEAT times, so a slow spell of a shared machine hits all of them;
# each figure is the median over the rounds of each run's median window. The target: the
# loader's samples/s within 10% of resident data's (on the GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DEVICE=${DEVICE:-cuda}
WORKLOAD=${WORKLOAD:-cnn_small}
SAMPLES=${SAMPLES:-60000}
PREFETCH=${PREFETCH:-2}
REPEAT=${REPEAT:-3}
read -r -a ARGS <<< "${ARGS:---warmup 50 --steps 200 --windows 9}"

[ -f "$BUILD/CMakeCache.txt" ] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target bench_train_step >/dev/null
FEEDS=("resident" "resident --augment" "loader" "loader --augment")
lines=()
for _ in $(seq "$REPEAT"); do
    for f in "${FEEDS[@]}"; do
        read -r -a feed <<< "$f"
        lines+=("$("$BUILD/bin/bench_train_step" --workload "$WORKLOAD" --device "$DEVICE" --samples "$SAMPLES" \
                   --prefetch "$PREFETCH" --json --feed "${feed[@]}" "${ARGS[@]}")")
    done
done
printf '%s\n' "${lines[@]}"
python3 - "${#FEEDS[@]}" "${lines[@]}" <<'PY'
import json, statistics, sys
k, runs = int(sys.argv[1]), [json.loads(a) for a in sys.argv[2:]]
med = lambda rs: statistics.median(r["samples_per_s"] for r in rs)
first = runs[0]
print(f"\n{first['workload']} on {first['device']}, batch {first['batch']}, {first['samples']} samples, "
      f"median of {len(runs) // k} rounds")
print("| feed | samples/s | rounds | vs resident | vs resident, same augmentation |")
print("|---|---|---|---|---|")
base = {False: med(runs[0::k]), True: med(runs[1::k])}
for i in range(k):
    rs = runs[i::k]
    r = rs[0]
    name = r["feed"] + (" + augment" if r["augment"] else "")
    name += f" (prefetch {r['prefetch']})" if r["feed"] == "loader" else ""
    each = ", ".join(f"{x['samples_per_s']:,.0f}" for x in rs)
    print(f"| {name} | {med(rs):,.0f} | {each} | {med(rs) / base[False]:.3f} | {med(rs) / base[r['augment']]:.3f} |")
PY
