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

use qontract_gql_bindings::network_policies_namespaces::NetworkPoliciesNamespaces;
use qontract_realize::DesiredInventory;
use qontract_runtime::{DesiredInput, IntegrationInfo, InventoryIntegration, NoArgs};

/// CLI name, also the `qontract.integration` annotation of the objects.
pub const NAME: &str = "openshift-network-policies";

/// Version recorded in `qontract.integration_version` (only the major is compared).
pub const VERSION: &str = "0.1.0";

/// The managed type.
pub const MANAGED_TYPE: &str = "NetworkPolicy.networking.k8s.io";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftNetworkPolicies;

impl InventoryIntegration for OpenshiftNetworkPolicies {
    type Args = NoArgs;
    type Query = NetworkPoliciesNamespaces;
    type Desired = DesiredInventory;
    const INFO: IntegrationInfo = IntegrationInfo {
        about: "Create a NetworkPolicy admitting ingress from each namespace listed in \
                networkPoliciesAllow",
        managed_types: &[MANAGED_TYPE],
        // A namespace's desired state depends on its own data only (a source namespace on
        // another cluster is an error).
        streamed_by_cluster: true,
        ..IntegrationInfo::new(NAME, VERSION)
    };

    async fn desired(input: DesiredInput<'_, Self>) -> anyhow::Result<DesiredInventory> {
        Ok(desired::desired_state(input.data.namespaces(), input.scope))
    }
}
