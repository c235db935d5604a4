//! Prometheus metrics of the daemon loop, served on `/metrics` and optionally pushed to a
//! Pushgateway, with the Python tool's names and labels. The extended early exit metrics
//! ([`crate::extended_early_exit::metrics`]) are served too.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels of the run metrics.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RunLabels {
    /// Integration name.
    pub integration: String,
    /// `SHARDS`.
    pub shards: String,
    /// `SHARD_ID`.
    pub shard_id: String,
}

/// The daemon's metrics.
#[derive(Debug, Clone)]
pub struct RunMetrics {
    registry: Arc<Registry>,
    push_registry: Arc<Registry>,
    /// `qontract_reconcile_execution_counter`
    pub execution_counter: Family<RunLabels, Counter>,
    /// `qontract_reconcile_last_run_seconds`
    pub last_run_seconds: Family<RunLabels, Gauge<f64, AtomicU64>>,
    /// `qontract_reconcile_last_run_status`
    pub last_run_status: Family<RunLabels, Gauge>,
}

impl Default for RunMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl RunMetrics {
    /// Register the metrics in a fresh registry (and the last-run gauges in the push registry).
    pub fn new() -> Self {
        let execution_counter = Family::<RunLabels, Counter>::default();
        let last_run_seconds = Family::<RunLabels, Gauge<f64, AtomicU64>>::default();
        let last_run_status = Family::<RunLabels, Gauge>::default();
        let mut registry = Registry::default();
        let mut push_registry = Registry::default();
        for reg in [&mut registry, &mut push_registry] {
            reg.register(
                "qontract_reconcile_last_run_seconds",
                "Last run duration in seconds",
                last_run_seconds.clone(),
            );
            reg.register(
                "qontract_reconcile_last_run_status",
                "Last run status (the exit code)",
                last_run_status.clone(),
            );
        }
        // prometheus-client appends `_total` to counters, giving the Python tool's
        // `qontract_reconcile_execution_counter_total` sample name.
        registry.register(
            "qontract_reconcile_execution_counter",
            "Counts of executions",
            execution_counter.clone(),
        );
        crate::extended_early_exit::metrics().register(&mut registry);
        Self {
            registry: Arc::new(registry),
            push_registry: Arc::new(push_registry),
            execution_counter,
            last_run_seconds,
            last_run_status,
        }
    }

    /// Text exposition of every metric.
    pub fn encode(&self) -> String {
        let own = encode(&self.registry);
        let shared = match process_registry().lock() {
            Ok(registry) => encode(&registry),
            Err(_) => String::new(),
        };
        // Both expositions end with OpenMetrics' `# EOF`; keep one, at the end.
        let own = own.strip_suffix("# EOF\n").unwrap_or(&own);
        format!("{own}{shared}")
    }

    /// Text exposition of what is pushed to the Pushgateway (the last-run gauges).
    pub fn encode_for_push(&self) -> String {
        encode(&self.push_registry)
    }
}

/// The registry integrations and libraries register their own metrics in (e.g. the
/// OpenShift engine's inventory gauge); `/metrics` of the daemon serves it next to the run
/// metrics. Register each metric once per process.
pub fn process_registry() -> &'static std::sync::Mutex<Registry> {
    static REGISTRY: std::sync::OnceLock<std::sync::Mutex<Registry>> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| std::sync::Mutex::new(Registry::default()))
}

fn encode(registry: &Registry) -> String {
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, registry).is_err() {
        out.clear();
    }
    out
}
