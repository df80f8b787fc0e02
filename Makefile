# The README's two commands: `make demo` trains the default model on Fashion-MNIST,
# `make test` runs the whole test suite. Both install missing Debian packages first
# (as root, through apt-get, only when something is missing), then configure and build.

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PACKAGES := build-essential cmake pkg-config zlib1g-dev libcjson-dev \
            libpng-dev libjpeg62-turbo-dev libcmocka-dev dataset-fashion-mnist python3-venv \
            python3-onnx protobuf-c-compiler libprotobuf-c-dev python3-torch chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The sanitizer build of the CPU test suite and the libFuzzer build of fuzz/ (clang's runtime).
SANITIZE_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 25
FUZZ_PACKAGES := clang-14 libclang-rt-14-dev libomp-14-dev

.PHONY: all deps configure build demo test sanitize-test fuzz gpu-test install bench clean

all: build

deps:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

configure: deps
	@[ -f $(BUILD)/CMakeCache.txt ] || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/bin/ingot train --report $(BUILD)/demo/report --save $(BUILD)/demo/model

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The CPU test suite built with AddressSanitizer and UBSan (any report fails the test); the
# Python-side checks are left to `make test`.
sanitize-test: deps
	@[ -f $(SANITIZE_BUILD)/CMakeCache.txt ] || cmake -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DINGOT_SANITIZE=ON -DINGOT_CUDA=OFF
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	cd $(SANITIZE_BUILD) && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	  ctest --output-on-failure -j $(JOBS) -LE python

# Every file reader's fuzz target for FUZZ_SECONDS from its corpus (fuzz/run.sh).
fuzz:
	@$(MAKE) --no-print-directory deps PACKAGES="$(FUZZ_PACKAGES)"
	@[ -f $(FUZZ_BUILD)/CMakeCache.txt ] || CC=clang-14 cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DINGOT_FUZZ=ON -DINGOT_TESTS=OFF -DINGOT_CUDA=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_targets
	fuzz/run.sh $(FUZZ_BUILD)/bin $(FUZZ_SECONDS)

# On a machine with an NVIDIA GPU: GPU tests, conformance on CUDA, memcheck, demo, benchmarks.
gpu-test:
	tools/gpu_check.sh

install: build
	cmake --install $(BUILD)

bench: build
	bench/compare_cpu.sh

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) $(FUZZ_BUILD)
