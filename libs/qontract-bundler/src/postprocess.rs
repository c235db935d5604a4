//! Bundle post-processing (qontract-validator `postprocess.py` + `traverse.py`): resource
//! `backrefs`, `__identifier` on context-unique array items, the `$file_sha256sum` schema patch.
//!
//! The data is walked alongside its JSON schema and its GraphQL type exactly like the Python
//! traversal; patches are collected first and applied afterwards (Python mutates shared dicts,
//! here schema and data locations are recorded and patched by path).

use std::collections::{BTreeSet, HashMap};

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use crate::files::sha256_hex;
use crate::pyjson;

const RESOURCE_REF: &str = "/common-1.json#/definitions/resourceref";
const IDENTIFIER: &str = "__identifier";

/// Python truthiness of a JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn field_truthy(obj: &Map<String, Value>, key: &str) -> bool {
    obj.get(key).is_some_and(truthy)
}

struct GType<'a> {
    name: &'a str,
    fields: HashMap<&'a str, &'a Map<String, Value>>,
    is_interface: bool,
    interface_resolve: Option<&'a Map<String, Value>>,
}

impl<'a> GType<'a> {
    fn field(&self, name: &str) -> Option<&'a Map<String, Value>> {
        self.fields.get(name).copied()
    }

    fn field_map_field(&self) -> Option<&'a str> {
        let ir = self.interface_resolve?;
        if self.is_interface && ir.get("strategy").and_then(Value::as_str) == Some("fieldMap") {
            ir.get("field").and_then(Value::as_str)
        } else {
            None
        }
    }

    fn field_map_value<'d>(&self, data: &'d Value) -> Option<&'d Value> {
        let field = self.field_map_field()?;
        data.as_object()?.get(field)
    }

    fn resolve_type_name(&self, data: &Value) -> Option<&'a str> {
        let field_map = self.interface_resolve?.get("fieldMap")?.as_object()?;
        if field_map.is_empty() {
            return None;
        }
        let value = self.field_map_value(data).filter(|v| truthy(v))?.as_str()?;
        field_map.get(value)?.as_str()
    }

    fn context_unique_field_names(&self) -> BTreeSet<String> {
        self.fields
            .iter()
            .filter(|(_, f)| is_context_unique(f))
            .map(|(n, _)| (*n).to_owned())
            .collect()
    }
}

fn is_context_unique(field: &Map<String, Value>) -> bool {
    field_truthy(field, "isContextUnique") || field_truthy(field, "isUnique")
}

/// `GraphqlLookup` over the raw confs (no validation, like the Python bundler).
struct Lookup<'a> {
    types: HashMap<&'a str, GType<'a>>,
    by_schema: HashMap<&'a str, &'a str>,
}

impl<'a> Lookup<'a> {
    fn new(graphql: &'a Value) -> Self {
        let confs: &[Value] = match graphql {
            Value::Array(a) => a,
            Value::Object(o) => o
                .get("confs")
                .and_then(Value::as_array)
                .map_or(&[], Vec::as_slice),
            _ => &[],
        };
        let mut types = HashMap::new();
        for conf in confs.iter().filter_map(Value::as_object) {
            let Some(name) = conf
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            else {
                continue;
            };
            let mut fields = HashMap::new();
            for f in conf
                .get("fields")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(fo) = f.as_object()
                    && let Some(fname) = fo
                        .get("name")
                        .and_then(Value::as_str)
                        .filter(|n| !n.is_empty())
                {
                    fields.insert(fname, fo);
                }
            }
            types.insert(
                name,
                GType {
                    name,
                    fields,
                    is_interface: field_truthy(conf, "isInterface"),
                    interface_resolve: conf.get("interfaceResolve").and_then(Value::as_object),
                },
            );
        }
        let mut by_schema = HashMap::new();
        for conf in confs.iter().filter_map(Value::as_object) {
            if let (Some(name), Some(df)) = (
                conf.get("name").and_then(Value::as_str),
                conf.get("datafile")
                    .and_then(Value::as_str)
                    .filter(|d| !d.is_empty()),
            ) && types.contains_key(name)
            {
                by_schema.insert(df, name);
            }
        }
        if let Some(query) = types.get("Query") {
            let mut extra = Vec::new();
            for f in query.fields.values() {
                if let (Some(ds), Some(t)) = (
                    f.get("datafileSchema")
                        .and_then(Value::as_str)
                        .filter(|d| !d.is_empty()),
                    f.get("type").and_then(Value::as_str),
                ) {
                    extra.push((ds, t));
                }
            }
            by_schema.extend(extra);
        }
        Self { types, by_schema }
    }

    fn by_name(&self, name: &str) -> Option<&GType<'a>> {
        self.types.get(name)
    }

    fn by_schema(&self, schema: &str) -> Option<&GType<'a>> {
        self.types.get(self.by_schema.get(schema)?)
    }
}

/// Where a (sub-)schema lives: schema file key + JSON pointer, and its value.
#[derive(Clone)]
struct SchemaLoc<'a> {
    file: &'a str,
    pointer: String,
    value: &'a Value,
}

impl<'a> SchemaLoc<'a> {
    fn child(&self, segment: &str, value: &'a Value) -> Self {
        let mut pointer = self.pointer.clone();
        pointer.push('/');
        pointer.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        Self {
            file: self.file,
            pointer,
            value,
        }
    }
}

#[derive(Clone)]
struct SchemaInfo<'a> {
    schema_path: Option<&'a str>,
    schema: Option<SchemaLoc<'a>>,
    one_of_root: Option<SchemaLoc<'a>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seg<'a> {
    Field(&'a str),
    Index(usize),
}

fn jsonpath(segs: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for (i, s) in segs.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        match s {
            Seg::Field(f) => out.push_str(f),
            Seg::Index(n) => {
                out.push('[');
                out.push_str(&n.to_string());
                out.push(']');
            }
        }
    }
    out
}

struct Node<'a, 'p> {
    data: &'a Value,
    file_schema_path: Option<&'a str>,
    graphql_field_name: Option<&'a str>,
    graphql_type_name: Option<&'a str>,
    segs: Vec<Seg<'a>>,
    path: &'a str,
    schema: Option<SchemaLoc<'a>>,
    one_of_root: Option<SchemaLoc<'a>>,
    schema_path: Option<&'a str>,
    parent: Option<&'p Node<'a, 'p>>,
}

/// A context-unique array item to patch with `__identifier`.
struct ContextUnique<'a> {
    schema: Option<SchemaLoc<'a>>,
    one_of_root: Option<SchemaLoc<'a>>,
    data_file: String,
    data_segs: Vec<Seg<'a>>,
    props: BTreeSet<String>,
}

struct Walker<'a> {
    schemas: &'a Map<String, Value>,
    data: &'a Map<String, Value>,
    lookup: Lookup<'a>,
    backrefs: IndexMap<String, Vec<Value>>,
    unique: IndexMap<(String, String), ContextUnique<'a>>,
}

impl<'a> Walker<'a> {
    fn graphql_field(&self, node: &Node<'a, '_>) -> Option<&'a Map<String, Value>> {
        let name = node.graphql_field_name?;
        self.lookup.by_name(node.graphql_type_name?)?.field(name)
    }

    fn visit(&mut self, node: &Node<'a, '_>) {
        match node.data {
            Value::Object(map) => {
                for (key, value) in map {
                    if key == "$schema" {
                        continue;
                    }
                    let (gt, gf) = self.next_dict_graphql(node, key);
                    let schema = next_dict_schema(node, key);
                    let mut segs = node.segs.clone();
                    segs.push(Seg::Field(key));
                    let child = self.next_node(node, schema, value, segs, gt, gf);
                    self.visit(&child);
                }
            }
            Value::Array(items) => {
                for (i, value) in items.iter().enumerate() {
                    let schema = node
                        .schema
                        .as_ref()
                        .filter(|s| truthy(s.value))
                        .and_then(|s| s.value.get("items").map(|v| s.child("items", v)));
                    let mut segs = node.segs.clone();
                    segs.push(Seg::Index(i));
                    let gf = self.graphql_field(node);
                    let child =
                        self.next_node(node, schema, value, segs, node.graphql_type_name, gf);
                    self.visit(&child);
                }
            }
            _ => self.leaf(node),
        }
    }

    fn next_dict_graphql(
        &self,
        node: &Node<'a, '_>,
        field_name: &str,
    ) -> (Option<&'a str>, Option<&'a Map<String, Value>>) {
        let Some(gt) = node.graphql_type_name.and_then(|n| self.lookup.by_name(n)) else {
            return (None, None);
        };
        let gf = self.graphql_field(node);
        if field_name == "$ref" {
            return (Some(gt.name), gf);
        }
        match gf {
            None => (Some(gt.name), gt.field(field_name)),
            Some(gf) => match gf
                .get("type")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .and_then(|t| self.lookup.by_name(t))
            {
                Some(next) => (Some(next.name), next.field(field_name)),
                None => (None, None),
            },
        }
    }

    fn next_node<'p>(
        &self,
        node: &'p Node<'a, 'p>,
        schema: Option<SchemaLoc<'a>>,
        data: &'a Value,
        segs: Vec<Seg<'a>>,
        graphql_type_name: Option<&'a str>,
        graphql_field: Option<&'a Map<String, Value>>,
    ) -> Node<'a, 'p> {
        let field_type = graphql_field
            .and_then(|f| f.get("type"))
            .and_then(Value::as_str)
            .and_then(|t| self.lookup.by_name(t));
        let info = self.resolve_schema(node.schema_path, schema, data, field_type);
        let resolved_interface = field_type
            .filter(|t| t.is_interface)
            .and_then(|t| t.resolve_type_name(data))
            .and_then(|n| self.lookup.by_name(n));
        let (gfn, gtn) = match resolved_interface {
            Some(t) => (None, Some(t.name)),
            None => (
                graphql_field
                    .and_then(|f| f.get("name"))
                    .and_then(Value::as_str),
                graphql_type_name,
            ),
        };
        Node {
            data,
            file_schema_path: node.file_schema_path,
            graphql_field_name: gfn,
            graphql_type_name: gtn,
            segs,
            path: node.path,
            schema: info.schema,
            one_of_root: info.one_of_root,
            schema_path: info.schema_path,
            parent: Some(node),
        }
    }

    fn resolve_ref_schema(&self, info: SchemaInfo<'a>) -> SchemaInfo<'a> {
        if let Some(s) = &info.schema
            && let Value::Object(obj) = s.value
            && !obj.is_empty()
            && !obj.contains_key("$schemaRef")
            && let Some(reference) = obj
                .get("$ref")
                .and_then(Value::as_str)
                .filter(|r| !r.is_empty())
            && let Some((file, target)) = self.schemas.get_key_value(reference)
            && truthy(target)
        {
            return SchemaInfo {
                schema_path: Some(file.as_str()),
                schema: Some(SchemaLoc {
                    file: file.as_str(),
                    pointer: String::new(),
                    value: target,
                }),
                one_of_root: None,
            };
        }
        info
    }

    fn resolve_schema(
        &self,
        schema_path: Option<&'a str>,
        schema: Option<SchemaLoc<'a>>,
        data: &Value,
        graphql_type: Option<&GType<'a>>,
    ) -> SchemaInfo<'a> {
        let info = self.resolve_ref_schema(SchemaInfo {
            schema_path,
            schema,
            one_of_root: None,
        });
        let Some(s) = info.schema.clone() else {
            return info;
        };
        if info.schema_path.is_none_or(|p| p.is_empty()) {
            return info;
        }
        let Value::Object(obj) = s.value else {
            return info;
        };
        if obj.is_empty() || obj.contains_key("$schemaRef") {
            return info;
        }
        let Some(Value::Array(options)) = obj.get("oneOf") else {
            return info;
        };
        if options.is_empty() {
            return info;
        }
        let has_schema_ref =
            |v: &Value| v.as_object().is_some_and(|o| o.contains_key("$schemaRef"));
        let referenced = options.iter().filter(|o| has_schema_ref(o)).count();
        let inline = options.len() - referenced;
        if inline == 1 && referenced == 1 {
            let want_ref = data.as_object().is_some_and(|o| o.contains_key("$ref"));
            let (index, chosen) = options
                .iter()
                .enumerate()
                .find(|(_, o)| has_schema_ref(o) == want_ref)
                .unwrap_or((0, &options[0]));
            return self.resolve_ref_schema(SchemaInfo {
                schema_path: info.schema_path,
                schema: Some(
                    s.child("oneOf", &obj["oneOf"])
                        .child(&index.to_string(), chosen),
                ),
                one_of_root: info.one_of_root,
            });
        }
        if let Some(gt) = graphql_type
            && let Some(field) = gt.field_map_field()
            && let Some(value) = gt.field_map_value(data).filter(|v| truthy(v))
        {
            for (index, option) in options.iter().enumerate() {
                let candidate = self.resolve_ref_schema(SchemaInfo {
                    schema_path: info.schema_path,
                    schema: Some(
                        s.child("oneOf", &obj["oneOf"])
                            .child(&index.to_string(), option),
                    ),
                    one_of_root: None,
                });
                let matches = candidate.schema.as_ref().is_some_and(|c| {
                    truthy(c.value)
                        && c.value
                            .get("properties")
                            .and_then(|p| p.get(field))
                            .and_then(|f| f.get("enum"))
                            .and_then(Value::as_array)
                            .is_some_and(|e| e.contains(value))
                });
                if matches {
                    return SchemaInfo {
                        schema_path: candidate.schema_path,
                        schema: candidate.schema,
                        one_of_root: Some(s),
                    };
                }
            }
            return SchemaInfo {
                schema_path: info.schema_path,
                schema: None,
                one_of_root: None,
            };
        }
        info
    }

    fn leaf(&mut self, node: &Node<'a, '_>) {
        // resource backrefs
        if let Some(s) = &node.schema
            && s.value.get("$ref").and_then(Value::as_str) == Some(RESOURCE_REF)
            && truthy(node.data)
            && let Some(file_schema) = node.file_schema_path.filter(|f| !f.is_empty())
        {
            let key = match node.data {
                Value::String(s) => s.clone(),
                other => pyjson::to_string(other),
            };
            self.backrefs.entry(key).or_default().push(json!({
                "path": node.path,
                "datafileSchema": file_schema,
                "jsonpath": jsonpath(&node.segs),
            }));
        }
        // context-unique items
        let unique = match node.segs.as_slice() {
            [.., Seg::Index(_), Seg::Field(f)] => {
                if *f == "$ref" {
                    self.crossref_unique(node)
                } else {
                    self.array_item_unique(node, f)
                }
            }
            [.., Seg::Index(_), Seg::Field(f), Seg::Field("$ref")] => {
                node.parent.and_then(|p| self.array_item_unique(p, f))
            }
            _ => None,
        };
        if let Some((key, entry)) = unique {
            match self.unique.get_mut(&key) {
                Some(existing) => existing.props.extend(entry.props),
                None => {
                    self.unique.insert(key, entry);
                }
            }
        }
    }

    fn crossref_unique(
        &self,
        node: &Node<'a, '_>,
    ) -> Option<((String, String), ContextUnique<'a>)> {
        let path = node.data.as_str().filter(|p| !p.is_empty())?;
        let data = self.data.get(path).filter(|d| truthy(d))?;
        let schema_path = data
            .get("$schema")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())?;
        let gt = self.lookup.by_schema(schema_path)?;
        let (schema_file, schema) = self
            .schemas
            .get_key_value(schema_path)
            .filter(|(_, s)| truthy(s))?;
        let props = gt.context_unique_field_names();
        if props.is_empty() {
            return None;
        }
        Some((
            (path.to_owned(), String::new()),
            ContextUnique {
                schema: Some(SchemaLoc {
                    file: schema_file.as_str(),
                    pointer: String::new(),
                    value: schema,
                }),
                one_of_root: None,
                data_file: path.to_owned(),
                data_segs: Vec::new(),
                props,
            },
        ))
    }

    fn array_item_unique(
        &self,
        node: &Node<'a, '_>,
        field: &str,
    ) -> Option<((String, String), ContextUnique<'a>)> {
        let parent = node.parent?;
        if !parent.data.is_object() {
            return None;
        }
        let gf = self.graphql_field(node).filter(|f| !f.is_empty())?;
        if !is_context_unique(gf) {
            return None;
        }
        let item_segs = node.segs[..node.segs.len() - 1].to_vec();
        Some((
            (node.path.to_owned(), jsonpath(&item_segs)),
            ContextUnique {
                schema: parent.schema.clone(),
                one_of_root: parent.one_of_root.clone(),
                data_file: node.path.to_owned(),
                data_segs: item_segs,
                props: BTreeSet::from([field.to_owned()]),
            },
        ))
    }
}

fn next_dict_schema<'a>(node: &Node<'a, '_>, key: &str) -> Option<SchemaLoc<'a>> {
    let s = node.schema.as_ref().filter(|s| truthy(s.value))?;
    let obj = s.value.as_object()?;
    if obj.contains_key("$schemaRef") {
        return Some(s.clone());
    }
    let props = obj.get("properties")?;
    let v = props.get(key)?;
    Some(s.child("properties", props).child(key, v))
}

fn pointer_mut<'v>(root: &'v mut Value, pointer: &str) -> Option<&'v mut Value> {
    if pointer.is_empty() {
        Some(root)
    } else {
        root.pointer_mut(pointer)
    }
}

fn data_mut<'v>(root: &'v mut Value, segs: &[Seg<'_>]) -> Option<&'v mut Value> {
    let mut cur = root;
    for s in segs {
        cur = match s {
            Seg::Field(f) => cur.get_mut(*f)?,
            Seg::Index(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

fn identifier_schema() -> Value {
    json!({"type": "string"})
}

/// A resource reference (a field whose schema is `resourceref`) to a file not in `resources`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MissingResource {
    /// Datafile bundle path.
    pub(crate) datafile: String,
    /// `openshiftResources.[0].path`
    pub(crate) jsonpath: String,
    /// The referenced resource path.
    pub(crate) resource: String,
}

/// Applies the upstream post-processing to `bundle` (`data`, `schemas`, `graphql`, `resources`)
/// and returns the resource references that point at no resource file.
pub(crate) fn postprocess(
    bundle: &mut Map<String, Value>,
    checksum_field: &str,
) -> Vec<MissingResource> {
    // 1. the checksum field is allowed by every datafile schema
    if let Some(Value::Object(schemas)) = bundle.get_mut("schemas") {
        for schema in schemas.values_mut() {
            if schema.get("$schema").and_then(Value::as_str) == Some("/metaschema-1.json")
                && let Some(Value::Object(props)) = schema.get_mut("properties")
            {
                props.insert(
                    checksum_field.to_owned(),
                    json!({"type": "string", "description": "sha256sum of the datafile"}),
                );
            }
        }
    }

    // 2. walk the data (read-only), collecting patches
    struct Patch {
        schema: Option<(String, String)>,
        one_of_root: Option<(String, String)>,
        data_file: String,
        data_segs: Vec<String>,
        data_index: Vec<Option<usize>>,
        identifier: String,
    }
    let empty = Map::new();
    let (backrefs, patches) = {
        let as_map = |k: &str| bundle.get(k).and_then(Value::as_object).unwrap_or(&empty);
        let schemas = as_map("schemas");
        let data = as_map("data");
        let graphql = bundle.get("graphql").unwrap_or(&Value::Null);
        let mut walker = Walker {
            schemas,
            data,
            lookup: Lookup::new(graphql),
            backrefs: IndexMap::new(),
            unique: IndexMap::new(),
        };
        for (path, datafile) in data {
            let file_schema = datafile.get("$schema").and_then(Value::as_str);
            let schema = file_schema.filter(|s| !s.is_empty()).and_then(|s| {
                schemas.get_key_value(s).map(|(file, value)| SchemaLoc {
                    file: file.as_str(),
                    pointer: String::new(),
                    value,
                })
            });
            let graphql_type = file_schema
                .filter(|s| !s.is_empty())
                .and_then(|s| walker.lookup.by_schema(s))
                .map(|t| t.name);
            let root = Node {
                data: datafile,
                file_schema_path: file_schema,
                graphql_field_name: None,
                graphql_type_name: graphql_type,
                segs: Vec::new(),
                path,
                schema,
                one_of_root: None,
                schema_path: file_schema,
                parent: None,
            };
            walker.visit(&root);
        }
        let mut patches = Vec::new();
        for unique in walker.unique.values() {
            let Some(item) = data
                .get(&unique.data_file)
                .and_then(|root| {
                    let mut cur = root;
                    for s in &unique.data_segs {
                        cur = match s {
                            Seg::Field(f) => cur.get(*f)?,
                            Seg::Index(i) => cur.get(*i)?,
                        };
                    }
                    Some(cur)
                })
                .and_then(Value::as_object)
            else {
                continue;
            };
            let subset: Map<String, Value> = item
                .iter()
                .filter(|(k, _)| unique.props.contains(k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if subset.is_empty() {
                continue;
            }
            let identifier = sha256_hex(pyjson::to_string(&Value::Object(subset)).as_bytes());
            patches.push(Patch {
                schema: unique
                    .schema
                    .as_ref()
                    .map(|s| (s.file.to_owned(), s.pointer.clone())),
                one_of_root: unique
                    .one_of_root
                    .as_ref()
                    .map(|s| (s.file.to_owned(), s.pointer.clone())),
                data_file: unique.data_file.clone(),
                data_segs: unique
                    .data_segs
                    .iter()
                    .map(|s| match s {
                        Seg::Field(f) => (*f).to_owned(),
                        Seg::Index(_) => String::new(),
                    })
                    .collect(),
                data_index: unique
                    .data_segs
                    .iter()
                    .map(|s| match s {
                        Seg::Field(_) => None,
                        Seg::Index(i) => Some(*i),
                    })
                    .collect(),
                identifier,
            });
        }
        (walker.backrefs, patches)
    };

    // 3. backrefs on every resource
    let mut missing = Vec::new();
    let resources_map = bundle.get("resources").and_then(Value::as_object);
    for (resource, refs) in &backrefs {
        if !resources_map.is_some_and(|r| r.contains_key(resource)) {
            for r in refs {
                missing.push(MissingResource {
                    datafile: r["path"].as_str().unwrap_or_default().to_owned(),
                    jsonpath: r["jsonpath"].as_str().unwrap_or_default().to_owned(),
                    resource: resource.clone(),
                });
            }
        }
    }
    if let Some(Value::Object(resources)) = bundle.get_mut("resources") {
        for (path, resource) in resources.iter_mut() {
            if let Value::Object(r) = resource {
                let list = backrefs.get(path).cloned().unwrap_or_default();
                r.insert("backrefs".to_owned(), Value::Array(list));
            }
        }
    }

    // 4. __identifier patches
    for patch in patches {
        if let Some((file, pointer)) = &patch.schema
            && let Some(Value::Object(schemas)) = bundle.get_mut("schemas")
            && let Some(root) = schemas.get_mut(file)
            && let Some(Value::Object(target)) = pointer_mut(root, pointer)
            && let Some(Value::Object(props)) = target.get_mut("properties")
        {
            props.insert(IDENTIFIER.to_owned(), identifier_schema());
        }
        if let Some((file, pointer)) = &patch.one_of_root
            && let Some(Value::Object(schemas)) = bundle.get_mut("schemas")
            && let Some(root) = schemas.get_mut(file)
            && let Some(Value::Object(target)) = pointer_mut(root, pointer)
        {
            match target.get_mut("properties") {
                Some(Value::Object(props)) => {
                    props.insert(IDENTIFIER.to_owned(), identifier_schema());
                }
                _ => {
                    target.insert(
                        "properties".to_owned(),
                        json!({ IDENTIFIER: identifier_schema() }),
                    );
                }
            }
        }
        let segs: Vec<Seg<'_>> = patch
            .data_segs
            .iter()
            .zip(&patch.data_index)
            .map(|(f, i)| match i {
                Some(i) => Seg::Index(*i),
                None => Seg::Field(f.as_str()),
            })
            .collect();
        if let Some(Value::Object(data)) = bundle.get_mut("data")
            && let Some(root) = data.get_mut(&patch.data_file)
            && let Some(Value::Object(item)) = data_mut(root, &segs)
        {
            item.insert(IDENTIFIER.to_owned(), Value::String(patch.identifier));
        }
    }
    missing
}
