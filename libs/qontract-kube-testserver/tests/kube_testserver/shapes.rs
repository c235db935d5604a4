//! Replays the requests behind `shared/docs/kube-api-shapes.md` (captured from a real
//! kube-apiserver) and compares status codes and bodies: structure, keys and every
//! value that is not instance-specific.

use crate::common::*;
use serde_json::{Value, json};
use std::path::PathBuf;

struct Shape {
    title: String,
    method: String,
    path: String,
    code: u16,
    body: Value,
}

fn shapes_doc() -> String {
    if let Ok(p) = std::env::var("KUBE_API_SHAPES") {
        return std::fs::read_to_string(p).expect("KUBE_API_SHAPES readable");
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let candidate = dir.join("shared/docs/kube-api-shapes.md");
        if candidate.exists() {
            return std::fs::read_to_string(candidate).expect("readable shapes doc");
        }
        if !dir.pop() {
            panic!(
                "shared/docs/kube-api-shapes.md not found above {}",
                env!("CARGO_MANIFEST_DIR")
            );
        }
    }
}

fn parse(doc: &str) -> Vec<Shape> {
    let mut out = Vec::new();
    let mut lines = doc.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(title) = line.strip_prefix("### ") else {
            continue;
        };
        let mut req = None;
        let mut json_text = String::new();
        let mut in_block = false;
        while let Some(l) = lines.peek() {
            if l.starts_with("### ") {
                break;
            }
            let l = lines.next().unwrap();
            if in_block {
                if l.trim() == "```" {
                    break;
                }
                json_text.push_str(l);
                json_text.push('\n');
            } else if l.trim() == "```json" {
                in_block = true;
            } else if l.starts_with('`') && l.contains("→ HTTP") {
                let (call, code) = l.split_once("→ HTTP").unwrap();
                let call = call.trim().trim_matches('`');
                let (m, p) = call.split_once(' ').unwrap();
                req = Some((
                    m.to_string(),
                    p.to_string(),
                    code.trim().parse::<u16>().unwrap(),
                ));
            }
        }
        let (method, path, code) = req.unwrap_or_else(|| panic!("no request line for {title}"));
        let body =
            serde_json::from_str(&json_text).unwrap_or_else(|e| panic!("bad JSON in {title}: {e}"));
        out.push(Shape {
            title: title.to_string(),
            method,
            path,
            code,
            body,
        });
    }
    out
}

/// Values that differ per instance; presence and type are still compared.
const INSTANCE_KEYS: &[&str] = &[
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "time",
    "gitCommit",
    "buildDate",
    "goVersion",
    "serverAddress",
    "clusterIP",
    "clusterIPs",
];

fn compare(
    exp: &Value,
    act: &Value,
    path: &str,
    subset: bool,
    ignore: &[&str],
    errs: &mut Vec<String>,
) {
    let last = path.rsplit('.').next().unwrap_or("");
    if INSTANCE_KEYS.contains(&last) || ignore.contains(&last) {
        if std::mem::discriminant(exp) != std::mem::discriminant(act) {
            errs.push(format!("{path}: type differs: {exp} vs {act}"));
        }
        return;
    }
    match (exp, act) {
        (Value::Object(e), Value::Object(a)) => {
            let ek: Vec<&String> = e.keys().collect();
            let ak: Vec<&String> = a.keys().collect();
            for k in &ek {
                if !a.contains_key(*k) {
                    errs.push(format!("{path}.{k}: missing"));
                }
            }
            for k in &ak {
                if !e.contains_key(*k) {
                    errs.push(format!("{path}.{k}: unexpected key (value {})", a[*k]));
                }
            }
            for (k, v) in e {
                if let Some(av) = a.get(k) {
                    compare(v, av, &format!("{path}.{k}"), subset, ignore, errs);
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            let named = subset && e.iter().all(|x| x.get("name").is_some());
            if named {
                let mut last_idx = None;
                for x in e {
                    let name = &x["name"];
                    match a.iter().position(|y| &y["name"] == name) {
                        None => errs.push(format!("{path}[name={name}]: missing")),
                        Some(i) => {
                            if last_idx.is_some_and(|l| i < l) {
                                errs.push(format!("{path}[name={name}]: out of order"));
                            }
                            last_idx = Some(i);
                            compare(
                                x,
                                &a[i],
                                &format!("{path}[name={name}]"),
                                subset,
                                ignore,
                                errs,
                            );
                        }
                    }
                }
            } else if e.len() != a.len() {
                errs.push(format!(
                    "{path}: {} items expected, got {}: {act}",
                    e.len(),
                    a.len()
                ));
            } else {
                for (i, (x, y)) in e.iter().zip(a).enumerate() {
                    compare(x, y, &format!("{path}[{i}]"), subset, ignore, errs);
                }
            }
        }
        (e, a) if e == a => {}
        (e, a) => errs.push(format!("{path}: expected {e}, got {a}")),
    }
}

#[tokio::test]
async fn responses_match_the_recorded_real_apiserver_shapes() {
    let shapes = parse(&shapes_doc());
    assert!(shapes.len() >= 20, "parsed {} shapes", shapes.len());
    let s = http_server().await;
    let (code, _, _) = raw(
        &s,
        "POST",
        "/api/v1/namespaces",
        Some(TOKEN),
        Some("application/json"),
        Some(r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shapes"}}"#),
    )
    .await;
    assert_eq!(code, 201);

    let cm = |name: &str, extra: Value| {
        let mut v = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"a": "b"}}, "data": {"k": "v"}});
        if let Some(rv) = extra.get("resourceVersion") {
            v["metadata"]["resourceVersion"] = rv.clone();
        }
        v.to_string()
    };
    let mut failures = Vec::new();
    let mut compared = 0;
    for sh in &shapes {
        let t = sh.title.as_str();
        let (token, ct, body): (&str, Option<&str>, Option<String>) = match t {
            "create ConfigMap" | "create again: AlreadyExists" => (TOKEN, Some("application/json"), Some(cm("cm", json!({})))),
            "update with stale resourceVersion: Conflict" => (TOKEN, Some("application/json"), Some(cm("cm", json!({"resourceVersion": "1"})))),
            "create in missing namespace" => (TOKEN, Some("application/json"), Some(cm("cm", json!({})))),
            "invalid name: Invalid (422)" => (TOKEN, Some("application/json"), Some(cm("Bad_Name", json!({})))),
            "bad token: Unauthorized" => ("bad", None, None),
            "no RBAC: Forbidden" => (RO_TOKEN, Some("application/json"), Some(cm("x", json!({})))),
            "server-side apply by manager a" => (TOKEN, Some("application/apply-patch+yaml"), Some(r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ssa"},"data":{"x":"1"}}"#.into())),
            "server-side apply by manager b on the same field: Conflict" | "forced apply by b takes ownership" => {
                (TOKEN, Some("application/apply-patch+yaml"), Some(r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ssa"},"data":{"x":"2"}}"#.into()))
            }
            "server-defaulted Deployment (dryRun=All)" => (
                TOKEN,
                Some("application/json"),
                Some(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}).to_string()),
            ),
            "server-defaulted Service (dryRun=All)" => (
                TOKEN,
                Some("application/json"),
                Some(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}]}}).to_string()),
            ),
            _ => (TOKEN, None, None),
        };
        // the Forbidden capture is a list by a user without RBAC; ours is a write by the read-only user
        let method = if t == "no RBAC: Forbidden" {
            "POST"
        } else {
            sh.method.as_str()
        };
        let (code, _, text) = raw(&s, method, &sh.path, Some(token), ct, body.as_deref()).await;
        let actual: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{t}: non-JSON body {text:?}: {e}"));
        if code != sh.code {
            failures.push(format!("{t}: HTTP {code}, expected {}: {actual}", sh.code));
            continue;
        }
        let subset = t.contains("(subset)");
        let ignore: &[&str] = if t == "no RBAC: Forbidden" {
            &["message"]
        } else {
            &[]
        };
        let mut errs = Vec::new();
        compare(&sh.body, &actual, "", subset, ignore, &mut errs);
        if t == "no RBAC: Forbidden" {
            let m = actual["message"].as_str().unwrap_or("");
            if !(m.starts_with("configmaps is forbidden: User \"")
                && m.ends_with("in API group \"\" in the namespace \"shapes\""))
            {
                errs.push(format!("message {m:?}"));
            }
        }
        if !errs.is_empty() {
            failures.push(format!("{t}:\n  {}", errs.join("\n  ")));
        }
        compared += 1;
    }
    assert!(
        failures.is_empty(),
        "shape mismatches:\n{}",
        failures.join("\n")
    );
    assert_eq!(compared, shapes.len());
}
