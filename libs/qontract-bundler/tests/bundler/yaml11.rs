//! Each YAML 1.1 rule of PyYAML's SafeLoader.

use qontract_bundler::yaml11::load;
use serde_json::{Value, json};

fn one(scalar: &str) -> Value {
    match load(&format!("v: {scalar}\n")) {
        Ok(Some(v)) => v["v"].clone(),
        other => panic!("{scalar}: {other:?}"),
    }
}

fn error(text: &str) -> String {
    match load(text) {
        Err(e) => e.to_string(),
        Ok(v) => panic!("expected an error for {text:?}, got {v:?}"),
    }
}

#[test]
fn booleans_include_yes_no_on_off() {
    for t in [
        "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE",
    ] {
        assert_eq!(one(t), json!(true), "{t}");
    }
    for f in [
        "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE",
    ] {
        assert_eq!(one(f), json!(false), "{f}");
    }
    // not booleans
    for s in ["y", "n", "yEs", "oN"] {
        assert_eq!(one(s), json!(s), "{s}");
    }
    // quoted stays a string
    assert_eq!(one("'yes'"), json!("yes"));
}

#[test]
fn integers_octal_hex_binary_sexagesimal() {
    assert_eq!(one("0755"), json!(493));
    assert_eq!(one("0o755"), json!("0o755"));
    assert_eq!(one("0x1F"), json!(31));
    assert_eq!(one("0b101"), json!(5));
    assert_eq!(one("1_000"), json!(1000));
    assert_eq!(one("-42"), json!(-42));
    assert_eq!(one("+7"), json!(7));
    assert_eq!(one("0"), json!(0));
    assert_eq!(one("1:30"), json!(90));
    assert_eq!(one("190:20:30"), json!(685230));
    // 08 is neither octal nor decimal in YAML 1.1
    assert_eq!(one("08"), json!("08"));
    assert_eq!(one("12345678901234567890"), json!(12345678901234567890u64));
}

#[test]
fn floats_need_a_dot_and_a_signed_exponent() {
    assert_eq!(one("1.5"), json!(1.5));
    assert_eq!(one("1."), json!(1.0));
    assert_eq!(one(".5"), json!(0.5));
    assert_eq!(one("1.0e+3"), json!(1000.0));
    assert_eq!(one("1_0.5"), json!(10.5));
    assert_eq!(one("1:30.5"), json!(90.5));
    // YAML 1.2 floats that YAML 1.1 reads as strings
    assert_eq!(one("1e9"), json!("1e9"));
    assert_eq!(one("1.0e3"), json!("1.0e3"));
    assert_eq!(one("-.5"), json!("-.5"));
    // infinities and NaN cannot be bundled as JSON
    assert!(error("v: .inf\n").contains("non-finite"));
}

#[test]
fn nulls_and_strings() {
    for n in ["~", "null", "Null", "NULL", ""] {
        assert_eq!(one(n), Value::Null, "{n:?}");
    }
    assert_eq!(one("nULL"), json!("nULL"));
    assert_eq!(one("\"1.5\""), json!("1.5"));
    assert_eq!(one("!!str 0755"), json!("0755"));
    assert_eq!(one("! 12"), json!("12"));
    assert_eq!(one("!!int \"12\""), json!(12));
    assert_eq!(one("!!float 3"), json!(3.0));
}

#[test]
fn timestamps_are_rejected_with_a_hint() {
    for ts in [
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.10 -5",
        "2001-12-15T02:59:43.1Z",
    ] {
        let msg = error(&format!("v: {ts}\n"));
        assert!(
            msg.contains("unquoted timestamp") && msg.contains("line 1"),
            "{ts}: {msg}"
        );
    }
    // not a timestamp: a string
    assert_eq!(one("2001-1-1"), json!("2001-1-1"));
    assert_eq!(one("'2001-12-14'"), json!("2001-12-14"));
}

#[test]
fn merge_keys_anchors_and_duplicates() {
    let text = "base: &b {a: 1, b: 2}\nother: &o {c: 3}\nm:\n  <<: [*b, *o]\n  b: 20\n  d: 4\ndup: {x: 1, y: 2, x: 3}\nalias: *b\n";
    let v = load(text).unwrap().unwrap();
    assert_eq!(
        serde_json::to_string(&v["m"]).unwrap(),
        r#"{"c":3,"a":1,"b":20,"d":4}"#
    );
    // a duplicate key keeps its first position and its last value, like a Python dict
    assert_eq!(
        serde_json::to_string(&v["dup"]).unwrap(),
        r#"{"x":3,"y":2}"#
    );
    assert_eq!(v["alias"], json!({"a": 1, "b": 2}));
}

#[test]
fn non_string_keys_become_json_keys() {
    let v = load("1: a\ntrue: b\n~: c\n1.5: d\n").unwrap().unwrap();
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"{"1":"a","true":"b","null":"c","1.5":"d"}"#
    );
}

#[test]
fn empty_documents_and_errors() {
    assert_eq!(load("").unwrap(), None);
    assert_eq!(load("# only a comment\n").unwrap(), None);
    insta::assert_snapshot!(error("a: 1\n---\nb: 2\n"), @"line 2 column 1: expected a single document in the stream, but found another document");
    insta::assert_snapshot!(error("a: [1, 2\n"), @"line 1 column 4: unclosed bracket '['");
    insta::assert_snapshot!(error("a: !!binary aGVsbG8=\n"), @"line 1 column 13: could not determine a constructor for the tag 'tag:yaml.org,2002:binary'");
    insta::assert_snapshot!(error("? [a, b]\n: c\n"), @"line 1 column 3: found unhashable key (a sequence or mapping used as a key)");
    insta::assert_snapshot!(error("a: *nope\n"), @"line 1 column 4: while parsing node, found unknown anchor");
}
