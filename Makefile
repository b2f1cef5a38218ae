# The two entry points a newcomer needs (see README.md):
#   make demo   - install dependencies, build Release, run the main job
#   make check  - install dependencies, build, run every test, then again
#                 under AddressSanitizer + UndefinedBehaviorSanitizer (clang)
#   make install - build Release and install it under PREFIX (default
#                 /usr/local), staged under DESTDIR when given
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: demo check deps deps-test build build-asan test test-asan bench install clean

deps:
	@bash scripts/install-deps

deps-test:
	@bash scripts/install-deps --test

build: deps
	@cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc >/dev/null
	@cmake --build $(BUILD)/release -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DVIGIL_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)/asan -j $(JOBS)

demo: build
	@bash scripts/demo $(BUILD)/release

test: build
	@cd $(BUILD)/release && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	@cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

check: deps-test test test-asan

bench: build
	@for b in $(BUILD)/release/bench/bench_*; do echo "== $$b"; $$b; done

install: build
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD)/release --prefix "$(PREFIX)"

clean:
	rm -rf $(BUILD)
