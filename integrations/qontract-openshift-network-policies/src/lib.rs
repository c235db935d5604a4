//! `openshift-network-policies`: for every namespace that lists other namespaces in
//! `networkPoliciesAllow`, one `NetworkPolicy` per allowed source namespace, named
//! `allow-from-<source>-namespace`, that admits ingress from every pod of that source
//! namespace (namespaceSelector `kubernetes.io/metadata.name: <source>`).
//!
//! As upstream: only namespaces with a non-empty `networkPoliciesAllow` that are not
//! `delete: true` are managed (so emptying the list stops managing the namespace, it does not
//! delete its policies); namespaces are sharded by `"<cluster>/<namespace>"`; a source
//! namespace on another cluster is an error naming both namespaces. Only
//! `NetworkPolicy.networking.k8s.io` is managed in those namespaces, and only objects carrying
//! this integration's annotations are ever deleted.

pub mod desired;

use clap::Args;
use qontract_gql_bindings::network_policies_namespaces::NetworkPoliciesNamespaces;
use qontract_runtime::{DesiredStateShardConfig, Integration, RunContext, RunOutcome};

/// CLI name, also the `qontract.integration` annotation of the objects.
pub const NAME: &str = "openshift-network-policies";

/// Version recorded in `qontract.integration_version` (only the major is compared).
pub const VERSION: &str = "0.1.0";

/// The managed type.
pub const MANAGED_TYPE: &str = "NetworkPolicy.networking.k8s.io";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftNetworkPolicies;

/// Arguments of `openshift-network-policies`.
#[derive(Debug, Clone, Args)]
pub struct OpenshiftNetworkPoliciesArgs {
    /// Which namespaces and clusters, and how the plan is shown
    #[command(flatten)]
    pub target: qontract_realize::TargetArgs,
}

/// Query app-interface and build the desired state of this run.
async fn fetch_desired(
    ctx: &RunContext,
    args: &OpenshiftNetworkPoliciesArgs,
) -> anyhow::Result<desired::DesiredState> {
    use cynic::QueryBuilder;
    let data = ctx.gql.run(NetworkPoliciesNamespaces::build(())).await?;
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

impl Integration for OpenshiftNetworkPolicies {
    type Args = OpenshiftNetworkPoliciesArgs;
    const NAME: &'static str = NAME;
    const ABOUT: &'static str = "Create a NetworkPolicy admitting ingress from each namespace listed in networkPoliciesAllow";
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
            "desired state: {} NetworkPolicy(s) in {} namespace(s), {} error(s)",
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
