# Developer entry points. On a fresh clone `make demo` and `make test` are the only set-up
# commands needed (README); `make test` is the test command CI runs (.ci/run).
.PHONY: demo test check fmt clippy codegen codegen-check build bench services compat

# Where cargo builds (honours CARGO_TARGET_DIR, as cargo does).
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)

# The README demo: build, start the sandbox API server, dry run / apply / converged dry run of
# every integration on examples/, stop the sandbox (scripts/demo.sh).
demo:
	bash scripts/demo.sh

# Installs everything the tests start (idempotent: only what is missing), then runs them:
# unit tests (src/), crate tests (each crate's tests/), the end-to-end suite (tests/e2e).
test: services
	cargo test --workspace

check: fmt codegen-check clippy test

fmt:
	cargo fmt --all --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

codegen:
	cargo xtask codegen

codegen-check:
	cargo xtask codegen --check

build:
	cargo build --workspace

bench:
	cargo bench --workspace

# The Prometheus Pushgateway (Debian package), OpenBao and the S3-compatible moto server.
services:
	sh scripts/install-system-packages.sh
	sh scripts/install-test-services.sh

# The differential suite against the Python qontract-reconcile 0.10.1 (tests/compat): installs
# the peer (venv + oc/amtool shims, see scripts/install-compat-peer.sh), builds our binaries,
# runs every scenario (or COMPAT_SCENARIOS="a b"). Ends with `compat: N scenarios, ...`.
compat:
	bash scripts/install-test-services.sh
	cargo build --bins -p qontract-reconcile -p qontract-server -p qontract-bundler \
		-p qontract-compat -p qontract-kube-testserver
	PEER_BIN="$$(sh scripts/install-compat-peer.sh)" && \
		PATH="$$PEER_BIN:$$PATH" $(TARGET_DIR)/debug/qontract-compat $(COMPAT_SCENARIOS)

# Side-by-side benchmark (`cargo xtask bench-e2e`, xtask/src/bench_e2e.rs): our release binaries
# and the Python qontract-reconcile 0.10.1 (the differential suite's venv and shims) on a
# generated app-interface. SIZE=small|medium|large, SEED=N; prints one table.
.PHONY: bench-e2e
SIZE ?= small
SEED ?= 1
bench-e2e:
	bash scripts/install-test-services.sh
	cargo build --release -p qontract-reconcile -p qontract-server -p qontract-bundler \
		-p qontract-kube-testserver
	PEER_BIN="$$(sh scripts/install-compat-peer.sh)" && \
		PATH="$$PEER_BIN:$$PATH" cargo xtask bench-e2e --size $(SIZE) --seed $(SEED) \
		--bin-dir $(TARGET_DIR)/release
