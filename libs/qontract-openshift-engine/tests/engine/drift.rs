//! Drift against the loopback API server, as upstream `three_way_diff_using_hash` decides it:
//! what a webhook appends to a declared list is no drift (a second run plans nothing), an
//! edited declared field is (and the apply restores it).

use qontract_resource_inventory::{Action, TableOptions, render_table};
use serde_json::{Value, json};

use crate::support::{Scenario, cluster_map, kube_client, namespace, options, reconcile, server};

const CLUSTER: &str = "cluster-a";
const NS: &str = "app";

fn scenario() -> Scenario {
    Scenario::default()
        .manage(CLUSTER, NS, &["Deployment.apps"])
        .desire(
            CLUSTER,
            NS,
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{
                            "name": "web", "image": "quay.io/app/web:1.0",
                            "env": [{"name": "LOG_LEVEL", "value": "info"}],
                            "resources": {"requests": {"cpu": "0.5"}}
                        }]}
                    }
                }
            }),
        )
}

fn deployments(
    server: &qontract_kube_testserver::KubeTestServer,
) -> kube::Api<kube::api::DynamicObject> {
    kube::Api::namespaced_with(
        kube_client(server, true),
        NS,
        &kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk("apps", "v1", "Deployment"),
            "deployments",
        ),
    )
}

/// Merge-patches the Deployment as `manager` would (lists are replaced whole).
async fn patch(server: &qontract_kube_testserver::KubeTestServer, manager: &str, patch: Value) {
    let params = kube::api::PatchParams {
        field_manager: Some(manager.to_owned()),
        ..Default::default()
    };
    deployments(server)
        .patch("web", &params, &kube::api::Patch::Merge(&patch))
        .await
        .expect("patch the Deployment");
}

fn web_action(plan: &qontract_resource_inventory::Plan) -> (Action, String, Value) {
    let action = plan
        .actions
        .iter()
        .find(|action| action.name == "web")
        .unwrap_or_else(|| {
            panic!(
                "no action for web:\n{}",
                render_table(
                    plan,
                    TableOptions {
                        include_unchanged: true
                    }
                )
            )
        });
    let reason = serde_json::to_value(&action.reason).expect("reason serialises");
    (
        action.action,
        reason["code"].as_str().unwrap_or_default().to_owned(),
        reason["path"].clone(),
    )
}

#[tokio::test]
async fn webhook_appended_items_are_not_drift_but_an_edited_field_is() {
    let server = server(vec![namespace(NS)]).await;
    let clusters = cluster_map(vec![(CLUSTER, kube_client(&server, true))]);
    let first = reconcile(&clusters, options(), &scenario(), false).await;
    assert!(!first.apply.has_errors(), "{:?}", first.apply.errors);
    assert_eq!(web_action(&first.plan).0, Action::Create);

    // A mutating webhook appends a sidecar, an env var and a volume; the API server
    // normalises the cpu request to millicores.
    let applied = server
        .get_object("apps/v1", "Deployment", Some(NS), "web")
        .expect("applied");
    let mut containers = applied["spec"]["template"]["spec"]["containers"].clone();
    containers[0]["env"]
        .as_array_mut()
        .expect("env")
        .push(json!({"name": "HTTP_PROXY", "value": "http://proxy:3128"}));
    containers[0]["resources"]["requests"]["cpu"] = json!("500m");
    containers
        .as_array_mut()
        .expect("containers")
        .push(json!({"name": "istio-proxy", "image": "istio/proxyv2:1.20"}));
    patch(
        &server,
        "webhook",
        json!({"metadata": {"labels": {"injected": "true"}},
        "spec": {"template": {"spec": {"containers": containers,
            "volumes": [{"name": "ca", "configMap": {"name": "ca"}}]}}}}),
    )
    .await;

    let second = reconcile(&clusters, options(), &scenario(), true).await;
    assert_eq!(
        web_action(&second.plan),
        (Action::NoOp, "up_to_date".to_owned(), Value::Null),
        "{}",
        render_table(
            &second.plan,
            TableOptions {
                include_unchanged: true
            }
        )
    );

    // Someone edits the declared image: drift, re-applied.
    let mut edited = server
        .get_object("apps/v1", "Deployment", Some(NS), "web")
        .expect("object")["spec"]["template"]["spec"]["containers"]
        .clone();
    edited[0]["image"] = json!("quay.io/app/web:hotfix");
    patch(
        &server,
        "someone",
        json!({"spec": {"template": {"spec": {"containers": edited}}}}),
    )
    .await;

    let third = reconcile(&clusters, options(), &scenario(), false).await;
    assert_eq!(
        web_action(&third.plan),
        (
            Action::Update,
            "drift".to_owned(),
            json!("/spec/template/spec/containers/0/image")
        )
    );
    assert!(!third.apply.has_errors(), "{:?}", third.apply.errors);
    let restored = server
        .get_object("apps/v1", "Deployment", Some(NS), "web")
        .expect("object");
    assert_eq!(
        restored["spec"]["template"]["spec"]["containers"][0]["image"],
        "quay.io/app/web:1.0"
    );

    let fourth = reconcile(&clusters, options(), &scenario(), true).await;
    assert_eq!(web_action(&fourth.plan).0, Action::NoOp);
}

/// A half-filled LimitRange (upstream `openshift_limitranges.construct_resources` keeps
/// `memory: null`): the null is hashed but not sent, as the Python tool's `oc apply` does not
/// send it, so the cluster holds no `memory` key (a real API server would store `0`).
#[tokio::test]
async fn null_fields_are_hashed_but_not_sent() {
    let server = server(vec![namespace(NS)]).await;
    let clusters = cluster_map(vec![(CLUSTER, kube_client(&server, true))]);
    let scenario = Scenario::default()
        .manage(CLUSTER, NS, &["LimitRange"])
        .desire(
            CLUSTER,
            NS,
            json!({
                "apiVersion": "v1", "kind": "LimitRange",
                "metadata": {"name": "limits"},
                "spec": {"limits": [{
                    "type": "Container",
                    "default": {"cpu": "500m", "memory": null}
                }]}
            }),
        );
    let first = reconcile(&clusters, options(), &scenario, false).await;
    assert!(!first.apply.has_errors(), "{:?}", first.apply.errors);
    let applied = server
        .get_object("v1", "LimitRange", Some(NS), "limits")
        .expect("applied");
    assert_eq!(
        applied["spec"]["limits"][0]["default"],
        json!({"cpu": "500m"}),
        "{applied}"
    );
    // The sha256sum is the one of the declared body, nulls included.
    let desired = qontract_openshift_resource::OpenshiftResource::new(
        json!({
            "apiVersion": "v1", "kind": "LimitRange",
            "metadata": {"name": "limits"},
            "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": null}}]}
        }),
        "test",
        "1.0.0",
        "test",
        None,
    )
    .expect("resource");
    assert_eq!(
        applied["metadata"]["annotations"]["qontract.sha256sum"],
        json!(desired.sha256sum())
    );
}
