#!/usr/bin/env bash
# gpu_check.sh — everything CI cannot run, in one go on a machine with an NVIDIA GPU:
# build with the CUDA backend, the whole test suite (GPU tests included), the conformance
# vectors on CUDA, compute-sanitizer (memcheck) over the GPU tests, the demo on the GPU,
# and the GPU benchmarks beside PyTorch. Used by `make gpu-test`; logs go to $OUT if set.
#
# On a machine that cannot install packages, put Debian's .deb files of the dependencies in
# .devdeps/ (see docs/gpu.md): they are unpacked into /tmp/sysroot and used from there.
set -uo pipefail
cd "$(dirname "$0")/.."
LOG=${OUT:-build-gpu}
mkdir -p "$LOG"
BUILD=build-gpu
status=0
extra_cmake=()
ctest_args=()
step() { echo "=== $*"; }
fail() { echo "FAILED: $*"; status=1; }

if ! { [ -d .devdeps ] && ls .devdeps/*.deb >/dev/null 2>&1; }; then
  make deps || exit 1
else
  for f in .devdeps/*.deb; do dpkg -x "$f" /tmp/sysroot; done
  # absolute links inside the packages (libz.so -> /lib/...) must point into the sysroot
  find /tmp/sysroot -xtype l | while read -r l; do
    t=$(readlink "$l"); case $t in /*) ln -sf "/tmp/sysroot$t" "$l" ;; esac
  done
  export CMAKE_PREFIX_PATH=/tmp/sysroot/usr
  extra_cmake=(-DONNX_PROTO=/tmp/sysroot/usr/lib/python3/dist-packages/onnx/onnx.proto)
  # a machine that cannot install packages cannot reach PyPI either: the Python-side tests
  # would only time out making their environment and skip (CI runs them)
  ctest_args=(-LE python)
  lib=/tmp/sysroot/usr/lib/x86_64-linux-gnu
  export LD_LIBRARY_PATH=$lib:${LD_LIBRARY_PATH:-}
  if [ ! -e /usr/share/datasets/fashion-mnist ] && [ -d /tmp/sysroot/usr/share/datasets/fashion-mnist ]; then
    mkdir -p /usr/share/datasets && ln -s /tmp/sysroot/usr/share/datasets/fashion-mnist /usr/share/datasets/fashion-mnist
  fi
fi

step "device"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || fail "nvidia-smi"

step "build (CUDA on)"
cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=Release -DINGOT_CUDA=ON "${extra_cmake[@]}" > "$LOG/cmake.log" 2>&1 || { cat "$LOG/cmake.log"; exit 1; }
cmake --build $BUILD -j "$(nproc)" > "$LOG/build.log" 2>&1 || { tail -40 "$LOG/build.log"; exit 1; }

step "test suite (ctest)"
(cd $BUILD && ctest --output-on-failure -j 4 "${ctest_args[@]}") > "$LOG/ctest.log" 2>&1 || fail "ctest"
grep -E "tests passed|Skipped|Failed|\*\*\*" "$LOG/ctest.log" | tail -15

step "conformance on CUDA"
$BUILD/bin/ingot-conformance tests/data/reference --device cuda > "$LOG/conformance_cuda.log" 2>&1 || fail "conformance --device cuda"
grep -vE "^(PASS|SKIP)" "$LOG/conformance_cuda.log" | tail -8; tail -1 "$LOG/conformance_cuda.log"

step "compute-sanitizer memcheck over the GPU tests"
compute-sanitizer --tool memcheck --error-exitcode 1 --leak-check full $BUILD/bin/test_cuda > "$LOG/memcheck.log" 2>&1 || fail "memcheck"
tail -3 "$LOG/memcheck.log"
compute-sanitizer --tool memcheck --error-exitcode 1 --leak-check full $BUILD/bin/test_cuda_loader > "$LOG/memcheck_loader.log" 2>&1 || fail "memcheck (loader)"
tail -3 "$LOG/memcheck_loader.log"

step "demo on the GPU: ingot train (the cnn preset on Fashion-MNIST, as make demo)"
$BUILD/bin/ingot train --progress plain --report "$LOG/demo_report" > "$LOG/demo_gpu.log" 2>&1 || fail "demo"
cat "$LOG/demo_gpu.log"

step "resnet18 example on the GPU (synthetic 3x32x32 data, 2 epochs)"
$BUILD/bin/resnet18 - 2 > "$LOG/resnet18_gpu.log" 2>&1 || fail "resnet18 example"
cat "$LOG/resnet18_gpu.log"

# BENCH=0 leaves the benchmarks out (they can run on their own: bench/compare_gpu.sh,
# bench/compare_loader.sh with the same BUILD)
if [ "${BENCH:-1}" = 1 ]; then
  step "benchmarks beside PyTorch"
  BUILD=$BUILD bench/compare_gpu.sh 2>&1 | tee "$LOG/bench_gpu.log" || fail "bench"
  step "the prefetching loader against resident data (cnn_small)"
  BUILD=$BUILD DEVICE=cuda REPEAT=1 bench/compare_loader.sh 2>&1 | tee "$LOG/bench_loader.log" || fail "loader bench"
fi
exit $status
