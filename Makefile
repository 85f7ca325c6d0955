# brisk: the two commands are `make demo` and `make test`.
JOBS    ?= 2
BUILD   ?= build
ASAN    ?= build-asan
CMAKE_FLAGS ?=

.PHONY: all deps build demo test test-fast test-asan bench clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The main job: sample an 8x8 grid of Fashion-MNIST images and report NFE and time.
demo: build
	@bash scripts/demo.sh $(BUILD)/brisk

# Every test, then the whole suite again under AddressSanitizer + UBSan.
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory test-asan

test-fast: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DBRISK_SANITIZE=ON -DBRISK_BUILD_BENCH=OFF \
	  -DCMAKE_C_FLAGS="-O1" $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	@cd $(ASAN) && BRISK_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

bench: build
	@for b in $(BUILD)/bench_*; do echo "== $$b"; $$b; done

clean:
	rm -rf $(BUILD) $(ASAN)
