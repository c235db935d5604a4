//! `Status` error bodies shaped like the real apiserver's.

use crate::registry::ResourceDef;
use serde_json::{Map, Value, json};

/// An API error: HTTP code plus the `Status` body.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) code: u16,
    pub(crate) body: Value,
    pub(crate) retry_after: Option<u64>,
}

fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> ApiError {
    let mut m = Map::new();
    m.insert("kind".into(), json!("Status"));
    m.insert("apiVersion".into(), json!("v1"));
    m.insert("metadata".into(), json!({}));
    m.insert("status".into(), json!("Failure"));
    m.insert("message".into(), json!(message));
    m.insert("reason".into(), json!(reason));
    if let Some(d) = details {
        m.insert("details".into(), d);
    }
    m.insert("code".into(), json!(code));
    ApiError {
        code,
        body: Value::Object(m),
        retry_after: None,
    }
}

/// `details` with name/group/kind in the real key order, omitting empty group/name.
fn details(name: Option<&str>, group: &str, kind: &str) -> Value {
    let mut m = Map::new();
    if let Some(n) = name
        && !n.is_empty()
    {
        m.insert("name".into(), json!(n));
    }
    if !group.is_empty() {
        m.insert("group".into(), json!(group));
    }
    m.insert("kind".into(), json!(kind));
    Value::Object(m)
}

impl ApiError {
    pub(crate) fn not_found(r: &ResourceDef, name: &str) -> Self {
        Self::not_found_raw(&r.group, &r.plural, name)
    }

    pub(crate) fn not_found_raw(group: &str, plural: &str, name: &str) -> Self {
        let q = if group.is_empty() {
            plural.to_string()
        } else {
            format!("{plural}.{group}")
        };
        status(
            404,
            "NotFound",
            &format!("{q} \"{name}\" not found"),
            Some(details(Some(name), group, plural)),
        )
    }

    pub(crate) fn namespace_not_found(ns: &str) -> Self {
        Self::not_found_raw("", "namespaces", ns)
    }

    pub(crate) fn already_exists(r: &ResourceDef, name: &str) -> Self {
        status(
            409,
            "AlreadyExists",
            &format!("{} \"{name}\" already exists", r.qualified()),
            Some(details(Some(name), &r.group, &r.plural)),
        )
    }

    pub(crate) fn conflict(r: &ResourceDef, name: &str) -> Self {
        status(
            409,
            "Conflict",
            &format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                r.qualified()
            ),
            Some(details(Some(name), &r.group, &r.plural)),
        )
    }

    /// SSA conflicts: (printed manager, field path) pairs, sorted by manager. The printed
    /// manager is `"a"` for appliers and `"a" using v1` for Update managers, as the apiserver prints them.
    pub(crate) fn apply_conflicts(conflicts: &[(String, String)]) -> Self {
        let n = conflicts.len();
        let msg = if n == 1 {
            format!(
                "Apply failed with 1 conflict: conflict with {}: {}",
                conflicts[0].0, conflicts[0].1
            )
        } else {
            let mut lines: Vec<String> = Vec::new();
            let mut current: Option<&str> = None;
            for (m, f) in conflicts {
                if current != Some(m.as_str()) {
                    lines.push(format!("conflicts with {m}:"));
                    current = Some(m.as_str());
                }
                lines.push(format!("- {f}"));
            }
            format!("Apply failed with {n} conflicts: {}", lines.join("\n"))
        };
        let causes: Vec<Value> = conflicts
            .iter()
            .map(|(m, f)| {
                json!({"reason": "FieldManagerConflict", "message": format!("conflict with {m}"), "field": f})
            })
            .collect();
        status(409, "Conflict", &msg, Some(json!({"causes": causes})))
    }

    /// 422 with one or more field causes: (reason, message, field).
    pub(crate) fn invalid(
        kind: &str,
        group: &str,
        name: &str,
        causes: &[(String, String, String)],
    ) -> Self {
        let parts: Vec<String> = causes.iter().map(|(_, m, f)| format!("{f}: {m}")).collect();
        // the message names the qualified kind (`Deployment.apps`), details keep kind and group apart
        let qualified = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let msg = if parts.len() == 1 {
            format!("{qualified} \"{name}\" is invalid: {}", parts[0])
        } else {
            format!("{qualified} \"{name}\" is invalid: [{}]", parts.join(", "))
        };
        let mut d = details(if name.is_empty() { None } else { Some(name) }, group, kind);
        let cs: Vec<Value> = causes
            .iter()
            .map(|(r, m, f)| json!({"reason": r, "message": m, "field": f}))
            .collect();
        d.as_object_mut()
            .expect("object")
            .insert("causes".into(), Value::Array(cs));
        status(422, "Invalid", &msg, Some(d))
    }

    /// Invalid request options (`PatchOptions.meta.k8s.io "" is invalid: …`).
    pub(crate) fn invalid_options(kind: &str, field: &str, reason: &str, message: &str) -> Self {
        Self::invalid(
            kind,
            "meta.k8s.io",
            "",
            &[(reason.into(), message.into(), field.into())],
        )
    }

    pub(crate) fn gone(msg: &str) -> Self {
        status(410, "Expired", msg, None)
    }

    pub(crate) fn bad_request(msg: &str) -> Self {
        status(400, "BadRequest", msg, None)
    }

    pub(crate) fn unauthorized() -> Self {
        status(401, "Unauthorized", "Unauthorized", None)
    }

    /// RBAC denial, phrased like the authorizer's.
    pub(crate) fn forbidden(
        user: &str,
        verb: &str,
        r: &ResourceDef,
        ns: Option<&str>,
        name: Option<&str>,
    ) -> Self {
        let subject = match name {
            Some(n) => format!("{} \"{n}\"", r.qualified()),
            None => r.qualified(),
        };
        let scope = match ns {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_string(),
        };
        let msg = format!(
            "{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{}\" in API group \"{}\" {scope}",
            r.plural, r.group
        );
        status(
            403,
            "Forbidden",
            &msg,
            Some(details(name, &r.group, &r.plural)),
        )
    }

    pub(crate) fn forbidden_path(user: &str, verb: &str, path: &str) -> Self {
        let msg = format!("forbidden: User \"{user}\" cannot {verb} path \"{path}\"");
        status(403, "Forbidden", &msg, Some(json!({})))
    }

    pub(crate) fn not_found_path() -> Self {
        status(
            404,
            "NotFound",
            "the server could not find the requested resource",
            Some(json!({})),
        )
    }

    pub(crate) fn method_not_allowed(method: &str) -> Self {
        status(
            405,
            "MethodNotAllowed",
            &format!("the server does not allow this method on the requested resource ({method})"),
            Some(json!({})),
        )
    }

    pub(crate) fn unsupported_media_type(strategic: bool) -> Self {
        let accepted = if strategic {
            "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json"
        } else {
            "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
        };
        status(
            415,
            "UnsupportedMediaType",
            &format!(
                "the body of the request was in an unknown format - accepted media types include: {accepted}"
            ),
            None,
        )
    }

    /// Injected failures: a Status for the given code with the real reasons.
    pub(crate) fn injected(code: u16, retry_after: Option<u64>) -> Self {
        let (reason, msg) = match code {
            429 => (
                "TooManyRequests",
                "Too many requests, please try again later.",
            ),
            500 => ("InternalError", "Internal error occurred: injected failure"),
            503 => (
                "ServiceUnavailable",
                "the server is currently unable to handle the request",
            ),
            504 => (
                "Timeout",
                "Timeout: request did not complete within the allotted timeout",
            ),
            409 => (
                "Conflict",
                "Operation cannot be fulfilled: injected conflict",
            ),
            404 => (
                "NotFound",
                "the server could not find the requested resource",
            ),
            403 => ("Forbidden", "forbidden: injected"),
            401 => ("Unauthorized", "Unauthorized"),
            _ => ("", "injected failure"),
        };
        let d = retry_after.map(|s| json!({"retryAfterSeconds": s}));
        let mut e = status(code, reason, msg, d);
        e.retry_after = retry_after;
        e
    }
}

/// Success Status returned by DELETE for most kinds.
pub(crate) fn delete_success(r: &ResourceDef, name: &str, uid: &str) -> Value {
    let mut d = details(Some(name), &r.group, &r.plural);
    d.as_object_mut()
        .expect("object")
        .insert("uid".into(), json!(uid));
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": d,
    })
}
