# Chronos — the two commands a newcomer needs:
#   make run    install dependencies, build, start the exchange on its embedded default
#   make test   install dependencies, build, run every test and gate
SWIFT ?= swift
CHRONOS := .build/release/chronos

.PHONY: deps build run test test-debug test-release test-reference bench-gate memory-check bench bench-engine clean

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product chronos

run: build
	$(CHRONOS) run $(ARGS)

# Every test: unit, scenario, property, differential and process tests (debug, with the
# zero-allocation tests), the zero-allocation tests again in release, the reference
# implementation's own tests, the package-benchmark malloc gate and the replay memory check.
test: deps test-debug test-release test-reference bench-gate memory-check
	@echo "make test: all passed"

test-debug:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

test-release:
	$(SWIFT) test -c release --filter ZeroAllocationTests

test-reference:
	python3 -m unittest discover -s tools/reference

# Fails when any benchmarked command allocates (thresholds in Benchmarks/Thresholds).
bench-gate:
	cd Benchmarks && $(SWIFT) package benchmark thresholds check --no-progress

memory-check:
	$(SWIFT) build -c release --product chronos
	bash scripts/replay-memory-check.sh 10000000

# Measurements for the README's performance table.
bench: bench-engine
	cd Benchmarks && $(SWIFT) package benchmark --no-progress

bench-engine: build
	$(CHRONOS) bench engine

clean:
	rm -rf .build Benchmarks/.build
