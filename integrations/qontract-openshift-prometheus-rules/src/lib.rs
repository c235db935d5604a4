//! `openshift-prometheus-rules`: the `prometheus-rule` openshiftResources of every namespace
//! that declares one (own or shared) become `PrometheusRule` objects (`type: resource` as is,
//! `resource-template-jinja2` / `resource-template-extracurlyjinja2` rendered; rules with
//! annotations get `html_url`), applied and pruned like `openshift-resources` does its
//! objects. Only `PrometheusRule.monitoring.coreos.com` and `PrometheusRule.monitoring.rhobs`
//! are managed in those namespaces (upstream `canonicalize_namespaces`' override).

use clap::Args;
use qontract_openshift_resources::desired::{self, Filter, Providers};
use qontract_runtime::{Integration, RunContext, RunOutcome};

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

/// Arguments of `openshift-prometheus-rules`.
#[derive(Debug, Clone, Args)]
pub struct OpenshiftPrometheusRulesArgs {
    /// Which namespaces and clusters, and how the plan is shown
    #[command(flatten)]
    pub target: qontract_realize::TargetArgs,
}

impl Integration for OpenshiftPrometheusRules {
    type Args = OpenshiftPrometheusRulesArgs;
    const NAME: &'static str = NAME;
    const ABOUT: &'static str =
        "Apply the prometheus-rule openshiftResources declared on namespaces as PrometheusRules";

    async fn run(ctx: RunContext, args: Self::Args) -> anyhow::Result<RunOutcome> {
        let (data, templates) = qontract_openshift_resources::query_namespaces(&ctx).await?;
        let filter = Filter {
            integration: NAME,
            cluster_name: args.target.cluster_name,
            namespace_name: args.target.namespace_name,
            shard: ctx.shard,
            providers: Providers {
                resource: false,
                resource_template: false,
                prometheus_rule: true,
            },
            managed_types_override: Some(MANAGED_TYPES.iter().map(|t| (*t).to_owned()).collect()),
            repo_url: desired::repo_url(data.settings.as_deref()),
            templates,
        };
        let desired = qontract_openshift_resources::desired_state_blocking(
            data.namespaces.unwrap_or_default(),
            filter,
            NAME,
            VERSION,
        )
        .await?;
        tracing::info!(
            "desired state: {} PrometheusRule(s) in {} namespace(s), {} error(s)",
            desired.inventory.len().0,
            desired.namespaces,
            desired.inventory.errors().len()
        );
        qontract_realize::realize_with(
            &ctx,
            qontract_realize::Realize {
                integration: NAME,
                annotation_name: NAME,
                version: VERSION,
                inventory: desired.inventory,
                clusters: desired.clusters,
                privileged: desired.privileged,
                show_unchanged: args.target.show_unchanged,
                caller: None,
                internal: args.target.scope.internal(),
            },
            desired::realize_options(),
        )
        .await
    }
}
