//! The response tree and its JSON text, formatted like Node's `JSON.stringify`.

use std::borrow::Cow;

use serde_json::Value;

/// One node of a response (borrowing bundle strings to avoid copies).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Out<'q, 'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    List(Vec<Out<'q, 'a>>),
    Obj(Vec<(Cow<'q, str>, Out<'q, 'a>)>),
}

impl Out<'_, '_> {
    /// Drops `{}` items from every list (qontract-server's response post-processing).
    pub(crate) fn drop_empty_objects_in_lists(&mut self) {
        match self {
            Out::List(items) => {
                items.retain(|i| !matches!(i, Out::Obj(fields) if fields.is_empty()));
                for i in items {
                    i.drop_empty_objects_in_lists();
                }
            }
            Out::Obj(fields) => {
                for (_, v) in fields {
                    v.drop_empty_objects_in_lists();
                }
            }
            _ => {}
        }
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        match self {
            Out::Null => out.extend_from_slice(b"null"),
            Out::Bool(true) => out.extend_from_slice(b"true"),
            Out::Bool(false) => out.extend_from_slice(b"false"),
            Out::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Out::Float(f) => out.extend_from_slice(js_number(*f).as_bytes()),
            Out::Str(s) => write_str(s, out),
            Out::List(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Out::Obj(fields) => {
                out.push(b'{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(k, out);
                    out.push(b':');
                    v.write(out);
                }
                out.push(b'}');
            }
        }
    }

    /// Converts to a `serde_json::Value` (order preserved).
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Out::Null => Value::Null,
            Out::Bool(b) => Value::Bool(*b),
            Out::Int(i) => Value::from(*i),
            Out::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Out::Str(s) => Value::String(s.to_string()),
            Out::List(items) => Value::Array(items.iter().map(Out::to_value).collect()),
            Out::Obj(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

/// JSON string literal with `JSON.stringify`'s escaping (same as serde_json's).
pub(crate) fn write_str(s: &str, out: &mut Vec<u8>) {
    // serde_json never fails writing a str into a Vec
    let _ = serde_json::to_writer(&mut *out, s);
}

/// A number as JavaScript prints it: integral values without `.0`, exponent form from 1e21
/// and below 1e-6.
pub(crate) fn js_number(f: f64) -> String {
    if !f.is_finite() {
        return "null".to_owned();
    }
    if f == 0.0 {
        return "0".to_owned();
    }
    if f.fract() == 0.0 && f.abs() < 1e21 {
        return format!("{f:.0}");
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i32;
    let n = exp + 1;
    if k <= n && n <= 21 {
        format!("{sign}{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        let (a, b) = digits.split_at(n as usize);
        format!("{sign}{a}.{b}")
    } else if -6 < n && n <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let e = n - 1;
        format!(
            "{sign}{first}{frac}e{}{}",
            if e < 0 { '-' } else { '+' },
            e.abs()
        )
    }
}

fn is_array_index(key: &str) -> bool {
    !key.is_empty()
        && key.bytes().all(|b| b.is_ascii_digit())
        && (key == "0" || !key.starts_with('0'))
        && key.parse::<u64>().is_ok_and(|n| n < u64::from(u32::MAX))
}

/// `JSON.stringify(value)` as Node does it (the `JSON` scalar): integer-like keys first in
/// numeric order, then the others in insertion order; numbers in JavaScript form.
pub(crate) fn js_stringify(value: &Value) -> String {
    let mut out = Vec::new();
    js_stringify_into(value, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

fn js_stringify_into(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else if let Some(u) = n.as_u64() {
                out.extend_from_slice(js_number(u as f64).as_bytes());
            } else {
                out.extend_from_slice(js_number(n.as_f64().unwrap_or_default()).as_bytes());
            }
        }
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                js_stringify_into(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut indexed: Vec<(&String, &Value)> =
                map.iter().filter(|(k, _)| is_array_index(k)).collect();
            indexed.sort_by_key(|(k, _)| k.parse::<u64>().unwrap_or_default());
            let rest = map.iter().filter(|(k, _)| !is_array_index(k));
            out.push(b'{');
            for (i, (k, v)) in indexed.into_iter().chain(rest).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(k, out);
                out.push(b':');
                js_stringify_into(v, out);
            }
            out.push(b'}');
        }
    }
}
