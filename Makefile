# Snorky: `make run` starts a working server, `make test` runs every suite.
# Both install what is missing first (Debian packages, npm packages).
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
ARGS ?=

.PHONY: all deps build run test unit integration clean test-asan test-tsan fuzz tidy package

all: build

deps:
	@scripts/install-deps.sh
	@# npm packages of the JS client (tests only), again only when the lock file changed.
	@[ clients/js/node_modules/.package-lock.json -nt clients/js/package-lock.json ] || \
	  (cd clients/js && npm ci --no-audit --no-fund --loglevel=error)

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) > /dev/null
	@cmake --build $(BUILD)

# The embedded default config: WebSocket on :5800/ws, backend on 127.0.0.1:5801,
# and the demo pages of web/ on http://localhost:5800/ (announcements works as is;
# web/lib is a symlink to the JS client in clients/js/src, hence --static-follow-symlinks).
run: build
	$(BUILD)/snorky --static-dir web --static-follow-symlinks $(ARGS)

# Debian packages snorky and snorky-dev (CPack, cmake/packaging.cmake) in $(BUILD)/packages/.
package: build
	cd $(BUILD) && cpack

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j2

unit: build
	ctest --test-dir $(BUILD) --output-on-failure -L unit

integration: build
	ctest --test-dir $(BUILD) --output-on-failure -L integration -j2

# Sanitizer builds, each in its own folder, without the benchmarks: the unit
# and integration suites with every program (the server included) built with
# AddressSanitizer + UBSan (test-asan) or ThreadSanitizer (test-tsan). A report
# in a server's output fails the test that started it.
SANITIZER_CMAKE = -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DSNORKY_BUILD_BENCH=OFF
# Only what the suites run (the server, snorky-call, the examples they start come along).
SANITIZER_TARGETS = unit_tests integration_tests example_pubsub_backend example_calculator
ASAN_TESTS ?= -L '^(unit|integration)$$' -LE '^js$$'
# TSan: every unit test and the integration tests of the server itself (two
# workers each, cross-worker fan-out, the Redis engine's I/O thread); the
# connector, snorky-call and example suites (client programs) are left to ASan.
TSAN_TESTS ?= -L '^(unit|integration)$$' -LE '^js$$' -E '^(Connector|SnorkyCall|Examples)'

test-asan: deps
	@cmake -S . -B build-asan $(SANITIZER_CMAKE) -DSNORKY_SANITIZE=address > /dev/null
	@cmake --build build-asan --target $(SANITIZER_TARGETS)
	ctest --test-dir build-asan --output-on-failure -j2 $(ASAN_TESTS)

test-tsan: deps
	@cmake -S . -B build-tsan $(SANITIZER_CMAKE) -DSNORKY_SANITIZE=thread > /dev/null
	@cmake --build build-tsan --target $(SANITIZER_TARGETS)
	ctest --test-dir build-tsan --output-on-failure -j2 $(TSAN_TESTS)

# libFuzzer targets (clang, ASan+UBSan) in build-fuzz/, FUZZ_SECONDS each
# (or FUZZ_RUNS executions); fails on any crash. docs/fuzzing.md.
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/install-deps.sh clang-14 libclang-rt-14-dev
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_TARGETS)

# clang-tidy (.clang-tidy's checks) over src/; fails on any finding.
tidy:
	@scripts/install-deps.sh clang-tidy-14
	@scripts/tidy.sh

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz build-tidy
