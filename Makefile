# SPDX-License-Identifier: Apache-2.0
# The two entry points a newcomer needs (see README.md):
#   make demo   - install dependencies, build Release, run the main job
#   make check  - install dependencies, build, run every test, then again
#                 under AddressSanitizer + UndefinedBehaviorSanitizer (clang),
#                 then the tests labelled `threads` under ThreadSanitizer
#   make install - build Release and install it under PREFIX (default
#                 /usr/local), staged under DESTDIR when given
# Builds made here treat warnings as errors (VIGIL_WERROR); a plain cmake
# build does not.  The sanitizer builds are Debug at -O1 (CMakeLists.txt).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
PREFIX ?= /usr/local
DESTDIR ?=
CMAKE_FLAGS ?= -DVIGIL_WERROR=ON

.PHONY: demo check deps deps-test build build-asan build-tsan test test-asan test-tsan bench install clean

# scripts/install-deps checks the packages with one dpkg-query and runs apt
# only for missing ones; the stamps skip even that once it has passed (and
# are redone when the script changes).  `make deps` always checks.
deps:
	@bash scripts/install-deps

deps-test:
	@bash scripts/install-deps --test

$(BUILD)/.deps-ok: scripts/install-deps
	@bash scripts/install-deps && mkdir -p $(BUILD) && touch $@

$(BUILD)/.deps-test-ok: scripts/install-deps
	@bash scripts/install-deps --test && mkdir -p $(BUILD) && touch $@

build: $(BUILD)/.deps-ok
	@cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD)/release -j $(JOBS)

build-asan: $(BUILD)/.deps-ok
	@cmake -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DVIGIL_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD)/asan -j $(JOBS)

# Only the programs of the tests labelled `threads` (and the vigil program
# they use) are built under ThreadSanitizer.
build-tsan: $(BUILD)/.deps-ok
	@cmake -S . -B $(BUILD)/tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DVIGIL_TSAN=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD)/tsan -j $(JOBS) --target vigil \
	  $$(cd $(BUILD)/tsan && ctest -N -L threads | sed -n 's/^ *Test *#[0-9]*: *//p')

demo: build
	@bash scripts/demo $(BUILD)/release

test: build
	@cd $(BUILD)/release && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	@cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

test-tsan: build-tsan
	@cd $(BUILD)/tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --output-on-failure -j $(JOBS) -L threads

check: $(BUILD)/.deps-test-ok test test-asan test-tsan

bench: build
	@for b in $(BUILD)/release/bench/bench_*; do echo "== $$b"; $$b; done

install: build
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD)/release --prefix "$(PREFIX)"

clean:
	rm -rf $(BUILD)
