//! `openshift-prometheus-rules`: the `prometheus-rule` openshiftResources of every namespace
//! that declares one (own or shared) become `PrometheusRule` objects (`type: resource` as is,
//! `resource-template-jinja2` / `resource-template-extracurlyjinja2` rendered; rules with
//! annotations get `html_url`), applied and pruned like `openshift-resources` does its
//! objects. Only `PrometheusRule.monitoring.coreos.com` and `PrometheusRule.monitoring.rhobs`
//! are managed in those namespaces (upstream `canonicalize_namespaces`' override).

use qontract_openshift_resources::NamespacesQuery;
use qontract_openshift_resources::desired::{self, Filter, Providers};
use qontract_realize::{DesiredInventory, RealizeOptions};
use qontract_runtime::{ArgsOf, DesiredInput, IntegrationInfo, InventoryIntegration, NoArgs};

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
    const INFO: IntegrationInfo = IntegrationInfo {
        about: "Apply the prometheus-rule openshiftResources declared on namespaces as \
                PrometheusRules",
        managed_types: &MANAGED_TYPES,
        early_exit: false,
        // As openshift-resources.
        streamed_by_cluster: true,
        ..IntegrationInfo::new(NAME, VERSION)
    };

    async fn desired(input: DesiredInput<'_, Self>) -> anyhow::Result<DesiredInventory> {
        let queried = input.data.namespaces_of(input.ctx, input.scope).await?;
        let filter = Filter {
            providers: Providers {
                resource: false,
                resource_template: false,
                prometheus_rule: true,
            },
            managed_types_override: Some(MANAGED_TYPES.iter().map(|t| (*t).to_owned()).collect()),
            repo_url: queried.repo_url,
            templates: queried.templates,
            scope: input.scope.clone(),
        };
        qontract_openshift_resources::desired_state_blocking(
            queried.namespaces,
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
