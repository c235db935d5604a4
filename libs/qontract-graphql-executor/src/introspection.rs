//! `__schema` / `__type` introspection, answered from a JSON model of the schema.
//!
//! The model follows graphql-js: every conf is an `OBJECT` or `INTERFACE` with its fields,
//! arguments and interface/possible-type links; type references nest `NON_NULL`/`LIST`
//! wrappers through `ofType`. The standard scalars that are used, `JSON`, and the standard
//! directives are listed; the introspection types themselves (`__Type`...) are not.

use qontract_graphql_schema::{FieldType, Scalar, SchemaConfs};
use serde_json::{Value, json};

fn named_ref(kind: &str, name: &str) -> Value {
    json!({"__typename": "__Type", "kind": kind, "name": name, "ofType": null})
}

fn kind_of(schema: &SchemaConfs, name: &str) -> &'static str {
    match schema.get(name) {
        Some(c) if c.is_interface => "INTERFACE",
        Some(_) => "OBJECT",
        None => "SCALAR",
    }
}

fn wrap(kind: &str, inner: Value) -> Value {
    json!({"__typename": "__Type", "kind": kind, "name": null, "ofType": inner})
}

fn type_ref(schema: &SchemaConfs, ty: &FieldType<'_>) -> Value {
    let mut v = named_ref(kind_of(schema, ty.name), ty.name);
    if ty.list {
        v = wrap("LIST", wrap("NON_NULL", v));
    }
    if ty.required {
        v = wrap("NON_NULL", v);
    }
    v
}

fn input_value(name: &str, ty: Value, default: Option<&str>, description: Option<&str>) -> Value {
    json!({
        "__typename": "__InputValue",
        "name": name,
        "description": description,
        "type": ty,
        "defaultValue": default,
        "isDeprecated": false,
        "deprecationReason": null,
    })
}

fn scalar_type(name: &str, description: Option<&str>) -> Value {
    json!({
        "__typename": "__Type", "kind": "SCALAR", "name": name, "description": description,
        "specifiedByURL": null, "fields": null, "inputFields": null, "interfaces": null,
        "enumValues": null, "possibleTypes": null, "ofType": null, "isOneOf": null,
    })
}

/// The full `__Schema` object of `schema`.
pub(crate) fn build(schema: &SchemaConfs) -> Value {
    let mut types = Vec::new();
    let mut uses_int = false;
    let mut uses_float = false;
    for conf in &schema.confs {
        let mut fields = Vec::new();
        for f in &conf.fields {
            let ty = f.graphql_type();
            uses_int |= ty.scalar == Some(Scalar::Int);
            uses_float |= ty.scalar == Some(Scalar::Float);
            let args: Vec<Value> = schema
                .field_arguments(f)
                .iter()
                .map(|a| {
                    input_value(
                        a.name,
                        named_ref("SCALAR", a.scalar.graphql_name()),
                        None,
                        None,
                    )
                })
                .collect();
            fields.push(json!({
                "__typename": "__Field",
                "name": f.name,
                "description": null,
                "args": args,
                "type": type_ref(schema, &ty),
                "isDeprecated": false,
                "deprecationReason": null,
            }));
        }
        let interfaces: Vec<Value> = schema
            .interfaces_of(conf)
            .map(|i| named_ref("INTERFACE", i))
            .collect();
        let possible: Value = if conf.is_interface {
            Value::Array(
                schema
                    .implementors(&conf.name)
                    .filter(|c| !c.is_interface)
                    .map(|c| named_ref("OBJECT", &c.name))
                    .collect(),
            )
        } else {
            Value::Null
        };
        types.push(json!({
            "__typename": "__Type",
            "kind": if conf.is_interface { "INTERFACE" } else { "OBJECT" },
            "name": conf.name,
            "description": null,
            "specifiedByURL": null,
            "fields": fields,
            "inputFields": null,
            "interfaces": interfaces,
            "enumValues": null,
            "possibleTypes": possible,
            "ofType": null,
            "isOneOf": null,
        }));
    }
    types.push(scalar_type(
        "String",
        Some("The `String` scalar type represents textual data, represented as UTF-8 character sequences. The String type is most often used by GraphQL to represent free-form human-readable text."),
    ));
    types.push(scalar_type(
        "Boolean",
        Some("The `Boolean` scalar type represents `true` or `false`."),
    ));
    if uses_int {
        types.push(scalar_type(
            "Int",
            Some("The `Int` scalar type represents non-fractional signed whole numeric values. Int can represent values between -(2^31) and 2^31 - 1."),
        ));
    }
    if uses_float {
        types.push(scalar_type(
            "Float",
            Some("The `Float` scalar type represents signed double-precision fractional values as specified by [IEEE 754](https://en.wikipedia.org/wiki/IEEE_floating_point)."),
        ));
    }
    types.push(scalar_type("JSON", None));

    let non_null = |name: &str| wrap("NON_NULL", named_ref("SCALAR", name));
    let directive = |name: &str, description: &str, locations: &[&str], args: Vec<Value>| {
        json!({
            "__typename": "__Directive",
            "name": name,
            "description": description,
            "isRepeatable": false,
            "locations": locations,
            "args": args,
        })
    };
    let directives = vec![
        directive(
            "include",
            "Directs the executor to include this field or fragment only when the `if` argument is true.",
            &["FIELD", "FRAGMENT_SPREAD", "INLINE_FRAGMENT"],
            vec![input_value(
                "if",
                non_null("Boolean"),
                None,
                Some("Included when true."),
            )],
        ),
        directive(
            "skip",
            "Directs the executor to skip this field or fragment when the `if` argument is true.",
            &["FIELD", "FRAGMENT_SPREAD", "INLINE_FRAGMENT"],
            vec![input_value(
                "if",
                non_null("Boolean"),
                None,
                Some("Skipped when true."),
            )],
        ),
        directive(
            "deprecated",
            "Marks an element of a GraphQL schema as no longer supported.",
            &[
                "FIELD_DEFINITION",
                "ARGUMENT_DEFINITION",
                "INPUT_FIELD_DEFINITION",
                "ENUM_VALUE",
            ],
            vec![input_value(
                "reason",
                named_ref("SCALAR", "String"),
                Some("\"No longer supported\""),
                Some(
                    "Explains why this element was deprecated, usually also including a suggestion for how to access supported similar data. Formatted using the Markdown syntax, as specified by [CommonMark](https://commonmark.org/).",
                ),
            )],
        ),
        directive(
            "specifiedBy",
            "Exposes a URL that specifies the behavior of this scalar.",
            &["SCALAR"],
            vec![input_value(
                "url",
                non_null("String"),
                None,
                Some("The URL that specifies the behavior of this scalar."),
            )],
        ),
    ];
    let query_type = types
        .iter()
        .find(|t| t["name"] == "Query")
        .cloned()
        .unwrap_or(Value::Null);
    json!({
        "__typename": "__Schema",
        "description": null,
        "queryType": query_type,
        "mutationType": null,
        "subscriptionType": null,
        "types": types,
        "directives": directives,
    })
}
