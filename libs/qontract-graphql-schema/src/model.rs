//! Serde model of the conf format and the lookups built over it.

use std::collections::HashMap;
use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

use crate::SchemaError;

/// Name of the interface every type backing a datafile schema implements.
pub const DATAFILE_OBJECT_INTERFACE: &str = "DatafileObject_v1";
/// Name of the type that `isResource` + `resolveResource` string fields resolve to.
pub const RESOURCE_TYPE: &str = "Resource_v1";
/// Name of the root query type.
pub const QUERY_TYPE: &str = "Query";

/// How an interface conf picks the concrete type of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterfaceResolve {
    /// `strategy: fieldMap`: the value of `field` in the object selects the type via `field_map`.
    FieldMap {
        /// Name of the discriminating field in the data (e.g. `provider`).
        field: String,
        /// Field value -> concrete type name, in conf order.
        field_map: IndexMap<String, String>,
    },
    /// `strategy: schema`: the object's `$schema` selects the conf whose `datafile` matches.
    Schema,
}

/// A `synthetic` back-reference field declaration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Synthetic {
    /// Datafile schema of the objects that point back (e.g. `/access/user-1.yml`).
    pub schema: String,
    /// Dotted attribute path in those objects holding the `$ref` (e.g. `roles`).
    pub sub_attr: String,
}

/// One field of a conf.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldConf {
    /// Field name as written (`schema` and `path` included).
    pub name: String,
    /// `string`, `int`, `float`, `boolean`, `json` or the name of another conf.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Rendered as NonNull (`!`).
    #[serde(default)]
    pub is_required: bool,
    /// Rendered as a list of non-null elements (`[T!]`).
    #[serde(default)]
    pub is_list: bool,
    /// The type names an interface conf.
    #[serde(default)]
    pub is_interface: bool,
    /// On `Query` fields: lists every datafile with this `$schema`.
    #[serde(default)]
    pub datafile_schema: Option<String>,
    /// Back-reference declaration.
    #[serde(default)]
    pub synthetic: Option<Synthetic>,
    /// The value is a path to a resource file.
    #[serde(default)]
    pub is_resource: bool,
    /// With `is_resource` on a string field: the field resolves to `Resource_v1`.
    #[serde(default)]
    pub resolve_resource: bool,
    /// Becomes an argument of `Query` listings of the owning type (string fields only).
    #[serde(default)]
    pub is_searchable: bool,
    /// Validator-only uniqueness flag.
    #[serde(default)]
    pub is_unique: bool,
    /// Validator-only uniqueness flag within the enclosing list (bundler `__identifier`).
    #[serde(default)]
    pub is_context_unique: bool,
}

/// A scalar type of the conf format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// `string` -> `String`
    String,
    /// `int` -> `Int`
    Int,
    /// `float` -> `Float`
    Float,
    /// `boolean` -> `Boolean`
    Boolean,
    /// `json` -> `JSON` (serialised as a JSON-encoded string)
    Json,
}

impl Scalar {
    /// The conf-format scalar named `type_name`, if it is one.
    pub fn from_conf_name(type_name: &str) -> Option<Self> {
        match type_name {
            "string" => Some(Self::String),
            "int" => Some(Self::Int),
            "float" => Some(Self::Float),
            "boolean" => Some(Self::Boolean),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    /// The GraphQL name of the scalar.
    pub fn graphql_name(self) -> &'static str {
        match self {
            Self::String => "String",
            Self::Int => "Int",
            Self::Float => "Float",
            Self::Boolean => "Boolean",
            Self::Json => "JSON",
        }
    }
}

/// The GraphQL shape of a field as the server exposes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldType<'a> {
    /// Named type (`String`, `JSON`, `Cluster_v1`, ...).
    pub name: &'a str,
    /// The named type is a scalar.
    pub scalar: Option<Scalar>,
    /// Wrapped in a list (`[name!]`).
    pub list: bool,
    /// The outer type is NonNull.
    pub required: bool,
}

impl std::fmt::Display for FieldType<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.list {
            write!(f, "[{}!]", self.name)?;
        } else {
            f.write_str(self.name)?;
        }
        if self.required {
            f.write_str("!")?;
        }
        Ok(())
    }
}

/// An argument of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldArgument<'a> {
    /// Argument name (`path`, `filter`, a searchable field name, `schema`).
    pub name: &'a str,
    /// Argument type (always nullable).
    pub scalar: Scalar,
}

/// What a field resolves to, beyond the default `root[name]` resolver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind<'a> {
    /// `root[name]` with `$ref` resolution (`schema` reads `$schema`).
    Plain,
    /// Every datafile whose `$schema` is the given one (filterable listing).
    DatafileListing(&'a str),
    /// Back-references (`synthetic`).
    Synthetic(&'a Synthetic),
    /// A resource path resolved to the `Resource_v1` object.
    ResourceRef,
    /// The resource-file listing (`resources_v1(path:, schema:)`).
    ResourceListing,
}

impl FieldConf {
    /// The scalar of this field, if its type is a scalar.
    pub fn scalar(&self) -> Option<Scalar> {
        Scalar::from_conf_name(&self.type_name)
    }

    /// `isResource` + `resolveResource` on a string field: exposed as `Resource_v1`.
    pub fn is_resource_ref(&self) -> bool {
        self.is_resource && self.resolve_resource && self.type_name == "string"
    }

    /// `isResource` on a `Resource_v1` field: the resource listing.
    pub fn is_resource_listing(&self) -> bool {
        self.is_resource && self.type_name == RESOURCE_TYPE
    }

    /// How the server resolves this field (same precedence as qontract-server).
    pub fn kind(&self) -> FieldKind<'_> {
        if let Some(schema) = &self.datafile_schema {
            FieldKind::DatafileListing(schema)
        } else if let Some(synthetic) = &self.synthetic {
            FieldKind::Synthetic(synthetic)
        } else if self.is_resource_ref() {
            FieldKind::ResourceRef
        } else if self.is_resource_listing() {
            FieldKind::ResourceListing
        } else {
            FieldKind::Plain
        }
    }

    /// The GraphQL type exposed for this field (with the `Resource_v1` substitution).
    pub fn graphql_type(&self) -> FieldType<'_> {
        if self.kind() == FieldKind::ResourceRef {
            return FieldType {
                name: RESOURCE_TYPE,
                scalar: None,
                list: false,
                required: false,
            };
        }
        let scalar = self.scalar();
        FieldType {
            name: match scalar {
                Some(s) => s.graphql_name(),
                None => self.type_name.as_str(),
            },
            scalar,
            list: self.is_list,
            required: self.is_required,
        }
    }
}

/// One GraphQL type declaration (object type or interface).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conf {
    /// Type name (e.g. `Cluster_v1`).
    pub name: String,
    /// JSON schema of the top-level datafiles of this type.
    pub datafile: Option<String>,
    /// The conf declares an interface.
    pub is_interface: bool,
    /// How the interface resolves concrete types (interfaces only).
    pub interface_resolve: Option<InterfaceResolve>,
    /// The interface this type implements.
    pub interface: Option<String>,
    /// Fields in conf order.
    pub fields: Vec<FieldConf>,
}

impl Conf {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&FieldConf> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Names of the `isSearchable` string fields (the extra `Query` listing arguments).
    pub fn searchable_fields(&self) -> impl Iterator<Item = &FieldConf> {
        self.fields
            .iter()
            .filter(|f| f.is_searchable && f.type_name == "string")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawInterfaceResolve {
    strategy: String,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    field_map: Option<IndexMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawConf {
    name: String,
    #[serde(default)]
    datafile: Option<String>,
    #[serde(default)]
    is_interface: bool,
    #[serde(default)]
    interface_resolve: Option<RawInterfaceResolve>,
    #[serde(default)]
    interface: Option<String>,
    #[serde(default)]
    fields: Vec<FieldConf>,
}

/// The whole GraphQL schema declaration (`graphql-schemas/schema.yml`, or the bundle's `graphql` key).
#[derive(Debug, Clone)]
pub struct SchemaConfs {
    /// The document's `$schema` (absent when the source was a bare list of confs).
    pub schema: Option<String>,
    /// Confs in declaration order.
    pub confs: Vec<Conf>,
    by_name: HashMap<String, usize>,
    by_datafile: HashMap<String, usize>,
}

impl SchemaConfs {
    /// Reads and parses a YAML (or JSON) conf file.
    pub fn from_yaml_file(path: &Path) -> Result<Self, SchemaError> {
        let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_yaml_str(&text, &path.display().to_string())
    }

    /// Parses YAML text; `origin` names the source in errors (file path).
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<Self, SchemaError> {
        let value: Value = serde_saphyr::from_str(text).map_err(|e| SchemaError::Yaml {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        Self::from_json_value(&value, origin)
    }

    /// Builds from the parsed document: `{"$schema", "confs": [...]}` or a bare list of confs.
    pub fn from_json_value(value: &Value, origin: &str) -> Result<Self, SchemaError> {
        let invalid = |message: String| SchemaError::Invalid {
            origin: origin.to_owned(),
            message,
        };
        let (schema, list) = match value {
            Value::Array(list) => (None, list),
            Value::Object(map) => {
                let schema = match map.get("$schema") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(other) => {
                        return Err(invalid(format!("`$schema` must be a string, got {other}")));
                    }
                };
                match map.get("confs") {
                    Some(Value::Array(list)) => (schema, list),
                    Some(_) => return Err(invalid("`confs` must be a list".to_owned())),
                    None => return Err(invalid("missing `confs` list".to_owned())),
                }
            }
            _ => {
                return Err(invalid(
                    "expected a mapping with `confs` or a list of confs".to_owned(),
                ));
            }
        };
        let mut confs = Vec::with_capacity(list.len());
        for (index, item) in list.iter().enumerate() {
            let label = item.get("name").and_then(Value::as_str).map_or_else(
                || format!("confs[{index}]"),
                |n| format!("confs[{index}] ({n})"),
            );
            let raw = RawConf::deserialize(item).map_err(|e| invalid(format!("{label}: {e}")))?;
            let interface_resolve = match raw.interface_resolve {
                None => None,
                Some(r) => Some(match r.strategy.as_str() {
                    "fieldMap" => InterfaceResolve::FieldMap {
                        field: r.field.ok_or_else(|| {
                            invalid(format!(
                                "{label}: interfaceResolve.field is required for strategy fieldMap"
                            ))
                        })?,
                        field_map: r.field_map.unwrap_or_default(),
                    },
                    "schema" => InterfaceResolve::Schema,
                    other => {
                        return Err(invalid(format!(
                            "{label}: unknown interfaceResolve.strategy `{other}` (expected fieldMap or schema)"
                        )));
                    }
                }),
            };
            if raw.is_interface && interface_resolve.is_none() {
                return Err(invalid(format!(
                    "{label}: interface without interfaceResolve"
                )));
            }
            // a repeated field name keeps its first position and its last definition, like the
            // JavaScript object qontract-server builds the type's fields from
            let mut fields: Vec<FieldConf> = Vec::with_capacity(raw.fields.len());
            for field in raw.fields {
                match fields.iter_mut().find(|f| f.name == field.name) {
                    Some(existing) => *existing = field,
                    None => fields.push(field),
                }
            }
            confs.push(Conf {
                name: raw.name,
                datafile: raw.datafile,
                is_interface: raw.is_interface,
                interface_resolve,
                interface: raw.interface,
                fields,
            });
        }
        let mut out = Self::new(schema, confs);
        out.check()
            .map_err(|problems| invalid(problems.join("; ")))?;
        // the server treats DatafileObject_v1 as always present for datafile-backed types
        if out.get(DATAFILE_OBJECT_INTERFACE).is_none()
            && out.confs.iter().any(|c| c.datafile.is_some())
        {
            out = Self::new(out.schema.take(), {
                let mut confs = out.confs;
                confs.push(implicit_datafile_object());
                confs
            });
        }
        Ok(out)
    }

    /// Builds the lookups over `confs` (no validation).
    pub fn new(schema: Option<String>, confs: Vec<Conf>) -> Self {
        let mut by_name = HashMap::with_capacity(confs.len());
        let mut by_datafile = HashMap::new();
        for (i, conf) in confs.iter().enumerate() {
            by_name.entry(conf.name.clone()).or_insert(i);
            if !conf.is_interface
                && let Some(df) = &conf.datafile
            {
                // later declarations win, as in qontract-server
                by_datafile.insert(df.clone(), i);
            }
        }
        Self {
            schema,
            confs,
            by_name,
            by_datafile,
        }
    }

    /// The conf named `name`.
    pub fn get(&self, name: &str) -> Option<&Conf> {
        self.by_name.get(name).map(|&i| &self.confs[i])
    }

    /// The `Query` conf.
    pub fn query(&self) -> Option<&Conf> {
        self.get(QUERY_TYPE)
    }

    /// The object type whose `datafile` is `schema` (the `schema` interface strategy).
    pub fn type_for_datafile_schema(&self, schema: &str) -> Option<&Conf> {
        self.by_datafile.get(schema).map(|&i| &self.confs[i])
    }

    /// The types implementing `interface` directly or through an ancestor, in conf order
    /// (`DatafileObject_v1`: every datafile-backed conf).
    pub fn implementors<'a>(&'a self, interface: &'a str) -> impl Iterator<Item = &'a Conf> + 'a {
        self.confs
            .iter()
            .filter(move |c| self.interfaces_of(c).any(|i| i == interface))
    }

    /// The interfaces `conf` implements, in SDL order.
    pub fn interfaces_of<'a>(&'a self, conf: &'a Conf) -> impl Iterator<Item = &'a str> + 'a {
        let datafile_object = (conf.datafile.is_some()
            && conf.name != DATAFILE_OBJECT_INTERFACE
            && self.get(DATAFILE_OBJECT_INTERFACE).is_some())
        .then_some(DATAFILE_OBJECT_INTERFACE);
        // A type also implements the interfaces its interface implements (GraphQL requires the
        // full ancestry to be declared), e.g. `PermissionGithubOrgTeam_v1` implements
        // `Permission_v1`, which backs a datafile schema and so implements `DatafileObject_v1`.
        let mut ancestors: Vec<&'a str> = Vec::new();
        let mut next = conf.interface.as_deref();
        while let Some(name) = next {
            if ancestors.contains(&name) {
                break;
            }
            ancestors.push(name);
            next = self.get(name).and_then(|p| p.interface.as_deref());
        }
        let inherited_datafile = ancestors
            .iter()
            .any(|a| self.get(a).is_some_and(|p| p.datafile.is_some()))
            && conf.name != DATAFILE_OBJECT_INTERFACE
            && self.get(DATAFILE_OBJECT_INTERFACE).is_some();
        let datafile_object =
            datafile_object.or(inherited_datafile.then_some(DATAFILE_OBJECT_INTERFACE));
        ancestors.into_iter().chain(datafile_object)
    }

    /// The concrete object type for `source` when its declared type is the interface `interface`
    /// (recursing through interfaces for the `schema` strategy). `None` if it cannot be resolved.
    pub fn resolve_interface<'a>(
        &'a self,
        interface: &'a Conf,
        source: &Value,
    ) -> Option<&'a Conf> {
        let mut current = interface;
        for _ in 0..16 {
            if !current.is_interface {
                return Some(current);
            }
            let next = match current.interface_resolve.as_ref()? {
                InterfaceResolve::FieldMap { field, field_map } => {
                    let key = match source.get(field)? {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    self.get(field_map.get(&key)?)?
                }
                InterfaceResolve::Schema => {
                    let schema = source.get("$schema")?.as_str()?;
                    self.type_for_datafile_schema(schema)?
                }
            };
            current = next;
        }
        None
    }

    /// The arguments of `field` as exposed by the server.
    pub fn field_arguments<'a>(&'a self, field: &'a FieldConf) -> Vec<FieldArgument<'a>> {
        match field.kind() {
            FieldKind::DatafileListing(_) => {
                let mut args: Vec<FieldArgument<'a>> = Vec::new();
                if let Some(target) = self.get(&field.type_name) {
                    for f in target.searchable_fields() {
                        args.push(FieldArgument {
                            name: &f.name,
                            scalar: Scalar::String,
                        });
                    }
                }
                if !args.iter().any(|a| a.name == "path") {
                    args.push(FieldArgument {
                        name: "path",
                        scalar: Scalar::String,
                    });
                }
                args.push(FieldArgument {
                    name: "filter",
                    scalar: Scalar::Json,
                });
                args
            }
            FieldKind::ResourceListing => vec![
                FieldArgument {
                    name: "path",
                    scalar: Scalar::String,
                },
                FieldArgument {
                    name: "schema",
                    scalar: Scalar::String,
                },
            ],
            _ => Vec::new(),
        }
    }

    /// Every consistency problem: unknown field types/interfaces, fieldMap targets, duplicates.
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for conf in &self.confs {
            if !seen.insert(conf.name.as_str()) {
                problems.push(format!("type {} is declared twice", conf.name));
            }
            if let Some(iface) = &conf.interface {
                match self.get(iface) {
                    Some(c) if c.is_interface => {}
                    Some(_) => problems.push(format!(
                        "type {}: interface {iface} is not an interface",
                        conf.name
                    )),
                    None => problems.push(format!("type {}: unknown interface {iface}", conf.name)),
                }
            }
            if let Some(InterfaceResolve::FieldMap { field_map, .. }) = &conf.interface_resolve {
                for (value, target) in field_map {
                    if self.get(target).is_none() {
                        problems.push(format!(
                            "interface {}: fieldMap value {value} names unknown type {target}",
                            conf.name
                        ));
                    }
                }
            }
            for field in &conf.fields {
                if field.scalar().is_some() {
                    continue;
                }
                match self.get(&field.type_name) {
                    None => problems.push(format!(
                        "field {}.{}: unknown type {}",
                        conf.name, field.name, field.type_name
                    )),
                    Some(target) if target.is_interface != field.is_interface => {
                        problems.push(format!(
                            "field {}.{}: type {} is {}an interface but isInterface is {}",
                            conf.name,
                            field.name,
                            field.type_name,
                            if target.is_interface { "" } else { "not " },
                            field.is_interface
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
        if self.query().is_none() {
            problems.push("no Query type".to_owned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

fn implicit_datafile_object() -> Conf {
    let field = |name: &str| FieldConf {
        name: name.to_owned(),
        type_name: "string".to_owned(),
        is_required: true,
        is_list: false,
        is_interface: false,
        datafile_schema: None,
        synthetic: None,
        is_resource: false,
        resolve_resource: false,
        is_searchable: false,
        is_unique: false,
        is_context_unique: false,
    };
    Conf {
        name: DATAFILE_OBJECT_INTERFACE.to_owned(),
        datafile: None,
        is_interface: true,
        interface_resolve: Some(InterfaceResolve::Schema),
        interface: None,
        fields: vec![field("path"), field("schema")],
    }
}
