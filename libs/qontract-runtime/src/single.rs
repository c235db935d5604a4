//! `main` of a per-integration binary (`openshift-limitranges`, `integrations-manager`, ...):
//! the integration's flags and the common flags (`--config`, `--dry-run`, ... each with its
//! environment variable) on one level, then the same runner the multi-call binary uses.
//!
//! Release packaging ships the multi-call `qontract-reconcile` (one optimised link instead of
//! ten); these binaries are for development (`cargo run -p qontract-openshift-limitranges --
//! --help`) and for cron jobs that want one small CLI. Both run exactly the same code.

use std::ffi::OsString;
use std::process::ExitCode;

use crate::exit::ExitStatus;
use crate::integration::{Integration, IntegrationSpec};
use crate::runner::Cli;

/// `fn main() -> ExitCode { qontract_runtime::main_single::<MyIntegration>() }`.
///
/// Parses `std::env::args_os()` as `<integration-name> [COMMON FLAGS] [INTEGRATION FLAGS]`
/// and runs it on a multi-threaded tokio runtime.
pub fn main_single<T: Integration + 'static>() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    run_single_blocking(IntegrationSpec::of::<T>(), argv).into()
}

/// [`main_single`] with an explicit spec and argv (argv\[0\] included), for tests.
pub fn run_single_blocking(spec: IntegrationSpec, argv: Vec<OsString>) -> ExitStatus {
    let cli = Cli::new(spec.name, vec![spec]);
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(cli.run_single(&spec, argv)),
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            ExitStatus::Error
        }
    }
}
