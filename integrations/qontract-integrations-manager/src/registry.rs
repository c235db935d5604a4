//! The one registry of the integrations this project implements: the multi-call binary links
//! exactly these (`qontract-reconcile`'s `main`), and the integrations-manager reads their CLI
//! options from it for the key sharding strategies (upstream `get_integration_cli_meta` reads
//! the options of every command of its CLI).
//!
//! It lives in this crate because the manager is itself one of the integrations and cannot
//! depend on the binary crate; every other integration crate is a plain library, so this crate
//! depending on all of them makes no cycle.

use qontract_runtime::IntegrationSpec;

/// Every integration, in the order `qontract-reconcile --help` lists them.
pub fn integrations() -> Vec<IntegrationSpec> {
    vec![
        IntegrationSpec::of::<qontract_openshift_namespaces::OpenshiftNamespaces>(),
        IntegrationSpec::of::<qontract_openshift_resources::OpenshiftResources>(),
        IntegrationSpec::of::<crate::IntegrationsManager>(),
        IntegrationSpec::of::<qontract_openshift_vault_secrets::OpenshiftVaultSecrets>(),
        IntegrationSpec::of::<qontract_openshift_prometheus_rules::OpenshiftPrometheusRules>(),
        IntegrationSpec::of::<qontract_openshift_network_policies::OpenshiftNetworkPolicies>(),
        IntegrationSpec::of::<qontract_openshift_rolebindings::OpenshiftRolebindings>(),
        IntegrationSpec::of::<qontract_openshift_limitranges::OpenshiftLimitRanges>(),
        IntegrationSpec::of::<qontract_openshift_resourcequotas::OpenshiftResourceQuotas>(),
        IntegrationSpec::of::<qontract_openshift_routes::OpenshiftRoutes>(),
        IntegrationSpec::of::<qontract_vault_replication::VaultReplication>(),
        IntegrationSpec::of::<qontract_openshift_clusterrolebindings::OpenshiftClusterRolebindings>(
        ),
        IntegrationSpec::of::<qontract_openshift_groups::OpenshiftGroups>(),
        IntegrationSpec::of::<
            qontract_openshift_serviceaccount_tokens::OpenshiftServiceAccountTokens,
        >(),
        IntegrationSpec::of::<qontract_openshift_users::OpenshiftUsers>(),
    ]
}
