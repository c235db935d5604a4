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

fn main() -> ExitCode {
    let mut cli = Cli::new("qontract-reconcile", integrations());
    cli.tools.push(explain::spec());
    cli.main()
}

/// Every integration this binary links.
fn integrations() -> Vec<IntegrationSpec> {
    vec![
        IntegrationSpec::of::<qontract_openshift_namespaces::OpenshiftNamespaces>(),
        IntegrationSpec::of::<qontract_openshift_resources::OpenshiftResources>(),
        IntegrationSpec::of::<qontract_integrations_manager::IntegrationsManager>(),
        IntegrationSpec::of::<qontract_openshift_vault_secrets::OpenshiftVaultSecrets>(),
        IntegrationSpec::of::<qontract_openshift_prometheus_rules::OpenshiftPrometheusRules>(),
        IntegrationSpec::of::<qontract_openshift_network_policies::OpenshiftNetworkPolicies>(),
        IntegrationSpec::of::<qontract_openshift_rolebindings::OpenshiftRolebindings>(),
        IntegrationSpec::of::<qontract_openshift_limitranges::OpenshiftLimitRanges>(),
        IntegrationSpec::of::<qontract_openshift_resourcequotas::OpenshiftResourceQuotas>(),
        IntegrationSpec::of::<qontract_openshift_routes::OpenshiftRoutes>(),
    ]
}
