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

use qontract_gql_bindings::namespaces_minimal::NamespacesMinimal;
use qontract_realize::DesiredNamespaces;
use qontract_runtime::{DesiredInput, IntegrationInfo, InventoryIntegration, NoArgs};

/// Integration name (also the `integrations_v1` entry).
pub const NAME: &str = "openshift-namespaces";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftNamespaces;

impl InventoryIntegration for OpenshiftNamespaces {
    type Args = NoArgs;
    type Query = NamespacesMinimal;
    type Desired = DesiredNamespaces;
    const INFO: IntegrationInfo = IntegrationInfo {
        about: "Create the namespaces declared in app-interface and delete those marked \
                delete: true",
        ..IntegrationInfo::new(NAME, "0.1.0")
    };

    async fn desired(input: DesiredInput<'_, Self>) -> anyhow::Result<DesiredNamespaces> {
        let filter = desired::Filter {
            scope: input.scope.clone(),
            internal: input.args.target.scope.internal(),
        };
        Ok(desired::desired_state(input.data.namespaces(), &filter))
    }
}
