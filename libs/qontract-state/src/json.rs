//! JSON text exactly like the Python tool's `json_dumps`: sorted keys, separators `", "` and
//! `": "`, `ensure_ascii=True` (everything outside printable ASCII escaped as `\uXXXX`).

use serde_json::Value;

/// Serializes `value` the way Python's `json.dumps(value, sort_keys=True)` does, byte for byte
/// (floats in Python's `repr` form included).
pub fn to_python_json(value: &Value) -> String {
    qontract_pyjson::dumps_sorted(value)
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
