//! Drift detection: upstream's three-way comparison (`three_way_diff_strategy.py`), exactly.
//!
//! When the object on the cluster carries the `qontract.sha256sum` of the unchanged desired
//! object, upstream `three_way_diff_using_hash` still looks at the cluster object itself:
//!
//! 1. both objects are normalised (`normalize_object`): the metadata fields of
//!    `NORMALIZE_COMPARE_EXCLUDED_ATTRS` (`creationTimestamp`, `resourceVersion`, `generation`,
//!    `selfLink`, `uid`, `fieldRef`, `managedFields`, `namespace`) are dropped, the qontract
//!    and `last-applied-configuration` annotations are dropped (every other annotation is
//!    kept and compared; `annotations: null` or absent becomes `{}` on both sides), and a
//!    Secret's `stringData` is folded into `data` as base64 of Python's `str(value)`;
//! 2. Python `jsonpatch.JsonPatch.from_diff(current, desired)` (jsonpatch 1.34) builds the RFC
//!    6902 patch that turns the cluster object into the desired one — [`json_patch_diff`] is a
//!    port of its `DiffBuilder`, including how it pairs a removed and an added equal value into
//!    a `move`, shifts the list indices of the following operations, and merges a `remove` and
//!    an `add` of the same path into a `replace`;
//! 3. only `add` and `replace` operations count (`is_valid_change`): `remove` (fields, keys and
//!    list items the cluster has but the desired object does not declare: server defaults,
//!    `status`, webhook-injected containers, env vars, volumes, extra labels and annotations)
//!    and `move` do not, and neither do
//!    * a change of `…/(requests|limits)/cpu` to a value equal in millicores
//!      (`OpenshiftResource.cpu_equal`: `0.5`, `"0.5"` and `"500m"` are equal), and
//!    * the `add` of a falsy value (`""`, `null`, `0`, `false`, `[]`, `{}`) at
//!      `…/env/<n>/value` (the API server drops empty env values).
//!
//! Consequences worth knowing, all upstream behaviour kept on purpose so the two tools agree:
//! lists are compared index by index, so an item appended on the cluster is no drift but an
//! item inserted before the declared ones, a declared item removed or list items of maps
//! reordered are; a reordered list of scalars (or a map key renamed with the same value) is
//! only `move`s and no drift; scalars compare by their Python JSON text, so `1` ≠ `1.0`,
//! `true` ≠ `"true"`, and `apiVersion` must match exactly; a declared empty value the API
//! server omits (`data: {}`, `labels: {}`, `foo: ""`, `foo: null` outside an env value) is an
//! `add` each run, so such an object is re-applied on every run by both tools.
//!
//! One deliberate difference: where upstream raises (it resolves the pointer of a cpu `add` in
//! the cluster object, which fails with `JsonPointerException` when the cluster object lacks
//! the cpu the desired object declares, and crashes the run), the change counts as drift
//! ([`Drift::upstream_raises`] tells which). The Python tool plans nothing for such an object
//! because it stops, so this never makes us plan a change on an object it would leave alone.

use std::fmt;

use base64::Engine as _;
use serde::Serialize;
use serde_json::{Map, Number, Value};

use crate::annotations::{
    LAST_APPLIED_CONFIGURATION, QONTRACT_ANNOTATIONS, QONTRACT_INTEGRATION, QONTRACT_SHA256SUM,
};
use crate::resource::OpenshiftResource;
use qontract_pyjson as pyjson;

/// Metadata fields excluded from the comparison (upstream `NORMALIZE_COMPARE_EXCLUDED_ATTRS`).
pub const NORMALIZE_COMPARE_EXCLUDED_ATTRS: [&str; 8] = [
    "creationTimestamp",
    "resourceVersion",
    "generation",
    "selfLink",
    "uid",
    "fieldRef",
    "managedFields",
    "namespace",
];

/// How a declared field differs on the cluster. Values are never included: they may be secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// A JSON patch `add`: the field (or list item) is declared but absent on the cluster.
    Missing,
    /// A JSON patch `replace`: the field has a different value (or type) on the cluster.
    Changed,
}

/// A change upstream's three-way comparison counts: one `add` or `replace` operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// JSON pointer (RFC 6901) of the field, e.g. `/spec/replicas`, as jsonpatch writes it.
    pub path: String,
    /// How it differs.
    pub kind: DriftKind,
    /// Upstream's `is_cpu_mutation` raises on this change (the Python tool crashes); we count
    /// it as drift.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub upstream_raises: bool,
}

impl fmt::Display for Drift {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            DriftKind::Missing => write!(formatter, "{} is missing on the cluster", self.path),
            DriftKind::Changed => write!(formatter, "{} differs on the cluster", self.path),
        }
    }
}

/// The outcome of upstream `three_way_diff_using_hash` for an object on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreeWayDiff {
    /// Equal: nothing to apply.
    Equal,
    /// The cluster object has no `qontract.sha256sum` annotation.
    MissingSha256sum,
    /// The cluster object has a sha256sum but no `qontract.integration` annotation (upstream
    /// raises `KeyError` here; we apply).
    MissingIntegrationAnnotation,
    /// The cluster object was applied by another integration.
    SwitchingIntegration {
        /// Integration that applied it.
        from: String,
        /// The desired object's integration.
        to: String,
    },
    /// The stored sha256sum differs from the desired object's.
    DesiredChanged {
        /// `qontract.sha256sum` on the cluster.
        stored: String,
        /// sha256sum of the desired object.
        desired: String,
    },
    /// The sums match, but the first change upstream counts (see [`declared_changes`]).
    Drift(Drift),
}

/// Upstream `three_way_diff_using_hash(c_item, d_item)`: [`ThreeWayDiff::Equal`] where it
/// returns `True`, else why not.
pub fn three_way_diff(current: &OpenshiftResource, desired: &OpenshiftResource) -> ThreeWayDiff {
    let annotations = current.annotations();
    let Some(stored) = annotations.and_then(|annotations| annotations.get(QONTRACT_SHA256SUM))
    else {
        return ThreeWayDiff::MissingSha256sum;
    };
    match current.annotation(QONTRACT_INTEGRATION) {
        None => return ThreeWayDiff::MissingIntegrationAnnotation,
        Some(owner) if owner != desired.integration() => {
            return ThreeWayDiff::SwitchingIntegration {
                from: owner.to_owned(),
                to: desired.integration().to_owned(),
            };
        }
        Some(_) => {}
    }
    if stored.as_str() != Some(desired.sha256sum()) {
        return ThreeWayDiff::DesiredChanged {
            stored: stored
                .as_str()
                .map_or_else(|| stored.to_string(), str::to_owned),
            desired: desired.sha256sum().to_owned(),
        };
    }
    match find_declared_drift(current.body(), desired.body()) {
        Some(drift) => ThreeWayDiff::Drift(drift),
        None => ThreeWayDiff::Equal,
    }
}

/// The first change upstream's comparison counts between the cluster object (`current`) and
/// the desired object, or `None` if there is none. The sha256sum check is not part of this;
/// see [`three_way_diff`].
pub fn find_declared_drift(current: &Value, desired: &Value) -> Option<Drift> {
    declared_changes(current, desired).into_iter().next()
}

/// Every change upstream's comparison counts (`is_valid_change` over the patch from the
/// normalised `current` to the normalised `desired`), in patch order.
pub fn declared_changes(current: &Value, desired: &Value) -> Vec<Drift> {
    let current = normalize_object(current);
    let desired = normalize_object(desired);
    json_patch_diff(&current, &desired)
        .into_iter()
        .filter_map(|operation| valid_change(&current, operation))
        .collect()
}

/// Upstream `is_valid_change` for one operation: the [`Drift`] if it counts.
fn valid_change(current: &Value, operation: PatchOperation) -> Option<Drift> {
    let (kind, path, value) = match operation {
        PatchOperation::Add { path, value } => (DriftKind::Missing, path, value),
        PatchOperation::Replace { path, value } => (DriftKind::Changed, path, value),
        PatchOperation::Remove { .. } | PatchOperation::Move { .. } => return None,
    };
    let mut upstream_raises = false;
    // is_cpu_mutation
    if matches_cpu_pointer(&path) {
        match resolve_pointer(current, &path) {
            Some(current_value) if cpu_equal(current_value, &value) => return None,
            Some(_) => {}
            None => upstream_raises = true,
        }
    }
    // is_empty_env_value
    if kind == DriftKind::Missing && !py_truthy(&value) && matches_env_value_pointer(&path) {
        return None;
    }
    Some(Drift {
        path,
        kind,
        upstream_raises,
    })
}

// ---------------------------------------------------------------------------------------------
// normalize_object

/// Upstream `normalize_object`: the body compared by the three-way diff.
pub fn normalize_object(body: &Value) -> Value {
    let Value::Object(root) = body else {
        return body.clone();
    };
    let mut metadata: Map<String, Value> = match root.get("metadata") {
        Some(Value::Object(metadata)) => metadata
            .iter()
            .filter(|(key, _)| !NORMALIZE_COMPARE_EXCLUDED_ATTRS.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
        _ => Map::new(),
    };
    // `metadata.get("annotations") or {}`, without the ignored ones.
    let annotations: Map<String, Value> = match metadata.get("annotations") {
        Some(Value::Object(annotations)) => annotations
            .iter()
            .filter(|(key, _)| {
                !QONTRACT_ANNOTATIONS.contains(&key.as_str()) && *key != LAST_APPLIED_CONFIGURATION
            })
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
        _ => Map::new(),
    };
    metadata.insert("annotations".to_owned(), Value::Object(annotations));
    // `item.body | {"metadata": metadata}` keeps the position of `metadata`.
    let mut metadata = Some(Value::Object(metadata));
    let mut normalized: Map<String, Value> = root
        .iter()
        .map(|(key, value)| {
            if key == "metadata" {
                (key.clone(), metadata.take().unwrap_or(Value::Null))
            } else {
                (key.clone(), value.clone())
            }
        })
        .collect();
    if let Some(metadata) = metadata {
        normalized.insert("metadata".to_owned(), metadata);
    }
    if normalized.get("kind").and_then(Value::as_str) == Some("Secret") {
        normalize_secret(&mut normalized);
    }
    Value::Object(normalized)
}

/// Upstream `_normalize_secret`: a truthy `stringData` is merged into `data` (base64 of
/// Python's `str(value)`) and dropped.
fn normalize_secret(body: &mut Map<String, Value>) {
    let Some(Value::Object(string_data)) = body.get("stringData") else {
        return;
    };
    if string_data.is_empty() {
        return;
    }
    let mut data = match body.get("data") {
        Some(Value::Object(data)) => data.clone(),
        _ => Map::new(),
    };
    for (key, value) in string_data {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(pyjson::python_str(value).as_bytes());
        data.insert(key.clone(), Value::String(encoded));
    }
    body.insert("data".to_owned(), Value::Object(data));
    body.shift_remove("stringData");
}

// ---------------------------------------------------------------------------------------------
// jsonpatch.JsonPatch.from_diff (jsonpatch 1.34 DiffBuilder)

/// One RFC 6902 operation as Python jsonpatch's `from_diff` produces it.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchOperation {
    /// `{"op": "add", "path", "value"}`
    Add {
        /// JSON pointer.
        path: String,
        /// Added value.
        value: Value,
    },
    /// `{"op": "remove", "path"}`
    Remove {
        /// JSON pointer.
        path: String,
    },
    /// `{"op": "replace", "path", "value"}`
    Replace {
        /// JSON pointer.
        path: String,
        /// New value.
        value: Value,
    },
    /// `{"op": "move", "from", "path"}`
    Move {
        /// JSON pointer of the source.
        from: String,
        /// JSON pointer of the target.
        path: String,
    },
}

impl PatchOperation {
    /// The operation as the JSON object jsonpatch writes.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        let (op, from, path, value) = match self {
            PatchOperation::Add { path, value } => ("add", None, path, Some(value)),
            PatchOperation::Remove { path } => ("remove", None, path, None),
            PatchOperation::Replace { path, value } => ("replace", None, path, Some(value)),
            PatchOperation::Move { from, path } => ("move", Some(from), path, None),
        };
        object.insert("op".to_owned(), Value::String(op.to_owned()));
        if let Some(from) = from {
            object.insert("from".to_owned(), Value::String(from.clone()));
        }
        object.insert("path".to_owned(), Value::String(path.clone()));
        if let Some(value) = value {
            object.insert("value".to_owned(), value.clone());
        }
        Value::Object(object)
    }
}

/// Python `jsonpatch.JsonPatch.from_diff(src, dst).patch` (jsonpatch 1.34).
pub fn json_patch_diff(src: &Value, dst: &Value) -> Vec<PatchOperation> {
    let mut builder = DiffBuilder::new();
    builder.compare_values(&[], None, src, dst);
    builder.execute()
}

/// A location as jsonpatch keeps it: object keys and list indices, told apart.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Key(String),
    Index(i64),
}

type Location = Vec<Part>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Add,
    Remove,
    Replace,
    Move,
}

#[derive(Debug, Clone)]
struct Op<'a> {
    kind: OpKind,
    path: Location,
    from: Option<Location>,
    value: Option<&'a Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    From,
    Path,
}

impl Op<'_> {
    fn member(&self, member: Member) -> Option<&Location> {
        match member {
            Member::From => self.from.as_ref(),
            Member::Path => Some(&self.path),
        }
    }

    fn set_member(&mut self, member: Member, location: Location) {
        match member {
            Member::From => self.from = Some(location),
            Member::Path => self.path = location,
        }
    }
}

/// A node of the doubly linked list of operations; index 0 is the root sentinel.
struct Node<'a> {
    previous: usize,
    next: usize,
    op: Option<Op<'a>>,
}

const ROOT: usize = 0;
const STORE_ADD: usize = 0;
const STORE_REMOVE: usize = 1;

struct DiffBuilder<'a> {
    nodes: Vec<Node<'a>>,
    /// `index_storage` and `index_storage2` of jsonpatch: (value, node) pairs, taken last
    /// first among equal values.
    storage: [Vec<(&'a Value, usize)>; 2],
}

impl<'a> DiffBuilder<'a> {
    fn new() -> Self {
        Self {
            nodes: vec![Node {
                previous: ROOT,
                next: ROOT,
                op: None,
            }],
            storage: [Vec::new(), Vec::new()],
        }
    }

    fn store_index(&mut self, value: &'a Value, index: usize, store: usize) {
        self.storage[store].push((value, index));
    }

    /// `take_index`: the last stored node whose value equals `(value, type(value))`.
    fn take_index(&mut self, value: &Value, store: usize) -> Option<usize> {
        let storage = &mut self.storage[store];
        let position = storage
            .iter()
            .rposition(|(stored, _)| typed_key_equal(stored, value))?;
        Some(storage.remove(position).1)
    }

    fn insert(&mut self, op: Op<'a>) -> usize {
        let index = self.nodes.len();
        let last = self.nodes[ROOT].previous;
        self.nodes.push(Node {
            previous: last,
            next: ROOT,
            op: Some(op),
        });
        self.nodes[last].next = index;
        self.nodes[ROOT].previous = index;
        index
    }

    fn remove(&mut self, index: usize) {
        let (previous, next) = (self.nodes[index].previous, self.nodes[index].next);
        self.nodes[previous].next = next;
        self.nodes[next].previous = previous;
        self.nodes[index].op = None;
    }

    fn op(&self, index: usize) -> &Op<'a> {
        self.nodes[index]
            .op
            .as_ref()
            .expect("linked operations are never removed nodes")
    }

    fn execute(&self) -> Vec<PatchOperation> {
        let mut operations = Vec::new();
        let mut current = self.nodes[ROOT].next;
        while current != ROOT {
            let first = self.op(current);
            let next = self.nodes[current].next;
            if next != ROOT {
                let second = self.op(next);
                if first.path == second.path
                    && first.kind == OpKind::Remove
                    && second.kind == OpKind::Add
                {
                    operations.push(PatchOperation::Replace {
                        path: to_pointer(&second.path),
                        value: second.value.cloned().unwrap_or(Value::Null),
                    });
                    current = self.nodes[next].next;
                    continue;
                }
            }
            let path = to_pointer(&first.path);
            operations.push(match first.kind {
                OpKind::Add => PatchOperation::Add {
                    path,
                    value: first.value.cloned().unwrap_or(Value::Null),
                },
                OpKind::Remove => PatchOperation::Remove { path },
                OpKind::Replace => PatchOperation::Replace {
                    path,
                    value: first.value.cloned().unwrap_or(Value::Null),
                },
                OpKind::Move => PatchOperation::Move {
                    from: first.from.as_deref().map(to_pointer).unwrap_or_default(),
                    path,
                },
            });
            current = next;
        }
        operations
    }

    /// `_adjust_following`: how the operations after `index` change if the item its operation
    /// removes (or adds, if not `removed`) is moved there later instead.
    fn adjust_following(
        &self,
        index: usize,
        removed: bool,
    ) -> (Vec<(usize, Member, Location)>, Location) {
        let mut location = self.op(index).path.clone();
        let mut changes = Vec::new();
        if !location.iter().any(|part| matches!(part, Part::Index(_))) {
            return (changes, location);
        }
        let mut current = self.nodes[index].next;
        while current != ROOT {
            let op = self.op(current);
            for member in [Member::From, Member::Path] {
                let Some(parts) = op.member(member) else {
                    continue;
                };
                let inserted =
                    member == Member::Path && matches!(op.kind, OpKind::Add | OpKind::Move);
                let (parts, present) = if removed {
                    let parts = with_item(parts, &location, inserted);
                    (parts.clone(), parts)
                } else {
                    (without_item(parts, &location), parts.clone())
                };
                if op.kind != OpKind::Replace {
                    location = item_after(&location, &present, inserted);
                }
                changes.push((current, member, parts));
            }
            current = self.nodes[current].next;
        }
        (changes, location)
    }

    fn apply_changes(&mut self, changes: Vec<(usize, Member, Location)>) {
        for (index, member, parts) in changes {
            if let Some(op) = self.nodes[index].op.as_mut() {
                op.set_member(member, parts);
            }
        }
    }

    fn item_added(&mut self, path: &[Part], key: Part, item: &'a Value) {
        let target = path_join(path, key);
        if let Some(index) = self.take_index(item, STORE_REMOVE) {
            let (changes, source) = self.adjust_following(index, true);
            // RFC 6902 does not allow moving a value into its own children
            if !is_inside(&target, &source) {
                self.apply_changes(changes);
                self.remove(index);
                if source != target {
                    self.insert(Op {
                        kind: OpKind::Move,
                        path: target,
                        from: Some(source),
                        value: None,
                    });
                }
                return;
            }
        }
        let new_index = self.insert(Op {
            kind: OpKind::Add,
            path: target,
            from: None,
            value: Some(item),
        });
        self.store_index(item, new_index, STORE_ADD);
    }

    fn item_removed(&mut self, path: &[Part], key: Part, item: &'a Value) {
        let source = path_join(path, key);
        if let Some(index) = self.take_index(item, STORE_ADD) {
            let (changes, added) = self.adjust_following(index, false);
            let moved_from = without_item(&source, &added);
            let target = item_after(&added, &source, false);
            // RFC 6902 does not allow moving a value into its own children
            if !is_inside(&target, &moved_from) {
                self.apply_changes(changes);
                self.remove(index);
                if moved_from != target {
                    self.insert(Op {
                        kind: OpKind::Move,
                        path: target,
                        from: Some(moved_from),
                        value: None,
                    });
                }
                return;
            }
        }
        let new_index = self.insert(Op {
            kind: OpKind::Remove,
            path: source,
            from: None,
            value: None,
        });
        self.store_index(item, new_index, STORE_REMOVE);
    }

    fn item_replaced(&mut self, path: &[Part], key: Option<Part>, item: &'a Value) {
        let path = match key {
            Some(key) => path_join(path, key),
            None => path.to_vec(),
        };
        self.insert(Op {
            kind: OpKind::Replace,
            path,
            from: None,
            value: Some(item),
        });
    }

    fn compare_dicts(
        &mut self,
        path: &[Part],
        src: &'a Map<String, Value>,
        dst: &'a Map<String, Value>,
    ) {
        for (key, value) in src {
            if !dst.contains_key(key) {
                self.item_removed(path, Part::Key(key.clone()), value);
            }
        }
        for (key, value) in dst {
            if !src.contains_key(key) {
                self.item_added(path, Part::Key(key.clone()), value);
            }
        }
        for (key, src_value) in src {
            if let Some(dst_value) = dst.get(key) {
                self.compare_values(path, Some(Part::Key(key.clone())), src_value, dst_value);
            }
        }
    }

    fn compare_lists(&mut self, path: &[Part], src: &'a [Value], dst: &'a [Value]) {
        let (len_src, len_dst) = (src.len(), dst.len());
        for key in 0..len_src.max(len_dst) {
            if key < len_src.min(len_dst) {
                let (old, new) = (&src[key], &dst[key]);
                match (old, new) {
                    (Value::Object(old), Value::Object(new)) => {
                        self.compare_dicts(&path_join(path, index_part(key)), old, new);
                    }
                    (Value::Array(old), Value::Array(new)) => {
                        self.compare_lists(&path_join(path, index_part(key)), old, new);
                    }
                    _ if dumps_equal(old, new) => {}
                    _ => {
                        self.item_removed(path, index_part(key), old);
                        self.item_added(path, index_part(key), new);
                    }
                }
            } else if len_src > len_dst {
                self.item_removed(path, index_part(len_dst), &src[key]);
            } else {
                self.item_added(path, index_part(key), &dst[key]);
            }
        }
    }

    fn compare_values(&mut self, path: &[Part], key: Option<Part>, src: &'a Value, dst: &'a Value) {
        match (src, dst) {
            (Value::Object(src), Value::Object(dst)) => {
                let path = match key {
                    Some(key) => path_join(path, key),
                    None => path.to_vec(),
                };
                self.compare_dicts(&path, src, dst);
            }
            (Value::Array(src), Value::Array(dst)) => {
                let path = match key {
                    Some(key) => path_join(path, key),
                    None => path.to_vec(),
                };
                self.compare_lists(&path, src, dst);
            }
            _ if dumps_equal(src, dst) => {}
            _ => self.item_replaced(path, key, dst),
        }
    }
}

fn index_part(index: usize) -> Part {
    Part::Index(i64::try_from(index).unwrap_or(i64::MAX))
}

fn path_join(path: &[Part], key: Part) -> Location {
    let mut joined = path.to_vec();
    joined.push(key);
    joined
}

/// `_to_pointer`
fn to_pointer(path: &[Part]) -> String {
    let mut pointer = String::new();
    for part in path {
        pointer.push('/');
        match part {
            Part::Key(key) => pointer.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Part::Index(index) => pointer.push_str(&index.to_string()),
        }
    }
    pointer
}

fn is_prefix(sub_parts: &[Part], parts: &[Part]) -> bool {
    parts.len() >= sub_parts.len() && sub_parts == &parts[..sub_parts.len()]
}

/// `_is_inside`: `parts` is strictly inside `container`.
fn is_inside(parts: &[Part], container: &[Part]) -> bool {
    parts.len() > container.len() && is_prefix(container, parts)
}

fn shift(parts: &[Part], depth: usize, offset: i64) -> Location {
    let mut shifted = parts.to_vec();
    if let Some(Part::Index(index)) = shifted.get_mut(depth) {
        *index += offset;
    }
    shifted
}

/// `_with_item`: `parts`, which assumes no item at `location`, with the item there.
fn with_item(parts: &[Part], location: &[Part], insertion: bool) -> Location {
    let Some((Part::Index(item_index), container)) = location.split_last() else {
        return parts.to_vec();
    };
    if is_inside(parts, container) {
        let depth = location.len() - 1;
        // Python would raise comparing a key with an index; the paths never mix them.
        if let Part::Index(index) = parts[depth] {
            let before_item = insertion && parts.len() == location.len() && index == *item_index;
            if index >= *item_index && !before_item {
                return shift(parts, depth, 1);
            }
        }
    }
    parts.to_vec()
}

/// `_without_item`: `parts`, which assumes an item at `location`, without it.
fn without_item(parts: &[Part], location: &[Part]) -> Location {
    let Some((Part::Index(item_index), container)) = location.split_last() else {
        return parts.to_vec();
    };
    let depth = location.len() - 1;
    if is_inside(parts, container)
        && matches!(parts[depth], Part::Index(index) if index > *item_index)
    {
        return shift(parts, depth, -1);
    }
    parts.to_vec()
}

/// `_item_after`: where the item at `location` is after inserting (or removing, if not
/// `inserted`) the value at `parts`.
fn item_after(location: &[Part], parts: &[Part], inserted: bool) -> Location {
    let Some((Part::Index(index), container)) = parts.split_last() else {
        return location.to_vec();
    };
    if !is_inside(location, container) {
        return location.to_vec();
    }
    let depth = parts.len() - 1;
    let Part::Index(at) = location[depth] else {
        return location.to_vec();
    };
    if inserted && at >= *index {
        return shift(location, depth, 1);
    }
    if !inserted && at > *index {
        return shift(location, depth, -1);
    }
    location.to_vec()
}

// ---------------------------------------------------------------------------------------------
// Python value semantics

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PyType {
    None,
    Bool,
    Int,
    Float,
    Str,
    List,
    Dict,
}

fn py_type(value: &Value) -> PyType {
    match value {
        Value::Null => PyType::None,
        Value::Bool(_) => PyType::Bool,
        Value::Number(number) if number.is_f64() => PyType::Float,
        Value::Number(_) => PyType::Int,
        Value::String(_) => PyType::Str,
        Value::Array(_) => PyType::List,
        Value::Object(_) => PyType::Dict,
    }
}

/// `json.dumps(a) == json.dumps(b)` for values that are not both maps or both lists: same
/// Python type and the same JSON text (`1` ≠ `1.0` ≠ `true`, `0.0` ≠ `-0.0`).
fn dumps_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(left), Value::Number(right)) => match (left.is_f64(), right.is_f64()) {
            (true, true) => left.as_f64().map(f64::to_bits) == right.as_f64().map(f64::to_bits),
            (false, false) => py_int(left) == py_int(right),
            _ => false,
        },
        // Two maps or two lists are compared member by member, never here; other pairs of
        // different types never have the same text.
        _ => left == right,
    }
}

/// `(a, type(a)) == (b, type(b))`, the key of jsonpatch's index storage.
fn typed_key_equal(left: &Value, right: &Value) -> bool {
    py_type(left) == py_type(right) && py_eq(left, right)
}

fn py_int(number: &Number) -> Option<i128> {
    number
        .as_i64()
        .map(i128::from)
        .or_else(|| number.as_u64().map(i128::from))
}

/// A Python number: `bool` and `int` exactly, `float` as is.
enum PyNumber {
    Int(i128),
    Float(f64),
}

fn py_number(value: &Value) -> Option<PyNumber> {
    match value {
        Value::Bool(flag) => Some(PyNumber::Int(i128::from(*flag))),
        Value::Number(number) if number.is_f64() => number.as_f64().map(PyNumber::Float),
        Value::Number(number) => py_int(number).map(PyNumber::Int),
        _ => None,
    }
}

/// Python `==` of two numbers: exact, across `bool`, `int` and `float`.
fn py_number_eq(left: &PyNumber, right: &PyNumber) -> bool {
    match (left, right) {
        (PyNumber::Int(left), PyNumber::Int(right)) => left == right,
        (PyNumber::Float(left), PyNumber::Float(right)) => left == right,
        (PyNumber::Int(int), PyNumber::Float(float))
        | (PyNumber::Float(float), PyNumber::Int(int)) => {
            float.fract() == 0.0
                && float.abs() < 1.8e38
                // Exact: the float is integral and within i128.
                && (*float as i128) == *int
        }
    }
}

/// Python `==` of two JSON values (`1 == 1.0 == True`, containers deep).
fn py_eq(left: &Value, right: &Value) -> bool {
    if let (Some(left), Some(right)) = (py_number(left), py_number(right)) {
        return py_number_eq(&left, &right);
    }
    match (left, right) {
        (Value::Null, Value::Null) => true,
        (Value::String(left), Value::String(right)) => left == right,
        (Value::Array(left), Value::Array(right)) => {
            left.len() == right.len() && left.iter().zip(right).all(|(l, r)| py_eq(l, r))
        }
        (Value::Object(left), Value::Object(right)) => {
            left.len() == right.len()
                && left
                    .iter()
                    .all(|(key, value)| right.get(key).is_some_and(|other| py_eq(value, other)))
        }
        _ => false,
    }
}

/// Python truthiness of a JSON value.
fn py_truthy(value: &Value) -> bool {
    match py_number(value) {
        Some(PyNumber::Int(number)) => number != 0,
        Some(PyNumber::Float(number)) => number != 0.0,
        None => match value {
            Value::Null => false,
            Value::String(text) => !text.is_empty(),
            Value::Array(items) => !items.is_empty(),
            Value::Object(map) => !map.is_empty(),
            Value::Bool(_) | Value::Number(_) => true,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// the two regular expressions and jsonpointer's resolve_pointer

/// `$` of Python's `re`: the end, or just before a final newline.
fn strip_dollar_newline(text: &str) -> [Option<&str>; 2] {
    [Some(text), text.strip_suffix('\n')]
}

/// `/.*` at the start of a pattern: a slash, then anything without a newline.
fn is_slash_dot_star(text: &str) -> bool {
    text.starts_with('/') && !text.contains('\n')
}

/// `re.match(r"/.*/(requests|limits)/cpu$", pointer)` (upstream `CPU_REGEX`).
fn matches_cpu_pointer(pointer: &str) -> bool {
    strip_dollar_newline(pointer)
        .into_iter()
        .flatten()
        .any(|text| {
            ["/requests/cpu", "/limits/cpu"]
                .iter()
                .any(|suffix| text.strip_suffix(suffix).is_some_and(is_slash_dot_star))
        })
}

/// `re.match(r"/.*/env/[0-9]+/value$", pointer)` (upstream `EMPTY_ENV_VALUE`).
fn matches_env_value_pointer(pointer: &str) -> bool {
    strip_dollar_newline(pointer)
        .into_iter()
        .flatten()
        .any(|text| {
            let Some(rest) = text.strip_suffix("/value") else {
                return false;
            };
            let Some((rest, digits)) = rest.rsplit_once('/') else {
                return false;
            };
            !digits.is_empty()
                && digits.bytes().all(|byte| byte.is_ascii_digit())
                && rest.strip_suffix("/env").is_some_and(is_slash_dot_star)
        })
}

/// jsonpointer 2.4 `resolve_pointer(doc, pointer)`; `None` where it raises
/// `JsonPointerException`.
fn resolve_pointer<'v>(document: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() {
        return Some(document);
    }
    let parts = pointer.strip_prefix('/')?;
    let mut current = document;
    for part in parts.split('/') {
        let part = part.replace("~1", "/").replace("~0", "~");
        current = match current {
            Value::Object(map) => map.get(&part)?,
            Value::Array(items) => items.get(array_index(&part)?)?,
            // Strings are sequences to jsonpointer, but a pointer ending in `/cpu` can never
            // resolve through one; numbers and the rest do not support indexing.
            _ => return None,
        };
    }
    Some(current)
}

/// jsonpointer's `RE_ARRAY_INDEX = re.compile('0|[1-9][0-9]*$')` used with `match`, then
/// `int(part)`.
fn array_index(part: &str) -> Option<usize> {
    let valid = part.starts_with('0')
        || (part.starts_with(|c: char| ('1'..='9').contains(&c))
            && strip_dollar_newline(part)
                .into_iter()
                .flatten()
                .any(|text| text.bytes().all(|byte| byte.is_ascii_digit())));
    if !valid {
        return None;
    }
    // `int()` accepts surrounding whitespace and underscores between digits, not more.
    python_int(part)
}

fn python_int(text: &str) -> Option<usize> {
    let text = text.trim_matches(|c: char| c.is_whitespace());
    if text.is_empty() || text.starts_with('_') || text.ends_with('_') || text.contains("__") {
        return None;
    }
    let digits: String = text.chars().filter(|c| *c != '_').collect();
    if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// cpu_equal

/// Python `OpenshiftResource.cpu_equal`: each side becomes `f"{int(float(v) * 1000)}m"` when
/// that succeeds, then the two are compared with `==`.
pub fn cpu_equal(left: &Value, right: &Value) -> bool {
    match (normalize_cpu(left), normalize_cpu(right)) {
        (Cpu::Millis(left), Cpu::Millis(right)) => left == right,
        (Cpu::Millis(millis), Cpu::Raw(Value::String(text)))
        | (Cpu::Raw(Value::String(text)), Cpu::Millis(millis)) => millis == *text,
        (Cpu::Millis(_), Cpu::Raw(_)) | (Cpu::Raw(_), Cpu::Millis(_)) => false,
        (Cpu::Raw(left), Cpu::Raw(right)) => py_eq(left, right),
    }
}

enum Cpu<'a> {
    Millis(String),
    Raw(&'a Value),
}

fn normalize_cpu(value: &Value) -> Cpu<'_> {
    let cores = match value {
        Value::String(text) => python_float(text),
        other => py_number(other).map(|number| match number {
            #[allow(clippy::cast_precision_loss)] // Python's float(int) rounds the same way.
            PyNumber::Int(int) => int as f64,
            PyNumber::Float(float) => float,
        }),
    };
    match cores.map(|cores| (cores * 1000.0).trunc()) {
        // int(inf) and int(nan) raise: the value stays as it is.
        Some(millis) if millis.is_finite() => {
            Cpu::Millis(format!("{}m", python_int_of_float(millis)))
        }
        _ => Cpu::Raw(value),
    }
}

/// Python `float(text)`: surrounding whitespace, underscores between digits, `inf`/`nan`.
/// (Non-ASCII digits, which Python also accepts, are not.)
fn python_float(text: &str) -> Option<f64> {
    let text = text.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c));
    let cleaned = if text.contains('_') {
        let chars: Vec<char> = text.chars().collect();
        let valid = chars.iter().enumerate().all(|(position, c)| {
            *c != '_'
                || (position > 0
                    && chars[position - 1].is_ascii_digit()
                    && chars.get(position + 1).is_some_and(char::is_ascii_digit))
        });
        if !valid {
            return None;
        }
        text.replace('_', "")
    } else {
        text.to_owned()
    };
    cleaned.parse().ok()
}

/// Python `str(int(x))` for an integral, finite float: exact, however large.
fn python_int_of_float(value: f64) -> String {
    if value.abs() < 9.0e18 {
        #[allow(clippy::cast_possible_truncation)] // integral and in range
        return (value as i64).to_string();
    }
    // value = mantissa * 2^exponent with exponent > 0 here; multiply out in base 10^9.
    let bits = value.to_bits();
    let exponent = i32::try_from((bits >> 52) & 0x7ff).unwrap_or(0) - 1075;
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    let mut limbs: Vec<u64> = vec![mantissa % 1_000_000_000, mantissa / 1_000_000_000];
    for _ in 0..exponent.max(0) {
        let mut carry = 0;
        for limb in &mut limbs {
            let doubled = *limb * 2 + carry;
            *limb = doubled % 1_000_000_000;
            carry = doubled / 1_000_000_000;
        }
        if carry > 0 {
            limbs.push(carry);
        }
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut text = String::new();
    if value < 0.0 {
        text.push('-');
    }
    let mut iter = limbs.iter().rev();
    if let Some(first) = iter.next() {
        text.push_str(&first.to_string());
    }
    for limb in iter {
        text.push_str(&format!("{limb:09}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn big_integral_floats_print_like_python_int() {
        assert_eq!(python_int_of_float(1e21), "1000000000000000000000");
        assert_eq!(
            python_int_of_float(1e303),
            "1000000000000000000161765076786456438212668646231659438295495017101117499225738747865260243034213915253779773568180337416027445820567779199643391541606026068611150746122284976177256650044200527276807327067690462112661427500197051226489898260678763391449376088547292320814127957486330655468919122263277568"
        );
        assert_eq!(
            python_int_of_float(1e21 * 1000.0),
            "999999999999999983222784"
        );
        assert_eq!(python_int_of_float(-5.0), "-5");
        assert_eq!(python_int_of_float(-0.0), "0");
    }

    #[test]
    fn cpu_values_compare_in_millicores() {
        assert!(cpu_equal(&json!("0.5"), &json!("500m")));
        assert!(cpu_equal(&json!(1), &json!("1")));
        assert!(cpu_equal(&json!(" 1_0 "), &json!("10000m")));
        assert!(cpu_equal(&json!(true), &json!("1000m")));
        assert!(!cpu_equal(&json!("nan"), &json!("NaN")));
        assert!(!cpu_equal(&json!("100m"), &json!("200m")));
    }

    #[test]
    fn pointer_patterns_follow_python_re() {
        assert!(matches_cpu_pointer(
            "/spec/containers/0/resources/requests/cpu"
        ));
        assert!(matches_cpu_pointer("/a/limits/cpu\n"));
        assert!(!matches_cpu_pointer("/requests/cpu"));
        assert!(!matches_cpu_pointer("/a\n/limits/cpu"));
        assert!(matches_env_value_pointer("/spec/env/12/value"));
        assert!(!matches_env_value_pointer("/spec/env//value"));
        assert!(!matches_env_value_pointer("/env/0/value"));
        assert!(!matches_env_value_pointer("/spec/env/x/value"));
    }

    #[test]
    fn reordered_scalars_are_moves() {
        let patch = json_patch_diff(&json!({"a": ["x", "y"]}), &json!({"a": ["y", "x"]}));
        assert_eq!(
            patch,
            vec![PatchOperation::Move {
                from: "/a/0".to_owned(),
                path: "/a/1".to_owned()
            }]
        );
    }
}
