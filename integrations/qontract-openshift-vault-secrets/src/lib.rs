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

use qontract_gql_bindings::openshift_resources_namespaces::OpenshiftResourcesNamespaces;
use qontract_realize::{DesiredInventory, NamespaceFilter, RealizeOptions};
use qontract_runtime::{ArgsOf, InventoryIntegration, NoArgs, RunContext};

/// CLI name, also the `qontract.integration` annotation of the Secrets.
pub const NAME: &str = "openshift-vault-secrets";

/// Version recorded in `qontract.integration_version` (only the major is compared): upstream
/// `openshift_vault_secrets.QONTRACT_INTEGRATION_VERSION`.
pub const VERSION: &str = "1.9.3";

/// The managed type.
pub const MANAGED_TYPE: &str = "Secret";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftVaultSecrets;

impl InventoryIntegration for OpenshiftVaultSecrets {
    type Args = NoArgs;
    type Query = OpenshiftResourcesNamespaces;
    type Desired = DesiredInventory;
    const NAME: &'static str = NAME;
    const ABOUT: &'static str =
        "Create a Secret for every vault-secret openshiftResource declared on namespaces";
    const VERSION: &'static str = VERSION;
    const MANAGED_TYPES: &'static [&'static str] = &[MANAGED_TYPE];
    const EARLY_EXIT: bool = false;

    /// Streamed cluster by cluster: a namespace's desired state depends on its own data only.
    fn clusters(
        data: &OpenshiftResourcesNamespaces,
        scope: &NamespaceFilter,
    ) -> Option<Vec<String>> {
        let namespaces = data.namespaces.iter().flatten();
        Some(scope.clusters(namespaces.map(|ns| ns.cluster.name.as_str())))
    }

    async fn desired(
        ctx: &RunContext,
        data: &OpenshiftResourcesNamespaces,
        scope: &NamespaceFilter,
        _: &ArgsOf<Self>,
    ) -> anyhow::Result<DesiredInventory> {
        let declared =
            desired::declared_secrets(data.namespaces.as_deref().unwrap_or_default(), scope);
        let secrets = ctx.secrets.reader().await?;
        Ok(desired::desired_state(declared, secrets.as_ref(), ctx.thread_pool_size).await)
    }

    /// Upstream orb.fetch_current_state: ArgoCD Operator objects are not read.
    fn realize_options(_: &ArgsOf<Self>) -> RealizeOptions {
        qontract_openshift_resources::desired::realize_options()
    }
}
