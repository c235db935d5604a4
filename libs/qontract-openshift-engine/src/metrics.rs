//! Prometheus metrics of the engine: the upstream inventory gauge and per-action counters.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use qontract_resource_inventory::{INVENTORY_GAUGE_NAME, InventoryGaugeSample, ResourceInventory};

use crate::apply::{ApplyReport, OutcomeKind};

/// Name of the per-action counter (exposed with the `_total` suffix).
pub const ACTIONS_COUNTER_NAME: &str = "qontract_reconcile_openshift_actions";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InventoryLabels {
    integration: String,
    cluster: String,
    namespace: String,
    kind: String,
    state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    integration: String,
    cluster: String,
    kind: String,
    action: String,
    outcome: String,
}

/// The engine's metrics, registered in a caller-supplied registry.
#[derive(Debug, Clone, Default)]
pub struct EngineMetrics {
    inventory: Family<InventoryLabels, Gauge>,
    actions: Family<ActionLabels, Counter>,
}

impl EngineMetrics {
    /// Registers `qontract_reconcile_openshift_resource_inventory` (gauge: integration,
    /// cluster, namespace, kind, state) and `qontract_reconcile_openshift_actions_total`
    /// (counter: integration, cluster, kind, action, outcome) in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            INVENTORY_GAUGE_NAME,
            "Number of objects per cluster, namespace, kind and state (current/desired)",
            metrics.inventory.clone(),
        );
        registry.register(
            ACTIONS_COUNTER_NAME,
            "Changes carried out on clusters, by action and outcome",
            metrics.actions.clone(),
        );
        metrics
    }

    /// Sets the inventory gauge from `inventory` (upstream `publish_metrics`); samples of a
    /// previous publication are dropped first.
    pub fn publish_inventory(&self, inventory: &ResourceInventory, integration: &str) {
        self.publish_samples(inventory.inventory_gauge_samples(integration));
    }

    /// Sets the inventory gauge to `samples` (e.g. openshift-namespaces' desired namespaces per
    /// cluster, upstream `publish_cluster_desired_metrics_from_state`); samples of a previous
    /// publication are dropped first.
    pub fn publish_samples(&self, samples: impl IntoIterator<Item = InventoryGaugeSample>) {
        self.inventory.clear();
        for sample in samples {
            let labels = InventoryLabels {
                integration: sample.integration,
                cluster: sample.cluster,
                namespace: sample.namespace,
                kind: sample.kind,
                state: sample.state.to_owned(),
            };
            self.inventory
                .get_or_create(&labels)
                .set(i64::try_from(sample.value).unwrap_or(i64::MAX));
        }
    }

    /// Counts the outcomes of an apply run, and the workloads it restarted (`action=recycle`).
    pub fn record_apply(&self, report: &ApplyReport, integration: &str) {
        let integration = integration.replace('_', "-");
        for outcome in &report.outcomes {
            let result = match outcome.outcome {
                OutcomeKind::Applied => "applied",
                OutcomeKind::Recreated => "recreated",
                OutcomeKind::Deleted => "deleted",
                OutcomeKind::DryRun => "dry_run",
                OutcomeKind::Skipped => "skipped",
                OutcomeKind::Failed => "failed",
            };
            let labels = ActionLabels {
                integration: integration.clone(),
                cluster: outcome.cluster.clone(),
                kind: outcome.resource_type.clone(),
                action: outcome.action.to_string(),
                outcome: result.to_owned(),
            };
            self.actions.get_or_create(&labels).inc();
            if !outcome.recycled.is_empty() && !report.dry_run {
                let labels = ActionLabels {
                    action: "recycle".to_owned(),
                    outcome: "applied".to_owned(),
                    ..labels
                };
                self.actions
                    .get_or_create(&labels)
                    .inc_by(outcome.recycled.len() as u64);
            }
        }
    }
}
