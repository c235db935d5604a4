//! Wet run, idempotence (the second run plans nothing) and dry run (zero writes).

use qontract_openshift_engine::OutcomeKind;
use qontract_resource_inventory::{Action, TableOptions, render_table};
use serde_json::{Value, json};

use crate::support::{
    Scenario, cluster_map, config_map, kube_client, namespace, options, owned_config_map,
    reconcile, server, writes,
};

const CLUSTER: &str = "cluster-a";
const NS: &str = "app";

fn seeds() -> Vec<Value> {
    vec![
        namespace(NS),
        owned_config_map(NS, "old-config", json!({"stale": "yes"})),
        config_map(NS, "unmanaged", json!({"k": "v"})),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "not-listed", "namespace": NS}}),
    ]
}

fn scenario() -> Scenario {
    Scenario::default()
        .manage(
            CLUSTER,
            NS,
            &["ConfigMap", "Secret", "Deployment.apps", "Service", "Widget.example.com"],
        )
        .manage_names(CLUSTER, NS, "ServiceAccount", &["builder", "not-there-yet"])
        .manage(CLUSTER, "cluster", &["ClusterRole"])
        .desire(CLUSTER, NS, json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "labels": {"app": "web"}},
            "data": {"LOG_LEVEL": "info", "FEATURE": "on"}
        }))
        .desire(CLUSTER, NS, json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "creds"},
            "data": {"password": "aHVudGVyMg=="}
        }))
        .desire(CLUSTER, NS, json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "quay.io/app/web:1.0",
                        "envFrom": [{"configMapRef": {"name": "settings"}}]}]}
                }
            }
        }))
        .desire(CLUSTER, NS, json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
        }))
        .desire(CLUSTER, NS, json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "builder"}
        }))
        .desire(CLUSTER, "cluster", json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "engine-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
        }))
}

fn table(plan: &qontract_resource_inventory::Plan) -> String {
    render_table(
        plan,
        TableOptions {
            include_unchanged: true,
        },
    )
}

#[tokio::test]
async fn wet_run_converges_and_second_run_plans_nothing() {
    let server = server(seeds()).await;
    let clusters = cluster_map(vec![(CLUSTER, kube_client(&server, true))]);

    let first = reconcile(&clusters, options(), &scenario(), false).await;
    assert!(first.fetch.errors.is_empty(), "{:?}", first.fetch.errors);
    assert_eq!(
        first.fetch.warnings,
        vec![
            "[cluster-a/app] kind Widget.example.com is not served by the cluster; no current objects read (nothing of it can be deleted)"
        ]
    );
    assert!(!first.apply.has_errors(), "{:?}", first.apply.errors);
    assert!(!first.inventory.has_error_registered());
    insta::assert_snapshot!("wet_run_plan", table(&first.plan));
    insta::assert_json_snapshot!("wet_run_report", first.apply);

    // The cluster now holds exactly the desired objects, annotated, applied by our manager.
    let settings = server
        .get_object("v1", "ConfigMap", Some(NS), "settings")
        .expect("settings created");
    assert_eq!(
        settings["data"],
        json!({"LOG_LEVEL": "info", "FEATURE": "on"})
    );
    assert_eq!(
        settings["metadata"]["annotations"]["qontract.integration"],
        "openshift_resources"
    );
    assert_eq!(
        settings["metadata"]["annotations"]["qontract.update"],
        crate::support::TIMESTAMP
    );
    let managers: Vec<&str> = settings["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .map(|e| e["manager"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(managers, vec![crate::support::MANAGER]);
    assert!(
        server
            .get_object("apps/v1", "Deployment", Some(NS), "web")
            .is_some()
    );
    assert!(
        server
            .get_object("v1", "Service", Some(NS), "web")
            .is_some()
    );
    assert!(
        server
            .get_object("v1", "Secret", Some(NS), "creds")
            .is_some()
    );
    assert!(
        server
            .get_object("v1", "ServiceAccount", Some(NS), "builder")
            .is_some()
    );
    assert!(
        server
            .get_object(
                "rbac.authorization.k8s.io/v1",
                "ClusterRole",
                None,
                "engine-reader"
            )
            .is_some()
    );
    // Ours and no longer desired: deleted. Not ours: left alone.
    assert!(
        server
            .get_object("v1", "ConfigMap", Some(NS), "old-config")
            .is_none()
    );
    assert!(
        server
            .get_object("v1", "ConfigMap", Some(NS), "unmanaged")
            .is_some()
    );
    assert!(
        server
            .get_object("v1", "ServiceAccount", Some(NS), "not-listed")
            .is_some()
    );
    // Every apply is a server-side apply with our field manager and force.
    for request in server.requests().iter().filter(|r| r.method == "PATCH") {
        assert_eq!(
            request.content_type.as_deref(),
            Some("application/apply-patch+yaml")
        );
        assert_eq!(
            request.field_manager.as_deref(),
            Some(crate::support::MANAGER)
        );
        assert!(request.query.contains("force=true"), "{}", request.query);
    }

    server.clear_requests();
    let second = reconcile(&clusters, options(), &scenario(), false).await;
    let summary = second.plan.summary();
    assert_eq!(
        (summary.create, summary.update, summary.delete),
        (0, 0, 0),
        "{}",
        table(&second.plan)
    );
    assert!(writes(&server.requests()).is_empty());
    insta::assert_snapshot!("second_run_plan", table(&second.plan));
}

#[tokio::test]
async fn dry_run_makes_no_write_and_plans_what_the_wet_run_does() {
    let server = server(seeds()).await;
    let clusters = cluster_map(vec![(CLUSTER, kube_client(&server, true))]);

    let dry = reconcile(&clusters, options(), &scenario(), true).await;
    assert!(
        writes(&server.requests()).is_empty(),
        "{:?}",
        writes(&server.requests())
    );
    assert!(
        dry.apply
            .outcomes
            .iter()
            .all(|o| o.outcome == OutcomeKind::DryRun)
    );
    assert_eq!(dry.apply.writes, 0);
    assert!(
        server
            .get_object("v1", "ConfigMap", Some(NS), "settings")
            .is_none()
    );
    assert!(
        server
            .get_object("v1", "ConfigMap", Some(NS), "old-config")
            .is_some()
    );

    let wet = reconcile(&clusters, options(), &scenario(), false).await;
    assert_eq!(table(&dry.plan), table(&wet.plan));
    let done: Vec<(Action, &str)> = wet
        .apply
        .outcomes
        .iter()
        .map(|o| (o.action, o.name.as_str()))
        .collect();
    let planned: Vec<(Action, &str)> = dry
        .apply
        .outcomes
        .iter()
        .map(|o| (o.action, o.name.as_str()))
        .collect();
    assert_eq!(done, planned);
}

#[tokio::test]
async fn custom_resource_of_a_definition_applied_in_the_same_run_is_created() {
    let server = server(vec![namespace(NS)]).await;
    let clusters = cluster_map(vec![(CLUSTER, kube_client(&server, true))]);
    let scenario = Scenario::default()
        .manage(CLUSTER, "cluster", &["CustomResourceDefinition"])
        .manage(CLUSTER, NS, &["Widget.example.com"])
        .desire(
            CLUSTER,
            "cluster",
            qontract_kube_testserver::custom_resource_definition(
                "example.com",
                "v1",
                "Widget",
                "widgets",
                true,
            ),
        )
        .desire(
            CLUSTER,
            NS,
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}}),
        );

    let first = reconcile(&clusters, options(), &scenario, false).await;

    assert!(!first.apply.has_errors(), "{:?}", first.apply.errors);
    let widget = server
        .get_object("example.com/v1", "Widget", Some(NS), "w1")
        .expect("widget created");
    assert_eq!(widget["spec"]["size"], 3);

    let clusters = cluster_map(vec![(CLUSTER, kube_client(&server, true))]);
    let second = reconcile(&clusters, options(), &scenario, false).await;
    assert!(
        second.fetch.warnings.is_empty(),
        "{:?}",
        second.fetch.warnings
    );
    assert_eq!(second.plan.changes().count(), 0, "{}", table(&second.plan));
}

#[tokio::test]
async fn namespaced_object_of_a_cluster_scoped_integration_needs_a_namespace() {
    let server = server(vec![namespace(NS)]).await;
    let clusters = cluster_map(vec![(CLUSTER, kube_client(&server, true))]);
    let scenario = Scenario::default()
        .manage(CLUSTER, "cluster", &["ConfigMap"])
        .desire(
            CLUSTER,
            "cluster",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "placed", "namespace": NS}, "data": {}}),
        )
        .desire(
            CLUSTER,
            "cluster",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "nowhere"}, "data": {}}),
        );

    let run = reconcile(&clusters, options(), &scenario, false).await;

    assert!(
        server
            .get_object("v1", "ConfigMap", Some(NS), "placed")
            .is_some()
    );
    assert_eq!(
        run.apply.errors,
        vec![
            "[cluster-a/cluster] ConfigMap nowhere: the kind is namespaced but the manifest has no metadata.namespace"
        ]
    );
}

#[tokio::test]
async fn object_in_a_namespace_that_does_not_exist_yet_is_skipped_with_a_warning() {
    let server = server(vec![
        namespace(NS),
        owned_config_map(NS, "stale", json!({})),
    ])
    .await;
    let clusters = cluster_map(vec![(CLUSTER, kube_client(&server, true))]);
    let scenario = Scenario::default()
        .manage(CLUSTER, "later", &["ConfigMap"])
        .manage(CLUSTER, NS, &["ConfigMap"])
        .desire(CLUSTER, "later", config_map("later", "early", json!({})));

    let run = reconcile(&clusters, options(), &scenario, false).await;

    assert!(!run.apply.has_errors(), "{:?}", run.apply.errors);
    assert!(!run.inventory.has_error_registered());
    let early = &run.apply.outcomes[0];
    assert_eq!(early.outcome, OutcomeKind::Skipped);
    assert_eq!(
        early.detail.as_deref(),
        Some("[cluster-a/later] ConfigMap early: namespace does not exist (yet).")
    );
    // Not an error: the deletes of the run still happen.
    assert!(
        server
            .get_object("v1", "ConfigMap", Some(NS), "stale")
            .is_none()
    );
}

#[tokio::test]
async fn secret_with_string_data_and_service_defaults_converge() {
    let server = server(vec![namespace(NS)]).await;
    let clusters = cluster_map(vec![(CLUSTER, kube_client(&server, true))]);
    let scenario = Scenario::default()
        .manage(CLUSTER, NS, &["Secret", "Service", "Route"])
        .desire(
            CLUSTER,
            NS,
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"user": "admin"}}),
        )
        .desire(
            CLUSTER,
            NS,
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
                "spec": {"type": "ClusterIP", "selector": {"app": "a"}, "ports": [{"port": 443, "protocol": "TCP"}]}}),
        )
        .desire(
            CLUSTER,
            NS,
            json!({"apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": {"name": "r"},
                "spec": {"host": "a.example.com", "to": {"kind": "Service", "name": "svc"}}}),
        );
    let first = reconcile(&clusters, options(), &scenario, false).await;
    assert!(!first.apply.has_errors(), "{:?}", first.apply.errors);
    let second = reconcile(&clusters, options(), &scenario, false).await;
    assert_eq!(second.plan.changes().count(), 0, "{}", table(&second.plan));
}
