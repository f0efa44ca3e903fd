# The two commands: `make run` and `make test`. Both install what they need first.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
DATA_DIR ?= ./arbor-data
LISTEN ?= 127.0.0.1:8000

.PHONY: all deps build run test test-unit test-asan fuzz bench bench-queries format clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR)
	@scripts/build-web.sh

run: build
	@scripts/run.sh $(BUILD_DIR)/arbor $(DATA_DIR) $(LISTEN)

test: build
	@scripts/test.sh $(BUILD_DIR)

bench: build
	@bench/run.sh $(BUILD_DIR)

bench-queries: build
	@bench/queries.sh $(BUILD_DIR)

format:
	@clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'bench/*.cc' 'bench/*.h')

clean:
	rm -rf $(BUILD_DIR) build-asan build-fuzz
