//! Integration tests of the resource model (one test binary, several modules).

mod model;
mod three_way;
mod vectors;

use std::path::PathBuf;

/// `/work/shared` (the read-only reference material), relative to this crate.
pub(crate) fn shared_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
}
