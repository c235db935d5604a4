//! `qontract-reconcile`: the multi-call binary that links every integration.
//!
//! * `qontract-reconcile [FLAGS] <integration> [ARGS]` — same CLI as the Python tool;
//! * invoked through a link named after an integration (`openshift-namespaces [ARGS]`), it is
//!   that integration;
//! * `qontract-reconcile run-integration` (or a link named `run-integration`) is the container
//!   entrypoint driven by environment variables.

use std::process::ExitCode;

use qontract_runtime::{Cli, IntegrationSpec};

fn main() -> ExitCode {
    Cli::new("qontract-reconcile", integrations()).main()
}

/// Every integration this binary links.
fn integrations() -> Vec<IntegrationSpec> {
    vec![IntegrationSpec::of::<
        qontract_openshift_namespaces::OpenshiftNamespaces,
    >()]
}
