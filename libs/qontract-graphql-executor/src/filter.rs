//! Top-level listing arguments: searchable fields, `path` and the `filter` JSON object.

use std::collections::HashSet;

use qontract_graphql_schema::{Conf, SchemaConfs};
use serde_json::Value;

use crate::bundle::Bundle;

/// A compiled filter predicate over a datafile (or referenced object).
#[derive(Debug)]
pub(crate) enum Predicate {
    /// `(source[field] ?? null) === value`
    Eq(String, Value),
    /// `(source[field] ?? null) !== value`
    Ne(String, Value),
    /// `source[field]` is one of the values
    In(String, Vec<Value>),
    /// `source[field]` is a list equal to the given list
    ListEq(String, Vec<Value>),
    /// `source[field]` (refs followed; every element of a list) matches all nested predicates
    Nested(String, Vec<Predicate>),
}

/// `BAD_FILTER_FIELD`: a filter key that is not a field of the type.
#[derive(Debug)]
pub(crate) struct BadFilterField {
    pub(crate) field: String,
    pub(crate) type_name: String,
}

/// Fields that may be filtered on: the type's own, plus every implementation's for interfaces.
fn filterable_fields<'s>(schema: &'s SchemaConfs, conf: &'s Conf) -> HashSet<&'s str> {
    let mut names: HashSet<&str> = conf.fields.iter().map(|f| f.name.as_str()).collect();
    if conf.is_interface {
        for imp in schema.implementors(&conf.name) {
            names.extend(imp.fields.iter().map(|f| f.name.as_str()));
        }
    }
    names
}

fn field_type_of<'s>(schema: &'s SchemaConfs, conf: &'s Conf, field: &str) -> Option<&'s Conf> {
    let f = conf.field(field).or_else(|| {
        conf.is_interface
            .then(|| schema.implementors(&conf.name).find_map(|c| c.field(field)))
            .flatten()
    })?;
    schema.get(&f.type_name)
}

/// Compiles a `filter` object for `conf`.
pub(crate) fn compile(
    schema: &SchemaConfs,
    conf: &Conf,
    filter: &Value,
) -> Result<Vec<Predicate>, BadFilterField> {
    let Value::Object(map) = filter else {
        // a non-object filter matches nothing
        return Ok(vec![Predicate::In(String::new(), Vec::new())]);
    };
    let allowed = filterable_fields(schema, conf);
    let mut out = Vec::with_capacity(map.len());
    for (field, value) in map {
        if !allowed.contains(field.as_str()) {
            return Err(BadFilterField {
                field: field.clone(),
                type_name: conf.name.clone(),
            });
        }
        let predicate = match value {
            Value::Object(op) if op.len() == 1 && op.contains_key("ne") => {
                Predicate::Ne(field.clone(), op["ne"].clone())
            }
            Value::Object(op) if op.len() == 1 && op.contains_key("in") => match &op["in"] {
                Value::Array(values) => Predicate::In(field.clone(), values.clone()),
                other => Predicate::In(field.clone(), vec![other.clone()]),
            },
            Value::Object(op) if op.len() == 1 && op.contains_key("filter") => {
                let nested = match field_type_of(schema, conf, field) {
                    Some(target) => compile(schema, target, &op["filter"])?,
                    None => vec![Predicate::In(String::new(), Vec::new())],
                };
                Predicate::Nested(field.clone(), nested)
            }
            Value::Array(values) => Predicate::ListEq(field.clone(), values.clone()),
            other => Predicate::Eq(field.clone(), other.clone()),
        };
        out.push(predicate);
    }
    Ok(out)
}

/// JavaScript `===` between a field value (missing = `null`) and a filter value.
pub(crate) fn strict_eq(a: Option<&Value>, b: &Value) -> bool {
    match (a.unwrap_or(&Value::Null), b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::String(y)) => x == y,
        _ => false,
    }
}

fn deref<'a>(bundle: &'a Bundle, v: &'a Value) -> Option<&'a Value> {
    match v {
        Value::Object(o) if o.len() == 1 => match o.get("$ref") {
            Some(Value::String(r)) => bundle.resolve_ref(r),
            _ => Some(v),
        },
        _ => Some(v),
    }
}

/// Whether `source` satisfies every predicate.
pub(crate) fn matches(bundle: &Bundle, predicates: &[Predicate], source: &Value) -> bool {
    predicates.iter().all(|p| match p {
        Predicate::Eq(f, v) => strict_eq(source.get(f), v),
        Predicate::Ne(f, v) => !strict_eq(source.get(f), v),
        Predicate::In(f, values) => values.iter().any(|v| strict_eq(source.get(f), v)),
        Predicate::ListEq(f, values) => match source.get(f) {
            Some(Value::Array(items)) => {
                items.len() == values.len()
                    && items.iter().zip(values).all(|(a, b)| strict_eq(Some(a), b))
            }
            _ => false,
        },
        Predicate::Nested(f, nested) => match source.get(f) {
            Some(Value::Array(items)) => items
                .iter()
                .all(|i| deref(bundle, i).is_some_and(|t| matches(bundle, nested, t))),
            Some(v) if !v.is_null() => deref(bundle, v).is_some_and(|t| matches(bundle, nested, t)),
            _ => false,
        },
    })
}
