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
use qontract_realize::{DesiredInventory, RealizeOptions};
use qontract_runtime::{ArgsOf, DesiredInput, IntegrationInfo, InventoryIntegration, NoArgs};

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
    const INFO: IntegrationInfo = IntegrationInfo {
        about: "Create a Secret for every vault-secret openshiftResource declared on namespaces",
        managed_types: &[MANAGED_TYPE],
        early_exit: false,
        streamed_by_cluster: true,
        ..IntegrationInfo::new(NAME, VERSION)
    };

    async fn desired(input: DesiredInput<'_, Self>) -> anyhow::Result<DesiredInventory> {
        let declared = desired::declared_secrets(input.data.namespaces(), input.scope);
        let secrets = input.ctx.secrets.reader().await?;
        Ok(desired::desired_state(declared, secrets.as_ref(), input.ctx.thread_pool_size).await)
    }

    /// Upstream orb.fetch_current_state: ArgoCD Operator objects are not read.
    fn realize_options(_: &ArgsOf<Self>) -> RealizeOptions {
        qontract_openshift_resources::desired::realize_options()
    }
}
