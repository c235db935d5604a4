//! `openshift-vault-secrets`: one Secret per `vault-secret` openshiftResource of the managed
//! namespaces, with the data read from Vault (or the config-file secret store) at the declared
//! version. As upstream (`openshift_resources_base.fetch_provider_vault_secret`): the name
//! defaults to the last segment of the Vault path; `labels` (when not empty), `annotations` and
//! `type` (default `Opaque`) are copied; the `external-resources/updated_at` key is dropped;
//! values are base64-encoded, except keys ending in `_qb64` (any case), whose values are
//! already base64 (the suffix and the newlines are dropped); empty values are kept; keys must
//! match `^[-._a-zA-Z0-9]+$`. Only `Secret` is managed in those namespaces, and Secret values
//! never appear in the plan or the logs.

pub mod desired;

use clap::Args;
use qontract_gql_bindings::openshift_resources_namespaces::OpenshiftResourcesNamespaces;
use qontract_runtime::{Integration, RunContext, RunOutcome};

/// CLI name, also the `qontract.integration` annotation of the Secrets.
pub const NAME: &str = "openshift-vault-secrets";

/// Version recorded in `qontract.integration_version` (only the major is compared): upstream
/// `openshift_vault_secrets.QONTRACT_INTEGRATION_VERSION`.
pub const VERSION: &str = "1.9.3";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftVaultSecrets;

/// Arguments of `openshift-vault-secrets`.
#[derive(Debug, Clone, Args)]
pub struct OpenshiftVaultSecretsArgs {
    /// Which namespaces and clusters, and how the plan is shown
    #[command(flatten)]
    pub target: qontract_realize::TargetArgs,
}

impl Integration for OpenshiftVaultSecrets {
    type Args = OpenshiftVaultSecretsArgs;
    const NAME: &'static str = NAME;
    const ABOUT: &'static str =
        "Create a Secret for every vault-secret openshiftResource declared on namespaces";

    async fn run(ctx: RunContext, args: Self::Args) -> anyhow::Result<RunOutcome> {
        use cynic::QueryBuilder;
        let data = ctx.gql.run(OpenshiftResourcesNamespaces::build(())).await?;
        let filter = qontract_openshift_resources::desired::Filter {
            integration: NAME,
            cluster_name: args.target.cluster_name,
            namespace_name: args.target.namespace_name,
            shard: ctx.shard,
            ..Default::default()
        };
        let declared = desired::declared_secrets(&data.namespaces.unwrap_or_default(), &filter);
        let secrets = ctx.secrets.reader().await?;
        let desired =
            desired::desired_state(declared, secrets.as_ref(), ctx.thread_pool_size).await;
        tracing::info!(
            "desired state: {} Secret(s) in {} namespace(s), {} error(s)",
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
            // Upstream orb.fetch_current_state: ArgoCD Operator objects are not read.
            qontract_openshift_resources::desired::realize_options(),
        )
        .await
    }
}
