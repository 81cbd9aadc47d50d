# clawdie: `make run` sets up and runs the whole system; `make test` runs every test.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2)
CTEST_JOBS ?= 2

.PHONY: all deps configure build test bench run format format-check clean

all: build

deps:
	@scripts/deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -G Ninja -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Installs what is missing, builds, prepares Docker, and runs every test through ctest.
test: deps
	@$(MAKE) --no-print-directory build
	@scripts/ensure-dockerd.sh
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j $(CTEST_JOBS)

# Benchmarks print their figures (docs/benchmarks.md).
bench: deps
	@$(MAKE) --no-print-directory build
	@scripts/run-benchmarks.sh $(BUILD_DIR)

# Installs what is missing, builds, and runs the four services in the foreground.
run: deps
	@$(MAKE) --no-print-directory build
	@scripts/run-dev.sh $(BUILD_DIR)

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

format-check:
	git ls-files '*.cc' '*.h' | xargs clang-format --dry-run -Werror

clean:
	rm -rf $(BUILD_DIR)
