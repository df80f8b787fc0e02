# The README's two commands: `make demo` trains the default model on Fashion-MNIST,
# `make test` runs the whole test suite. Both install missing Debian packages first
# (as root, through apt-get, only when something is missing), then configure and build.

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PACKAGES := build-essential cmake pkg-config zlib1g-dev libcjson-dev \
            libpng-dev libjpeg62-turbo-dev libcmocka-dev dataset-fashion-mnist python3-venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps configure build demo test gpu-test install bench clean

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
	$(BUILD)/bin/cnn_fmnist /usr/share/datasets/fashion-mnist 10

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# On a machine with an NVIDIA GPU: GPU tests, conformance on CUDA, memcheck, demo, benchmarks.
gpu-test:
	tools/gpu_check.sh

install: build
	cmake --install $(BUILD)

bench: build
	bench/compare_cpu.sh

clean:
	rm -rf $(BUILD)
