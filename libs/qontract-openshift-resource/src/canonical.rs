//! Canonicalisation of a resource body and the `qontract.sha256sum` computed from it.
//!
//! Mirrors `OpenshiftResource.canonicalize` of the Python tool: server-populated metadata,
//! `status`, defaulted fields of a few kinds and the qontract annotations are removed from a
//! copy of the body, which is then serialised with Python's `json.dumps(sort_keys=True)` and
//! hashed with SHA-256. Where the Python code would crash on malformed input (for example a
//! `Role` without `rules`), this implementation leaves the part alone instead.

use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::annotations::{
    CONTROLLER_MANAGED_LABEL_PREFIXES, CONTROLLER_MANAGED_LABELS, LAST_APPLIED_CONFIGURATION,
    QONTRACT_ANNOTATIONS, SECRET_UPDATED_AT,
};
use qontract_pyjson as pyjson;

/// Metadata fields the API server populates; never part of the hash.
const SERVER_METADATA_FIELDS: [&str; 7] = [
    "creationTimestamp",
    "resourceVersion",
    "generation",
    "selfLink",
    "uid",
    "namespace",
    "managedFields",
];

/// Python truthiness of a JSON value (`None`, `False`, `0`, `""`, `[]`, `{}` are false).
pub(crate) fn py_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

/// `base64_encode_secret_field_value` of the Python tool: base64 of the text, `""` stays `""`.
pub fn base64_encode_secret_value(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

/// True if `label` is set by a controller for objects of `kind` (only `ManagedCluster` has such
/// labels).
pub fn is_controller_managed_label(kind: &str, label: &str) -> bool {
    CONTROLLER_MANAGED_LABELS
        .iter()
        .any(|(managed_kind, managed_label)| *managed_kind == kind && *managed_label == label)
        || CONTROLLER_MANAGED_LABEL_PREFIXES
            .iter()
            .any(|(managed_kind, pattern)| {
                *managed_kind == kind && regex_dot_search(label, pattern)
            })
}

/// Python's `re.search(pattern, text)` for a pattern whose only metacharacter is `.` (any
/// character except a newline).
fn regex_dot_search(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    if pattern.len() > text.len() {
        return false;
    }
    (0..=text.len() - pattern.len()).any(|start| {
        pattern
            .iter()
            .zip(&text[start..])
            .all(|(expected, actual)| {
                if *expected == '.' {
                    *actual != '\n'
                } else {
                    expected == actual
                }
            })
    })
}

/// Returns the canonical copy of `body` that the sha256sum is computed from.
pub fn canonicalize(body: &Value) -> Value {
    let mut body = body.clone();
    let Some(root) = body.as_object_mut() else {
        return body;
    };
    let kind = root
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let api_version = root
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();

    // metadata (created when missing) and metadata.annotations (None becomes {}).
    let metadata = object_entry(root, "metadata");
    if !matches!(metadata.get("annotations"), Some(Value::Object(_))) {
        metadata.insert("annotations".to_owned(), Value::Object(Map::new()));
    }
    for field in SERVER_METADATA_FIELDS {
        metadata.shift_remove(field);
    }
    if let Some(Value::Object(labels)) = metadata.get_mut("labels") {
        labels.retain(|label, _| !is_controller_managed_label(&kind, label));
    }
    let mut annotations = match metadata.shift_remove("annotations") {
        Some(Value::Object(annotations)) => annotations,
        _ => Map::new(),
    };
    annotations.shift_remove(LAST_APPLIED_CONFIGURATION);

    root.remove("status");

    if (kind == "ConfigMap" || kind == "Secret")
        && root.get("type").and_then(Value::as_str) == Some("Opaque")
    {
        root.remove("type");
    }

    match kind.as_str() {
        "Secret" => fold_string_data(root),
        "Deployment" => {
            annotations.shift_remove("deployment.kubernetes.io/revision");
        }
        "Route" => canonicalize_route(root, &mut annotations),
        "ServiceAccount" => canonicalize_service_account(root),
        "Role" => canonicalize_role(root),
        "OperatorGroup" => {
            annotations.shift_remove("olm.providedAPIs");
        }
        "RoleBinding" => canonicalize_role_binding(root, &api_version),
        "ClusterRoleBinding" => canonicalize_cluster_role_binding(root, &api_version),
        "Service" => canonicalize_service(root),
        _ => {}
    }

    for annotation in QONTRACT_ANNOTATIONS {
        annotations.shift_remove(annotation);
    }
    annotations.shift_remove(SECRET_UPDATED_AT);
    if let Some(Value::Object(metadata)) = root.get_mut("metadata") {
        metadata.insert("annotations".to_owned(), Value::Object(annotations));
    }
    body
}

/// The text `json.dumps(canonicalize(body), sort_keys=True)` that the sha256sum is taken of.
pub fn canonical_text(body: &Value) -> String {
    let mut text = String::with_capacity(1024);
    if !write_canonical_borrowed(body, &mut text) {
        text.clear();
        pyjson::write_value(&canonicalize(body), &mut text);
    }
    text
}

/// The hex SHA-256 of `json.dumps(canonicalize(body), sort_keys=True)`.
pub fn sha256sum(body: &Value) -> String {
    let text = canonical_text(body);
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        hex.push(char::from_digit(u32::from(byte & 0x0f), 16).unwrap_or('0'));
    }
    hex
}

/// Returns `map[key]` as an object, replacing a missing or non-object value with `{}`.
fn object_entry<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = map
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    match entry {
        Value::Object(object) => object,
        _ => unreachable!("entry was just made an object"),
    }
}

/// Secret: `stringData` is merged into `data` as base64 of Python's `str(value)`.
pub(crate) fn fold_string_data(root: &mut Map<String, Value>) {
    let Some(string_data) = root.remove("stringData") else {
        return;
    };
    let Value::Object(string_data) = string_data else {
        return;
    };
    if string_data.is_empty() {
        return;
    }
    let data = object_entry(root, "data");
    for (key, value) in string_data {
        let encoded = base64_encode_secret_value(&pyjson::python_str(&value));
        data.insert(key, Value::String(encoded));
    }
}

fn canonicalize_route(root: &mut Map<String, Value>, annotations: &mut Map<String, Value>) {
    let tls_acme = annotations.contains_key("kubernetes.io/tls-acme");
    if tls_acme {
        annotations.shift_remove("kubernetes.io/tls-acme-awaiting-authorization-owner");
        annotations.shift_remove("kubernetes.io/tls-acme-awaiting-authorization-at-url");
    }
    let Some(Value::Object(spec)) = root.get_mut("spec") else {
        return;
    };
    if spec.get("wildcardPolicy").and_then(Value::as_str) == Some("None") {
        spec.shift_remove("wildcardPolicy");
    }
    if tls_acme && let Some(Value::Object(tls)) = spec.get_mut("tls") {
        tls.shift_remove("key");
        tls.shift_remove("certificate");
    }
    if !spec.get("subdomain").is_some_and(py_truthy) {
        spec.shift_remove("subdomain");
    }
}

fn canonicalize_service_account(root: &mut Map<String, Value>) {
    if let Some(pull_secrets) = root.remove("imagePullSecrets") {
        let kept: Vec<Value> = match pull_secrets {
            Value::Array(items) => items
                .into_iter()
                .filter(|item| !is_default_dockercfg_reference(item))
                .collect(),
            other => vec![other],
        };
        if !kept.is_empty() {
            root.insert("imagePullSecrets".to_owned(), Value::Array(kept));
        }
    }
    root.remove("secrets");
}

/// A `{name: "<sa>-dockercfg-xxxxx"}` reference the OpenShift controller adds to service accounts.
pub(crate) fn is_default_dockercfg_reference(item: &Value) -> bool {
    item.get("name")
        .and_then(Value::as_str)
        .is_some_and(|name| name.contains("-dockercfg-"))
}

fn canonicalize_role(root: &mut Map<String, Value>) {
    let Some(Value::Array(rules)) = root.get_mut("rules") else {
        return;
    };
    for rule in rules {
        let Value::Object(rule) = rule else {
            continue;
        };
        for key in ["resources", "verbs"] {
            if let Some(Value::Array(items)) = rule.get_mut(key)
                && items.iter().all(Value::is_string)
            {
                items.sort_by(|left, right| {
                    left.as_str()
                        .unwrap_or_default()
                        .cmp(right.as_str().unwrap_or_default())
                });
            }
        }
        if rule
            .get("attributeRestrictions")
            .is_some_and(|restrictions| !py_truthy(restrictions))
        {
            rule.shift_remove("attributeRestrictions");
        }
    }
}

/// Python's `group in api_version` substring test (non-string groups never match).
fn group_in_api_version(group: Option<&Value>, api_version: &str) -> bool {
    group
        .and_then(Value::as_str)
        .is_some_and(|group| api_version.contains(group))
}

fn canonicalize_role_binding(root: &mut Map<String, Value>, api_version: &str) {
    root.shift_remove("groupNames");
    root.shift_remove("userNames");
    if let Some(Value::Object(role_ref)) = root.get_mut("roleRef") {
        role_ref.shift_remove("namespace");
        if group_in_api_version(role_ref.get("apiGroup"), api_version) {
            role_ref.shift_remove("apiGroup");
        }
        role_ref.shift_remove("kind");
    }
    if let Some(Value::Array(subjects)) = root.get_mut("subjects") {
        for subject in subjects {
            let Value::Object(subject) = subject else {
                continue;
            };
            subject.shift_remove("namespace");
            if let Some(group) = subject.get("apiGroup")
                && (!py_truthy(group) || group_in_api_version(Some(group), api_version))
            {
                subject.shift_remove("apiGroup");
            }
        }
    }
}

fn canonicalize_cluster_role_binding(root: &mut Map<String, Value>, api_version: &str) {
    root.shift_remove("userNames");
    if let Some(Value::Object(role_ref)) = root.get_mut("roleRef") {
        if group_in_api_version(role_ref.get("apiGroup"), api_version) {
            role_ref.shift_remove("apiGroup");
        }
        role_ref.shift_remove("kind");
    }
    root.shift_remove("groupNames");
}

fn canonicalize_service(root: &mut Map<String, Value>) {
    let Some(Value::Object(spec)) = root.get_mut("spec") else {
        return;
    };
    if spec.get("sessionAffinity").and_then(Value::as_str) == Some("None") {
        spec.shift_remove("sessionAffinity");
    }
    if spec.get("type").and_then(Value::as_str) == Some("ClusterIP") {
        spec.shift_remove("clusterIP");
    }
}

/// Kinds whose canonicalisation rewrites more than metadata; they take the copying path.
const KINDS_NEEDING_A_COPY: [&str; 8] = [
    "Secret",
    "Route",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRoleBinding",
    "Service",
    "ManagedCluster",
];

/// Writes the canonical text of `body` without copying it, for the common case where
/// canonicalisation only filters `metadata`, annotations, `status` and an Opaque `type`.
/// Returns false (having written nothing) when the body needs the copying path.
fn write_canonical_borrowed(body: &Value, out: &mut String) -> bool {
    let Value::Object(root) = body else {
        return false;
    };
    let kind = root.get("kind").and_then(Value::as_str).unwrap_or_default();
    if KINDS_NEEDING_A_COPY.contains(&kind) {
        return false;
    }
    let metadata = match root.get("metadata") {
        Some(Value::Object(metadata)) => Some(metadata),
        None => None,
        Some(_) => return false,
    };
    let annotations = match metadata.and_then(|metadata| metadata.get("annotations")) {
        Some(Value::Object(annotations)) => Some(annotations),
        None | Some(Value::Null) => None,
        Some(_) => return false,
    };
    let kind_annotation = match kind {
        "Deployment" => Some("deployment.kubernetes.io/revision"),
        "OperatorGroup" => Some("olm.providedAPIs"),
        _ => None,
    };
    let drop_type = kind == "ConfigMap";

    let mut entries: Vec<(&str, Option<&Value>)> = root
        .iter()
        .filter(|(key, value)| {
            let opaque_type =
                drop_type && key.as_str() == "type" && value.as_str() == Some("Opaque");
            !opaque_type && !matches!(key.as_str(), "status" | "metadata")
        })
        .map(|(key, value)| (key.as_str(), Some(value)))
        .collect();
    // `None` stands for the filtered metadata.
    entries.push(("metadata", None));
    entries.sort_unstable_by(|left, right| left.0.cmp(right.0));

    out.push('{');
    for (index, (key, value)) in entries.into_iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        write_key(key, out);
        match value {
            Some(value) => pyjson::write_value(value, out),
            None => write_metadata(metadata, annotations, kind_annotation, out),
        }
    }
    out.push('}');
    true
}

fn write_metadata(
    metadata: Option<&Map<String, Value>>,
    annotations: Option<&Map<String, Value>>,
    kind_annotation: Option<&str>,
    out: &mut String,
) {
    let mut entries: Vec<(&str, Option<&Value>)> = metadata
        .into_iter()
        .flat_map(|metadata| metadata.iter())
        .filter(|(key, _)| {
            key.as_str() != "annotations" && !SERVER_METADATA_FIELDS.contains(&key.as_str())
        })
        .map(|(key, value)| (key.as_str(), Some(value)))
        .collect();
    // `None` stands for the filtered annotations.
    entries.push(("annotations", None));
    entries.sort_unstable_by(|left, right| left.0.cmp(right.0));
    out.push('{');
    for (index, (key, value)) in entries.into_iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        write_key(key, out);
        match value {
            Some(value) => pyjson::write_value(value, out),
            None => write_annotations(annotations, kind_annotation, out),
        }
    }
    out.push('}');
}

fn write_annotations(
    annotations: Option<&Map<String, Value>>,
    kind_annotation: Option<&str>,
    out: &mut String,
) {
    let mut entries: Vec<(&String, &Value)> = annotations
        .into_iter()
        .flat_map(|annotations| annotations.iter())
        .filter(|(key, _)| {
            let key = key.as_str();
            !QONTRACT_ANNOTATIONS.contains(&key)
                && key != LAST_APPLIED_CONFIGURATION
                && key != SECRET_UPDATED_AT
                && Some(key) != kind_annotation
        })
        .collect();
    entries.sort_unstable_by(|left, right| left.0.cmp(right.0));
    out.push('{');
    for (index, (key, value)) in entries.into_iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        write_key(key, out);
        pyjson::write_value(value, out);
    }
    out.push('}');
}

fn write_key(key: &str, out: &mut String) {
    pyjson::write_str(key, out);
    out.push_str(": ");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The borrowed path must produce exactly the text of the copying path.
    #[test]
    fn borrowed_path_matches_copying_path() {
        let bodies = [
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}, "type": "Opaque"}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "annotations": null, "namespace": "x", "uid": "1"}, "status": {}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "labels": {"z": "1", "a": "2"},
                "annotations": {"deployment.kubernetes.io/revision": "3", "qontract.sha256sum": "x", "keep": "é",
                "kubectl.kubernetes.io/last-applied-configuration": "{}", "external-resources/updated_at": "t"}},
                "spec": {"replicas": 1.0, "b": [1, 2.5, {"y": null, "x": true}]}}),
            json!({"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup", "metadata": {"name": "og", "annotations": {"olm.providedAPIs": "x"}}}),
            json!({"apiVersion": "v1", "kind": "Namespace"}),
            json!({"kind": "Thing", "metadata": {"name": "t", "annotations": {}, "aaa": 1, "zzz": 2}, "annotations": "top-level"}),
        ];
        for body in bodies {
            let mut borrowed = String::new();
            assert!(write_canonical_borrowed(&body, &mut borrowed), "{body}");
            let copied = pyjson::dumps_sorted(&canonicalize(&body));
            assert_eq!(borrowed, copied, "{body}");
        }
    }
}
