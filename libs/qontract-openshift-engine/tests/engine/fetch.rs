//! Reading current state into the inventory.

use qontract_openshift_engine::{Engine, ObjectKey};
use serde_json::json;

use crate::support::{
    Scenario, cluster_map, config_map, kube_client, namespace, options, owned_config_map, server,
};

#[tokio::test]
async fn fetch_reads_lists_names_groups_and_tolerates_missing_namespaces_and_kinds() {
    let server = server(vec![
        namespace("app"),
        config_map("app", "one", json!({"a": "1"})),
        config_map("app", "two", json!({"b": "2"})),
        config_map("elsewhere", "three", json!({"c": "3"})),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "app"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "x"}]}}}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder", "namespace": "app"}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "unlisted", "namespace": "app"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "reader"}, "rules": []}),
    ])
    .await;
    let clusters = cluster_map(vec![("c1", kube_client(&server, true))]);
    let scenario = Scenario::default()
        .manage(
            "c1",
            "app",
            &["ConfigMap", "Deployment.apps", "Gadget.example.com"],
        )
        .manage_names("c1", "app", "ServiceAccount", &["builder", "absent"])
        .manage("c1", "not-created-yet", &["ConfigMap"])
        .manage("c1", "cluster", &["ClusterRole"]);
    let mut inventory = scenario.inventory();
    let engine = Engine::new(&clusters, options());

    let report = engine.fetch_current_state(&mut inventory).await;

    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(!inventory.has_error_registered());
    let names = |ns: &str, resource_type: &str| -> Vec<String> {
        inventory
            .state("c1", ns, resource_type)
            .expect("initialised")
            .current()
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(names("app", "ConfigMap"), vec!["one", "two"]);
    assert_eq!(names("app", "Deployment.apps"), vec!["web"]);
    assert_eq!(names("app", "ServiceAccount"), vec!["builder"]);
    assert!(names("not-created-yet", "ConfigMap").is_empty());
    assert!(names("cluster", "ClusterRole").contains(&"reader".to_owned()));
    assert!(names("app", "Gadget.example.com").is_empty());
    assert_eq!(report.warnings.len(), 1);
    assert!(
        report.warnings[0].contains("Gadget.example.com"),
        "{:?}",
        report.warnings
    );
    // Items of a list carry their apiVersion and kind in the inventory.
    let web = inventory
        .get_current("c1", "app", "Deployment.apps", "web")
        .expect("web");
    assert_eq!(web.kind(), "Deployment");
    assert_eq!(web.api_version(), "apps/v1");
    // managedResourceNames: one GET per name, the absent one is a 404 and simply absent.
    let gets: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.path.contains("/serviceaccounts"))
        .map(|r| format!("{} {} {}", r.verb, r.path, r.status))
        .collect();
    assert_eq!(
        gets,
        vec![
            "get /api/v1/namespaces/app/serviceaccounts/absent 404",
            "get /api/v1/namespaces/app/serviceaccounts/builder 200",
        ]
    );
    assert_eq!(report.objects_read, inventory.len().1);
}

#[tokio::test]
async fn rejected_credentials_are_a_cluster_error_and_other_clusters_proceed() {
    let good = server(vec![namespace("app"), config_map("app", "one", json!({}))]).await;
    let bad = server(vec![namespace("app")]).await;
    let mut config = kube::Config::new(bad.url().parse().expect("url"));
    config.headers.push((
        http::header::AUTHORIZATION,
        http::HeaderValue::from_static("Bearer wrong-token"),
    ));
    let bad_client = kube::Client::try_from(config).expect("client");
    let clusters = cluster_map(vec![
        ("good", kube_client(&good, true)),
        ("bad", bad_client),
    ]);
    let scenario = Scenario::default()
        .manage("good", "app", &["ConfigMap"])
        .manage("bad", "app", &["ConfigMap"]);
    let mut inventory = scenario.inventory();

    let report = Engine::new(&clusters, options())
        .fetch_current_state(&mut inventory)
        .await;

    assert_eq!(
        report.failed_clusters.iter().collect::<Vec<_>>(),
        vec!["bad"]
    );
    assert!(inventory.has_cluster_error("bad"));
    assert!(!inventory.has_cluster_error("good"));
    assert!(
        report.errors[0].starts_with("[bad] API discovery failed"),
        "{:?}",
        report.errors
    );
    assert_eq!(
        inventory
            .state("good", "app", "ConfigMap")
            .expect("state")
            .current()
            .len(),
        1
    );
}

#[tokio::test]
async fn caller_filter_and_client_side_ownership_are_recorded() {
    let server = server(vec![namespace("app")]).await;
    let mut mine = owned_config_map("app", "mine", json!({"a": "1"}));
    mine["metadata"]["annotations"]["qontract.caller_name"] = json!("saas-a");
    server.seed(mine).expect("seed");
    let mut theirs = owned_config_map("app", "theirs", json!({"a": "1"}));
    theirs["metadata"]["annotations"]["qontract.caller_name"] = json!("saas-b");
    server.seed(theirs).expect("seed");
    server
        .seed_as(
            config_map("app", "legacy", json!({"a": "1"})),
            "kubectl-client-side-apply",
        )
        .expect("seed");
    let clusters = cluster_map(vec![("c1", kube_client(&server, true))]);

    let mut with_caller = options();
    with_caller.caller_filter = Some("saas-a".to_owned());
    let mut inventory = Scenario::default()
        .manage("c1", "app", &["ConfigMap"])
        .inventory();
    Engine::new(&clusters, with_caller)
        .fetch_current_state(&mut inventory)
        .await;
    let names: Vec<&String> = inventory
        .state("c1", "app", "ConfigMap")
        .expect("state")
        .current()
        .keys()
        .collect();
    assert_eq!(names, vec!["mine"]);

    let mut inventory = Scenario::default()
        .manage("c1", "app", &["ConfigMap"])
        .inventory();
    let report = Engine::new(&clusters, options())
        .fetch_current_state(&mut inventory)
        .await;
    let owned: Vec<&ObjectKey> = report.client_side_owned.keys().collect();
    assert_eq!(
        owned,
        vec![&ObjectKey::new("c1", "app", "ConfigMap", "legacy")]
    );
}
