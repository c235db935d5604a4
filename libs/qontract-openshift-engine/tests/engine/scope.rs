//! What the current state leaves out: namespaces that manage a cluster-scoped type without
//! names (upstream `openshift_base.validate_managed_resource_types`) and objects of the ArgoCD
//! Operator (upstream `openshift_resources_base.fetch_current_state`).

use qontract_openshift_engine::Engine;
use qontract_resource_inventory::{Action, PlanOptions, compute_plan};
use serde_json::{Value, json};

use crate::support::{
    Scenario, cluster_map, kube_client, namespace, options, owned_config_map, server,
};

fn cluster_role(name: &str) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": name}, "rules": []})
}

#[tokio::test]
async fn a_cluster_scoped_type_without_names_in_a_namespace_is_refused_not_listed() {
    let server = server(vec![
        namespace("app"),
        namespace("other"),
        owned_config_map("app", "settings", json!({"a": "1"})),
        owned_config_map("other", "settings", json!({"a": "1"})),
        cluster_role("reader"),
        cluster_role("admin"),
    ])
    .await;
    let clusters = cluster_map(vec![("c1", kube_client(&server, true))]);
    // `app` manages ClusterRole without managedResourceNames; `other` by name.
    let scenario = Scenario::default()
        .manage("c1", "app", &["ConfigMap", "ClusterRole"])
        .manage("c1", "other", &["ConfigMap"])
        .manage_names("c1", "other", "ClusterRole", &["reader"]);
    let mut inventory = scenario.inventory();
    let engine = Engine::new(&clusters, options());

    let report = engine.fetch_current_state(&mut inventory).await;

    let message = "[c1/app] Cluster-scoped resource ClusterRole must be managed by name only. \
                   Please use 'managedResourceNames' field to specify the names of the resources to manage.";
    assert_eq!(report.errors, vec![message.to_owned()]);
    // An error without a cluster: deletes disabled everywhere, the other namespace proceeds.
    assert!(inventory.has_error_registered());
    assert!(!inventory.has_cluster_error("c1"));
    // Never listed cluster-wide.
    let listed: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.path.contains("/clusterroles"))
        .map(|r| format!("{} {}", r.verb, r.path))
        .collect();
    assert_eq!(
        listed,
        vec!["get /apis/rbac.authorization.k8s.io/v1/clusterroles/reader"]
    );
    // As upstream `init_specs_to_fetch`, the namespace is skipped entirely.
    assert!(!inventory.is_initialized("c1", "app", "ConfigMap"));
    assert!(!inventory.is_initialized("c1", "app", "ClusterRole"));
    assert!(
        inventory
            .get_current("c1", "other", "ConfigMap", "settings")
            .is_some()
    );
    assert!(
        inventory
            .get_current("c1", "other", "ClusterRole", "reader")
            .is_some()
    );
    let plan = compute_plan(&mut inventory, &PlanOptions::default());
    assert!(!plan.deletion_enabled);
    assert!(
        plan.actions.iter().all(|a| a.namespace != "app"),
        "{:?}",
        plan.actions
    );
    assert!(plan.actions.iter().all(|a| a.action != Action::Delete));
}

#[tokio::test]
async fn argocd_operator_objects_are_left_out_when_asked() {
    let mut argocd = owned_config_map("app", "argocd-cm", json!({"a": "1"}));
    argocd["metadata"]["labels"] = json!({"app.kubernetes.io/part-of": "argocd"});
    let mut application = owned_config_map("app", "deployed-by-application", json!({"a": "1"}));
    application["metadata"]["labels"] = json!({"app.kubernetes.io/instance": "shop"});
    let server = server(vec![namespace("app"), argocd, application]).await;
    let clusters = cluster_map(vec![("c1", kube_client(&server, true))]);
    let scenario = Scenario::default().manage("c1", "app", &["ConfigMap"]);
    let current = |skip: bool| {
        let clusters = &clusters;
        let scenario = &scenario;
        async move {
            let mut options = options();
            options.skip_argocd_managed = skip;
            let mut inventory = scenario.inventory();
            Engine::new(clusters, options)
                .fetch_current_state(&mut inventory)
                .await;
            let names: Vec<String> = inventory
                .state("c1", "app", "ConfigMap")
                .expect("initialised")
                .current()
                .keys()
                .cloned()
                .collect();
            (names, inventory)
        }
    };

    let (names, mut inventory) = current(true).await;
    assert_eq!(names, vec!["deployed-by-application"]);
    // Owned, not desired, but invisible: never deleted.
    let plan = compute_plan(&mut inventory, &PlanOptions::default());
    assert!(
        plan.actions.iter().all(|a| a.name != "argocd-cm"),
        "{:?}",
        plan.actions
    );

    // Other integrations (upstream `openshift_base.populate_current_state`) still see it.
    let (names, _) = current(false).await;
    assert_eq!(names, vec!["argocd-cm", "deployed-by-application"]);
}
