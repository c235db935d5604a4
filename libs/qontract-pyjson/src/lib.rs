//! Serialisation that reproduces Python's `json.dumps(value, sort_keys=True)` byte for byte,
//! with the default separators (`qontract.sha256sum`, the state store) or the compact ones
//! `separators=(",", ":")` (bundles). One implementation for every place whose bytes must match
//! the Python tool's.
//!
//! Python's defaults are: separators `", "` and `": "`, `ensure_ascii=True` (every character
//! outside printable ASCII is written as `\uXXXX`, lowercase hex, characters outside the Basic
//! Multilingual Plane as a UTF-16 surrogate pair), object keys sorted by code point, integers
//! written as integers and floats written with `float.__repr__` (`1.0`, `1e-05`, `1e+22`, `-0.0`).
//!
//! `serde_json::Value` cannot hold NaN or infinities (`Number::from_f64` rejects them), so the
//! `NaN` / `Infinity` tokens Python would emit never occur here. Integers beyond the `i64`/`u64`
//! range are parsed by `serde_json` (without `arbitrary_precision`) as floats and are therefore
//! written as floats; Kubernetes objects never carry such numbers.
//!
//! Checked against Python 3 `json.dumps` on 200 000 random float bit patterns and 20 000 random
//! nested documents (control characters, astral-plane text, big integers). Note that
//! `serde_json` without its `float_roundtrip` feature may parse a float with 16-17 significant
//! digits one ulp off; the repr of the parsed value is still exact, but it can then differ from
//! what Python printed for the same source text. Short decimals such as `0.5` are unaffected.

use std::fmt::Write as _;

use serde_json::{Number, Value};

/// A sink for the serialised text (which is always ASCII). Implemented for `String`; other
/// sinks, such as a hasher fed incrementally, can implement it too.
pub trait PyJsonSink {
    /// Appends ASCII text (the serialiser only ever produces ASCII).
    fn push_ascii(&mut self, text: &str);
}

impl PyJsonSink for String {
    fn push_ascii(&mut self, text: &str) {
        self.push_str(text);
    }
}

/// The separators of `json.dumps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separators {
    /// Python's default `", "` and `": "`.
    Default,
    /// `separators=(",", ":")`.
    Compact,
}

impl Separators {
    fn item(self) -> &'static str {
        match self {
            Separators::Default => ", ",
            Separators::Compact => ",",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Separators::Default => ": ",
            Separators::Compact => ":",
        }
    }
}

/// Serialises `value` exactly like Python's `json.dumps(value, sort_keys=True)`.
pub fn dumps_sorted(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_value(value, &mut out);
    out
}

/// Serialises `value` exactly like `json.dumps(value, sort_keys=True, separators=(",", ":"))`.
pub fn dumps_sorted_compact(value: &Value) -> String {
    let mut out = String::with_capacity(1 << 12);
    write_value_with(value, &mut out, Separators::Compact);
    out
}

/// Streams the `json.dumps(value, sort_keys=True)` text of `value` into `sink`.
pub fn write_value<S: PyJsonSink>(value: &Value, sink: &mut S) {
    write_value_with(value, sink, Separators::Default);
}

/// Streams the `json.dumps(value, sort_keys=True, separators=...)` text of `value` into `sink`.
pub fn write_value_with<S: PyJsonSink>(value: &Value, sink: &mut S, separators: Separators) {
    match value {
        Value::Null => sink.push_ascii("null"),
        Value::Bool(true) => sink.push_ascii("true"),
        Value::Bool(false) => sink.push_ascii("false"),
        Value::Number(number) => sink.push_ascii(&python_number_repr(number)),
        Value::String(text) => write_string(text, sink),
        Value::Array(items) => {
            sink.push_ascii("[");
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    sink.push_ascii(separators.item());
                }
                write_value_with(item, sink, separators);
            }
            sink.push_ascii("]");
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // Rust compares `str` by UTF-8 bytes, which is the same order as Python's
            // comparison of code points.
            entries.sort_unstable_by(|left, right| left.0.cmp(right.0));
            sink.push_ascii("{");
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    sink.push_ascii(separators.item());
                }
                write_string(key, sink);
                sink.push_ascii(separators.key());
                write_value_with(item, sink, separators);
            }
            sink.push_ascii("}");
        }
    }
}

/// Writes a JSON string literal with Python's `ensure_ascii=True` escaping.
pub fn write_str<S: PyJsonSink>(text: &str, sink: &mut S) {
    write_string(text, sink);
}

fn write_string<S: PyJsonSink>(text: &str, sink: &mut S) {
    sink.push_ascii("\"");
    let bytes = text.as_bytes();
    let mut plain_start = 0;
    let mut position = 0;
    let mut escape = String::new();
    while position < bytes.len() {
        let byte = bytes[position];
        // Printable ASCII except `"` and `\` is written as is.
        if (b' '..=b'~').contains(&byte) && byte != b'"' && byte != b'\\' {
            position += 1;
            continue;
        }
        if plain_start < position {
            sink.push_ascii(&text[plain_start..position]);
        }
        // `position` is at a char boundary: every byte before it was ASCII or a whole char.
        let character = text[position..].chars().next().unwrap_or('\u{fffd}');
        position += character.len_utf8();
        plain_start = position;
        escape.clear();
        match character {
            '"' => escape.push_str("\\\""),
            '\\' => escape.push_str("\\\\"),
            '\n' => escape.push_str("\\n"),
            '\r' => escape.push_str("\\r"),
            '\t' => escape.push_str("\\t"),
            '\u{08}' => escape.push_str("\\b"),
            '\u{0c}' => escape.push_str("\\f"),
            other => {
                let mut units = [0u16; 2];
                for unit in other.encode_utf16(&mut units) {
                    // Writing to a String cannot fail.
                    let _ = write!(escape, "\\u{unit:04x}");
                }
            }
        }
        sink.push_ascii(&escape);
    }
    if plain_start < text.len() {
        sink.push_ascii(&text[plain_start..]);
    }
    sink.push_ascii("\"");
}

/// Python's `repr()` of a JSON number: integers as digits, floats as `float.__repr__`.
pub fn python_number_repr(number: &Number) -> String {
    if let Some(integer) = number.as_i64() {
        return integer.to_string();
    }
    if let Some(integer) = number.as_u64() {
        return integer.to_string();
    }
    python_float_repr(number.as_f64().unwrap_or(f64::NAN))
}

/// Python's `float.__repr__`: the shortest digits that round-trip, written in positional
/// notation when the decimal exponent is in `-4..16` (always with a fractional part, `1.0`)
/// and in scientific notation otherwise (`1e-05`, `1.5e+16`).
pub fn python_float_repr(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .to_owned();
    }
    // `{:e}` yields the shortest round-trip digit count, e.g. `1.2345e-7` or `3e22`. When two
    // strings of that length round-trip, Python picks the one nearest to the exact binary
    // value (ties to even); formatting the exact value to that many digits does the same.
    let shortest = format!("{value:e}");
    let significant_digits = shortest
        .split_once('e')
        .map_or(shortest.as_str(), |(mantissa, _)| mantissa)
        .chars()
        .filter(char::is_ascii_digit)
        .count();
    let scientific = format!("{value:.*e}", significant_digits.saturating_sub(1));
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::with_capacity(digits.len() + 8);
    out.push_str(sign);
    if (-4..16).contains(&exponent) {
        if exponent < 0 {
            out.push_str("0.");
            for _ in 0..(-exponent - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let integer_len = usize::try_from(exponent).unwrap_or(0) + 1;
            if digits.len() <= integer_len {
                out.push_str(&digits);
                for _ in digits.len()..integer_len {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..integer_len]);
                out.push('.');
                out.push_str(&digits[integer_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{exponent_sign}{:02}", exponent.unsigned_abs());
    }
    out
}

/// Python's `str()` of a JSON value, as used when `stringData` values are base64-encoded
/// (`str(True)` is `"True"`, `str(None)` is `"None"`, containers use `repr`).
pub fn python_str(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => python_repr(other),
    }
}

/// Python's `repr()` of a JSON value (dicts keep insertion order, like Python dicts).
fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(number) => {
            if number.is_f64() {
                let repr = python_float_repr(number.as_f64().unwrap_or(f64::NAN));
                // Python's repr of a float is `inf`/`nan`, not the JSON tokens.
                match repr.as_str() {
                    "NaN" => "nan".to_owned(),
                    "Infinity" => "inf".to_owned(),
                    "-Infinity" => "-inf".to_owned(),
                    _ => repr,
                }
            } else {
                python_number_repr(number)
            }
        }
        Value::String(text) => python_string_repr(text),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(python_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(key, item)| format!("{}: {}", python_string_repr(key), python_repr(item)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// Python's `repr()` of a `str`: single quotes unless the text contains a single quote and no
/// double quote; backslash, the quote and non-printable characters escaped.
fn python_string_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for character in text.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    // The tie cases are exact binary values whose shortest repr has fewer digits on purpose.
    #[allow(clippy::excessive_precision)]
    fn floats_follow_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (2.5, "2.5"),
            (1e-7, "1e-07"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (-0.0, "-0.0"),
            (1.234567890123, "1.234567890123"),
            (1e22, "1e+22"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e16, "1.5e+16"),
            (123.456, "123.456"),
            (0.1, "0.1"),
            (-2.5e-10, "-2.5e-10"),
            (f64::INFINITY, "Infinity"),
            // Two shortest candidates at equal distance: Python takes the even digit.
            (1743746592103460.25, "1743746592103460.2"),
            (-1072012167405248.25, "-1072012167405248.2"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (9007199254740993.0, "9007199254740992.0"),
            (0.30000000000000004, "0.30000000000000004"),
            (1e23, "1e+23"),
        ];
        for (value, expected) in cases {
            assert_eq!(python_float_repr(value), expected, "repr of {value:e}");
        }
    }

    #[test]
    fn strings_are_ascii_escaped_with_surrogate_pairs() {
        let value = json!({"b": "é☃😀\u{7f}\u{1}\"\\/", "a": [1, 1.0, null, true]});
        assert_eq!(
            dumps_sorted(&value),
            r#"{"a": [1, 1.0, null, true], "b": "\u00e9\u2603\ud83d\ude00\u007f\u0001\"\\/"}"#
        );
    }

    #[test]
    fn python_str_matches_python() {
        assert_eq!(python_str(&json!(true)), "True");
        assert_eq!(python_str(&json!(null)), "None");
        assert_eq!(python_str(&json!(1.0)), "1.0");
        assert_eq!(
            python_str(&json!(["a", 1, {"k": "it's"}])),
            r#"['a', 1, {'k': "it's"}]"#
        );
    }
}

#[cfg(test)]
mod separator_tests {
    use super::*;

    #[test]
    fn compact_and_default_separators() {
        let v: Value = serde_json::from_str(r#"{"b": [1, 2.5, "é"], "a": {"x": null}}"#).unwrap();
        assert_eq!(
            dumps_sorted(&v),
            r#"{"a": {"x": null}, "b": [1, 2.5, "\u00e9"]}"#
        );
        assert_eq!(
            dumps_sorted_compact(&v),
            r#"{"a":{"x":null},"b":[1,2.5,"\u00e9"]}"#
        );
    }
}
