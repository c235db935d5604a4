//! `openshift-resources`: the `openshiftResources` of every managed namespace (providers
//! `resource` and `resource-template`, as upstream; other providers have their own
//! integrations) are applied with server-side apply; objects this integration applied that are
//! no longer declared are deleted — unless any error was registered in the run.
//!
//! The loop: desired state from GraphQL ([`desired`]) → current state of every managed
//! (cluster, namespace, type) → the plan of `qontract-resource-inventory` (create / update /
//! delete / no-op / skip with reasons) → printed (`--dry-run`, zero writes) or applied by
//! `qontract-openshift-engine`.

pub mod desired;

#[cfg(test)]
mod tests;

use clap::Args;
use qontract_gql_bindings::openshift_resources_namespaces::OpenshiftResourcesNamespaces;
use qontract_runtime::{Integration, RunContext, RunOutcome};

/// CLI name (and `integrations_v1` entry).
pub const NAME: &str = "openshift-resources";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftResources;

/// Arguments of `openshift-resources`.
#[derive(Debug, Clone, Args)]
pub struct OpenshiftResourcesArgs {
    /// Which namespaces and clusters, and how the plan is shown
    #[command(flatten)]
    pub target: qontract_realize::TargetArgs,
}

/// The namespaces data as `{"state": {<cluster>: [namespaces]}}` (one shard per cluster).
pub fn shard_by_cluster(data: &serde_json::Value) -> serde_json::Value {
    let mut state = serde_json::Map::new();
    let namespaces = data.get("namespaces").and_then(|n| n.as_array());
    for ns in namespaces.into_iter().flatten() {
        let cluster = ns
            .pointer("/cluster/name")
            .and_then(|c| c.as_str())
            .unwrap_or_default()
            .to_owned();
        let entry = state
            .entry(cluster)
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let serde_json::Value::Array(list) = entry {
            list.push(ns.clone());
        }
    }
    serde_json::json!({ "state": state })
}

impl Integration for OpenshiftResources {
    type Args = OpenshiftResourcesArgs;
    const NAME: &'static str = NAME;
    const ABOUT: &'static str =
        "Apply the openshiftResources declared on namespaces (resource, resource-template)";

    /// The namespaces data the desired state is built from (resources' content included).
    async fn early_exit_desired_state(
        ctx: RunContext,
        _args: Self::Args,
    ) -> anyhow::Result<Option<serde_json::Value>> {
        let request = qontract_gql::GqlRequest::new(
            qontract_gql_bindings::openshift_resources_namespaces::QUERY,
        );
        let data = ctx.gql.query(&request).await?;
        Ok(Some(shard_by_cluster(&data)))
    }

    fn desired_state_shard_config() -> Option<qontract_runtime::DesiredStateShardConfig> {
        // Upstream's sharded_run_review accepts at most two shards.
        Some(qontract_runtime::DesiredStateShardConfig { max_shards: 2 })
    }

    fn args_for_shard(mut args: Self::Args, shard: &str) -> Self::Args {
        args.target.cluster_name = Some(shard.to_owned());
        args
    }

    async fn run(ctx: RunContext, args: Self::Args) -> anyhow::Result<RunOutcome> {
        use cynic::QueryBuilder;
        let data = ctx.gql.run(OpenshiftResourcesNamespaces::build(())).await?;
        let filter = desired::Filter {
            integration: NAME,
            cluster_name: args.target.cluster_name,
            namespace_name: args.target.namespace_name,
            shard: ctx.shard,
            repo_url: desired::repo_url(data.settings.as_deref()),
            ..Default::default()
        };
        let desired = desired::desired_state(&data.namespaces.unwrap_or_default(), &filter);
        // Only clusters this run reaches (`--internal` / `--external`), as upstream's inventory.
        let internal = args.target.scope.internal();
        let unused: Vec<String> = desired::unused_resource_types(&desired.inventory)
            .into_iter()
            .filter(|(cluster, _)| {
                internal.is_none_or(|want| {
                    desired
                        .clusters
                        .get(cluster)
                        .is_some_and(|c| c.internal.unwrap_or(false) == want)
                })
            })
            .map(|(_, warning)| warning)
            .collect();
        let (desired_objects, _) = desired.inventory.len();
        tracing::info!(
            "desired state: {desired_objects} object(s) in {} namespace(s), {} error(s)",
            desired.namespaces,
            desired.inventory.errors().len()
        );
        let outcome = qontract_realize::realize_with(
            &ctx,
            qontract_realize::Realize {
                integration: NAME,
                annotation_name: desired::ANNOTATION_NAME,
                version: desired::INTEGRATION_VERSION,
                inventory: desired.inventory,
                clusters: desired.clusters,
                privileged: desired.privileged,
                show_unchanged: args.target.show_unchanged,
                caller: None,
                internal: args.target.scope.internal(),
            },
            desired::realize_options(),
        )
        .await?;
        // Upstream `openshift_resources.run` calls `check_unused_resource_types` after
        // `realize_data`, and only when the run had no error (it exits 1 before).
        if outcome.errors.is_empty() {
            for warning in &unused {
                tracing::warn!("{warning}");
            }
        }
        Ok(outcome)
    }
}
