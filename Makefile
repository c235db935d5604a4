# Developer entry points. `make test` is the test command CI runs (see README).
.PHONY: test check fmt clippy codegen codegen-check build bench services compat

test:
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

services:
	bash scripts/install-test-services.sh

# The differential suite against the Python qontract-reconcile 0.10.1 (tests/compat): installs
# the peer (venv + oc/amtool shims, see scripts/install-compat-peer.sh), builds our binaries,
# runs every scenario (or COMPAT_SCENARIOS="a b"). Ends with `compat: N scenarios, ...`.
compat:
	bash scripts/install-test-services.sh
	cargo build -p qontract-reconcile -p qontract-server -p qontract-bundler -p qontract-compat \
		-p qontract-kube-testserver --bin kube-testserver
	PEER_BIN="$$(sh scripts/install-compat-peer.sh)" && \
		PATH="$$PEER_BIN:$$PATH" target/debug/qontract-compat $(COMPAT_SCENARIOS)
