# Developer entry points. `make test` is the test command CI runs (see README).
.PHONY: test check fmt clippy codegen codegen-check build bench services

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
