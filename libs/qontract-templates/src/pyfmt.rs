//! Python's `str()` of template values: what Jinja2 prints for `{{ value }}` (`True`, `None`,
//! `['a', 'b']`, `{'k': 1}`, `1.0`) where MiniJinja would print `true`, `none`, `["a", "b"]`.

use minijinja::value::ValueKind;
use minijinja::{Error, Output, State, Value};

/// MiniJinja value → JSON (maps keep their order; undefined and none become null).
pub(crate) fn to_json(value: &Value) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// JSON → MiniJinja value.
pub(crate) fn from_json(value: &serde_json::Value) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// Python's `str(value)`.
pub(crate) fn py_str(value: &Value) -> String {
    match value.kind() {
        ValueKind::String => value.as_str().unwrap_or_default().to_owned(),
        ValueKind::Undefined => String::new(),
        ValueKind::None => "None".to_owned(),
        ValueKind::Bool => if value.is_true() { "True" } else { "False" }.to_owned(),
        ValueKind::Number if value.is_integer() => value.to_string(),
        ValueKind::Number => match f64::try_from(value.clone()) {
            Ok(f) if f.is_nan() => "nan".to_owned(),
            Ok(f) if f.is_infinite() => if f > 0.0 { "inf" } else { "-inf" }.to_owned(),
            Ok(f) => qontract_pyjson::python_float_repr(f),
            Err(_) => value.to_string(),
        },
        ValueKind::Seq | ValueKind::Map => qontract_pyjson::python_str(&to_json(value)),
        _ => value.to_string(),
    }
}

/// Python's `repr(value)` (strings quoted).
pub(crate) fn py_repr(value: &Value) -> String {
    match value.kind() {
        ValueKind::String => {
            let list = qontract_pyjson::python_str(&serde_json::Value::Array(vec![
                serde_json::Value::String(value.as_str().unwrap_or_default().to_owned()),
            ]));
            list[1..list.len() - 1].to_owned()
        }
        _ => py_str(value),
    }
}

/// The output formatter: strict-undefined errors as MiniJinja raises them, everything else as
/// Python's `str()` (Jinja2 without autoescape).
pub(crate) fn formatter(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    if value.is_undefined() {
        return minijinja::escape_formatter(out, state, value);
    }
    out.write_str(&py_str(value)).map_err(Error::from)
}
