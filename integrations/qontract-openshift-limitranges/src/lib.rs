//! `openshift-limitranges`: for every namespace that references a `limitRanges` datafile
//! (`/openshift/limitrange-1.yml`), one `LimitRange` named after that datafile's `name`, whose
//! `spec.limits` are its `limits` (fields left empty in the datafile are omitted, so the
//! cluster's defaulting never looks like drift).
//!
//! As upstream: only namespaces with `limitRanges` that are not `delete: true` are managed;
//! namespaces are sharded by `"<cluster>/<namespace>"`; only `LimitRange` is managed in those
//! namespaces; and `take_over` is on by default (`--no-take-over` turns it off): a LimitRange
//! in a managed namespace that is not declared is deleted even if this integration did not
//! create it, unless it has `ownerReferences`.

pub mod desired;

use clap::Args;
use qontract_gql_bindings::limitranges_namespaces::LimitRangesNamespaces;
use qontract_runtime::{DesiredStateShardConfig, Integration, RunContext, RunOutcome};

/// CLI name, also the `qontract.integration` annotation of the objects.
pub const NAME: &str = "openshift-limitranges";

/// Version recorded in `qontract.integration_version` (only the major is compared).
pub const VERSION: &str = "0.1.0";

/// The managed type.
pub const MANAGED_TYPE: &str = "LimitRange";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftLimitRanges;

/// Arguments of `openshift-limitranges`.
#[derive(Debug, Clone, Args)]
pub struct OpenshiftLimitRangesArgs {
    /// Which namespaces and clusters, and how the plan is shown
    #[command(flatten)]
    pub target: qontract_realize::TargetArgs,
    /// Leave LimitRanges this integration did not create alone (upstream --no-take-over; by
    /// default undeclared LimitRanges in managed namespaces are deleted)
    #[arg(long, env = "QONTRACT_NO_TAKE_OVER", overrides_with = "take_over")]
    pub no_take_over: bool,
    /// Manage LimitRanges exclusively: adopt and delete those not declared (the default)
    #[arg(long, overrides_with = "no_take_over")]
    pub take_over: bool,
}

impl OpenshiftLimitRangesArgs {
    /// Whether undeclared LimitRanges are adopted and deleted (upstream default: true).
    pub fn take_over(&self) -> bool {
        !self.no_take_over
    }
}

/// Query app-interface and build the desired state of this run.
async fn fetch_desired(
    ctx: &RunContext,
    args: &OpenshiftLimitRangesArgs,
) -> anyhow::Result<desired::DesiredState> {
    use cynic::QueryBuilder;
    let data = ctx.gql.run(LimitRangesNamespaces::build(())).await?;
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

impl Integration for OpenshiftLimitRanges {
    type Args = OpenshiftLimitRangesArgs;
    const NAME: &'static str = NAME;
    const ABOUT: &'static str = "Create the LimitRange declared by each namespace's limitRanges";
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
            "desired state: {} LimitRange(s) in {} namespace(s), {} error(s)",
            desired.inventory.len().0,
            desired.namespaces.len(),
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
            qontract_realize::RealizeOptions {
                take_over: args.take_over(),
                ..Default::default()
            },
        )
        .await
    }
}
