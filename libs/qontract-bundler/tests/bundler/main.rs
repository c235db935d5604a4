//! Integration tests of the bundler: conformance with the upstream bundle, YAML 1.1 rules,
//! Python-compatible JSON, and errors on bad data.

mod cli;
mod conformance;
mod errors;
mod pyjson;
mod robustness;
mod yaml11;

use std::path::PathBuf;

/// `../shared` relative to the workspace root.
pub(crate) fn shared_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
}
