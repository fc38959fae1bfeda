# Snorky: `make run` starts a working server, `make test` runs every suite.
# Both install what is missing first (Debian packages, npm packages).
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
ARGS ?=

.PHONY: all deps build run test unit integration fuzz clean

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
# and the demo pages of web/ on http://localhost:5800/ (announcements works as is).
run: build
	$(BUILD)/snorky --static-dir web $(ARGS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j2

unit: build
	ctest --test-dir $(BUILD) --output-on-failure -L unit

integration: build
	ctest --test-dir $(BUILD) --output-on-failure -L integration -j2

# libFuzzer targets (clang, ASan+UBSan) in build-fuzz/, FUZZ_SECONDS each
# (or FUZZ_RUNS executions); fails on any crash. docs/fuzzing.md.
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/install-deps.sh clang-14 libclang-rt-14-dev
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD)
