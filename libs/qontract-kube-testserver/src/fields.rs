//! Field sets (`managedFields.fieldsV1`), schema hints for built-in kinds, and the
//! structured-merge-diff style operations server-side apply needs.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A set of field paths, shaped like `fieldsV1` (`f:`/`k:`/`v:`/`i:` keys, `.` = the node itself).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FieldSet {
    pub(crate) member: bool,
    pub(crate) children: BTreeMap<String, FieldSet>,
}

impl FieldSet {
    pub(crate) fn from_fields_v1(v: &Value) -> Self {
        let mut s = FieldSet::default();
        if let Some(m) = v.as_object() {
            for (k, c) in m {
                if k == "." {
                    s.member = true;
                } else {
                    let mut child = FieldSet::from_fields_v1(c);
                    if child.children.is_empty() {
                        child.member = true;
                    }
                    s.children.insert(k.clone(), child);
                }
            }
        }
        s
    }

    pub(crate) fn to_fields_v1(&self) -> Value {
        let mut m = Map::new();
        if self.member && !self.children.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for (k, c) in &self.children {
            m.insert(k.clone(), c.to_fields_v1());
        }
        Value::Object(m)
    }

    pub(crate) fn is_empty(&self) -> bool {
        !self.member && self.children.values().all(FieldSet::is_empty)
    }

    pub(crate) fn insert(&mut self, path: &[String]) {
        let mut cur = self;
        for p in path {
            cur = cur.children.entry(p.clone()).or_default();
        }
        cur.member = true;
    }

    pub(crate) fn node(&self, path: &[String]) -> Option<&FieldSet> {
        let mut cur = self;
        for p in path {
            cur = cur.children.get(p)?;
        }
        Some(cur)
    }

    /// Whether the path or anything below it is a member.
    pub(crate) fn has_member_at_or_below(&self, path: &[String]) -> bool {
        self.node(path).is_some_and(|n| !n.is_empty())
    }

    pub(crate) fn union(&mut self, other: &FieldSet) {
        self.member |= other.member;
        for (k, c) in &other.children {
            self.children.entry(k.clone()).or_default().union(c);
        }
    }

    /// Members of self that are not members of other.
    pub(crate) fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && !other.member,
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            let d = match other.children.get(k) {
                Some(o) => c.difference(o),
                None => c.clone(),
            };
            if !d.is_empty() {
                out.children.insert(k.clone(), d);
            }
        }
        out
    }

    pub(crate) fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            if let Some(o) = other.children.get(k) {
                let i = c.intersection(o);
                if !i.is_empty() {
                    out.children.insert(k.clone(), i);
                }
            }
        }
        out
    }

    /// Drops the path and everything under it.
    pub(crate) fn remove_subtree(&mut self, path: &[String]) {
        if path.is_empty() {
            *self = FieldSet::default();
            return;
        }
        if path.len() == 1 {
            self.children.remove(&path[0]);
            return;
        }
        if let Some(c) = self.children.get_mut(&path[0]) {
            c.remove_subtree(&path[1..]);
            if c.is_empty() {
                self.children.remove(&path[0]);
            }
        }
    }

    /// Removes every path that is a member of `removed` together with its subtree.
    pub(crate) fn remove_all_subtrees(&mut self, removed: &FieldSet) {
        for p in removed.members() {
            self.remove_subtree(&p);
        }
    }

    /// All member paths, depth-first, parents before children.
    pub(crate) fn members(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if self.member {
            out.push(prefix.clone());
        }
        for (k, c) in &self.children {
            prefix.push(k.clone());
            c.collect(prefix, out);
            prefix.pop();
        }
    }

    pub(crate) fn prune(&mut self) {
        for c in self.children.values_mut() {
            c.prune();
        }
        self.children.retain(|_, c| !c.is_empty());
    }
}

/// `.spec.containers[name="web"].image`, the structured-merge-diff path syntax.
pub(crate) fn path_string(path: &[String]) -> String {
    let mut s = String::new();
    for pe in path {
        if let Some(f) = pe.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = pe.strip_prefix("k:") {
            let parts: Vec<String> = serde_json::from_str::<Map<String, Value>>(k)
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            s.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = pe.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        } else if let Some(i) = pe.strip_prefix("i:") {
            s.push_str(&format!("[{i}]"));
        }
    }
    s
}

/// How a list merges.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ListType {
    Atomic,
    Set,
    Map(Vec<String>),
}

/// Schema hints: enough of the built-in OpenAPI extensions (`x-kubernetes-list-type`,
/// `-map-keys`, `-map-type`) for the kinds our integrations manage. Custom resources
/// follow the CRD defaults (lists atomic, objects granular).
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    pub(crate) kind: String,
    pub(crate) builtin: bool,
    /// `openAPIV3Schema` of a CRD version: its `x-kubernetes-list-type` / `-list-map-keys` /
    /// `-map-type` extensions drive apply and strategic-merge semantics.
    pub(crate) crd: Option<std::sync::Arc<Value>>,
}

fn keys(k: &[&str]) -> Vec<String> {
    k.iter().map(|s| s.to_string()).collect()
}

impl Schema {
    pub(crate) fn for_def(def: &crate::registry::ResourceDef) -> Self {
        Schema {
            kind: def.kind.clone(),
            builtin: def.builtin,
            crd: def.schema.clone(),
        }
    }

    /// The CRD schema node at a field-name path (list items are stepped through).
    fn crd_node(&self, path: &[&str]) -> Option<&Value> {
        let mut cur = self.crd.as_deref()?;
        for name in path {
            while cur.get("type").and_then(Value::as_str) == Some("array") {
                cur = cur.get("items")?;
            }
            cur = match cur.get("properties").and_then(|p| p.get(*name)) {
                Some(n) => n,
                None => cur.get("additionalProperties").filter(|a| a.is_object())?,
            };
        }
        Some(cur)
    }

    /// `path` is the field path (field names only) of the list.
    pub(crate) fn list_type(&self, path: &[&str]) -> ListType {
        let last = path.last().copied().unwrap_or("");
        let parent = if path.len() >= 2 {
            path[path.len() - 2]
        } else {
            ""
        };
        if path.len() == 2 && path[0] == "metadata" {
            return match last {
                "finalizers" => ListType::Set,
                "ownerReferences" => ListType::Map(keys(&["uid"])),
                _ => ListType::Atomic,
            };
        }
        if !self.builtin {
            let Some(node) = self.crd_node(path) else {
                return ListType::Atomic;
            };
            return match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
                Some("map") => ListType::Map(
                    node.get("x-kubernetes-list-map-keys")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|k| k.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                ),
                Some("set") => ListType::Set,
                _ => ListType::Atomic,
            };
        }
        match last {
            "containers"
            | "initContainers"
            | "ephemeralContainers"
            | "env"
            | "volumes"
            | "imagePullSecrets" => ListType::Map(keys(&["name"])),
            "volumeMounts" => ListType::Map(keys(&["mountPath"])),
            "volumeDevices" => ListType::Map(keys(&["devicePath"])),
            "hostAliases" => ListType::Map(keys(&["ip"])),
            "conditions" => ListType::Map(keys(&["type"])),
            "topologySpreadConstraints" => {
                ListType::Map(keys(&["topologyKey", "whenUnsatisfiable"]))
            }
            "ports" if self.kind == "Service" && parent == "spec" && path.len() == 2 => {
                ListType::Map(keys(&["port", "protocol"]))
            }
            "ports"
                if matches!(
                    parent,
                    "containers" | "initContainers" | "ephemeralContainers"
                ) =>
            {
                ListType::Map(keys(&["containerPort", "protocol"]))
            }
            _ => ListType::Atomic,
        }
    }

    /// Maps/structs that are replaced as a whole (`+mapType=atomic` / `+structType=atomic`).
    pub(crate) fn is_atomic_object(&self, path: &[&str]) -> bool {
        if !self.builtin {
            return self
                .crd_node(path)
                .and_then(|n| n.get("x-kubernetes-map-type"))
                .and_then(Value::as_str)
                == Some("atomic");
        }
        matches!(
            path.last().copied().unwrap_or(""),
            "selector" | "podSelector" | "namespaceSelector" | "labelSelector" | "nodeSelector"
        ) && !(path.len() >= 2 && path[path.len() - 2] == "metadata")
    }
}

/// The key path element (`k:{...}` / `v:...`) for a list item, or `None` for atomic lists.
pub(crate) fn item_key(lt: &ListType, item: &Value) -> Option<String> {
    match lt {
        ListType::Atomic => None,
        ListType::Set => Some(format!(
            "v:{}",
            serde_json::to_string(item).unwrap_or_default()
        )),
        ListType::Map(keys) => {
            let mut sorted: Vec<&str> = keys.iter().map(String::as_str).collect();
            sorted.sort();
            let mut m = Map::new();
            for k in sorted {
                let v = match item.get(k) {
                    Some(v) => v.clone(),
                    None if k == "protocol" => Value::String("TCP".into()),
                    None => continue,
                };
                m.insert(k.to_string(), v);
            }
            Some(format!(
                "k:{}",
                serde_json::to_string(&Value::Object(m)).unwrap_or_default()
            ))
        }
    }
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

/// Walks values and produces field sets; carries the field-name path for schema hints.
struct Walker<'a> {
    schema: &'a Schema,
    names: Vec<String>,
    path: Vec<String>,
}

impl Walker<'_> {
    fn names(&self) -> Vec<&str> {
        self.names.iter().map(String::as_str).collect()
    }

    /// Everything in `v`, marking containers as members too when `mark_nodes` (an "added" subtree).
    fn add_all(&mut self, v: &Value, out: &mut FieldSet, mark_nodes: bool) {
        match v {
            Value::Object(m) if !m.is_empty() && !self.is_atomic_obj() => {
                if mark_nodes {
                    out.insert(&self.path);
                }
                for (k, c) in m {
                    self.push_field(k);
                    self.add_all(c, out, mark_nodes);
                    self.pop_field();
                }
            }
            Value::Array(items) if !items.is_empty() => {
                let lt = self.schema.list_type(&self.names());
                if lt == ListType::Atomic {
                    out.insert(&self.path);
                    return;
                }
                if mark_nodes {
                    out.insert(&self.path);
                }
                for item in items {
                    let Some(pe) = item_key(&lt, item) else {
                        continue;
                    };
                    self.path.push(pe);
                    out.insert(&self.path);
                    if lt != ListType::Set
                        && let Value::Object(m) = item
                    {
                        for (k, c) in m {
                            self.push_field(k);
                            self.add_all(c, out, mark_nodes);
                            self.pop_field();
                        }
                    }
                    self.path.pop();
                }
            }
            _ => out.insert(&self.path),
        }
    }

    fn is_atomic_obj(&self) -> bool {
        self.schema.is_atomic_object(&self.names())
    }

    fn push_field(&mut self, k: &str) {
        self.names.push(k.to_string());
        self.path.push(format!("f:{k}"));
    }

    fn pop_field(&mut self) {
        self.names.pop();
        self.path.pop();
    }

    fn compare(
        &mut self,
        old: &Value,
        new: &Value,
        changed: &mut FieldSet,
        removed: &mut FieldSet,
    ) {
        let both_empty = is_empty_container(old) && is_empty_container(new);
        match (old, new) {
            (Value::Object(_) | Value::Null, Value::Object(nm))
                if !self.is_atomic_obj() && !both_empty =>
            {
                let empty = Map::new();
                let om = old.as_object().unwrap_or(&empty);
                for (k, nc) in nm {
                    self.push_field(k);
                    match om.get(k) {
                        None => self.add_all(nc, changed, true),
                        Some(oc) => self.compare(oc, nc, changed, removed),
                    }
                    self.pop_field();
                }
                for k in om.keys() {
                    if !nm.contains_key(k) {
                        self.push_field(k);
                        removed.insert(&self.path);
                        self.pop_field();
                    }
                }
            }
            (Value::Object(om), Value::Null) if !self.is_atomic_obj() && !om.is_empty() => {
                for k in om.keys() {
                    self.push_field(k);
                    removed.insert(&self.path);
                    self.pop_field();
                }
            }
            (Value::Array(_) | Value::Null, Value::Array(ni))
                if self.schema.list_type(&self.names()) != ListType::Atomic && !both_empty =>
            {
                let lt = self.schema.list_type(&self.names());
                let empty = Vec::new();
                let oi = old.as_array().unwrap_or(&empty);
                let old_by_key: BTreeMap<String, &Value> = oi
                    .iter()
                    .filter_map(|i| item_key(&lt, i).map(|k| (k, i)))
                    .collect();
                let mut seen = Vec::new();
                for item in ni {
                    let Some(pe) = item_key(&lt, item) else {
                        continue;
                    };
                    seen.push(pe.clone());
                    match old_by_key.get(&pe) {
                        None => {
                            self.path.push(pe);
                            changed.insert(&self.path);
                            if lt != ListType::Set
                                && let Value::Object(m) = item
                            {
                                for (k, c) in m {
                                    self.push_field(k);
                                    self.add_all(c, changed, true);
                                    self.pop_field();
                                }
                            }
                            self.path.pop();
                        }
                        Some(o) => {
                            if lt != ListType::Set {
                                self.path.push(pe);
                                self.compare_item(o, item, changed, removed);
                                self.path.pop();
                            }
                        }
                    }
                }
                for k in old_by_key.keys() {
                    if !seen.contains(k) {
                        self.path.push(k.clone());
                        removed.insert(&self.path);
                        self.path.pop();
                    }
                }
            }
            _ => {
                if old != new {
                    changed.insert(&self.path);
                }
            }
        }
    }

    fn compare_item(
        &mut self,
        old: &Value,
        new: &Value,
        changed: &mut FieldSet,
        removed: &mut FieldSet,
    ) {
        let empty = Map::new();
        let om = old.as_object().unwrap_or(&empty);
        let nm = new.as_object().unwrap_or(&empty);
        for (k, nc) in nm {
            self.push_field(k);
            match om.get(k) {
                None => self.add_all(nc, changed, true),
                Some(oc) => self.compare(oc, nc, changed, removed),
            }
            self.pop_field();
        }
        for k in om.keys() {
            if !nm.contains_key(k) {
                self.push_field(k);
                removed.insert(&self.path);
                self.pop_field();
            }
        }
    }
}

/// The fields an applied configuration sets (leaves, list items, empty objects, atomics).
pub(crate) fn to_field_set(schema: &Schema, v: &Value) -> FieldSet {
    let mut out = FieldSet::default();
    let mut w = Walker {
        schema,
        names: Vec::new(),
        path: Vec::new(),
    };
    if let Value::Object(m) = v {
        for (k, c) in m {
            w.push_field(k);
            w.add_all(c, &mut out, false);
            w.pop_field();
        }
    }
    strip_ignored(&mut out);
    out
}

/// (added ∪ modified, removed) between two object states.
pub(crate) fn compare(schema: &Schema, old: &Value, new: &Value) -> (FieldSet, FieldSet) {
    let mut changed = FieldSet::default();
    let mut removed = FieldSet::default();
    let mut w = Walker {
        schema,
        names: Vec::new(),
        path: Vec::new(),
    };
    w.compare(old, new, &mut changed, &mut removed);
    strip_ignored(&mut changed);
    strip_ignored(&mut removed);
    (changed, removed)
}

/// Fields never tracked in managedFields.
pub(crate) fn strip_ignored(s: &mut FieldSet) {
    s.member = false;
    s.children.remove("f:apiVersion");
    s.children.remove("f:kind");
    if let Some(m) = s.children.get_mut("f:metadata") {
        m.member = false;
        for k in [
            "name",
            "namespace",
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "managedFields",
            "selfLink",
        ] {
            m.children.remove(&format!("f:{k}"));
        }
    }
    s.prune();
}

/// Server-side apply merge of an applied configuration into the live object.
pub(crate) fn apply_merge(schema: &Schema, live: &mut Value, applied: &Value) {
    let mut names = Vec::new();
    merge_into(schema, &mut names, live, applied);
}

fn merge_into(schema: &Schema, names: &mut Vec<String>, live: &mut Value, applied: &Value) {
    let ns: Vec<&str> = names.iter().map(String::as_str).collect();
    match (live, applied) {
        (Value::Object(lm), Value::Object(am)) if !schema.is_atomic_object(&ns) => {
            for (k, av) in am {
                names.push(k.clone());
                match lm.get_mut(k) {
                    Some(lv) => merge_into(schema, names, lv, av),
                    None => {
                        lm.insert(k.clone(), av.clone());
                    }
                }
                names.pop();
            }
        }
        (Value::Array(li), Value::Array(ai)) if schema.list_type(&ns) != ListType::Atomic => {
            let lt = schema.list_type(&ns);
            // structured-merge-diff's ordering: walk live and applied together; live-only items
            // stay where they were, shared items follow the applied order, new items are inserted
            let lk: Vec<Option<String>> = li.iter().map(|i| item_key(&lt, i)).collect();
            let rk: Vec<Option<String>> = ai.iter().map(|i| item_key(&lt, i)).collect();
            let in_rhs = |k: &Option<String>| rk.contains(k);
            let in_lhs = |k: &Option<String>| lk.contains(k);
            let shared: Vec<&Option<String>> = rk.iter().filter(|k| in_lhs(k)).collect();
            let mut next_shared = 0usize;
            let mut merged: Vec<Option<String>> = Vec::new();
            let mut result: Vec<Value> = Vec::new();
            let (mut l, mut r) = (0usize, 0usize);
            let take_rhs = |r: usize, result: &mut Vec<Value>, names: &mut Vec<String>| {
                let key = &rk[r];
                match li.iter().zip(&lk).find(|(_, k)| *k == key) {
                    Some((live_item, _)) if lt != ListType::Set => {
                        let mut item = live_item.clone();
                        merge_into(schema, names, &mut item, &ai[r]);
                        result.push(item);
                    }
                    _ => result.push(ai[r].clone()),
                }
            };
            while l < lk.len() || r < rk.len() {
                if l < lk.len() && r < rk.len() {
                    if lk[l] == rk[r] {
                        take_rhs(r, &mut result, names);
                        merged.push(rk[r].clone());
                        if shared.get(next_shared) == Some(&&rk[r]) {
                            next_shared += 1;
                        }
                        l += 1;
                        r += 1;
                        continue;
                    }
                    if in_rhs(&lk[l]) && shared.get(next_shared).is_some_and(|s| **s != lk[l]) {
                        l += 1;
                        continue;
                    }
                }
                if l < lk.len() {
                    if !in_rhs(&lk[l]) {
                        result.push(li[l].clone());
                        l += 1;
                        continue;
                    } else if merged.contains(&lk[l]) {
                        l += 1;
                        continue;
                    }
                }
                if r < rk.len() {
                    take_rhs(r, &mut result, names);
                    merged.push(rk[r].clone());
                    if shared.get(next_shared) == Some(&&rk[r]) {
                        next_shared += 1;
                    }
                    r += 1;
                } else {
                    // only reachable for live items already merged; skip them
                    l += 1;
                }
            }
            *li = result;
        }
        (live, applied) => *live = applied.clone(),
    }
}

/// Removes the value at a field-set path from an object. Returns whether something was removed.
pub(crate) fn remove_path(v: &mut Value, path: &[String]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    if let Some(f) = first.strip_prefix("f:") {
        let Some(m) = v.as_object_mut() else {
            return false;
        };
        if rest.is_empty() {
            return m.remove(f).is_some();
        }
        return m.get_mut(f).is_some_and(|c| remove_path(c, rest));
    }
    let Some(items) = v.as_array_mut() else {
        return false;
    };
    let idx = if let Some(k) = first.strip_prefix("k:") {
        let Ok(key) = serde_json::from_str::<Map<String, Value>>(k) else {
            return false;
        };
        items.iter().position(|it| {
            key.iter().all(|(kk, kv)| match it.get(kk) {
                Some(x) => x == kv,
                None => kk == "protocol" && kv == "TCP",
            })
        })
    } else if let Some(val) = first.strip_prefix("v:") {
        let Ok(val) = serde_json::from_str::<Value>(val) else {
            return false;
        };
        items.iter().position(|it| *it == val)
    } else if let Some(i) = first.strip_prefix("i:") {
        i.parse::<usize>().ok().filter(|i| *i < items.len())
    } else {
        None
    };
    let Some(idx) = idx else { return false };
    if rest.is_empty() {
        items.remove(idx);
        true
    } else {
        remove_path(&mut items[idx], rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn builtin(kind: &str) -> Schema {
        Schema {
            kind: kind.into(),
            builtin: true,
            crd: None,
        }
    }

    #[test]
    fn apply_set_has_no_map_nodes() {
        let s = to_field_set(
            &builtin("ConfigMap"),
            &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"x": "1"}}),
        );
        assert_eq!(s.to_fields_v1(), json!({"f:data": {"f:x": {}}}));
    }

    #[test]
    fn update_set_marks_new_maps() {
        let old = json!({"metadata": {}});
        let new = json!({"metadata": {"name": "cm", "labels": {"a": "b"}}, "data": {"k": "v"}});
        let (c, r) = compare(&builtin("ConfigMap"), &old, &new);
        assert!(r.is_empty());
        assert_eq!(
            c.to_fields_v1(),
            json!({"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:labels": {".": {}, "f:a": {}}}})
        );
    }

    #[test]
    fn service_ports_keys() {
        let new = json!({"spec": {"ports": [{"port": 80, "targetPort": 80}]}});
        let (c, _) = compare(
            &builtin("Service"),
            &json!({"metadata": {}, "spec": {}}),
            &new,
        );
        assert_eq!(
            c.to_fields_v1(),
            json!({"f:spec": {"f:ports": {".": {}, "k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}, "f:targetPort": {}}}}})
        );
        assert_eq!(
            path_string(&[
                "f:spec".into(),
                "f:ports".into(),
                "k:{\"port\":80,\"protocol\":\"TCP\"}".into()
            ]),
            ".spec.ports[port=80,protocol=\"TCP\"]"
        );
    }

    #[test]
    fn roundtrip_fields_v1() {
        let v = json!({"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:labels": {".": {}, "f:a": {}}}});
        assert_eq!(FieldSet::from_fields_v1(&v).to_fields_v1(), v);
    }

    #[test]
    fn associative_list_merge_order_follows_smd() {
        let s = builtin("Deployment");
        let mut live = json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}}}});
        let applied = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}, {"name": "d"}, {"name": "a"}]}}}});
        apply_merge(&s, &mut live, &applied);
        let names: Vec<&str> = live["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["b", "c", "d", "a"]);
    }
}
