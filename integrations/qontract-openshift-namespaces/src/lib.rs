//! `openshift-namespaces`: every namespace declared in app-interface exists on its cluster,
//! and every namespace declared with `delete: true` does not (upstream
//! `reconcile/openshift_namespaces.py`).
//!
//! Desired state comes from the `NamespacesMinimal` query ([`desired`]); everything after it is
//! the shared engine ([`qontract_realize::realize_namespaces`]): one plan format (text table or
//! JSON with `summary` and `deletion_enabled`), creation through `ProjectRequest` on OpenShift
//! clusters and as a plain Namespace elsewhere, the engine metrics. A namespace declared twice
//! and a namespace to create whose name starts with `openshift-` are errors: the run exits 1
//! and deletes nothing.

pub mod desired;

use clap::Args;
use qontract_gql_bindings::namespaces_minimal::NamespacesMinimal;
use qontract_runtime::{Integration, RunContext, RunOutcome};

/// Integration name (also the `integrations_v1` entry).
pub const NAME: &str = "openshift-namespaces";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftNamespaces;

/// Arguments of `openshift-namespaces`.
#[derive(Debug, Clone, Args)]
pub struct OpenshiftNamespacesArgs {
    /// `--cluster-name`, `--namespace-name`, `--show-unchanged`, `--internal` / `--external`.
    #[command(flatten)]
    pub target: qontract_realize::TargetArgs,
}

/// Query app-interface and compute the desired state for this run's filters and shard.
async fn fetch_desired(
    ctx: &RunContext,
    args: &OpenshiftNamespacesArgs,
) -> anyhow::Result<desired::DesiredState> {
    use cynic::QueryBuilder;
    let data = ctx.gql.run(NamespacesMinimal::build(())).await?;
    let filter = desired::Filter {
        integration: NAME,
        cluster_name: args.target.cluster_name.clone(),
        namespace_name: args.target.namespace_name.clone(),
        internal: args.target.scope.internal(),
        shard: ctx.shard,
    };
    Ok(desired::desired_state(
        &data.namespaces.unwrap_or_default(),
        &filter,
    ))
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
        let desired = fetch_desired(&ctx, &args).await?;
        Ok(Some(desired.early_exit_state()))
    }

    fn desired_state_shard_config() -> Option<qontract_runtime::DesiredStateShardConfig> {
        Some(qontract_runtime::DesiredStateShardConfig { max_shards: 2 })
    }

    fn args_for_shard(mut args: Self::Args, shard: &str) -> Self::Args {
        args.target.cluster_name = Some(shard.to_owned());
        args
    }

    async fn run(ctx: RunContext, args: Self::Args) -> anyhow::Result<RunOutcome> {
        let desired = fetch_desired(&ctx, &args).await?;
        tracing::info!(
            "desired state: {} namespace(s) on {} cluster(s), {} error(s)",
            desired.namespaces.len(),
            desired.clusters.len(),
            desired.errors.len()
        );
        qontract_realize::realize_namespaces(
            &ctx,
            qontract_realize::RealizeNamespaces {
                integration: NAME,
                desired: desired.namespaces,
                clusters: desired.clusters,
                errors: desired.errors,
                show_unchanged: args.target.show_unchanged,
                internal: args.target.scope.internal(),
            },
        )
        .await
    }
}
