# The two commands: `make demo` and `make test`. Both install what is missing first
# (packaging/install-deps.sh), then configure and build with CMake + Ninja.
#   make test     GCC build, all CTest suites; ASan+UBSan build, fast suites; format check
#   make demo     build, then run the mesh demo (tests/e2e/demo)
#   make build    just the GCC build in build/
#   make fuzz     clang libFuzzer build in build-fuzz/ (run harnesses by hand, see docs/testing.md)
#   make bench    build the benchmarks (see docs/performance.md for how to run them)
#   make format   reformat the tree with the checked-in .clang-format
BUILD ?= build
ASAN ?= build-asan
FUZZ ?= build-fuzz
CTEST_JOBS ?= 2
SOURCES = $(shell git ls-files '*.cpp' '*.hpp' 2>/dev/null)

.PHONY: all build asan fuzz bench test test-fast demo deps deps-test format format-check clean

all: build

deps:
	@packaging/install-deps.sh build

deps-test:
	@packaging/install-deps.sh test

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD)

$(ASAN)/build.ninja:
	cmake -S . -B $(ASAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DIKEMESH_SANITIZE=ON \
	    -DIKEMESH_BENCH=OFF

asan: deps $(ASAN)/build.ninja
	cmake --build $(ASAN)

$(FUZZ)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DIKEMESH_FUZZ=ON -DIKEMESH_BENCH=OFF

fuzz: deps $(FUZZ)/build.ninja
	cmake --build $(FUZZ)

bench: build

test-fast: build asan
	ctest --test-dir $(BUILD) -L fast --output-on-failure -j $(CTEST_JOBS)
	ctest --test-dir $(ASAN) -L fast --output-on-failure -j $(CTEST_JOBS)

test: deps-test build asan format-check
	ctest --test-dir $(BUILD) -L fast --output-on-failure -j $(CTEST_JOBS)
	ctest --test-dir $(ASAN) -L fast --output-on-failure -j $(CTEST_JOBS)
	ctest --test-dir $(BUILD) -LE fast --output-on-failure -j 3

demo: deps-test build
	tests/e2e/demo

format:
	clang-format -i $(SOURCES)

# Without a git checkout SOURCES is empty and clang-format would check nothing (and pass).
format-check:
	$(if $(SOURCES),,$(error format-check: git ls-files lists no sources (not a git checkout?)))
	@clang-format --dry-run -Werror $(SOURCES)

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
