//! Reconcile throughput against the loopback test server: fetch, plan and apply of
//! `NAMESPACES x OBJECTS` ConfigMaps (a first, creating run and a second, converged run).
//! Prints figures; asserts nothing about time.
//!
//! `cargo bench -p qontract-openshift-engine --bench reconcile`

use std::time::{Duration, Instant};

use qontract_cluster_client::{ClusterClient, ClusterMap};
use qontract_kube_testserver::KubeTestServer;
use qontract_openshift_engine::{Engine, EngineOptions};
use qontract_openshift_resource::OpenshiftResource;
use qontract_resource_inventory::{PlanOptions, ResourceInventory, compute_plan};
use serde_json::json;

const NAMESPACES: usize = 20;
const OBJECTS: usize = 100;
const TOKEN: &str = "bench";

fn inventory() -> ResourceInventory {
    let mut inventory = ResourceInventory::new();
    for ns in 0..NAMESPACES {
        let namespace = format!("ns-{ns}");
        inventory.initialize_resource_type("bench", &namespace, "ConfigMap", None);
        for object in 0..OBJECTS {
            let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("cm-{object}")},
                "data": {"index": object.to_string(), "payload": "x".repeat(200)}});
            let resource = OpenshiftResource::new(body, "bench", "1.0.0", "bench", None)
                .expect("valid object");
            inventory
                .add_desired("bench", &namespace, "ConfigMap", resource, false)
                .expect("added");
        }
    }
    inventory
}

async fn run(engine: &Engine<'_>, label: &str) {
    let mut inventory = inventory();
    let started = Instant::now();
    let fetched = engine.fetch_current_state(&mut inventory).await;
    let fetch_time = started.elapsed();
    let started = Instant::now();
    let plan = compute_plan(&mut inventory, &PlanOptions::default());
    let plan_time = started.elapsed();
    let started = Instant::now();
    let report = engine
        .apply_plan(&plan, &mut inventory, &fetched, false)
        .await;
    let apply_time = started.elapsed();
    let summary = plan.summary();
    println!(
        "{label}: {} objects; fetch {:>8.1?} ({} requests), plan {:>8.1?}, apply {:>8.1?} ({} writes; {} created, {} updated, {} unchanged, {} errors)",
        NAMESPACES * OBJECTS,
        fetch_time,
        fetched.requests,
        plan_time,
        apply_time,
        report.writes,
        summary.create,
        summary.update,
        summary.no_op,
        report.errors.len(),
    );
}

#[tokio::main]
async fn main() {
    let mut builder = KubeTestServer::builder().https(false).token(TOKEN);
    for ns in 0..NAMESPACES {
        builder = builder.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("ns-{ns}")}}));
    }
    let server = builder.start().await.expect("start test server");
    let mut config = kube::Config::new(server.url().parse().expect("url"));
    config.read_timeout = Some(Duration::from_secs(30));
    config.headers.push((
        http::header::AUTHORIZATION,
        http::HeaderValue::from_str(&format!("Bearer {TOKEN}")).expect("header"),
    ));
    let mut clusters = ClusterMap::default();
    clusters.insert(ClusterClient::new(
        "bench",
        false,
        kube::Client::try_from(config).expect("client"),
    ));
    for concurrency in [1, 10] {
        let mut options = EngineOptions::new("bench", "1.0.0");
        options.concurrency = concurrency;
        let engine = Engine::new(&clusters, options);
        if concurrency == 1 {
            run(&engine, "first run (creates), concurrency 1").await;
        }
        run(
            &engine,
            &format!("converged run, concurrency {concurrency}"),
        )
        .await;
    }
}
