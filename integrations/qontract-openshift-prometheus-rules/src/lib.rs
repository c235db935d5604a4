//! `openshift-prometheus-rules`: the `prometheus-rule` openshiftResources of every namespace
//! that declares one (own or shared) become `PrometheusRule` objects (`type: resource` as is,
//! `resource-template-jinja2` / `resource-template-extracurlyjinja2` rendered; rules with
//! annotations get `html_url`), applied and pruned like `openshift-resources` does its
//! objects. Only `PrometheusRule.monitoring.coreos.com` and `PrometheusRule.monitoring.rhobs`
//! are managed in those namespaces (upstream `canonicalize_namespaces`' override).

use qontract_openshift_resources::NamespacesQuery;
use qontract_openshift_resources::desired::{self, Filter, Providers};
use qontract_realize::{DesiredInventory, NamespaceFilter, RealizeOptions};
use qontract_runtime::{ArgsOf, InventoryIntegration, NoArgs, RunContext};

/// CLI name, also the `qontract.integration` annotation of the objects.
pub const NAME: &str = "openshift-prometheus-rules";

/// Version recorded in `qontract.integration_version` (only the major is compared).
pub const VERSION: &str = "1.0.0";

/// The managed types (upstream `canonicalize_namespaces` for the `prometheus-rule` provider).
pub const MANAGED_TYPES: [&str; 2] = [
    "PrometheusRule.monitoring.coreos.com",
    "PrometheusRule.monitoring.rhobs",
];

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftPrometheusRules;

impl InventoryIntegration for OpenshiftPrometheusRules {
    type Args = NoArgs;
    type Query = NamespacesQuery;
    type Desired = DesiredInventory;
    const NAME: &'static str = NAME;
    const ABOUT: &'static str =
        "Apply the prometheus-rule openshiftResources declared on namespaces as PrometheusRules";
    const VERSION: &'static str = VERSION;
    const MANAGED_TYPES: &'static [&'static str] = &MANAGED_TYPES;
    const EARLY_EXIT: bool = false;

    /// Streamed cluster by cluster, as openshift-resources.
    fn clusters(query: &NamespacesQuery, scope: &NamespaceFilter) -> Option<Vec<String>> {
        Some(query.clusters(scope))
    }

    async fn desired(
        _: &RunContext,
        query: &NamespacesQuery,
        scope: &NamespaceFilter,
        _: &ArgsOf<Self>,
    ) -> anyhow::Result<DesiredInventory> {
        let filter = Filter {
            providers: Providers {
                resource: false,
                resource_template: false,
                prometheus_rule: true,
            },
            managed_types_override: Some(MANAGED_TYPES.iter().map(|t| (*t).to_owned()).collect()),
            repo_url: desired::repo_url(query.data.settings.as_deref()),
            templates: query.templates.clone(),
            scope: scope.clone(),
        };
        qontract_openshift_resources::desired_state_blocking(
            query.namespaces.clone(),
            filter,
            NAME,
            VERSION,
        )
        .await
    }

    fn realize_options(_: &ArgsOf<Self>) -> RealizeOptions {
        desired::realize_options()
    }
}
