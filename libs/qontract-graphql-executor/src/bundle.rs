//! A loaded bundle: datafiles grouped by schema, resource files, the GraphQL schema and the
//! synthetic back-reference index.

use std::collections::HashMap;
use std::path::Path;

use indexmap::IndexMap;
use qontract_graphql_schema::{FieldKind, SchemaConfs};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::ExecutorError;

/// One app-interface bundle, ready to execute queries.
#[derive(Debug)]
pub struct Bundle {
    /// sha256 of the bundle file text: the bundle's identity.
    pub sha: String,
    /// `git_commit` of the bundle.
    pub git_commit: String,
    /// `git_commit_timestamp` of the bundle.
    pub git_commit_timestamp: String,
    pub(crate) datafiles: IndexMap<String, Value>,
    pub(crate) by_schema: HashMap<String, Vec<usize>>,
    pub(crate) resources: IndexMap<String, Value>,
    pub(crate) schema: SchemaConfs,
    /// (schema, subAttr) -> referenced path -> datafile indexes in bundle order
    pub(crate) synthetic: HashMap<(String, String), HashMap<String, Vec<usize>>>,
    /// `__schema`, built on first use
    pub(crate) introspection: std::sync::OnceLock<Value>,
}

/// Lowercase hex sha256 of `bytes` (a bundle's identity).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Bundle {
    /// Reads and loads a bundle file (`DATAFILES_FILE`).
    pub fn from_file(path: &Path) -> Result<Self, ExecutorError> {
        let bytes = std::fs::read(path).map_err(|source| ExecutorError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json_bytes(&bytes, &path.display().to_string())
    }

    /// Loads a bundle from its JSON text; `origin` names it in errors.
    pub fn from_json_bytes(bytes: &[u8], origin: &str) -> Result<Self, ExecutorError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| ExecutorError::Bundle {
            origin: origin.to_owned(),
            message: format!("invalid JSON: {e}"),
        })?;
        Self::from_value(value, sha256_hex(bytes), origin)
    }

    /// Loads an already parsed bundle whose file text has sha256 `sha`.
    pub fn from_value(value: Value, sha: String, origin: &str) -> Result<Self, ExecutorError> {
        let invalid = |message: String| ExecutorError::Bundle {
            origin: origin.to_owned(),
            message,
        };
        let Value::Object(mut top) = value else {
            return Err(invalid("the bundle must be a JSON object".to_owned()));
        };
        let graphql = top.remove("graphql").unwrap_or(Value::Null);
        let schema = SchemaConfs::from_json_value(&graphql, &format!("{origin}#/graphql"))
            .map_err(|e| invalid(e.to_string()))?;
        let string_of = |top: &Map<String, Value>, key: &str| match top.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let git_commit = string_of(&top, "git_commit");
        let git_commit_timestamp = string_of(&top, "git_commit_timestamp");

        let data = match top.remove("data") {
            Some(Value::Object(map)) => map,
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Err(invalid("`data` must be an object".to_owned())),
        };
        let mut datafiles = IndexMap::with_capacity(data.len());
        let mut by_schema: HashMap<String, Vec<usize>> = HashMap::new();
        for (path, mut file) in data {
            let Value::Object(obj) = &mut file else {
                return Err(invalid(format!("datafile {path}: expecting an object")));
            };
            let Some(Value::String(schema)) = obj.get("$schema") else {
                return Err(invalid(format!(
                    "datafile {path}: expecting $schema in data"
                )));
            };
            let schema = schema.clone();
            obj.insert("path".to_owned(), Value::String(path.clone()));
            let index = datafiles.len();
            datafiles.insert(path, file);
            by_schema.entry(schema).or_default().push(index);
        }

        let res = match top.remove("resources") {
            Some(Value::Object(map)) => map,
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Err(invalid("`resources` must be an object".to_owned())),
        };
        let mut resources = IndexMap::with_capacity(res.len());
        for (path, mut file) in res {
            let Value::Object(obj) = &mut file else {
                return Err(invalid(format!("resource {path}: expecting an object")));
            };
            for required in ["content", "sha256sum"] {
                if !obj.contains_key(required) {
                    return Err(invalid(format!(
                        "resource {path}: expecting {required} in data"
                    )));
                }
            }
            obj.insert("path".to_owned(), Value::String(path.clone()));
            resources.insert(path, file);
        }

        let mut bundle = Self {
            sha,
            git_commit,
            git_commit_timestamp,
            datafiles,
            by_schema,
            resources,
            schema,
            synthetic: HashMap::new(),
            introspection: std::sync::OnceLock::new(),
        };
        bundle.build_synthetic_index();
        Ok(bundle)
    }

    fn build_synthetic_index(&mut self) {
        let mut wanted = Vec::new();
        for conf in &self.schema.confs {
            for field in &conf.fields {
                if let FieldKind::Synthetic(s) = field.kind() {
                    wanted.push((s.schema.clone(), s.sub_attr.clone()));
                }
            }
        }
        for key in wanted {
            if self.synthetic.contains_key(&key) {
                continue;
            }
            let mut index: HashMap<String, Vec<usize>> = HashMap::new();
            let parts: Vec<&str> = key.1.split('.').collect();
            for &i in self.by_schema.get(&key.0).map_or(&[][..], Vec::as_slice) {
                let mut context: Vec<&Value> = vec![&self.datafiles[i]];
                for part in &parts {
                    let mut next = Vec::new();
                    for c in context {
                        match c.get(*part) {
                            Some(Value::Array(items)) => {
                                next.extend(items.iter().filter(|v| truthy(v)))
                            }
                            Some(v) if truthy(v) => next.push(v),
                            _ => {}
                        }
                    }
                    context = next;
                }
                for c in context {
                    if let Some(Value::String(target)) = c.get("$ref") {
                        let list = index.entry(target.clone()).or_default();
                        if list.last() != Some(&i) {
                            list.push(i);
                        }
                    }
                }
            }
            self.synthetic.insert(key, index);
        }
    }

    /// The `__schema` introspection model.
    pub(crate) fn introspection(&self) -> &Value {
        self.introspection
            .get_or_init(|| crate::introspection::build(&self.schema))
    }

    /// The GraphQL schema of this bundle.
    pub fn schema(&self) -> &SchemaConfs {
        &self.schema
    }

    /// Number of datafiles.
    pub fn datafile_count(&self) -> usize {
        self.datafiles.len()
    }

    /// Number of datafiles per `$schema`.
    pub fn datafile_counts_by_schema(&self) -> Vec<(&str, usize)> {
        let mut counts: Vec<(&str, usize)> = self
            .by_schema
            .iter()
            .map(|(k, v)| (k.as_str(), v.len()))
            .collect();
        counts.sort_unstable();
        counts
    }

    /// Number of resource files.
    pub fn resource_count(&self) -> usize {
        self.resources.len()
    }

    /// The datafile at `path` (with the injected `path` key).
    pub fn datafile(&self, path: &str) -> Option<&Value> {
        self.datafiles.get(path)
    }

    /// All datafiles (path, object) in bundle order.
    pub fn datafiles(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.datafiles.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// All resource files (path, object) in bundle order.
    pub fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.resources.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The resource file at `path`.
    pub fn resource(&self, path: &str) -> Option<&Value> {
        self.resources.get(path)
    }

    /// `{$ref: "/p.yml#/pointer"}` -> the referenced value (`None` when dangling).
    pub(crate) fn resolve_ref(&self, reference: &str) -> Option<&Value> {
        let split = reference.find(['#', '$']).unwrap_or(reference.len());
        let (path, expr) = reference.split_at(split);
        let file = self.datafiles.get(path)?;
        let pointer = expr.trim_start_matches(['#', '$']);
        if pointer.is_empty() {
            Some(file)
        } else {
            file.pointer(pointer)
        }
    }
}

/// JavaScript truthiness of a JSON value.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}
