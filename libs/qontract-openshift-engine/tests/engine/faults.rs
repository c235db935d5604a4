//! Faults: an unreachable cluster, throttling, persistent server errors.

use qontract_openshift_engine::OutcomeKind;
use qontract_resource_inventory::{TableOptions, render_table};
use serde_json::json;

use crate::support::{
    Scenario, cluster_map, config_map, kube_client, namespace, options, owned_config_map,
    reconcile, server, writes,
};

fn two_cluster_scenario() -> Scenario {
    let mut scenario = Scenario::default();
    for cluster in ["cluster-a", "cluster-b"] {
        scenario = scenario.manage(cluster, "app", &["ConfigMap"]).desire(
            cluster,
            "app",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"k": "v"}}),
        );
    }
    scenario
}

#[tokio::test]
async fn unreachable_cluster_is_an_error_and_the_other_is_reconciled_without_deletes() {
    let seeds = || {
        vec![
            namespace("app"),
            owned_config_map("app", "stale", json!({"old": "1"})),
        ]
    };
    let server_a = server(seeds()).await;
    let server_b = server(seeds()).await;
    let clusters = cluster_map(vec![
        ("cluster-a", kube_client(&server_a, true)),
        ("cluster-b", kube_client(&server_b, true)),
    ]);
    server_b.set_unreachable(true);

    let run = reconcile(&clusters, options(), &two_cluster_scenario(), false).await;

    assert_eq!(
        run.fetch.failed_clusters.iter().collect::<Vec<_>>(),
        vec!["cluster-b"]
    );
    assert_eq!(run.fetch.errors.len(), 1);
    assert!(
        run.fetch.errors[0].starts_with("[cluster-b]"),
        "{}",
        run.fetch.errors[0]
    );
    // The run must exit non-zero.
    assert!(run.inventory.has_error_registered());
    assert!(run.plan.has_errors());
    assert!(!run.plan.deletion_enabled);
    // cluster-a got its object, and nothing was deleted anywhere.
    assert!(
        server_a
            .get_object("v1", "ConfigMap", Some("app"), "settings")
            .is_some()
    );
    assert!(
        server_a
            .get_object("v1", "ConfigMap", Some("app"), "stale")
            .is_some()
    );
    server_b.set_unreachable(false);
    assert!(
        server_b
            .get_object("v1", "ConfigMap", Some("app"), "stale")
            .is_some()
    );
    assert!(
        server_b
            .get_object("v1", "ConfigMap", Some("app"), "settings")
            .is_none()
    );
    assert!(writes(&server_b.requests()).is_empty());
    assert!(
        !server_a.requests().iter().any(|r| r.method == "DELETE"),
        "no delete may be sent"
    );
    let summary_a = run
        .apply
        .clusters
        .get("cluster-a")
        .copied()
        .unwrap_or_default();
    assert_eq!(summary_a.applied, 1);
    assert!(!run.apply.clusters.contains_key("cluster-b"));
    let rendered = render_table(
        &run.plan,
        TableOptions {
            include_unchanged: true,
        },
    );
    insta::assert_snapshot!("unreachable_cluster_plan", rendered,);
}

#[tokio::test]
async fn throttled_apply_is_retried_after_retry_after() {
    let server = server(vec![namespace("app")]).await;
    // kube's own retry layer is off: the engine's retry must honour Retry-After itself.
    let clusters = cluster_map(vec![("cluster-a", kube_client(&server, false))]);
    server.throttle_next("PATCH /api/v1/namespaces/app/configmaps/settings", 1, 2);
    let scenario = Scenario::default().manage("cluster-a", "app", &["ConfigMap"]).desire(
        "cluster-a",
        "app",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"k": "v"}}),
    );

    let run = reconcile(&clusters, options(), &scenario, false).await;

    assert!(!run.apply.has_errors(), "{:?}", run.apply.errors);
    let statuses: Vec<u16> = server
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![429, 429, 201]);
    assert_eq!(
        server
            .get_object("v1", "ConfigMap", Some("app"), "settings")
            .expect("created")["data"],
        json!({"k": "v"})
    );
}

#[tokio::test]
async fn persistent_server_error_on_one_object_is_registered_and_the_rest_is_done() {
    let server = server(vec![
        namespace("app"),
        owned_config_map("app", "stale", json!({"old": "1"})),
    ])
    .await;
    let clusters = cluster_map(vec![("cluster-a", kube_client(&server, true))]);
    server.fail_next_n("PATCH /api/v1/namespaces/app/configmaps/broken", 500, 10);
    let mut scenario = Scenario::default().manage("cluster-a", "app", &["ConfigMap", "Secret"]);
    for name in ["alpha", "broken", "omega"] {
        scenario = scenario.desire(
            "cluster-a",
            "app",
            config_map("app", name, json!({"name": name})),
        );
    }
    scenario = scenario.desire(
        "cluster-a",
        "app",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"}, "data": {"t": "c2VjcmV0"}}),
    );

    let run = reconcile(&clusters, options(), &scenario, false).await;

    assert_eq!(run.apply.errors.len(), 1, "{:?}", run.apply.errors);
    assert_eq!(
        run.apply.errors[0],
        "[cluster-a/app] error applying ConfigMap broken: 500 InternalError: Internal error occurred: injected failure"
    );
    assert!(run.inventory.has_error_registered());
    // Three attempts (the retry policy), then the object is given up; the rest is applied.
    let broken_patches = server
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/configmaps/broken"))
        .count();
    assert_eq!(broken_patches, 3);
    for name in ["alpha", "omega"] {
        assert!(
            server
                .get_object("v1", "ConfigMap", Some("app"), name)
                .is_some()
        );
    }
    assert!(
        server
            .get_object("v1", "Secret", Some("app"), "token")
            .is_some()
    );
    // The error disables the deletes planned in the same run.
    assert!(
        server
            .get_object("v1", "ConfigMap", Some("app"), "stale")
            .is_some()
    );
    let stale = run
        .apply
        .outcomes
        .iter()
        .find(|o| o.name == "stale")
        .expect("stale outcome");
    assert_eq!(stale.outcome, OutcomeKind::Skipped);
    insta::assert_json_snapshot!("server_error_report", run.apply);
}

#[tokio::test]
async fn secret_errors_never_show_the_server_message() {
    let server = server(vec![namespace("app")]).await;
    let clusters = cluster_map(vec![("cluster-a", kube_client(&server, true))]);
    server.fail_next_n("PATCH /api/v1/namespaces/app/secrets/token", 500, 10);
    let scenario = Scenario::default().manage("cluster-a", "app", &["Secret"]).desire(
        "cluster-a",
        "app",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"}, "data": {"t": "c2VjcmV0"}}),
    );
    let run = reconcile(&clusters, options(), &scenario, false).await;
    assert_eq!(
        run.apply.errors,
        vec!["[cluster-a/app] error applying Secret token: 500 InternalError (message redacted)"]
    );
}

#[tokio::test]
async fn privileged_objects_use_the_cluster_admin_client() {
    let server = qontract_kube_testserver::KubeTestServer::builder()
        .https(false)
        .token(crate::support::TOKEN)
        .readonly_token("read-only")
        .seed(namespace("app"))
        .start()
        .await
        .expect("server");
    let mut config = kube::Config::new(server.url().parse().expect("url"));
    config.headers.push((
        http::header::AUTHORIZATION,
        http::HeaderValue::from_static("Bearer read-only"),
    ));
    let read_only = kube::Client::try_from(config).expect("client");
    let mut clusters = cluster_map(vec![("c1", read_only)]);
    clusters.insert(qontract_cluster_client::ClusterClient::new(
        "c1",
        true,
        kube_client(&server, true),
    ));
    let mut inventory = Scenario::default()
        .manage("c1", "app", &["ConfigMap"])
        .inventory();
    for (name, privileged) in [("admin-only", true), ("plain", false)] {
        let resource = qontract_openshift_resource::OpenshiftResource::new(
            config_map("app", name, json!({})),
            crate::support::INTEGRATION,
            crate::support::VERSION,
            "test",
            None,
        )
        .expect("resource");
        inventory
            .add_desired_resource("c1", "app", resource, privileged)
            .expect("added");
    }
    let engine = qontract_openshift_engine::Engine::new(&clusters, options());
    let fetched = engine.fetch_current_state(&mut inventory).await;
    let plan = qontract_resource_inventory::compute_plan(&mut inventory, &Default::default());
    let report = engine
        .apply_plan(&plan, &mut inventory, &fetched, false)
        .await;

    assert!(
        server
            .get_object("v1", "ConfigMap", Some("app"), "admin-only")
            .is_some()
    );
    assert!(
        server
            .get_object("v1", "ConfigMap", Some("app"), "plain")
            .is_none()
    );
    assert_eq!(report.errors.len(), 1);
    assert!(
        report.errors[0].starts_with("[c1/app] error applying ConfigMap plain: 403 Forbidden"),
        "{}",
        report.errors[0]
    );
}
