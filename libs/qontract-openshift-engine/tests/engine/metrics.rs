//! Prometheus metrics of a run.

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use qontract_openshift_engine::EngineMetrics;
use serde_json::json;

use crate::support::{
    INTEGRATION, Scenario, cluster_map, kube_client, namespace, options, owned_config_map,
    reconcile, server,
};

#[tokio::test]
async fn inventory_gauge_and_action_counters_are_exposed() {
    let server = server(vec![
        namespace("app"),
        owned_config_map("app", "stale", json!({"x": "1"})),
    ])
    .await;
    let clusters = cluster_map(vec![("c1", kube_client(&server, true))]);
    let scenario = Scenario::default().manage("c1", "app", &["ConfigMap"]).desire(
        "c1",
        "app",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}}),
    );
    let run = reconcile(&clusters, options(), &scenario, false).await;

    let mut registry = Registry::default();
    let metrics = EngineMetrics::register(&mut registry);
    metrics.publish_inventory(&run.inventory, INTEGRATION);
    metrics.record_apply(&run.apply, INTEGRATION);
    let mut text = String::new();
    encode(&mut text, &registry).expect("encode");
    let mut lines: Vec<&str> = text.lines().filter(|line| !line.starts_with('#')).collect();
    lines.sort_unstable();
    insta::assert_snapshot!("metrics", lines.join("\n"));
}
