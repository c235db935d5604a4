//! `openshift-namespaces`: every namespace declared in app-interface exists on its cluster,
//! and every namespace declared with `delete: true` does not.
//!
//! Desired state comes from the `NamespacesMinimal` query. Clusters that list this
//! integration in `disable.integrations` are skipped, `--cluster-name` / `--namespace-name`
//! narrow the run, and a namespace declared twice with contradicting `delete` flags is an
//! error that is reported and never acted upon.

pub mod apply;
pub mod desired;
pub mod plan;

use clap::Args;
use qontract_cluster_client::{ClusterMap, ClusterMapOptions};
use qontract_gql_bindings::namespaces_minimal::NamespacesMinimal;
use qontract_runtime::{Integration, OutputFormat, RunContext, RunOutcome};

/// Integration name (also the `integrations_v1` entry).
pub const NAME: &str = "openshift-namespaces";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftNamespaces;

/// Arguments of `openshift-namespaces`.
#[derive(Debug, Clone, Args)]
pub struct OpenshiftNamespacesArgs {
    /// Only reconcile namespaces on this cluster
    #[arg(long, env = "CLUSTER_NAME")]
    pub cluster_name: Option<String>,
    /// Only reconcile the namespace with this name
    #[arg(long, env = "NAMESPACE_NAME")]
    pub namespace_name: Option<String>,
    /// Only clusters marked internal
    #[arg(long, env = "QONTRACT_INTERNAL", overrides_with = "external")]
    pub internal: bool,
    /// Only clusters not marked internal
    #[arg(long, env = "QONTRACT_EXTERNAL", overrides_with = "internal")]
    pub external: bool,
}

/// Query app-interface and compute the desired state for this run's filters and shard.
async fn fetch_desired(
    ctx: &RunContext,
    args: OpenshiftNamespacesArgs,
) -> anyhow::Result<(desired::Filter, desired::DesiredState)> {
    use cynic::QueryBuilder;
    let data = ctx.gql.run(NamespacesMinimal::build(())).await?;
    let filter = desired::Filter {
        integration: NAME,
        cluster_name: args.cluster_name,
        namespace_name: args.namespace_name,
        internal: match (args.internal, args.external) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        shard: ctx.shard,
    };
    let desired = desired::desired_state(&data.namespaces.unwrap_or_default(), &filter);
    Ok((filter, desired))
}

impl Integration for OpenshiftNamespaces {
    type Args = OpenshiftNamespacesArgs;
    const NAME: &'static str = NAME;
    const ABOUT: &'static str =
        "Create the namespaces declared in app-interface and delete those marked delete: true";

    async fn early_exit_desired_state(
        ctx: RunContext,
        args: Self::Args,
    ) -> anyhow::Result<Option<serde_json::Value>> {
        let (_, desired) = fetch_desired(&ctx, args).await?;
        // `{"state": {<cluster>: [namespaces]}}`: one shard per cluster, so that
        // --check-only-affected-shards can dry-run only the clusters that changed.
        let mut state = serde_json::Map::new();
        for ns in &desired.namespaces {
            let entry = state
                .entry(ns.cluster.clone())
                .or_insert_with(|| serde_json::Value::Array(Vec::new()));
            if let serde_json::Value::Array(list) = entry {
                list.push(serde_json::to_value(ns)?);
            }
        }
        Ok(Some(
            serde_json::json!({ "state": state, "errors": desired.errors }),
        ))
    }

    fn desired_state_shard_config() -> Option<qontract_runtime::DesiredStateShardConfig> {
        Some(qontract_runtime::DesiredStateShardConfig { max_shards: 2 })
    }

    fn args_for_shard(mut args: Self::Args, shard: &str) -> Self::Args {
        args.cluster_name = Some(shard.to_owned());
        args
    }

    async fn run(ctx: RunContext, args: Self::Args) -> anyhow::Result<RunOutcome> {
        let (filter, desired) = fetch_desired(&ctx, args).await?;
        tracing::info!(
            "desired state: {} namespace(s) on {} cluster(s), {} error(s)",
            desired.namespaces.len(),
            desired.cluster_names().len(),
            desired.errors.len()
        );
        let clusters = if desired.namespaces.is_empty() {
            ClusterMap::default()
        } else {
            let secrets = ctx.secrets.reader().await?;
            let options = ClusterMapOptions {
                integration: NAME.to_owned(),
                internal: filter.internal,
                privileged: desired
                    .namespaces
                    .iter()
                    .filter(|n| n.privileged)
                    .map(|n| n.cluster.clone())
                    .collect(),
                concurrency: ctx.thread_pool_size,
                ..ClusterMapOptions::default()
            };
            let specs: Vec<_> = desired
                .cluster_names()
                .iter()
                .filter_map(|c| desired.clusters.get(*c).cloned())
                .collect();
            ClusterMap::build(specs, secrets, &options).await
        };
        let observed = apply::observe(&clusters, &desired.namespaces, ctx.thread_pool_size).await;
        let plan = plan::NamespacePlan::compute(&desired.namespaces, &observed, desired.errors);
        match ctx.output {
            OutputFormat::Text => print!("{}", plan.render_table(false)),
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&plan)?),
        }
        if ctx.dry_run {
            for a in &plan.actions {
                if a.action != plan::NamespaceAction::NoOp {
                    tracing::info!("{}", apply::log_line(a));
                }
            }
            return Ok(RunOutcome {
                changes: plan.changes(),
                errors: plan.errors,
            });
        }
        let applied = apply::apply(&clusters, &plan, ctx.thread_pool_size).await;
        let mut errors = plan.errors;
        errors.extend(applied.errors);
        Ok(RunOutcome {
            changes: applied.done,
            errors,
        })
    }
}
