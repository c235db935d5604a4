use super::*;

#[test]
fn extension_tags_are_rewritten_outside_raw_blocks_and_strings() {
    let out = tags::rewrite(
        "{%- b64encode +%}x{% endb64encode -%}{% raw %}{% raise_error 'no' %}{% endraw %}\
         {{ '{% b64encode %}' }}{% raise_error 'a ' ~ b %}",
        Flavour::Jinja2,
    )
    .unwrap();
    assert_eq!(
        out,
        "{%- filter __b64encode_block +%}x{% endfilter -%}{% raw %}{% raise_error 'no' %}{% endraw %}\
         {{ '{% b64encode %}' }}{{ __raise_error('a ' ~ b) }}"
    );
    // In the extra-curly flavour only the triple delimiters are tags.
    let out = tags::rewrite(
        "{% b64encode %}{{% b64encode %}}{{{ x }}}{{% endb64encode %}}",
        Flavour::ExtraCurlyJinja2,
    )
    .unwrap();
    assert_eq!(
        out,
        "{% b64encode %}{{% filter __b64encode_block %}}{{{ x }}}{{% endfilter %}}"
    );
}

#[test]
fn dedent_is_pythons_textwrap_dedent() {
    // textwrap.dedent("  a\n    b\n  \n\tc") keeps the tab line (no common margin) ...
    assert_eq!(tags::dedent("  a\n    b\n  \n  c\n"), "a\n  b\n\nc\n");
    assert_eq!(tags::dedent("  a\n\tb"), "  a\n\tb");
    assert_eq!(tags::dedent("   \n"), "\n");
}

#[test]
fn civil_dates() {
    assert_eq!(helpers::civil_from_days(0), (1970, 1, 1));
    assert_eq!(helpers::civil_from_days(11_016), (2000, 2, 29));
    assert_eq!(helpers::civil_from_days(20_793), (2026, 12, 6));
}

#[test]
fn unsupported_jsonpath_syntax_is_an_error_naming_the_expression() {
    for expression in ["a where b", "a[", "items[?(@.x ~ 1)]", "`parent`"] {
        let err = JsonPath::parse(expression).unwrap_err().to_string();
        assert!(err.contains(expression), "{err}");
    }
}

#[test]
fn variables_are_read_as_anymarkup_reads_them() {
    // anymarkup.parse(text, force_types=None) reads JSON text with PyYAML's safe loader.
    let vars = parse_variables(Some(r#"{"a": 1, "b": "x", "c": [true, null]}"#)).unwrap();
    assert_eq!(
        serde_json::Value::Object(vars),
        serde_json::json!({"a": 1, "b": "x", "c": [true, null]})
    );
    // ... so a JSON exponent without a dot is a string, as PyYAML reads it (computed with
    // anymarkup.parse('{"a": 1e3, "c": 1.5}', force_types=None) == {'a': '1e3', 'c': 1.5}).
    let vars = parse_variables(Some(r#"{"a": 1e3, "c": 1.5}"#)).unwrap();
    assert_eq!(
        serde_json::Value::Object(vars),
        serde_json::json!({"a": "1e3", "c": 1.5})
    );
    assert!(parse_variables(None).unwrap().is_empty());
    assert!(
        parse_variables(Some("[1]"))
            .unwrap_err()
            .to_string()
            .contains("not a mapping")
    );
}

#[test]
fn resource_carries_its_namespace() {
    let resource =
        serde_json::json!({"provider": "resource-template", "resource": {"path": "/a.yml"}});
    let namespace = serde_json::json!({"name": "ns", "cluster": {"name": "c"}});
    let vars = resource_template_vars(Some(r#"{"x": 1}"#), &resource, &namespace).unwrap();
    let out = Renderer::default()
        .render(
            "{{ x }} {{ resource.namespace.cluster.name }}/{{ resource.namespace.name }} {{ resource.resource.path }}",
            vars,
            Flavour::Jinja2,
            RenderOptions::default(),
        )
        .unwrap();
    assert_eq!(out, "1 c/ns /a.yml");
}

#[test]
fn errors_are_typed_and_name_what_they_are_about() {
    // The variables: not a mapping (shown as Python's str()) or not YAML.
    assert_eq!(
        parse_variables(Some("[1, 'a']")).unwrap_err(),
        VariablesError::NotAMapping {
            value: "[1, 'a']".to_owned()
        }
    );
    let err = parse_variables(Some("{a: [")).unwrap_err();
    assert!(matches!(err, VariablesError::Unparsable { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("template variables cannot be parsed: line "),
        "{err}"
    );
    // A context without services names the helper and what it was to read.
    let err = NoContext.read_secret("app-sre/shop/db", None).unwrap_err();
    assert!(
        matches!(
            &err,
            ContextError::Unavailable { helper: Some("vault()"), target: Some(t), .. }
                if t == "app-sre/shop/db"
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "vault(): no secret reader is available for app-sre/shop/db"
    );
    // jsonpath_ng's KeyError on an index into an object, at find time.
    let err = JsonPath::parse("a[0]")
        .unwrap()
        .find(&serde_json::json!({"a": {"b": 1}}))
        .unwrap_err();
    assert_eq!(err, FindError::IndexOnObject { index: 0 });
    // The b64encode tag takes no arguments.
    let err = Renderer::default()
        .render(
            "{% b64encode x %}a{% endb64encode %}",
            serde_json::Map::new(),
            Flavour::Jinja2,
            RenderOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "error processing jinja2 template: unexpected arguments to b64encode: x"
    );
}
