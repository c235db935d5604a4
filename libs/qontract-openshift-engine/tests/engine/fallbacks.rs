//! Fallbacks for immutable fields and forbidden StatefulSet updates, and pod recycling.
//!
//! The test server does not enforce immutable fields, so the real apiserver's 422 answer is
//! injected by a client-side interceptor for the first apply of the object.

use qontract_openshift_engine::OutcomeKind;
use qontract_resource_inventory::{TableOptions, render_table};
use serde_json::{Value, json};

use crate::support::{
    Injected, Intercept, Scenario, cluster_map, kube_client, namespace, options, owned_config_map,
    reconcile, server,
};

fn service(cluster_ip: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"clusterIP": cluster_ip, "selector": {"app": "web"}, "ports": [{"port": 80}]}
    })
}

#[tokio::test]
async fn immutable_service_field_is_deleted_and_created_again() {
    let mut seeded = service("10.96.0.10");
    seeded["metadata"]["namespace"] = json!("app");
    let server = server(vec![namespace("app"), seeded]).await;
    let old_uid = server
        .get_object("v1", "Service", Some("app"), "web")
        .expect("seeded")["metadata"]["uid"]
        .clone();
    let status = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Service \"web\" is invalid: spec.clusterIP: Invalid value: \"10.96.0.99\": field is immutable",
        "reason": "Invalid",
        "details": {"name": "web", "kind": "Service", "causes": [{"reason": "FieldValueInvalid",
            "message": "Invalid value: \"10.96.0.99\": field is immutable", "field": "spec.clusterIP"}]},
        "code": 422
    });
    let client = Intercept::client(
        kube_client(&server, true),
        vec![Injected {
            method: "PATCH",
            path: "/api/v1/namespaces/app/services/web".to_owned(),
            status,
        }],
    );
    let clusters = cluster_map(vec![("c1", client)]);
    let scenario = Scenario::default()
        .manage("c1", "app", &["Service"])
        .desire("c1", "app", service("10.96.0.99"));

    let run = reconcile(&clusters, options(), &scenario, false).await;

    assert!(!run.apply.has_errors(), "{:?}", run.apply.errors);
    assert_eq!(run.apply.outcomes.len(), 1);
    assert_eq!(run.apply.outcomes[0].outcome, OutcomeKind::Recreated);
    let requests: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect();
    assert_eq!(
        requests,
        vec![
            "DELETE /api/v1/namespaces/app/services/web 200",
            "PATCH /api/v1/namespaces/app/services/web 201",
        ]
    );
    let recreated = server
        .get_object("v1", "Service", Some("app"), "web")
        .expect("recreated");
    assert_eq!(recreated["spec"]["clusterIP"], "10.96.0.99");
    insta::assert_snapshot!(
        "immutable_service_plan",
        render_table(&run.plan, TableOptions::default())
    );
    assert_ne!(recreated["metadata"]["uid"], old_uid);
}

#[tokio::test]
async fn immutable_field_of_another_kind_is_an_error() {
    let server = server(vec![namespace("app")]).await;
    let status = json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 422, "reason": "Invalid",
        "message": "ConfigMap \"settings\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
    });
    let client = Intercept::client(
        kube_client(&server, true),
        vec![Injected {
            method: "PATCH",
            path: "/api/v1/namespaces/app/configmaps/settings".to_owned(),
            status,
        }],
    );
    let clusters = cluster_map(vec![("c1", client)]);
    let scenario = Scenario::default().manage("c1", "app", &["ConfigMap"]).desire(
        "c1",
        "app",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}}),
    );
    let run = reconcile(&clusters, options(), &scenario, false).await;
    assert_eq!(run.apply.errors.len(), 1);
    assert!(
        run.apply.errors[0].starts_with("[c1/app] error applying ConfigMap settings: 422 Invalid"),
        "{}",
        run.apply.errors[0]
    );
    assert!(!server.requests().iter().any(|r| r.method == "DELETE"));
}

#[tokio::test]
async fn forbidden_statefulset_update_orphans_the_pods_and_recreates() {
    let statefulset = |storage: &str| {
        json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db"},
            "spec": {
                "serviceName": "db",
                "selector": {"matchLabels": {"app": "db"}},
                "template": {"metadata": {"labels": {"app": "db"}},
                    "spec": {"containers": [{"name": "db", "image": "postgres:16"}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}}}]
            }
        })
    };
    let mut seeded = statefulset("1Gi");
    seeded["metadata"]["namespace"] = json!("app");
    let server = server(vec![namespace("app"), seeded]).await;
    let owner_uid = server
        .get_object("apps/v1", "StatefulSet", Some("app"), "db")
        .expect("seeded")["metadata"]["uid"]
        .clone();
    server
        .seed(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "db-0", "namespace": "app", "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": owner_uid, "controller": true}]},
            "spec": {"containers": [{"name": "db", "image": "postgres:16"}]}
        }))
        .expect("seed pod");
    let status = json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 422, "reason": "Invalid",
        "message": "StatefulSet.apps \"db\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
    });
    let client = Intercept::client(
        kube_client(&server, true),
        vec![Injected {
            method: "PATCH",
            path: "/apis/apps/v1/namespaces/app/statefulsets/db".to_owned(),
            status,
        }],
    );
    let clusters = cluster_map(vec![("c1", client)]);
    let scenario = Scenario::default()
        .manage("c1", "app", &["StatefulSet"])
        .desire("c1", "app", statefulset("5Gi"));

    let run = reconcile(&clusters, options(), &scenario, false).await;

    assert!(!run.apply.has_errors(), "{:?}", run.apply.errors);
    assert_eq!(run.apply.outcomes[0].outcome, OutcomeKind::Recreated);
    let recreated = server
        .get_object("apps/v1", "StatefulSet", Some("app"), "db")
        .expect("recreated");
    assert_eq!(
        recreated["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "5Gi"
    );
    // Orphan propagation: the pod of the old StatefulSet survives its deletion.
    assert!(
        server
            .get_object("v1", "Pod", Some("app"), "db-0")
            .is_some()
    );
}

#[tokio::test]
async fn recycle_restarts_the_workloads_that_use_an_applied_config_map() {
    let deployment = |name: &str, pod_spec: Value| {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "app"},
            "spec": {"selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}}
        })
    };
    let server = server(vec![
        namespace("app"),
        deployment("env-from", json!({"containers": [{"name": "c", "image": "x",
            "envFrom": [{"configMapRef": {"name": "settings"}}]}]})),
        deployment("volume", json!({"containers": [{"name": "c", "image": "x"}],
            "volumes": [{"name": "v", "configMap": {"name": "settings"}}]})),
        deployment("unrelated", json!({"containers": [{"name": "c", "image": "x",
            "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "other", "key": "a"}}}]}]})),
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "key-ref", "namespace": "app"},
            "spec": {"serviceName": "s", "selector": {"matchLabels": {"app": "s"}},
                "template": {"metadata": {"labels": {"app": "s"}}, "spec": {"containers": [{"name": "c", "image": "x",
                    "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "a"}}}]}]}}}}),
        owned_config_map("app", "settings", json!({"a": "old"})),
    ])
    .await;
    let clusters = cluster_map(vec![("c1", kube_client(&server, true))]);
    let scenario = Scenario::default()
        .manage("c1", "app", &["ConfigMap"])
        .desire(
            "c1",
            "app",
            json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "annotations": {"qontract.recycle": "true"}},
            "data": {"a": "new"}}),
        );

    let dry = reconcile(&clusters, options(), &scenario, true).await;
    assert_eq!(
        dry.apply.outcomes[0].recycled,
        vec![
            "Deployment/env-from",
            "Deployment/volume",
            "StatefulSet/key-ref"
        ]
    );
    assert!(!server.requests().iter().any(|r| r.method != "GET"));

    let run = reconcile(&clusters, options(), &scenario, false).await;
    assert!(!run.apply.has_errors(), "{:?}", run.apply.errors);
    assert_eq!(
        run.apply.outcomes[0].recycled,
        vec![
            "Deployment/env-from",
            "Deployment/volume",
            "StatefulSet/key-ref"
        ]
    );
    let restarted_at = |api_version: &str, kind: &str, name: &str| {
        server
            .get_object(api_version, kind, Some("app"), name)
            .expect("workload")
            .pointer("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt")
            .cloned()
    };
    let expected = Some(json!(format!("{}Z", crate::support::TIMESTAMP)));
    assert_eq!(restarted_at("apps/v1", "Deployment", "env-from"), expected);
    assert_eq!(restarted_at("apps/v1", "Deployment", "volume"), expected);
    assert_eq!(restarted_at("apps/v1", "StatefulSet", "key-ref"), expected);
    assert_eq!(restarted_at("apps/v1", "Deployment", "unrelated"), None);
    assert_eq!(run.apply.clusters["c1"].recycled, 3);
}

fn deployment(strategy: &str, selector_value: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "api"},
        "spec": {
            "strategy": {"type": strategy},
            "selector": {"matchLabels": {"app": selector_value}},
            "template": {"metadata": {"labels": {"app": selector_value}},
                "spec": {"containers": [{"name": "api", "image": "x"}]}}
        }
    })
}

async fn immutable_deployment_run(
    strategy: &str,
) -> (
    crate::support::Run,
    qontract_kube_testserver::KubeTestServer,
) {
    let mut seeded = deployment(strategy, "api");
    seeded["metadata"]["namespace"] = json!("app");
    let server = server(vec![namespace("app"), seeded]).await;
    let status = json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 422, "reason": "Invalid",
        "message": "Deployment.apps \"api\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"api-v2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
    });
    let client = Intercept::client(
        kube_client(&server, true),
        vec![Injected {
            method: "PATCH",
            path: "/apis/apps/v1/namespaces/app/deployments/api".to_owned(),
            status,
        }],
    );
    let clusters = cluster_map(vec![("c1", client)]);
    let scenario = Scenario::default()
        .manage("c1", "app", &["Deployment"])
        .desire("c1", "app", deployment(strategy, "api-v2"));
    let run = reconcile(&clusters, options(), &scenario, false).await;
    (run, server)
}

#[tokio::test]
async fn immutable_selector_of_a_recreate_deployment_is_deleted_and_created_again() {
    let (run, server) = immutable_deployment_run("Recreate").await;
    assert!(!run.apply.has_errors(), "{:?}", run.apply.errors);
    assert_eq!(run.apply.outcomes[0].outcome, OutcomeKind::Recreated);
    let recreated = server
        .get_object("apps/v1", "Deployment", Some("app"), "api")
        .expect("recreated");
    assert_eq!(
        recreated["spec"]["selector"]["matchLabels"]["app"],
        "api-v2"
    );
}

#[tokio::test]
async fn immutable_selector_of_a_rolling_deployment_is_an_error_and_left_alone() {
    let (run, server) = immutable_deployment_run("RollingUpdate").await;
    assert_eq!(run.apply.errors.len(), 1);
    assert!(
        run.apply.errors[0].starts_with("[c1/app] error applying Deployment api: 422 Invalid"),
        "{}",
        run.apply.errors[0]
    );
    let untouched = server
        .get_object("apps/v1", "Deployment", Some("app"), "api")
        .expect("still there");
    assert_eq!(untouched["spec"]["selector"]["matchLabels"]["app"], "api");
}
