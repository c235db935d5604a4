//! The resource model: validation, identity, ownership, annotate, drift and redaction.

use qontract_openshift_resource::{
    DriftKind, OpenshiftResource, Ownership, ResourceError, find_declared_drift,
    iso_seconds_from_unix,
};
use serde_json::{Value, json};

const INTEGRATION: &str = "openshift_resources";
const VERSION: &str = "1.9.3";

fn resource(body: Value) -> Result<OpenshiftResource, ResourceError> {
    OpenshiftResource::new(
        body,
        INTEGRATION,
        VERSION,
        "/services/app/resource.yml",
        None,
    )
}

#[test]
fn validation_errors_name_the_object_and_its_source() {
    let cases = [
        json!("not an object"),
        json!({"apiVersion": "v1", "metadata": {"name": "x"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a".repeat(254)}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": {"name": "web"}}}}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "Web.Server"}]}}}}),
        json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {}}),
    ];
    let messages: Vec<String> = cases
        .into_iter()
        .map(|body| resource(body).expect_err("invalid").to_string())
        .collect();
    for message in &messages {
        assert!(message.contains("/services/app/resource.yml"), "{message}");
    }
    insta::assert_snapshot!(
        "validation_errors",
        messages.join("\n").replace(&"a".repeat(254), "a×254")
    );
}

#[test]
fn valid_names_and_exempt_kinds() {
    assert!(
        resource(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a.b-c.d1"}})
        )
        .is_ok()
    );
    // RBAC names may contain colons and capitals.
    assert!(
        resource(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "system:Admin"}})
        )
        .is_ok()
    );
    // Objects read from the cluster are only checked for kind and name.
    assert!(
        OpenshiftResource::from_cluster(
            json!({"kind": "ConfigMap", "metadata": {"name": "Whatever_Name"}}),
            INTEGRATION,
            VERSION,
            "c/ns"
        )
        .is_ok()
    );
}

#[test]
fn identity_kind_and_group_and_caller() {
    let deployment = resource(
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}),
    )
    .expect("valid");
    assert_eq!(
        (deployment.kind(), deployment.name()),
        ("Deployment", "web")
    );
    assert_eq!(deployment.kind_and_group(), "Deployment.apps");
    assert_eq!(deployment.caller(), None);
    let configmap = resource(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "annotations": {"qontract.caller_name": "saas-a"}}}))
    .expect("valid");
    assert_eq!(configmap.kind_and_group(), "ConfigMap");
    assert_eq!(configmap.caller(), Some("saas-a"));
    let explicit = OpenshiftResource::new(
        configmap.body().clone(),
        INTEGRATION,
        VERSION,
        "x",
        Some("saas-b".into()),
    )
    .expect("valid");
    assert_eq!(
        explicit.caller(),
        Some("saas-b"),
        "the explicit caller wins"
    );
    let run = resource(json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        "metadata": {"generateName": "deploy-app-"}}))
    .expect("valid");
    assert_eq!(run.name(), "deploy-app");
}

#[test]
fn ownership_follows_integration_major_version_and_sha() {
    let annotated = |integration: &str, version: &str, sha: Option<&str>| {
        let mut annotations =
            json!({"qontract.integration": integration, "qontract.integration_version": version});
        if let Some(sha) = sha {
            annotations["qontract.sha256sum"] = json!(sha);
        }
        OpenshiftResource::from_cluster(
            json!({"kind": "ConfigMap", "metadata": {"name": "c", "annotations": annotations}}),
            INTEGRATION,
            VERSION,
            "c/ns",
        )
        .expect("valid")
    };
    assert_eq!(
        annotated(INTEGRATION, "1.0.0", Some("x")).ownership(),
        Ownership::ThisIntegration
    );
    assert!(annotated(INTEGRATION, "1.99.7-rc.1", Some("x")).has_qontract_annotations());
    assert_eq!(
        annotated("openshift-resources", "1.0.0", Some("x")).ownership(),
        Ownership::OtherIntegration("openshift-resources".into()),
        "the dashed CLI name is another integration"
    );
    assert_eq!(
        annotated(INTEGRATION, "2.0.0", Some("x")).ownership(),
        Ownership::OtherMajorVersion("2.0.0".into())
    );
    assert_eq!(
        annotated(INTEGRATION, "1.0", Some("x")).ownership(),
        Ownership::UnparsableVersion("1.0".into())
    );
    assert_eq!(
        annotated(INTEGRATION, "1.0.0", None).ownership(),
        Ownership::MissingSha256sum
    );
    let bare = OpenshiftResource::from_cluster(
        json!({"kind": "ConfigMap", "metadata": {"name": "c"}}),
        INTEGRATION,
        VERSION,
        "c/ns",
    )
    .expect("valid");
    assert_eq!(bare.ownership(), Ownership::Unannotated);
    assert!(!bare.has_qontract_annotations());
}

#[test]
fn annotate_writes_all_annotations_and_keeps_the_sha_valid() {
    let original = OpenshiftResource::new(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": null}, "data": {"a": "b"}}),
        INTEGRATION,
        VERSION,
        "x",
        Some("saas-a".into()),
    )
    .expect("valid");
    let annotated = original.annotate("2024-12-01T00:00:00");
    insta::assert_json_snapshot!("annotated_configmap", annotated.body());
    assert!(annotated.has_valid_sha256sum());
    assert_eq!(annotated.sha256sum(), original.sha256sum());
    assert!(
        !original.has_valid_sha256sum(),
        "the original carries no sha annotation"
    );
    // Changing the body changes the sha and invalidates the stored one.
    let mut edited = annotated.clone();
    edited.body_mut()["data"]["a"] = json!("c");
    assert_ne!(edited.sha256sum(), original.sha256sum());
    assert!(!edited.has_valid_sha256sum());
}

#[test]
fn update_timestamp_has_python_isoformat() {
    assert_eq!(iso_seconds_from_unix(0), "1970-01-01T00:00:00");
    assert_eq!(iso_seconds_from_unix(1_733_011_200), "2024-12-01T00:00:00");
    assert_eq!(iso_seconds_from_unix(951_825_599), "2000-02-29T11:59:59");
    assert_eq!(qontract_openshift_resource::utc_now_iso_seconds().len(), 19);
}

#[test]
fn drift_is_reported_by_path_without_values() {
    let desired = json!({"kind": "Deployment", "metadata": {"name": "w", "labels": {"a": "1"}},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c",
            "resources": {"limits": {"cpu": 1}}, "env": [{"name": "X", "value": ""}]}]}}}});
    let mut current = desired.clone();
    current["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] =
        json!("1000m");
    current["spec"]["template"]["spec"]["containers"][0]["env"][0] = json!({"name": "X"});
    current["spec"]["strategy"] = json!({"type": "RollingUpdate"});
    current["metadata"]["uid"] = json!("u");
    current["status"] = json!({"replicas": 2});
    assert_eq!(
        find_declared_drift(&current, &desired),
        None,
        "server defaults are not drift"
    );

    current["spec"]["replicas"] = json!(3.0);
    let drift = find_declared_drift(&current, &desired).expect("replicas drifted");
    assert_eq!(
        (drift.path.as_str(), drift.kind),
        ("/spec/replicas", DriftKind::Changed)
    );
    // Upstream jsonpatch compares scalars by their JSON text: 2.0 on the cluster is not 2.
    current["spec"]["replicas"] = json!(2.0);
    assert_eq!(
        find_declared_drift(&current, &desired).map(|drift| drift.path),
        Some("/spec/replicas".to_owned()),
        "2 != 2.0"
    );
    current["spec"]["replicas"] = json!(2);
    assert_eq!(find_declared_drift(&current, &desired), None);
    // Items appended on the cluster (webhooks) are `remove` operations: not drift.
    current["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .expect("containers")
        .push(json!({"name": "sidecar", "image": "proxy"}));
    assert_eq!(
        find_declared_drift(&current, &desired),
        None,
        "appended item"
    );

    current["metadata"]["labels"]
        .as_object_mut()
        .expect("labels")
        .remove("a");
    let drift = find_declared_drift(&current, &desired).expect("label removed");
    assert_eq!(
        (drift.path.as_str(), drift.kind),
        ("/metadata/labels/a", DriftKind::Missing)
    );
}

#[test]
fn secret_drift_compares_base64_data_and_never_shows_values() {
    let desired = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "stringData": {"password": "p4ss"}});
    let current = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "data": {"password": "cDRzcw=="}, "type": "Opaque"});
    assert_eq!(find_declared_drift(&current, &desired), None);
    let changed = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "data": {"password": "b3RoZXI="}});
    let drift = find_declared_drift(&changed, &desired).expect("value changed");
    assert_eq!(drift.to_string(), "/data/password differs on the cluster");
}

#[test]
fn debug_and_display_never_show_secret_values() {
    let secret = OpenshiftResource::new(
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"password\":\"cDRzcw==\"}}"}},
            "data": {"password": "cDRzcw=="}, "stringData": {"token": "t0k3n"}}),
        INTEGRATION,
        VERSION,
        "x",
        None,
    )
    .expect("valid");
    let rendered = [
        format!("{secret:?}"),
        secret.redacted().to_string(),
        format!("{secret}"),
    ];
    for text in &rendered {
        assert!(
            !text.contains("cDRzcw") && !text.contains("t0k3n"),
            "{text}"
        );
    }
    assert!(
        rendered[1].contains("\"password\":\"<redacted>\""),
        "{}",
        rendered[1]
    );
    assert_eq!(rendered[2], "Secret/s");
    assert_eq!(
        qontract_openshift_resource::redact::secret_keys(secret.body()),
        ["password", "token"]
    );
}

/// As upstream (`three_way_diff_using_hash`): a declared empty value the API server omits is
/// an `add` each run (except an empty env value), and `apiVersion` must match exactly.
#[test]
fn empty_declared_fields_and_served_api_versions_are_drift_as_upstream() {
    let desired = json!({"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h", "annotations": {}},
        "spec": {"subdomain": "", "maxReplicas": 3}});
    let current = json!({"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h"}, "spec": {"maxReplicas": 3}});
    let drift = find_declared_drift(&current, &desired).expect("omitted empty string");
    assert_eq!(
        (drift.path.as_str(), drift.kind),
        ("/spec/subdomain", DriftKind::Missing)
    );

    let served_as_v2 = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h"}, "spec": {"maxReplicas": 3, "subdomain": ""}});
    let drift = find_declared_drift(&served_as_v2, &desired).expect("other apiVersion");
    assert_eq!(
        (drift.path.as_str(), drift.kind),
        ("/apiVersion", DriftKind::Changed)
    );
}

#[test]
fn null_annotations_declare_nothing_but_declared_ones_are_compared() {
    let current = serde_json::json!({"kind": "Secret", "metadata": {"name": "s", "annotations": {
        "qontract.integration": "openshift-vault-secrets", "team": "shop"}}});
    let undeclared =
        serde_json::json!({"kind": "Secret", "metadata": {"name": "s", "annotations": null}});
    assert_eq!(find_declared_drift(&current, &undeclared), None);
    let same = serde_json::json!({"kind": "Secret", "metadata": {"name": "s", "annotations": {"team": "shop"}}});
    assert_eq!(find_declared_drift(&current, &same), None);
    let other = serde_json::json!({"kind": "Secret", "metadata": {"name": "s", "annotations": {"team": "web"}}});
    assert!(find_declared_drift(&current, &other).is_some());
}
