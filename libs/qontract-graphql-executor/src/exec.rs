//! Parsing, validation and execution of one GraphQL request against a [`Bundle`].
//!
//! Semantics follow qontract-server (graphql-js 16 + Apollo Server): one default resolver
//! (`root[field]`, `schema` -> `$schema`, lazy `$ref` resolution, ref-list flattening), custom
//! resolvers for datafile listings (arguments and `filter`), synthetic back-references and
//! resource files, null propagation, graphql-js error messages and Apollo error codes, empty
//! objects dropped from lists and `extensions.schemas` in first-touch order.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use cynic_parser::ExecutableDocument;
use cynic_parser::executable::{
    Directive, ExecutableDefinition, FieldSelection, FragmentDefinition, OperationDefinition,
    Selection,
};
use cynic_parser::values::Value as AstValue;
use indexmap::IndexMap;
use qontract_graphql_schema::{
    Conf, DATAFILE_OBJECT_INTERFACE, FieldConf, FieldKind, FieldType, Scalar, SchemaConfs,
};
use serde_json::{Map, Value};

use crate::bundle::Bundle;
use crate::filter;
use crate::output::{Out, js_number, js_stringify, write_str};
use crate::suggest::{did_you_mean, did_you_mean_with, suggestion_list};

/// A GraphQL request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'r> {
    /// The query document.
    pub query: &'r str,
    /// The `variables` object, if any.
    pub variables: Option<&'r Value>,
    /// The operation to run.
    pub operation_name: Option<&'r str>,
}

/// One segment of a response path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    /// An object key (response name).
    Key(String),
    /// A list index.
    Index(usize),
}

/// One entry of the response `errors`.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphqlError {
    /// Message (graphql-js wording).
    pub message: String,
    /// 1-based (line, column) locations in the query.
    pub locations: Vec<(usize, usize)>,
    /// Response path of the failing field.
    pub path: Option<Vec<PathSegment>>,
    /// `extensions` (`code` first).
    pub extensions: Map<String, Value>,
}

impl GraphqlError {
    fn new(message: String, locations: Vec<(usize, usize)>, code: &str) -> Self {
        let mut extensions = Map::new();
        extensions.insert("code".to_owned(), Value::String(code.to_owned()));
        Self {
            message,
            locations,
            path: None,
            extensions,
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"message\":");
        write_str(&self.message, out);
        if !self.locations.is_empty() {
            out.extend_from_slice(b",\"locations\":[");
            for (i, (line, column)) in self.locations.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(
                    format!("{{\"line\":{line},\"column\":{column}}}").as_bytes(),
                );
            }
            out.push(b']');
        }
        if let Some(path) = &self.path {
            out.extend_from_slice(b",\"path\":[");
            for (i, seg) in path.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match seg {
                    PathSegment::Key(k) => write_str(k, out),
                    PathSegment::Index(n) => out.extend_from_slice(n.to_string().as_bytes()),
                }
            }
            out.push(b']');
        }
        out.extend_from_slice(b",\"extensions\":");
        // serde_json never fails on a Map
        let _ = serde_json::to_writer(&mut *out, &self.extensions);
        out.push(b'}');
    }

    /// The error as a JSON value.
    pub fn to_value(&self) -> Value {
        let mut out = Vec::new();
        self.write(&mut out);
        serde_json::from_slice(&out).unwrap_or(Value::Null)
    }
}

/// The outcome of one request.
#[derive(Debug)]
pub struct Execution<'a> {
    /// HTTP status qontract-server answers with (400 for parse/validation errors).
    pub status: u16,
    /// Errors, in the order graphql-js reports them.
    pub errors: Vec<GraphqlError>,
    data: Option<Out<'static, 'a>>,
    /// `extensions.schemas`: `$schema` of every object resolved, first-touch order.
    pub schemas: Vec<String>,
}

impl Execution<'_> {
    /// The response body as qontract-server writes it.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1024);
        out.push(b'{');
        let mut first = true;
        if !self.errors.is_empty() {
            out.extend_from_slice(b"\"errors\":[");
            for (i, e) in self.errors.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                e.write(&mut out);
            }
            out.push(b']');
            first = false;
        }
        if let Some(data) = &self.data {
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(b"\"data\":");
            data.write(&mut out);
            first = false;
        }
        if !first {
            out.push(b',');
        }
        out.extend_from_slice(b"\"extensions\":{\"schemas\":[");
        for (i, s) in self.schemas.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(s, &mut out);
        }
        out.extend_from_slice(b"]}}");
        out
    }

    /// The `data` member as a JSON value (`None` when the request did not execute).
    pub fn data(&self) -> Option<Value> {
        self.data.as_ref().map(Out::to_value)
    }
}

/// Line/column lookup for byte offsets of the query text.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(src: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }
    fn at(&self, src: &str, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let col = src
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line, col + 1)
    }
}

fn type_string(ty: &FieldType<'_>) -> String {
    ty.to_string()
}

/// Runs `request` against `bundle`.
pub fn execute<'a>(bundle: &'a Bundle, request: Request<'_>) -> Execution<'a> {
    let src = request.query;
    let lines = Lines::new(src);
    let fail = |status: u16, errors: Vec<GraphqlError>| Execution {
        status,
        errors,
        data: None,
        schemas: Vec::new(),
    };
    let doc = match cynic_parser::parse_executable_document(src) {
        Ok(doc) => doc,
        Err(e) => {
            let location = e.span().map(|s| lines.at(src, s.start));
            let message = format!("Syntax Error: {e}");
            return fail(
                400,
                vec![GraphqlError::new(
                    message,
                    location.into_iter().collect(),
                    "GRAPHQL_PARSE_FAILED",
                )],
            );
        }
    };
    // leak-free: the document lives as long as this function; execution output borrows only
    // names from the query text, which lives for 'q
    run(bundle, &doc, src, &lines, request)
}

fn run<'a>(
    bundle: &'a Bundle,
    doc: &ExecutableDocument,
    src: &str,
    lines: &Lines,
    request: Request<'_>,
) -> Execution<'a> {
    let fail = |status: u16, errors: Vec<GraphqlError>| Execution {
        status,
        errors,
        data: None,
        schemas: Vec::new(),
    };
    let schema = &bundle.schema;
    let mut fragments: HashMap<&str, FragmentDefinition<'_>> = HashMap::new();
    let mut operations: Vec<OperationDefinition<'_>> = Vec::new();
    for def in doc.definitions() {
        match def {
            ExecutableDefinition::Operation(op) => operations.push(op),
            ExecutableDefinition::Fragment(f) => {
                fragments.insert(f.name(), f);
            }
        }
    }

    // validation (the subset of graphql-js rules that clients actually trip over)
    let mut validator = Validator {
        schema,
        src,
        lines,
        fragments: &fragments,
        errors: Vec::new(),
        visited: HashSet::new(),
        used_variables: Vec::new(),
    };
    for op in &operations {
        validator.used_variables.clear();
        validator.visited.clear();
        if let Some(query) = schema.query() {
            validator.selection_set(query, op.selection_set());
        }
        let defined: HashSet<&str> = op.variable_definitions().map(|v| v.name()).collect();
        for (name, offset) in std::mem::take(&mut validator.used_variables) {
            if !defined.contains(name.as_str()) {
                let message = match op.name() {
                    Some(op_name) => {
                        format!("Variable \"${name}\" is not defined by operation \"{op_name}\".")
                    }
                    None => format!("Variable \"${name}\" is not defined."),
                };
                let op_offset = op
                    .operation_type_span()
                    .map_or(op.selection_set_span().start, |s| s.start);
                validator.errors.push(GraphqlError::new(
                    message,
                    vec![lines.at(src, offset), lines.at(src, op_offset)],
                    "GRAPHQL_VALIDATION_FAILED",
                ));
            }
        }
    }
    for frag in fragments.values() {
        const INTROSPECTION_TYPES: [&str; 8] = [
            "__Schema",
            "__Type",
            "__Field",
            "__InputValue",
            "__EnumValue",
            "__Directive",
            "__TypeKind",
            "__DirectiveLocation",
        ];
        if schema.get(frag.type_condition()).is_none()
            && !INTROSPECTION_TYPES.contains(&frag.type_condition())
        {
            validator.errors.push(GraphqlError::new(
                format!("Unknown type \"{}\".", frag.type_condition()),
                vec![lines.at(src, frag.type_condition_span().start)],
                "GRAPHQL_VALIDATION_FAILED",
            ));
        }
    }
    // NoFragmentCycles: a fragment spreading itself (directly or not) would never terminate
    for frag in fragments.values() {
        if let Some(cycle) = fragment_cycle(frag.name(), &fragments) {
            let via = if cycle.len() > 1 {
                let names: Vec<String> = cycle[1..].iter().map(|n| format!("\"{n}\"")).collect();
                format!(" via {}", names.join(", "))
            } else {
                String::new()
            };
            validator.errors.push(GraphqlError::new(
                format!(
                    "Cannot spread fragment \"{}\" within itself{via}.",
                    frag.name()
                ),
                vec![lines.at(src, frag.name_span().start)],
                "GRAPHQL_VALIDATION_FAILED",
            ));
        }
    }
    if !validator.errors.is_empty() {
        return fail(400, validator.errors);
    }

    let operation = match request.operation_name {
        Some(name) => match operations.iter().find(|o| o.name() == Some(name)) {
            Some(op) => *op,
            None => {
                return fail(
                    400,
                    vec![GraphqlError::new(
                        format!("Unknown operation named \"{name}\"."),
                        Vec::new(),
                        "OPERATION_RESOLUTION_FAILURE",
                    )],
                );
            }
        },
        None => match operations.as_slice() {
            [op] => *op,
            [] => {
                return fail(
                    400,
                    vec![GraphqlError::new(
                        "Must provide an operation.".to_owned(),
                        Vec::new(),
                        "OPERATION_RESOLUTION_FAILURE",
                    )],
                );
            }
            _ => {
                return fail(
                    400,
                    vec![GraphqlError::new(
                        "Must provide operation name if query contains multiple operations."
                            .to_owned(),
                        Vec::new(),
                        "OPERATION_RESOLUTION_FAILURE",
                    )],
                );
            }
        },
    };
    if operation.operation_type() != cynic_parser::common::OperationType::Query {
        return fail(
            400,
            vec![GraphqlError::new(
                format!(
                    "Schema is not configured to execute {} operation.",
                    operation.operation_type()
                ),
                vec![lines.at(src, operation.operation_type_span().map_or(0, |s| s.start))],
                "GRAPHQL_VALIDATION_FAILED",
            )],
        );
    }

    // variables
    let provided = request.variables.and_then(Value::as_object);
    let mut vars = Map::new();
    let mut var_errors = Vec::new();
    for def in operation.variable_definitions() {
        let name = def.name();
        match provided.and_then(|p| p.get(name)) {
            Some(v) => {
                vars.insert(name.to_owned(), v.clone());
            }
            None => {
                if let Some(default) = def.default_value() {
                    vars.insert(name.to_owned(), const_to_json(default));
                } else if def.ty().to_string().ends_with('!') {
                    var_errors.push(GraphqlError::new(
                        format!(
                            "Variable \"${name}\" of required type \"{}\" was not provided.",
                            def.ty()
                        ),
                        vec![lines.at(src, def.name_span().start.saturating_sub(1))],
                        "BAD_USER_INPUT",
                    ));
                }
            }
        }
    }
    if !var_errors.is_empty() {
        return fail(400, var_errors);
    }

    let Some(query_type) = schema.query() else {
        return fail(
            500,
            vec![GraphqlError::new(
                "the bundle's GraphQL schema has no Query type".to_owned(),
                Vec::new(),
                "INTERNAL_SERVER_ERROR",
            )],
        );
    };
    let mut exec = Executor {
        bundle,
        schema,
        src,
        lines,
        fragments: &fragments,
        vars,
        errors: Vec::new(),
        schemas: Vec::new(),
        seen_schemas: HashSet::new(),
        path: Vec::new(),
        grouped: HashMap::new(),
    };
    static ROOT: Value = Value::Null;
    let data = match exec.selection_set(query_type, &ROOT, &[op_selections(&operation)], None) {
        Ok(out) => out,
        Err(Bubble) => Out::Null,
    };
    let mut data = data;
    data.drop_empty_objects_in_lists();
    // response keys borrow the parsed document; copy them into owned names tied to 'q
    let data = own_keys(data);
    Execution {
        status: 200,
        errors: exec.errors,
        data: Some(data),
        schemas: exec.schemas.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// Fragment names spread (anywhere, nested fields included) by `selections`.
fn spreads<'d>(selections: Selections<'d>, out: &mut Vec<&'d str>) {
    for selection in selections {
        match selection {
            Selection::Field(f) => spreads(f.selection_set(), out),
            Selection::InlineFragment(i) => spreads(i.selection_set(), out),
            Selection::FragmentSpread(s) => out.push(s.fragment_name()),
        }
    }
}

/// The spread path from `start` back to itself, if `start` is part of a cycle.
fn fragment_cycle<'d>(
    start: &'d str,
    fragments: &HashMap<&'d str, FragmentDefinition<'d>>,
) -> Option<Vec<&'d str>> {
    let mut stack: Vec<(&'d str, Vec<&'d str>)> = vec![(start, vec![start])];
    let mut seen: HashSet<&'d str> = HashSet::new();
    while let Some((name, path)) = stack.pop() {
        let Some(frag) = fragments.get(name) else {
            continue;
        };
        let mut next = Vec::new();
        spreads(frag.selection_set(), &mut next);
        for n in next {
            if n == start {
                return Some(path);
            }
            if seen.insert(n) {
                let mut p = path.clone();
                p.push(n);
                stack.push((n, p));
            }
        }
    }
    None
}

fn own_keys<'a>(out: Out<'_, 'a>) -> Out<'static, 'a> {
    match out {
        Out::Null => Out::Null,
        Out::Bool(b) => Out::Bool(b),
        Out::Int(i) => Out::Int(i),
        Out::Float(f) => Out::Float(f),
        Out::Str(s) => Out::Str(s),
        Out::List(items) => Out::List(items.into_iter().map(own_keys).collect()),
        Out::Obj(fields) => Out::Obj(
            fields
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), own_keys(v)))
                .collect(),
        ),
    }
}

type Selections<'d> = cynic_parser::executable::Iter<'d, Selection<'d>>;

fn op_selections<'d>(op: &OperationDefinition<'d>) -> Selections<'d> {
    op.selection_set()
}

fn const_to_json(v: cynic_parser::ConstValue<'_>) -> Value {
    use cynic_parser::ConstValue as C;
    match v {
        C::Int(i) => Value::from(i.as_i64()),
        C::Float(f) => serde_json::Number::from_f64(f.value()).map_or(Value::Null, Value::Number),
        C::String(s) => Value::String(s.value().to_string()),
        C::Boolean(b) => Value::Bool(b.value()),
        C::Null(_) => Value::Null,
        C::Enum(e) => Value::String(e.name().to_owned()),
        C::List(l) => Value::Array(l.items().map(const_to_json).collect()),
        C::Object(o) => Value::Object(
            o.fields()
                .map(|f| (f.name().to_owned(), const_to_json(f.value())))
                .collect(),
        ),
    }
}

/// Converts an argument literal to JSON; `None` when it is an unset variable.
fn ast_to_json(v: AstValue<'_>, vars: &Map<String, Value>) -> Option<Value> {
    Some(match v {
        AstValue::Variable(var) => return vars.get(var.name()).cloned(),
        AstValue::Int(i) => Value::from(i.as_i64()),
        AstValue::Float(f) => {
            serde_json::Number::from_f64(f.value()).map_or(Value::Null, Value::Number)
        }
        AstValue::String(s) => Value::String(s.value().to_string()),
        AstValue::Boolean(b) => Value::Bool(b.value()),
        AstValue::Null(_) => Value::Null,
        AstValue::Enum(e) => Value::String(e.name().to_owned()),
        AstValue::List(l) => Value::Array(
            l.items()
                .map(|i| ast_to_json(i, vars).unwrap_or(Value::Null))
                .collect(),
        ),
        AstValue::Object(o) => Value::Object(
            o.fields()
                .filter_map(|f| ast_to_json(f.value(), vars).map(|v| (f.name().to_owned(), v)))
                .collect(),
        ),
    })
}

enum Named<'s> {
    Scalar(Scalar),
    Conf(&'s Conf),
}

fn named<'s>(schema: &'s SchemaConfs, ty: &FieldType<'_>) -> Option<Named<'s>> {
    match ty.scalar {
        Some(s) => Some(Named::Scalar(s)),
        None => schema.get(ty.name).map(Named::Conf),
    }
}

fn field_offset(f: &FieldSelection<'_>) -> usize {
    f.alias_span().map_or(f.name_span().start, |s| s.start)
}

struct Validator<'v, 'd> {
    schema: &'v SchemaConfs,
    src: &'v str,
    lines: &'v Lines,
    fragments: &'v HashMap<&'d str, FragmentDefinition<'d>>,
    errors: Vec<GraphqlError>,
    visited: HashSet<&'d str>,
    used_variables: Vec<(String, usize)>,
}

impl<'v, 'd> Validator<'v, 'd> {
    fn error(&mut self, message: String, offset: usize) {
        self.errors.push(GraphqlError::new(
            message,
            vec![self.lines.at(self.src, offset)],
            "GRAPHQL_VALIDATION_FAILED",
        ));
    }

    fn note_variables(&mut self, v: AstValue<'d>) {
        match v {
            AstValue::Variable(var) => self
                .used_variables
                .push((var.name().to_owned(), var.span().start)),
            AstValue::List(l) => l.items().for_each(|i| self.note_variables(i)),
            AstValue::Object(o) => o.fields().for_each(|f| self.note_variables(f.value())),
            _ => {}
        }
    }

    fn directives(&mut self, directives: cynic_parser::executable::Iter<'d, Directive<'d>>) {
        for d in directives {
            for a in d.arguments() {
                self.note_variables(a.value());
            }
        }
    }

    fn selection_set(&mut self, parent: &'v Conf, selections: Selections<'d>) {
        for selection in selections {
            match selection {
                Selection::Field(field) => self.field(parent, field),
                Selection::InlineFragment(inline) => {
                    self.directives(inline.directives());
                    let target = match inline.type_condition() {
                        None => Some(parent),
                        Some(name) => {
                            let found = self.schema.get(name);
                            if found.is_none() {
                                let offset = inline
                                    .type_condition_span()
                                    .map_or(inline.selection_set_span().start, |s| s.start);
                                self.error(format!("Unknown type \"{name}\"."), offset);
                            }
                            found
                        }
                    };
                    if let Some(target) = target {
                        self.selection_set(target, inline.selection_set());
                    }
                }
                Selection::FragmentSpread(spread) => {
                    self.directives(spread.directives());
                    let name = spread.fragment_name();
                    match self.fragments.get(name) {
                        None => self.error(
                            format!("Unknown fragment \"{name}\"."),
                            spread.fragment_name_span().start.saturating_sub(3),
                        ),
                        Some(frag) => {
                            if self.visited.insert(name)
                                && let Some(target) = self.schema.get(frag.type_condition())
                            {
                                self.selection_set(target, frag.selection_set());
                            }
                        }
                    }
                }
            }
        }
    }

    fn field(&mut self, parent: &'v Conf, field: FieldSelection<'d>) {
        self.directives(field.directives());
        for a in field.arguments() {
            self.note_variables(a.value());
        }
        let name = field.name();
        if name == "__typename"
            || (parent.name == qontract_graphql_schema::QUERY_TYPE
                && matches!(name, "__schema" | "__type"))
        {
            return;
        }
        let Some(def) = parent.field(name) else {
            let hint = if parent.is_interface {
                // possible types (and their other interfaces) that have the field
                let mut usage: Vec<(&str, usize, bool)> = Vec::new();
                for imp in self.schema.implementors(&parent.name) {
                    if imp.field(name).is_none() || imp.is_interface {
                        continue;
                    }
                    usage.push((imp.name.as_str(), 1, false));
                    for iface in self.schema.interfaces_of(imp) {
                        if iface != parent.name
                            && self
                                .schema
                                .get(iface)
                                .is_some_and(|c| c.field(name).is_some())
                        {
                            match usage.iter_mut().find(|u| u.0 == iface) {
                                Some(u) => u.1 += 1,
                                None => usage.push((iface, 1, true)),
                            }
                        }
                    }
                }
                usage.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
                let types: Vec<&str> = usage.iter().map(|u| u.0).collect();
                if types.is_empty() {
                    None
                } else {
                    Some(did_you_mean_with(
                        Some("to use an inline fragment on"),
                        &types,
                    ))
                }
            } else {
                None
            };
            let hint = hint.unwrap_or_else(|| {
                let names: Vec<&str> = parent.fields.iter().map(|f| f.name.as_str()).collect();
                did_you_mean(&suggestion_list(name, &names))
            });
            self.error(
                format!(
                    "Cannot query field \"{name}\" on type \"{}\".{hint}",
                    parent.name
                ),
                field_offset(&field),
            );
            return;
        };
        let allowed = self.schema.field_arguments(def);
        for arg in field.arguments() {
            if let Some(spec) = allowed.iter().find(|a| a.name == arg.name())
                && spec.scalar == Scalar::String
            {
                let value = arg.value();
                let bad = matches!(
                    value,
                    AstValue::Int(_)
                        | AstValue::Float(_)
                        | AstValue::Boolean(_)
                        | AstValue::Enum(_)
                        | AstValue::List(_)
                        | AstValue::Object(_)
                );
                if bad {
                    let span = value.span();
                    let printed = self.src.get(span.start..span.end).unwrap_or_default();
                    self.error(
                        format!("String cannot represent a non string value: {printed}"),
                        span.start,
                    );
                }
            }
            if !allowed.iter().any(|a| a.name == arg.name()) {
                let names: Vec<&str> = allowed.iter().map(|a| a.name).collect();
                let suggestions = suggestion_list(arg.name(), &names);
                self.error(
                    format!(
                        "Unknown argument \"{}\" on field \"{}.{}\".{}",
                        arg.name(),
                        parent.name,
                        def.name,
                        did_you_mean(&suggestions)
                    ),
                    arg.name_span().start,
                );
            }
        }
        let ty = def.graphql_type();
        let has_selection = field.selection_set().len() > 0;
        match named(self.schema, &ty) {
            Some(Named::Scalar(_)) if has_selection => {
                self.error(
                    format!(
                        "Field \"{name}\" must not have a selection since type \"{}\" has no subfields.",
                        type_string(&ty)
                    ),
                    field_offset(&field),
                );
            }
            Some(Named::Scalar(_)) => {}
            Some(Named::Conf(target)) => {
                if has_selection {
                    self.selection_set(target, field.selection_set());
                } else {
                    self.error(
                        format!(
                            "Field \"{name}\" of type \"{}\" must have a selection of subfields. Did you mean \"{name} {{ ... }}\"?",
                            type_string(&ty)
                        ),
                        field_offset(&field),
                    );
                }
            }
            None => {}
        }
    }
}

/// A non-null violation travelling up to the nearest nullable field.
struct Bubble;

/// What a resolver produced.
enum Resolved<'a> {
    Null,
    One(&'a Value),
    Many(Vec<Option<&'a Value>>),
}

struct FieldFailure {
    message: String,
    extensions: Option<Map<String, Value>>,
}

/// A response path segment borrowing the query's names.
#[derive(Clone, Copy)]
enum Seg<'d> {
    Key(&'d str),
    Index(usize),
}

/// Grouped fields of a selection set, cached per (object type, field nodes).
type Grouped<'d> = std::rc::Rc<Vec<(&'d str, Vec<FieldSelection<'d>>)>>;

struct Executor<'e, 'd, 'a> {
    bundle: &'a Bundle,
    schema: &'a SchemaConfs,
    src: &'e str,
    lines: &'e Lines,
    fragments: &'e HashMap<&'d str, FragmentDefinition<'d>>,
    vars: Map<String, Value>,
    errors: Vec<GraphqlError>,
    schemas: Vec<&'a str>,
    seen_schemas: HashSet<&'a str>,
    path: Vec<Seg<'d>>,
    grouped: HashMap<(usize, Vec<cynic_parser::executable::ids::FieldSelectionId>), Grouped<'d>>,
}

fn is_ref(v: &Value) -> Option<&str> {
    match v {
        Value::Object(o) if o.len() == 1 => o.get("$ref").and_then(Value::as_str),
        _ => None,
    }
}

impl<'e, 'd, 'a> Executor<'e, 'd, 'a> {
    fn locations(&self, nodes: &[FieldSelection<'d>]) -> Vec<(usize, usize)> {
        nodes
            .iter()
            .map(|n| self.lines.at(self.src, field_offset(n)))
            .collect()
    }

    fn field_error(
        &mut self,
        message: String,
        nodes: &[FieldSelection<'d>],
        extensions: Option<Map<String, Value>>,
    ) {
        let mut error = GraphqlError::new(message, self.locations(nodes), "INTERNAL_SERVER_ERROR");
        if let Some(ext) = extensions {
            error.extensions = ext;
        }
        error.path = Some(
            self.path
                .iter()
                .map(|s| match s {
                    Seg::Key(k) => PathSegment::Key((*k).to_owned()),
                    Seg::Index(i) => PathSegment::Index(*i),
                })
                .collect(),
        );
        self.errors.push(error);
    }

    fn skipped(&self, directives: cynic_parser::executable::Iter<'d, Directive<'d>>) -> bool {
        for d in directives {
            let cond = d
                .arguments()
                .find(|a| a.name() == "if")
                .and_then(|a| ast_to_json(a.value(), &self.vars));
            let flag = matches!(cond, Some(Value::Bool(true)));
            match d.name() {
                "skip" if flag => return true,
                "include" if !flag => return true,
                _ => {}
            }
        }
        false
    }

    fn applies(&self, object: &Conf, condition: &str) -> bool {
        condition == object.name
            || object.interface.as_deref() == Some(condition)
            || (condition == DATAFILE_OBJECT_INTERFACE && object.datafile.is_some())
    }

    fn collect(
        &self,
        object: &Conf,
        selections: Selections<'d>,
        out: &mut IndexMap<&'d str, Vec<FieldSelection<'d>>>,
        visited: &mut HashSet<&'d str>,
    ) {
        for selection in selections {
            match selection {
                Selection::Field(f) => {
                    if self.skipped(f.directives()) {
                        continue;
                    }
                    out.entry(f.alias().unwrap_or(f.name()))
                        .or_default()
                        .push(f);
                }
                Selection::InlineFragment(inline) => {
                    if self.skipped(inline.directives()) {
                        continue;
                    }
                    if inline
                        .type_condition()
                        .is_none_or(|c| self.applies(object, c))
                    {
                        self.collect(object, inline.selection_set(), out, visited);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if self.skipped(spread.directives()) {
                        continue;
                    }
                    let name = spread.fragment_name();
                    if !visited.insert(name) {
                        continue;
                    }
                    if let Some(frag) = self.fragments.get(name)
                        && self.applies(object, frag.type_condition())
                    {
                        self.collect(object, frag.selection_set(), out, visited);
                    }
                }
            }
        }
    }

    fn group(
        &mut self,
        object: &'a Conf,
        selection_sets: &[Selections<'d>],
        cache_key: Option<Vec<cynic_parser::executable::ids::FieldSelectionId>>,
    ) -> Grouped<'d> {
        let key = cache_key.map(|ids| (std::ptr::from_ref(object) as usize, ids));
        if let Some(k) = &key
            && let Some(hit) = self.grouped.get(k)
        {
            return hit.clone();
        }
        let mut grouped: IndexMap<&'d str, Vec<FieldSelection<'d>>> = IndexMap::new();
        let mut visited = HashSet::new();
        for set in selection_sets {
            self.collect(object, set.clone(), &mut grouped, &mut visited);
        }
        let grouped: Grouped<'d> = std::rc::Rc::new(grouped.into_iter().collect());
        if let Some(k) = key {
            self.grouped.insert(k, grouped.clone());
        }
        grouped
    }

    fn selection_set(
        &mut self,
        object: &'a Conf,
        source: &'a Value,
        selection_sets: &[Selections<'d>],
        cache_key: Option<Vec<cynic_parser::executable::ids::FieldSelectionId>>,
    ) -> Result<Out<'d, 'a>, Bubble> {
        let grouped = self.group(object, selection_sets, cache_key);
        let mut fields = Vec::with_capacity(grouped.len());
        for (key, nodes) in grouped.iter() {
            let key = *key;
            let name = nodes[0].name();
            if name == "__typename" {
                fields.push((
                    Cow::Borrowed(key),
                    Out::Str(Cow::Borrowed(object.name.as_str())),
                ));
                continue;
            }
            if object.name == qontract_graphql_schema::QUERY_TYPE
                && matches!(name, "__schema" | "__type")
            {
                let model = self.bundle.introspection();
                let target = if name == "__schema" {
                    model
                } else {
                    let wanted = self
                        .arguments(&nodes[0])
                        .into_iter()
                        .find(|(k, _)| *k == "name")
                        .and_then(|(_, v)| v.as_str().map(str::to_owned));
                    model["types"]
                        .as_array()
                        .and_then(|types| {
                            types
                                .iter()
                                .find(|t| wanted.as_deref().is_some_and(|w| t["name"] == w))
                        })
                        .unwrap_or(&Value::Null)
                };
                let sets: Vec<Selections<'d>> = nodes.iter().map(|n| n.selection_set()).collect();
                let out = self.walk_json(target, &sets);
                fields.push((Cow::Borrowed(key), out));
                continue;
            }
            let Some(def) = object.field(name) else {
                continue;
            };
            self.path.push(Seg::Key(key));
            let ty = def.graphql_type();
            let value = match self.resolve(object, def, source, &nodes[0], &ty) {
                Ok(resolved) => self.complete(object, def, &ty, resolved, nodes),
                Err(failure) => {
                    self.field_error(failure.message, nodes, failure.extensions);
                    if ty.required {
                        Err(Bubble)
                    } else {
                        Ok(Out::Null)
                    }
                }
            };
            self.path.pop();
            match value {
                Ok(v) => fields.push((Cow::Borrowed(key), v)),
                Err(Bubble) => {
                    if ty.required {
                        return Err(Bubble);
                    }
                    fields.push((Cow::Borrowed(key), Out::Null));
                }
            }
        }
        Ok(Out::Obj(fields))
    }

    /// Selects fields out of a JSON model (introspection): objects carry `__typename`, fragments
    /// apply when their type condition names it.
    fn walk_json(&mut self, value: &'a Value, sets: &[Selections<'d>]) -> Out<'d, 'a> {
        match value {
            Value::Null => Out::Null,
            Value::Bool(b) => Out::Bool(*b),
            Value::Number(n) => n
                .as_i64()
                .map_or(Out::Float(n.as_f64().unwrap_or_default()), Out::Int),
            Value::String(s) => Out::Str(Cow::Borrowed(s.as_str())),
            Value::Array(items) => {
                Out::List(items.iter().map(|i| self.walk_json(i, sets)).collect())
            }
            Value::Object(obj) => {
                let type_name = obj
                    .get("__typename")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let mut grouped: IndexMap<&'d str, Vec<FieldSelection<'d>>> = IndexMap::new();
                let mut visited = HashSet::new();
                for set in sets {
                    self.collect_json(type_name, set.clone(), &mut grouped, &mut visited);
                }
                let mut fields = Vec::with_capacity(grouped.len());
                for (key, nodes) in grouped {
                    let name = nodes[0].name();
                    let sub: Vec<Selections<'d>> =
                        nodes.iter().map(|n| n.selection_set()).collect();
                    let out = match obj.get(name) {
                        Some(v) => self.walk_json(v, &sub),
                        None => Out::Null,
                    };
                    fields.push((Cow::Borrowed(key), out));
                }
                Out::Obj(fields)
            }
        }
    }

    fn collect_json(
        &self,
        type_name: &str,
        selections: Selections<'d>,
        out: &mut IndexMap<&'d str, Vec<FieldSelection<'d>>>,
        visited: &mut HashSet<&'d str>,
    ) {
        for selection in selections {
            match selection {
                Selection::Field(f) => {
                    if !self.skipped(f.directives()) {
                        out.entry(f.alias().unwrap_or(f.name()))
                            .or_default()
                            .push(f);
                    }
                }
                Selection::InlineFragment(inline) => {
                    if !self.skipped(inline.directives())
                        && inline.type_condition().is_none_or(|c| c == type_name)
                    {
                        self.collect_json(type_name, inline.selection_set(), out, visited);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.fragment_name();
                    if !self.skipped(spread.directives())
                        && visited.insert(name)
                        && let Some(frag) = self.fragments.get(name)
                        && frag.type_condition() == type_name
                    {
                        self.collect_json(type_name, frag.selection_set(), out, visited);
                    }
                }
            }
        }
    }

    fn note_schema(&mut self, source: &'a Value) {
        if let Some(Value::String(s)) = source.get("$schema")
            && !s.is_empty()
            && self.seen_schemas.insert(s.as_str())
        {
            self.schemas.push(s.as_str());
        }
    }

    fn arguments(&self, node: &FieldSelection<'d>) -> Vec<(&'d str, Value)> {
        node.arguments()
            .filter_map(|a| ast_to_json(a.value(), &self.vars).map(|v| (a.name(), v)))
            .collect()
    }

    fn resolve(
        &mut self,
        _parent: &'a Conf,
        field: &'a FieldConf,
        source: &'a Value,
        node: &FieldSelection<'d>,
        ty: &FieldType<'_>,
    ) -> Result<Resolved<'a>, FieldFailure> {
        let bundle = self.bundle;
        match field.kind() {
            FieldKind::DatafileListing(schema_path) => {
                let target = self.schema.get(&field.type_name);
                let mut eq: Vec<(String, Value)> = Vec::new();
                let mut predicates = Vec::new();
                for (name, value) in self.arguments(node) {
                    if value.is_null() {
                        continue;
                    }
                    if name == "filter" {
                        if let Some(target) = target {
                            predicates =
                                filter::compile(self.schema, target, &value).map_err(|bad| {
                                    let mut ext = Map::new();
                                    ext.insert(
                                        "code".to_owned(),
                                        Value::String("BAD_FILTER_FIELD".to_owned()),
                                    );
                                    ext.insert(
                                        "gqlType".to_owned(),
                                        Value::String(bad.type_name.clone()),
                                    );
                                    FieldFailure {
                                        message: format!(
                                            "Field \"{}\" does not exist on type \"{}\"",
                                            bad.field, bad.type_name
                                        ),
                                        extensions: Some(ext),
                                    }
                                })?;
                        }
                    } else {
                        eq.push((name.to_owned(), value));
                    }
                }
                let files = bundle
                    .by_schema
                    .get(schema_path)
                    .map_or(&[][..], Vec::as_slice);
                let selected = files
                    .iter()
                    .map(|&i| &bundle.datafiles[i])
                    .filter(|df| eq.iter().all(|(f, v)| filter::strict_eq(df.get(f), v)))
                    .filter(|df| filter::matches(bundle, &predicates, df))
                    .map(Some)
                    .collect();
                Ok(Resolved::Many(selected))
            }
            FieldKind::Synthetic(syn) => {
                let Some(Value::String(path)) = source.get("path") else {
                    return Ok(Resolved::Many(Vec::new()));
                };
                let key = (syn.schema.clone(), syn.sub_attr.clone());
                let list = bundle
                    .synthetic
                    .get(&key)
                    .and_then(|index| index.get(path))
                    .map(|ids| ids.iter().map(|&i| Some(&bundle.datafiles[i])).collect())
                    .unwrap_or_default();
                Ok(Resolved::Many(list))
            }
            FieldKind::ResourceRef => match source.get(&field.name) {
                Some(Value::String(p)) => Ok(bundle
                    .resources
                    .get(p)
                    .map_or(Resolved::Null, Resolved::One)),
                _ => Ok(Resolved::Null),
            },
            FieldKind::ResourceListing => {
                let args = self.arguments(node);
                let arg = |n: &str| {
                    args.iter()
                        .find(|(k, _)| *k == n)
                        .and_then(|(_, v)| v.as_str())
                        .filter(|s| !s.is_empty())
                };
                if let Some(path) = arg("path") {
                    return Ok(Resolved::Many(vec![bundle.resources.get(path)]));
                }
                let schema_filter = arg("schema");
                Ok(Resolved::Many(
                    bundle
                        .resources
                        .values()
                        .filter(|r| {
                            schema_filter
                                .is_none_or(|s| r.get("$schema").and_then(Value::as_str) == Some(s))
                        })
                        .map(Some)
                        .collect(),
                ))
            }
            FieldKind::Plain => {
                self.note_schema(source);
                if field.name == "schema" {
                    return Ok(source.get("$schema").map_or(Resolved::Null, Resolved::One));
                }
                let Some(value) = source.get(&field.name) else {
                    return Ok(Resolved::Null);
                };
                if let Value::Array(items) = value
                    && !items.is_empty()
                    && items.iter().all(|i| is_ref(i).is_some())
                {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        let resolved = is_ref(item).and_then(|r| bundle.resolve_ref(r));
                        match resolved {
                            Some(Value::Array(inner)) if ty.list => {
                                out.extend(inner.iter().map(Some))
                            }
                            other => out.push(other),
                        }
                    }
                    return Ok(Resolved::Many(out));
                }
                if let Some(r) = is_ref(value) {
                    return Ok(bundle.resolve_ref(r).map_or(Resolved::Null, Resolved::One));
                }
                Ok(Resolved::One(value))
            }
        }
    }

    fn non_null_error(&mut self, parent: &Conf, field: &FieldConf, nodes: &[FieldSelection<'d>]) {
        self.field_error(
            format!(
                "Cannot return null for non-nullable field {}.{}.",
                parent.name, field.name
            ),
            nodes,
            None,
        );
    }

    fn complete(
        &mut self,
        parent: &'a Conf,
        field: &'a FieldConf,
        ty: &FieldType<'_>,
        resolved: Resolved<'a>,
        nodes: &[FieldSelection<'d>],
    ) -> Result<Out<'d, 'a>, Bubble> {
        let single = match resolved {
            Resolved::Null | Resolved::One(Value::Null) => None,
            Resolved::One(v) => Some(Resolved::One(v)),
            Resolved::Many(items) => Some(Resolved::Many(items)),
        };
        let Some(value) = single else {
            if ty.required {
                self.non_null_error(parent, field, nodes);
                return Err(Bubble);
            }
            return Ok(Out::Null);
        };
        if ty.list {
            let items: Vec<Option<&'a Value>> = match value {
                Resolved::Many(items) => items,
                Resolved::One(Value::Array(items)) => items.iter().map(Some).collect(),
                _ => {
                    self.field_error(
                        format!(
                            "Expected Iterable, but did not find one for field \"{}.{}\".",
                            parent.name, field.name
                        ),
                        nodes,
                        None,
                    );
                    return if ty.required {
                        Err(Bubble)
                    } else {
                        Ok(Out::Null)
                    };
                }
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                self.path.push(Seg::Index(i));
                let completed = match item {
                    None | Some(Value::Null) => {
                        self.non_null_error(parent, field, nodes);
                        Err(Bubble)
                    }
                    Some(v) => self.complete_item(parent, field, ty, v, nodes),
                };
                self.path.pop();
                match completed {
                    Ok(v) => out.push(v),
                    Err(Bubble) => {
                        return if ty.required {
                            Err(Bubble)
                        } else {
                            Ok(Out::Null)
                        };
                    }
                }
            }
            return Ok(Out::List(out));
        }
        let v = match value {
            Resolved::One(v) => v,
            // a list where a single value was expected: resolve fields on nothing
            _ => &Value::Null,
        };
        match self.complete_item(parent, field, ty, v, nodes) {
            Ok(out) => Ok(out),
            Err(Bubble) => {
                if ty.required {
                    Err(Bubble)
                } else {
                    Ok(Out::Null)
                }
            }
        }
    }

    /// Completes one non-null value of the field's named type. `Err` means the value became
    /// null (error recorded) and the caller decides about propagation.
    fn complete_item(
        &mut self,
        parent: &'a Conf,
        field: &'a FieldConf,
        ty: &FieldType<'_>,
        value: &'a Value,
        nodes: &[FieldSelection<'d>],
    ) -> Result<Out<'d, 'a>, Bubble> {
        match named(self.schema, ty) {
            Some(Named::Scalar(scalar)) => match serialize(scalar, value) {
                Ok(out) => Ok(out),
                Err(message) => {
                    self.field_error(message, nodes, None);
                    Err(Bubble)
                }
            },
            Some(Named::Conf(conf)) => {
                let object = if conf.is_interface {
                    match self.schema.resolve_interface(conf, value) {
                        Some(o) => o,
                        None => {
                            self.field_error(
                                format!(
                                    "Abstract type \"{0}\" must resolve to an Object type at runtime for field \"{1}.{2}\". Either the \"{0}\" type should provide a \"resolveType\" function or each possible type should provide an \"isTypeOf\" function.",
                                    conf.name, parent.name, field.name
                                ),
                                nodes,
                                None,
                            );
                            return Err(Bubble);
                        }
                    }
                } else {
                    conf
                };
                let sets: Vec<Selections<'d>> = nodes.iter().map(|n| n.selection_set()).collect();
                static EMPTY: Value = Value::Null;
                let source = if value.is_object() { value } else { &EMPTY };
                let ids = nodes.iter().map(FieldSelection::id).collect();
                self.selection_set(object, source, &sets, Some(ids))
            }
            None => Ok(Out::Null),
        }
    }
}

fn inspect(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        Value::Array(_) | Value::Object(_) => serde_json::to_string(v).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn numeric(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) if !s.trim().is_empty() => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

/// graphql-js scalar serialisation (`JSON` = `JSON.stringify`).
fn serialize<'d, 'a>(scalar: Scalar, value: &'a Value) -> Result<Out<'d, 'a>, String> {
    match scalar {
        Scalar::String => match value {
            Value::String(s) => Ok(Out::Str(Cow::Borrowed(s.as_str()))),
            Value::Bool(b) => Ok(Out::Str(Cow::Owned(b.to_string()))),
            Value::Number(n) => Ok(Out::Str(Cow::Owned(n.as_i64().map_or_else(
                || js_number(n.as_f64().unwrap_or_default()),
                |i| i.to_string(),
            )))),
            other => Err(format!("String cannot represent value: {}", inspect(other))),
        },
        Scalar::Int => match numeric(value) {
            Some(f) if f.fract() == 0.0 && f >= f64::from(i32::MIN) && f <= f64::from(i32::MAX) => {
                Ok(Out::Int(f as i64))
            }
            Some(f) if f.fract() == 0.0 => Err(format!(
                "Int cannot represent non 32-bit signed integer value: {}",
                inspect(value)
            )),
            _ => Err(format!(
                "Int cannot represent non-integer value: {}",
                inspect(value)
            )),
        },
        Scalar::Float => match numeric(value) {
            Some(f) if f.is_finite() => Ok(Out::Float(f)),
            _ => Err(format!(
                "Float cannot represent non numeric value: {}",
                inspect(value)
            )),
        },
        Scalar::Boolean => match value {
            Value::Bool(b) => Ok(Out::Bool(*b)),
            Value::Number(n) if n.as_f64().is_some_and(f64::is_finite) => {
                Ok(Out::Bool(n.as_f64() != Some(0.0)))
            }
            other => Err(format!(
                "Boolean cannot represent a non boolean value: {}",
                inspect(other)
            )),
        },
        Scalar::Json => Ok(Out::Str(Cow::Owned(js_stringify(value)))),
    }
}
