//! `qontract-reconcile`: the multi-call binary that links every integration.
//!
//! * `qontract-reconcile [FLAGS] <integration> [ARGS]` — same CLI as the Python tool;
//! * invoked through a link named after an integration (`openshift-namespaces [ARGS]`), it is
//!   that integration;
//! * `qontract-reconcile run-integration` (or a link named `run-integration`) is the container
//!   entrypoint driven by environment variables.

use std::process::ExitCode;

use qontract_runtime::{Cli, IntegrationSpec};

mod explain;

/// mimalloc instead of glibc malloc: glibc's per-thread arenas keep freed memory, so a run's
/// peak RSS was far above its peak heap (`docs/performance.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // No transparent huge pages for this process: with THP set to `always` (common on
    // distribution kernels) mimalloc's segments are backed by 2 MiB pages, which the kernel
    // zeroes on first touch: a medium dry run spent more time zeroing pages than planning,
    // and its RSS counted whole huge pages. Refused (old kernel, seccomp): run with THP.
    let _ = nix::sys::prctl::set_thp_disable(true);
    let mut cli = Cli::new("qontract-reconcile", integrations());
    cli.tools.push(explain::spec());
    cli.main()
}

/// Every integration this binary links: the one registry, shared with the
/// integrations-manager (which needs their CLI options for sharding).
fn integrations() -> Vec<IntegrationSpec> {
    qontract_integrations_manager::registry::integrations()
}
