//! Defaulting and validation for the fields our tests depend on.

use crate::registry::ResourceDef;
use crate::status::ApiError;
use crate::util::obj_entry;
use serde_json::{Map, Value, json};

fn set_default(m: &mut Map<String, Value>, k: &str, v: Value) {
    if !m.contains_key(k) || m.get(k) == Some(&Value::Null) {
        m.insert(k.to_string(), v);
    }
}

fn image_pull_policy(image: &str) -> &'static str {
    let last = image.rsplit('/').next().unwrap_or(image);
    if image.contains('@') {
        return "IfNotPresent";
    }
    match last.split_once(':') {
        None => "Always",
        Some((_, "latest")) => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn default_container(c: &mut Value) {
    let Some(m) = c.as_object_mut() else { return };
    set_default(m, "resources", json!({}));
    set_default(m, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(m, "terminationMessagePolicy", json!("File"));
    let policy = image_pull_policy(m.get("image").and_then(Value::as_str).unwrap_or(""));
    set_default(m, "imagePullPolicy", json!(policy));
    if let Some(Value::Array(ports)) = m.get_mut("ports") {
        for p in ports {
            if let Some(pm) = p.as_object_mut() {
                set_default(pm, "protocol", json!("TCP"));
            }
        }
    }
}

fn default_pod_spec(spec: &mut Value, restart_policy: Option<&str>) {
    let Some(m) = spec.as_object_mut() else {
        return;
    };
    for key in ["initContainers", "containers"] {
        if let Some(Value::Array(cs)) = m.get_mut(key) {
            cs.iter_mut().for_each(default_container);
        }
    }
    if let Some(rp) = restart_policy {
        set_default(m, "restartPolicy", json!(rp));
    }
    set_default(m, "terminationGracePeriodSeconds", json!(30));
    set_default(m, "dnsPolicy", json!("ClusterFirst"));
    set_default(m, "securityContext", json!({}));
    set_default(m, "schedulerName", json!("default-scheduler"));
}

fn default_template(spec: &mut Map<String, Value>, restart_policy: Option<&str>) {
    if let Some(t) = spec.get_mut("template")
        && let Some(ps) = t.get_mut("spec")
    {
        default_pod_spec(ps, restart_policy);
    }
}

/// Applies server defaults. `alloc_ip` hands out Service cluster IPs; `old` is the previous state on updates.
pub(crate) fn apply_defaults(
    def: &ResourceDef,
    obj: &mut Value,
    old: Option<&Value>,
    alloc_ip: &mut dyn FnMut() -> String,
) {
    if !def.builtin {
        if def.group == "route.openshift.io"
            && def.kind == "Route"
            && let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut)
        {
            if let Some(to) = spec.get_mut("to").and_then(Value::as_object_mut) {
                set_default(to, "weight", json!(100));
            }
            set_default(spec, "wildcardPolicy", json!("None"));
        }
        // OpenShift's typed `user.openshift.io/v1` objects: the list fields have no
        // `omitempty`, so the server stores and returns them as `null` when absent.
        if def.group == "user.openshift.io"
            && let Some(object) = obj.as_object_mut()
        {
            let lists: &[&str] = match def.kind.as_str() {
                "Group" => &["users"],
                "User" => &["identities", "groups"],
                _ => &[],
            };
            for field in lists {
                // An empty list comes back `null` too (the protobuf storage round trip).
                if object
                    .get(*field)
                    .and_then(Value::as_array)
                    .is_some_and(Vec::is_empty)
                {
                    object.insert((*field).to_owned(), Value::Null);
                }
                set_default(object, field, Value::Null);
            }
        }
        return;
    }
    match def.kind.as_str() {
        "Deployment" => {
            let spec = obj_entry(obj, "spec");
            set_default(spec, "replicas", json!(1));
            let strategy = spec.entry("strategy").or_insert_with(|| json!({}));
            if let Some(s) = strategy.as_object_mut() {
                set_default(s, "type", json!("RollingUpdate"));
                if s.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                    let ru = s.entry("rollingUpdate").or_insert_with(|| json!({}));
                    if let Some(ru) = ru.as_object_mut() {
                        set_default(ru, "maxUnavailable", json!("25%"));
                        set_default(ru, "maxSurge", json!("25%"));
                    }
                }
            }
            set_default(spec, "revisionHistoryLimit", json!(10));
            set_default(spec, "progressDeadlineSeconds", json!(600));
            default_template(spec, Some("Always"));
            if obj.get("status").is_none() {
                obj["status"] = json!({});
            }
        }
        "StatefulSet" => {
            let spec = obj_entry(obj, "spec");
            set_default(spec, "replicas", json!(1));
            set_default(spec, "podManagementPolicy", json!("OrderedReady"));
            set_default(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
            );
            set_default(spec, "revisionHistoryLimit", json!(10));
            set_default(
                spec,
                "persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
            default_template(spec, Some("Always"));
        }
        "DaemonSet" | "ReplicaSet" | "ReplicationController" => {
            let spec = obj_entry(obj, "spec");
            if def.kind != "DaemonSet" {
                set_default(spec, "replicas", json!(1));
            } else {
                set_default(spec, "revisionHistoryLimit", json!(10));
            }
            default_template(spec, Some("Always"));
        }
        "Job" => {
            let spec = obj_entry(obj, "spec");
            set_default(spec, "parallelism", json!(1));
            set_default(spec, "completions", json!(1));
            set_default(spec, "backoffLimit", json!(6));
            set_default(spec, "completionMode", json!("NonIndexed"));
            set_default(spec, "suspend", json!(false));
            default_template(spec, None);
        }
        "CronJob" => {
            let spec = obj_entry(obj, "spec");
            set_default(spec, "concurrencyPolicy", json!("Allow"));
            set_default(spec, "suspend", json!(false));
            set_default(spec, "successfulJobsHistoryLimit", json!(3));
            set_default(spec, "failedJobsHistoryLimit", json!(1));
            if let Some(js) = spec
                .get_mut("jobTemplate")
                .and_then(|j| j.get_mut("spec"))
                .and_then(Value::as_object_mut)
            {
                default_template(js, None);
            }
        }
        "Pod" => {
            if let Some(spec) = obj.get_mut("spec") {
                default_pod_spec(spec, Some("Always"));
            }
        }
        "Service" => {
            let old_spec = old
                .and_then(|o| o.get("spec"))
                .cloned()
                .unwrap_or(Value::Null);
            let spec = obj_entry(obj, "spec");
            if let Some(Value::Array(ports)) = spec.get_mut("ports") {
                for p in ports {
                    if let Some(pm) = p.as_object_mut() {
                        set_default(pm, "protocol", json!("TCP"));
                        if let Some(port) = pm.get("port").cloned() {
                            set_default(pm, "targetPort", port);
                        }
                    }
                }
            }
            set_default(spec, "type", json!("ClusterIP"));
            let external = spec.get("type").and_then(Value::as_str) == Some("ExternalName");
            if !external {
                if !spec.contains_key("clusterIP") {
                    match old_spec.get("clusterIP") {
                        Some(ip) => {
                            spec.insert("clusterIP".into(), ip.clone());
                        }
                        None => {
                            spec.insert("clusterIP".into(), json!(alloc_ip()));
                        }
                    }
                }
                if !spec.contains_key("clusterIPs") {
                    let ip = spec.get("clusterIP").cloned().unwrap_or(Value::Null);
                    spec.insert("clusterIPs".into(), json!([ip]));
                }
            }
            set_default(spec, "sessionAffinity", json!("None"));
            if !external {
                set_default(spec, "ipFamilies", json!(["IPv4"]));
                set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
                set_default(spec, "internalTrafficPolicy", json!("Cluster"));
            }
            if obj.get("status").is_none() {
                obj["status"] = json!({"loadBalancer": {}});
            }
        }
        "Secret" => {
            let string_data = obj.as_object_mut().and_then(|m| m.remove("stringData"));
            if let Some(Value::Object(sd)) = string_data {
                let data = obj_entry(obj, "data");
                for (k, v) in sd {
                    let s = v.as_str().unwrap_or_default();
                    data.insert(k, json!(crate::registry::base64(s.as_bytes())));
                }
            }
            if let Some(m) = obj.as_object_mut() {
                set_default(m, "type", json!("Opaque"));
            }
        }
        // as the real server's rbac/v1 SetDefaults_RoleBinding, SetDefaults_ClusterRoleBinding
        // and SetDefaults_Subject: an empty roleRef.apiGroup, and an empty apiGroup of a User or
        // Group subject, become rbac.authorization.k8s.io
        "RoleBinding" | "ClusterRoleBinding" if def.group == "rbac.authorization.k8s.io" => {
            let rbac = || json!("rbac.authorization.k8s.io");
            let empty = |m: &Map<String, Value>| m.get("apiGroup").is_none_or(|g| g == "");
            if let Some(role_ref) = obj.get_mut("roleRef").and_then(Value::as_object_mut)
                && empty(role_ref)
            {
                role_ref.insert("apiGroup".into(), rbac());
            }
            let subjects = obj.get_mut("subjects").and_then(Value::as_array_mut);
            for subject in subjects
                .into_iter()
                .flatten()
                .filter_map(Value::as_object_mut)
            {
                let kind = subject.get("kind").and_then(Value::as_str);
                if matches!(kind, Some("User" | "Group")) && empty(subject) {
                    subject.insert("apiGroup".into(), rbac());
                }
            }
        }
        "Namespace" => {
            let name = obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let labels = obj_entry(obj_entry_value(obj, "metadata"), "labels");
            labels.insert("kubernetes.io/metadata.name".into(), json!(name));
            let spec = obj_entry(obj, "spec");
            set_default(spec, "finalizers", json!(["kubernetes"]));
            let status = obj_entry(obj, "status");
            set_default(status, "phase", json!("Active"));
        }
        _ => {}
    }
}

fn obj_entry_value<'a>(v: &'a mut Value, key: &str) -> &'a mut Value {
    obj_entry(v, key);
    v.get_mut(key).expect("inserted")
}

const USER_NAME_MSG: &str = "may not be '.' or '..', may not contain '/' or '%' (an Identity is named <providerName>:<providerUserName>)";
const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_label)
}

fn is_dns1035(s: &str) -> bool {
    is_label(s) && s.as_bytes()[0].is_ascii_lowercase()
}

/// Validates metadata.name (and a few structural requirements) like the real strategies do.
pub(crate) fn validate(def: &ResourceDef, obj: &Value) -> Result<(), ApiError> {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut causes: Vec<(String, String, String)> = Vec::new();
    if name.is_empty() {
        causes.push((
            "FieldValueRequired".into(),
            "Required value: name or generateName is required".into(),
            "metadata.name".into(),
        ));
    } else {
        let (ok, msg) = match def.kind.as_str() {
            "Namespace" => (is_label(name), LABEL_MSG),
            "Service" => (is_dns1035(name), DNS1035_MSG),
            // OpenShift's `user.openshift.io` names are path segments (`ValidateUserName`,
            // `ValidateGroupName`, `ValidateIdentityName`): `github:12345` is an Identity,
            // `Ada.Example` a User.
            _ if def.group == "user.openshift.io" => (
                !matches!(name, "." | "..")
                    && !name.contains(['/', '%'])
                    && (def.kind != "Identity" || name.contains(':')),
                USER_NAME_MSG,
            ),
            _ => (is_subdomain(name), SUBDOMAIN_MSG),
        };
        if !ok {
            let msg = if name.len() > 253 {
                "must be no more than 253 characters".to_string()
            } else {
                msg.to_string()
            };
            causes.push((
                "FieldValueInvalid".into(),
                format!("Invalid value: \"{name}\": {msg}"),
                "metadata.name".into(),
            ));
        }
    }
    if let Some(labels) = obj.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            let val = v.as_str().unwrap_or("");
            let valid = val.is_empty()
                || (val.len() <= 63
                    && val
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                    && val.as_bytes()[0].is_ascii_alphanumeric()
                    && val.as_bytes()[val.len() - 1].is_ascii_alphanumeric());
            if !valid || !v.is_string() {
                causes.push((
                    "FieldValueInvalid".into(),
                    format!("Invalid value: \"{val}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
                    "metadata.labels".to_string(),
                ));
            }
            let _ = k;
        }
    }
    if def.builtin
        && matches!(
            def.kind.as_str(),
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
        )
    {
        if obj.pointer("/spec/selector").is_none_or(Value::is_null) {
            causes.push((
                "FieldValueRequired".into(),
                "Required value".into(),
                "spec.selector".into(),
            ));
        }
        if obj
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
        {
            causes.push((
                "FieldValueRequired".into(),
                "Required value".into(),
                "spec.template.spec.containers".into(),
            ));
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(&def.kind, &def.group, name, &causes))
    }
}

/// The "zero value" a typed object starts from on create, used as the `old` state when
/// computing managedFields for creates (so e.g. `spec` is not itself owned).
pub(crate) fn create_baseline(def: &ResourceDef) -> Value {
    if !def.builtin {
        return json!({"metadata": {}});
    }
    match def.kind.as_str() {
        "ConfigMap" | "Secret" | "ServiceAccount" | "ClusterRole" | "Role" | "Endpoints" => {
            json!({"metadata": {}})
        }
        "RoleBinding" | "ClusterRoleBinding" => json!({"metadata": {}, "roleRef": {}}),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => json!({
            "metadata": {},
            "spec": {"selector": null, "template": {"metadata": {}, "spec": {"containers": null}}, "strategy": {}, "updateStrategy": {}},
            "status": {}
        }),
        "Service" => json!({"metadata": {}, "spec": {}, "status": {"loadBalancer": {}}}),
        _ => json!({"metadata": {}, "spec": {}, "status": {}}),
    }
}
