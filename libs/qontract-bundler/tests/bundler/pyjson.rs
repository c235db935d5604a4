//! Python `json.dumps(sort_keys=True, separators=(",", ":"))` compatibility.

use qontract_bundler::pyjson::{float_repr, to_string};
use serde_json::json;

#[test]
fn float_repr_matches_python() {
    // expected values are Python's repr()
    let cases = [
        (1.0, "1.0"),
        (0.5, "0.5"),
        (-2.25, "-2.25"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (123456789012345680.0, "1.2345678901234568e+17"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1.5e-7, "1.5e-07"),
        (0.1 + 0.2, "0.30000000000000004"),
        (-0.0, "-0.0"),
        (5400.0, "5400.0"),
        (1e300, "1e+300"),
    ];
    for (f, want) in cases {
        assert_eq!(float_repr(f), want, "repr({f:?})");
    }
}

#[test]
fn strings_are_escaped_like_ensure_ascii() {
    let v = json!({"b": "é\u{1F600}\"\\\n\t\u{1}\u{7f}/", "a": [1, 2.5, null, true]});
    insta::assert_snapshot!(to_string(&v), @r#"{"a":[1,2.5,null,true],"b":"\u00e9\ud83d\ude00\"\\\n\t\u0001\u007f/"}"#);
}
