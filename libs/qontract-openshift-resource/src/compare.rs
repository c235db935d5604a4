//! Drift detection: does the cluster object still match every field the desired object declares?
//!
//! The Python tool's last check before calling an object unchanged (`three_way_diff_using_hash`
//! step d) builds an RFC 6902 patch from the normalised current object to the normalised desired
//! object and looks for `add`/`replace` operations. This module answers the same question
//! directly, as a "desired ⊆ current" walk, and reports the JSON pointer of the first field that
//! drifted. Fields the desired object does not declare (server defaults, `status`, fields added
//! by controllers) are ignored, as upstream. Deliberate differences, all of which make the
//! result *more* precise:
//!
//! * a list the desired object declares must have the same length on the cluster (upstream
//!   ignores extra items appended on the cluster, e.g. an env var added with `oc set env`);
//! * a desired `null`, empty string, empty list or empty map matches an absent field (the API
//!   server omits empty optional fields; upstream would re-apply such objects forever);
//! * `apiVersion` is compared by API group only (`autoscaling/v2beta2` declared, `autoscaling/v2`
//!   served is the same object), and `apps`/`extensions` count as the same group as in the
//!   legacy comparison;
//! * annotations other than the qontract and last-applied ones are compared (upstream's
//!   normaliser drops all annotations because of a typo);
//! * the default `-dockercfg-` pull secrets and the `secrets` list of a ServiceAccount, which
//!   controllers maintain, are ignored.
//!
//! Kept from upstream: CPU quantities are compared in millicores (`0.5` equals `500m`), an env
//! entry with `value: ""` matches one without a value (a special case of the empty-field rule
//! above), and numbers compare by value (`1 == 1.0`).

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::annotations::{LAST_APPLIED_CONFIGURATION, QONTRACT_ANNOTATIONS};
use crate::canonical::{fold_string_data, is_default_dockercfg_reference};

/// Metadata fields excluded from the comparison (upstream `NORMALIZE_COMPARE_EXCLUDED_ATTRS`).
const EXCLUDED_METADATA_FIELDS: [&str; 8] = [
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
    /// The field is declared but absent on the cluster.
    Missing,
    /// The field has a different value (or type) on the cluster.
    Changed,
    /// The list has a different number of items on the cluster.
    ListLength {
        /// Items declared.
        desired: usize,
        /// Items on the cluster.
        current: usize,
    },
}

/// The first declared field that differs on the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// JSON pointer (RFC 6901) of the field, e.g. `/spec/replicas`.
    pub path: String,
    /// How it differs.
    pub kind: DriftKind,
}

impl fmt::Display for Drift {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            DriftKind::Missing => write!(formatter, "{} is missing on the cluster", self.path),
            DriftKind::Changed => write!(formatter, "{} differs on the cluster", self.path),
            DriftKind::ListLength { desired, current } => write!(
                formatter,
                "{} has {current} items on the cluster, {desired} declared",
                self.path
            ),
        }
    }
}

/// Returns the first field declared by `desired` whose value on the cluster (`current`)
/// differs, or `None` if every declared field matches.
pub fn find_declared_drift(current: &Value, desired: &Value) -> Option<Drift> {
    let kind = desired
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // Secret stringData is compared as the base64 data the server stores.
    let folded;
    let desired = if kind == "Secret" && desired.get("stringData").is_some() {
        let mut copy = desired.clone();
        if let Value::Object(root) = &mut copy {
            fold_string_data(root);
        }
        folded = copy;
        &folded
    } else {
        desired
    };
    let (Value::Object(desired_root), Value::Object(current_root)) = (desired, current) else {
        return (desired != current).then(|| Drift {
            path: String::new(),
            kind: DriftKind::Changed,
        });
    };
    let mut walker = Walker {
        path: Vec::new(),
        kind,
    };
    walker.compare_root(current_root, desired_root)
}

struct Walker<'a> {
    path: Vec<Segment<'a>>,
    kind: &'a str,
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> Walker<'a> {
    fn drift(&self, kind: DriftKind) -> Option<Drift> {
        let mut path = String::new();
        for segment in &self.path {
            path.push('/');
            match segment {
                Segment::Key(key) => path.push_str(&key.replace('~', "~0").replace('/', "~1")),
                Segment::Index(index) => path.push_str(&index.to_string()),
            }
        }
        Some(Drift { path, kind })
    }

    fn compare_root(
        &mut self,
        current: &'a Map<String, Value>,
        desired: &'a Map<String, Value>,
    ) -> Option<Drift> {
        for (key, desired_value) in desired {
            if key == "status" {
                continue;
            }
            self.path.push(Segment::Key(key));
            let drift = match (key.as_str(), desired_value) {
                ("metadata", Value::Object(desired_metadata)) => match current.get("metadata") {
                    Some(Value::Object(current_metadata)) => {
                        self.compare_metadata(current_metadata, desired_metadata)
                    }
                    other => self.compare(other, desired_value),
                },
                ("apiVersion", Value::String(desired_version)) => {
                    let current_version = current.get(key).and_then(Value::as_str);
                    if current_version.is_some_and(|current_version| {
                        api_group(current_version) == api_group(desired_version)
                    }) {
                        None
                    } else {
                        self.compare(current.get(key), desired_value)
                    }
                }
                ("secrets", _) if self.kind == "ServiceAccount" => None,
                ("imagePullSecrets", Value::Array(desired_items))
                    if self.kind == "ServiceAccount" =>
                {
                    let current_items: Vec<&Value> = current
                        .get(key)
                        .and_then(Value::as_array)
                        .map(|items| {
                            items
                                .iter()
                                .filter(|item| !is_default_dockercfg_reference(item))
                                .collect()
                        })
                        .unwrap_or_default();
                    self.compare_list(&current_items, desired_items)
                }
                _ => self.compare(current.get(key), desired_value),
            };
            self.path.pop();
            if drift.is_some() {
                return drift;
            }
        }
        None
    }

    fn compare_metadata(
        &mut self,
        current: &'a Map<String, Value>,
        desired: &'a Map<String, Value>,
    ) -> Option<Drift> {
        for (key, desired_value) in desired {
            if EXCLUDED_METADATA_FIELDS.contains(&key.as_str()) {
                continue;
            }
            self.path.push(Segment::Key(key));
            let drift = if key == "annotations" {
                self.compare_annotations(current.get(key), desired_value)
            } else {
                self.compare(current.get(key), desired_value)
            };
            self.path.pop();
            if drift.is_some() {
                return drift;
            }
        }
        None
    }

    fn compare_annotations(
        &mut self,
        current: Option<&'a Value>,
        desired: &'a Value,
    ) -> Option<Drift> {
        // `annotations: null` (what upstream writes when none are declared) declares nothing.
        if desired.is_null() {
            return None;
        }
        let Value::Object(desired) = desired else {
            return self.compare(current, desired);
        };
        let current = current.and_then(Value::as_object);
        for (key, desired_value) in desired {
            if QONTRACT_ANNOTATIONS.contains(&key.as_str()) || key == LAST_APPLIED_CONFIGURATION {
                continue;
            }
            self.path.push(Segment::Key(key));
            let drift = self.compare(current.and_then(|map| map.get(key)), desired_value);
            self.path.pop();
            if drift.is_some() {
                return drift;
            }
        }
        None
    }

    fn compare(&mut self, current: Option<&'a Value>, desired: &'a Value) -> Option<Drift> {
        let Some(current) = current else {
            return match desired {
                Value::Null => None,
                Value::Array(items) if items.is_empty() => None,
                Value::Object(map) if map.is_empty() => None,
                Value::String(text) if text.is_empty() => None,
                _ => self.drift(DriftKind::Missing),
            };
        };
        match (desired, current) {
            (Value::Object(desired_map), Value::Object(current_map)) => {
                for (key, desired_value) in desired_map {
                    self.path.push(Segment::Key(key));
                    let drift = self.compare(current_map.get(key), desired_value);
                    self.path.pop();
                    if drift.is_some() {
                        return drift;
                    }
                }
                None
            }
            (Value::Array(desired_items), Value::Array(current_items)) => {
                let current_items: Vec<&Value> = current_items.iter().collect();
                self.compare_list(&current_items, desired_items)
            }
            (Value::Null, Value::Null) => None,
            _ if self.is_cpu_quantity() && cpu_equal(desired, current) => None,
            (Value::Number(desired_number), Value::Number(current_number)) => {
                let equal = desired_number == current_number
                    || desired_number.as_f64() == current_number.as_f64();
                (!equal).then(|| self.drift(DriftKind::Changed)).flatten()
            }
            _ => (desired != current)
                .then(|| self.drift(DriftKind::Changed))
                .flatten(),
        }
    }

    fn compare_list(&mut self, current: &[&'a Value], desired: &'a [Value]) -> Option<Drift> {
        if current.len() != desired.len() {
            return self.drift(DriftKind::ListLength {
                desired: desired.len(),
                current: current.len(),
            });
        }
        for (index, (desired_item, current_item)) in desired.iter().zip(current).enumerate() {
            self.path.push(Segment::Index(index));
            let drift = self.compare(Some(current_item), desired_item);
            self.path.pop();
            if drift.is_some() {
                return drift;
            }
        }
        None
    }

    /// `…/(requests|limits)/cpu`
    fn is_cpu_quantity(&self) -> bool {
        matches!(
            self.path.as_slice(),
            [.., Segment::Key("requests" | "limits"), Segment::Key("cpu")]
        )
    }
}

/// The API group of an apiVersion (`""` for the core group); `extensions` counts as `apps`.
fn api_group(api_version: &str) -> &str {
    match api_version.split_once('/') {
        Some(("extensions", _)) => "apps",
        Some((group, _)) => group,
        None => "",
    }
}

/// Python `OpenshiftResource.cpu_equal`: both sides normalised to `"<int(float(v) * 1000)>m"`
/// when they parse as a float, then compared.
pub fn cpu_equal(left: &Value, right: &Value) -> bool {
    normalize_cpu(left) == normalize_cpu(right)
}

fn normalize_cpu(value: &Value) -> Value {
    let parsed = match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    match parsed.map(|cores| (cores * 1000.0).trunc()) {
        // `as` saturates, like Python's unbounded int never needs to.
        Some(millis) if millis.is_finite() => Value::String(format!("{}m", millis as i64)),
        _ => value.clone(),
    }
}
