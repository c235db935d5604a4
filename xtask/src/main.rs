//! Developer tasks of qontract-reconcile-rs.
//!
//! * `cargo xtask codegen [--check]`: regenerate (or check) `schemas/qontract.graphql` and
//!   the typed GraphQL bindings in `codegen/src/generated/`.
//! * `cargo xtask introspect --url URL [--out FILE]`: fetch the SDL of a live qontract-server.
//! * `cargo xtask gen-app-interface --size small|medium|large [--seed N] --out DIR`: a seeded,
//!   deterministic benchmark app-interface.
//! * `cargo xtask bench-e2e [--size ...]` (`make bench-e2e`): ours and the Python tool side by
//!   side on a generated app-interface (one loopback API server per cluster).

mod bench_e2e;
mod codegen;
mod gen_app_interface;
mod introspect;

use std::path::PathBuf;
use std::process::ExitCode;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

const USAGE: &str = "usage: cargo xtask codegen [--check] | cargo xtask introspect --url URL [--out FILE] | cargo xtask gen-app-interface --size small|medium|large [--seed N] --out DIR | cargo xtask bench-e2e [--size small|medium|large] [--seed N] [--runs N] [--bin-dir DIR] [--latency-ms N] [--thread-pool-size N] [--no-python] [--keep]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("codegen") => match &args[1..] {
            [] => codegen::run(&codegen::Layout::new(workspace_root()), false),
            [flag] if flag == "--check" => {
                codegen::run(&codegen::Layout::new(workspace_root()), true)
            }
            _ => Err(anyhow::anyhow!(USAGE)),
        },
        Some("introspect") => introspect::run(&args[1..]),
        Some("gen-app-interface") => gen_app_interface::run(&args[1..]),
        Some("bench-e2e") => bench_e2e::run(&args[1..]),
        _ => Err(anyhow::anyhow!(USAGE)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests;
