//! JSON text exactly as Python's `json.dumps(obj, sort_keys=True, separators=(",", ":"))`:
//! the bundle's identity is the sha256 of its bytes. The writer is `qontract-pyjson`, shared
//! with the `qontract.sha256sum` and the state store.

use serde_json::Value;

/// Serialises `value` like Python's `json.dumps(value, sort_keys=True, separators=(",", ":"))`.
pub fn to_string(value: &Value) -> String {
    qontract_pyjson::dumps_sorted_compact(value)
}

/// Appends the Python-compatible compact JSON text of `value` to `out`.
pub fn write_value(value: &Value, out: &mut String) {
    qontract_pyjson::write_value_with(value, out, qontract_pyjson::Separators::Compact);
}

/// Python's `repr(float)` (`1.0`, `1e+16`, `1e-05`).
pub fn float_repr(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".to_owned()
        } else if f > 0.0 {
            "Infinity".to_owned()
        } else {
            "-Infinity".to_owned()
        };
    }
    qontract_pyjson::python_float_repr(f)
}
