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

/// Why a JSON patch (RFC 6902) does not apply; the text is the message of the 422 answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JsonPatchError {
    /// The patch is not a list of operations.
    #[error("json patch must be an array of operations")]
    NotAList,
    /// An operation without `op`.
    #[error("operation is missing \"op\"")]
    MissingOp,
    /// An operation without `path`.
    #[error("operation is missing \"path\"")]
    MissingPath,
    /// An operation without a field it needs (`value` or `from`).
    #[error("{op} is missing \"{field}\"")]
    MissingField {
        /// The operation.
        op: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// An unknown operation.
    #[error("unexpected kind: {0}")]
    UnknownOp(String),
    /// A path that is not a JSON pointer.
    #[error("invalid JSON pointer {0:?}")]
    InvalidPointer(String),
    /// A path element that is not in the document.
    #[error("missing path element {0:?}")]
    MissingElement(String),
    /// An array index that is not a number.
    #[error("invalid array index {0:?}")]
    InvalidIndex(String),
    /// An array index past the end.
    #[error("array index {0} out of bounds")]
    IndexOutOfBounds(usize),
    /// A path through a scalar.
    #[error("cannot traverse into {0:?}")]
    CannotTraverse(String),
    /// A path that is not in the document.
    #[error("path {0:?} not found")]
    NotFound(String),
    /// An `add` under a scalar.
    #[error("cannot add at {0:?}")]
    CannotAdd(String),
    /// A `remove` of the whole document.
    #[error("cannot remove the root")]
    RemoveRoot,
    /// A `test` whose value differs.
    #[error("testing value {0} failed")]
    TestFailed(String),
}

fn unescape(tok: &str) -> String {
    tok.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(p: &str) -> Result<Vec<String>, JsonPatchError> {
    if p.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = p.strip_prefix('/') else {
        return Err(JsonPatchError::InvalidPointer(p.to_owned()));
    };
    Ok(rest.split('/').map(unescape).collect())
}

fn parent_mut<'a>(doc: &'a mut Value, toks: &[String]) -> Result<&'a mut Value, JsonPatchError> {
    let mut cur = doc;
    for t in toks {
        cur = match cur {
            Value::Object(m) => m
                .get_mut(t)
                .ok_or_else(|| JsonPatchError::MissingElement(t.clone()))?,
            Value::Array(a) => {
                let i: usize = t
                    .parse()
                    .map_err(|_| JsonPatchError::InvalidIndex(t.clone()))?;
                a.get_mut(i).ok_or(JsonPatchError::IndexOutOfBounds(i))?
            }
            _ => return Err(JsonPatchError::CannotTraverse(t.clone())),
        };
    }
    Ok(cur)
}

fn get<'a>(doc: &'a Value, path: &str) -> Result<&'a Value, JsonPatchError> {
    doc.pointer(path)
        .ok_or_else(|| JsonPatchError::NotFound(path.to_owned()))
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), JsonPatchError> {
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
                    .map_err(|_| JsonPatchError::InvalidIndex(last.clone()))?;
                if i > a.len() {
                    return Err(JsonPatchError::IndexOutOfBounds(i));
                }
                a.insert(i, value);
            }
            Ok(())
        }
        _ => Err(JsonPatchError::CannotAdd(path.to_owned())),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, JsonPatchError> {
    let toks = split_pointer(path)?;
    let Some((last, parent)) = toks.split_last() else {
        return Err(JsonPatchError::RemoveRoot);
    };
    match parent_mut(doc, parent)? {
        Value::Object(m) => m
            .remove(last)
            .ok_or_else(|| JsonPatchError::NotFound(path.to_owned())),
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| JsonPatchError::InvalidIndex(last.clone()))?;
            if i >= a.len() {
                return Err(JsonPatchError::IndexOutOfBounds(i));
            }
            Ok(a.remove(i))
        }
        _ => Err(JsonPatchError::NotFound(path.to_owned())),
    }
}

/// RFC 6902. Errors carry the message for a 422/500-style response.
pub(crate) fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), JsonPatchError> {
    let missing =
        |op: &'static str, field: &'static str| JsonPatchError::MissingField { op, field };
    let ops = ops.as_array().ok_or(JsonPatchError::NotAList)?;
    for op in ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or(JsonPatchError::MissingOp)?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or(JsonPatchError::MissingPath)?;
        match kind {
            "add" => add(
                doc,
                path,
                op.get("value")
                    .cloned()
                    .ok_or_else(|| missing("add", "value"))?,
            )?,
            "remove" => {
                remove(doc, path)?;
            }
            "replace" => {
                let v = op
                    .get("value")
                    .cloned()
                    .ok_or_else(|| missing("replace", "value"))?;
                get(doc, path)?;
                remove(doc, path).ok();
                add(doc, path, v)?;
            }
            "move" => {
                let from = op
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or_else(|| missing("move", "from"))?;
                let v = remove(doc, from)?;
                add(doc, path, v)?;
            }
            "copy" => {
                let from = op
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or_else(|| missing("copy", "from"))?;
                let v = get(doc, from)?.clone();
                add(doc, path, v)?;
            }
            "test" => {
                let v = op.get("value").ok_or_else(|| missing("test", "value"))?;
                if get(doc, path)? != v {
                    return Err(JsonPatchError::TestFailed(path.to_owned()));
                }
            }
            other => return Err(JsonPatchError::UnknownOp(other.to_owned())),
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
        assert_eq!(
            json_patch(&mut t, &json!([{"op": "test", "path": "/b/c", "value": 9}])),
            Err(JsonPatchError::TestFailed("/b/c".into()))
        );
        for (ops, message) in [
            (json!({}), "json patch must be an array of operations"),
            (json!([{"path": "/a"}]), "operation is missing \"op\""),
            (json!([{"op": "add"}]), "operation is missing \"path\""),
            (
                json!([{"op": "add", "path": "/x"}]),
                "add is missing \"value\"",
            ),
            (
                json!([{"op": "move", "path": "/x"}]),
                "move is missing \"from\"",
            ),
            (
                json!([{"op": "frob", "path": "/x"}]),
                "unexpected kind: frob",
            ),
            (
                json!([{"op": "remove", "path": "x"}]),
                "invalid JSON pointer \"x\"",
            ),
            (
                json!([{"op": "remove", "path": "/nope/x"}]),
                "missing path element \"nope\"",
            ),
            (
                json!([{"op": "remove", "path": "/a/9"}]),
                "array index 9 out of bounds",
            ),
            (
                json!([{"op": "remove", "path": "/a/z"}]),
                "invalid array index \"z\"",
            ),
            (
                json!([{"op": "remove", "path": ""}]),
                "cannot remove the root",
            ),
            (
                json!([{"op": "remove", "path": "/zz"}]),
                "path \"/zz\" not found",
            ),
        ] {
            let e = json_patch(&mut t.clone(), &ops).unwrap_err();
            assert_eq!(e.to_string(), message, "{ops}");
        }
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
