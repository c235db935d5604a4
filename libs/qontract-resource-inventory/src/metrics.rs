//! Samples of the `qontract_reconcile_openshift_resource_inventory` gauge (upstream
//! `openshift_base.publish_metrics`), produced without depending on a metrics library.

use serde::Serialize;

use crate::inventory::ResourceInventory;

/// Name of the gauge.
pub const INVENTORY_GAUGE_NAME: &str = "qontract_reconcile_openshift_resource_inventory";

/// One sample of the inventory gauge: the number of objects of one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryGaugeSample {
    /// Integration name with `_` replaced by `-` (as upstream).
    pub integration: String,
    /// Cluster name.
    pub cluster: String,
    /// Namespace name.
    pub namespace: String,
    /// Resource type.
    pub kind: String,
    /// `current` or `desired`.
    pub state: &'static str,
    /// Number of objects.
    pub value: usize,
}

impl ResourceInventory {
    /// The gauge samples for every `(cluster, namespace, resource type)`: one for the current
    /// and one for the desired objects.
    pub fn inventory_gauge_samples(&self, integration: &str) -> Vec<InventoryGaugeSample> {
        let integration = integration.replace('_', "-");
        self.iter()
            .flat_map(|(cluster, namespace, kind, state)| {
                [
                    ("current", state.current().len()),
                    ("desired", state.desired().len()),
                ]
                .map(|(state, value)| InventoryGaugeSample {
                    integration: integration.clone(),
                    cluster: cluster.to_owned(),
                    namespace: namespace.to_owned(),
                    kind: kind.to_owned(),
                    state,
                    value,
                })
            })
            .collect()
    }
}
