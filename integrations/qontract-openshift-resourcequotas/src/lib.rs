//! `openshift-resourcequotas`: for every namespace that references a `quota` datafile
//! (`/openshift/quota-1.yml`), one `ResourceQuota` per entry of its `quotas`, named after the
//! entry, with `spec.hard` the entry's `resources` flattened to `limits.cpu`,
//! `requests.memory`, `pods`, ... (values as strings; fields left empty are omitted) and
//! `spec.scopes` only when the entry lists scopes (the API server drops an empty list, which
//! would otherwise look like drift on every run).
//!
//! As upstream: only namespaces with a `quota` that are not `delete: true` are managed;
//! namespaces are sharded by `"<cluster>/<namespace>"`; only `ResourceQuota` is managed in
//! those namespaces; `take_over` is off (upstream accepts the flag but never passes it on), so
//! only ResourceQuotas carrying this integration's annotations are ever deleted.

pub mod desired;

use clap::Args;
use qontract_gql_bindings::resourcequotas_namespaces::ResourceQuotasNamespaces;
use qontract_runtime::{DesiredStateShardConfig, Integration, RunContext, RunOutcome};

/// CLI name, also the `qontract.integration` annotation of the objects.
pub const NAME: &str = "openshift-resourcequotas";

/// Version recorded in `qontract.integration_version` (only the major is compared).
pub const VERSION: &str = "0.1.0";

/// The managed type.
pub const MANAGED_TYPE: &str = "ResourceQuota";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftResourceQuotas;

/// Arguments of `openshift-resourcequotas`.
#[derive(Debug, Clone, Args)]
pub struct OpenshiftResourceQuotasArgs {
    /// Which namespaces and clusters, and how the plan is shown
    #[command(flatten)]
    pub target: qontract_realize::TargetArgs,
}

/// Query app-interface and build the desired state of this run.
async fn fetch_desired(
    ctx: &RunContext,
    args: &OpenshiftResourceQuotasArgs,
) -> anyhow::Result<desired::DesiredState> {
    use cynic::QueryBuilder;
    let data = ctx.gql.run(ResourceQuotasNamespaces::build(())).await?;
    let filter = desired::Filter {
        integration: NAME,
        cluster_name: args.target.cluster_name.clone(),
        namespace_name: args.target.namespace_name.clone(),
        shard: ctx.shard,
    };
    Ok(desired::desired_state(
        &data.namespaces.unwrap_or_default(),
        &filter,
    ))
}

impl Integration for OpenshiftResourceQuotas {
    type Args = OpenshiftResourceQuotasArgs;
    const NAME: &'static str = NAME;
    const ABOUT: &'static str = "Create the ResourceQuotas declared by each namespace's quota";
    const VERSION: &'static str = VERSION;

    async fn early_exit_desired_state(
        ctx: RunContext,
        args: Self::Args,
    ) -> anyhow::Result<Option<serde_json::Value>> {
        let desired = fetch_desired(&ctx, &args).await?;
        Ok(Some(desired.early_exit_state()))
    }

    fn desired_state_shard_config() -> Option<DesiredStateShardConfig> {
        Some(DesiredStateShardConfig { max_shards: 2 })
    }

    fn args_for_shard(mut args: Self::Args, shard: &str) -> Self::Args {
        args.target.cluster_name = Some(shard.to_owned());
        args
    }

    async fn run(ctx: RunContext, args: Self::Args) -> anyhow::Result<RunOutcome> {
        let desired = fetch_desired(&ctx, &args).await?;
        tracing::info!(
            "desired state: {} ResourceQuota(s) in {} namespace(s), {} error(s)",
            desired.inventory.len().0,
            desired.namespaces.len(),
            desired.inventory.errors().len()
        );
        qontract_realize::realize(
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
        )
        .await
    }
}
