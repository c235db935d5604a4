//! JSON merge patch (RFC 7386), strategic merge patch (merge keys for the common lists),
//! and JSON patch (RFC 6902).

use crate::fields::{ListType, Schema, item_key};
use serde_json::Value;

/// RFC 7386.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(pm) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let tm = target.as_object_mut().expect("object");
    for (k, pv) in pm {
        if pv.is_null() {
            tm.remove(k);
        } else {
            let entry = tm.entry(k.clone()).or_insert(Value::Null);
            merge_patch(entry, pv);
        }
    }
}

/// Strategic merge patch: merge patch semantics, but lists with a patch merge key merge
/// by key; `$patch: delete|replace` and `$setElementOrder`/`$retainKeys` directives are understood.
pub(crate) fn strategic_merge_patch(schema: &Schema, target: &mut Value, patch: &Value) {
    let mut names = Vec::new();
    smp(schema, &mut names, target, patch);
}

fn smp(schema: &Schema, names: &mut Vec<String>, target: &mut Value, patch: &Value) {
    let Value::Object(pm) = patch else {
        *target = patch.clone();
        return;
    };
    if pm.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut p = pm.clone();
        p.remove("$patch");
        *target = Value::Object(p);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let tm = target.as_object_mut().expect("object");
    for (k, pv) in pm {
        if k.starts_with('$') {
            if k == "$retainKeys"
                && let Some(keep) = pv.as_array()
            {
                let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
                tm.retain(|key, _| keep.contains(&key.as_str()) || pm.contains_key(key));
            }
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(items)), Some(del)) = (tm.get_mut(field), pv.as_array()) {
                items.retain(|i| !del.contains(i));
            }
            continue;
        }
        names.push(k.clone());
        let ns: Vec<&str> = names.iter().map(String::as_str).collect();
        let lt = schema.list_type(&ns);
        if pv.is_null() {
            tm.remove(k);
        } else if let (ListType::Map(_), Value::Array(pitems)) = (&lt, pv) {
            let entry = tm
                .entry(k.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            if !entry.is_array() {
                *entry = Value::Array(Vec::new());
            }
            let items = entry.as_array_mut().expect("array");
            for pi in pitems {
                let directive = pi.get("$patch").and_then(Value::as_str);
                let key = item_key(&lt, pi);
                let pos = items.iter().position(|t| item_key(&lt, t) == key);
                match (directive, pos) {
                    (Some("delete"), Some(i)) => {
                        items.remove(i);
                    }
                    (Some("delete"), None) => {}
                    (_, Some(i)) => smp(schema, names, &mut items[i], pi),
                    (_, None) => {
                        let mut fresh = Value::Object(serde_json::Map::new());
                        smp(schema, names, &mut fresh, pi);
                        items.push(fresh);
                    }
                }
            }
        } else if let (ListType::Set, Value::Array(pitems)) = (&lt, pv) {
            let entry = tm
                .entry(k.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = entry {
                for pi in pitems {
                    if !items.contains(pi) {
                        items.push(pi.clone());
                    }
                }
            } else {
                *entry = pv.clone();
            }
        } else if pv.is_object() && !schema.is_atomic_object(&ns) {
            let entry = tm.entry(k.clone()).or_insert(Value::Null);
            smp(schema, names, entry, pv);
        } else {
            tm.insert(k.clone(), pv.clone());
        }
        names.pop();
    }
}

fn unescape(tok: &str) -> String {
    tok.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(p: &str) -> Result<Vec<String>, String> {
    if p.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = p.strip_prefix('/') else {
        return Err(format!("invalid JSON pointer {p:?}"));
    };
    Ok(rest.split('/').map(unescape).collect())
}

fn parent_mut<'a>(doc: &'a mut Value, toks: &[String]) -> Result<&'a mut Value, String> {
    let mut cur = doc;
    for t in toks {
        cur = match cur {
            Value::Object(m) => m
                .get_mut(t)
                .ok_or_else(|| format!("missing path element {t:?}"))?,
            Value::Array(a) => {
                let i: usize = t
                    .parse()
                    .map_err(|_| format!("invalid array index {t:?}"))?;
                a.get_mut(i)
                    .ok_or_else(|| format!("array index {i} out of bounds"))?
            }
            _ => return Err(format!("cannot traverse into {t:?}")),
        };
    }
    Ok(cur)
}

fn get<'a>(doc: &'a Value, path: &str) -> Result<&'a Value, String> {
    doc.pointer(path)
        .ok_or_else(|| format!("path {path:?} not found"))
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let toks = split_pointer(path)?;
    let Some((last, parent)) = toks.split_last() else {
        *doc = value;
        return Ok(());
    };
    match parent_mut(doc, parent)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(value);
            } else {
                let i: usize = last
                    .parse()
                    .map_err(|_| format!("invalid array index {last:?}"))?;
                if i > a.len() {
                    return Err(format!("array index {i} out of bounds"));
                }
                a.insert(i, value);
            }
            Ok(())
        }
        _ => Err(format!("cannot add at {path:?}")),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let toks = split_pointer(path)?;
    let Some((last, parent)) = toks.split_last() else {
        return Err("cannot remove the root".into());
    };
    match parent_mut(doc, parent)? {
        Value::Object(m) => m
            .remove(last)
            .ok_or_else(|| format!("path {path:?} not found")),
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("invalid array index {last:?}"))?;
            if i >= a.len() {
                return Err(format!("array index {i} out of bounds"));
            }
            Ok(a.remove(i))
        }
        _ => Err(format!("path {path:?} not found")),
    }
}

/// RFC 6902. Errors carry the message for a 422/500-style response.
pub(crate) fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops
        .as_array()
        .ok_or("json patch must be an array of operations")?;
    for op in ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or("operation is missing \"op\"")?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or("operation is missing \"path\"")?;
        match kind {
            "add" => add(
                doc,
                path,
                op.get("value").cloned().ok_or("add is missing \"value\"")?,
            )?,
            "remove" => {
                remove(doc, path)?;
            }
            "replace" => {
                let v = op
                    .get("value")
                    .cloned()
                    .ok_or("replace is missing \"value\"")?;
                get(doc, path)?;
                remove(doc, path).ok();
                add(doc, path, v)?;
            }
            "move" => {
                let from = op
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or("move is missing \"from\"")?;
                let v = remove(doc, from)?;
                add(doc, path, v)?;
            }
            "copy" => {
                let from = op
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or("copy is missing \"from\"")?;
                let v = get(doc, from)?.clone();
                add(doc, path, v)?;
            }
            "test" => {
                let v = op.get("value").ok_or("test is missing \"value\"")?;
                if get(doc, path)? != v {
                    return Err(format!("testing value {path} failed"));
                }
            }
            other => return Err(format!("unexpected kind: {other}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_rfc() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut t, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
    }

    #[test]
    fn json_patch_ops() {
        let mut t = json!({"a": [1, 2], "b": {"c": 1}});
        json_patch(
            &mut t,
            &json!([
                {"op": "add", "path": "/a/-", "value": 3},
                {"op": "replace", "path": "/b/c", "value": 2},
                {"op": "test", "path": "/b/c", "value": 2},
                {"op": "copy", "from": "/b", "path": "/d"},
                {"op": "remove", "path": "/a/0"}
            ]),
        )
        .unwrap();
        assert_eq!(t, json!({"a": [2, 3], "b": {"c": 2}, "d": {"c": 2}}));
        assert!(json_patch(&mut t, &json!([{"op": "test", "path": "/b/c", "value": 9}])).is_err());
    }

    #[test]
    fn smp_merges_containers() {
        let s = Schema {
            kind: "Deployment".into(),
            builtin: true,
            crd: None,
        };
        let mut t = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}}});
        strategic_merge_patch(
            &s,
            &mut t,
            &json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "a"}], "containers": [{"name": "a", "image": "z"}]}}}}),
        );
        assert_eq!(
            t["spec"]["template"]["spec"]["containers"],
            json!([{"name": "a", "image": "z"}, {"name": "b", "image": "y"}])
        );
    }
}
