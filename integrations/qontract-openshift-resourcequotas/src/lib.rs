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

use qontract_gql_bindings::resourcequotas_namespaces::ResourceQuotasNamespaces;
use qontract_realize::DesiredInventory;
use qontract_runtime::{DesiredInput, IntegrationInfo, InventoryIntegration, NoArgs};

/// CLI name, also the `qontract.integration` annotation of the objects.
pub const NAME: &str = "openshift-resourcequotas";

/// Version recorded in `qontract.integration_version` (only the major is compared).
pub const VERSION: &str = "0.1.0";

/// The managed type.
pub const MANAGED_TYPE: &str = "ResourceQuota";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftResourceQuotas;

impl InventoryIntegration for OpenshiftResourceQuotas {
    type Args = NoArgs;
    type Query = ResourceQuotasNamespaces;
    type Desired = DesiredInventory;
    const INFO: IntegrationInfo = IntegrationInfo {
        about: "Create the ResourceQuotas declared by each namespace's quota",
        managed_types: &[MANAGED_TYPE],
        streamed_by_cluster: true,
        ..IntegrationInfo::new(NAME, VERSION)
    };

    async fn desired(input: DesiredInput<'_, Self>) -> anyhow::Result<DesiredInventory> {
        Ok(desired::desired_state(input.data.namespaces(), input.scope))
    }
}
