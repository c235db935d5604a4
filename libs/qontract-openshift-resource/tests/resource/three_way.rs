//! The differential data set of the three-way comparison: (desired, current) pairs whose
//! verdicts, JSON patches and counted changes were computed by the Python tool itself
//! (`scripts/three-way-diff-fixture.py` calls upstream `three_way_diff_using_hash`,
//! `normalize_object`, `jsonpatch.JsonPatch.from_diff` and `is_valid_change` in the venv of
//! qontract-reconcile 0.10.1). Ours must agree on every pair.

use qontract_openshift_resource::OpenshiftResource;
use qontract_openshift_resource::compare::{
    ThreeWayDiff, declared_changes, json_patch_diff, normalize_object, three_way_diff,
};
use serde_json::{Value, json};

fn load_fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/three_way_diff.json"
    );
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("reading {path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("parsing {path}: {error}"))
}

fn text<'a>(case: &'a Value, field: &str) -> &'a str {
    case[field]
        .as_str()
        .unwrap_or_else(|| panic!("case {} has no string field {field}", case["name"]))
}

/// Compares one case; returns the differences found.
fn check_case(case: &Value) -> Vec<String> {
    let name = text(case, "name");
    let mut failures = Vec::new();
    let desired = OpenshiftResource::new(
        case["desired"].clone(),
        text(case, "integration"),
        text(case, "integration_version"),
        format!("three_way_diff.json#{name}"),
        None,
    )
    .unwrap_or_else(|error| panic!("{name}: desired object invalid: {error}"));
    let current = OpenshiftResource::new_unvalidated(
        case["current"].clone(),
        text(case, "integration"),
        text(case, "integration_version"),
        name,
        None,
    );

    // The patch upstream inspects.
    let patch: Vec<Value> = json_patch_diff(
        &normalize_object(current.body()),
        &normalize_object(desired.body()),
    )
    .iter()
    .map(|operation| operation.to_json())
    .collect();
    if Value::Array(patch.clone()) != case["patch"] {
        failures.push(format!(
            "{name}: patch\n  ours:   {}\n  python: {}",
            Value::Array(patch),
            case["patch"]
        ));
    }

    // The operations it counts.
    let changes: Vec<Value> = declared_changes(current.body(), desired.body())
        .into_iter()
        .map(|drift| {
            let op = match drift.kind {
                qontract_openshift_resource::DriftKind::Missing => "add",
                qontract_openshift_resource::DriftKind::Changed => "replace",
            };
            if drift.upstream_raises {
                json!({"op": op, "path": drift.path, "error": "JsonPointerException"})
            } else {
                json!({"op": op, "path": drift.path})
            }
        })
        .collect();
    if Value::Array(changes.clone()) != case["changes"] {
        failures.push(format!(
            "{name}: counted changes\n  ours:   {}\n  python: {}",
            Value::Array(changes),
            case["changes"]
        ));
    }

    // The verdict. Where the Python tool raises, we apply (documented difference).
    let ours = three_way_diff(&current, &desired);
    let expected = text(case, "verdict");
    let agrees = match (expected, &ours) {
        ("equal", ThreeWayDiff::Equal) => true,
        ("changed", ThreeWayDiff::Drift(drift)) => !drift.upstream_raises,
        ("changed", ThreeWayDiff::Equal) => false,
        ("changed", _) => true,
        ("error", ThreeWayDiff::MissingIntegrationAnnotation) => {
            case["verdict_error"] == "KeyError"
        }
        ("error", ThreeWayDiff::Drift(_)) => {
            case["verdict_error"] == "JsonPointerException"
                && declared_changes(current.body(), desired.body())
                    .iter()
                    .any(|drift| drift.upstream_raises)
        }
        _ => false,
    };
    if !agrees {
        failures.push(format!("{name}: verdict ours {ours:?}, python {expected}"));
    }
    failures
}

#[test]
fn every_python_three_way_verdict_matches() {
    let fixture = load_fixture();
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(
        cases.len() >= 350,
        "expected at least 350 cases, found {}",
        cases.len()
    );
    let failures: Vec<String> = cases.iter().flat_map(check_case).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from the Python tool:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The fixture covers what the brief asks for: webhook-added items, cpu, empty env values,
/// extra metadata, reorders, and both verdicts.
#[test]
fn the_fixture_covers_the_churn_cases() {
    let fixture = load_fixture();
    let verdict = |name: &str| {
        fixture["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .find(|case| case["name"] == name)
            .unwrap_or_else(|| panic!("case {name} missing"))["verdict"]
            .clone()
    };
    for (name, expected) in [
        ("deployment_as_served", "equal"),
        ("deployment_webhook_sidecar_appended", "equal"),
        ("deployment_webhook_env_appended", "equal"),
        ("deployment_webhook_volume_injected", "equal"),
        ("serviceaccount_dockercfg_appended", "equal"),
        ("configmap_extra_annotations_and_labels", "equal"),
        ("deployment_args_reordered", "equal"),
        ("deployment_image_edited", "changed"),
        ("deployment_cpu_edited", "changed"),
        ("deployment_env_empty_value_set_on_cluster", "changed"),
        ("deployment_webhook_sidecar_prepended", "changed"),
        ("configmap_declared_annotation_edited", "changed"),
        ("deployment_cpu_removed_on_cluster", "error"),
    ] {
        assert_eq!(verdict(name), expected, "{name}");
    }
}
