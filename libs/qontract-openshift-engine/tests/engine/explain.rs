//! `explain`: canonical JSON, sha256sum and the plan's decision.

use qontract_openshift_engine::{ExplainError, explain};
use qontract_resource_inventory::Action;
use serde_json::{Value, json};

fn shared() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

#[test]
fn sha256sum_matches_the_python_tool_vectors() {
    let text = std::fs::read_to_string(shared().join("compat/sha256-vectors.json"))
        .expect("read compat/sha256-vectors.json");
    let vectors: Vec<Value> = serde_json::from_str(&text).expect("vectors");
    assert!(!vectors.is_empty());
    let mut checked = 0;
    for vector in &vectors {
        let manifest = vector["body"].to_string();
        let Ok(explanation) = explain(
            &manifest,
            vector["integration"].as_str().expect("integration"),
            vector["integration_version"].as_str().expect("version"),
            None,
        ) else {
            // Vectors of bodies the validating constructor refuses are covered elsewhere.
            continue;
        };
        assert_eq!(
            explanation.sha256sum, vector["sha256sum"],
            "vector {}",
            vector["name"]
        );
        checked += 1;
    }
    assert!(
        checked * 2 > vectors.len(),
        "only {checked} vectors checked"
    );
}

#[test]
fn yaml_manifest_is_explained_like_json() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\n  labels:\n    app: a\ndata:\n  key: value\n  other: x\n";
    let explanation = explain(yaml, "openshift_resources", "1.9.3", None).expect("explain");
    // The first compat vector (configmap-basic) is this object.
    assert_eq!(
        explanation.sha256sum,
        "21e94d2afea2c5dd53fde2e3f8b345d9db6a007bf994f636ef0b1962204fb716"
    );
    insta::assert_json_snapshot!("explain_yaml", explanation);
}

#[test]
fn decision_against_the_cluster_object_uses_the_plan_reason() {
    let manifest = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}});
    let first =
        explain(&manifest.to_string(), "openshift_resources", "1.0.0", None).expect("explain");

    // Applied by us with the same content: unchanged.
    let mut applied = manifest.clone();
    applied["metadata"]["annotations"] = json!({
        "qontract.integration": "openshift_resources",
        "qontract.integration_version": "1.0.0",
        "qontract.sha256sum": first.sha256sum,
    });
    let same = explain(
        &manifest.to_string(),
        "openshift_resources",
        "1.0.0",
        Some(&applied.to_string()),
    )
    .expect("explain");
    let decision = same.decision.expect("decision");
    assert_eq!(decision.action, Action::NoOp);
    assert_eq!(decision.reason.code(), "up_to_date");

    // Drifted on the cluster.
    let mut drifted = applied.clone();
    drifted["data"]["a"] = json!("2");
    let explanation = explain(
        &manifest.to_string(),
        "openshift_resources",
        "1.0.0",
        Some(&drifted.to_string()),
    )
    .expect("explain");
    let decision = explanation.decision.clone().expect("decision");
    assert_eq!(decision.action, Action::Update);
    assert_eq!(decision.reason.code(), "drift");
    insta::assert_json_snapshot!("explain_drift", explanation);

    // Never applied by the tool.
    let bare = explain(
        &manifest.to_string(),
        "openshift_resources",
        "1.0.0",
        Some(&manifest.to_string()),
    )
    .expect("explain");
    assert_eq!(
        bare.decision.expect("decision").reason.code(),
        "missing_sha256sum"
    );
}

#[test]
fn bad_input_gives_clear_errors() {
    let error = explain("kind: [unclosed", "i", "1.0.0", None).expect_err("parse error");
    assert!(
        matches!(
            error,
            ExplainError::Parse {
                what: "manifest",
                ..
            }
        ),
        "{error}"
    );
    let error = explain("{\"kind\": \"ConfigMap\"}", "i", "1.0.0", None).expect_err("no name");
    assert!(error.to_string().contains("metadata"), "{error}");
    let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}});
    let error = explain(
        "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"c\"}}",
        "i",
        "1.0.0",
        Some(&other.to_string()),
    )
    .expect_err("mismatch");
    assert_eq!(
        error.to_string(),
        "the cluster object (ConfigMap other) is not the manifest's object (ConfigMap c)"
    );
}
