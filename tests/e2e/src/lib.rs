//! The end-to-end level of the test suite: the shipped binaries, run as users run them
//! (`qontract-reconcile`, each integration's own CLI, `kube-testserver`), against loopback
//! servers. Unit tests live beside the code (`src/`), crate tests in each crate's `tests/`,
//! the differential suite against the Python tool in `tests/compat`.
//!
//! `env!("CARGO_BIN_EXE_...")` only names the binaries of the test's own package, so this crate
//! finds them in the target directory it was built into, and builds them first with the same
//! cargo and profile (once per test process; a no-op when they are fresh), so
//! `cargo test -p qontract-e2e` alone never runs a stale binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Every per-integration binary, as `(package, binary)`, from the one integration registry
/// (`qontract_integrations_manager::registry`): the binary is named after the integration, its
/// crate `qontract-<integration>`, and it takes the same flags as
/// `qontract-reconcile <integration>`.
pub fn integration_binaries() -> Vec<(String, &'static str)> {
    qontract_integrations_manager::registry::integrations()
        .iter()
        .map(|spec| (format!("qontract-{}", spec.name), spec.name))
        .collect()
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The profile directory the running test was built into (`target/debug`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("test binary in target/<profile>/deps")
        .to_path_buf()
}

/// Builds every shipped binary once per process (cargo makes it a no-op when fresh).
fn build_all() -> &'static Result<(), String> {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let profile_dir = profile_dir();
        let target_dir = profile_dir.parent().expect("target dir");
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev".to_owned(),
            Some(other) => other.to_owned(),
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.arg("build")
            .arg("--quiet")
            .arg("--manifest-path")
            .arg(workspace().join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir)
            .arg("--profile")
            .arg(&profile)
            .args(["-p", "qontract-reconcile", "--bin", "qontract-reconcile"])
            .args(["-p", "qontract-kube-testserver", "--bin", "kube-testserver"]);
        for (package, bin) in integration_binaries() {
            cmd.args(["-p", &package, "--bin", bin]);
        }
        match cmd.status() {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(format!(
                "building the shipped binaries failed ({s}): {cmd:?}"
            )),
            Err(e) => Err(format!(
                "cannot run cargo to build the shipped binaries: {e}"
            )),
        }
    })
}

/// Path of the shipped binary `name` (`qontract-reconcile`, `openshift-limitranges`,
/// `kube-testserver`, ...), built first if needed.
pub fn bin(name: &str) -> PathBuf {
    if let Err(e) = build_all() {
        panic!("{e}");
    }
    let path = profile_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.is_file(), "{} was not built", path.display());
    path
}
