//! The sha256 test vectors computed by the Python tool: every one must match byte for byte.

use qontract_openshift_resource::OpenshiftResource;
use qontract_openshift_resource::annotations::QONTRACT_UPDATE;
use serde_json::Value;

const TIMESTAMP: &str = "2024-12-01T00:00:00";

fn load_vectors() -> Vec<Value> {
    let path = crate::shared_dir().join("compat/sha256-vectors.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("parsing {}: {error}", path.display()))
}

fn text<'a>(vector: &'a Value, field: &str) -> &'a str {
    vector[field]
        .as_str()
        .unwrap_or_else(|| panic!("vector {} has no string field {field}", vector["name"]))
}

#[test]
fn every_python_sha256_vector_matches() {
    let vectors = load_vectors();
    assert!(
        vectors.len() >= 40,
        "expected at least 40 vectors, found {}",
        vectors.len()
    );
    let mut failures = Vec::new();
    for vector in &vectors {
        let name = text(vector, "name");
        let resource = match OpenshiftResource::new(
            vector["body"].clone(),
            text(vector, "integration"),
            text(vector, "integration_version"),
            format!("sha256-vectors.json#{name}"),
            None,
        ) {
            Ok(resource) => resource,
            Err(error) => {
                failures.push(format!("{name}: rejected: {error}"));
                continue;
            }
        };
        let expected = text(vector, "sha256sum");
        if resource.sha256sum() != expected {
            failures.push(format!(
                "{name}: sha256sum {} != expected {expected}",
                resource.sha256sum()
            ));
        }
        let annotated = resource.annotate(TIMESTAMP);
        let mut annotations = annotated.annotations().cloned().unwrap_or_default();
        if annotations.shift_remove(QONTRACT_UPDATE) != Some(Value::from(TIMESTAMP)) {
            failures.push(format!(
                "{name}: qontract.update not set to the injected timestamp"
            ));
        }
        if Value::Object(annotations.clone()) != vector["annotations_after_annotate"] {
            failures.push(format!(
                "{name}: annotations after annotate {} != expected {}",
                Value::Object(annotations),
                vector["annotations_after_annotate"]
            ));
        }
        if !annotated.has_valid_sha256sum() || !annotated.has_qontract_annotations() {
            failures.push(format!("{name}: annotated copy does not validate"));
        }
        if annotated.sha256sum() != expected {
            failures.push(format!("{name}: annotating changed the sha256sum"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing vectors:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The worked example from the end-to-end runs of the Python tool.
#[test]
fn rendered_configmap_matches_the_value_found_on_the_cluster() {
    let body = serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "app-a-settings", "namespace": "app-a-stage"},
        "data": {"environment": "stage", "replicas": "1"},
    });
    let canonical = qontract_openshift_resource::canonical::canonicalize(&body);
    assert_eq!(
        qontract_openshift_resource::pyjson::dumps_sorted(&canonical),
        r#"{"apiVersion": "v1", "data": {"environment": "stage", "replicas": "1"}, "kind": "ConfigMap", "metadata": {"annotations": {}, "name": "app-a-settings"}}"#
    );
    let resource =
        OpenshiftResource::new(body, "openshift_resources", "1.9.3", "app-a-settings", None)
            .expect("valid ConfigMap");
    assert_eq!(
        resource.sha256sum(),
        "a64f397bbadf4e307287dffcdae6d4a6a0446e4a7dd65f89d09389591772bffc"
    );
}
