# Chronos — the two commands a newcomer needs:
#   make run    install dependencies, build, start the exchange on its embedded default
#   make test   install dependencies, build, run every test and gate
SWIFT ?= swift
CHRONOS := .build/release/chronos

.PHONY: deps build run test lint test-collections release-tests soak soak-long soak-line test-debug test-release test-reference test-fix-acceptance test-quickfix bench-gate memory-check example fuzz scan test-deploy test-image bench bench-engine clean \
	model test-model

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product chronos

run: build
	$(CHRONOS) run $(ARGS)

# Every test: formatting, unit, scenario, property, differential and process tests (debug,
# with the zero-allocation tests), the zero-allocation tests again in release, the reference
# implementation's own tests, the package-benchmark malloc gate, the replay memory check and a
# short libFuzzer + AddressSanitizer run over the replay edge and the engine; then the deployment:
# its scans, its tests against the built binary, and the image built daemonless and health-checked.
test: deps lint test-collections test-debug test-release test-reference test-fix-acceptance test-quickfix bench-gate memory-check \
		test-model fuzz example scan test-deploy test-image
	@echo "make test: all passed"

lint:
	@echo "== $@ started $$(date +%T)"
	$(SWIFT) format lint --strict -r Package.swift Sources Tests Benchmarks/Package.swift Benchmarks/Benchmarks Benchmarks/Sources \
		Fuzz/Package.swift Fuzz/Sources Packages/ChronosEngine/Package.swift Packages/ChronosEngine/Sources Packages/ChronosEngine/Tests \
		Examples/EmbeddedBook/Package.swift Examples/EmbeddedBook/Sources

# The whole suite under a throwaway PostgreSQL server (scripts/with-postgres.sh sets CHRONOS_PG_*),
# so the persistence tests run against both stores. Two runs: the suites that start engines, gateways,
# persisters and PostgreSQL load as processes (PROCESS_SUITES) after the rest, so that their CPU
# load does not starve the gateway tests' answer timeouts on a 2-core machine; and the
# flow-control suite (a client that never reads, heartbeat timeouts: wall-clock bounded) alone.
# `PersistenceTests\.` takes every persistence suite, CrashTrialTests (two seeded crash trials
# per kind and store) included, into the process run.
PROCESS_SUITES := PersistenceTests\.|LoadGeneratorTests|MultiProcessTests|StatusCommandTests|MultiGatewayTests|RiskSidecarProcessTests|KillSwitchReloadTests|GatewayCommandOverrideTests|RunRestartTests|MarketDataCommandTests
ALONE_SUITES := BinaryTCPFlowTests
test-debug:
	@echo "== $@ started $$(date +%T)"
	$(SWIFT) build --build-tests
	bash scripts/with-postgres.sh $(SWIFT) test --skip-build --skip '$(PROCESS_SUITES)|$(ALONE_SUITES)'
	bash scripts/with-postgres.sh $(SWIFT) test --skip-build --filter '$(PROCESS_SUITES)'
	$(SWIFT) test --skip-build --filter '$(ALONE_SUITES)'

# Crash trials and soak (docs/persistence.md, "Crash trials and soak"), under a throwaway
# PostgreSQL so that both stores are tried. `make soak`: CrashTrialTests with SOAK_TRIALS seeded
# trials (seeds 1…N, default 20) per crash kind — kill -9 of an engine shard, of the persister, of
# both, of `chronos run` — and store, each checked for reissued sequences, events the client saw
# but the journal or the store lacks, state hashes and lost events. `make soak-long`: one run of
# SOAK_MINUTES minutes (default 10) of engines and persister under sustained load (CHRONOS_SOAK_RATE
# commands/s, default 700), same checks.
SOAK_TRIALS ?= 20
SOAK_MINUTES ?= 10
soak:
	$(SWIFT) build --build-tests
	CHRONOS_SOAK_TRIALS=$(SOAK_TRIALS) bash scripts/with-postgres.sh $(SWIFT) test --skip-build \
		--filter 'CrashTrialTests.killNine'

soak-long:
	$(SWIFT) build --build-tests
	CHRONOS_SOAK_MINUTES=$(SOAK_MINUTES) bash scripts/with-postgres.sh $(SWIFT) test --skip-build \
		--filter 'CrashTrialTests.sustainedLoad'

# The exchange at line rate (release `chronos run` + `chronos loadgen`, binary protocol) with the
# persister on for SOAK_MINUTES, beside a floor with it off; then the journal, the store and the
# answered orders must agree (scripts/soak-line.sh). SOAK_STORE=sqlite (default) or postgresql.
SOAK_STORE ?= sqlite
soak-line: build
	SOAK_MINUTES=$(SOAK_MINUTES) SOAK_STORE=$(SOAK_STORE) bash scripts/with-postgres.sh bash scripts/soak-line.sh $(CHRONOS)

# One release configuration for every test step that needs one: the package and its tests, built
# once, compiled for testing as `swift test -c release` would (`swift build` does not do that by
# itself in release). Its `chronos` (.build/release/chronos) serves memory-check and test-model;
# `make build` (for `make run`) is the plain release build.
release-tests:
	$(SWIFT) build -c release --build-tests -Xswiftc -enable-testing

test-release: release-tests
	@echo "== $@ started $$(date +%T)"
	$(SWIFT) test -c release --skip-build --filter ZeroAllocationTests

test-reference:
	@echo "== $@ started $$(date +%T)"
	python3 -m unittest discover -s tools/reference

# Black-box FIX 4.4 session and application tests against the built binary over real TCP
# (scenarios after QuickFIX's acceptance suite; Tests/FIXAcceptance/README.md).
test-fix-acceptance:
	@echo "== $@ started $$(date +%T)"
	CHRONOS_BIN=.build/debug/chronos python3 -m unittest discover -s Tests/FIXAcceptance -v

# QuickFIX (C++) as a real FIX 4.4 peer of the built binary, with its session layer and data
# dictionary validation on (Tests/QuickFIXPeer/README.md).
test-quickfix:
	@echo "== $@ started $$(date +%T)"
	bash Tests/QuickFIXPeer/run.sh

# Fails when any benchmarked command allocates (thresholds in Benchmarks/Thresholds).
bench-gate:
	@echo "== $@ started $$(date +%T)"
	cd Benchmarks && $(SWIFT) package benchmark thresholds check --no-progress

memory-check: release-tests
	@echo "== $@ started $$(date +%T)"
	bash scripts/replay-memory-check.sh 10000000

# libFuzzer with AddressSanitizer, FUZZ_SECONDS each (default 30): `chronos replay`'s input path
# and the engine (ReplayFuzz), and every gateway parser a client can reach (GatewayFuzz: FIX
# framing + session, binary TCP stream, UDP datagrams). The committed seeds are copied so that
# new corpus entries never dirty the tree. `-sanitize=fuzzer` alone links libFuzzer but leaves
# Swift code without coverage feedback: the explicit `-sanitize-coverage` gives the fuzzer its edges.
FUZZ_SECONDS ?= 30
fuzz:
	@echo "== $@ started $$(date +%T)"
	cd Fuzz && $(SWIFT) build -c release --sanitize=fuzzer --sanitize=address -Xswiftc -parse-as-library \
		-Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp
	rm -rf .build/fuzz-corpus .build/fuzz-corpus-gateway && mkdir -p .build/fuzz-corpus .build/fuzz-corpus-gateway
	cp Fuzz/corpus/* .build/fuzz-corpus/ && cp Fuzz/corpus-gateway/* .build/fuzz-corpus-gateway/
	Fuzz/.build/release/ReplayFuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
		-artifact_prefix=.build/ .build/fuzz-corpus
	Fuzz/.build/release/GatewayFuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
		-artifact_prefix=.build/gateway- .build/fuzz-corpus-gateway

# Security scans of the deployment, offline (docs/operations.md, "Scans"): hadolint on the
# Dockerfile, Trivy's embedded misconfiguration checks on the Dockerfile and the Kubernetes
# manifests. HIGH or CRITICAL fails unless .trivyignore.yaml accepts it with a reason. (Trivy
# does not read compose files; Tests/Deployment checks those. Image vulnerability scans need
# Trivy's online database: .github/workflows/security.yml.)
scan: deps
	@echo "== $@ started $$(date +%T)"
	hadolint --config .hadolint.yaml deploy/Dockerfile
	trivy config --skip-check-update --skip-version-check --quiet --ignorefile .trivyignore.yaml \
		--severity HIGH,CRITICAL --exit-code 1 deploy/

# Deployment tests (Tests/Deployment, Python unittest): YAML, Dockerfile, compose and Kubernetes
# invariants, their agreement, and the commands they run against the built binary.
test-deploy: deps
	@echo "== $@ started $$(date +%T)"
	$(SWIFT) build --product chronos
	CHRONOS_BIN=.build/debug/chronos python3 -m unittest discover -s Tests/Deployment -v

# deploy/Dockerfile built with buildah (no Docker engine), its runtime contents checked and its
# health check run against a live engine (Tests/Deployment/build-image.sh).
test-image: deps
	@echo "== $@ started $$(date +%T)"
	bash Tests/Deployment/build-image.sh

# Measurements for the README's performance table.
bench: bench-engine
	cd Benchmarks && $(SWIFT) package benchmark --no-progress

bench-engine: build
	$(CHRONOS) bench engine

# The spoofing model (docs/risk-model.md): `chronos simulate` makes labeled rows with the risk
# engine's own features, tools/model/train.py trains logistic regression and LightGBM, exports
# models/spoofing-v1.onnx, spoofing-lr-v1.onnx, spoofing-v1.json and the parity rows (~2 min).
PIP ?= python3 -m pip
model: build
	PIP_BREAK_SYSTEM_PACKAGES=1 $(PIP) install -r tools/model/requirements.txt
	CHRONOS_BIN=$(CHRONOS) python3 tools/model/train.py

# The fenced unsafe types (Packages/ChronosEngine's FencedCollections: pools, id tables, byte
# views) under AddressSanitizer, in their own small package; exit tests check that each fence
# traps. LeakSanitizer is off: the pools are mmap'ed (it does not see them) and the test runner's
# own objects live until exit.
test-collections:
	@echo "== $@ started $$(date +%T)"
	cd Packages/ChronosEngine && ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --sanitize=address

# An application that embeds the order books through the core package alone
# (Packages/ChronosEngine, no remote dependency): built on its own and run; it checks its trades.
example:
	@echo "== $@ started $$(date +%T)"
	cd Examples/EmbeddedBook && $(SWIFT) run EmbeddedBook

# The training pipeline end to end on a tiny simulation (< 1 min; needs the release build and
# the packages of tools/model/requirements.txt, which `make deps` installs).
test-model: release-tests
	@echo "== $@ started $$(date +%T)"
	CHRONOS_BIN=$(CHRONOS) python3 -m unittest discover -s tools/model -v

clean:
	rm -rf .build Benchmarks/.build Examples/EmbeddedBook/.build
