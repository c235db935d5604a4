//! JSON text exactly like the Python tool's `json_dumps`: sorted keys, separators `", "` and
//! `": "`, `ensure_ascii=True` (everything outside printable ASCII escaped as `\uXXXX`).

use std::fmt::Write as _;

use serde_json::Value;

/// Serializes `value` the way Python's `json.dumps(value, sort_keys=True)` does.
///
/// Floats use Rust's shortest round-trip form, which can differ from Python's `repr` for very
/// large/small magnitudes (`1e16` vs `1e+16`); integers and everything else match byte for byte.
pub fn to_python_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(out, key);
                out.push_str(": ");
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            other => {
                let mut units = [0u16; 2];
                for unit in other.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::to_python_json;
    use serde_json::json;

    #[test]
    fn matches_python_json_dumps_sort_keys() {
        // Expected strings produced by `json.dumps(v, sort_keys=True)` in CPython 3.12.
        let cases = [
            (
                json!({"b": 1, "a": [1, 2, {}], "c": null}),
                r#"{"a": [1, 2, {}], "b": 1, "c": null}"#,
            ),
            (
                json!("héllo\n\"x\"\u{1F600}\u{7f}"),
                r#""h\u00e9llo\n\"x\"\ud83d\ude00\u007f""#,
            ),
            (
                json!([true, false, -3, 2.5, []]),
                r#"[true, false, -3, 2.5, []]"#,
            ),
            (
                json!({"Z": {"y": "\t", "x": "\u{1}"}}),
                r#"{"Z": {"x": "\u0001", "y": "\t"}}"#,
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(to_python_json(&value), expected);
        }
    }
}
